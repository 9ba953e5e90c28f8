"""Benchmark the AWS scan's API calls: N functions x D days in moto, against the lower bound and a naive loop.

Usage: ``.venv/bin/python benchmarks/bench_scan.py [--functions 1000] [--days 14] [--naive-subset 10]``

1. Seeds moto (server mode, 127.0.0.1) with N small functions, a third of them with an SQS trigger, CloudWatch
   datapoints for D days (Invocations, Errors, Duration, ConcurrentExecutions at ``--points-per-day`` aligned
   timestamps, StatisticValues batched 1,000 a call) and 20 REPORT lines per function.
2. Scans the account with ``lambda_workbook.sources.aws.scan`` through a proxy that answers Logs Insights the
   way AWS does (moto runs no ``stats``; ``tests/moto_account.InsightsEmulator``), counting every operation.
3. Compares, in the same run:
   * the lower bound: per time range ceil(metric series / 500) GetMetricData calls, ceil(log groups / 50)
     Insights queries, and the listing pages (ListFunctions, DescribeLogGroups);
   * a naive loop: one ``get_metric_statistics`` call per function, metric, period and 1,440-datapoint chunk
     (basic statistics together, percentiles in their own call, as the API requires) over the same metrics;
     its count is exact from the scan's plan, and it is run for ``--naive-subset`` functions to check the
     count and time it.
Goals: the scan's metric + Insights + listing calls <= 1.1x the lower bound; >= 50x fewer metric calls than
the naive loop. Exit code 2 when a goal is missed.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pandas as pd
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import moto_account  # noqa: E402
from lambda_workbook.sources import aws, aws_metrics  # noqa: E402

ACCOUNT = "100000000001"
REGION = "us-east-1"
GOAL_BOUND = 1.1
GOAL_NAIVE = 50.0
GMS_POINTS = 1440     # GetMetricStatistics: datapoints per call (its API reference)


def _plan(snap, percentiles: bool) -> dict:
    """The scan's metric plan, rebuilt from the snapshot (same functions, triggers and concurrency)."""
    rs = aws.RegionScan(account=None, region=REGION, start=pd.Timestamp(snap.manifest["start"]).to_pydatetime(),
                        end=pd.Timestamp(snap.manifest["end"]).to_pydatetime(), evidence=aws.Evidence(),
                        progress=None, options=aws.ScanOptions(lookback_days=snap.manifest["lookback_days"]))
    rs.functions = snap.functions.to_dict("records")
    rs.triggers = snap.triggers.to_dict("records")
    rs.concurrency = snap.concurrency.to_dict("records")
    return aws_metrics.plan(rs, percentiles=percentiles)


def naive_calls(plan: dict, functions: set[str] | None = None) -> list[tuple]:
    """The naive loop's get_metric_statistics calls: (function, metric, qualifier, period, stats, start, end)."""
    groups: dict[tuple, list[str]] = {}
    for (start, end), queries in plan.items():
        for q in queries:
            if functions is not None and q.function_name not in functions:
                continue
            key = (q.function_name, q.metric, q.qualifier, q.period_s, q.percentile, start, end)
            groups.setdefault(key, []).append(q.stat)
    calls = []
    for (fn, metric, qual, period, _, start, end), stats in groups.items():
        span = timedelta(seconds=period * GMS_POINTS)
        t = start
        while t < end:
            calls.append((fn, metric, qual, period, tuple(stats), t, min(end, t + span)))
            t += span
    return calls


def run_naive(endpoint: str, calls: list[tuple]) -> tuple[int, float]:
    cw = moto_account.client(endpoint, "cloudwatch", ACCOUNT, REGION)
    t0 = time.perf_counter()
    for fn, metric, qual, period, stats, start, end in calls:
        dims = [{"Name": "FunctionName", "Value": fn}]
        if qual:
            dims.append({"Name": "Resource", "Value": f"{fn}:{qual}"})
        kind = "ExtendedStatistics" if stats[0].startswith("p") else "Statistics"
        cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName=metric, Dimensions=dims, StartTime=start,
                                 EndTime=end, Period=period, **{kind: list(stats)})
    return len(calls), time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=int, default=1000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--points-per-day", type=int, default=4, help="seeded datapoints per series and day")
    ap.add_argument("--naive-subset", type=int, default=10, help="functions the naive loop is run for")
    args = ap.parse_args(argv)
    if not 1 <= args.days <= 14:
        ap.error("--days must be 1-14 (moto, like CloudWatch Logs, refuses log events older than 14 days)")

    server = moto_account.MotoServer()
    moto_account.speed_up_moto_metrics()
    end = pd.Timestamp.now(tz="UTC").floor("h")
    t0 = time.perf_counter()
    with tqdm(total=args.functions, desc="seeding moto", unit="function") as bar:
        names = moto_account.seed_synthetic(server.endpoint, ACCOUNT, args.functions, days=args.days, end=end,
                                            prefix="bench", points_per_day=args.points_per_day, lines=20,
                                            progress=bar.update)
    seed_s = time.perf_counter() - t0
    print(f"seeded {len(names):,} functions x {args.days} days "
          f"({args.points_per_day} datapoints per series and day, 20 REPORT lines each) in {seed_s:.0f} s")

    env = moto_account.write_profiles(server.endpoint, Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-scan-{os.getpid()}",
                                      {"bench": ACCOUNT})
    for name in moto_account.AWS_ENV_TO_CLEAR:
        os.environ.pop(name, None)
    os.environ.update(env)
    proxy = moto_account.FaultProxy(server.endpoint)
    emulator = moto_account.InsightsEmulator(proxy, server.endpoint, ACCOUNT, REGION)
    os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint
    t0 = time.perf_counter()
    snap = aws.scan(profiles="bench", regions=REGION, lookback_days=args.days, end=end.to_pydatetime())
    scan_s = time.perf_counter() - t0
    cost = snap.manifest["scan_cost"]
    ops = Counter({k.split(".", 1)[1]: v for k, v in cost["api_calls"].items()})

    print(f"\nscan: {len(snap.functions):,} functions in {scan_s:.1f} s, {cost['api_calls_total']:,} API calls, "
          f"{cost['retries']} retries, scan bill USD {cost['usd']:.4f}")
    print(f"{'operation':<38}{'calls':>8}")
    for op, n in sorted(ops.items(), key=lambda kv: -kv[1]):
        print(f"  {op:<36}{n:>8,}")

    # -- lower bound ----------------------------------------------------------------------------------------
    segs = snap.manifest["metric_periods"]
    gmd_bound = sum(math.ceil(s["series_read"] / aws_metrics.MAX_QUERIES) for s in segs)
    failed_pct = sum(s["series"] - s["series_read"] for s in segs)
    groups = len(emulator.groups)
    stats_queries = sum(1 for q in emulator.queries.values() if "by @log, bin(1d)" not in q["body"]["queryString"])
    daily_queries = len(emulator.queries) - stats_queries
    insights_bound = math.ceil(groups / 50)
    list_pages = ops["ListFunctions"] + ops["DescribeLogGroups"]
    bound = gmd_bound + insights_bound + list_pages
    core = ops["GetMetricData"] + ops["StartQuery"] + list_pages
    ratio_bound = core / bound
    print(f"\nmetric series read {sum(s['series_read'] for s in segs):,} in {len(segs)} time range(s) "
          f"({failed_pct:,} percentile series not served by moto); log groups {groups:,}")
    print(f"{'':<34}{'scan':>8}{'lower bound':>13}")
    print(f"  {'GetMetricData':<32}{ops['GetMetricData']:>8}{gmd_bound:>13}   (scan: incl. "
          f"{1 if failed_pct else 0} percentile call that moto fails)")
    print(f"  {'StartQuery':<32}{ops['StartQuery']:>8}{insights_bound:>13}   (scan: {stats_queries} statistics + "
          f"{daily_queries} timeouts-per-day)")
    print(f"  {'listing pages':<32}{list_pages:>8}{list_pages:>13}   (ListFunctions + DescribeLogGroups)")
    print(f"  {'total':<32}{core:>8}{bound:>13}   -> {ratio_bound:.3f}x the lower bound (goal <= {GOAL_BOUND}x)")
    print(f"  not in the bound: GetQueryResults polls {ops['GetQueryResults']} (first poll of each query says "
          f"Running), FilterLogEvents {ops['FilterLogEvents']}")
    per_fn = {op: n for op, n in ops.items() if op in ("GetFunctionConcurrency", "ListAliases", "GetPolicy",
              "ListProvisionedConcurrencyConfigs", "ListFunctionUrlConfigs", "GetFunctionConfiguration")}
    print(f"  per-function reads (no batch API exists; any scanner needs them): {sum(per_fn.values()):,} "
          f"({', '.join(f'{k} {v:,}' for k, v in sorted(per_fn.items()))})")

    # -- naive loop -------------------------------------------------------------------------------------------
    percentiles = not failed_pct
    plan = _plan(snap, percentiles)
    naive = naive_calls(plan)
    subset = set(sorted(snap.functions["function_name"])[:args.naive_subset])
    sub_calls = naive_calls(plan, subset)
    made, naive_s = run_naive(server.endpoint, sub_calls)
    ratio_naive = len(naive) / ops["GetMetricData"]
    print(f"\nnaive get_metric_statistics loop for the same {sum(len(q) for q in plan.values()):,} series: "
          f"{len(naive):,} calls (exact, from the plan)")
    print(f"  run for {len(subset)} functions: {made:,} calls in {naive_s:.1f} s "
          f"-> ~{naive_s * len(snap.functions) / max(len(subset), 1):,.0f} s for all")
    print(f"  scan: {ops['GetMetricData']} GetMetricData calls -> {ratio_naive:,.0f}x fewer (goal >= {GOAL_NAIVE:g}x)")
    print(f"  REPORT statistics: {ops['StartQuery']} Insights queries vs >= {groups:,} FilterLogEvents calls to "
          "download the lines (one per log group at least)")
    print(f"\nreal AWS differs in: ListFunctions pages ({math.ceil(len(snap.functions) / 50)} at 50 a page; moto "
          "returns one), NextToken pages when a call's datapoints exceed 100,800, and polls per Insights query")
    proxy.stop()
    server.stop()
    ok = ratio_bound <= GOAL_BOUND and ratio_naive >= GOAL_NAIVE and made == len(sub_calls)
    print(f"\ngoals: lower bound {ratio_bound:.3f}x {'met' if ratio_bound <= GOAL_BOUND else 'MISSED'}; "
          f"naive {ratio_naive:,.0f}x {'met' if ratio_naive >= GOAL_NAIVE else 'MISSED'}")
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
