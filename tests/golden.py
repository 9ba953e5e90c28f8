"""The one rule the golden-table tests compare numbers by: equal within a relative 1e-9 (absolute 1e-12 near
zero), and NaN only where the golden table has NaN."""

from __future__ import annotations

import math

REL, ABS = 1e-9, 1e-12


def same_number(a: float, b: float) -> bool:
    """``a`` and ``b`` agree: both NaN, or close within the golden tolerance."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)
