"""The settings :func:`~lambda_workbook.reads.s3_options` and :func:`~lambda_workbook.reads.dynamodb_options`
share, held once: the function's memory and architecture, its region and prices, and how it moves and parses
bytes."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .. import prices as _prices
from .limits import BASELINE_MB, EXPANSION, PARSE_MS_PER_MB, ReadsError
from .network import Network


@dataclass(frozen=True)
class Setting:
    """Shared keywords of the options tables. Pass it as ``setting=``; the defaults are the functions' own.

    A keyword the call leaves at its default takes the setting's value; a keyword given another value
    overrides the setting (so :func:`~lambda_workbook.reads.sweep` can vary ``memory_mb`` under one setting).
    The values are checked where they are used, with the same messages as the keywords.

    >>> Setting(memory_mb=512, arch="arm64").merge(memory_mb=1024, arch="x86_64")["memory_mb"]
    512
    >>> Setting(memory_mb=512).merge(memory_mb=2048)["memory_mb"]
    2048
    """

    memory_mb: float = 1024
    arch: str = "x86_64"
    region: str | None = None      # None: the book's (or pricing's only) region, else us-east-1
    transfer: str = "same-region"
    network: Network | None = None
    parse_ms_per_mb: float = PARSE_MS_PER_MB
    baseline_mb: float = BASELINE_MB
    expansion: float = EXPANSION
    book: _prices.PriceBook | None = field(default=None, hash=False)   # a price book holds dicts: not hashable
    pricing: _prices.Pricing | None = field(default=None, hash=False)

    def merge(self, **keywords: Any) -> dict[str, Any]:
        """The values a call uses: each field's keyword when it differs from the default, else the setting's."""
        unknown = set(keywords) - {f.name for f in fields(self)}
        if unknown:
            raise TypeError(f"Setting has no field(s) {sorted(unknown)}")
        out = {}
        for f in fields(self):
            given = keywords.get(f.name, f.default)
            at_default = given is f.default or (given is not None and f.default is not None and given == f.default)
            out[f.name] = getattr(self, f.name) if at_default else given
        return out


def resolve(setting: Setting | None, **keywords: Any) -> dict[str, Any]:
    """The shared keywords of one call, with ``setting`` (when given) filling those left at their defaults."""
    if setting is None:
        return keywords
    if not isinstance(setting, Setting):
        raise ReadsError(f"setting must be a reads.Setting or None, got {setting!r}")
    return setting.merge(**keywords)
