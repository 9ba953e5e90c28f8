"""``lambda-workbook``: a thin command line over the library (every subcommand is one library call)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__, argtypes
from .argtypes import count, fraction, number


def _review(args: argparse.Namespace) -> int:
    import json

    import yaml

    from . import pack

    given = {k: getattr(args, k) for k in pack.DEFAULTS if hasattr(args, k)}
    try:
        result = pack.build(args.config, progress=not args.quiet, **given)
    except yaml.YAMLError as exc:
        raise ValueError(_yaml_problem(args.config, exc)) from exc
    flags = [f["line"] for f in json.loads((result.run_dir / "review.json").read_text(encoding="utf-8"))["review"]
             .get("flags", [])]
    for line in flags:
        print(f"flagged: {line}", file=sys.stderr)
    for r in result.errors.itertuples():
        print(f"check failed: {r.module}: {r.error}", file=sys.stderr)
    for job in result.failed:
        print(f"failed: {job.title}: {job.error} ({result.run_dir / job.link()})", file=sys.stderr)
    print(f"review pack: {result.index.resolve()} ({len(result.findings)} findings, "
          f"{len(result.jobs) - len(result.failed)}/{len(result.jobs)} notebooks"
          + (f", {len(flags)} snapshot problems flagged" if flags else "") + ")")
    print((result.latest or result.index).resolve())
    if result.exit_code:
        print(f"lambda-workbook review: partial review ({len(result.failed)} notebook(s) and {len(result.errors)} "
              "check(s) failed, listed above and on the index page)", file=sys.stderr)
    return result.exit_code


def _yaml_problem(path, exc) -> str:
    """One line for a configuration file YAML cannot parse: what, where, and what to do."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    what = getattr(exc, "problem", None) or type(exc).__name__
    return f"--config {path} is not valid YAML: {what}{where}; fix the file (keys as in review --help)"


def _sample_generate(args: argparse.Namespace) -> int:
    from . import datafiles, sample, sources

    out = Path(args.out) if args.out else datafiles.sample_account_dir()
    path = sources.save(sample.generate(), out)
    print(f"sample account written to {path}")
    return 0


def _prices_show(args: argparse.Namespace) -> int:
    from . import prices

    book = prices.load(args.region)
    print(f"# {book.region} prices as of {book.as_of} ({book.path})")
    with_pd_options(lambda: print(book.table().drop(columns=["source"]).to_string()))
    return 0


def _prices_regions(args: argparse.Namespace) -> int:
    from . import prices

    for region, dates in prices.available().items():
        print(f"{region}: {', '.join(dates)}")
    return 0


def _prices_refresh(args: argparse.Namespace) -> int:
    from . import pricelist

    path = pricelist.refresh(args.region, out_dir=args.out, progress=not args.quiet, profile=args.profile)
    print(pricelist.format_report(path))
    print(f"price snapshot written to {path}")
    return 0


def _priors_refresh(args: argparse.Namespace) -> int:
    from .sources import lambda_perf

    try:
        path, doc = lambda_perf.refresh(args.months, out_dir=args.out, until=args.until, csv=args.from_csv)
    except lambda_perf.FetchError as exc:
        print(f"lambda-workbook: error: {exc}", file=sys.stderr)
        return 2
    print(lambda_perf.format_report(doc))
    print(f"INIT priors written to {path}")
    return 0


def _scan(args: argparse.Namespace) -> int:
    from . import sources
    from .sources import aws

    out = Path(args.out)
    if out.exists() and not args.force:
        raise FileExistsError(f"{out} exists; pass --force to replace it with a new scan")
    snap = aws.scan(profiles=args.profile, regions=args.regions, lookback_days=args.days,
                    progress=not args.quiet, roles=not args.no_roles, s3=not args.no_s3,
                    insights=not args.no_insights, insights_budget_gb=args.max_insights_gb)
    path = sources.save(snap, out)
    f, ev = snap.functions, snap.evidence
    print(f"snapshot written to {path}: {len(f)} functions in {len(snap.accounts)} account(s), "
          f"{len(snap.regions)} region(s), {snap.manifest['start'][:10]} to {snap.manifest['end'][:10]}")
    if len(ev):
        print(f"evidence notes: {len(ev)} (missing {int((ev['status'] == 'missing').sum())}, sampled "
              f"{int((ev['status'] == 'sampled').sum())}); see {path / 'evidence.csv'}")
    print(aws.format_cost(snap.manifest["scan_cost"]))
    return 0


def _schema(args: argparse.Namespace) -> int:
    from . import schema

    print(schema.markdown())
    return 0


def _triggers_compare(args: argparse.Namespace) -> int:
    from . import triggers

    w = triggers.Workload(events_per_month=args.events, payload_kb=args.payload_kb, duration_ms=args.duration_ms,
                          memory_mb=args.memory_mb, sync=not args.no_wait, arch=args.arch, region=args.region,
                          batch_size=args.batch_size, batch_window_s=args.window_s,
                          invocation_overhead_ms=args.overhead_ms)
    with_pd_options(lambda: print(triggers.view(triggers.compare(w)).to_string()))
    return 0


def _triggers_findings(args: argparse.Namespace) -> int:
    from . import sources, triggers

    snap = sources.load(args.source, snapshot_path=args.snapshot)
    _print_findings(triggers.findings(snap), ["id", "function", "monthly_impact_usd", "title"])
    return 0


def _triggers_catalog(args: argparse.Namespace) -> int:
    from . import triggers

    cols = ["name", "invocation", "caller waits", "payload limit", "batching", "ordering", "on failure"]
    with_pd_options(lambda: print(triggers.semantics()[cols].to_string()))
    return 0


def _tune(args: argparse.Namespace) -> int:
    import json

    from . import atomicfile, prices, tuning
    from .sources import aws_invoker, errors

    # AWS failures leave as one-line errors.AwsError (main prints them)
    aws = {"profile": args.profile, "region": args.region, "service": "lambda", "policy": aws_invoker.TUNER_POLICY}
    if args.recover is not None:
        try:
            with errors.translating(**aws):
                problems = aws_invoker.recover(args.recover or None, profile=args.profile)
        except aws_invoker.InvokerError as exc:
            print(f"lambda-workbook tune --recover: error: {exc}", file=sys.stderr)
            return 2
        return 1 if problems else 0
    if not args.function or not (args.memory or args.policy):
        raise ValueError("tune needs --function and --memory (or --function with --policy, or --recover [JOURNAL])")
    if args.region:
        prices.check_region(args.region)
    if args.policy:
        from .sources import tune_policy

        print(json.dumps(tune_policy.for_function_in(args.function, profile=args.profile, region=args.region,
                                                     in_place=args.in_place), indent=2))
        return 0
    try:
        sizes = [float(x) for x in args.memory.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--memory must be comma-separated sizes in MB, e.g. 128,256,512; got {args.memory!r}") from None
    payloads = None
    if args.payload:
        with open(args.payload, encoding="utf-8") as fh:
            payloads = aws_invoker.load_payloads(json.load(fh))
    try:
        with errors.translating(**aws):
            result = aws_invoker.tune_function(
                args.function, sizes, strategy=args.strategy, max_invocations=args.max_invocations,
                payloads=payloads, dry_run=args.dry_run, region=args.region, profile=args.profile,
                expected_duration_ms=args.expected_ms, balanced_weight=args.balanced_weight,
                latency_slo_ms=args.slo_ms, progress=not args.quiet, in_place=args.in_place, journal=args.journal)
    except aws_invoker.Interrupted as exc:
        print(f"lambda-workbook tune: {exc}; everything the run created was deleted", file=sys.stderr)
        return exc.exit_code
    except (aws_invoker.InvokerError, tuning.TuningError) as exc:
        print(f"lambda-workbook tune: error: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        return 0
    print(f"\nrecommended: {result.memory_mb:g} MB ({result.strategy}, {result.arch}) after {result.invocations} "
          f"invocations; {'stable' if result.converged else 'NOT stable'} with {result.confidence:.0%} confidence "
          f"of <= 2% regret; the tuning itself cost ${result.tuning_cost_usd:.6f}")
    for m, why in result.infeasible.items():
        print(f"  {m:g} MB infeasible: {why}")
    cols = ["memory_mb", "invocations", "warm", "cold", "failed", "mean_ms", "model_ms", "cost_usd"]
    with_pd_options(lambda: print(result.stats()[cols].round(6).to_string(index=False)))
    for note in result.notes:
        print(f"note: {note}")
    if result.samples["kind"].eq("ok").any():
        print(f"Power Tuning chart: {result.visualization_url()}")
    if args.json:
        atomicfile.write_json(args.json, result.summary())
    return 0


def with_pd_options(fn) -> None:
    import pandas as pd

    with pd.option_context("display.max_rows", 500, "display.width", 200, "display.max_colwidth", 60):
        fn()


def _print_findings(found, cols: list[str], empty: str = "no findings") -> None:
    with_pd_options(lambda: print(found[cols].round(2).to_string(index=False) if len(found) else empty))


def _snapshot_source(p: argparse.ArgumentParser) -> None:
    """The options of a subcommand that reads the sample account or a saved snapshot."""
    p.add_argument("--source", default="sample", choices=("sample", "snapshot"))
    p.add_argument("--snapshot", help="snapshot directory (with --source snapshot)")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error: the option, the value and what is allowed (``--help`` for the rest)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="lambda-workbook", description="AWS Lambda cost and performance workbook")
    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    ap.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = ap.add_subparsers(dest="command", required=True)

    rv = sub.add_parser("review", help="the review pack: findings ranked by dollars plus account reviews and "
                        "per-function deep dives run headless, as offline HTML (<out>/<run>/index.html)")
    rv.add_argument("--config", help="YAML file of these options (keys as below, plus 'thresholds' and "
                    "'module_thresholds'); command-line options win")
    rv.add_argument("--source", choices=("sample", "snapshot", "aws"), help="account data (default: sample)")
    rv.add_argument("--snapshot", help="snapshot directory (with --source snapshot)")
    rv.add_argument("--profile", help="AWS profile(s), comma-separated (with --source aws)")
    rv.add_argument("--region", help="'all' (default), a region, or a comma-separated list")
    rv.add_argument("--days", type=count(1, 455), help="lookback days (with --source aws; default 14)")
    rv.add_argument("--top", type=count(0), help="functions to deep-dive (default 10; 0 = every match of --functions)")
    rv.add_argument("--rank-by", dest="rank_by", choices=("impact", "cost"),
                    help="pick those functions by finding impact (default) or by cost")
    rv.add_argument("--functions", help="deep-dive functions matching these globs, comma-separated (e.g. 'orders-*')")
    rv.add_argument("--deep-dives", dest="deep_dives", help="'relevant' (default: where each has something to "
                    "show), 'all', 'none', or notebook names, comma-separated")
    rv.add_argument("--workers", type=count(0), help="notebook processes (default: the machine's cores)")
    rv.add_argument("--redact", action="store_true", default=None, help="mask account ids and ARNs everywhere")
    rv.add_argument("--run", help="run folder name (default: the UTC time)")
    rv.add_argument("--out", help="output folder (default: reports); <out>/index.html is the latest run")
    rv.add_argument("--chart-top", dest="chart_top", type=count(1, argtypes.MAX_CHART_BARS), help="bars in the charts (default 15)")
    rv.add_argument("--timeout", type=count(1), help="seconds a notebook cell may run (default 1200)")
    rv.add_argument("--inline-plotly", dest="inline_plotly", action="store_true", default=None,
                    help="inline plotly.js in every page instead of one shared file (single-file pages, larger pack)")
    rv.add_argument("--as-of", dest="as_of", help="date runtime support is judged at: auto (default: the "
                    "snapshot's end; today for --source aws), end, today or YYYY-MM-DD")
    rv.add_argument("--quiet", action="store_true", help="no progress bar")
    rv.set_defaults(func=_review)

    sm = sub.add_parser("sample", help="the embedded sample account").add_subparsers(dest="action", required=True)
    gen = sm.add_parser("generate", help="regenerate data/sample-account deterministically")
    gen.add_argument("--out", help="output directory (default: the bundled data/sample-account)")
    gen.set_defaults(func=_sample_generate)

    pr = sub.add_parser("prices", help="the price book").add_subparsers(dest="action", required=True)
    show = pr.add_parser("show", help="print a region's price snapshot")
    show.add_argument("--region", default="us-east-1")
    show.set_defaults(func=_prices_show)
    pr.add_parser("regions", help="regions with a price snapshot").set_defaults(func=_prices_regions)
    ref = pr.add_parser("refresh", help="fetch a new dated snapshot from the AWS Price List API")
    ref.add_argument("--region", required=True)
    ref.add_argument("--out", help="price folder (default: the bundled data/prices)")
    ref.add_argument("--profile", help="AWS profile for the Price List API (default credentials otherwise)")
    ref.add_argument("--quiet", action="store_true", help="no progress bar")
    ref.set_defaults(func=_prices_refresh)

    ip = sub.add_parser("priors", help="INIT duration priors").add_subparsers(dest="action", required=True)
    ipr = ip.add_parser("refresh", help="fit a new dated INIT priors file on lambda-perf's daily cold starts")
    ipr.add_argument("--months", type=argtypes.months, default=24, help="months fitted, ending with --until (default 24)")
    ipr.add_argument("--until", help="last month fitted, YYYY-MM (default: this month)")
    ipr.add_argument("--out", help="priors folder (default: the bundled data/coldstarts/init-priors)")
    ipr.add_argument("--from-csv", dest="from_csv", help="fit lambda-perf's per-sample table (as in "
                     "data/measurements/lambda-perf-2022-2025) instead of downloading the daily files")
    ipr.set_defaults(func=_priors_refresh)

    sub.add_parser("schema", help="print the snapshot schema as Markdown").set_defaults(func=_schema)

    tu = sub.add_parser("tune", help="measure one function at a few memory sizes and recommend one (the only "
                        "command that writes to AWS: a temporary copy of the function, deleted at the end)")
    tu.add_argument("--function", help="function name or ARN (not a version or alias)")
    tu.add_argument("--memory", help="comma-separated sizes in MB, e.g. 128,256,512,1024,1536,3008")
    tu.add_argument("--strategy", default="cost", choices=("cost", "speed", "balanced"))
    tu.add_argument("--balanced-weight", type=fraction(), default=0.5, help="with --strategy balanced: 1 = cost, 0 = speed")
    tu.add_argument("--slo-ms", type=number(0, lo_open=True), help="latency SLO on the mean warm duration (ms)")
    tu.add_argument("--max-invocations", type=count(1), help="invocation budget (default: 10 per size)")
    tu.add_argument("--payload", help="JSON file: one payload, or [{\"payload\": ..., \"weight\": N}, ...]")
    tu.add_argument("--region", help="AWS region (default: the profile's)")
    tu.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    tu.add_argument("--expected-ms", type=number(0, lo_open=True), help="expected duration (ms), for the plan's cost estimate")
    tu.add_argument("--dry-run", action="store_true", help="print the plan and its cost bound; change nothing")
    tu.add_argument("--json", help="write the result summary as JSON to this file")
    tu.add_argument("--quiet", action="store_true", help="no progress bar")
    tu.add_argument("--in-place", action="store_true", help="measure the function itself (versions and aliases) "
                    "instead of a copy: unqualified invocations run at trial sizes while each size is prepared")
    tu.add_argument("--journal", help="journal file, or an existing folder (default "
                    "~/.lambda-workbook/tune-journal/)")
    tu.add_argument("--recover", nargs="?", const="", metavar="JOURNAL", help="undo what a journal lists (no "
                    "JOURNAL: every unfinished one in the default folder); safe to repeat")
    tu.add_argument("--policy", action="store_true", help="print the least-privilege IAM policy for tuning this "
                    "function (iam/workbook-tuner-policy.json filled in) and exit")
    tu.set_defaults(func=_tune)

    sc = sub.add_parser("scan", help="read AWS accounts read-only into a snapshot directory (see "
                        "iam/workbook-readonly-policy.json for the permissions)")
    sc.add_argument("--profile", help="AWS profile(s), comma-separated (default: the standard credential chain)")
    sc.add_argument("--regions", help="regions, comma-separated, or 'all' (default: the profile's region)")
    sc.add_argument("--days", type=count(1, 455), default=14, help="lookback days of metrics and logs (1-455, default 14)")
    sc.add_argument("--out", required=True, help="snapshot directory to write, e.g. snapshots/prod")
    sc.add_argument("--force", action="store_true", help="replace --out if it exists")
    sc.add_argument("--no-roles", action="store_true", help="skip execution-role policies (IAM)")
    sc.add_argument("--no-s3", action="store_true", help="skip S3 bucket notifications")
    sc.add_argument("--no-insights", action="store_true", help="sample REPORT lines instead of Logs Insights")
    sc.add_argument("--max-insights-gb", type=number(0), default=50.0,
                    help="Logs Insights budget in GB scanned (estimated; default 50 = USD 0.25 in us-east-1)")
    sc.add_argument("--quiet", action="store_true", help="no progress bar")
    sc.set_defaults(func=_scan)

    tr = sub.add_parser("triggers", help="invocation sources: costs, semantics, findings").add_subparsers(
        dest="action", required=True)
    cmp_ = tr.add_parser("compare", help="price every invocation source for one workload (USD/month)")
    cmp_.add_argument("--events", type=number(0), default=10_000_000, help="events a month (default 10M)")
    cmp_.add_argument("--payload-kb", type=number(0), default=2.0, help="KB per event (default 2)")
    cmp_.add_argument("--duration-ms", type=number(0), default=120.0, help="ms of work per event (default 120)")
    cmp_.add_argument("--memory-mb", type=argtypes.memory_mb, default=512, help="function memory (default 512)")
    cmp_.add_argument("--no-wait", action="store_true", help="the caller does not wait for the result")
    cmp_.add_argument("--arch", default="x86_64", choices=("x86_64", "arm64"))
    cmp_.add_argument("--region", default="us-east-1")
    cmp_.add_argument("--batch-size", type=count(1, 10_000), default=1, help="events per batch for queues and streams")
    cmp_.add_argument("--window-s", type=number(0, 300), default=0.0, help="batching window in seconds")
    cmp_.add_argument("--overhead-ms", type=number(0), default=0.0, help="time per invocation that batching saves")
    cmp_.set_defaults(func=_triggers_compare)
    fnd = tr.add_parser("findings", help="invocation-source findings over a snapshot's functions")
    _snapshot_source(fnd)
    fnd.set_defaults(func=_triggers_findings)
    tr.add_parser("catalog", help="every source's semantics side by side").set_defaults(func=_triggers_catalog)

    rd = sub.add_parser("reads", help="read only what you need: S3 and DynamoDB read options, units, findings"
                        ).add_subparsers(dest="action", required=True)
    s3 = rd.add_parser("s3", help="rank the ways to read part of an S3 object (USD/month)")
    s3.add_argument("--object-mb", type=number(0, lo_open=True), required=True, help="object size in MB")
    s3.add_argument("--fraction", type=fraction(), required=True, help="share of the object the function uses (0-1)")
    s3.add_argument("--requests", type=number(0), required=True, help="reads a month")
    s3.add_argument("--format", default="csv", choices=("csv", "json", "parquet"))
    s3.add_argument("--layout-unknown", action="store_true", help="the byte offsets of the needed data are unknown")
    s3.add_argument("--select-customer", action="store_true", help="the account is an existing S3 Select customer")
    s3.add_argument("--transfer", default="same-region", choices=("same-region", "nat-gateway", "internet"))
    ddb = rd.add_parser("dynamodb", help="rank Scan, Query, Query on an index and BatchGetItem (USD/month)")
    ddb.add_argument("--table-items", type=number(0), required=True, help="items a Scan evaluates")
    ddb.add_argument("--items-needed", type=number(0), required=True, help="items one read needs")
    ddb.add_argument("--item-kb", type=number(0, 400), required=True, help="mean item size in KB")
    ddb.add_argument("--requests", type=number(0), required=True, help="reads a month")
    ddb.add_argument("--writes", type=number(0), default=0.0, help="table writes a month an index would absorb")
    ddb.add_argument("--consistency", default="eventual", choices=("eventual", "strong"))
    for p in (s3, ddb):
        p.add_argument("--memory-mb", type=argtypes.memory_mb, default=1024, help="function memory (default 1024)")
        p.add_argument("--arch", default="x86_64", choices=("x86_64", "arm64"))
        p.add_argument("--region", default="us-east-1")
        p.add_argument("--need", default="cost", choices=("cost", "latency", "bytes"), help="rank for (default cost)")
    s3.set_defaults(func=_reads_s3)
    ddb.set_defaults(func=_reads_dynamodb)
    un = rd.add_parser("units", help="DynamoDB read units of one read")
    un.add_argument("operation", help="get (GetItem/BatchGetItem), query or scan")
    un.add_argument("sizes_kb", type=number(0, 400), nargs="*", help="item sizes in KB (items evaluated; 0 = missing key)")
    un.add_argument("--consistency", default="strong", choices=("strong", "eventual", "transactional"))
    un.set_defaults(func=_reads_units)
    rf = rd.add_parser("findings", help="read findings over a snapshot's recorded calls")
    _snapshot_source(rf)
    rf.set_defaults(func=_reads_findings)

    cs = sub.add_parser("coldstarts", help="cold starts, INIT and provisioned concurrency: analysis, findings, "
                        "options").add_subparsers(dest="action", required=True)
    csa = cs.add_parser("analyse", help="modelled vs observed cold starts, INIT, p99 and billed INIT per function")
    csf = cs.add_parser("findings", help="cold-start, INIT and provisioned-concurrency findings")
    cso = cs.add_parser("options", help="on-demand vs provisioned concurrency vs SnapStart for one function")
    cso.add_argument("function", help="function name")
    cso.add_argument("--schedule", default="auto",
                     help="PC schedule to price: 'auto' (busy hours), '' (none) or like 'mon-fri 08-18 Europe/Berlin'")
    for p in (csa, csf, cso):
        _snapshot_source(p)
        p.add_argument("--keep-alive", default="measured-2025", type=argtypes.keep_alive, help="keep-alive scenario (measured-2025, measured-2021, seed, "
                       "fixed-10, 2017) or minutes")
        p.add_argument("--routing", default="auto", choices=("auto", "poisson", "peak"))
    csa.set_defaults(func=_coldstarts_analyse)
    csf.set_defaults(func=_coldstarts_findings)
    cso.set_defaults(func=_coldstarts_options)
    be = cs.add_parser("breakeven", help="provisioned-concurrency break-even utilisation from the price book")
    be.add_argument("--region", default="us-east-1")
    be.set_defaults(func=_coldstarts_breakeven)
    _debug_everywhere(ap)
    return ap


DEBUG_HELP = "on an error, print the full traceback before its one-line message"


def _debug_everywhere(p: argparse.ArgumentParser) -> None:
    """``--debug`` after any subcommand too (SUPPRESS: a subcommand without it keeps the top level's value)."""
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
                _debug_everywhere(sub)


def _reads_table(ranked) -> None:
    from . import reads

    with_pd_options(lambda: print(reads.view(ranked).drop(columns=["trade-off", "note"]).to_string()))
    print()
    for option, r in ranked.iterrows():
        print(f"{option}: {r['trade_off']}.\n    {r['note']}")


def _reads_s3(args: argparse.Namespace) -> int:
    from . import reads

    _reads_table(reads.rank(reads.s3_options(
        args.object_mb, args.fraction, args.requests, memory_mb=args.memory_mb, arch=args.arch, region=args.region,
        format=args.format, layout_known=not args.layout_unknown, select_customer=args.select_customer,
        transfer=args.transfer), need=args.need))
    return 0


def _reads_dynamodb(args: argparse.Namespace) -> int:
    from . import reads

    _reads_table(reads.rank(reads.dynamodb_options(
        args.table_items, args.items_needed, args.item_kb, args.requests, writes_per_month=args.writes,
        consistency=args.consistency, memory_mb=args.memory_mb, arch=args.arch, region=args.region), need=args.need))
    return 0


def _reads_units(args: argparse.Namespace) -> int:
    from . import reads

    r = reads.dynamodb_read(args.operation, args.sizes_kb, consistency=args.consistency)
    print(f"{r.read_units:g} read units ({r.consistency}) in {r.requests} call(s): {r.items_evaluated} items, "
          f"{r.kb_evaluated:,.4g} KB evaluated")
    return 0


def _reads_findings(args: argparse.Namespace) -> int:
    from . import reads, sources

    _print_findings(reads.findings(sources.load(args.source, snapshot_path=args.snapshot)),
                    ["id", "severity", "function", "monthly_impact_usd", "title"], "no read findings")
    return 0


def _coldstarts_table(args: argparse.Namespace):
    from . import coldstarts, sources

    snap = sources.load(args.source, snapshot_path=args.snapshot)
    keep = float(args.keep_alive) if args.keep_alive.replace(".", "", 1).isdigit() else args.keep_alive
    return snap, coldstarts.analyse(snap, keep_alive_min=keep, model=args.routing)


def _coldstarts_analyse(args: argparse.Namespace) -> int:
    from . import coldstarts

    snap, table = _coldstarts_table(args)
    with_pd_options(lambda: print(coldstarts.summary(snap, table, coldstarts.findings(snap, table=table)).to_string()
                                  + "\n\n" + coldstarts.view(table).to_string(index=False)))
    return 0


def _coldstarts_findings(args: argparse.Namespace) -> int:
    from . import coldstarts

    snap, table = _coldstarts_table(args)
    _print_findings(coldstarts.findings(snap, table=table), ["id", "severity", "function", "monthly_impact_usd", "title"])
    return 0


def _coldstarts_options(args: argparse.Namespace) -> int:
    from . import coldstarts

    snap, table = _coldstarts_table(args)
    detail = coldstarts.for_function(snap, args.function, table=table,
                                     schedule=coldstarts.schedule_parameter(args.schedule))
    with_pd_options(lambda: print(coldstarts.options_view(detail.options).to_string()))
    return 0


def _coldstarts_breakeven(args: argparse.Namespace) -> int:
    from . import billing, coldstarts

    for arch in billing.ARCHITECTURES:
        print(f"{arch}: provisioned concurrency pays above {coldstarts.pc_breakeven_utilization(arch=arch, region=args.region):.1%} utilisation")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:     # a bad option (its one line is printed), --help or --version
        return exc.code if isinstance(exc.code, int) else 0
    try:
        return args.func(args)
    except Exception as exc:      # every expected failure is one line; --debug adds the traceback
        code, line = failure(exc)
        if getattr(args, "debug", False):
            import traceback

            traceback.print_exc()
        print(f"lambda-workbook: error: {line}", file=sys.stderr)
        return code


#: errno values of an OSError that name a path the user gave (exit 2: change the path).
_PATH_ERRNOS = {"ENOENT", "EEXIST", "EISDIR", "ENOTDIR", "EACCES", "EPERM", "EROFS", "ENAMETOOLONG"}


def failure(exc: Exception) -> tuple[int, str]:
    """``(exit code, one line)`` for an exception that ends a command.

    2: usage and configuration (a bad value, a missing or unreadable file, AWS credentials, profile, region or
    permissions); 1: a failure at run time (AWS unreachable or failing, anything unexpected)."""
    import errno

    errors = sys.modules.get("lambda_workbook.sources.errors")   # loaded by whatever raised one of its errors
    if errors is not None and isinstance(exc, errors.AwsError):
        return exc.exit_code, _one_line(exc)
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        return 2, _one_line(exc.args[0])     # str(KeyError) would quote the message
    if isinstance(exc, ValueError | LookupError):
        return 2, _one_line(exc)
    if isinstance(exc, OSError) and exc.filename is not None and errno.errorcode.get(exc.errno) in _PATH_ERRNOS:
        return 2, _one_line(f"{exc.filename}: {exc.strerror or exc}")
    if isinstance(exc, FileExistsError | FileNotFoundError):
        return 2, _one_line(exc)
    if isinstance(exc, RuntimeError | OSError):
        return 1, _one_line(exc)
    return 1, _one_line(f"unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback)")


def _one_line(text) -> str:
    return " ".join(str(text).split()) or "(no message)"


if __name__ == "__main__":
    sys.exit(main())
