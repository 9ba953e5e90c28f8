"""A function picker for explorers that stays usable with 10,000 functions: a search box and a short list of
the matching functions (at most :data:`MAX_OPTIONS`), instead of a dropdown of every function.

:class:`FunctionPicker` is one ipywidgets box whose ``value`` is the picked function's name, so an explorer
treats it like any other control (``observe(..., names="value")``, ``set(function_name=...)``). The names come
in a priority order (the caller's: largest finding first, then the rest); the list shows the first matches of
the search text in that order, so an empty search shows the functions that matter most. Typing filters the
list without changing the pick; picking an entry (or setting ``value``) does. :func:`priority` builds that
order from a findings table and the functions' costs.
"""

from __future__ import annotations

from collections.abc import Iterable

import ipywidgets as widgets
import pandas as pd
import traitlets

MAX_OPTIONS = 50   # entries the list holds at once: a browser renders these, never all the functions
ROWS = 8           # entries visible without scrolling


def priority(names: Iterable[str], findings: pd.DataFrame | None = None,
             costs: pd.DataFrame | None = None) -> list[str]:
    """``names`` ordered for a picker: functions by their largest finding (USD a month; findings without dollars
    count as $0), then by monthly cost (``costs``: ``function_name`` and ``monthly_usd``), then by name."""
    names = list(dict.fromkeys(str(n) for n in names))
    impact = pd.Series(0.0, index=names)
    has_finding = pd.Series(False, index=names)
    if findings is not None and len(findings):
        per = findings.groupby("function_name")["monthly_impact_usd"].max().fillna(0.0)
        per = per[per.index.isin(names)]
        impact.loc[per.index] = per.to_numpy(float)
        has_finding.loc[per.index] = True
    cost = pd.Series(0.0, index=names)
    if costs is not None and len(costs):
        per = costs.groupby("function_name")["monthly_usd"].sum()
        per = per[per.index.isin(names)]
        cost.loc[per.index] = per.to_numpy(float)
    table = pd.DataFrame({"name": names, "finding": has_finding.to_numpy(), "impact": impact.to_numpy(),
                          "cost": cost.to_numpy()})
    table = table.sort_values(["finding", "impact", "cost", "name"], ascending=[False, False, False, True])
    return table["name"].tolist()


class FunctionPicker(widgets.VBox):
    """A search box over ``names`` (in priority order) and a list of at most ``max_options`` matches."""

    value = traitlets.Unicode()

    def __init__(self, names: Iterable[str], value: str | None = None, *, description: str = "function",
                 max_options: int = MAX_OPTIONS, style: dict | None = None, ordered_by: str = "") -> None:
        self.names = list(dict.fromkeys(str(n) for n in names))
        if not self.names:
            raise ValueError("a function picker needs at least one function name")
        if max_options < 1:
            raise ValueError(f"max_options must be at least 1, got {max_options!r}")
        self._known = set(self.names)
        self.max_options = int(max_options)
        self._syncing = False
        self.ordered_by = ordered_by
        self.search = widgets.Text(value="", placeholder=f"search {len(self.names):,} functions",
                                   description=description, style=style or {}, continuous_update=True)
        self.list = widgets.Select(options=[], rows=min(ROWS, len(self.names)), style=style or {},
                                   layout={"width": "auto"})
        self.count = widgets.HTML()
        super().__init__([self.search, self.list, self.count])
        self.value = value if value is not None else self.names[0]
        self.search.observe(self._searched, names="value")
        self.list.observe(self._picked, names="value")
        self._searched()

    @traitlets.validate("value")
    def _valid(self, proposal):
        name = proposal["value"]
        if name not in self._known:
            raise traitlets.TraitError(f"no function {name!r} to pick; it is not among the {len(self.names):,} "
                                       f"functions (e.g. {', '.join(self.names[:5])})")
        return name

    @traitlets.observe("value")
    def _value_changed(self, change) -> None:
        """A pick made from Python (``Explorer.set``): list it, clearing a search it does not match."""
        if self.list.value == change["new"]:
            return
        needle = self.search.value.strip().lower()
        if needle and needle not in change["new"].lower():
            self.search.value = ""          # shows the first functions, the pick among them
        else:
            self._show(self.matches(self.search.value))

    def matches(self, text: str = "") -> list[str]:
        """The first ``max_options`` names containing ``text`` (any case), in priority order."""
        needle = str(text or "").strip().lower()
        out = []
        for name in self.names:
            if not needle or needle in name.lower():
                out.append(name)
                if len(out) == self.max_options:
                    break
        return out

    def total_matches(self, text: str = "") -> int:
        needle = str(text or "").strip().lower()
        return len(self.names) if not needle else sum(needle in n.lower() for n in self.names)

    @property
    def options(self) -> tuple[str, ...]:
        """The entries the list shows now."""
        return tuple(self.list.options)

    def _show(self, found: list[str]) -> None:
        """Put ``found`` in the list, the current pick first when the search text matches it, and select it."""
        needle = self.search.value.strip().lower()
        if self.value and self.value not in found and (not needle or needle in self.value.lower()):
            found = [self.value] + found[: self.max_options - 1]
        self._syncing = True
        try:
            self.list.options = found
            self.list.value = self.value if self.value in found else None
        finally:
            self._syncing = False
        total = self.total_matches(self.search.value)
        what = "functions" if not needle else f"matches of “{self.search.value.strip()}”"
        order = f", {self.ordered_by}" if self.ordered_by else ""
        self.count.value = (f"<span style='font-size:12px;color:#555'>{len(found):,} of {total:,} {what} listed"
                            f"{order}</span>" if total else
                            "<span style='font-size:12px;color:#b00'>no function matches</span>")

    def _searched(self, *_) -> None:
        self._show(self.matches(self.search.value))

    def _picked(self, change) -> None:
        if not self._syncing and change["new"] is not None:
            self.value = change["new"]


def explorer_order(snapshot, names: Iterable[str], findings: pd.DataFrame | None = None,
                   wanted: str | None = None) -> tuple[list[str], str]:
    """An explorer's function names in picker order, and what the order is: by the findings handed in, or (no
    findings, and no function asked for) by the review's findings over ``snapshot``; else by monthly cost."""
    from . import costs, review

    if findings is None and wanted is None:
        findings = review.findings(snapshot)
    by_cost = costs.function_costs(snapshot)
    ordered = priority(names, findings, by_cost)
    return ordered, ("largest finding first" if findings is not None and len(findings) else "costliest first")
