"""What the ``lambda-workbook`` subcommands share: pandas display options, a findings table, snapshot options."""

from __future__ import annotations

import argparse


def with_pd_options(fn) -> None:
    import pandas as pd

    with pd.option_context("display.max_rows", 500, "display.width", 200, "display.max_colwidth", 60):
        fn()


def print_findings(found, cols: list[str], empty: str = "no findings") -> None:
    with_pd_options(lambda: print(found[cols].round(2).to_string(index=False) if len(found) else empty))


def snapshot_source(p: argparse.ArgumentParser) -> None:
    """The options of a subcommand that reads the sample account or a saved snapshot."""
    p.add_argument("--source", default="sample", choices=("sample", "snapshot"))
    p.add_argument("--snapshot", help="snapshot directory (with --source snapshot)")
