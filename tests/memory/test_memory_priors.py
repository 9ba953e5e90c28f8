"""The memory model's priors: the shipped file is what fitting the bundled measurements gives, and the hold-out
protocol picks the sizes it says it does."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from lambda_workbook.memory import curve, priors
from lambda_workbook.validation import datasets, holdout

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))


def test_shipped_priors_are_normalised_and_name_their_sources():
    pr = priors.load()
    for axis in ("phi", "alpha", "overlap", "tau"):
        assert pr.weights(axis).sum() == pytest.approx(1.0) and (pr.weights(axis) > 0).all()
    for axis in ("p", "knee"):
        for arch in priors.ARCHES:
            assert pr.weights(axis, arch).sum() == pytest.approx(1.0)
    assert set(pr.fitted_on) == set(datasets.MEMORY_SETS)
    assert all(pr.sources[s].count("https://") == 1 for s in pr.fitted_on)
    assert 0.5 < pr.arm_ratio < 1.5 and pr.arm_log_sd > 0


def test_shipped_priors_are_a_refit_of_the_bundled_measurements():
    import bench_memory

    c = datasets.curves()
    refit = bench_memory.fit_priors(priors.evidence(c))
    shipped = priors.load()
    for axis in ("phi", "alpha", "overlap", "tau"):
        assert refit.weights(axis) == pytest.approx(shipped.weights(axis), abs=1e-6), axis
    ratio, sd, _ = priors.arm_ratio(c)
    assert ratio == pytest.approx(shipped.arm_ratio, abs=1e-4) and sd == pytest.approx(shipped.arm_log_sd, abs=1e-4)


def test_a_grid_change_is_refused_with_the_fix():
    doc = priors.load().to_dict()
    doc["grid"]["tau"] = doc["grid"]["tau"][:-1]
    with pytest.raises(ValueError, match="tau grid differs from the model's; refit the priors"):
        priors.Priors.from_dict(doc)


def test_em_moves_weight_towards_what_the_curves_show():
    m = np.array([128.0, 256, 512, 1024, 2048])
    cpu_bound = 4000.0 * 128 / np.minimum(m, curve.VCPU_MB)
    flat = np.full(m.size, 300.0)
    items = []
    for name, y in (("cpu", cpu_bound), ("flat", flat)):
        ll, _, _ = curve.loglik(np.log(y), np.full(m.size, 0.01), m)
        items.append(priors.CurveEvidence("set", name, "x86_64", ll))
    pr = priors.fit(items, iterations=20)
    phi = pr.weights("phi")
    assert phi[curve.PHI > 0.95].sum() > 0.2 and phi[curve.PHI < 0.05].sum() > 0.2
    assert phi[(curve.PHI > 0.3) & (curve.PHI < 0.7)].sum() < 0.25


def test_hold_out_fit_sets_span_a_factor_two_below_one_vcpu():
    m = np.array([128.0, 256, 512, 1024, 1536, 2048, 3008])
    pairs = list(holdout.fit_sets(m, 2))
    assert pairs and all(m[p].min() < curve.VCPU_MB and m[p].max() >= 2 * m[p].min() for p in pairs)
    assert [0, 1] in pairs and [5, 6] not in pairs
    assert holdout.targets(7, [0, 3], 30) == [1, 2, 4, 5, 6]
    assert len(holdout.targets(200, [0], 30)) <= 30
