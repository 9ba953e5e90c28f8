"""Scores the review's memory findings against the truth of an account built from real measurements.

The policy is the review's default, read from :func:`lambda_workbook.memory.recommend_for_function`'s defaults
(:func:`policy`): a decrease must save at least ``min_savings_share`` of today's cost and be at most
``max_slowdown`` slower (means); an increase must be at least ``min_speedup`` faster for at most
``cost_tolerance`` more cost.

* **Truth labels** per deployed function (:func:`labels`), from the measured sizes only: *over* when a smaller
  measured size meets the decrease rule on the true means and costs, *under* when a larger one meets the
  increase rule, *arm64* (x86_64 functions whose code was also measured on arm64 at the same size) when switching
  saves at least ``min_savings_share`` and is at most ``max_slowdown`` slower.
* A ``memory-overprovisioned`` / ``memory-underprovisioned`` finding is **correct** when its direction matches a
  true label *and* its claims (the policy's rule for that direction) hold on the truth at the size it
  recommends. A size that was not measured is read log-log between the two nearest measured sizes
  (``how = interpolated``). Beyond the measured range the truth is bracketed between the nearest measured size's
  duration and perfect scaling with memory from it (an assumption: memory never slows code down) — and the claim counts
  only when it holds, or fails, at both ends (``how = bracketed``; else ``outside``, not verifiable). An
  ``arm64-candidate`` is judged where the finding's test is made, at today's size (the set must have measured
  arm64 there); its dollars are compared with that switch, even when they quote another arm64 size.
* **precision** = correct / findings; **recall** = labelled functions with a correct finding / labelled
  functions; **band coverage** = findings whose true saving lies in their stated band; the **$ error** is the
  claimed saving minus the true saving at the recommended size (absolute, and relative to the true saving).
* ``memory-measure`` findings ("measure first", a saving range in ``monthly_impact_low_usd``/``_high_usd``)
  are counted apart: how many, how many labelled functions got one, and whether the true saving of the best
  measured alternative (the policy applied to the measured sizes) lies in the range.

:func:`score` is pure (tables in, tables out); :func:`evaluate` runs the review on an account and scores it.
"""

from __future__ import annotations

import inspect
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import billing
from .. import prices as _prices
from ..memory import decision as memory_decision

OVER, UNDER, ARM, MEASURE = "memory-overprovisioned", "memory-underprovisioned", "arm64-candidate", "memory-measure"
KEY = ["account_id", "region", "function_name"]
POLICY_NAMES = ("min_savings_share", "max_slowdown", "min_speedup", "cost_tolerance", "confidence")


Policy = memory_decision.Policy   # the decision's own policy object: the scorer judges with the same tests


def policy() -> Policy:
    """The review's default memory policy, read from ``memory.recommend_for_function``'s keyword defaults."""
    from .. import memory

    params = inspect.signature(memory.recommend_for_function).parameters
    missing = [n for n in POLICY_NAMES if n not in params or params[n].default is inspect.Parameter.empty]
    if missing:
        raise RuntimeError(f"memory.recommend_for_function has no default for {missing}: the scorer reads the "
                           f"policy ({', '.join(POLICY_NAMES)}) from there")
    return Policy(**{n: float(params[n].default) for n in POLICY_NAMES})


# --------------------------------------------------------------------------------------------------------
# the truth at any size


class Truth:
    """The truth table (``account.TRUTH_COLUMNS``) indexed per function and architecture."""

    def __init__(self, truth: pd.DataFrame, *, pricing: _prices.Pricing | None = None):
        self.table = truth
        self._groups = {k: g.sort_values("memory_mb").reset_index(drop=True)
                        for k, g in truth.groupby(KEY + ["arch"], sort=False)}
        self.pricing = pricing if pricing is not None else _prices.context(sorted(set(truth["region"])), strict=False)

    def curve(self, key: tuple, arch: str) -> pd.DataFrame | None:
        return self._groups.get((*key, arch))

    def _cost(self, region: str, n: float, billed_ms: float, memory_mb: float, arch: str) -> float:
        book = self.pricing.book(region)
        return float(billing.cost_from_totals(n, n * billed_ms, memory_mb, arch, book=book))

    def at(self, key: tuple, arch: str, memory_mb: float) -> dict[str, Any]:
        """True mean, billed ms and monthly USD at a size: measured, interpolated log-log between the two nearest
        measured sizes, or — outside the measured range — bracketed (``*_lo``/``*_hi``, point values NaN)."""
        nan = {"mean_ms": np.nan, "billed_ms": np.nan, "monthly_usd": np.nan}
        g = self.curve(key, arch)
        if g is None or memory_mb is None or not np.isfinite(memory_mb):
            return {**nan, "how": "unknown"}
        m = g["memory_mb"].to_numpy(float)
        hit = np.flatnonzero(np.isclose(m, memory_mb))
        if hit.size:
            r = g.iloc[hit[0]]
            return {"mean_ms": float(r["true_mean_ms"]), "billed_ms": float(r["true_mean_billed_ms"]),
                    "monthly_usd": float(r["true_monthly_usd"]), "how": "measured"}
        n = float(g["invocations_per_month"].iloc[0])
        if memory_mb < m[0] or memory_mb > m[-1]:
            e = g.iloc[0] if memory_mb < m[0] else g.iloc[-1]
            # no slower than at the nearest measured size going up, no faster than perfect CPU scaling from it
            scale = float(e["memory_mb"]) / memory_mb
            ends = sorted([1.0, scale])
            t = [float(e["true_mean_ms"]) * k for k in ends]
            b = [float(e["true_mean_billed_ms"]) * k for k in ends]
            c = [self._cost(key[1], n, x, memory_mb, arch) for x in b]
            return {**nan, "how": "outside", "mean_lo": t[0], "mean_hi": t[1], "usd_lo": c[0], "usd_hi": c[1]}
        j = int(np.searchsorted(m, memory_mb))
        lo, hi = g.iloc[j - 1], g.iloc[j]
        t = (math.log(memory_mb) - math.log(lo["memory_mb"])) / (math.log(hi["memory_mb"]) - math.log(lo["memory_mb"]))

        def loglog(col: str) -> float:
            return math.exp(math.log(lo[col]) + t * (math.log(hi[col]) - math.log(lo[col])))

        mean, billed = loglog("true_mean_ms"), loglog("true_mean_billed_ms")
        return {"mean_ms": mean, "billed_ms": billed, "monthly_usd": self._cost(key[1], n, billed, memory_mb, arch),
                "how": "interpolated"}


def labels(truth: pd.DataFrame | Truth, pol: Policy | None = None) -> pd.DataFrame:
    """One row per deployed function: today's truth, its labels, and the policy's choice among measured sizes."""
    tr = truth if isinstance(truth, Truth) else Truth(truth)
    pol = pol or policy()
    rows = []
    for _, cur in tr.table[tr.table["current"].astype(bool)].iterrows():
        key = tuple(cur[k] for k in KEY)
        g = tr.curve(key, cur["arch"])
        c0, t0, m0 = float(cur["true_monthly_usd"]), float(cur["true_mean_ms"]), float(cur["memory_mb"])
        cost, mean, mem = (g[c].to_numpy(float) for c in ("true_monthly_usd", "true_mean_ms", "memory_mb"))
        dec, inc = pol.meets(c0, cost, t0, mean)
        over, under = (mem < m0) & dec, (mem > m0) & inc
        allowed = (mean <= (1 + pol.max_slowdown) * t0) | np.isclose(mem, m0)
        near = allowed & (cost <= cost[allowed].min() * (1 + pol.cost_tolerance))
        best = np.flatnonzero(near)[np.argmin(mean[near])]
        row = {**dict(zip(KEY, key, strict=True)), "dataset": cur["dataset"], "curve": cur["curve"], "arch": cur["arch"],
               "memory_mb": m0, "sizes_measured": len(g), "true_mean_ms": t0, "true_monthly_usd": c0,
               "over": bool(over.any()), "under": bool(under.any()),
               "over_best_mb": float(mem[over][np.argmin(cost[over])]) if over.any() else np.nan,
               "under_best_mb": float(mem[under][np.argmin(mean[under])]) if under.any() else np.nan,
               "best_mb": float(mem[best]), "best_saving_usd": c0 - float(cost[best]),
               "arm_scorable": False, "arm": False, "arm_saving_usd": np.nan, "arm_slowdown": np.nan}
        other = tr.curve(key, "arm64") if cur["arch"] == "x86_64" else None
        if other is not None and np.isclose(other["memory_mb"], m0).any():
            o = other[np.isclose(other["memory_mb"], m0)].iloc[0]
            saving, slow = c0 - float(o["true_monthly_usd"]), float(o["true_mean_ms"]) / t0 - 1
            row.update(arm_scorable=True, arm_saving_usd=saving, arm_slowdown=slow,
                       arm=bool(pol.meets(c0, float(o["true_monthly_usd"]), t0, float(o["true_mean_ms"]))[0]))
        rows.append(row)
    out = pd.DataFrame(rows)
    out["labelled"] = out["over"] | out["under"] if len(out) else pd.Series(dtype=bool)
    return out


# --------------------------------------------------------------------------------------------------------
# scoring


FINDING_COLUMNS = ["dataset", "function_name", "id", "arch", "memory_mb", "recommended_memory_mb", "how",
                   "claimed_saving_usd", "claimed_low_usd", "claimed_high_usd", "true_saving_usd", "true_slowdown",
                   "true_cost_change", "truth_label", "direction_ok", "claims_ok", "correct", "in_band",
                   "abs_error_usd", "rel_error", "verdict"]


def _label_text(lab: pd.Series) -> str:
    parts = [p for p, on in (("over", lab["over"]), ("under", lab["under"]), ("arm64", lab["arm"])) if on]
    return "+".join(parts) or "none"


def _recommended(f: pd.Series, recs: pd.DataFrame | None, column: str) -> float:
    if column in f.index and pd.notna(f[column]):
        return float(f[column])
    if recs is None or recs.empty:
        return np.nan
    key = (f["account_id"], f["region"], f["function_name"])
    if key in recs.index and column in recs.columns:
        return float(recs.loc[key, column])
    return np.nan


def _claims(fid: str, pol: Policy, c0: float, t0: float, m0: float, rec: float, usd: float, mean: float) -> bool:
    dec, inc = pol.meets(c0, usd, t0, mean)
    if fid == OVER:
        return bool(rec < m0 and dec)
    if fid == UNDER:
        return bool(rec > m0 and inc)
    return bool(dec)


def _judge(f: pd.Series, lab: pd.Series, tr: Truth, recs, pol: Policy) -> dict[str, Any]:
    key = tuple(lab[k] for k in KEY)
    fid = f["id"]
    c0, t0, m0 = lab["true_monthly_usd"], lab["true_mean_ms"], lab["memory_mb"]
    if fid == ARM:   # the switch is judged at today's size (the finding's test); its dollars may quote another
        arch, rec = "arm64", _recommended(f, recs, "other_arch_memory_mb")
        at = tr.at(key, arch, m0) if lab["arm_scorable"] else {"mean_ms": np.nan, "monthly_usd": np.nan,
                                                                  "how": "not measured"}
        size = m0
    else:
        arch, rec = lab["arch"], _recommended(f, recs, "recommended_memory_mb")
        at = tr.at(key, arch, rec)
        size = rec
    saving, slow, change = c0 - at["monthly_usd"], at["mean_ms"] / t0 - 1, at["monthly_usd"] / c0 - 1
    claimed, low, high = (float(f[c]) for c in ("monthly_impact_usd", "monthly_impact_low_usd",
                                                 "monthly_impact_high_usd"))
    checkable = at["how"] in ("measured", "interpolated")
    direction = bool(lab["arm"] if fid == ARM else lab["over"] if fid == OVER else lab["under"])
    how = at["how"]
    if checkable:
        claims = _claims(fid, pol, c0, t0, m0, size, at["monthly_usd"], at["mean_ms"])
    elif how == "outside":
        ends = {_claims(fid, pol, c0, t0, m0, size, at[f"usd_{e}"], at[f"mean_{e}"]) for e in ("lo", "hi")}
        claims = ends.pop() if len(ends) == 1 else None
        how = "bracketed" if claims is not None else how
    else:
        claims = None
    correct = bool(direction and claims)
    in_band = bool(low <= saving <= high) if checkable and np.isfinite([low, high]).all() else None
    err = abs(claimed - saving) if checkable and np.isfinite(claimed) else np.nan
    rel = err / abs(saving) if np.isfinite(err) and saving != 0 else np.nan
    g = tr.curve(key, arch)
    span = f"{g['memory_mb'].min():,.0f}–{g['memory_mb'].max():,.0f} MB" if g is not None else "no sizes"
    if correct:
        verdict = "correct" + (" (beyond the measured sizes: holds at both ends of the bracket)"
                               if how == "bracketed" else "")
    elif claims is None and how == "outside":
        verdict = f"not verifiable: {size:,.0f} MB {arch} is outside the measured {span}"
    elif claims is None:
        verdict = (f"not verifiable: {arch} not measured at {m0:,.0f} MB" if how == "not measured"
                   else "not verifiable: no recommended size")
    elif not direction:
        verdict = f"no such true label (truth: {_label_text(lab)})" + (
            f"; its own claims hold at {size:,.0f} MB on the {how} truth" if claims else "")
    elif how == "bracketed":
        verdict = f"claim fails at {size:,.0f} MB at both ends of the bracket beyond the measured {span}"
    else:
        verdict = (f"claim fails at {size:,.0f} MB {arch}: true saving {saving / c0:+.0%} of today's cost, "
                   f"{slow:+.0%} duration")
    if fid == ARM and np.isfinite(rec) and not np.isclose(rec, m0):
        verdict += f"; its dollars are quoted at {rec:,.0f} MB"
    return {"dataset": lab["dataset"], "function_name": key[2], "id": fid, "arch": lab["arch"], "memory_mb": m0,
            "recommended_memory_mb": rec, "how": how, "claimed_saving_usd": claimed, "claimed_low_usd": low,
            "claimed_high_usd": high, "true_saving_usd": saving, "true_slowdown": slow, "true_cost_change": change,
            "truth_label": _label_text(lab), "direction_ok": direction, "claims_ok": claims, "correct": correct,
            "in_band": in_band, "abs_error_usd": err, "rel_error": rel, "verdict": verdict}


def _measure(f: pd.Series, lab: pd.Series) -> dict[str, Any]:
    low, high = float(f["monthly_impact_low_usd"]), float(f["monthly_impact_high_usd"])
    best = float(lab["best_saving_usd"])
    ok = bool(low <= best <= high) if np.isfinite([low, high]).all() else None
    return {"dataset": lab["dataset"], "function_name": lab["function_name"], "id": MEASURE, "arch": lab["arch"],
            "memory_mb": lab["memory_mb"], "recommended_memory_mb": lab["best_mb"], "how": "best measured",
            "claimed_saving_usd": float(f["monthly_impact_usd"]), "claimed_low_usd": low, "claimed_high_usd": high,
            "true_saving_usd": best, "true_slowdown": np.nan, "true_cost_change": np.nan,
            "truth_label": _label_text(lab), "direction_ok": bool(lab["labelled"]), "claims_ok": ok,
            "correct": False, "in_band": ok, "abs_error_usd": np.nan, "rel_error": np.nan,
            "verdict": "measure first: true best saving " + ("inside" if ok else "outside") + " the stated range"}


def _median(x: pd.Series) -> float:
    x = pd.to_numeric(x, errors="coerce").dropna()
    return float(x.median()) if len(x) else np.nan


def _ratio(a: float, b: float) -> float:
    return a / b if b else np.nan


def _summaries(lab: pd.DataFrame, judged: pd.DataFrame) -> dict[str, pd.DataFrame]:
    out = {"memory": [], "arm64": [], "measure": []}
    groups = [(ds, lab[lab["dataset"] == ds], judged[judged["dataset"] == ds]) for ds in sorted(lab["dataset"].unique())]
    groups.append(("overall", lab, judged))
    for name, lb, jd in groups:
        mem = jd[jd["id"].isin([OVER, UNDER])]
        good = set(mem.loc[mem["correct"], "function_name"])
        labelled = lb[lb["labelled"]]
        band = mem[mem["in_band"].notna()]
        out["memory"].append({
            "dataset": name, "functions": len(lb), "true_over": int(lb["over"].sum()), "true_under": int(lb["under"].sum()),
            "labelled": len(labelled), "findings": len(mem), "over_findings": int((mem["id"] == OVER).sum()),
            "under_findings": int((mem["id"] == UNDER).sum()), "correct": int(mem["correct"].sum()),
            "precision": _ratio(mem["correct"].sum(), len(mem)),
            "recall": _ratio(labelled["function_name"].isin(good).sum(), len(labelled)),
            "band_checked": len(band), "in_band": int(band["in_band"].astype(bool).sum()),
            "band_coverage": _ratio(band["in_band"].astype(bool).sum(), len(band)),
            "median_abs_error_usd": _median(mem["abs_error_usd"]), "median_rel_error": _median(mem["rel_error"]),
            "at_measured_size": int((mem["how"] == "measured").sum()),
            "interpolated": int((mem["how"] == "interpolated").sum()),
            "bracketed": int((mem["how"] == "bracketed").sum()),
            "not_verifiable": int((~mem["how"].isin(["measured", "interpolated", "bracketed"])).sum())})
        arm, scorable = jd[jd["id"] == ARM], lb[lb["arm_scorable"]]
        arm_ok = arm[arm["how"] == "measured"]
        arm_band = arm_ok[arm_ok["in_band"].notna()]
        arm_lab = scorable[scorable["arm"]]
        out["arm64"].append({
            "dataset": name, "scorable_functions": len(scorable), "true_arm64": len(arm_lab), "findings": len(arm),
            "findings_scorable": len(arm_ok), "correct": int(arm["correct"].sum()),
            "precision": _ratio(arm["correct"].sum(), len(arm_ok)),
            "recall": _ratio(arm_lab["function_name"].isin(set(arm.loc[arm["correct"], "function_name"])).sum(),
                             len(arm_lab)),
            "band_coverage": _ratio(arm_band["in_band"].astype(bool).sum(), len(arm_band)),
            "median_abs_error_usd": _median(arm_ok["abs_error_usd"]), "median_rel_error": _median(arm_ok["rel_error"]),
            "dollars_at_other_size": int((arm["recommended_memory_mb"] != arm["memory_mb"]).sum())})
        mf = jd[jd["id"] == MEASURE]
        checked = mf[mf["in_band"].notna()]
        out["measure"].append({
            "dataset": name, "findings": len(mf), "labelled_functions": len(labelled),
            "labelled_with_measure": int(labelled["function_name"].isin(set(mf["function_name"])).sum()),
            "range_checked": len(checked), "in_range": int(checked["in_band"].astype(bool).sum()),
            "range_coverage": _ratio(checked["in_band"].astype(bool).sum(), len(checked))})
    return {k: pd.DataFrame(v) for k, v in out.items()}


@dataclass
class Scores:
    """What :func:`score` returns: the labels, every finding judged, and the summaries per data set."""

    policy: Policy
    labels: pd.DataFrame
    findings: pd.DataFrame
    memory: pd.DataFrame
    arm64: pd.DataFrame
    measure: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def wrong(self) -> pd.DataFrame:
        """The over/under/arm64 findings the truth contradicts, largest claimed saving first."""
        f = self.findings
        w = f[f["id"].isin([OVER, UNDER, ARM]) & ~f["correct"].astype(bool) & f["claims_ok"].notna()]
        return w.sort_values("claimed_saving_usd", ascending=False, ignore_index=True)

    def unverifiable(self) -> pd.DataFrame:
        """The over/under/arm64 findings the measurements cannot judge (size or architecture not measured)."""
        f = self.findings
        return f[f["id"].isin([OVER, UNDER, ARM]) & f["claims_ok"].isna()].reset_index(drop=True)

    def missed(self) -> pd.DataFrame:
        """Labelled functions that got no correct over/under finding."""
        f = self.findings
        good = set(f.loc[f["id"].isin([OVER, UNDER]) & f["correct"].astype(bool), "function_name"])
        lab = self.labels
        return lab[lab["labelled"] & ~lab["function_name"].isin(good)].reset_index(drop=True)


def score(truth: pd.DataFrame, findings: pd.DataFrame, recs: pd.DataFrame | None = None,
          pol: Policy | None = None) -> Scores:
    """Judge the findings (the review's table: ``id``, ``account_id``, ``region``, ``function`` and the monthly
    impact columns) against the truth; ``recs`` (``memory.recommend_all``) gives the recommended sizes unless the
    findings carry ``recommended_memory_mb`` / ``other_arch_memory_mb`` themselves."""
    pol = pol or policy()
    tr = Truth(truth)
    lab = labels(tr, pol)
    by_key = lab.set_index(KEY, drop=False)
    recs_i = recs.set_index(KEY) if recs is not None and len(recs) else None
    rows, unknown = [], 0
    for _, f in findings[findings["id"].isin([OVER, UNDER, ARM, MEASURE])].iterrows():
        key = (f["account_id"], f["region"], f["function_name"])
        if key not in by_key.index:
            unknown += 1
            continue
        rows.append(_measure(f, by_key.loc[key]) if f["id"] == MEASURE else _judge(f, by_key.loc[key], tr, recs_i, pol))
    judged = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    for col in ("correct", "direction_ok"):
        judged[col] = judged[col].astype(bool)
    summ = _summaries(lab, judged)
    got = judged.groupby("function_name")["id"].agg(lambda s: ";".join(sorted(s))).to_dict()
    lab = lab.assign(findings=[got.get(n, "") for n in lab["function_name"]])
    return Scores(pol, lab, judged, summ["memory"], summ["arm64"], summ["measure"],
                  {"findings_without_truth": unknown})


@contextmanager
def _one_recommendation_pass(snapshot):
    """Let the review and the scorer share one ``memory.recommend_all`` pass over ``snapshot`` (it is the slow
    part). Calls with other arguments or snapshots go to the real function; restored on exit."""
    from .. import memory

    real = memory.recommend_all
    kept: dict[str, pd.DataFrame] = {}

    def shared(snap, **kwargs):
        if snap is not snapshot or kwargs:
            return real(snap, **kwargs)
        if "table" not in kept:
            kept["table"] = real(snap)
        out = kept["table"].copy()
        out.attrs = dict(kept["table"].attrs)
        return out

    memory.recommend_all = shared
    try:
        yield shared
    finally:
        memory.recommend_all = real


def evaluate(account, *, progress: bool = False) -> Scores:
    """Run the review's memory module on ``account.snapshot`` and score it against ``account.truth``."""
    from .. import review

    t0 = time.perf_counter()
    with _one_recommendation_pass(account.snapshot) as recommend_all:
        rv = review.run(account.snapshot, modules=("memory",), progress=progress)
        recs = recommend_all(account.snapshot)
    t1 = time.perf_counter()
    s = score(account.truth, rv.findings, recs)
    s.meta.update(review_seconds=t1 - t0, score_seconds=time.perf_counter() - t1,
                  review_errors=rv.errors.to_dict("records"), skipped=list(recs.attrs.get("skipped", [])))
    return s
