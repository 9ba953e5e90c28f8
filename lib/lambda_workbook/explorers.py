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
