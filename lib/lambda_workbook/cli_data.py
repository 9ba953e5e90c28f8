"""``lambda-workbook`` commands that build or read data: the review pack, the sample account, a scan, the price
book, the INIT priors and the snapshot schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import argtypes
from .argtypes import count, number
from .cli_common import with_pd_options


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


def _sample_replicate(args: argparse.Namespace) -> int:
    from .sample import replicate

    out = Path(args.out)
    if out.exists() and not args.force:
        raise FileExistsError(f"{out} exists; pass --force to replace it")
    options = {k: tuple(v.split(",")) for k in ("accounts", "regions") if (v := getattr(args, k))}
    path = replicate.replicate(args.functions, out, days=args.days, seed=args.seed, **options)
    print(f"{args.functions} functions written to {path} (Parquet)")
    return 0


def _prices_show(args: argparse.Namespace) -> int:
    from . import prices

    book = prices.context(args.region).book(args.region)
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
    from .sources import pricelist_fetch

    path = pricelist_fetch.refresh(args.region, out_dir=args.out, progress=not args.quiet, profile=args.profile)
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
    from . import executors

    with executors.open(args.executor or "local") as executor:
        snap = aws.scan(profiles=args.profile, regions=args.regions, lookback_days=args.days,
                        progress=not args.quiet, roles=not args.no_roles, s3=not args.no_s3,
                        insights=not args.no_insights, insights_budget_gb=args.max_insights_gb,
                        org_role=args.org_role, external_id=args.external_id, executor=executor)
    path = sources.save(snap, out, format=args.format)
    f, ev = snap.functions, snap.evidence
    print(f"snapshot written to {path}: {len(f)} functions in {len(snap.accounts)} account(s), "
          f"{len(snap.regions)} region(s), {snap.manifest['start'][:10]} to {snap.manifest['end'][:10]}")
    if len(ev):
        print(f"evidence notes: {len(ev)} (missing {int((ev['status'] == 'missing').sum())}, sampled "
              f"{int((ev['status'] == 'sampled').sum())}); see {path / 'evidence.csv'}")
    for gap in aws.org_gaps(snap):
        print(f"gap: {gap}")
    print(aws.format_cost(snap.manifest["scan_cost"]))
    return 0


def _schema(args: argparse.Namespace) -> int:
    from . import schema

    print(schema.markdown())
    return 0


def add_review(sub) -> None:
    """``review``: the review pack."""
    rv = sub.add_parser("review", help="the review pack: findings ranked by dollars plus account reviews and "
                        "per-function deep dives run headless, as offline HTML (<out>/<run>/index.html)")
    rv.add_argument("--config", help="YAML file of these options (keys as below, plus 'thresholds' and "
                    "'module_thresholds'); command-line options win")
    rv.add_argument("--source", choices=("sample", "snapshot", "aws"), help="account data (default: sample)")
    rv.add_argument("--snapshot", help="snapshot directory (with --source snapshot)")
    rv.add_argument("--profile", help="AWS profile(s), comma-separated (with --source aws)")
    rv.add_argument("--org-role", dest="org_role", help="with --source aws: review every ACTIVE account of the "
                    "profile's AWS Organization through this IAM role name in each (see scan --help)")
    rv.add_argument("--external-id", dest="external_id", help="ExternalId the --org-role roles' trust policy asks for")
    rv.add_argument("--region", help="'all' (default), a region, or a comma-separated list")
    rv.add_argument("--days", type=count(1, 455), help="lookback days (with --source aws; default 14)")
    rv.add_argument("--top", type=count(0), help="functions to deep-dive (default 10; 0 = every match of --functions)")
    rv.add_argument("--rank-by", dest="rank_by", choices=("impact", "cost"),
                    help="pick those functions by finding impact (default) or by cost")
    rv.add_argument("--functions", help="deep-dive functions matching these globs, comma-separated (e.g. 'orders-*')")
    rv.add_argument("--deep-dives", dest="deep_dives", help="'relevant' (default: where each has something to "
                    "show), 'all', 'none', or notebook names, comma-separated")
    rv.add_argument("--workers", type=count(0), help="processes for the notebooks and for the per-function models of "
                    "a big columnar snapshot (default: the machine's cores; 1 = this process)")
    rv.add_argument("--executor", type=argtypes.executor, help="where the work runs: 'local' (default: this "
                    "machine), 'dask-local[:N]' (a Dask LocalCluster of N workers here) or 'dask://HOST:PORT' (a "
                    "running Dask scheduler; one task per account and region, one per notebook). Workers need "
                    "lambda-workbook installed, not the snapshot or --out: the data goes to them with the tasks "
                    "and the pages come back as bytes, written here (needs the extra: "
                    "pip install 'lambda-workbook[cluster]')")
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


def add_sample(sub) -> None:
    """``sample generate``."""
    sm = sub.add_parser("sample", help="the embedded sample account").add_subparsers(dest="action", required=True)
    gen = sm.add_parser("generate", help="regenerate data/sample-account deterministically")
    gen.add_argument("--out", help="output directory (default: the bundled data/sample-account)")
    gen.set_defaults(func=_sample_generate)
    rep = sm.add_parser("replicate", help="write an N-function Parquet snapshot made of renamed copies of the "
                        "sample's functions (for scale tests)")
    rep.add_argument("--functions", type=count(1), required=True, help="functions to write (e.g. 10000)")
    rep.add_argument("--out", required=True, help="snapshot directory to write")
    rep.add_argument("--days", type=count(1, 14), default=14, help="days of metrics kept (1-14, default 14)")
    rep.add_argument("--accounts", help="12-digit account ids, comma-separated (default: five synthetic ids)")
    rep.add_argument("--regions", help="regions, comma-separated (default: us-east-1, the priced region)")
    rep.add_argument("--seed", type=count(0), default=0, help="perturbation seed (default 0)")
    rep.add_argument("--force", action="store_true", help="replace --out if it exists")
    rep.set_defaults(func=_sample_replicate)


def add_prices(sub) -> None:
    """``prices show | regions | refresh``."""
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


def add_priors(sub) -> None:
    """``priors refresh``."""
    ip = sub.add_parser("priors", help="INIT duration priors").add_subparsers(dest="action", required=True)
    ipr = ip.add_parser("refresh", help="fit a new dated INIT priors file on lambda-perf's daily cold starts")
    ipr.add_argument("--months", type=argtypes.months, default=24, help="months fitted, ending with --until (default 24)")
    ipr.add_argument("--until", help="last month fitted, YYYY-MM (default: this month)")
    ipr.add_argument("--out", help="priors folder (default: the bundled data/coldstarts/init-priors)")
    ipr.add_argument("--from-csv", dest="from_csv", help="fit lambda-perf's per-sample table (as in "
                     "data/measurements/lambda-perf-2022-2025) instead of downloading the daily files")
    ipr.set_defaults(func=_priors_refresh)


def add_schema(sub) -> None:
    """``schema``."""
    sub.add_parser("schema", help="print the snapshot schema as Markdown").set_defaults(func=_schema)


def add_scan(sub) -> None:
    """``scan``: a read-only AWS scan into a snapshot directory."""
    sc = sub.add_parser("scan", help="read AWS accounts read-only into a snapshot directory (see "
                        "iam/workbook-readonly-policy.json for the permissions)")
    sc.add_argument("--profile", help="AWS profile(s), comma-separated (default: the standard credential chain)")
    sc.add_argument("--org-role", dest="org_role", help="scan every ACTIVE account of the profile's AWS Organization "
                    "(organizations:ListAccounts) through this IAM role name in each (sts:AssumeRole, session "
                    "lambda-workbook-review); an account whose role cannot be assumed is listed as a gap")
    sc.add_argument("--external-id", dest="external_id", help="ExternalId the --org-role roles' trust policy asks for")
    sc.add_argument("--executor", type=argtypes.executor, help="'local' (default: a thread pool here), "
                    "'dask-local[:N]' or 'dask://HOST:PORT': each account and region a task on a Dask cluster, whose "
                    "workers need the same AWS profiles (or credentials allowed to assume --org-role) and network "
                    "access to AWS (pip install 'lambda-workbook[cluster]')")
    sc.add_argument("--regions", help="regions, comma-separated, or 'all' (default: the profile's region)")
    sc.add_argument("--days", type=count(1, 455), default=14, help="lookback days of metrics and logs (1-455, default 14)")
    sc.add_argument("--out", required=True, help="snapshot directory to write, e.g. snapshots/prod")
    sc.add_argument("--force", action="store_true", help="replace --out if it exists")
    sc.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="snapshot layout: parquet "
                    "(default: per-minute metrics and REPORT samples as partitioned Parquet, read lazily) or csv")
    sc.add_argument("--no-roles", action="store_true", help="skip execution-role policies (IAM)")
    sc.add_argument("--no-s3", action="store_true", help="skip S3 bucket notifications")
    sc.add_argument("--no-insights", action="store_true", help="sample REPORT lines instead of Logs Insights")
    sc.add_argument("--max-insights-gb", type=number(0), default=50.0,
                    help="Logs Insights budget in GB scanned (estimated; default 50 = USD 0.25 in us-east-1)")
    sc.add_argument("--quiet", action="store_true", help="no progress bar")
    sc.set_defaults(func=_scan)
