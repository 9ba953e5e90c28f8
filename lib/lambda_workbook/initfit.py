"""Fit INIT duration priors from lambda-perf's daily hello-world cold starts. Pure: documents in, a priors document out.

lambda-perf (Maxime David, https://github.com/maxday/lambda-perf, Apache-2.0) deploys a hello-world function in
every Lambda runtime each day and records the REPORT ``Init Duration`` of ten cold starts per configuration
(runtime or custom-runtime language, architecture, package type, memory size) in ``data/YYYY/YYYY-MM-DD.json``.
Its records come in two generations of field names, both read here:

* long: ``runtime`` (the function name, ``lambda-perf-<id>[-<package>]-<memory>-<arch>``), ``displayName``,
  ``initDurations``, ``memorySize``, ``architecture``, ``packageType``;
* short: ``r``, ``d``, ``i``, ``m``, ``a``, ``p`` (``mu``, ``ad``, ``acd`` are averages, not needed here).

Early files lack the architecture and package type (x86_64 and zip were the only options then); the name's
suffix fills them when present. SnapStart functions (``<id>_snapstart``) report Restore Duration, kept apart.

The fit (:func:`fit`) gives every runtime id x architecture x package type its median and a 10th-90th percentile
band of single cold starts, pooled over memory sizes (lambda-perf shows no memory effect from 128 to 1,024 MB)
and weighted towards recent months by a half-life (:func:`choose_half_life` picks it on the fit's own last months).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .memory import runtime_family

SCHEMA = "lambda-workbook/init-priors/2"
SOURCE_KEY = "lambda-perf"
LAMBDA_PERF = {
    "title": "lambda-perf, daily hello-world cold starts in every Lambda runtime (Maxime David, Apache-2.0)",
    "url": "https://github.com/maxday/lambda-perf",
    "files": "data/YYYY/YYYY-MM-DD.json, one daily file per month (the first with data)",
}
QUANTILES = (0.1, 0.9)
HALF_LIVES = (None, 24.0, 12.0, 6.0, 3.0)   # months; None weighs every month alike
COLUMNS = ["month", "benchmark_id", "language", "runtime", "arch", "package_type", "memory_mb", "snapstart", "init_ms"]
ARCHS = ("x86_64", "arm64")
PACKAGES = ("zip", "image")

_NAME = re.compile(r"^lambda-perf-(?P<id>[^-]+?)(?:-(?P<pkg>zip|image))?(?:-(?P<mem>\d+))?(?:-(?P<arch>x86_64|arm64))?$")
_ON_PROVIDED = re.compile(r"^(?P<lang>.+)_on_(?P<rt>provided(?:_al2023|_al2)?)$")
_DISPLAY_PROVIDED = re.compile(r"\(prov(?:ided)?\.?(?P<al>al2023|al2)?\)")
_MANAGED = (
    (re.compile(r"^python(\d)(\d+)$"), "python{0}.{1}"),
    (re.compile(r"^nodejs(\d+)x$"), "nodejs{0}.x"),
    (re.compile(r"^ruby(\d)(\d)$"), "ruby{0}.{1}"),
    (re.compile(r"^java(\d+)_al2$"), "java{0}.al2"),
    (re.compile(r"^java(\d+)$"), "java{0}"),
    (re.compile(r"^dotnetcore(\d)(\d)$"), "dotnetcore{0}.{1}"),
    (re.compile(r"^dotnet(\d+)$"), "dotnet{0}"),
    (re.compile(r"^go(\d)x$"), "go{0}.x"),
)
_FIELDS = {"name": ("runtime", "r"), "display": ("displayName", "d"), "inits": ("initDurations", "i"),
           "memory": ("memorySize", "m"), "arch": ("architecture", "a"), "package": ("packageType", "p")}


# --------------------------------------------------------------------------------------------------------
# records -> samples

def runtime_of(benchmark_id: str, display: str = "") -> tuple[str | None, str, bool]:
    """``(runtime id, language, snapstart)`` of a lambda-perf benchmark id; runtime None when it cannot be told.

    ``python312`` -> python3.12, ``java21_snapstart`` -> java21 (SnapStart), ``rust_on_provided_al2023`` ->
    provided.al2023 (language rust); ids without ``_on_provided`` take the custom runtime from the display name
    (``bun (prov.al2)``). A custom runtime's language drops version digits (``graalvm_java21`` -> graalvm_java).
    """
    bid = str(benchmark_id).strip().lower()
    snapstart = bid.endswith("_snapstart")
    if snapstart:
        bid = bid[: -len("_snapstart")]
    on = _ON_PROVIDED.match(bid)
    if on:
        return on["rt"].replace("_", "."), language_key(on["lang"]), snapstart
    for pattern, template in _MANAGED:
        m = pattern.match(bid)
        if m:
            runtime = template.format(*m.groups())
            return runtime, runtime_family(runtime), snapstart
    shown = _DISPLAY_PROVIDED.search(str(display or "").lower())
    if shown:
        return "provided" + (f".{shown['al']}" if shown["al"] else ""), language_key(bid), snapstart
    return None, language_key(bid), snapstart


def language_key(text: str) -> str:
    """A custom-runtime language without version digits: ``graalvm_java21`` -> graalvm_java, ``cpp11`` -> cpp."""
    parts = [re.sub(r"\d+", "", p) for p in text.split("_")]
    return "_".join(p for p in parts if p) or text


def _field(rec: dict, key: str) -> Any:
    long, short = _FIELDS[key]
    return rec.get(long, rec.get(short))


def records(doc: Any, month: str) -> tuple[list[dict[str, Any]], Counter]:
    """One daily document's cold starts as sample rows (see :data:`COLUMNS`), and what was dropped and why."""
    dropped: Counter = Counter()
    rows: list[dict[str, Any]] = []
    data = doc.get("runtimeData") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        dropped["document without a runtimeData list"] += 1
        return rows, dropped
    for rec in data:
        if not isinstance(rec, dict):
            dropped["record that is not an object"] += 1
            continue
        m = _NAME.match(str(_field(rec, "name") or ""))
        if not m:
            dropped["record with an unreadable function name"] += 1
            continue
        runtime, language, snapstart = runtime_of(m["id"], _field(rec, "display") or "")
        if runtime is None:
            dropped["record whose runtime cannot be told"] += 1
            continue
        arch = str(_field(rec, "arch") or m["arch"] or "x86_64").lower()
        package = str(_field(rec, "package") or m["pkg"] or "zip").lower()
        try:
            memory = int(_field(rec, "memory") or m["mem"] or 0)
        except (TypeError, ValueError):
            memory = 0
        inits = _field(rec, "inits")
        if arch not in ARCHS or package not in PACKAGES or memory <= 0 or not isinstance(inits, list):
            dropped["record with a bad architecture, package type, memory size or duration list"] += 1
            continue
        for value in inits:
            try:
                ms = float(value)
            except (TypeError, ValueError):
                ms = float("nan")
            if not (math.isfinite(ms) and ms > 0):
                dropped["duration that is not a positive number"] += 1
                continue
            rows.append({"month": month, "benchmark_id": m["id"], "language": language, "runtime": runtime,
                         "arch": arch, "package_type": package, "memory_mb": memory, "snapstart": snapstart,
                         "init_ms": ms})
    return rows, dropped


def samples(documents: Iterable[tuple[str, Any]]) -> tuple[pd.DataFrame, dict[str, int]]:
    """Cold-start samples from ``(date 'YYYY-MM-DD', daily document)`` pairs, and the dropped counts."""
    rows: list[dict[str, Any]] = []
    dropped: Counter = Counter()
    for date, doc in documents:
        got, why = records(doc, str(date)[:7])
        rows += got
        dropped += why
    return pd.DataFrame(rows, columns=COLUMNS), dict(dropped)


def samples_from_table(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Samples from lambda-perf's per-sample table (``measured_on, benchmark_id, runtime, arch, package_type,
    memory_mb, snapstart, init_duration_ms``), as in ``data/measurements/lambda-perf-2022-2025``; and the rows
    dropped (durations that are not positive numbers)."""
    need = {"measured_on", "benchmark_id", "runtime", "arch", "package_type", "memory_mb", "snapstart",
            "init_duration_ms"}
    missing = sorted(need - set(table.columns))
    if missing:
        raise ValueError(f"the lambda-perf table lacks the column(s) {', '.join(missing)}")
    ids = table["benchmark_id"].astype(str)
    out = pd.DataFrame({
        "month": table["measured_on"].astype(str).str[:7],
        "benchmark_id": ids,
        "language": [runtime_of(b)[1] if not str(r).startswith("provided") else language_key(
            _ON_PROVIDED.sub(r"\g<lang>", b)) for b, r in zip(ids, table["runtime"], strict=True)],
        "runtime": table["runtime"].astype(str), "arch": table["arch"].astype(str),
        "package_type": table["package_type"].astype(str).str.lower(), "memory_mb": table["memory_mb"],
        "snapstart": table["snapstart"].astype(bool), "init_ms": pd.to_numeric(table["init_duration_ms"], errors="coerce"),
    })
    good = np.isfinite(out["init_ms"]) & (out["init_ms"] > 0)
    dropped = {"duration that is not a positive number": int((~good).sum())} if (~good).any() else {}
    return out[good].reset_index(drop=True), dropped


# --------------------------------------------------------------------------------------------------------
# the fit

def month_index(month: str) -> int:
    year, mon = str(month)[:7].split("-")
    return int(year) * 12 + int(mon) - 1


def weighted_quantiles(values, weights, qs) -> np.ndarray:
    """Quantiles of ``values`` with ``weights`` (midpoint rule; equal weights give the usual interpolated quantile)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    order = np.argsort(v)
    v, w = v[order], w[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(qs, cum, v)


def _weights(months: pd.Series, half_life: float | None) -> np.ndarray:
    idx = months.map(month_index).to_numpy()
    if not half_life:
        return np.ones(len(idx))
    return 0.5 ** ((idx.max() - idx) / float(half_life))


def _entry(frame: pd.DataFrame, w: np.ndarray, keys: dict[str, Any]) -> dict[str, Any]:
    lo, mid, hi = weighted_quantiles(frame["init_ms"], w, [QUANTILES[0], 0.5, QUANTILES[1]])
    return {**keys, "median_ms": round(float(mid), 1), "low_ms": round(float(lo), 1), "high_ms": round(float(hi), 1),
            "n": int(len(frame)), "months": f"{frame['month'].min()}..{frame['month'].max()}",
            "benchmarks": sorted(frame["benchmark_id"].unique()), "source": SOURCE_KEY}


def _entries(frame: pd.DataFrame, w: np.ndarray, by: list[str]) -> list[dict[str, Any]]:
    out = []
    for key, part in frame.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        out.append(_entry(part, w[part.index.to_numpy()], dict(zip(by, key, strict=True))))
    return out


def fit(samples: pd.DataFrame, *, half_life_months: float | None = None, compiled: str | None = None,
        carry: dict[str, Any] | None = None, dropped: dict[str, int] | None = None) -> dict[str, Any]:
    """The priors document from cold-start samples (see :data:`COLUMNS`).

    ``carry`` supplies the figures not fitted here (``package_size``, ``vpc``, ``layers`` and their sources),
    usually from the previous priors file. ``compiled`` is the date written into the document.
    """
    if samples is None or len(samples) == 0:
        raise ValueError("no cold-start samples to fit: the lambda-perf files held no usable record")
    df = samples.reset_index(drop=True).copy()
    df["family"] = df["runtime"].map(runtime_family)
    w = _weights(df["month"], half_life_months)
    plain = (~df["snapstart"].astype(bool)).to_numpy()
    custom = plain & df["runtime"].str.startswith("provided").to_numpy()
    months = sorted(df["month"].unique())
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "compiled": compiled,
        "basis": ("REPORT Init Duration of hello-world functions (no dependencies, no VPC) deployed fresh each day: "
                  "a floor for real functions, whose own code, package size and VPC add to it. SnapStart entries "
                  "are REPORT Restore Duration, not INIT."),
        "fitted_on": {"from": months[0], "to": months[-1], "months": months, "samples": int(len(df)),
                      "dropped": dict(dropped or {})},
        "method": {
            "statistic": f"weighted median; low/high = weighted {QUANTILES[0]:.0%}/{QUANTILES[1]:.0%} quantiles "
                         "of single cold starts",
            "half_life_months": half_life_months,
            "weights": ("each sample weighs 0.5^(months before the newest month / half-life)" if half_life_months
                        else "every month weighs alike"),
            "pooled": "memory sizes 128-1,024 MB pooled (lambda-perf shows no memory effect on INIT)",
        },
        "sources": {SOURCE_KEY: dict(LAMBDA_PERF)},
        "runtimes": _entries(df[plain], w, ["runtime", "arch", "package_type"]),
        "custom_runtime_languages": _entries(df[custom], w, ["runtime", "language", "arch", "package_type"]),
        "families": _entries(df[plain], w, ["family", "arch", "package_type"]),
        "all_runtimes": _entries(df[plain], w, ["arch", "package_type"]),
        "snapstart": _entries(df[~plain], w, ["runtime", "arch", "package_type"]),
        "snapstart_all": _entries(df[~plain], w, ["package_type"]),
    }
    for entry in doc["families"] + doc["all_runtimes"] + doc["snapstart_all"]:
        entry["runtimes"] = sorted(df.loc[_mask(df, entry), "runtime"].unique())
    for key, value in (carry or {}).items():
        if key == "sources":
            doc["sources"].update({k: v for k, v in value.items() if k != SOURCE_KEY})
        else:
            doc[key] = value
    return doc


def _mask(df: pd.DataFrame, entry: dict[str, Any]) -> np.ndarray:
    mask = np.ones(len(df), dtype=bool)
    for col in ("family", "arch", "package_type"):
        if col in entry:
            mask &= (df[col] == entry[col]).to_numpy()
    return mask


# --------------------------------------------------------------------------------------------------------
# checking a priors document against measurements

def check(doc: dict[str, Any], samples: pd.DataFrame, *, tolerance: float = 0.3) -> pd.DataFrame:
    """Per (runtime, arch, package, SnapStart) group of ``samples``: its measured median against the prior the
    document gives (through :func:`lambda_workbook.initpriors.lookup`, fallbacks included), whether it is within
    ``tolerance``, and the share of the group's single cold starts inside the prior's band."""
    from .initpriors import lookup

    rows = []
    for (runtime, arch, package, snap), part in samples.groupby(["runtime", "arch", "package_type", "snapstart"]):
        prior = lookup(doc, runtime, package, arch=arch, snapstart=bool(snap))
        values = part["init_ms"].to_numpy()
        measured = float(np.median(values))
        rows.append({"runtime": runtime, "arch": arch, "package_type": package, "snapstart": bool(snap),
                     "family": runtime_family(runtime), "n": len(values), "measured_ms": measured,
                     "prior_ms": prior["median_ms"], "low_ms": prior["low_ms"], "high_ms": prior["high_ms"],
                     "ratio": prior["median_ms"] / measured, "level": prior["level"],
                     "within": abs(prior["median_ms"] / measured - 1) <= tolerance,
                     "coverage": float(np.mean((values >= prior["low_ms"]) & (values <= prior["high_ms"])))})
    return pd.DataFrame(rows)


def choose_half_life(samples: pd.DataFrame, *, holdout_months: int = 6,
                     candidates: Iterable[float | None] = HALF_LIVES) -> tuple[float | None, pd.DataFrame]:
    """The half-life whose fit on all but the last ``holdout_months`` months best predicts those months' group
    medians (mean absolute log ratio, then share within 30%). Too few months: no weighting."""
    months = sorted(samples["month"].unique())
    candidates = list(candidates)
    if len(months) < holdout_months + 3:
        return None, pd.DataFrame(columns=["half_life_months", "mean_abs_log_ratio", "within_30"])
    cut = months[-holdout_months]
    train, test = samples[samples["month"] < cut], samples[(samples["month"] >= cut) & ~samples["snapstart"]]
    scores = []
    for h in candidates:
        res = check(fit(train, half_life_months=h), test)
        scores.append({"half_life_months": h, "mean_abs_log_ratio": float(np.mean(np.abs(np.log(res["ratio"])))),
                       "within_30": float(res["within"].mean())})
    table = pd.DataFrame(scores)
    best = table.sort_values(["mean_abs_log_ratio", "within_30"], ascending=[True, False]).iloc[0]
    h = best["half_life_months"]
    return (None if h is None or (isinstance(h, float) and math.isnan(h)) else float(h)), table


def summary(result: pd.DataFrame) -> dict[str, Any]:
    """Headline figures of :func:`check`'s table."""
    if result.empty:
        return {"groups": 0, "within_30": float("nan"), "band_coverage": float("nan")}
    return {"groups": int(len(result)), "within_30": float(result["within"].mean()),
            "band_coverage": float(np.average(result["coverage"], weights=result["n"]))}
