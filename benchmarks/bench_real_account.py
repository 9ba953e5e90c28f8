"""The review's memory findings on an account built from real measurements, scored against the truth.

Builds the measured account (``validation.account``: every curve of every set deployed at its smallest, a middle
and its largest measured size, REPORT lines and metrics drawn only from the measurements at that size), runs the
review's memory module on it and scores the findings (``validation.score``): precision, recall, band coverage
and dollar error per data set and overall, the arm64 switch where both architectures were measured, the
"measure first" findings, and every wrong finding. Side by side with each precision: the base rate (the share of
functions carrying that label, i.e. the precision of flagging functions at random).

    .venv/bin/python benchmarks/bench_real_account.py [--sets a,b] [--max-functions N] [--out DIR] [--csv FILE]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from lambda_workbook.validation import account, calibration, insights, score


def _pct(x) -> str:
    return "—" if pd.isna(x) else f"{x:.0%}"


def _usd(x) -> str:
    return "—" if pd.isna(x) else f"${x:,.2f}"


def memory_table(s: score.Scores) -> pd.DataFrame:
    m = s.memory.set_index("dataset")
    lab = s.labels
    rows = []
    for ds, r in m.iterrows():
        sel = lab if ds == "overall" else lab[lab["dataset"] == ds]
        base = sel["labelled"].mean() if len(sel) else float("nan")
        r = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in r.items()}
        rows.append({"data set": ds, "functions": r["functions"], "true over/under": f"{r['true_over']}/{r['true_under']}",
                     "findings over/under": f"{r['over_findings']}/{r['under_findings']}", "correct": r["correct"],
                     "precision": _pct(r["precision"]), "base rate": _pct(base), "recall": _pct(r["recall"]),
                     "band coverage": f"{_pct(r['band_coverage'])} of {r['band_checked']}",
                     "median |$ error|": _usd(r["median_abs_error_usd"]),
                     "median rel. error": _pct(r["median_rel_error"]),
                     "measured/interp./bracketed/unverifiable":
                         f"{r['at_measured_size']}/{r['interpolated']}/{r['bracketed']}/{r['not_verifiable']}"})
    return pd.DataFrame(rows)


def arm_table(s: score.Scores) -> pd.DataFrame:
    a = s.arm64
    a = a[(a["scorable_functions"] > 0) | (a["findings"] > 0)]
    return pd.DataFrame({
        "data set": a["dataset"], "x86_64 with arm64 measured": a["scorable_functions"], "true arm64": a["true_arm64"],
        "findings (scorable)": [f"{f} ({k})" for f, k in zip(a["findings"], a["findings_scorable"], strict=True)],
        "correct": a["correct"], "precision": a["precision"].map(_pct),
        "base rate": [_pct(t / n) if n else "—" for t, n in zip(a["true_arm64"], a["scorable_functions"], strict=True)],
        "recall": a["recall"].map(_pct), "band coverage": a["band_coverage"].map(_pct),
        "median |$ error|": a["median_abs_error_usd"].map(_usd), "median rel. error": a["median_rel_error"].map(_pct),
        "$ quoted at another size": a["dollars_at_other_size"]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="", help="comma-separated data sets (default: all)")
    ap.add_argument("--max-functions", type=int, default=None)
    ap.add_argument("--out", default="", help="also write the snapshot, truth and deployments here")
    ap.add_argument("--csv", default="", help="write every judged finding to this CSV")
    ap.add_argument("--no-insights", action="store_true", help="skip the second run with simulated Insights CPU time")
    args = ap.parse_args()
    sets = [x for x in args.sets.split(",") if x] or None
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.max_colwidth", 110)

    t0 = time.perf_counter()
    acct = account.build(sets, max_functions=args.max_functions)
    t_build = time.perf_counter() - t0
    if args.out:
        account.save(acct, args.out)
    dep = acct.deployments
    print(f"# measured account: {len(dep)} functions, {dep['curve'].nunique()} curves, built in {t_build:.0f} s")
    print(dep.groupby("dataset").agg(functions=("function_name", "size"), curves=("curve", "nunique"),
                                     invocations_per_month=("invocations_per_month", "median"),
                                     cold_share=("cold_share", "median")).round(4).to_string())

    s = score.evaluate(acct)
    pol = s.policy
    print(f"\nreview (memory module) + scoring: {s.meta['review_seconds']:.0f} s; review errors: "
          f"{len(s.meta['review_errors'])}; functions the memory model skipped: {len(s.meta['skipped'])}")
    print(f"policy (memory.recommend_for_function defaults): decrease saves >= {pol.min_savings_share:.0%} and is "
          f"<= {pol.max_slowdown:.0%} slower; increase >= {pol.min_speedup:.0%} faster for <= {pol.cost_tolerance:.0%} "
          f"more cost; confidence {pol.confidence:.0%}")

    print("\n## memory-overprovisioned / memory-underprovisioned")
    print(memory_table(s).to_string(index=False))
    print("\n## arm64-candidate (judged at today's size, where both architectures were measured)")
    print(arm_table(s).to_string(index=False))
    meas = {k: int(v) for k, v in s.measure.set_index("dataset").loc["overall"].items() if k != "range_coverage"}
    print(f"\n## memory-measure: {meas['findings']} findings; labelled functions with one: "
          f"{meas['labelled_with_measure']} of {meas['labelled_functions']}; true best saving inside the range: "
          f"{meas['in_range']} of {meas['range_checked']}")

    wrong = s.wrong()
    cols = ["function_name", "id", "memory_mb", "recommended_memory_mb", "how", "claimed_saving_usd",
            "true_saving_usd", "truth_label", "verdict"]
    print(f"\n## wrong findings: the truth contradicts them ({len(wrong)}; largest claimed saving first)")
    print(wrong[cols].round(2).to_string(index=False) if len(wrong) else "none")
    unv = s.unverifiable()
    print(f"\n## findings the measurements cannot judge: {len(unv)} "
          f"({', '.join(f'{k} {v}' for k, v in unv.groupby(['id', 'how']).size().items()) or 'none'})")
    missed = s.missed()
    print(f"\n## labelled functions without a correct over/under finding: {len(missed)} of "
          f"{int(s.labels['labelled'].sum())}")
    got = missed["findings"].replace("", "(none)").value_counts()
    print("  their findings: " + ", ".join(f"{k} {v}" for k, v in got.items()))
    t0 = time.perf_counter()
    ev = calibration.events(acct)
    print(f"\n## are the probabilities calibrated? every other measured size of every function ({len(ev)} events, "
          f"{time.perf_counter() - t0:.0f} s)")
    rel = calibration.reliability(ev)
    print(rel.round(3).to_string(index=False))
    top = ev[ev["probability"] >= 0.9]
    print(f"stated >= 90%: {len(top)} events, happened {top['happened'].mean() * 100 if len(top) else float('nan'):.0f}%")
    if args.no_insights:
        return
    t0 = time.perf_counter()
    s2 = score.evaluate(insights.with_cpu_time(acct))
    print(f"\n# the same account with Lambda Insights' CPU time (simulated, see validation.insights; "
          f"{time.perf_counter() - t0:.0f} s)")
    print(memory_table(s2).to_string(index=False))
    print(arm_table(s2).to_string(index=False))
    m2 = s2.measure.set_index("dataset").loc["overall"]
    print(f"memory-measure: {int(m2['findings'])} findings; true best saving inside the range: {int(m2['in_range'])}")
    w2 = s2.wrong()
    print(f"wrong: {len(w2)}; by set: " + ", ".join(f"{k} {v}" for k, v in w2["dataset"].value_counts().items()))
    if args.csv:
        s.findings.to_csv(args.csv, index=False)
        print(f"\nevery judged finding written to {args.csv}")


if __name__ == "__main__":
    main()
