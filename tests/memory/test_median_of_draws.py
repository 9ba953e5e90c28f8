"""The model's median of draws is numpy's median, number for number (it is the predicted duration)."""

import numpy as np
import pytest

from lambda_workbook.memory.model import _median_of_draws


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(((a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))).all())


@pytest.mark.parametrize("n, w", [(2000, 159), (2000, 8), (10, 30), (2, 12), (1999, 20), (2000, 1)])
def test_same_numbers_as_numpy_median(n, w):
    rng = np.random.default_rng(n + w)
    x = np.exp(rng.standard_normal((n, w)) * 0.7 + 4.0)
    x[:, : min(3, w)] = np.round(x[:, : min(3, w)], 1)     # ties
    assert _same(_median_of_draws(x.copy()), np.median(x, axis=0))


def test_a_size_with_a_nan_or_an_infinite_draw_is_as_numpy_has_it():
    rng = np.random.default_rng(1)
    x = np.exp(rng.standard_normal((2000, 16)))
    x[5, 2] = np.nan
    x[7, 4] = np.inf
    x[:1500, 6] = np.inf
    with np.errstate(invalid="ignore"):
        got, want = _median_of_draws(x.copy()), np.median(x, axis=0)
    assert np.isnan(got[2]) and got[6] == np.inf
    assert _same(got, want)
