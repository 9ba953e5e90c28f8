"""Shared fixtures. Tests that need ../shared (reference data outside the repository) skip without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LAMBDA_WORKBOOK_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "reference").is_dir():
        pytest.skip(f"reference material not found at {SHARED} (only CI and the team have ../shared)")
    return SHARED


@pytest.fixture(scope="session")
def facts_text(shared_dir) -> str:
    return (shared_dir / "reference" / "aws-facts.md").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def cebert(shared_dir):
    import pandas as pd

    path = shared_dir / "data" / "cebert-2025" / "cebert_lambda_benchmarks_tidy.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return pd.read_csv(path)


@pytest.fixture(scope="session")
def sample_snapshot():
    from lambda_workbook import sources

    return sources.sample()
