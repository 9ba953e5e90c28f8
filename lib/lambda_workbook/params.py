"""Notebook parameters: one declared spec per notebook, checked before any work starts.

A notebook's ``parameters`` cell holds plain values (papermill overrides them); its first call passes them
to :func:`check`, which fails fast with an error naming the parameter, the bad value and what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from .sources import SOURCES

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


class ParameterError(ValueError):
    """A notebook parameter has a value the notebook cannot use."""


@dataclass(frozen=True)
class Param:
    kind: type
    doc: str
    choices: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None


COMMON = {
    "source": Param(str, "where account data comes from", choices=SOURCES),
    "snapshot_path": Param(str, "snapshot directory when source is 'snapshot'"),
    "profile": Param(str, "AWS profile(s), comma-separated, when source is 'aws' ('' = default credentials)"),
    "region": Param(str, "a region code, a comma-separated list, or 'all'"),
    "lookback_days": Param(int, "days of metrics and logs to read", minimum=1, maximum=455),
    "results_path": Param(str, "where to write this notebook's results JSON ('' = nowhere)"),
}

SPECS: dict[str, dict[str, Param]] = {
    "account_review": {**COMMON, "top_n": Param(int, "functions shown in the cost chart", minimum=1, maximum=500)},
}


def _check_one(notebook: str, name: str, spec: Param, value: Any) -> Any:
    where = f"{notebook} parameter {name!r}"
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if spec.kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, spec.kind) or (spec.kind is not bool and isinstance(value, bool)):
        raise ParameterError(f"{where} must be {spec.kind.__name__} ({spec.doc}); got {value!r}")
    if spec.choices is not None and value not in spec.choices:
        allowed = ", ".join(repr(c) for c in spec.choices)
        raise ParameterError(f"{where} must be one of {allowed}; got {value!r}")
    if spec.minimum is not None and value < spec.minimum:
        raise ParameterError(f"{where} must be >= {spec.minimum:g} ({spec.doc}); got {value!r}")
    if spec.maximum is not None and value > spec.maximum:
        raise ParameterError(f"{where} must be <= {spec.maximum:g} ({spec.doc}); got {value!r}")
    return value


def _regions(notebook: str, value: str) -> list[str] | None:
    if value.strip().lower() in ("", "all"):
        return None
    regions = [r.strip() for r in value.split(",") if r.strip()]
    for r in regions:
        if not _REGION.match(r):
            raise ParameterError(f"{notebook} parameter 'region' must be 'all' or region codes like 'us-east-1' "
                                 f"(comma-separated); got {r!r}")
    return regions


def check(notebook: str, **values: Any) -> SimpleNamespace:
    """Validate a notebook's parameters; returns them as attributes (plus parsed ``regions``/``profiles``)."""
    if notebook not in SPECS:
        raise ParameterError(f"unknown notebook {notebook!r}; known: {', '.join(SPECS)}")
    spec = SPECS[notebook]
    unknown = set(values) - set(spec)
    if unknown:
        raise ParameterError(f"{notebook} has no parameter(s) {sorted(unknown)}; it takes {', '.join(spec)}")
    missing = set(spec) - set(values)
    if missing:
        raise ParameterError(f"{notebook} is missing parameter(s) {sorted(missing)}")
    out = {name: _check_one(notebook, name, spec[name], values[name]) for name in spec}
    if "region" in out:
        out["regions"] = _regions(notebook, out["region"])
    if "profile" in out:
        out["profiles"] = [p.strip() for p in out["profile"].split(",") if p.strip()] or None
    if out.get("source") == "snapshot" and not out.get("snapshot_path"):
        raise ParameterError(f"{notebook} parameter 'snapshot_path' is required when source is 'snapshot'")
    return SimpleNamespace(**out)


def describe(notebook: str) -> str:
    """The parameters of a notebook as Markdown (for the README and ``--help``)."""
    lines = ["| parameter | type | allowed | meaning |", "|---|---|---|---|"]
    for name, p in SPECS[notebook].items():
        allowed = ", ".join(map(repr, p.choices)) if p.choices else (
            f"{p.minimum:g}–{p.maximum:g}" if p.minimum is not None and p.maximum is not None else "")
        lines.append(f"| `{name}` | {p.kind.__name__} | {allowed} | {p.doc} |")
    return "\n".join(lines)
