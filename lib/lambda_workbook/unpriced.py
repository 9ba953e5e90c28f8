"""Totals with a part nobody priced: say so, never count it as $0, never call such a row "cheapest" silently.

A price the price book stores as ``null`` (and a quantity nobody can know, such as how long WebSocket clients
stay connected) makes a cost *unknown*. A table row that leaves such a part out carries an ``unpriced`` column
(the price-book items left out, comma-separated) and ``lower_bound = True``: its total is what the priced parts
cost, a lower bound of the real bill. These helpers turn such rows into words and pick a cheapest option
without passing a lower bound off as a price.
"""

from __future__ import annotations

import pandas as pd

UNKNOWN_COLUMN = "unknown (not priced)"


def items(value) -> list[str]:
    """The unpriced items of one row's ``unpriced`` cell (a comma-separated string, a list, or empty/NaN)."""
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    return [str(p) for p in value]


def lower_bound_text(value) -> str:
    """``""`` for a fully priced row, else e.g. ``"unknown: kinesis.on_demand.retrieval_gb not priced, the
    total is a lower bound"``."""
    parts = items(value)
    if not parts:
        return ""
    return f"unknown: {', '.join(parts)} not priced, the total is a lower bound"


def _money(x: float) -> str:
    return f"${x:,.2f}"


def cheapest(table: pd.DataFrame, *, cost: str = "monthly_cost", usable: str = "feasible",
             name: str = "name") -> tuple[str | None, str]:
    """``(row id, sentence)``: the cheapest usable row whose cost is fully priced, and a sentence that says so.

    A row with an unknown part is never returned as the cheapest: when its priced parts alone cost less than the
    cheapest fully priced row, the sentence names it with the word "unknown"; when every usable row has an
    unknown part, the id is None and the sentence says the cheapest is unknown.
    """
    ok = table[table[usable].astype(bool)] if usable in table else table
    if ok.empty:
        return None, "no option is usable for this workload"
    partial = ok["unpriced"].map(items).map(bool) if "unpriced" in ok else pd.Series(False, index=ok.index)
    label = ok[name] if name in ok else pd.Series(ok.index, index=ok.index)
    priced, unsure = ok[~partial], ok[partial]

    def unknown(rows: pd.DataFrame) -> str:
        return "; ".join(f"{label[i]} costs at least {_money(r[cost])}/month plus the unknown cost of "
                         f"{', '.join(items(r['unpriced']))}" for i, r in rows.sort_values(cost).iterrows())

    if priced.empty:
        return None, f"cheapest unknown: every usable option has a part that is not priced ({unknown(unsure)})"
    best = priced[cost].idxmin()
    text = f"{label[best]} at {_money(priced.loc[best, cost])}/month (fully priced)"
    below = unsure[unsure[cost] < priced.loc[best, cost]]
    if len(below):
        text += f"; unknown whether cheaper: {unknown(below)}"
    return best, text
