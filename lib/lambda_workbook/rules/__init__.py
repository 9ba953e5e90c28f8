"""The review's own rules: small functions over a snapshot's tables, each producing findings through the
findings contract. :data:`RULES` maps each finding id to its rule; :class:`Context` holds what they share."""

from __future__ import annotations

from .code import direct_integration, rule_orchestration_in_code, rule_transport_only
from .configuration import (
                          rule_deprecated_runtime,
                          rule_iam_wildcard,
                          rule_secret_env_names,
                          rule_vpc_review,
                          secret_names,
)
from .context import Context, calls_path, resolve_as_of, runtime_table
from .reliability import (
                          rule_error_rate,
                          rule_stream_iterator_age,
                          rule_throttles,
                          rule_timeout_headroom,
                          rule_timeout_rate,
)
from .thresholds import Thresholds, describe_thresholds

__all__ = ["RULES", "Context", "Thresholds", "calls_path", "describe_thresholds", "direct_integration",
           "resolve_as_of", "runtime_table", "secret_names"]

RULES = {
    "timeout-rate": rule_timeout_rate, "error-rate": rule_error_rate, "throttles": rule_throttles,
    "stream-iterator-age": rule_stream_iterator_age, "timeout-headroom": rule_timeout_headroom,
    "deprecated-runtime": rule_deprecated_runtime, "vpc-review": rule_vpc_review, "iam-wildcard": rule_iam_wildcard,
    "secret-env-names": rule_secret_env_names, "orchestration-in-code": rule_orchestration_in_code,
    "transport-only": rule_transport_only,
}
