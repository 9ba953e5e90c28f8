"""data/README.md says what the embedded sample account holds: its function table (archetype, the findings the
review gives, configuration, trigger, description) and every number it quotes are checked against the data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lambda_workbook import billing, review, sample

README = Path(__file__).resolve().parents[2] / "data" / "README.md"


@pytest.fixture(scope="module")
def text() -> str:
    return README.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def table(text) -> pd.DataFrame:
    """The '### Functions' table, one row per function."""
    block = text[text.index("### Functions"):]
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    out = pd.DataFrame(cells, columns=["function", "expect", "also", "config", "trigger", "description"])
    out["function"] = out["function"].str.strip("`")
    return out.set_index("function")


@pytest.fixture(scope="module")
def found(sample_snapshot) -> dict[str, set[str]]:
    f = review.run(sample_snapshot).findings
    return {name: set(g["id"]) for name, g in f.groupby("function_name")}


def _ids(cell: str) -> set[str]:
    return set(re.findall(r"`([a-z0-9-]+)`", cell))


def test_the_table_lists_every_sample_function_once_with_its_archetype(table, sample_snapshot):
    assert table.index.is_unique
    assert set(table.index) == set(sample_snapshot.functions["function_name"])
    archetypes = sample_snapshot.manifest["archetypes"]
    for name, row in table.iterrows():
        assert (sorted(_ids(row["expect"])) or ["control"]) == sorted(archetypes[name]), name


def test_the_findings_the_table_names_are_the_ones_the_review_gives(table, found):
    for name, row in table.iterrows():
        named = _ids(row["expect"]) | _ids(row["also"])
        assert named == found.get(name, set()), (name, "README:", sorted(named), "review:", sorted(found.get(name, ())))
    assert not set(found) - set(table.index), "findings on functions the README does not list"


def test_configuration_trigger_and_description_match_the_data(table, sample_snapshot):
    f = sample_snapshot.functions.set_index("function_name")
    trig = sample_snapshot.triggers.set_index("function_name")
    lines = sample_snapshot.report_samples
    for name, row in table.iterrows():
        m = re.fullmatch(r"(\S+), (x86_64|arm64), (\d+) MB(?: \(([\d,]+) MB earlier\))?", row["config"])
        assert m, row["config"]
        runtime, arch, memory, earlier = m.groups()
        assert (f.at[name, "runtime"], f.at[name, "arch"], int(f.at[name, "memory_mb"])) == (runtime, arch, int(memory))
        assert trig.at[name, "source_type"] == row["trigger"], name
        assert f.at[name, "description"] == row["description"], name
        sizes = lines[lines["function_name"] == name]["message"].str.extract(r'(?:Memory Size: |"memorySizeMB":)(\d+)')[0]
        if earlier:   # 60 REPORT lines at the earlier size, all in the window's first two days
            at = lines[(lines["function_name"] == name) & (sizes == earlier.replace(",", ""))]
            assert len(at) == 60 and at["timestamp"].max() < pd.Timestamp(sample_snapshot.manifest["start"]) + \
                pd.Timedelta(days=2)
        assert set(sizes) == {memory} | ({earlier.replace(",", "")} if earlier else set()), name


def _hourly(snap, name: str, metric: str) -> pd.Series:
    m = snap.metrics
    rows = m[(m["function_name"] == name) & (m["metric"] == metric)]
    idx = pd.date_range(snap.manifest["start"], snap.manifest["end"], freq="h", inclusive="left")
    return rows.groupby(rows["timestamp"].dt.floor("h"))["value"].sum().reindex(idx, fill_value=0.0)


def _daily_share(snap, name: str, metric: str) -> pd.Series:
    return _hourly(snap, name, metric).resample("D").sum() / _hourly(snap, name, "Invocations").resample("D").sum()


def _billing_java(snap):
    h = _hourly(snap, "billing-java", "Invocations")
    office = (h.index.day_of_week < 5) & (h.index.hour >= 13) & (h.index.hour < 22)
    return round(h[office].mean()) == 36 and round(h[~office].mean()) == 1


def _admin(snap):
    r = snap.reports.set_index("function_name").loc["admin-audit-export"]
    return round(r["invocations"] / snap.manifest["lookback_days"]) == 24 and 0.75 <= r["cold_starts"] / r["invocations"] < 0.85


def _payment(snap):
    share = _daily_share(snap, "payment-webhook", "Timeouts")
    return list(share[share > 0].round(2)) == [0.16, 0.16]


def _partner(snap):
    share = _daily_share(snap, "partner-sync", "Errors")
    return sorted(share[share > 0.05].round(2)) == [0.13, 0.14] and share[share <= 0.05].max() < 0.01


def _checkout(snap):
    peak = _hourly(snap, "checkout-api", "ConcurrentExecutions").max()
    f = snap.functions.set_index("function_name").loc["checkout-api"]
    no_cpu = "checkout-api" not in set(snap.insights["function_name"])
    return f["provisioned_concurrency"] == 40 and peak == 1 and no_cpu


def _flash(snap):
    f = snap.functions.set_index("function_name").loc["flash-sale-api"]
    return f["reserved_concurrency"] == 5 and _hourly(snap, "flash-sale-api", "Throttles").sum() > 0


def _log_extractor(snap):
    c = snap.calls[(snap.calls["function_name"] == "log-extractor") & (snap.calls["operation"] == "GetObject")]
    return c["response_kb"].tolist() == [40 * 1024] and c["used_fraction"].tolist() == [0.02]


def _nightly(snap):
    r = snap.reports.set_index("function_name").loc["nightly-ledger-close"]
    f = snap.functions.set_index("function_name").loc["nightly-ledger-close"]
    return 0.8 <= r["duration_mean_ms"] / 1000 <= 1.2 and f["timeout_s"] == 15 * 60


def _clickstream(snap):
    age = _hourly(snap, "clickstream-consumer", "IteratorAge")
    return age.iloc[-24:].mean() > 10 * age.iloc[:24].mean()


CLAIMS = {
    "billing-java": ("about 36 calls an hour in office hours (weekdays 13:00-22:00 UTC), about one an hour", _billing_java),
    "admin-audit-export": ("about 24 calls a day: four calls in five find no warm environment", _admin),
    "payment-webhook": ("hung on two days, when 16% of its invocations timed out", _payment),
    "partner-sync": ("failed 13% and 14% of its runs on two days", _partner),
    "checkout-api": ("Forty provisioned environments for a load that never needs more than one at a time; one memory "
                     "size and no CPU time recorded", _checkout),
    "flash-sale-api": ("Reserved concurrency of 5 throttles", _flash),
    "log-extractor": ("each 40 MB log object to keep the 2%", _log_extractor),
    "nightly-ledger-close": ("Finishes in about a second but may run for 15 minutes", _nightly),
    "clickstream-consumer": ("iterator age grows through the window", _clickstream),
}


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_the_numbers_in_the_descriptions_hold(name, table, sample_snapshot):
    phrase, holds = CLAIMS[name]
    assert phrase in table.at[name, "description"], (name, table.at[name, "description"])
    assert holds(sample_snapshot), (name, phrase)


def test_the_numbers_of_the_generator_section_hold(text, sample_snapshot):
    snap = sample_snapshot
    m = snap.manifest
    assert '(`111122223333` "prod",\n`444455556666` "staging") in us-east-1 over 14 days ending 2026-11-01' in text
    assert m["accounts"] == ["111122223333", "444455556666"] and m["regions"] == ["us-east-1"]
    assert m["lookback_days"] == 14 and pd.Timestamp(m["end"]) == pd.Timestamp("2026-11-01", tz="UTC")
    assert "one vCPU at\n  1,769 MB" in text and billing.VCPU_MB == 1769
    assert "evicted after 5–7\n  minutes" in text and sample.KEEP_ALIVE_MIN == (5.0, 7.0)
    assert "recycled about every 2 hours" in text and np.mean(sample.RECYCLE_MIN) == 120
    assert "**REPORT lines**: 120 raw lines per function" in text
    per_function = snap.report_samples.groupby("function_name").size()
    assert set(per_function.drop(["media-thumbnail-io", "pdf-render"])) == {120}
    assert set(per_function[["media-thumbnail-io", "pdf-render"]]) == {180}
    assert "(0.4% of invocations)" in text
    # INIT medians: Python ≈ 0.35 s and Node.js ≈ 0.23 s for a 4 MB package, ≈ 3.4 s for billing-java
    assert "Python ≈ 0.35 s and Node.js ≈ 0.23 s for a 4 MB" in text and "≈ 3.4 s for the Spring service" in text
    r = snap.reports.merge(snap.functions, on=["account_id", "region", "function_name"])
    small = r[(r["code_size_bytes"] == 4 * 2**20) & (r["layer_count"] == 0) & r["init_p50_ms"].notna()]
    for family, seconds in (("python", 0.35), ("nodejs", 0.23)):
        got = small[small["runtime"].str.startswith(family)]["init_p50_ms"].median() / 1000
        assert abs(got - seconds) <= 0.02, (family, got)
    assert round(r.set_index("function_name").at["billing-java", "init_p50_ms"] / 1000, 1) == 3.4


def test_the_readme_cites_public_sources_not_files_outside_the_repository(text):
    assert "../" not in text and "shared/" not in text
    assert not re.search(r"facts §", text)
