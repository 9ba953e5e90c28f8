"""The transport layer: the only code that reads account data from disk or from AWS.

``load(source=...)`` gives a validated :class:`~lambda_workbook.schema.Snapshot` from

* ``"sample"`` — the embedded sample account in ``data/sample-account/`` (no AWS account needed);
* ``"snapshot"`` — a snapshot directory written earlier by ``lambda-workbook scan`` or :func:`save`;
* ``"aws"`` — a live, read-only scan of the accounts and regions named (see :mod:`.aws`).
"""

from __future__ import annotations

from pathlib import Path

from .. import datafiles
from ..schema import Snapshot
from .snapshot import load as load_snapshot
from .snapshot import save

SOURCES = ("sample", "snapshot", "aws")

__all__ = ["SOURCES", "load", "load_snapshot", "sample", "save"]


def sample() -> Snapshot:
    """The embedded sample account."""
    path = datafiles.sample_account_dir()
    if not (path / "manifest.json").exists():
        raise FileNotFoundError(f"the sample account is missing at {path}; regenerate it with: "
                                "lambda-workbook sample generate")
    return load_snapshot(path)


def load(source: str = "sample", *, snapshot_path: str | Path | None = None, profiles=None, regions=None,
         lookback_days: int = 14, progress: bool = True, **scan) -> Snapshot:
    """Load account data from one of :data:`SOURCES`; ``scan``: more keywords of :func:`.aws.scan` (``org_role``,
    ``external_id``, ``executor``) for ``"aws"``."""
    if source == "sample":
        return sample()
    if source == "snapshot":
        if not snapshot_path:
            raise ValueError("source='snapshot' needs a snapshot directory written by lambda-workbook scan "
                             "(--snapshot DIR on the command line, snapshot_path in a notebook)")
        return load_snapshot(snapshot_path)
    if source == "aws":
        from . import aws  # imported lazily: only this path needs boto3 sessions

        return aws.scan(profiles=profiles, regions=regions, lookback_days=lookback_days, progress=progress, **scan)
    raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
