import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_workbook import billing, prices


def test_operator_guide_example():
    # Lambda operator guide: 128 MB x 11.722 s costs $0.024628 per 1,000 invocations (incl. requests);
    # with 1 ms billing and today's prices that is $0.024621.
    cost = billing.lambda_cost(1000, 11722, 128)
    assert cost == pytest.approx(0.024621, rel=1e-3)


def test_cebert_2025_costs(cebert):
    # The cebert set prices 1M invocations at the mean duration (+ mean INIT for cold rows), requests included.
    rows = cebert.assign(dur=cebert.mean_duration_ms + np.where(cebert.start_type == "cold", cebert.mean_init_ms, 0))
    rows = rows[rows.dur >= 50]
    assert len(rows) > 800
    ours = np.array([billing.lambda_cost(1e6, r.dur, r.memory_mb, arch=r.arch) for r in rows.itertuples()])
    err = np.abs(ours / rows.cost_per_1M_usd.to_numpy() - 1)
    assert err.max() < 0.01, rows.iloc[int(err.argmax())]


def test_each_invocation_rounds_up_on_its_own():
    # 3 invocations of 1.2 ms bill 2 ms each (6 ms), not ceil(3.6) = 4 ms
    b = billing.breakdown(None, [1.2, 1.2, 1.2], 1024)
    assert b["billed_ms"] == 6
    assert b["invocations"] == 3
    assert billing.breakdown(3, 1.2, 1024)["billed_ms"] == 6
    assert billing.breakdown(None, [2.0, 2.000000000001], 1024)["billed_ms"] == 4


def test_init_billed_since_2025_08_01():
    # facts doc log evidence: 1233.96 + 463.512 -> 1698 after; 329.177 + 503.083 -> 330 before (zip, managed)
    after = billing.breakdown(1, 1233.96, 128, init_ms=463.512, billing_date="2025-10-01")
    assert after["billed_ms"] == 1698
    before = billing.breakdown(1, 329.177, 128, init_ms=503.083, billing_date="2025-01-15")
    assert before["billed_ms"] == 330
    # before the change, container images and custom runtimes already paid for INIT
    image = billing.breakdown(1, 329.177, 128, init_ms=503.083, billing_date="2025-01-15", package_type="Image")
    custom = billing.breakdown(1, 329.177, 128, init_ms=503.083, billing_date="2025-01-15", runtime="provided.al2023")
    assert image["billed_ms"] == custom["billed_ms"] == 833
    assert billing.init_is_billed(billing_date="2025-07-31") is False
    assert billing.init_is_billed(billing_date="2025-08-01") is True


def test_init_applies_to_cold_starts_only():
    warm = billing.breakdown(1000, 100.0, 512)
    some_cold = billing.breakdown(1000, 100.0, 512, init_ms=400.0, cold_starts=10)
    assert some_cold["billed_ms"] - warm["billed_ms"] == 10 * 400
    assert some_cold["init_billed_ms"] == 4000
    per_inv = billing.breakdown(None, [100.0] * 3, 512, init_ms=[np.nan, 400.0, 0.0])
    assert per_inv["billed_ms"] == 700 and per_inv["cold_starts"] == 1
    with pytest.raises(ValueError, match="cold_starts"):
        billing.breakdown(10, 100.0, 512, init_ms=400.0, cold_starts=11)


def test_arm64_prices_and_request_fee():
    book = prices.load("us-east-1")
    x86 = billing.breakdown(1_000_000, 1000, 1024, arch="x86_64")
    arm = billing.breakdown(1_000_000, 1000, 1024, arch="arm64")
    assert x86["request_usd"] == pytest.approx(0.20)
    assert x86["compute_usd"] == pytest.approx(1e6 * 1.0 * book.price("lambda.duration.x86_64"))
    assert arm["compute_usd"] == pytest.approx(1e6 * 1.0 * book.price("lambda.duration.arm64"))
    assert arm["total_usd"] < x86["total_usd"]


def test_volume_tiers_from_account_usage():
    book = prices.load("us-east-1")
    gb_s = 1_000_000.0  # 1M GB-s = 1e6 invocations x 1 s x 1 GB
    first = billing.breakdown(1e6, 1000, 1024, account_gb_s=0)
    straddle = billing.breakdown(1e6, 1000, 1024, account_gb_s=6e9 - gb_s / 2)
    second = billing.breakdown(1e6, 1000, 1024, account_gb_s=6e9)
    t1, t2 = book.tiers("lambda.duration.x86_64")[0][1], book.tiers("lambda.duration.x86_64")[1][1]
    assert first["compute_usd"] == pytest.approx(gb_s * t1)
    assert second["compute_usd"] == pytest.approx(gb_s * t2)
    assert straddle["compute_usd"] == pytest.approx(gb_s / 2 * (t1 + t2))


def test_free_tier_is_explicit():
    paid = billing.lambda_cost(500_000, 100, 1024)
    free = billing.lambda_cost(500_000, 100, 1024, free_tier=True)
    assert paid > 0 and free == 0.0
    big = billing.breakdown(3_000_000, 1000, 1024, free_tier=True)
    assert big["request_usd"] == pytest.approx(2_000_000 * 2e-7)
    assert big["compute_usd"] == pytest.approx((3_000_000 - 400_000) * 0.0000166667)


def test_ephemeral_storage_above_512_mb():
    base = billing.breakdown(1000, 1000, 1024)
    more = billing.breakdown(1000, 1000, 1024, ephemeral_mb=10240)
    assert base["ephemeral_usd"] == 0
    assert more["ephemeral_usd"] == pytest.approx(1000 * 1.0 * (10240 - 512) / 1024 * 3.09e-8)


def test_provisioned_concurrency():
    idle = billing.provisioned_cost(1, 1024, 730)
    assert idle["total_usd"] == pytest.approx(10.95, abs=0.01)  # facts doc: ~$10.95 per GB-month
    # billed in 5-minute steps
    assert billing.provisioned_cost(1, 1024, 1 / 60)["billed_hours"] == pytest.approx(5 / 60)
    busy = billing.provisioned_cost(2, 1024, 730, invocations=1e6, duration_ms=100, spillover_invocations=1000)
    assert busy["served_usd"] == pytest.approx(1e6 * 2e-7 + 1e6 * 0.1 * 0.0000097222)
    assert busy["spillover_usd"] == pytest.approx(billing.lambda_cost(1000, 100, 1024))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="arch must be one of .*'arm'"):
        billing.lambda_cost(1, 100, 128, arch="arm")
    with pytest.raises(ValueError, match="memory_mb .* 64"):
        billing.lambda_cost(1, 100, 64)
    with pytest.raises(ValueError, match="invocations"):
        billing.lambda_cost(-1, 100, 128)
    with pytest.raises(ValueError, match="billing_date"):
        billing.lambda_cost(1, 100, 128, billing_date="yesterday")
    with pytest.raises(ValueError, match=">= 0"):
        billing.lambda_cost(None, [10.0, -1.0], 128)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 10**7), d=st.floats(0, 900_000), extra=st.floats(0, 10_000),
       m=st.integers(128, 10240), arch=st.sampled_from(["x86_64", "arm64"]))
def test_cost_never_falls_with_more_work(n, d, extra, m, arch):
    c = billing.lambda_cost(n, d, m, arch=arch)
    assert c >= 0
    assert billing.lambda_cost(n, d + extra, m, arch=arch) >= c - 1e-12
    assert billing.lambda_cost(n + 1, d, m, arch=arch) >= c
    assert billing.lambda_cost(n, d, min(m + 64, 10240), arch=arch) >= c - 1e-12


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 60_000), min_size=1, max_size=50), st.integers(128, 10240))
def test_array_equals_sum_of_single_invocations(durations, m):
    total = billing.lambda_cost(None, durations, m)
    singles = sum(billing.lambda_cost(1, d, m) for d in durations)
    assert math.isclose(total, singles, rel_tol=1e-9, abs_tol=1e-15)


def test_cost_from_totals_matches_breakdown():
    rows = billing.cost_from_totals([1000, 5000], [1000 * 120, 5000 * 33], [512, 2048], np.array(["x86_64", "arm64"]))
    assert rows[0] == pytest.approx(billing.lambda_cost(1000, 120, 512))
    assert rows[1] == pytest.approx(billing.lambda_cost(5000, 33, 2048, arch="arm64"))
    with pytest.raises(ValueError, match="arch"):
        billing.cost_from_totals([1], [1], [128], np.array(["sparc"]))


@pytest.mark.parametrize("bad", [10241, 32768, 127, 0, -512, float("nan"), float("inf"), "lots", None, True])
def test_memory_outside_lambdas_range_is_refused_in_one_line(bad):
    for call in (lambda: billing.lambda_cost(1, 100, bad), lambda: billing.breakdown(1, 100, bad),
                 lambda: billing.provisioned_cost(1, bad, 1), lambda: billing.vcpu_share(bad)):
        with pytest.raises(ValueError) as err:
            call()
        msg = str(err.value)
        assert "\n" not in msg and repr(bad) in msg
        assert "128" in msg and "10,240 MB" in msg


def test_memory_range_ends_are_allowed():
    lo, hi = billing.MEMORY_RANGE_MB
    assert (lo, hi) == (128, 10240)
    assert billing.lambda_cost(1000, 100, lo) < billing.lambda_cost(1000, 100, hi)
    assert billing.check_memory(hi) == hi and billing.check_memory(lo) == lo


def test_cpu_share_and_vcpus():
    # one vCPU's worth of CPU at 1,769 MB, in proportion to memory, on up to 6 vCPUs at the largest size
    assert billing.vcpu_share(billing.VCPU_MB) == 1.0
    assert billing.vcpu_share(2 * billing.VCPU_MB) == pytest.approx(2.0)
    top = billing.vcpu_share(billing.MEMORY_RANGE_MB[1])
    assert billing.MAX_VCPUS == 6 and billing.MAX_VCPUS - 1 < top < billing.MAX_VCPUS
