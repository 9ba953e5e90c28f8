"""``lambda-workbook`` commands over the models: invocation sources, reads and cold starts."""

from __future__ import annotations

import argparse

from . import argtypes
from .argtypes import count, fraction, number
from .cli_common import print_findings, snapshot_source, with_pd_options


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
    print_findings(triggers.findings(snap), ["id", "function_name", "monthly_impact_usd", "title"])
    return 0


def _triggers_catalog(args: argparse.Namespace) -> int:
    from . import triggers

    cols = ["name", "invocation", "caller waits", "payload limit", "batching", "ordering", "on failure"]
    with_pd_options(lambda: print(triggers.semantics()[cols].to_string()))
    return 0


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

    print_findings(reads.findings(sources.load(args.source, snapshot_path=args.snapshot)),
                    ["id", "severity", "function_name", "monthly_impact_usd", "title"], "no read findings")
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
    print_findings(coldstarts.findings(snap, table=table), ["id", "severity", "function_name", "monthly_impact_usd", "title"])
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


def add_triggers(sub) -> None:
    """``triggers compare | findings | catalog``."""
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
    snapshot_source(fnd)
    fnd.set_defaults(func=_triggers_findings)
    tr.add_parser("catalog", help="every source's semantics side by side").set_defaults(func=_triggers_catalog)


def add_reads(sub) -> None:
    """``reads s3 | dynamodb | units | findings``."""
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
    snapshot_source(rf)
    rf.set_defaults(func=_reads_findings)


def add_coldstarts(sub) -> None:
    """``coldstarts analyse | findings | options | breakeven``."""
    cs = sub.add_parser("coldstarts", help="cold starts, INIT and provisioned concurrency: analysis, findings, "
                        "options").add_subparsers(dest="action", required=True)
    csa = cs.add_parser("analyse", help="modelled vs observed cold starts, INIT, p99 and billed INIT per function")
    csf = cs.add_parser("findings", help="cold-start, INIT and provisioned-concurrency findings")
    cso = cs.add_parser("options", help="on-demand vs provisioned concurrency vs SnapStart for one function")
    cso.add_argument("function", help="function name")
    cso.add_argument("--schedule", default="auto",
                     help="PC schedule to price: 'auto' (busy hours), '' (none) or like 'mon-fri 08-18 Europe/Berlin'")
    for p in (csa, csf, cso):
        snapshot_source(p)
        p.add_argument("--keep-alive", default="measured-2025", type=argtypes.keep_alive, help="keep-alive scenario (measured-2025, measured-2021, seed, "
                       "fixed-10, 2017) or minutes")
        p.add_argument("--routing", default="auto", choices=("auto", "poisson", "peak"))
    csa.set_defaults(func=_coldstarts_analyse)
    csf.set_defaults(func=_coldstarts_findings)
    cso.set_defaults(func=_coldstarts_options)
    be = cs.add_parser("breakeven", help="provisioned-concurrency break-even utilisation from the price book")
    be.add_argument("--region", default="us-east-1")
    be.set_defaults(func=_coldstarts_breakeven)
