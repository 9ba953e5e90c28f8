"""Plotly figures over the models' tables. Skins only: every number comes from a pure function.

Every figure has a title, axis titles with units and hover text. :func:`setup` picks a renderer that shows
figures in JupyterLab and also embeds them in nbconvert HTML so reports render with no network.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

ARCH_COLORS = {"x86_64": "#4C78A8", "arm64": "#F58518"}
PART_COLORS = {"request_usd": "#72B7B2", "compute_usd": "#4C78A8", "pc_usd": "#E45756"}
PART_NAMES = {"request_usd": "Requests", "compute_usd": "Compute (incl. billed INIT)", "pc_usd": "Provisioned concurrency"}


def setup() -> None:
    """Notebook display: a plotly renderer that works in JupyterLab (mimetype) and in offline HTML reports
    (inlined plotly.js), and pandas tables that show every function."""
    pio.renderers.default = "plotly_mimetype+notebook"
    pd.set_option("display.max_rows", 500)
    pd.set_option("display.max_columns", 50)
    pd.set_option("display.precision", 2)
    from . import tables

    tables.setup()   # every DataFrame a notebook shows goes through the one table formatting layer


def _layout(fig: go.Figure, title: str, x: str, y: str, **extra) -> go.Figure:
    fig.update_layout(title={"text": title}, xaxis_title=x, yaxis_title=y, template="plotly_white",
                      legend_title_text=extra.pop("legend", None), margin={"l": 10, "r": 10, "t": 60, "b": 10},
                      **extra)
    return fig


def cost_by_function(costs: pd.DataFrame, top: int = 15) -> go.Figure:
    """Horizontal stacked bars of monthly cost per function, biggest first."""
    data = costs.nlargest(top, "monthly_usd").iloc[::-1]
    labels = data["function_name"] + " (" + data["account_id"].str[-4:] + ")"
    fig = go.Figure()
    for part, name in PART_NAMES.items():
        fig.add_bar(y=labels, x=data[part], name=name, orientation="h", marker_color=PART_COLORS[part],
                    hovertemplate="%{y}<br>" + name + ": $%{x:,.2f}/month<extra></extra>")
    return _layout(fig, f"Monthly Lambda cost by function (top {min(top, len(costs))})", "USD per month",
                   "function (account …last 4 digits)", barmode="stack", legend="cost part",
                   height=max(320, 28 * len(data) + 120))


def cost_by_memory_arch(by_memory: pd.DataFrame) -> go.Figure:
    """Grouped bars: monthly cost per configured memory size, split by architecture."""
    fig = go.Figure()
    for arch, part in by_memory.groupby("arch"):
        fig.add_bar(x=part["memory_mb"].astype(str), y=part["monthly_usd"], name=arch,
                    marker_color=ARCH_COLORS.get(arch), customdata=part[["functions"]],
                    hovertemplate="%{x} MB, " + arch + "<br>$%{y:,.2f}/month<br>%{customdata[0]} function(s)<extra></extra>")
    fig.update_xaxes(type="category")
    return _layout(fig, "Monthly Lambda cost by memory size and architecture", "configured memory (MB)",
                   "USD per month", barmode="group", legend="architecture")


def duration_vs_memory(costs: pd.DataFrame, top: int | None = None) -> go.Figure:
    """Each function as a point: configured memory against mean duration, sized by monthly cost. ``top``: only
    the costliest ``top`` functions are drawn (the title says how many of how many), so a page with 10,000
    functions stays light."""
    total = len(costs)
    if top is not None:
        if top < 1:
            raise ValueError(f"top must be at least 1 function, got {top!r}")
        costs = costs.nlargest(top, "monthly_usd")
    fig = go.Figure()
    for arch, part in costs.groupby("arch"):
        size = (part["monthly_usd"].clip(lower=0.01) ** 0.5) * 4 + 6
        fig.add_scatter(x=part["memory_mb"], y=part["duration_mean_ms"], mode="markers", name=arch,
                        marker={"size": size, "color": ARCH_COLORS.get(arch), "opacity": 0.75},
                        text=part["function_name"], customdata=part[["monthly_usd"]],
                        hovertemplate="%{text}<br>%{x} MB, %{y:,.0f} ms<br>$%{customdata[0]:,.2f}/month<extra></extra>")
    sizes = [128, 256, 512, 1024, 1769, 3008, 5120, 10240]
    fig.update_xaxes(type="log", tickvals=sizes, ticktext=[f"{s:,}" for s in sizes])
    fig.update_yaxes(type="log")
    shown = "" if len(costs) >= total else f"; the costliest {len(costs):,} of {total:,} functions"
    return _layout(fig, f"Mean duration against configured memory (marker area ~ monthly cost{shown})",
                   "configured memory (MB, log scale)", "mean duration (ms, log scale)", legend="architecture")


# -- options a workload may not be able to use (invocation sources, read options) -----------------------------

UNAVAILABLE_COLOR = "#D9D9D9"


def _usable_first(table: pd.DataFrame, usable: str) -> pd.DataFrame:
    """The options with ``_bad`` = not ``usable``: usable ones first, each group cheapest first."""
    return table.assign(_bad=~table[usable].astype(bool)).sort_values(["_bad", "monthly_cost"])


def _option_bars(data: pd.DataFrame, parts: dict[str, tuple[str, str]], customdata, hover) -> go.Figure:
    """Stacked horizontal bars, one row per option of ``data`` (from :func:`_usable_first`, top to bottom) and one
    trace per cost part; unusable options are greyed and marked ✗. ``hover(part name)`` gives the hover template."""
    labels = [f"{o} ✗" if bad else str(o) for o, bad in zip(data.index, data["_bad"], strict=True)]
    fig = go.Figure()
    for part, (name, color) in parts.items():
        fig.add_bar(y=labels, x=data[part], name=name, orientation="h", customdata=customdata,
                    marker_color=[UNAVAILABLE_COLOR if bad else color for bad in data["_bad"]], hovertemplate=hover(name))
    fig.update_yaxes(autorange="reversed")
    return fig


# -- invocation sources (lambda_workbook.triggers) -------------------------------------------------------

TRIGGER_PARTS = {"source_cost": ("Invocation source", "#72B7B2"), "lambda_cost": ("Lambda (requests + compute)", "#4C78A8")}


def trigger_costs(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Stacked horizontal bars per invocation source: the source's own monthly cost and the Lambda cost it
    causes (from ``triggers.compare``). Feasible sources come first, cheapest at the top; sources the workload
    cannot use are greyed and marked ✗, with the reason in the hover text. Always two traces (for live updates)."""
    from .unpriced import lower_bound_text

    data = _usable_first(table, "feasible")
    why = data["reason"].where(data["_bad"], "feasible")
    if "unpriced" in data:   # a total that leaves an unknown part out says so
        unknown = data["unpriced"].map(lower_bound_text)
        why = why.where(unknown == "", why + "; " + unknown)
    custom = list(zip(data["name"], why, data["monthly_cost"], strict=True))
    fig = _option_bars(data, TRIGGER_PARTS, custom, lambda name: "%{customdata[0]}<br>" + name + ": $%{x:,.2f}/month"
                       "<br>total: $%{customdata[2]:,.2f}/month<br>%{customdata[1]}<extra></extra>")
    return _layout(fig, title or "Monthly cost by invocation source", "USD per month",
                   "invocation source (✗ = not feasible for this workload)", barmode="stack", legend="cost part",
                   height=max(360, 26 * len(data) + 140))


def batching_curves(grid: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Cost (top) and added wait (bottom) against batch size, one line per batching window, from
    ``triggers.batching``. Settings the API refuses are left out."""
    from plotly.subplots import make_subplots

    source = grid.attrs.get("source", "")
    ok = grid[grid["feasible"]]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    for i, (window, part) in enumerate(ok.groupby("window_s")):
        color = f"hsl({int(220 - 200 * i / max(ok['window_s'].nunique() - 1, 1))},60%,45%)"
        label = f"window {window:g} s"
        common = {"x": part["batch_size"], "mode": "lines+markers", "name": label, "legendgroup": label,
                  "line": {"color": color}, "customdata": part[["batch_fill", "batch_wait_max_s", "monthly_cost"]]}
        fig.add_scatter(y=part["monthly_cost"], row=1, col=1, **common,
                        hovertemplate="batch %{x}, " + label + "<br>$%{y:,.2f}/month<br>≈%{customdata[0]:.3g} "
                                      "events/invocation<br>wait ≤ %{customdata[1]:.3g} s<extra></extra>")
        fig.add_scatter(y=part["batch_wait_max_s"], row=2, col=1, showlegend=False, **common,
                        hovertemplate="batch %{x}, " + label + "<br>wait ≤ %{y:.3g} s<br>$%{customdata[2]:,.2f}"
                                      "/month<extra></extra>")
    fig.update_xaxes(type="log", title_text="batch size (events, log scale)", row=2, col=1)
    fig.update_yaxes(title_text="USD per month", row=1, col=1)
    fig.update_yaxes(title_text="added wait (s)", row=2, col=1)
    fig = _layout(fig, title or f"Batching {source}: monthly cost and added wait against batch size",
                  "", "USD per month", legend="batching window", height=620)
    fig.update_xaxes(title_text="", row=1, col=1)
    return fig


# -- read only what you need (lambda_workbook.reads) ----------------------------------------------------------

READ_PARTS = {"request_usd": ("Requests / read units", "#72B7B2"), "service_usd": ("Scan fees / index upkeep", "#E45756"),
              "transfer_usd": ("Data transfer", "#B279A2"), "lambda_usd": ("Lambda time reading and parsing", "#4C78A8")}


def read_options_cost(options: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Stacked horizontal bars: each read option's monthly cost by part (from ``reads.s3_options`` or
    ``reads.dynamodb_options``, ranked or not). Options that cannot be used (closed service, unknown layout, not
    enough memory) are greyed and marked ✗ with the reason in the hover text. Always four traces (live updates)."""
    data = _usable_first(options, "usable")
    why = [r.get("why_not") or ("" if r["usable"] else r["status"]) or "usable" for _, r in data.iterrows()]
    custom = list(zip(data["monthly_cost"], data["monthly_cost_low"], data["monthly_cost_high"], why,
                      data["requires"], strict=True))
    fig = _option_bars(data, READ_PARTS, custom, lambda name: "%{y}<br>" + name + ": $%{x:,.4g}/month<br>total "
                       "$%{customdata[0]:,.4g} ($%{customdata[1]:,.4g}–$%{customdata[2]:,.4g})<br>needs: "
                       "%{customdata[4]}<br>%{customdata[3]}<extra></extra>")
    kind = {"s3": "an S3 object", "dynamodb": "a DynamoDB table"}.get(options.attrs.get("kind"), "a data store")
    return _layout(fig, title or f"Monthly cost of reading what you need from {kind}", "USD per month",
                   "read option (✗ = cannot be used as entered)", barmode="stack", legend="cost part",
                   height=max(320, 40 * len(data) + 160))


def read_options_time(options: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Lambda milliseconds per read for each option with the network band as error bars; an option whose
    query or evaluation time is not published is marked "+ unknown wait"."""
    data = options.sort_values("lambda_ms")
    labels = [f"{o} + unknown wait" if not known else str(o) for o, known in
              zip(data.index, data["latency_known"], strict=True)]
    fig = go.Figure()
    fig.add_bar(x=labels, y=data["lambda_ms"], name="Lambda time per read", marker_color="#4C78A8",
                error_y={"type": "data", "symmetric": False, "array": data["lambda_ms_high"] - data["lambda_ms"],
                         "arrayminus": data["lambda_ms"] - data["lambda_ms_low"]},
                customdata=data[["bytes_transferred_mb", "memory_needed_mb"]],
                hovertemplate="%{x}<br>%{y:,.4g} ms per read<br>%{customdata[0]:,.4g} MB moved<br>"
                              "needs %{customdata[1]:,.0f} MB of memory<extra></extra>")
    memory = options.attrs.get("memory_mb")
    at = f" at {memory:g} MB" if memory else ""
    return _layout(fig, title or f"Lambda time per read{at} (bars: network band)", "read option",
                   "milliseconds per read")


def read_sweep(sweep: pd.DataFrame, x: str, y: str = "monthly_cost", title: str | None = None,
               x_title: str | None = None) -> go.Figure:
    """One line per option from ``reads.sweep`` (e.g. monthly cost against the fraction needed); options that
    cannot be used at a point are left out there."""
    fig = go.Figure()
    for option, part in sweep[sweep["usable"]].groupby("option", sort=False):
        fig.add_scatter(x=part[x], y=part[y], mode="lines+markers", name=str(option),
                        hovertemplate=f"{option}<br>{x} %{{x:,.4g}}<br>{y} %{{y:,.4g}}<extra></extra>")
    fig.update_xaxes(type="log", dtick=1)
    y_title = {"monthly_cost": "USD per month", "lambda_ms": "Lambda ms per read",
               "bytes_transferred_mb": "MB moved per read"}.get(y, y)
    return _layout(fig, title or f"{y_title} against {x}", x_title or f"{x} (log scale)", y_title,
                   legend="read option")


# ---- cold starts, INIT and provisioned concurrency ---------------------------------------------------------

SCENARIO_COLORS = {"measured-2025": "#E45756", "measured-2021": "#4C78A8", "seed": "#F58518", "fixed-10": "#54A24B", "2017": "#B279A2"}
OPTION_PARTS = {"pc_allocation_usd": ("PC allocation", "#E45756"), "pc_served_usd": ("PC duration + requests", "#FF9DA6"),
                "on_demand_usd": ("On-demand (incl. billed INIT)", "#4C78A8"), "snapstart_usd": ("SnapStart cache + restore", "#72B7B2")}


def cold_starts_observed_vs_modelled(table: pd.DataFrame) -> go.Figure:
    """Each function: cold starts counted in its REPORT lines against the model's, log-log with the diagonal."""
    data = table[(table["observed_cold_starts"] > 0) | (table["modelled_cold_starts"] > 0)]
    x, y = data["observed_cold_starts"].clip(lower=0.5), data["modelled_cold_starts"].clip(lower=0.5)
    top = float(max(x.max(), y.max(), 1.0)) * 1.5 if len(data) else 10.0
    fig = go.Figure()
    fig.add_scatter(x=[0.5, top], y=[0.5, top], mode="lines", name="model = observed",
                    line={"dash": "dot", "color": "#888"}, hoverinfo="skip")
    fig.add_scatter(x=x, y=y, mode="markers", name="function", text=data["function_name"],
                    marker={"size": 9, "color": "#4C78A8"},
                    hovertemplate="%{text}<br>observed %{x:,.0f}<br>modelled %{y:,.0f}<extra></extra>")
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    model = table.attrs.get("model", "")
    return _layout(fig, f"Cold starts in the window: REPORT lines vs the model ({model} routing)",
                   "observed cold starts (REPORT lines with Init Duration, log)", "modelled cold starts (log)")


def p99_with_cold_starts(table: pd.DataFrame, top: int = 12) -> go.Figure:
    """p99 latency of warm invocations next to the p99 once cold starts are mixed in, worst first."""
    data = table.dropna(subset=["p99_inflation"]).nlargest(top, "p99_inflation").iloc[::-1]
    fig = go.Figure()
    fig.add_bar(y=data["function_name"], x=data["p99_warm_ms"], orientation="h", name="warm invocations",
                marker_color="#72B7B2", hovertemplate="%{y}: %{x:,.0f} ms warm p99<extra></extra>")
    fig.add_bar(y=data["function_name"], x=data["p99_ms"], orientation="h", name="with cold starts",
                marker_color="#E45756", customdata=data[["cold_share"]] * 100,
                hovertemplate="%{y}: %{x:,.0f} ms p99 with %{customdata[0]:.2f}% cold starts<extra></extra>")
    return _layout(fig, f"p99 latency with and without cold starts (top {len(data)} by inflation)",
                   "p99 latency (ms; duration + INIT for cold invocations)", "function", barmode="group",
                   legend="invocations", height=max(320, 40 * len(data) + 120))


def keep_alive_curves(scenarios: dict, max_minutes: float = 30.0) -> go.Figure:
    """P(an environment is gone) against idle minutes, one line per keep-alive scenario."""
    import numpy as np

    x = np.linspace(0, max_minutes, 301)
    fig = go.Figure()
    for name, ka in scenarios.items():
        fig.add_scatter(x=x, y=ka.p_evicted(x), mode="lines", name=name, line={"color": SCENARIO_COLORS.get(name)},
                        hovertemplate=f"{name}: idle %{{x:.1f}} min → %{{y:.0%}} evicted<extra></extra>")
    fig.update_yaxes(tickformat=".0%", range=[-0.02, 1.02])
    return _layout(fig, "Keep-alive scenarios: chance an idle environment is gone", "idle time (minutes)",
                   "probability of a cold start", legend="scenario")


def keep_alive_scenarios(scen: pd.DataFrame, top: int = 10) -> go.Figure:
    """Modelled cold starts per function under each keep-alive scenario (functions with the most first)."""
    data = scen.loc[scen.max(axis=1).nlargest(top).index]
    fig = go.Figure()
    for name in scen.columns:
        fig.add_bar(x=data.index, y=data[name], name=name, marker_color=SCENARIO_COLORS.get(name),
                    hovertemplate="%{x}<br>" + name + ": %{y:,.0f} cold starts<extra></extra>")
    return _layout(fig, f"Modelled cold starts in the window by keep-alive scenario (top {len(data)})", "function",
                   "cold starts in the window", barmode="group", legend="scenario")


def cold_start_timeline(hourly: pd.DataFrame, title: str) -> go.Figure:
    """Hourly invocations (bars); modelled cold starts, observed concurrency and provisioned environments (lines,
    right axis)."""
    fig = go.Figure()
    fig.add_bar(x=hourly.index, y=hourly["invocations"], name="invocations", marker_color="#C6DBEF",
                hovertemplate="%{x}<br>%{y:,.0f} invocations<extra></extra>")
    fig.add_scatter(x=hourly.index, y=hourly["cold_starts"], name="modelled cold starts", yaxis="y2",
                    mode="lines", line={"color": "#E45756"},
                    hovertemplate="%{x}<br>%{y:,.2f} cold starts<extra></extra>")
    if "concurrency_max_observed" in hourly:
        fig.add_scatter(x=hourly.index, y=hourly["concurrency_max_observed"], name="observed max concurrency",
                        yaxis="y2", mode="lines", line={"color": "#54A24B", "dash": "dot"},
                        hovertemplate="%{x}<br>max concurrency %{y:,.0f}<extra></extra>")
    if "provisioned" in hourly:
        fig.add_scatter(x=hourly.index, y=hourly["provisioned"], name="provisioned environments", yaxis="y2",
                        mode="lines", line={"color": "#B279A2", "shape": "hv"},
                        hovertemplate="%{x}<br>%{y:,.1f} provisioned<extra></extra>")
    fig.update_layout(yaxis2={"title": "cold starts / concurrency per hour", "overlaying": "y", "side": "right",
                              "rangemode": "tozero"})
    return _layout(fig, title, "hour (UTC)", "invocations per hour", legend="series")


def pc_options_cost(options: pd.DataFrame, title: str) -> go.Figure:
    """Monthly cost of each option (stacked parts) with its modelled cold starts on the right axis."""
    fig = go.Figure()
    for part, (name, color) in OPTION_PARTS.items():
        if part in options:
            fig.add_bar(x=options["option"], y=options[part], name=name, marker_color=color,
                        hovertemplate="%{x}<br>" + name + ": $%{y:,.2f}/month<extra></extra>")
    fig.add_scatter(x=options["option"], y=options["cold_starts_month"], name="cold starts / month", yaxis="y2",
                    mode="markers", marker={"size": 11, "symbol": "diamond", "color": "#222"},
                    hovertemplate="%{x}<br>%{y:,.0f} cold starts a month<extra></extra>")
    fig.update_layout(yaxis2={"title": "cold starts per month", "overlaying": "y", "side": "right",
                              "rangemode": "tozero"})
    return _layout(fig, title, "option", "USD per month (list prices)", barmode="stack", legend="part")


# --------------------------------------------------------------------------------------------------------
# memory and architecture

MEMORY_TRACES = ("duration band", "duration", "cost band", "monthly cost", "measured", "current duration",
                 "recommended duration", "current cost", "recommended cost")


def _band(fig: go.Figure, x, lo, hi, color: str, name: str, row: int) -> None:
    xs = list(x) + list(x)[::-1]
    ys = list(hi) + list(lo)[::-1]
    fig.add_scatter(x=xs, y=ys, fill="toself", fillcolor=color, line={"width": 0}, name=name, hoverinfo="skip",
                    row=row, col=1)


def memory_tradeoff(curve: pd.DataFrame, observed: pd.DataFrame | None = None, *, current: dict | None = None,
                    recommended: dict | None = None, title: str = "Duration and monthly cost against memory",
                    level: float = 0.9, arch: str = "x86_64") -> go.Figure:
    """Two panels over memory: predicted mean warm duration and monthly cost, each with its ``level`` band,
    the measured sizes, today's size and the recommended one. ``curve`` is ``Recommendation.curve``;
    ``current`` / ``recommended`` are dicts with memory_mb, duration_ms and monthly_cost.

    The trace order is fixed (:data:`MEMORY_TRACES`) so a live explorer can update the data in place.
    """
    from plotly.subplots import make_subplots

    color = ARCH_COLORS.get(arch, "#4C78A8")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    m = curve["memory_mb"]
    _band(fig, m, curve["duration_low_ms"], curve["duration_high_ms"], "rgba(76,120,168,0.18)",
          f"duration, {level:.0%} band", 1)
    fig.add_scatter(x=m, y=curve["duration_ms"], mode="lines", name=f"predicted mean duration ({arch})",
                    line={"color": color}, hovertemplate="%{x:,.0f} MB<br>%{y:,.1f} ms<extra></extra>", row=1, col=1)
    _band(fig, m, curve["monthly_cost_low"], curve["monthly_cost_high"], "rgba(84,162,75,0.18)",
          f"cost, {level:.0%} band", 2)
    fig.add_scatter(x=m, y=curve["monthly_cost"], mode="lines", name="monthly cost", line={"color": "#54A24B"},
                    hovertemplate="%{x:,.0f} MB<br>$%{y:,.2f}/month<extra></extra>", row=2, col=1)
    obs = observed if observed is not None else pd.DataFrame({"memory_mb": [], "mean_ms": []})
    fig.add_scatter(x=obs["memory_mb"], y=obs["mean_ms"], mode="markers", name="measured mean",
                    marker={"color": "#222", "size": 9, "symbol": "x"},
                    hovertemplate="measured %{x:,.0f} MB<br>%{y:,.1f} ms<extra></extra>", row=1, col=1)
    for row, field, unit in ((1, "duration_ms", "%{y:,.1f} ms"), (2, "monthly_cost", "$%{y:,.2f}/month")):
        for key, point, symbol, mcolor in (("current", current, "circle-open", "#E45756"),
                                           ("strategy's point (predicted)", recommended, "star", "#B279A2")):
            p = point or {}
            fig.add_scatter(x=[p["memory_mb"]] if p else [], y=[p[field]] if p else [], mode="markers", name=key,
                            legendgroup=key, showlegend=row == 1,
                            marker={"size": 14, "symbol": symbol, "color": mcolor, "line": {"width": 2}},
                            hovertemplate=key + " %{x:,.0f} MB<br>" + unit + "<extra></extra>", row=row, col=1)
    fig.update_xaxes(type="log")
    fig.update_xaxes(title_text="memory (MB, log scale)", row=2, col=1)
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(title_text="USD per month", row=2, col=1)
    return _layout(fig, title, None, "mean warm duration (ms)", legend="series", height=620)


def memory_savings(table: pd.DataFrame, top: int = 15, title: str | None = None) -> go.Figure:
    """Monthly savings of the memory findings and of moving x86_64 functions to arm64, with 90% bands.

    ``table`` is ``memory.recommend_all``'s: a memory bar for each decided change, an arm64 bar for each arm64
    candidate (the switch at today's size); functions to measure first or keep are left out.
    """
    t = table.copy()
    t["memory_saving"] = t["monthly_savings_usd"].where(t["action"].isin(["decrease", "increase"]))
    t["arm_saving"] = t["other_arch_savings_usd"].where(t["arm64_candidate"].astype(bool))
    t = t[t["memory_saving"].notna() | t["arm_saving"].notna()]
    t = t.assign(best=t[["memory_saving", "arm_saving"]].max(axis=1)).nlargest(top, "best").iloc[::-1]
    labels = t["function_name"] + " (" + t["arch"] + ", " + t["memory_mb"].map("{:,.0f} MB".format) + ")"
    fig = go.Figure()
    fig.add_bar(y=labels, x=t["memory_saving"], orientation="h", name="memory finding", marker_color="#B279A2",
                error_x={"type": "data", "symmetric": False,
                         "array": (t["monthly_savings_high_usd"] - t["monthly_savings_usd"]).where(t["memory_saving"].notna()),
                         "arrayminus": (t["monthly_savings_usd"] - t["monthly_savings_low_usd"]).where(t["memory_saving"].notna())},
                customdata=t[["recommended_memory_mb", "finding"]],
                hovertemplate="%{y}<br>%{customdata[1]}: %{customdata[0]:,.0f} MB saves $%{x:,.2f}/month<extra></extra>")
    fig.add_bar(y=labels, x=t["arm_saving"], orientation="h", name="move to arm64", marker_color=ARCH_COLORS["arm64"],
                error_x={"type": "data", "symmetric": False,
                         "array": (t["other_arch_savings_high_usd"] - t["other_arch_savings_usd"]).where(t["arm_saving"].notna()),
                         "arrayminus": (t["other_arch_savings_usd"] - t["other_arch_savings_low_usd"]).where(t["arm_saving"].notna())},
                customdata=t[["other_arch_memory_mb"]],
                hovertemplate="%{y}<br>arm64 at %{customdata[0]:,.0f} MB saves $%{x:,.2f}/month<extra></extra>")
    n = len(t)
    return _layout(fig, title or f"Monthly savings of memory findings and arm64 moves ({n} function{'s' * (n != 1)})",
                   "USD saved per month (bars: at least / at most, 90% each)", "function (architecture, memory today)", barmode="group",
                   legend="change", height=max(300, 40 * n + 140))


def architecture_comparison(table: pd.DataFrame, title: str = "x86_64 and arm64 at their recommended memory") -> go.Figure:
    """Monthly cost per architecture (``memory.compare_architectures``) with bands, durations in the hover."""
    fig = go.Figure()
    for _, r in table.iterrows():
        fig.add_bar(x=[r["arch"]], y=[r["monthly_cost"]], name=f"{r['arch']} ({r['memory_mb']:,.0f} MB)",
                    marker_color=ARCH_COLORS.get(r["arch"]),
                    error_y={"type": "data", "symmetric": False, "array": [r["monthly_cost_high"] - r["monthly_cost"]],
                             "arrayminus": [r["monthly_cost"] - r["monthly_cost_low"]]},
                    customdata=[[r["memory_mb"], r["duration_ms"], r["speed_source"]]],
                    hovertemplate="%{x} at %{customdata[0]:,.0f} MB<br>$%{y:,.2f}/month<br>%{customdata[1]:,.1f} ms"
                                  "<br>speed: %{customdata[2]}<extra></extra>")
    return _layout(fig, title, "architecture", "USD per month (bars: 90% band of the cost)", legend="architecture (memory)",
                   showlegend=True)


# ---- the architecture review ---------------------------------------------------------------------------

SEVERITY_COLORS = {"high": "#E45756", "medium": "#F58518", "low": "#72B7B2"}


def findings_impact(found: pd.DataFrame, top: int = 15) -> go.Figure:
    """The priced findings, biggest monthly saving first, coloured by severity, with their low-high band.
    Measure-first findings (an expected value, not a saving) are left out and the title says so."""
    from .findings import NOT_SAVINGS

    measured = found["id"].isin(NOT_SAVINGS)
    data = found[~measured].dropna(subset=["monthly_impact_usd"]).nlargest(top, "monthly_impact_usd").iloc[::-1]
    labels = data["function_name"] + " · " + data["id"]
    low = data["monthly_impact_low_usd"].fillna(data["monthly_impact_usd"])
    high = data["monthly_impact_high_usd"].fillna(data["monthly_impact_usd"])
    fig = go.Figure()
    for sev, color in SEVERITY_COLORS.items():
        sel = data["severity"] == sev
        if not sel.any():
            continue
        fig.add_bar(y=labels[sel], x=data.loc[sel, "monthly_impact_usd"], orientation="h", name=sev, marker_color=color,
                    error_x={"type": "data", "symmetric": False, "array": (high - data["monthly_impact_usd"])[sel],
                             "arrayminus": (data["monthly_impact_usd"] - low)[sel]},
                    customdata=data.loc[sel, ["title"]],
                    hovertemplate="%{y}<br>%{customdata[0]}<br>$%{x:,.2f}/month<extra></extra>")
    fig.update_yaxes(categoryorder="array", categoryarray=list(labels))
    left_out = f"; {int(measured.sum())} measure-first finding(s) not shown" if measured.any() else ""
    return _layout(fig, f"Savings by finding (top {len(data)} of {len(found)}{left_out})",
                   "USD saved per month (bars: low-high band)", "function · finding", legend="severity",
                   height=max(320, 28 * len(data) + 140))
