"""INIT duration priors: what a function's INIT is assumed to take when its REPORT lines show none.

Pure: the priors data file in, a median with a band out (see the data file for every figure's source).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from . import datafiles
from .memory import runtime_family


@lru_cache(maxsize=1)
def priors() -> dict[str, Any]:
    """The INIT priors data file (``data/coldstarts/init_priors.json``)."""
    path = datafiles.data_dir() / "coldstarts" / "init_priors.json"
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    if doc.get("schema") != "lambda-workbook/init-priors/1":
        raise ValueError(f"{path}: schema {doc.get('schema')!r} is not lambda-workbook/init-priors/1")
    return doc


def init_prior(runtime: str | None, package_type: str = "Zip", code_size_bytes: float = 0.0, *,
               vpc: bool = False) -> dict[str, Any]:
    """Prior INIT duration (ms) with a low/high band, from published medians (see the data file's sources).

    Container images: the published image median (size had no effect). Zip: the runtime family's median
    plus ~103 ms per zipped MiB (measured for Node.js; a heuristic elsewhere). VPC adds the 2020 median gap.
    """
    doc = priors()
    size_mib = max(float(code_size_bytes or 0.0), 0.0) / 2**20
    notes = []
    if str(package_type).lower() == "image":
        base = doc["container_image"]
        mid, lo, hi = base["median_ms"], base["low_ms"], base["high_ms"]
        sources = [base["source"]]
    else:
        family = runtime_family(runtime)
        if family not in doc["runtimes"]:
            raise ValueError(f"no INIT prior for runtime {runtime!r}: known families are "
                             f"{', '.join(doc['runtimes'])} and container images")
        base = doc["runtimes"][family]
        mid = base["median_ms"]
        band = doc["unknown_band"]
        lo = base["low_ms"] if base["low_ms"] is not None else mid * band["low_factor"]
        hi = base["high_ms"] if base["high_ms"] is not None else mid * band["high_factor"]
        size = doc["package_size"]
        extra = size["ms_per_zipped_mib"] * size_mib
        mid, lo, hi = mid + extra, lo + extra * size["low_factor"], hi + extra * size["high_factor"]
        sources = [base["source"], size["source"]]
        if family != "nodejs" and size_mib >= 1:
            notes.append("package-size effect measured for Node.js, applied here as a heuristic")
    if vpc:
        mid, lo, hi = mid + doc["vpc"]["extra_ms"], lo + doc["vpc"]["extra_ms"], hi + doc["vpc"]["extra_ms"]
        sources.append(doc["vpc"]["source"])
    return {"median_ms": float(mid), "low_ms": float(lo), "high_ms": float(hi), "basis": base["basis"],
            "sources": sources, "notes": notes}
