"""The review as one task per (account, region) partition of a snapshot, gathered into one review.

:func:`split` cuts a snapshot into its (account, region) partitions; :func:`review_partition` (a task: it runs
wherever the executor puts it) reviews one partition with :func:`lambda_workbook.review.run` (findings and
spend) and, when asked, packs the partition's analysis bundle (:func:`lambda_workbook.analysis.save`) as bytes
for the notebooks of that partition; :func:`merge` concatenates the partitions' findings, spend and errors and
ranks the whole with the findings contract. Every finding and every spend row belongs to one function, and a
function to one partition, so savings counted once per function and capped by its bills
(:func:`lambda_workbook.findings.savings`) come out as for the whole snapshot; the ranking is applied after the
concatenation, to the whole. Partitions are reviewed and concatenated in (account, region) order.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from . import analysis, review
from . import findings as contract
from .schema import Snapshot


def split(snapshot: Snapshot) -> list[tuple[tuple[str, str], Snapshot]]:
    """``[((account_id, region), partition), ...]`` in (account, region) order."""
    pairs = snapshot.functions[["account_id", "region"]].drop_duplicates().sort_values(["account_id", "region"])
    return [((a, r), snapshot.in_accounts([a]).in_regions([r])) for a, r in pairs.itertuples(index=False)]


def review_partition(item: dict[str, Any]) -> dict[str, Any]:
    """One partition's review (a task): ``item`` holds ``key``, ``snapshot`` and the ``run`` keywords of
    :func:`lambda_workbook.review.run`; with ``bundle`` true, the result also holds the partition's analysis
    bundle as bytes (the partition's snapshot, findings and memo: a notebook given it needs no snapshot path)."""
    snap = item["snapshot"]
    result = review.run(snap, **item.get("run", {}))
    bundle = None
    if item.get("bundle"):
        fd, tmp = tempfile.mkstemp(prefix="lambda-workbook-bundle-", suffix=".pickle")
        os.close(fd)
        try:
            analysis.save(tmp, snap, findings=result.findings)
            bundle = Path(tmp).read_bytes()
        finally:
            Path(tmp).unlink(missing_ok=True)
    return {"key": tuple(item["key"]), "review": result, "bundle": bundle}


def merge(reviews: list[tuple[tuple[str, str], review.Review]], snapshot: Snapshot) -> review.Review:
    """One review of ``snapshot`` from its partitions' reviews: findings concatenated then ranked, spend
    concatenated, a failed check named with its partition, seconds added up, the whole snapshot's flags."""
    if not reviews:
        raise ValueError("no partition was reviewed: the snapshot holds no function")
    frames = [r.findings for _, r in reviews if len(r.findings)]
    found = review.rank(pd.concat(frames, ignore_index=True)) if frames else reviews[0][1].findings.iloc[0:0]
    spends = [r.spend for _, r in reviews if len(r.spend)]
    spend = pd.concat(spends, ignore_index=True) if spends else pd.DataFrame(columns=contract.SPEND_COLUMNS)
    errors = pd.concat([r.errors.assign(module=[f"{m} ({a}, {g})" for m in r.errors["module"]])
                        for (a, g), r in reviews if len(r.errors)] or [pd.DataFrame(columns=review.ERROR_COLUMNS)],
                       ignore_index=True)[review.ERROR_COLUMNS]
    seconds: dict[str, float] = {}
    for _, r in reviews:
        for k, v in r.seconds.items():
            seconds[k] = seconds.get(k, 0.0) + v
    first = reviews[0][1]
    found = found.reset_index(drop=True)
    found.attrs = {"errors": errors.to_dict("records"), "as_of": first.as_of}
    return review.Review(found, errors, first.as_of, first.as_of_basis, first.thresholds, first.module_thresholds,
                         seconds, [f.as_dict() for f in snapshot.flags or []], spend)


def run(snapshot: Snapshot, executor, *, bundles: bool = False, progress: bool = False,
        **run_options: Any) -> tuple[review.Review, dict[tuple[str, str], bytes | None]]:
    """Review ``snapshot`` one partition per task on ``executor`` (:mod:`lambda_workbook.executors`) and merge.
    Returns the review and, with ``bundles``, each partition's analysis bundle as bytes."""
    parts = split(snapshot)
    items = [{"key": key, "snapshot": part, "run": run_options, "bundle": bundles} for key, part in parts]
    biggest_first = sorted(range(len(items)), key=lambda i: -len(parts[i][1].functions))
    out = executor.map(review_partition, items, progress=progress, desc="partitions analysed", unit="partition",
                       order=biggest_first, large=True)
    return merge([(o["key"], o["review"]) for o in out], snapshot), {o["key"]: o["bundle"] for o in out}
