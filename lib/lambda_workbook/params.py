"""Notebook parameters: declared in each notebook's ``parameters`` cell, checked before any work starts.

A notebook's ``parameters`` cell is the only declaration of its parameters: their names, defaults, types (the
default's) and meanings (the comment beside each) are read from it (:mod:`lambda_workbook.notebook_parameters`,
which reads the cell as papermill's inspection does). This module keeps only what a cell cannot say: the values a
parameter allows (choices, ranges, a format) and what a choice means (:class:`Rule`). The notebook's first call,
``p, snap = params.open("memory", globals())``, checks every declared parameter (papermill's values, or the
cell's) and fails fast with one line naming the parameter, the bad value and what is allowed; then it loads the
snapshot. :func:`check` does the same from keyword arguments.

Importing this module is cheap: a notebook's spec is built the first time it is asked for (:data:`SPECS`), which
reads its notebook and imports the model that owns its choices.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any


class ParameterError(ValueError):
    """A notebook parameter has a value the notebook cannot use."""

    def _render_traceback_(self) -> list[str]:
        """IPython shows these lines instead of a traceback: the message is the whole story."""
        return [f"{type(self).__name__}: {self}"]


@dataclass(frozen=True)
class Param:
    """A checked parameter: its type and meaning from the ``parameters`` cell, its limits from a :class:`Rule`."""

    kind: type
    doc: str
    choices: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    default: Any = None
    means: Mapping[str, str] | None = None
    allowed: str = ""
    parse: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Rule:
    """What a ``parameters`` cell cannot say about a parameter: the ``choices`` it allows (and what some of them
    ``means``), its ``minimum``/``maximum``, ``allowed`` in words, and ``parse``, which raises ``ValueError`` for a
    value of the right type but the wrong form."""

    choices: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    means: Mapping[str, str] | None = None
    allowed: str = ""
    parse: Callable[[Any], Any] | None = None


def _common() -> dict[str, Rule]:
    """The rules of the parameters every notebook declares (``COMMON``)."""
    from .sources import SOURCES

    return {
        "source": Rule(choices=SOURCES, means={"sample": "the embedded sample account",
                                               "snapshot": "the snapshot directory in snapshot_path",
                                               "aws": "a read-only scan of the account"}),
        "region": Rule(allowed="'all' or region codes like 'us-east-1', comma-separated"),
        "lookback_days": Rule(minimum=1, maximum=455),
    }


#: Parameters a notebook may be given without declaring them (the review pack sets them), with their defaults.
OPTIONAL: dict[str, tuple[Param, Any]] = {
    "analysis_path": (Param(str, "analysis bundle written by lambda-workbook review ('' = compute in the notebook)",
                            default=""), ""),
}


def _account_review_rules() -> dict[str, Rule]:
    return {**_common(), "top_n": Rule(minimum=1, maximum=500), "table_rows": Rule(minimum=1, maximum=2000)}


def _invocation_sources_rules() -> dict[str, Rule]:
    from .billing import ARCHITECTURES, MEMORY_RANGE_MB
    from .triggers import load_catalog

    return {
        **_common(),
        "events_per_month": Rule(minimum=0),
        "payload_kb": Rule(minimum=0, maximum=1_048_576),
        "duration_ms": Rule(minimum=0, maximum=900_000),
        "memory_mb": Rule(minimum=MEMORY_RANGE_MB[0], maximum=MEMORY_RANGE_MB[1]),
        "arch": Rule(choices=ARCHITECTURES),
        "batch_size": Rule(minimum=1, maximum=10_000),
        "batch_window_s": Rule(minimum=0, maximum=300),
        "invocation_overhead_ms": Rule(minimum=0),
        "batch_source": Rule(choices=tuple(load_catalog().batching_ids())),
        "max_batch_wait_s": Rule(minimum=0, maximum=300),
    }


def _read_what_you_need_rules() -> dict[str, Rule]:
    from .billing import ARCHITECTURES, MEMORY_RANGE_MB
    from .reads import FORMATS, NEEDS, TRANSFERS

    return {
        **_common(),
        "need": Rule(choices=tuple(NEEDS), means={"cost": "cheapest a month", "latency": "fastest",
                                                  "bytes": "fewest bytes moved"}),
        "memory_mb": Rule(minimum=MEMORY_RANGE_MB[0], maximum=MEMORY_RANGE_MB[1]),
        "arch": Rule(choices=ARCHITECTURES),
        "object_mb": Rule(minimum=0.001),
        "fraction_needed": Rule(minimum=0, maximum=1),
        "reads_per_month": Rule(minimum=0),
        "file_format": Rule(choices=FORMATS),
        "transfer": Rule(choices=tuple(TRANSFERS)),
        "table_items": Rule(minimum=0),
        "items_needed": Rule(minimum=0),
        "item_kb": Rule(minimum=0, maximum=400),
        "needed_kb": Rule(minimum=0, maximum=400),
        "consistency": Rule(choices=("eventual", "strong")),
        "db_reads_per_month": Rule(minimum=0),
        "writes_per_month": Rule(minimum=0),
        "network_mb_s": Rule(minimum=0.1, maximum=10_000),
        "network_exponent": Rule(minimum=0, maximum=2),
        "parse_ms_per_mb": Rule(minimum=0, maximum=10_000),
    }


def _schedule(value: str) -> Any:
    from .coldstarts import schedule_parameter

    return schedule_parameter(value)


def _cold_starts_rules() -> dict[str, Rule]:
    from .coldstarts import MODELS, SCENARIOS

    return {
        **_common(),
        "keep_alive": Rule(choices=tuple(SCENARIOS)),
        "routing": Rule(choices=("auto", *MODELS),
                        means={"auto": "the model closer to the cold starts the REPORT lines show"}),
        "pc_schedule": Rule(allowed="'auto', '' or like 'mon-fri 08-18 Europe/Berlin'", parse=_schedule),
        "top_n": Rule(minimum=1, maximum=500),
    }


def _memory_rules() -> dict[str, Rule]:
    from .memory import STRATEGIES

    return {
        **_common(),
        "strategy": Rule(choices=STRATEGIES),
        "latency_slo_ms": Rule(minimum=0),
        "max_slowdown": Rule(minimum=0, maximum=10),
        "cost_tolerance": Rule(minimum=0, maximum=5),
        "balanced_weight": Rule(minimum=0, maximum=1),
        "headroom": Rule(minimum=0, maximum=5),
        "confidence": Rule(minimum=0.5, maximum=0.999),
        "top_n": Rule(minimum=1, maximum=500),
    }


#: Notebook name -> the rules of its parameters (the limits its ``parameters`` cell cannot state).
RULES: dict[str, Callable[[], dict[str, Rule]]] = {
    "account_review": _account_review_rules, "invocation_sources": _invocation_sources_rules,
    "read_what_you_need": _read_what_you_need_rules, "cold_starts": _cold_starts_rules, "memory": _memory_rules}


def declared(notebook: str) -> dict[str, Any]:
    """What the notebook's ``parameters`` cell declares: name -> ``Declared(name, kind, default, comment)``."""
    from .notebook_parameters import declared as read

    return read(notebook)


def _spec(notebook: str, rules: dict[str, Rule]) -> dict[str, Param]:
    out = {}
    for name, d in declared(notebook).items():
        if name in OPTIONAL:
            continue
        r = rules.get(name, Rule())
        out[name] = Param(d.kind, d.comment, r.choices, r.minimum, r.maximum, d.default, r.means, r.allowed, r.parse)
    return out


class _Specs(Mapping):
    """Notebook name -> its parameters (the ``parameters`` cell's declarations with their rules); the rules are
    built on first use and kept, the cell is read again when its notebook changes."""

    def __init__(self, builders: dict[str, Callable[[], dict[str, Rule]]]):
        self._builders, self._rules = builders, {}

    def rules(self, name: str) -> dict[str, Rule]:
        if name not in self._rules:
            self._rules[name] = self._builders[name]()
        return self._rules[name]

    def __getitem__(self, name: str) -> dict[str, Param]:
        return _spec(name, self.rules(name))

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)


SPECS: _Specs = _Specs(RULES)


def __getattr__(name: str) -> Any:
    if name == "COMMON":
        spec = SPECS["account_review"]
        return {k: spec[k] for k in ("source", "snapshot_path", "profile", "region", "lookback_days", "results_path")}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    if spec.parse is not None:
        try:
            spec.parse(value)
        except ValueError as exc:
            raise ParameterError(str(exc) if where in str(exc) else f"{where}: {exc}") from None
    return value


def parse_regions(notebook: str, value: str) -> list[str] | None:
    """The region codes in a comma-separated ``region`` parameter (None for 'all' or empty)."""
    from .prices import REGION

    if value.strip().lower() in ("", "all"):
        return None
    regions = [r.strip() for r in value.split(",") if r.strip()]
    for r in regions:
        if not REGION.match(r):
            raise ParameterError(f"{notebook} parameter 'region' must be 'all' or region codes like 'us-east-1' "
                                 f"(comma-separated); got {r!r}")
    return regions


_regions = parse_regions  # the earlier private name


def check(notebook: str, **values: Any) -> SimpleNamespace:
    """Validate a notebook's parameters; returns them as attributes (plus parsed ``regions``/``profiles``)."""
    if notebook not in SPECS:
        raise ParameterError(f"unknown notebook {notebook!r}; known: {', '.join(SPECS)}")
    spec = SPECS[notebook]
    extra = {k: values.pop(k) for k in list(values) if k in OPTIONAL and k not in spec}
    unknown = set(values) - set(spec)
    if unknown:
        raise ParameterError(f"{notebook} has no parameter(s) {sorted(unknown)}; it takes {', '.join(spec)}")
    missing = set(spec) - set(values)
    if missing:
        raise ParameterError(f"{notebook} is missing parameter(s) {sorted(missing)}")
    out = {name: _check_one(notebook, name, spec[name], values[name]) for name in spec}
    out.update({name: _check_one(notebook, name, p, extra.get(name, default)) for name, (p, default) in OPTIONAL.items()
                if name not in spec})
    if "region" in out:
        out["regions"] = parse_regions(notebook, out["region"])
    if "profile" in out:
        out["profiles"] = [p.strip() for p in out["profile"].split(",") if p.strip()] or None
    if "account" in out:
        out["accounts"] = None if out["account"].strip().lower() in ("", "all") else [
            a.strip() for a in out["account"].split(",") if a.strip()]
    if out.get("source") == "snapshot" and not out.get("snapshot_path"):
        raise ParameterError(f"{notebook} parameter 'snapshot_path' is required when source is 'snapshot'")
    return SimpleNamespace(**out)


def from_namespace(notebook: str, namespace: Mapping[str, Any]) -> SimpleNamespace:
    """:func:`check` of every parameter the notebook's ``parameters`` cell declares, with its value taken from
    ``namespace`` (a notebook's ``globals()``: the cell's values, or those papermill injected after it). The
    declaration is the bundled notebook's of that name (:func:`lambda_workbook.datafiles.notebooks_dir`), read
    again when the file changes: a copy with other parameters is checked against the bundled one."""
    if notebook not in SPECS:
        raise ParameterError(f"unknown notebook {notebook!r}; known: {', '.join(SPECS)}")
    return check(notebook, **{name: namespace[name] for name in declared(notebook) if name in namespace})


def open(notebook: str, namespace: Mapping[str, Any]) -> tuple[SimpleNamespace, Any]:  # noqa: A001
    """A notebook's first call: checks its parameters from ``namespace`` (:func:`from_namespace`), then loads the
    snapshot they name (:func:`lambda_workbook.analysis.snapshot`, restricted to ``p.regions`` and, where the
    notebook declares ``account``, to ``p.accounts``). Returns ``(p, snap)``; ``p.pricing`` is the snapshot's
    pricing context (:func:`lambda_workbook.prices.for_snapshot`), built once here for the notebook's calls."""
    p = from_namespace(notebook, namespace)
    from .analysis import snapshot
    from .prices import for_snapshot

    snap = snapshot(p, accounts=getattr(p, "accounts", None))
    p.pricing = for_snapshot(snap)
    return p, snap


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,g}"


def _allowed(p: Param) -> str:
    if p.choices:
        return ", ".join(f"`{c!r}`" + (f" ({p.means[c]})" if p.means and c in p.means else "") for c in p.choices)
    if p.allowed:
        return p.allowed
    if p.minimum is not None and p.maximum is not None:
        return f"{_number(p.minimum)}–{_number(p.maximum)}"
    if p.minimum is not None:
        return f"≥ {_number(p.minimum)}"
    return f"≤ {_number(p.maximum)}" if p.maximum is not None else ""


def describe(notebook: str) -> str:
    """The parameters of a notebook as a Markdown table: name, type and default and meaning from its
    ``parameters`` cell, what is allowed from its rules (the README's tables are this text)."""
    lines = ["| parameter | type | default | allowed | meaning |", "|---|---|---|---|---|"]
    cell = declared(notebook)
    optional = {k: Param(cell[k].kind, cell[k].comment, default=cell[k].default) if k in cell else p
                for k, (p, _) in OPTIONAL.items() if k not in SPECS[notebook]}
    for name, p in {**SPECS[notebook], **optional}.items():
        meaning = p.doc.replace("|", "\\|")
        lines.append(f"| `{name}` | {p.kind.__name__} | `{p.default!r}` | {_allowed(p)} | {meaning} |")
    return "\n".join(lines)


_BLOCK = re.compile(r"(<!-- parameters: (?P<nb>\w+) -->\n)(?:(?!<!-- end parameters -->).)*?(<!-- end parameters -->)",
                    re.S)


def readme_tables(text: str) -> str:
    """``text`` with every block between ``<!-- parameters: NOTEBOOK -->`` and ``<!-- end parameters -->``
    replaced by :func:`describe` of that notebook (``python -m lambda_workbook.params README.md`` rewrites it)."""
    return _BLOCK.sub(lambda m: m.group(1) + describe(m.group("nb")) + "\n" + m.group(3), text)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    for arg in sys.argv[1:]:
        path = Path(arg)
        path.write_text(readme_tables(path.read_text(encoding="utf-8")), encoding="utf-8")
