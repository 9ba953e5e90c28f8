"""Notebook parameters: one declared spec per notebook, checked before any work starts.

A notebook's ``parameters`` cell holds plain values (papermill overrides them); its first call passes them
to :func:`check`, which fails fast with an error naming the parameter, the bad value and what is allowed.

Importing this module is cheap: a notebook's spec is built the first time it is asked for (:data:`SPECS`), which
imports the model that owns its choices.
"""

from __future__ import annotations

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
    kind: type
    doc: str
    choices: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None


def _common() -> dict[str, Param]:
    """The parameters every notebook declares (``COMMON``)."""
    from .sources import SOURCES

    return {
        "source": Param(str, "where account data comes from", choices=SOURCES),
        "snapshot_path": Param(str, "snapshot directory when source is 'snapshot'"),
        "profile": Param(str, "AWS profile(s), comma-separated, when source is 'aws' ('' = default credentials)"),
        "region": Param(str, "a region code, a comma-separated list, or 'all'"),
        "lookback_days": Param(int, "days of metrics and logs to read", minimum=1, maximum=455),
        "results_path": Param(str, "where to write this notebook's results JSON ('' = nowhere)"),
    }


#: Parameters a notebook may be given without declaring them (the review pack sets them), with their defaults.
OPTIONAL: dict[str, tuple[Param, Any]] = {
    "analysis_path": (Param(str, "analysis bundle written by lambda-workbook review ('' = compute in the notebook)"),
                      ""),
}


class _Specs(Mapping):
    """Notebook name -> its parameters; each spec is built on first use and kept."""

    def __init__(self, builders: dict[str, Callable[[], dict[str, Param]]]):
        self._builders, self._built = builders, {}

    def __getitem__(self, name: str) -> dict[str, Param]:
        if name not in self._built:
            self._built[name] = self._builders[name]()
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)


def __getattr__(name: str) -> Any:
    if name == "COMMON":
        return _common()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _account_review_spec() -> dict[str, Param]:
    return {**_common(), "top_n": Param(int, "functions shown in the cost chart", minimum=1, maximum=500),
            "account": Param(str, "'all', or account ids (comma-separated) to review"),
            "findings_path": Param(str, "findings CSV from lambda-workbook review ('' = compute them here)")}


def _invocation_sources_spec() -> dict[str, Param]:
    from .billing import ARCHITECTURES, MEMORY_RANGE_MB
    from .triggers import load_catalog

    return {
        **_common(),
        "function": Param(str, "a function of the snapshot to price at its observed traffic ('' = the workload below)"),
        "events_per_month": Param(float, "events a month (workload mode)", minimum=0),
        "payload_kb": Param(float, "payload per event in KB (workload mode)", minimum=0, maximum=1_048_576),
        "duration_ms": Param(float, "work per event in ms (workload mode)", minimum=0, maximum=900_000),
        "memory_mb": Param(int, "function memory in MB (workload mode)", minimum=MEMORY_RANGE_MB[0],
                           maximum=MEMORY_RANGE_MB[1]),
        "sync": Param(bool, "whether the caller waits for the function's result (workload mode)"),
        "arch": Param(str, "architecture (workload mode)", choices=ARCHITECTURES),
        "workload_region": Param(str, "region whose prices apply (workload mode)"),
        "batch_size": Param(int, "events per batch for queues and streams (workload mode)", minimum=1, maximum=10_000),
        "batch_window_s": Param(float, "batching window in seconds (workload mode)", minimum=0, maximum=300),
        "invocation_overhead_ms": Param(float, "time per invocation that batching saves, in ms", minimum=0),
        "batch_source": Param(str, "queue or stream whose batch sizes are explored",
                              choices=tuple(load_catalog().batching_ids())),
        "max_batch_wait_s": Param(float, "added wait accepted when picking the cheapest batch size (s)", minimum=0,
                                  maximum=300),
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
    from .prices import _REGION

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
        out["regions"] = _regions(notebook, out["region"])
    if "profile" in out:
        out["profiles"] = [p.strip() for p in out["profile"].split(",") if p.strip()] or None
    if "account" in out:
        out["accounts"] = None if out["account"].strip().lower() in ("", "all") else [
            a.strip() for a in out["account"].split(",") if a.strip()]
    if out.get("source") == "snapshot" and not out.get("snapshot_path"):
        raise ParameterError(f"{notebook} parameter 'snapshot_path' is required when source is 'snapshot'")
    return SimpleNamespace(**out)


def describe(notebook: str) -> str:
    """The parameters of a notebook as Markdown (for the README and ``--help``)."""
    lines = ["| parameter | type | allowed | meaning |", "|---|---|---|---|"]
    optional = {k: p for k, (p, _) in OPTIONAL.items() if k not in SPECS[notebook]}
    for name, p in {**SPECS[notebook], **optional}.items():
        allowed = ", ".join(map(repr, p.choices)) if p.choices else (
            f"{p.minimum:g}–{p.maximum:g}" if p.minimum is not None and p.maximum is not None else "")
        lines.append(f"| `{name}` | {p.kind.__name__} | {allowed} | {p.doc} |")
    return "\n".join(lines)


def _read_what_you_need_spec() -> dict[str, Param]:
    from .billing import ARCHITECTURES, MEMORY_RANGE_MB
    from .reads import FORMATS, NEEDS, TRANSFERS

    return {
        **_common(),
        "function": Param(str, "a function of the snapshot whose read calls fill the patterns ('' = as entered below)"),
        "need": Param(str, "what the alternatives are ranked for", choices=tuple(NEEDS)),
        "memory_mb": Param(int, "function memory in MB", minimum=MEMORY_RANGE_MB[0], maximum=MEMORY_RANGE_MB[1]),
        "arch": Param(str, "architecture", choices=ARCHITECTURES),
        "object_mb": Param(float, "S3: object size in MB", minimum=0.001),
        "fraction_needed": Param(float, "S3: share of the object's bytes the function uses", minimum=0, maximum=1),
        "reads_per_month": Param(float, "S3: object reads a month", minimum=0),
        "file_format": Param(str, "S3: format of the object", choices=FORMATS),
        "layout_known": Param(bool, "S3: the byte offsets of the needed data are known (a range GET is possible)"),
        "select_customer": Param(bool, "S3: the account is an existing S3 Select customer"),
        "transfer": Param(str, "the path the bytes take to the function", choices=tuple(TRANSFERS)),
        "table_items": Param(float, "DynamoDB: items a Scan evaluates (the table)", minimum=0),
        "items_needed": Param(float, "DynamoDB: items one read needs", minimum=0),
        "item_kb": Param(float, "DynamoDB: mean item size in KB", minimum=0, maximum=400),
        "needed_kb": Param(float, "DynamoDB: KB of each item the function uses (0 = the whole item)", minimum=0,
                           maximum=400),
        "consistency": Param(str, "DynamoDB: read consistency", choices=("eventual", "strong")),
        "db_reads_per_month": Param(float, "DynamoDB: reads a month", minimum=0),
        "writes_per_month": Param(float, "DynamoDB: table writes a month that an index would absorb", minimum=0),
        "network_mb_s": Param(float, "assumed network throughput at 1,769 MB in MB/s (no public curve)", minimum=0.1,
                              maximum=10_000),
        "network_exponent": Param(float, "assumed growth of throughput with memory (0 none, 1 proportional)",
                                  minimum=0, maximum=2),
        "calibrate": Param(bool, "fit the network to the snapshot's S3 GetObject timings (needs 3 or more)"),
        "parse_ms_per_mb": Param(float, "assumed parse time per MB at one vCPU, in ms", minimum=0, maximum=10_000),
    }



def _cold_starts_spec() -> dict[str, Param]:
    from .coldstarts import MODELS, SCENARIOS

    return {
        **_common(),
        "function": Param(str, "the function to look at in depth ('' = the one the top finding names)"),
        "keep_alive": Param(str, "idle keep-alive scenario of the model", choices=tuple(SCENARIOS)),
        "routing": Param(str, "pool routing model ('auto' = the one closest to the observed REPORT cold starts)",
                         choices=("auto", *MODELS)),
        "pc_schedule": Param(str, "provisioned-concurrency schedule to price: 'auto' (busy hours of the traffic), "
                                  "'' (none) or like 'mon-fri 08-18 Europe/Berlin'"),
        "billing_date": Param(str, "date whose INIT billing rules apply, YYYY-MM-DD ('' = the snapshot's end)"),
        "top_n": Param(int, "functions shown in the charts", minimum=1, maximum=500),
    }



def _memory_spec() -> dict[str, Param]:
    from .memory import STRATEGIES

    return {
        **_common(),
        "function": Param(str, "the function to look at in depth ('' = the one with the largest finding)"),
        "strategy": Param(str, "what the recommendation optimises", choices=STRATEGIES),
        "latency_slo_ms": Param(float, "SLO on the mean warm duration in ms (0 = today's mean plus max_slowdown)",
                                minimum=0),
        "max_slowdown": Param(float, "largest slowdown accepted against today's mean (0.1 = 10%)", minimum=0,
                              maximum=10),
        "cost_tolerance": Param(float, "extra cost accepted to buy speed, a fraction of the cheapest (0.1 = 10%)",
                                minimum=0, maximum=5),
        "balanced_weight": Param(float, "balanced strategy: 1 = cost only, 0 = speed only", minimum=0, maximum=1),
        "headroom": Param(float, "memory floor above the Max Memory Used p99 (0.2 = 20%)", minimum=0, maximum=5),
        "confidence": Param(float, "probability a change needs under the model to become a finding", minimum=0.5,
                            maximum=0.999),
        "power_tuning_json": Param(str, "a Power Tuning output JSON file to compare with ('' = none)"),
        "top_n": Param(int, "functions shown in the savings chart", minimum=1, maximum=500),
    }


SPECS: Mapping[str, dict[str, Param]] = _Specs({
    "account_review": _account_review_spec, "invocation_sources": _invocation_sources_spec,
    "read_what_you_need": _read_what_you_need_spec, "cold_starts": _cold_starts_spec, "memory": _memory_spec})
