"""Where the workbook's bundled data lives: price snapshots, the sample account, notebooks.

In a source checkout (the usual, editable install) these are the top-level ``data/`` and ``notebooks/``
folders; in a wheel they are copied under the package. ``LAMBDA_WORKBOOK_DATA`` overrides the data folder.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent.parent


def _first_existing(*candidates: Path) -> Path:
    for path in candidates:
        if path.exists():
            return path
    return candidates[0]


def data_dir() -> Path:
    """The folder holding ``prices/`` and ``sample-account/``."""
    override = os.environ.get("LAMBDA_WORKBOOK_DATA")
    if override:
        return Path(override)
    return _first_existing(_CHECKOUT / "data", _PACKAGE / "data")


def prices_dir() -> Path:
    return data_dir() / "prices"


def sample_account_dir() -> Path:
    return data_dir() / "sample-account"


def notebooks_dir() -> Path:
    return _first_existing(_CHECKOUT / "notebooks", _PACKAGE / "notebooks")


def project_root() -> Path:
    """The source checkout (where ``reports/`` is written by default), or the working directory."""
    return _CHECKOUT if (_CHECKOUT / "pyproject.toml").exists() else Path.cwd()
