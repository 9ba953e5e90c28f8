"""The review's checklist: every finding id, the part of the article it belongs to, the module that owns it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Check:
    section: str
    module: str
    checks: str


#: The checklist: every finding id the engine can produce, its section, the module that owns it, what it checks.
CHECKS: dict[str, Check] = {
    "memory-overprovisioned": Check("execution environment", "memory", "a smaller memory size saves at least 10% "
                                    "of the function's cost and is at most 10% slower, with 90% probability under "
                                    "the duration model"),
    "memory-underprovisioned": Check("execution environment", "memory", "a larger size makes the function at "
                                     "least 25% faster for at most 10% more (90% probability)"),
    "memory-measure": Check("execution environment", "memory", "a memory change that is plausible and worth money "
                            "but not certain from what was measured: measure it first (command and cost given)"),
    "arm64-candidate": Check("execution environment", "memory", "an x86_64 function that arm64 would run for at "
                             "least 10% less without being 10% slower at the same size (90% probability)"),
    "apigw-rest-to-http": Check("invocation source", "triggers", "a REST API using no REST-only feature, where an "
                                "HTTP API costs less"),
    "batch-size": Check("invocation source", "triggers", "a queue or stream whose cheapest batch size and window "
                        "within the wait bound saves money"),
    "sync-for-async": Check("invocation source", "triggers", "a synchronous API that waits on calls whose "
                            "results its response does not use"),
    "stream-iterator-age": Check("invocation source", "rules", "a stream consumer whose IteratorAge stays above "
                                 "the alarm value: it falls behind and may lose records"),
    "dynamodb-scan": Check("external services", "reads", "a Scan whose filter keeps a small share of the items "
                           "it pays for"),
    "dynamodb-query-filter": Check("external services", "reads", "a Query whose filter throws most evaluated "
                                   "items away"),
    "s3-whole-object": Check("external services", "reads", "whole-object GETs of which little is used"),
    "cold-starts": Check("execution environment", "coldstarts", "frequent cold starts that lift a synchronous "
                         "p99 or bill real INIT money"),
    "init-heavy": Check("function code", "coldstarts", "a long INIT (package size and layers as likely causes)"),
    "provisioned-concurrency": Check("execution environment", "coldstarts", "idle or too small provisioned "
                                     "concurrency, or a steady load it would serve for less"),
    "vpc-init": Check("execution environment", "coldstarts", "VPC attachment on a function with frequent cold "
                      "starts (heuristic)"),
    "per-invocation-setup": Check("function code", "coldstarts", "clients or secrets set up on every invocation "
                                  "(heuristic)"),
    "timeout-headroom": Check("execution environment", "rules", "a timeout far above the slowest observed "
                              "duration: a hang bills up to the timeout"),
    "timeout-rate": Check("execution environment", "rules", "more than 10% of a day's invocations time out "
                          "(Trusted Advisor L4dfs2Q3C3)"),
    "error-rate": Check("function code", "rules", "more than 10% of a day's invocations fail (Trusted Advisor "
                        "L4dfs2Q3C2)"),
    "throttles": Check("execution environment", "rules", "requests rejected by a concurrency limit"),
    "deprecated-runtime": Check("execution environment", "rules", "a runtime past (or close to) the end of "
                                "support (Trusted Advisor L4dfs2Q4C5)"),
    "vpc-review": Check("execution environment", "rules", "VPC only where needed: a VPC function reaching public "
                        "endpoints through NAT, with no private resource in evidence, or in one subnet"),
    "iam-wildcard": Check("external services", "rules", "an execution role granting actions with '*' "
                          "(least privilege)"),
    "secret-env-names": Check("execution environment", "rules", "environment variables whose names say they "
                              "hold secrets (names only: values are never read)"),
    "orchestration-in-code": Check("function code", "rules", "long low-CPU waits and retries inside one "
                                   "invocation: a workflow's job (Step Functions)"),
    "transport-only": Check("function code", "rules", "a function that only forwards events to another service: "
                            "a direct integration moves them without code"),
}

#: The finding ids a review of the sample account must raise (each has a sample-account archetype that fires it).
REQUIRED_IDS = tuple(k for k in CHECKS if k not in ("dynamodb-query-filter", "vpc-init", "per-invocation-setup"))


def checklist() -> pd.DataFrame:
    """The checklist: every finding id with its section, owning module and what it checks."""
    return pd.DataFrame([(k, c.section, c.module, c.checks) for k, c in CHECKS.items()],
                        columns=["id", "section", "module", "checks"])
