"""Give a measured account the CPU time Lambda Insights would report, to see what that signal is worth.

None of the measurement sets recorded CPU time. Lambda Insights reports it per invocation (``cpu_total_time``); what
it would show for a curve is approximated by the CPU work at one vCPU that the memory model infers from *all* of
the curve's measured sizes (:func:`.holdout.oracle_cpu_ms`), divided by the mean duration at the deployed size,
with a ±10% (log-normal) measurement error. This uses sizes the deployed function never ran at, as Insights'
counter would not; it is a stand-in for the signal, labelled ``evidence = "simulated"`` in the snapshot.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..memory import curve, priors
from ..schema import KEY, Snapshot
from . import datasets, holdout

NOISE_LOG_SD = 0.10


def with_cpu_time(account, *, prior: priors.Priors | None = None, seed: int = 0):
    """A copy of ``account`` whose snapshot has an ``insights`` row (CPU time / duration) for every function."""
    pr = prior or priors.load()
    curves = datasets.curves()
    rng = np.random.default_rng(seed)
    cache: dict[tuple[str, str], float] = {}
    truth = account.truth[account.truth["current"].astype(bool)].set_index("function_name")
    rows = []
    for d in account.deployments.itertuples():
        key = (d.dataset, d.curve)
        if key not in cache:
            g = curves[(curves["dataset"] == d.dataset) & (curves["curve"] == d.curve)]
            cache[key] = holdout.oracle_cpu_ms(holdout.curve_arrays(g), pr) if len(g) >= 2 else np.nan
        t = truth.loc[d.function_name]
        cpu = cache[key] / float(t["true_mean_ms"]) * float(np.exp(rng.normal(0.0, NOISE_LOG_SD)))
        rows.append({"account_id": t["account_id"], "region": t["region"], "function_name": d.function_name,
                     "cpu_fraction": float(min(cpu, curve.MAX_VCPU)), "network_kb_per_invocation": np.nan,
                     "evidence": "simulated"})
    tables = dict(account.snapshot.tables)
    tables["insights"] = pd.DataFrame(rows, columns=[*KEY, "cpu_fraction", "network_kb_per_invocation", "evidence"])
    snap = Snapshot(account.snapshot.manifest, tables, account.snapshot.path)
    return replace(account, snapshot=snap, notes=[*account.notes, "Lambda Insights CPU time simulated (see "
                                                  "validation.insights)"])
