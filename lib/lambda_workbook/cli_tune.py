"""``lambda-workbook tune``: measure one function at a few memory sizes (the AWS side is
:mod:`lambda_workbook.sources.aws_invoker`)."""

from __future__ import annotations

import argparse
import sys

from .argtypes import count, fraction, number
from .cli_common import with_pd_options


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


def add_tune(sub) -> None:
    """``tune``: its options."""
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
