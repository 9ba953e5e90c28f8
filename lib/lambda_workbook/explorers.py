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

from typing import Any

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go


class Explorer:
    """Base class: subclasses build ``self.controls`` and ``self.figure`` then call ``self._start()``."""

    title: str = ""

    def __init__(self) -> None:
        self.controls: dict[str, widgets.ValueWidget] = {}
        self.figure = go.FigureWidget()
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
        """Set control values as a user would (one recomputation at the end)."""
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

    def show_table(self, df: pd.DataFrame, **to_html: Any) -> None:
        self.table = df
        self._table_html.value = df.to_html(**{"float_format": lambda v: f"{v:,.4g}", **to_html})

    def _start(self) -> None:
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

    title = "Invocation sources: monthly cost of every trigger for one workload"

    def __init__(self, workload=None) -> None:
        import math

        from . import plots, triggers

        super().__init__()
        self._triggers, self._plots = triggers, plots
        self.base = workload if workload is not None else triggers.Workload()
        w = self.base
        sizes = triggers.DEFAULT_BATCH_SIZES
        style = {"description_width": "initial"}
        self.controls = {
            "sync": widgets.Checkbox(value=bool(w.sync), description="caller waits for the result", style=style),
            "batch_size": widgets.SelectionSlider(options=sizes, value=min(sizes, key=lambda n: abs(n - w.batch_size)),
                                                  description="batch size", style=style),
            "batch_window_s": widgets.IntSlider(value=int(round(w.batch_window_s)), min=0, max=300,
                                                description="batch window (s)", style=style),
            "events_per_month": widgets.FloatLogSlider(value=min(max(w.events_per_month, 1e3), 1e10), base=10, min=3,
                                                       max=10, step=0.05, description="events/month",
                                                       readout_format=".3s", style=style),
            "payload_kb": widgets.FloatLogSlider(value=min(max(w.payload_kb, 0.1), 6144), base=10, min=-1,
                                                 max=math.log10(6144), step=0.05, description="payload (KB)",
                                                 readout_format=".3g", style=style),
            "duration_ms": widgets.FloatLogSlider(value=min(max(w.duration_ms, 1.0), 900_000), base=10, min=0,
                                                  max=math.log10(900_000), step=0.05, description="work/event (ms)",
                                                  readout_format=".3g", style=style),
            "memory_mb": widgets.IntSlider(value=int(w.memory_mb), min=128, max=10240, step=64,
                                           description="memory (MB)", style=style),
        }
        self.figure = go.FigureWidget(plots.trigger_costs(triggers.compare(w)))
        self._start()

    def compute(self, **values: Any) -> pd.DataFrame:
        from dataclasses import replace

        return self._triggers.compare(replace(self.base, **values))

    def draw(self, result: pd.DataFrame) -> None:
        fresh = self._plots.trigger_costs(result)
        for live, new in zip(self.figure.data, fresh.data, strict=True):
            live.x, live.y, live.customdata, live.marker.color = new.x, new.y, new.customdata, new.marker.color
        self.figure.layout.height = fresh.layout.height
        self.show_table(self._triggers.view(result))


class ReadsExplorer(Explorer):
    """Read only what you need: a read pattern on an S3 object or a DynamoDB table → every way of reading it
    (``reads.s3_options`` / ``reads.dynamodb_options``) ranked for a need (``reads.rank``), as stacked monthly-cost
    bars and a table with the trade-offs.

    ``ReadsExplorer(store="dynamodb", table_items=12240, ...)`` starts from any control values; ``network`` is a
    :class:`lambda_workbook.reads.Network` (the documented assumption, or one calibrated from measurements).
    """

    title = "Read only what you need: what each way of reading costs"

    def __init__(self, store: str = "s3", *, network=None, **initial: Any) -> None:
        import math

        from . import plots, reads

        super().__init__()
        self._reads, self._plots, self.network = reads, plots, network
        style = {"description_width": "initial"}

        def log_slider(value, lo, hi, description, fmt=".3g"):
            return widgets.FloatLogSlider(value=min(max(value, 10**lo), 10**hi), base=10, min=lo, max=hi, step=0.05,
                                          description=description, readout_format=fmt, style=style)

        self.controls = {
            "store": widgets.Dropdown(options=[("S3 object", "s3"), ("DynamoDB table", "dynamodb")], value=store,
                                      description="read from", style=style),
            "need": widgets.Dropdown(options=list(reads.NEEDS), value="cost", description="rank for", style=style),
            "object_mb": log_slider(40.0, -2, 4, "object (MB)"),
            "fraction_needed": log_slider(0.02, -4, 0, "fraction needed"),
            "format": widgets.Dropdown(options=list(reads.FORMATS), value="csv", description="format", style=style),
            "layout_known": widgets.Checkbox(value=True, description="layout known (range GET possible)", style=style),
            "select_customer": widgets.Checkbox(value=False, description="existing S3 Select customer", style=style),
            "table_items": log_slider(12_240, 0, 9, "table items", ".3s"),
            "items_needed": log_slider(20, 0, 6, "items needed", ".3s"),
            "item_kb": log_slider(1.5, -2, math.log10(reads.MAX_ITEM_KB), "item (KB)"),
            "consistency": widgets.Dropdown(options=["eventual", "strong"], value="eventual",
                                            description="consistency", style=style),
            "writes_per_month": log_slider(100_000, 0, 9, "table writes/month", ".3s"),
            "arch": widgets.Dropdown(options=["x86_64", "arm64"], value="arm64", description="arch", style=style),
            "requests_per_month": log_slider(30_000, 0, 9, "reads/month", ".3s"),
            "memory_mb": widgets.IntSlider(value=1024, min=128, max=10240, step=64, description="memory (MB)",
                                           style=style),
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
        fresh = self._plots.read_options_cost(result)
        for live, new in zip(self.figure.data, fresh.data, strict=True):
            live.x, live.y, live.customdata, live.marker.color = new.x, new.y, new.customdata, new.marker.color
        self.figure.layout.title.text = fresh.layout.title.text
        self.figure.layout.height = fresh.layout.height
        self.show_table(self._reads.view(result))
