"""When the review's own rules fire: :class:`Thresholds` (each field documents its default)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from .. import findings as contract


def _t(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Thresholds:
    """When this module's rules fire (the modules' own thresholds go in ``module_thresholds``)."""

    timeout_rate: float = _t(0.10, "timeout-rate: share of one day's invocations that timed out (Trusted Advisor: "
                             "> 10% on any day)")
    error_rate: float = _t(0.10, "error-rate: share of one day's invocations that failed, timeouts left out when "
                           "they are counted (Trusted Advisor: > 10% on any day)")
    min_daily_invocations: float = _t(20.0, "timeout-rate, error-rate: days with fewer invocations are not judged")
    rate_days: float = _t(0.0, "timeout-rate, error-rate: judge only the last this many days of the window "
                          "(Trusted Advisor looks at 7; 0 = every day of the snapshot)")
    headroom_ratio: float = _t(10.0, "timeout-headroom: timeout at least this many times the slowest observed "
                               "duration (the larger of p99 and the maximum)")
    headroom_min_s: float = _t(60.0, "timeout-headroom: ... and at least this many seconds above it")
    throttle_share: float = _t(0.001, "throttles: throttled share of the requests over the window")
    min_throttles: float = _t(100.0, "throttles: at least this many throttled requests in the window")
    iterator_age_ms: float = _t(30_000.0, "stream-iterator-age: hourly maximum IteratorAge above this (the Lambda "
                                "developer guide's alarm value, 30 s)")
    iterator_age_hours: float = _t(3.0, "stream-iterator-age: ... in at least this many hours of the window")
    stream_retention_h: float = _t(24.0, "stream-iterator-age: stream retention assumed (24 h, the Kinesis and "
                                   "DynamoDB Streams default); an age above half of it is high severity")
    runtime_warn_days: float = _t(90.0, "deprecated-runtime: also warn this many days before the end of support")
    orchestration_wait_ms: float = _t(1000.0, "orchestration-in-code: sleeps plus retried calls per invocation (ms)")
    orchestration_wait_share: float = _t(0.25, "orchestration-in-code: ... as a share of the mean duration")
    orchestration_max_cpu: float = _t(0.20, "orchestration-in-code: CPU share of the duration at or below this, "
                                      "when Lambda Insights or X-Ray measured it")
    express_memory_mb: float = _t(64.0, "orchestration-in-code: memory billed for an Express workflow (the "
                                  "smallest 64 MB chunk; not observable beforehand)")
    transport_max_cpu: float = _t(0.10, "transport-only: CPU share of the duration at or below this")
    transport_call_share: float = _t(0.5, "transport-only, CPU share unknown: the forwarding calls take at least "
                                     "this share of the mean duration")
    secret_names: str = _t(r"(^|_)(SECRET|PASSWORD|PASSWD|PWD|TOKEN|CREDENTIALS?|PRIVATE_?KEY|API_?KEY|ACCESS_KEY|"
                           r"SIGNING_KEY|CLIENT_SECRET|CONNECTION_STRING)(_|$)",
                           "secret-env-names: regular expression (case-insensitive) for names that hold secrets")
    secret_reference_suffixes: str = _t("ARN,NAME,ID,PATH,PARAM,PARAMETER,REF,TABLE,BUCKET,QUEUE,TOPIC,TTL",
                                        "secret-env-names: last name parts that mark a reference to a secret, "
                                        "not a secret (comma-separated)")
    medium_usd: float = _t(10.0, "severity of a finding priced by this module: medium from this USD a month")
    high_usd: float = _t(100.0, "... high from this USD a month")

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> Thresholds:
        """Thresholds from a mapping (a YAML file's ``thresholds:``); unknown names are a clear error."""
        values = dict(values or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown review threshold(s) {unknown}; known: {', '.join(known)}")
        for name, value in values.items():
            if isinstance(known[name].default, str):
                if not isinstance(value, str):
                    raise ValueError(f"review threshold {name!r} must be a string, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"review threshold {name!r} must be a number >= 0, got {value!r}")
        return cls(**values)

    def severity(self, usd: float) -> str:
        """The severity of a finding worth ``usd`` a month (``medium_usd``, ``high_usd``)."""
        return self.policy()(usd)

    def policy(self) -> contract.Severity:
        """The dollars-to-severity policy every module receives (:class:`findings.Severity`)."""
        return contract.Severity(self.medium_usd, self.high_usd)


def describe_thresholds() -> pd.DataFrame:
    """Every threshold of :class:`Thresholds` with its default and meaning."""
    return pd.DataFrame([(f.name, f.default, f.metadata["doc"]) for f in fields(Thresholds)],
                        columns=["threshold", "default", "meaning"]).set_index("threshold")
