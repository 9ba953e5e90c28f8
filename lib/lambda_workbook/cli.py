"""``lambda-workbook``: a thin command line over the library (every subcommand is one library call)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__


def _review(args: argparse.Namespace) -> int:
    from . import report

    params = {"source": args.source, "snapshot_path": args.snapshot or "", "profile": args.profile or "",
              "region": args.region, "lookback_days": args.days, "top_n": args.top}
    path = report.account_review(args.out, progress=not args.quiet, **params)
    print(path.resolve())
    return 0


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

    session = None
    if args.profile:
        import boto3

        session = boto3.Session(profile_name=args.profile)
    path = pricelist.refresh(args.region, out_dir=args.out, progress=not args.quiet, session=session)
    print(pricelist.format_report(path))
    print(f"price snapshot written to {path}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from . import schema

    print(schema.markdown())
    return 0


def with_pd_options(fn) -> None:
    import pandas as pd

    with pd.option_context("display.max_rows", 500, "display.width", 200, "display.max_colwidth", 60):
        fn()


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="lambda-workbook", description="AWS Lambda cost and performance workbook")
    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    rv = sub.add_parser("review", help="run the account review headless and write an offline HTML report")
    rv.add_argument("--source", default="sample", choices=("sample", "snapshot", "aws"))
    rv.add_argument("--snapshot", help="snapshot directory (with --source snapshot)")
    rv.add_argument("--profile", help="AWS profile(s), comma-separated (with --source aws)")
    rv.add_argument("--region", default="all", help="'all', a region, or a comma-separated list")
    rv.add_argument("--days", type=int, default=14, help="lookback days (with --source aws)")
    rv.add_argument("--top", type=int, default=15, help="functions shown in the cost chart")
    rv.add_argument("--out", default="reports", help="output folder (default: reports)")
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

    sub.add_parser("schema", help="print the snapshot schema as Markdown").set_defaults(func=_schema)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, LookupError, FileNotFoundError, FileExistsError) as exc:
        print(f"lambda-workbook: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
