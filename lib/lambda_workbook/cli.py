"""``lambda-workbook``: a thin command line over the library (every subcommand is one library call).

The subcommands live by job in :mod:`.cli_data` (review, sample, prices, priors, schema, scan),
:mod:`.cli_tune` (tune) and :mod:`.cli_models` (triggers, reads, coldstarts); this module builds the parser,
runs a command and turns a failure into one line and an exit code.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__, cli_data, cli_models, cli_tune
from .cli_common import with_pd_options

__all__ = ["DEBUG_HELP", "failure", "main", "parser", "with_pd_options"]


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error: the option, the value and what is allowed (``--help`` for the rest)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="lambda-workbook", description="AWS Lambda cost and performance workbook")
    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    ap.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = ap.add_subparsers(dest="command", required=True)

    cli_data.add_review(sub)
    cli_data.add_sample(sub)
    cli_data.add_prices(sub)
    cli_data.add_priors(sub)
    cli_data.add_schema(sub)
    cli_tune.add_tune(sub)
    cli_data.add_scan(sub)
    cli_models.add_triggers(sub)
    cli_models.add_reads(sub)
    cli_models.add_coldstarts(sub)
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
