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


def duration_vs_memory(costs: pd.DataFrame) -> go.Figure:
    """Each function as a point: configured memory against mean duration, sized by monthly cost."""
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
    return _layout(fig, "Mean duration against configured memory (marker area ~ monthly cost)",
                   "configured memory (MB, log scale)", "mean duration (ms, log scale)", legend="architecture")
