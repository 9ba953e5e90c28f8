"""INIT duration priors: the lambda-perf fit, the lookup with its fallbacks, and ``priors refresh`` (no network)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lambda_workbook import cli, coldstarts, initfit, initpriors
from lambda_workbook.sources import lambda_perf

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "lambda-perf"
TABLE = ROOT / "data" / "measurements" / "lambda-perf-2022-2025" / "lambda_perf_init_samples.csv.gz"


@pytest.fixture(scope="module")
def measured() -> pd.DataFrame:
    return initfit.samples_from_table(pd.read_csv(TABLE))[0]


@pytest.fixture(scope="module")
def doc() -> dict:
    return initpriors.priors()


def _entry(rows, **keys):
    hits = [e for e in rows if all(e[k] == v for k, v in keys.items())]
    assert len(hits) == 1, keys
    return hits[0]


def _fake_get(calls=None):
    def get(url: str):
        if calls is not None:
            calls.append(url)
        path = FIXTURES / "data" / url.removeprefix(lambda_perf.RAW_BASE + "/")
        return path.read_bytes() if path.exists() else None
    return get


# ---------------------------------------------------------------------------------------------------------
# the held-out check and the bundled file


def test_priors_fitted_before_2025_predict_the_2025_medians(measured):
    train, test = measured[measured["month"] < "2025"], measured[measured["month"] >= "2025"]
    half_life, _ = initfit.choose_half_life(train)
    result = initfit.check(initfit.fit(train, half_life_months=half_life), test)
    plain = result[~result["snapstart"]]
    assert len(plain) >= 80 and plain["within"].mean() >= 0.8
    assert 0.7 <= initfit.summary(plain)["band_coverage"] <= 0.9      # a 10th-90th percentile band
    assert result[result["snapstart"]]["within"].all()
    unseen = plain[plain["level"] != "exact"]     # nodejs22.x, python3.13, ruby3.4 ... came in 2025
    assert len(unseen) >= 8 and unseen["within"].mean() >= 0.8


def test_every_figure_names_a_public_source_and_its_months(doc):
    text = json.dumps(doc)
    assert "../shared" not in text and "aws-facts" not in text
    for key, src in doc["sources"].items():
        assert src["title"] and src["url"].startswith("https://"), key
    for entry in doc["runtimes"] + doc["snapstart"] + doc["custom_runtime_languages"]:
        assert entry["source"] in doc["sources"] and re.match(r"^\d{4}-\d{2}\.\.\d{4}-\d{2}$", entry["months"])
        assert entry["low_ms"] <= entry["median_ms"] <= entry["high_ms"]
    for block in ("package_size", "vpc"):
        assert "https://" in doc[block]["source"] and doc[block]["source_key"] in doc["sources"]


# ---------------------------------------------------------------------------------------------------------
# the lookup


def test_a_measured_runtime_gets_its_own_architecture_and_package(doc):
    for arch in ("x86_64", "arm64"):
        for package in ("zip", "image"):
            got = initpriors.init_prior("python3.12", package, arch=arch)
            want = _entry(doc["runtimes"], runtime="python3.12", arch=arch, package_type=package)
            assert (got["median_ms"], got["low_ms"], got["high_ms"]) == (want["median_ms"], want["low_ms"], want["high_ms"])
            assert got["level"] == "exact" and not got["notes"] and "https://github.com/maxday/lambda-perf" in got["sources"][0]
    assert initpriors.init_prior("python3.12", "Image")["median_ms"] > initpriors.init_prior("python3.12")["median_ms"]
    assert set(initpriors.init_prior("java21")) >= {"median_ms", "low_ms", "high_ms", "basis", "sources", "notes"}


def test_unseen_runtimes_fall_back_and_say_so(doc):
    newer = initpriors.init_prior("nodejs24.x", arch="arm64")
    newest = max((e for e in doc["runtimes"] if e["runtime"].startswith("nodejs")),
                 key=lambda e: float(re.findall(r"\d+", e["runtime"])[0]))["runtime"]
    assert newer["level"] == "nearest-version" and newest in newer["notes"][0]
    assert newer["median_ms"] == _entry(doc["runtimes"], runtime=newest, arch="arm64", package_type="zip")["median_ms"]
    unknown = initpriors.init_prior("cobol")
    broad = _entry(doc["all_runtimes"], arch="x86_64", package_type="zip")
    assert unknown["level"] == "all-runtimes" and "cobol" in unknown["notes"][0]
    assert (unknown["low_ms"], unknown["high_ms"]) == (broad["low_ms"], broad["high_ms"])
    assert initpriors.init_prior(None, "Image")["level"] == "all-runtimes"
    old_java = initpriors.init_prior("java8", arch="arm64")     # measured on x86_64 only
    assert old_java["level"] in ("exact", "other-arch", "nearest-version") and old_java["median_ms"] > 0


def test_custom_runtimes_get_a_band_spanning_their_languages(doc):
    prior = initpriors.init_prior("provided.al2023", arch="arm64")
    langs = [e for e in doc["custom_runtime_languages"]
             if (e["runtime"], e["arch"], e["package_type"]) == ("provided.al2023", "arm64", "zip")]
    medians = sorted(e["median_ms"] for e in langs)
    assert len(langs) >= 5 and prior["low_ms"] <= medians[1] and prior["high_ms"] >= medians[-2]
    assert prior["high_ms"] / prior["low_ms"] > 5 and any("rust" in n for n in prior["notes"])
    rust = initpriors.init_prior("provided.al2023", arch="arm64", language="rust")
    want = _entry(langs, language="rust")
    assert rust["level"] == "language" and rust["median_ms"] == want["median_ms"] < prior["median_ms"]
    assert initpriors.init_prior("provided.al2023", language="c++")["level"] == "language"
    cobol = initpriors.init_prior("provided.al2023", language="cobol")
    assert cobol["level"] == "exact" and "not measured on custom runtimes" in cobol["notes"][0]


def test_snapstart_gives_the_restore_duration_kept_apart(doc):
    restore = initpriors.init_prior("java21", snapstart=True)
    assert "Restore" in restore["basis"] and restore["median_ms"] == _entry(
        doc["snapstart"], runtime="java21", arch="x86_64", package_type="zip")["median_ms"]
    assert restore["median_ms"] != initpriors.init_prior("java21")["median_ms"]
    python = initpriors.init_prior("python3.12", snapstart=True, arch="arm64")
    assert python["level"] == "all-runtimes" and "Java only" in python["notes"][0]
    sized = initpriors.init_prior("java21", "Zip", 30 * 2**20, vpc=True, snapstart=True)
    assert sized["median_ms"] == restore["median_ms"] and "none added" in sized["notes"][-1]


def test_package_size_and_vpc_add_to_the_hello_world_floor(doc):
    slope, vpc = doc["package_size"]["ms_per_zipped_mib"], doc["vpc"]["extra_ms"]
    small, big = initpriors.init_prior("nodejs20.x"), initpriors.init_prior("nodejs20.x", "Zip", 14 * 2**20)
    assert big["median_ms"] - small["median_ms"] == pytest.approx(14 * slope)
    assert big["high_ms"] - small["high_ms"] > big["low_ms"] - small["low_ms"] > 0
    assert len(big["sources"]) == 2 and not big["notes"]
    assert "heuristic" in initpriors.init_prior("python3.12", "Zip", 5 * 2**20)["notes"][-1]
    image = initpriors.init_prior("python3.12", "Image", 5e9)
    assert image["median_ms"] == initpriors.init_prior("python3.12", "Image")["median_ms"]
    with_vpc = initpriors.init_prior("python3.12", vpc=True)
    assert with_vpc["median_ms"] - initpriors.init_prior("python3.12")["median_ms"] == pytest.approx(vpc)
    assert coldstarts.init_prior is initpriors.init_prior and coldstarts.priors()["vpc"]["extra_ms"] == vpc


def test_bad_arguments_name_the_value_and_what_is_allowed():
    with pytest.raises(ValueError, match="package_type must be one of zip, image, got 'tarball'"):
        initpriors.init_prior("python3.12", "tarball")
    with pytest.raises(ValueError, match="arch must be one of x86_64, arm64, got 'sparc'"):
        initpriors.init_prior("python3.12", arch="sparc")
    assert initpriors.init_prior("python3.12", arch=None)["median_ms"] == initpriors.init_prior("python3.12")["median_ms"]


# ---------------------------------------------------------------------------------------------------------
# reading lambda-perf's documents


@pytest.mark.parametrize(("benchmark_id", "display", "runtime", "language", "snapstart"), [
    ("python312", "python3.12", "python3.12", "python", False),
    ("nodejs20x", "", "nodejs20.x", "nodejs", False),
    ("java8_al2", "", "java8.al2", "java", False),
    ("java17_snapstart", "java17 snapstart", "java17", "java", True),
    ("dotnetcore31", "", "dotnetcore3.1", "dotnet", False),
    ("ruby34", "", "ruby3.4", "ruby", False),
    ("go1x", "", "go1.x", "go", False),
    ("rust_on_provided_al2023", "", "provided.al2023", "rust", False),
    ("graalvm_java21_on_provided_al2023", "", "provided.al2023", "graalvm_java", False),
    ("go_on_provided", "", "provided", "go", False),
    ("bun_layer", "bun layer(prov.al2)", "provided.al2", "bun_layer", False),
    ("swift58", "apple swift 5.8 (prov.al2)", "provided.al2", "swift", False),
    ("cobol", "cobol", None, "cobol", False),
])
def test_benchmark_ids_map_to_runtime_ids(benchmark_id, display, runtime, language, snapstart):
    assert initfit.runtime_of(benchmark_id, display) == (runtime, language, snapstart)


def test_both_field_name_generations_are_read_and_glitches_counted():
    docs = [(p.stem, json.loads(p.read_text())) for p in sorted((FIXTURES / "data").rglob("*.json"))
            if p.stem != "2025-11-01"]
    samples, dropped = initfit.samples(docs)
    old = samples[samples["month"] == "2022-09"]
    assert set(old["arch"]) == {"x86_64"} and set(old["package_type"]) == {"zip"} and len(old) == 30
    assert set(old["runtime"]) == {"python3.8", "provided", "provided.al2"}
    mid = samples[samples["month"] == "2023-11"].set_index("benchmark_id")
    assert mid.loc["swift58", "runtime"].iloc[0] == "provided.al2" and mid.loc["swift58", "memory_mb"].iloc[0] == 512
    assert mid.loc["java17_snapstart", "snapstart"].all() and mid.loc["go_on_provided_al2", "arch"].iloc[0] == "arm64"
    new = samples[samples["month"] == "2025-12"]
    image = new[new["package_type"] == "image"]
    assert len(image) == 7 and (image["init_ms"] > 0).all()     # NaN, -1 and null dropped
    assert dropped == {"duration that is not a positive number": 3, "record whose runtime cannot be told": 1,
                       "record with a bad architecture, package type, memory size or duration list": 1,
                       "record that is not an object": 1}
    assert initfit.samples([("2025-01-01", {"no": "data"})])[1] == {"document without a runtimeData list": 1}


def test_the_per_sample_table_is_read_with_its_glitches_counted():
    table = pd.read_csv(TABLE, nrows=40)
    table.loc[[3, 7], "init_duration_ms"] = [np.nan, -2.0]
    samples, dropped = initfit.samples_from_table(table)
    assert len(samples) == 38 and dropped == {"duration that is not a positive number": 2}
    assert list(samples.columns) == initfit.COLUMNS
    with pytest.raises(ValueError, match="lacks the column"):
        initfit.samples_from_table(table.drop(columns=["arch"]))


def test_the_fit_keeps_snapstart_apart_and_weights_recent_months():
    rows = [{"month": m, "benchmark_id": "python312", "language": "python", "runtime": "python3.12", "arch": "arm64",
             "package_type": "zip", "memory_mb": 128, "snapstart": False, "init_ms": v}
            for m, v in [("2024-01", 200.0)] * 20 + [("2024-12", 100.0)] * 20]
    rows += [{**rows[0], "benchmark_id": "java21_snapstart", "runtime": "java21", "snapstart": True, "init_ms": 600.0}]
    frame = pd.DataFrame(rows)
    flat = initfit.fit(frame)
    recent = initfit.fit(frame, half_life_months=1.0)
    assert _entry(flat["runtimes"], runtime="python3.12")["median_ms"] == pytest.approx(150.0)
    assert _entry(recent["runtimes"], runtime="python3.12")["median_ms"] == pytest.approx(100.0)
    assert [e["runtime"] for e in recent["runtimes"]] == ["python3.12"]
    assert _entry(recent["snapstart"], runtime="java21")["median_ms"] == 600.0
    with pytest.raises(ValueError, match="no cold-start samples"):
        initfit.fit(frame.iloc[:0])


def test_weighted_quantiles_match_numpy_with_equal_weights():
    values = np.random.default_rng(3).lognormal(5, 0.5, 501)
    got = initfit.weighted_quantiles(values, np.ones_like(values), [0.1, 0.5, 0.9])
    assert got == pytest.approx(np.quantile(values, [0.1, 0.5, 0.9]), rel=0.01)


# ---------------------------------------------------------------------------------------------------------
# priors refresh


def test_refresh_fetches_one_file_a_month_and_writes_a_dated_file(tmp_path):
    calls: list[str] = []
    path, doc = lambda_perf.refresh(40, out_dir=tmp_path, until="2025-12", today=dt.date(2026, 1, 5),
                                    get=_fake_get(calls))
    assert path == tmp_path / "2026-01-05.json" and initpriors.available(tmp_path) == [path]
    written = initpriors.load(path)
    assert written["fitted_on"]["months"] == ["2022-09", "2023-11", "2025-12"] and written["fitted_on"]["files"] == 3
    assert "2025-11" in written["fitted_on"]["missing_months"] and len(written["fitted_on"]["missing_months"]) == 37
    assert written["fitted_on"]["dropped"]["daily file that is not JSON"] == 1
    assert written["package_size"] == initpriors.priors()["package_size"] and "shilkov-vpc" in written["sources"]
    assert f"{lambda_perf.RAW_BASE}/2022-09-04.json" in calls            # the oldest files sit directly in data/
    assert not any("2025-12-02" in u for u in calls)                   # the month's first file is enough
    got = initpriors.init_prior("provided.al2023", arch="arm64", language="go", doc=written)
    assert got["median_ms"] == pytest.approx(np.median([37.14, 36.34, 43.73, 38.23, 37.8, 39.84, 47.78, 43.27,
                                                        37.76, 37.11]), abs=0.05)   # stored to 0.1 ms
    assert "fitted on 2022-09..2025-12: 3 month(s) from 3 daily file(s)" in lambda_perf.format_report(doc)
    newer = tmp_path / "2026-02-01.json"
    newer.write_text(path.read_text())
    assert initpriors.available(tmp_path)[-1] == newer


def test_refresh_from_the_bundled_table_reproduces_the_bundled_file(tmp_path, doc):
    fitted = doc["fitted_on"]
    path, again = lambda_perf.refresh(len(fitted["months"]), out_dir=tmp_path, until=fitted["to"], csv=TABLE,
                                      today=dt.date.fromisoformat(doc["compiled"]))
    assert json.loads(path.read_text()) == doc and fitted["to"] < "2025"     # fitted before the held-out months


def test_refresh_errors_are_one_clear_line(tmp_path, monkeypatch, capsys):
    def offline(url):
        raise lambda_perf.FetchError(f"could not download {url}: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(lambda_perf, "http_get", offline)
    assert cli.main(["priors", "refresh", "--months", "2", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lambda-workbook: error: could not download https://raw.githubusercontent.com/maxday/")
    assert "\n" not in err and "Traceback" not in err and not list(tmp_path.iterdir())
    assert cli.main(["priors", "refresh", "--months", "0", "--out", str(tmp_path)]) == 2
    assert "argument --months: got '0'; allowed: a whole number from 1 to 120" in capsys.readouterr().err
    with pytest.raises(lambda_perf.FetchError, match="no lambda-perf daily file found for 2019-01..2019-02"):
        lambda_perf.refresh(2, out_dir=tmp_path, until="2019-02", today=dt.date(2026, 1, 1), get=lambda url: None)
    with pytest.raises(ValueError, match="until must be a month 'YYYY-MM', got '2025-13'"):
        lambda_perf.refresh(2, out_dir=tmp_path, until="2025-13", get=lambda url: None)


def test_http_get_reads_404_as_no_file_and_other_failures_as_fetch_errors(monkeypatch):
    import urllib.error
    import urllib.request

    def raise_(exc):
        def opener(*a, **k):
            raise exc
        return opener

    monkeypatch.setattr(urllib.request, "urlopen", raise_(urllib.error.HTTPError("u", 404, "Not Found", {}, None)))
    assert lambda_perf.http_get("https://example.invalid/x.json") is None
    monkeypatch.setattr(urllib.request, "urlopen", raise_(urllib.error.HTTPError("u", 503, "Unavailable", {}, None)))
    with pytest.raises(lambda_perf.FetchError, match="HTTP 503 Unavailable"):
        lambda_perf.http_get("https://example.invalid/x.json")
    monkeypatch.setattr(urllib.request, "urlopen", raise_(urllib.error.URLError("no route")))
    with pytest.raises(lambda_perf.FetchError, match="no route"):
        lambda_perf.http_get("https://example.invalid/x.json")
