"""The embedded sample account: a deterministic generator of a realistic two-account snapshot.

About thirty functions, each an *archetype* the workbook's models should recognise (an I/O-bound function
at 3,008 MB, a CPU-bound one starved at 128 MB, an SQS worker at batch size 1, ...) next to healthy controls.
Their traffic, durations, cold starts, errors and metrics follow one model, so every table agrees with every
other one: per-minute invocation counts drive an environment-reuse simulation (cold starts), per-invocation
durations follow ``t(m) = fixed + cpu_work / min(parallelism, m / 1769)`` with log-normal noise, and the
REPORT aggregates, hourly Duration statistics and raw REPORT lines are drawn from that same model.

Published figures the distributions follow:

* CPU share proportional to memory, one vCPU at 1,769 MB ("Configure Lambda function memory",
  https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html);
* idle environments kept 5-7 minutes (Mikhail Shilkov's cold-start measurements, https://mikhail.io/serverless/coldstarts/aws/,
  January 2021) and active ones recycled about every 2 hours ("TIL that AWS Lambda terminates instances
  preemptively", https://xebia.com/blog/til-that-aws-lambda-terminates-instances-preemptively/);
* INIT medians by runtime are the sample's own assumption (Python 0.32 s and Node.js 0.21 s, scaled up with
  package size and layers; 2.9-3.4 s for the Java services with a framework): above the hello-world medians
  lambda-perf measured (https://github.com/maxday/lambda-perf: python3.12 85-91 ms, nodejs20.x 137-143 ms, java21
  268-271 ms; ``data/coldstarts/init-priors``) as real packages are, and within the 76-564 ms mean INIT of the
  cebert 2025 benchmark handlers on Node.js and Python
  (https://github.com/cebert/aws-lambda-performance-benchmarks, ``data/measurements/cebert-2025``);
* INIT billed on cold starts (the window is after 2025-08-01: "AWS Lambda standardizes billing for INIT Phase",
  https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/); REPORT line formats as in
  :mod:`lambda_workbook.logs`.

Run ``lambda-workbook sample generate`` to rewrite ``data/sample-account/``. The generator is pure: it
returns a :class:`~lambda_workbook.schema.Snapshot`; writing it is the sources layer's job.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import SCHEMA_VERSION, Snapshot
from .archetypes import (
    ARCHETYPES,
    DAYS,
    END,
    HTTP,
    INIT_MEDIAN_MS,
    KEEP_ALIVE_MIN,
    MINUTES,
    PROD,
    RECYCLE_MIN,
    REGION,
    REPORT_LINES_PER_FUNCTION,
    SEED,
    STAGING,
    START,
    VCPU_MB,
    Archetype,
    Call,
    T,
    Trigger,
)
from .rows import (
    call_rows,
    function_row,
    key_of,
    metric_frame,
    population,
    report_aggregate,
    report_line,
    report_sample_frame,
    role_rows,
    trigger_row,
)
from .traffic import (
    Traffic,
    draw_durations,
    mean_warm_ms,
    rng_for,
    simulate_cold_starts,
    simulate_traffic,
    traffic_rate,
)

__all__ = ["ARCHETYPES", "DAYS", "END", "HTTP", "INIT_MEDIAN_MS", "KEEP_ALIVE_MIN", "MINUTES", "PROD", "RECYCLE_MIN",
           "REGION", "REPORT_LINES_PER_FUNCTION", "SEED", "STAGING", "START", "VCPU_MB", "Archetype", "Call", "T",
           "Traffic", "Trigger", "archetype", "draw_durations", "generate", "mean_warm_ms", "report_line", "simulate_cold_starts",
           "simulate_traffic", "traffic_rate"]


def generate() -> Snapshot:
    """Build the sample account snapshot (deterministic: same code, same tables)."""
    functions, metrics, reports, samples, triggers, calls, insights, roles, concurrency = ([] for _ in range(9))
    for arch in ARCHETYPES:
        traffic = simulate_traffic(arch)
        pop = population(arch, traffic, rng_for(arch, "population"))
        functions.append(function_row(arch))
        metrics.append(metric_frame(arch, traffic))
        reports.append(report_aggregate(arch, traffic, pop))
        samples.append(report_sample_frame(arch, traffic, pop, rng_for(arch, "samples")))
        triggers.append(trigger_row(arch))
        calls.extend(call_rows(arch))
        roles.extend(role_rows(arch))
        if arch.insights:  # what Lambda Insights reports: CPU time over wall time of a warm invocation
            insights.append({**key_of(arch), "cpu_fraction": round(arch.cpu_ms / mean_warm_ms(arch), 4),
                             "network_kb_per_invocation": sum(c.response_kb * c.calls_per_invocation for c in arch.calls),
                             "evidence": "sample"})
        if not np.isnan(arch.reserved):
            concurrency.append({**key_of(arch), "qualifier": "", "kind": "reserved", "requested": arch.reserved,
                                "allocated": np.nan, "status": ""})
        if not np.isnan(arch.provisioned):
            concurrency.append({**key_of(arch), "qualifier": "live", "kind": "provisioned", "requested": arch.provisioned,
                                "allocated": arch.provisioned, "status": "READY"})
    manifest = {
        "schema_version": SCHEMA_VERSION, "source": "sample", "created": END.isoformat(),
        "start": START.isoformat(), "end": END.isoformat(), "lookback_days": DAYS,
        "accounts": [PROD, STAGING], "regions": [REGION],
        "generator": f"lambda_workbook.sample (seed {SEED})",
        "notes": "Synthetic account: every number is generated from the archetype models in lambda_workbook.sample.",
        "archetypes": {a.name: list(a.expect) for a in ARCHETYPES},
    }
    tables = {
        "functions": pd.DataFrame(functions), "metrics": pd.concat(metrics, ignore_index=True),
        "reports": pd.DataFrame(reports), "report_samples": pd.concat(samples, ignore_index=True),
        "triggers": pd.DataFrame(triggers), "calls": pd.DataFrame(calls), "insights": pd.DataFrame(insights),
        "roles": pd.DataFrame(roles).drop_duplicates(ignore_index=True), "concurrency": pd.DataFrame(concurrency),
    }
    return Snapshot(manifest, tables)


def archetype(name: str) -> Archetype:
    for a in ARCHETYPES:
        if a.name == name:
            return a
    raise KeyError(f"no sample archetype named {name!r}")
