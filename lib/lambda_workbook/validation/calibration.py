"""Do the memory decisions' probabilities mean what they say? Reliability on a measured account.

For every deployed function of a :func:`.account.build` account and every *other* measured size of its curve,
the probability the memory model gives that moving there meets the review's policy (a decrease: ≥ 10% cheaper and
≤ 10% slower; an increase: ≥ 25% faster for ≤ 10% more) is set beside whether it does on the truth. Binned, a
calibrated model's events happen about as often as it said.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import memory, prices
from ..memory.costing import monthly_cost
from . import score as _score

BINS = (-0.001, 0.05, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0)


def events(account, *, n: int = 2000) -> pd.DataFrame:
    """One row per (function, other measured size): the model's probability and the truth of the policy event."""
    pol = _score.policy()
    snap, truth = account.snapshot, account.truth
    pricing = prices.for_snapshot(snap)
    rows = []
    for name in snap.functions["function_name"]:
        obs = memory.function_observations(snap, name)
        model = memory.fit_function(obs)
        tr = truth[(truth["function_name"] == name) & (truth["arch"] == obs["arch"])].sort_values("memory_mb")
        if tr.empty or not tr["current"].any():
            continue
        m = tr["memory_mb"].to_numpy(float)
        j0 = int(np.flatnonzero(tr["current"].to_numpy(bool))[0])
        d = model.samples(m, n=n)
        c = monthly_cost(d, m[None, :], invocations_per_month=obs["invocations_per_month"], init_ms=obs["init_mean_ms"],
                         cold_start_share=obs["cold_start_share"], arch=model.arch, cv=model.cv,
                         book=pricing.book(obs["region"]))
        tc, td = tr["true_monthly_usd"].to_numpy(float), tr["true_mean_ms"].to_numpy(float)
        for j in range(m.size):
            if j == j0:
                continue
            smaller = m[j] < m[j0]
            kind = "decrease" if smaller else "increase"
            p = float(np.mean(pol.meets(c[:, j0], c[:, j], d[:, j0], d[:, j])[0 if smaller else 1]))
            happened = bool(pol.meets(tc[j0], tc[j], td[j0], td[j])[0 if smaller else 1])
            rows.append({"dataset": tr["dataset"].iloc[0], "function_name": name, "kind": kind,
                         "memory_mb": float(m[j0]), "other_mb": float(m[j]), "probability": float(p),
                         "happened": bool(happened)})
    return pd.DataFrame(rows)


def reliability(ev: pd.DataFrame) -> pd.DataFrame:
    """Per probability bin and kind: how many, the mean stated probability, and how often the event happened."""
    b = ev.assign(bin=pd.cut(ev["probability"], BINS))
    return (b.groupby(["kind", "bin"], observed=True)
             .agg(events=("happened", "size"), stated=("probability", "mean"), happened=("happened", "mean"))
             .reset_index())
