"""Interactive explorers for JupyterLab: thin ipywidgets skins over the same pure functions the batch path uses.

Every explorer is a :class:`Explorer`: named controls, a pure ``compute(**values)`` that returns a result
(usually a DataFrame or a small dataclass from a model module), and a ``draw(result)`` that updates a live
plotly ``FigureWidget`` and an HTML table. Driving one from Python needs no browser::

    ex = MemoryExplorer(snapshot)          # for example
    ex.set(strategy="speed", arch="arm64")  # same as moving the widgets
    ex.result, ex.figure.data, ex.table      # what the reviewer sees

Display ``ex.widget`` (or just ``ex``) in a notebook.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from . import billing
from .function_picker import FunctionPicker, explorer_order
from .renamed import keywords, renamed

STYLE = {"description_width": "initial"}   # every control's label shown in full


def _memory_slider(value: int) -> widgets.IntSlider:
    """Function memory in 64 MB steps over the range Lambda allows."""
    low, high = billing.MEMORY_RANGE_MB
    return widgets.IntSlider(value=value, min=low, max=high, step=64, description="memory (MB)", style=STYLE)


def _log_slider(value: float, low: float, high: float, description: str, fmt: str = ".3g",
                step: float = 0.05) -> widgets.FloatLogSlider:
    """A base-10 log slider from ``low`` to ``high`` starting at ``value`` (clamped into that range)."""
    return widgets.FloatLogSlider(value=min(max(value, low), high), base=10, min=math.log10(low), max=math.log10(high),
                                  step=step, description=description, readout_format=fmt, style=STYLE)


class Explorer:
    """Base class: subclasses build ``self.controls`` and ``self.figure`` (one ``FigureWidget`` each: every
    FigureWidget carries plotly.js, ~5 MB, into a saved notebook's widget state), then call ``self._start()``.
    ``primary`` names the control a reviewer moves first (the browser tests move it)."""

    primary: str = ""

    title: str = ""

    def __init__(self) -> None:
        self.controls: dict[str, widgets.ValueWidget] = {}
        self.figure: go.FigureWidget | None = None
        self.table: pd.DataFrame | None = None
        self.result: Any = None
        self.error: str | None = None
        self._table_html = widgets.HTML()
        self._status = widgets.HTML()

    # -- the pure part, overridden by subclasses -------------------------------------------------------
    def compute(self, **values: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def draw(self, result: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- plumbing -------------------------------------------------------------------------------------
    @property
    def values(self) -> dict[str, Any]:
        return {name: w.value for name, w in self.controls.items()}

    def set(self, **values: Any) -> Explorer:
        """Set control values as a user would (one recomputation at the end); a control's former name (a keyword
        :meth:`compute` renamed) still works, with a warning."""
        values = keywords(type(self).compute, values, stacklevel=2)
        unknown = set(values) - set(self.controls)
        if unknown:
            raise KeyError(f"{type(self).__name__} has no control(s) {sorted(unknown)}; it has {sorted(self.controls)}")
        self._hold = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._hold = False
        self.update()
        return self

    def update(self, *_: Any) -> None:
        if getattr(self, "_hold", False):
            return
        try:
            self.result = self.compute(**self.values)
            self.error = None
            self._status.value = ""
        except (ValueError, KeyError) as exc:  # bad combination of inputs: say so, keep the last good view
            self.error = str(exc)
            self._status.value = f"<span style='color:#b00'>{exc}</span>"
            return
        with self.figure.batch_update():
            self.draw(self.result)

    def redraw(self, fresh: go.Figure, *trace_props: str, layout: tuple[str, ...] = ("title.text",)) -> None:
        """Copy ``trace_props`` (e.g. ``"x"``, ``"marker.color"``) of each trace of ``fresh`` (a figure drawn like
        the live one: same traces in the same order) and its ``layout`` properties onto the live figure."""
        for live, new in zip(self.figure.data, fresh.data, strict=True):
            for prop in trace_props:
                live[prop] = new[prop]
        for prop in layout:
            self.figure.layout[prop] = fresh.layout[prop]

    def show_table(self, df: pd.DataFrame, **to_html: Any) -> None:
        self.table = df
        self._table_html.value = df.to_html(**{"float_format": lambda v: f"{v:,.4g}", **to_html})

    def _start(self) -> None:
        if self.figure is None:
            raise TypeError(f"{type(self).__name__} must create self.figure before _start()")
        if self.primary:
            self.controls[self.primary].add_class("wb-primary")
        for w in self.controls.values():
            w.observe(self.update, names="value")
        self.update()

    @property
    def widget(self) -> widgets.Widget:
        head = [widgets.HTML(f"<b>{self.title}</b>")] if self.title else []
        return widgets.VBox(head + [widgets.HBox(list(self.controls.values()), layout={"flex_flow": "row wrap"}),
                                    self._status, self.figure, self._table_html])

    def _ipython_display_(self) -> None:  # pragma: no cover - notebook display
        from IPython.display import display

        display(self.widget)


class TriggersExplorer(Explorer):
    """Invocation sources: events a month, payload, batch size and window, work per event, memory, whether the
    caller waits → every source's monthly cost (``triggers.compare``) as a stacked bar chart and a table.

    ``TriggersExplorer(workload)`` starts from a :class:`lambda_workbook.triggers.Workload` (for example
    ``triggers.workload_for(snapshot, "catalog-rest-api")``); fields without a control keep its value.
    """

    primary = "events_per_month"
    title = "Invocation sources: monthly cost of every trigger for one workload"

    def __init__(self, workload=None) -> None:
        from . import plots, triggers

        super().__init__()
        self._triggers, self._plots = triggers, plots
        self.base = workload if workload is not None else triggers.Workload()
        w = self.base
        sizes = triggers.DEFAULT_BATCH_SIZES
        style = STYLE
        self.controls = {
            "sync": widgets.Checkbox(value=bool(w.sync), description="caller waits for the result", style=style),
            "batch_size": widgets.SelectionSlider(options=sizes, value=min(sizes, key=lambda n: abs(n - w.batch_size)),
                                                  description="batch size", style=style),
            "batch_window_s": widgets.IntSlider(value=int(round(w.batch_window_s)), min=0, max=300,
                                                description="batch window (s)", style=style),
            "events_per_month": _log_slider(w.events_per_month, 1e3, 1e10, "events/month", ".3s"),
            "payload_kb": _log_slider(w.payload_kb, 0.1, triggers.load_catalog().doc["lambda_limits"]["sync"]["payload_kb"],
                                      "payload (KB)"),
            "duration_ms": _log_slider(w.duration_ms, 1.0, 900_000, "work/event (ms)"),
            "memory_mb": _memory_slider(int(w.memory_mb)),
        }
        self.figure = go.FigureWidget(plots.trigger_costs(triggers.compare(w)))
        self._start()

    def compute(self, **values: Any) -> pd.DataFrame:
        from dataclasses import replace

        return self._triggers.compare(replace(self.base, **values))

    def draw(self, result: pd.DataFrame) -> None:
        self.redraw(self._plots.trigger_costs(result), "x", "y", "customdata", "marker.color", layout=("height",))
        self.show_table(self._triggers.view(result))


class ReadsExplorer(Explorer):
    """Read only what you need: a read pattern on an S3 object or a DynamoDB table → every way of reading it
    (``reads.s3_options`` / ``reads.dynamodb_options``) ranked for a need (``reads.rank``), as stacked monthly-cost
    bars and a table with the trade-offs.

    ``ReadsExplorer(store="dynamodb", table_items=12240, ...)`` starts from any control values; ``network`` is a
    :class:`lambda_workbook.reads.Network` (the documented assumption, or one calibrated from measurements).
    """

    primary = "requests_per_month"
    title = "Read only what you need: what each way of reading costs"

    def __init__(self, store: str = "s3", *, network=None, **initial: Any) -> None:
        from . import plots, reads

        super().__init__()
        self._reads, self._plots, self.network = reads, plots, network
        style = STYLE
        self.controls = {
            "store": widgets.Dropdown(options=[("S3 object", "s3"), ("DynamoDB table", "dynamodb")], value=store,
                                      description="read from", style=style),
            "need": widgets.Dropdown(options=list(reads.NEEDS), value="cost", description="rank for", style=style),
            "object_mb": _log_slider(40.0, 0.01, 1e4, "object (MB)"),
            "fraction_needed": _log_slider(0.02, 1e-4, 1.0, "fraction needed"),
            "format": widgets.Dropdown(options=list(reads.FORMATS), value="csv", description="format", style=style),
            "layout_known": widgets.Checkbox(value=True, description="layout known (range GET possible)", style=style),
            "select_customer": widgets.Checkbox(value=False, description="existing S3 Select customer", style=style),
            "table_items": _log_slider(12_240, 1.0, 1e9, "table items", ".3s"),
            "items_needed": _log_slider(20, 1.0, 1e6, "items needed", ".3s"),
            "item_kb": _log_slider(1.5, 0.01, reads.MAX_ITEM_KB, "item (KB)"),
            "consistency": widgets.Dropdown(options=["eventual", "strong"], value="eventual",
                                            description="consistency", style=style),
            "writes_per_month": _log_slider(100_000, 1.0, 1e9, "table writes/month", ".3s"),
            "arch": widgets.Dropdown(options=billing.ARCHITECTURES, value="arm64", description="arch", style=style),
            "requests_per_month": _log_slider(30_000, 1.0, 1e9, "reads/month", ".3s"),
            "memory_mb": _memory_slider(1024),
        }
        for name, value in initial.items():
            if name not in self.controls:
                raise KeyError(f"ReadsExplorer has no control {name!r}; it has {sorted(self.controls)}")
            self.controls[name].value = value
        self.figure = go.FigureWidget(plots.read_options_cost(self.compute(**self.values)))
        self._start()

    def compute(self, **v: Any) -> pd.DataFrame:
        r = self._reads
        common = dict(memory_mb=v["memory_mb"], arch=v["arch"], network=self.network)
        if v["store"] == "s3":
            options = r.s3_options(v["object_mb"], v["fraction_needed"], v["requests_per_month"], format=v["format"],
                                   layout_known=v["layout_known"], select_customer=v["select_customer"], **common)
        else:
            options = r.dynamodb_options(v["table_items"], v["items_needed"], v["item_kb"], v["requests_per_month"],
                                         consistency=v["consistency"], writes_per_month=v["writes_per_month"],
                                         **common)
        return r.rank(options, need=v["need"])

    def draw(self, result: pd.DataFrame) -> None:
        self.redraw(self._plots.read_options_cost(result), "x", "y", "customdata", "marker.color",
                    layout=("title.text", "height"))
        self.show_table(self._reads.view(result))


class ColdStartsExplorer(Explorer):
    """Cold starts and provisioned concurrency: a traffic pattern (a function's observed minutes, scaled, or a
    synthetic one), duration, keep-alive window, routing model, provisioned environments and their schedule →
    the hourly cold starts (``coldstarts.cold_start_profile``, live figure) and the monthly cost, cold starts and
    p99 of on-demand vs provisioned vs SnapStart (``coldstarts.pc_options``, live table).

    ``ColdStartsExplorer(snapshot, "billing-java", table=coldstarts.analyse(snapshot))`` starts from a function;
    ``ColdStartsExplorer()`` from a synthetic pattern. Drive it with ``ex.set(provisioned=2, keep_alive="seed")``.
    """

    primary = "peak_per_min"
    title = "Cold starts: traffic, keep-alive and provisioned concurrency"
    KEEP_ALIVE_CHOICES = ("measured-2025", "measured-2021", "seed", "fixed-10", "2017", 1.0, 5.0, 15.0, 30.0, 60.0)
    SCHEDULES = {"always on": None, "busy hours of the traffic": "auto", "mon-fri 08-18 UTC": "mon-fri 08-18 UTC"}

    @renamed(function_name="function")
    def __init__(self, snapshot=None, function_name: str | None = None, *, table: pd.DataFrame | None = None) -> None:
        from . import coldstarts, plots

        super().__init__()
        self._cs, self._plots = coldstarts, plots
        self.row, self.observed = None, None
        if snapshot is not None:
            table = coldstarts.analyse(snapshot) if table is None else table
            if function_name is None:
                function_name = str(table.sort_values("cold_starts", ascending=False)["function_name"].iloc[0])
            self.row = table[table["function_name"] == function_name].iloc[0]
            self.observed = coldstarts.invocation_series(snapshot, function_name, account_id=self.row["account_id"],
                                                         region=self.row["region"])
            self.observed_concurrency = coldstarts.observed_concurrency(
                snapshot, function_name, account_id=self.row["account_id"], region=self.row["region"])
        r = self.row
        peak = float(self.observed.max()) if self.observed is not None and self.observed.max() > 0 else 10.0
        style = STYLE
        patterns = ([("observed: " + str(r["function_name"]), "observed")] if r is not None else []) + \
            [(p, p) for p in coldstarts.PATTERNS]
        keep = [(k if isinstance(k, str) else f"fixed {k:g} min", k) for k in self.KEEP_ALIVE_CHOICES]
        duration = float(r["duration_mean_ms"]) if r is not None else 200.0
        init = float(r["init_mean_ms"]) if r is not None else 400.0
        self.controls = {
            "traffic": widgets.Dropdown(options=patterns, value=patterns[0][1], description="traffic", style=style),
            "peak_per_min": _log_slider(peak, 1e-3, 1e5, "peak calls/min"),
            "duration_ms": _log_slider(duration, 1.0, 900_000, "duration (ms)"),
            "init_ms": _log_slider(init, 1.0, 10_000, "INIT (ms)"),
            "memory_mb": _memory_slider(int(r["memory_mb"]) if r is not None else 1024),
            "keep_alive": widgets.Dropdown(options=keep, value=coldstarts.DEFAULT_SCENARIO, description="keep-alive", style=style),
            "model": widgets.Dropdown(options=[("MRU pool (poisson)", "poisson"), ("spread over pool (peak)", "peak")],
                                      value=str(r["model"]) if r is not None else "poisson", description="routing",
                                      style=style),
            "provisioned": widgets.IntSlider(value=int(r["provisioned"]) if r is not None else 0, min=0,
                                             max=max(50, 2 * int(r["provisioned"]) if r is not None else 0),
                                             description="provisioned", style=style),
            "schedule": widgets.Dropdown(options=list(self.SCHEDULES), value="always on", description="PC schedule",
                                         style=style),
        }
        self._observed_peak = peak
        first = self.compute(**self.values)
        self.figure = go.FigureWidget(plots.cold_start_timeline(first["hourly"], self._timeline_title(first)))
        self._start()

    def _series(self, traffic: str, peak_per_min: float) -> pd.Series:
        if traffic == "observed":
            if abs(peak_per_min / self._observed_peak - 1.0) < 1e-9:
                return self.observed
            return self.observed * (peak_per_min / self._observed_peak)     # scaled: read as Poisson rates
        return self._cs.synthetic_traffic(traffic, peak_per_min, days=7)

    def compute(self, **v: Any) -> dict[str, Any]:
        cs = self._cs
        series = self._series(v["traffic"], v["peak_per_min"])
        if series.sum() <= 0:
            raise ValueError("the traffic pattern has no invocations at this rate")
        spec = self.SCHEDULES[v["schedule"]]
        schedule = cs.busy_schedule(series) if spec == "auto" else spec
        r = self.row
        runtime = str(r["runtime"]) if r is not None else "python3.12"
        arch = str(r["arch"]) if r is not None else "x86_64"
        n = int(v["provisioned"])
        latency = (float(r["duration_p50_ms"]), float(r["duration_p99_ms"]), float(r["init_p50_ms"]),
                   float(r["init_p99_ms"])) if r is not None and v["traffic"] == "observed" else \
            (v["duration_ms"], 1.5 * v["duration_ms"], v["init_ms"], 1.5 * v["init_ms"])
        options = cs.pc_options(series, v["duration_ms"], v["memory_mb"], arch=arch, init_ms=v["init_ms"],
                                counts=(0, n), schedule=schedule, keep_alive_min=v["keep_alive"], model=v["model"],
                                runtime=runtime, latency=latency)
        pc = n if schedule is None else np.where(
            (cs.Schedule.parse(schedule) if isinstance(schedule, str) else schedule).mask(series.index), n, 0)
        profile = cs.cold_start_profile(series, v["duration_ms"], keep_alive_min=v["keep_alive"], model=v["model"],
                                        provisioned=pc)
        hourly = profile[["invocations", "cold_starts"]].resample("h").sum()
        observed = getattr(self, "observed_concurrency", None)
        hourly["concurrency_max_observed"] = observed.reindex(hourly.index) \
            if observed is not None and v["traffic"] == "observed" else np.nan
        hourly["provisioned"] = profile["provisioned"].resample("h").mean()
        chosen = options.iloc[-1] if n == 0 else options[options["provisioned"] == n].iloc[-1]
        return {"hourly": hourly, "options": options, "cold_starts": float(profile["cold_starts"].sum()),
                "invocations": float(profile["invocations"].sum()), "chosen": chosen, "schedule": schedule}

    def _timeline_title(self, result: dict[str, Any]) -> str:
        share = result["cold_starts"] / result["invocations"] if result["invocations"] else 0.0
        return f"Hourly invocations and modelled cold starts: {result['cold_starts']:,.0f} cold ({share:.2%})"

    def draw(self, result: dict[str, Any]) -> None:
        self.redraw(self._plots.cold_start_timeline(result["hourly"], self._timeline_title(result)), "x", "y")
        self.show_table(self._cs.options_view(result["options"]))


class MemoryExplorer(Explorer):
    """Memory and architecture: a function of the snapshot, what picks the size (the review's decision by default,
    or a strategy), the decision's policy, an SLO and an architecture → the predicted duration and monthly cost
    over memory with their bands and the picked size.

    The default pick is :class:`memory.Decision` at the review's policy (``memory.Policy()``, the same object the
    finding is rendered from), so a function at the same settings gets the same answer here, in the memory
    notebook's table and in the review; the table states the rule behind the pick. The strategies (cost, speed,
    balanced) are ``memory.recommend`` on the same fitted model, priced like the notebook's curve, and are never a
    finding. ``MemoryExplorer(snapshot, "orders-api")``; each function's model is fitted once and cached.

    ``MemoryExplorer(snapshot, name, **memory.policy(p))`` starts from the memory notebook's settings (its policy
    sets the sliders; ``pick="strategy"`` opens on the notebook's strategy instead of the decision). The function
    is picked by searching (:class:`lambda_workbook.function_picker.FunctionPicker`: at most 50 entries listed,
    largest finding first, ``findings=`` the review's table); with no name it opens on the largest finding.
    """

    primary = "function_name"
    title = "Memory: predicted duration and monthly cost over memory, and the picked size"
    PICKS = (("review decision", "decision"), ("strategy: cost", "cost"), ("strategy: speed", "speed"),
             ("strategy: balanced", "balanced"))
    NO_SLO = 1e5   # the SLO slider's top: today's mean plus max slowdown (as in the notebook)

    SETTINGS = ("max_slowdown", "min_savings_share", "cost_tolerance", "confidence", "latency_slo_ms",
                "balanced_weight", "strategy")
    POLICY = ("headroom", "plausible", "min_measure_usd", "min_speedup")

    @renamed(function_name="function")
    def __init__(self, snapshot, function_name: str | None = None, *, level: float = 0.9, pick: str = "decision",
                 findings: pd.DataFrame | None = None, **settings: Any) -> None:
        from . import memory, plots

        super().__init__()
        self._memory, self._plots, self.snapshot, self.level = memory, plots, snapshot, level
        unknown = set(settings) - set(self.SETTINGS) - set(self.POLICY)
        if unknown:
            raise KeyError(f"MemoryExplorer has no setting(s) {sorted(unknown)}; it takes "
                           f"{', '.join(self.SETTINGS + self.POLICY)}")
        if pick not in ("decision", "strategy"):
            raise ValueError(f"pick must be 'decision' or 'strategy', got {pick!r}")
        self.policy = {"headroom": memory.DEFAULT_HEADROOM, **{k: v for k, v in settings.items() if k in self.POLICY}}
        self._fits: dict[Any, Any] = {}
        names = sorted(snapshot.reports.loc[snapshot.reports["invocations"] > 0, "function_name"].unique())
        if not names:
            raise ValueError("the snapshot has no function with invocations to explore")
        names, why = explorer_order(snapshot, names, findings, function_name)
        function_name = function_name or names[0]
        if function_name not in names:
            raise KeyError(f"function {function_name!r} has no REPORT data in the snapshot "
                           f"(have {', '.join(names[:8])}, ...)")
        obs, _ = self._fit(function_name)
        default = memory.Policy()
        start = {"max_slowdown": default.max_slowdown, "min_savings_share": default.min_savings_share,
                 "cost_tolerance": default.cost_tolerance, "confidence": default.confidence,
                 "latency_slo_ms": self.NO_SLO, "balanced_weight": 0.5, "strategy": "cost",
                 **{k: v for k, v in settings.items() if k in self.SETTINGS and v is not None}}
        if start["strategy"] not in memory.STRATEGIES:
            raise ValueError(f"strategy must be one of {memory.STRATEGIES}, got {start['strategy']!r}")
        style = STYLE

        def share(value: float, description: str, high: float) -> widgets.FloatSlider:
            return widgets.FloatSlider(value=value, min=0.0, max=high, step=0.01, description=description,
                                       readout_format=".0%", style=style)

        self.controls = {
            "function_name": FunctionPicker(names, function_name, description="function", style=style, ordered_by=why),
            "strategy": widgets.Dropdown(options=self.PICKS, value="decision" if pick == "decision" else start["strategy"],
                                         description="pick", style=style),
            "arch": widgets.ToggleButtons(options=billing.ARCHITECTURES, value=obs["arch"], description="architecture",
                                          style=style),
            "max_slowdown": share(start["max_slowdown"], "max slowdown", 1.0),
            "min_savings_share": share(start["min_savings_share"], "min saving", 0.9),
            "cost_tolerance": share(start["cost_tolerance"], "cost tolerance", 0.5),
            "confidence": widgets.FloatSlider(value=start["confidence"], min=0.5, max=0.99, step=0.01,
                                              description="probability", readout_format=".0%", style=style),
            "latency_slo_ms": _log_slider(start["latency_slo_ms"], 1.0, self.NO_SLO,
                                          "SLO (ms, max = today + max slowdown)", ".4g", step=0.02),
            "balanced_weight": widgets.FloatSlider(value=start["balanced_weight"], min=0.0, max=1.0, step=0.05,
                                                   disabled=True, description="balanced: cost weight", style=style),
        }
        self.figure = go.FigureWidget(self._figure(self.compute(**self.values)))
        self._start()

    def _fit(self, name: str):
        if name not in self._fits:
            obs = self._memory.function_observations(self.snapshot, name)
            self._fits[name] = (obs, self._memory.fit_function(obs))
        return self._fits[name]

    def policy_for(self, *, max_slowdown: float, min_savings_share: float, cost_tolerance: float,
                   confidence: float, **_: Any):
        """The decision's :class:`memory.Policy` at these control values (``policy_from``, as the review builds it)."""
        return self._memory.policy_from(max_slowdown=max_slowdown, min_savings_share=min_savings_share,
                                        cost_tolerance=cost_tolerance, confidence=confidence, **self.policy)

    @renamed(function_name="name")
    def decision(self, function_name: str, policy=None):
        """The decision for ``function_name`` at ``policy`` (default: the review's), the object its finding is
        rendered from; cached per function and policy."""
        pol = policy or self._memory.policy_from(**self.policy)
        key = ("decision", function_name, pol)
        if key not in self._fits:
            obs, model = self._fit(function_name)
            self._fits[key] = self._memory.decide_function(obs, model, pol)
        return self._fits[key]

    @renamed(function_name="function")
    def compute(self, *, function_name: str, strategy: str, arch: str, latency_slo_ms: float, cost_tolerance: float,
                balanced_weight: float, max_slowdown: float, min_savings_share: float, confidence: float) -> Any:
        obs, model = self._fit(function_name)
        pol = self.policy_for(max_slowdown=max_slowdown, min_savings_share=min_savings_share,
                              cost_tolerance=cost_tolerance, confidence=confidence)
        dec = self.decision(function_name, pol)
        slo = obs["duration_mean_ms"] * (1 + max_slowdown) if latency_slo_ms >= self.NO_SLO else float(latency_slo_ms)
        rec = self._memory.recommend(
            model, strategy="cost" if strategy == "decision" else strategy, arch=arch, region=obs["region"],
            latency_slo_ms=slo, cost_tolerance=cost_tolerance or None, balanced_weight=balanced_weight,
            current_memory_mb=obs["memory_mb"], invocations_per_month=obs["invocations_per_month"],
            init_ms=obs["init_mean_ms"], cold_start_share=obs["cold_start_share"], slo_confidence=confidence,
            provisioned_concurrency=obs["provisioned_concurrency"], level=self.level,
            headroom=self.policy["headroom"])
        if strategy == "decision":
            p = self._memory.pick(dec, arch)
            rule = p["rule"]
            point = {"memory_mb": p["memory_mb"], "duration_ms": p["duration_ms"], "monthly_cost": p["monthly_cost"]}
            saving, band, prob, text = p["saving_usd"], p["saving_band"], p["probability"], p["text"]
        else:
            rule = (f"the {strategy} strategy on the predicted curve (mean ≤ {slo:,.0f} ms with {confidence:.0%} "
                    f"probability{f', within {cost_tolerance:.0%} of the cheapest' if cost_tolerance else ''}); "
                    "a view, never a finding")
            point = rec.points()["recommended"]
            saving, band, prob = rec.monthly_savings, rec.savings_interval, float("nan")
            text = f"the {strategy} strategy's {rec.memory_mb:,.0f} MB (the review's decision: {dec.title()})"
        return self._memory.MemoryPick(function_name=function_name, mode=strategy, arch=arch, memory_mb=float(point["memory_mb"]),
                          duration_ms=float(point["duration_ms"]), monthly_cost=float(point["monthly_cost"]),
                          monthly_savings=saving, savings_band=band, probability=prob, rule=rule, text=text,
                          decision=dec, recommendation=rec, current_memory_mb=float(obs["memory_mb"]),
                          observed=model.observations if arch == model.arch else None)

    def _figure(self, r):
        saving = r.monthly_savings or 0.0
        money = f"saves ${saving:,.2f}/month" if saving >= 0 else f"costs ${-saving:,.2f}/month more"
        what = "the review's decision" if r.mode == "decision" else f"the {r.mode} strategy"
        title = (f"{r.function_name}: {what} on {r.arch}: {r.memory_mb:,.0f} MB ({money} than today)"
                 f"<br><sup>{r.text}</sup>")
        rec = r.recommendation
        return self._plots.memory_tradeoff(rec.curve, r.observed, current=rec.points()["current"],
                                           recommended={"memory_mb": r.memory_mb, "duration_ms": r.duration_ms,
                                                        "monthly_cost": r.monthly_cost},
                                           title=title, level=self.level, arch=r.arch)

    def draw(self, r) -> None:
        self.controls["balanced_weight"].disabled = r.mode != "balanced"
        self.redraw(self._figure(r), "x", "y", "name")
        d = r.decision
        band = "" if r.savings_band is None else f"${r.savings_band[0]:,.2f} to ${r.savings_band[1]:,.2f}"
        rows = {"pick": f"{r.memory_mb:,.0f} MB on {r.arch}", "rule": r.rule,
                "probability": "" if r.probability != r.probability else f"{r.probability:.0%}",
                "duration_ms": r.duration_ms, "monthly_cost": r.monthly_cost, "current_memory_mb": r.current_memory_mb,
                "monthly_savings": r.monthly_savings,
                f"savings bounds ({d.policy.confidence:.0%} each)" if r.mode == "decision" else
                f"savings band ({self.level:.0%})": band,
                "review decision": d.title(), "how sure": d.note(), "what to do": d.recommendation()}
        self.show_table(pd.DataFrame({"value": pd.Series(rows, dtype=object)}))

