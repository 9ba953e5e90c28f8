"""A review is priced by the one context built (or handed in) at its top: nothing below loads a price book."""

import pandas as pd
import pytest

from lambda_workbook import prices, review


def _refuse_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a price book was loaded during the review: {args}")

    monkeypatch.setattr(prices, "load", refuse)
    monkeypatch.setattr(prices, "_load_cached", refuse)


def test_a_review_handed_a_context_loads_no_book_and_finds_the_same(sample_snapshot, monkeypatch):
    expected = review.run(sample_snapshot)             # prices loaded as usual (memo on)
    expected_spend = review.spend(sample_snapshot)
    ctx = prices.for_snapshot(sample_snapshot)
    _refuse_loading(monkeypatch)
    monkeypatch.setenv("LAMBDA_WORKBOOK_CACHE", "0")  # compute every part again, under the patch
    with pytest.raises(AssertionError, match="a price book was loaded"):
        review.run(sample_snapshot)                    # the patch bites: without a context the top loads
    got = review.run(sample_snapshot, pricing=ctx)
    assert got.errors.empty, got.errors.to_dict("records")
    assert len(got.findings) == len(expected.findings) > 0
    pd.testing.assert_frame_equal(got.findings.reset_index(drop=True), expected.findings.reset_index(drop=True))
    pd.testing.assert_frame_equal(got.spend, expected.spend)
    pd.testing.assert_frame_equal(review.spend(sample_snapshot, pricing=ctx), expected_spend)
