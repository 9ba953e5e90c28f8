"""The scale generator: N renamed copies of the sample's functions, written as a Parquet snapshot by DuckDB."""

import json

import pandas as pd
import pytest

from lambda_workbook import cli, lazytables, schema, sources
from lambda_workbook.sample import replicate

ACCOUNTS = ("210000000001", "210000000002")
REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture(scope="module")
def sixty(tmp_path_factory):
    return replicate.replicate(60, tmp_path_factory.mktemp("rep") / "sixty", accounts=ACCOUNTS, regions=REGIONS)


def test_sixty_functions_with_their_metric_rows(sixty, sample_snapshot):
    snap = sources.load_snapshot(sixty)
    assert snap.is_lazy("metrics") and snap.flags == []
    f = snap.functions
    assert len(f) == 60 and f[schema.KEY].drop_duplicates().shape[0] == 60
    # copy k of function <name> is <name>-<k>: two whole copies and the first two functions of the third
    per_function = sample_snapshot.metrics.groupby(schema.KEY).size().sort_index()
    expected = 2 * per_function.sum() + per_function.iloc[:2].sum()
    con = lazytables.connect()
    assert snap.relation("metrics", con).aggregate("count(*)").fetchall()[0][0] == expected
    assert json.loads((sixty / "manifest.json").read_text())["rows"]["metrics"] == expected
    names = f["function_name"].str.rsplit("-", n=1)
    assert set(names.str[0]) == set(sample_snapshot.functions["function_name"])
    assert sorted(names.str[1].astype(int).value_counts().to_dict().items()) == [(0, 29), (1, 29), (2, 2)]


def test_copies_are_spread_renamed_and_consistent(sixty, sample_snapshot):
    snap = sources.load_snapshot(sixty)
    f = snap.functions
    assert set(f["account_id"]) == set(ACCOUNTS) and set(f["region"]) == set(REGIONS)
    assert (f.apply(lambda r: r.function_arn == f"arn:aws:lambda:{r.region}:{r.account_id}:function:"
                    f"{r.function_name}", axis=1)).all()
    assert (f["log_group"] == "/aws/lambda/" + f["function_name"]).all()
    parts = {p.parent.relative_to(sixty / "metrics").as_posix() for p in (sixty / "metrics").rglob("*.parquet")}
    assert parts == {f"account_id={a}/region={r}" for a, r in set(map(tuple, f[["account_id", "region"]].to_numpy()))}
    # timestamps kept; a copy's traffic is the original's scaled by one factor from 0.9 to 1.1
    m = snap.metrics
    src = sample_snapshot.metrics
    one = f["function_name"].iloc[0]
    base = one.rsplit("-", 1)[0]
    a = m[(m.function_name == one) & (m.metric == "Invocations")].set_index("timestamp")["value"]
    b = src[(src.function_name == base) & (src.metric == "Invocations")].set_index("timestamp")["value"]
    assert a.index.equals(b.index)
    ratio = a.sum() / b.sum()
    assert 0.89 <= ratio <= 1.11


def test_deterministic(tmp_path):
    a = replicate.replicate(31, tmp_path / "a", accounts=ACCOUNTS[:1])
    b = replicate.replicate(31, tmp_path / "b", accounts=ACCOUNTS[:1])
    sa, sb = sources.load_snapshot(a), sources.load_snapshot(b)
    for name in ("functions", "reports", "metrics"):
        key = [c for c in schema.TABLES[name].column_names if c != "value"]
        pd.testing.assert_frame_equal(sa.tables[name].sort_values(key, ignore_index=True),
                                      sb.tables[name].sort_values(key, ignore_index=True))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_functions": 0}, "n_functions 0 is not allowed; allowed: a whole number >= 1"),
    ({"n_functions": 5, "days": 20}, "days 20 is not allowed; allowed: whole days from 1 to 14"),
    ({"n_functions": 5, "accounts": ("123",)}, "account '123' is not allowed; allowed: 12-digit account ids"),
])
def test_bad_arguments_are_one_line(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        replicate.plan(**kwargs)


def test_cli_replicate(tmp_path, capsys):
    out = tmp_path / "cli"
    assert cli.main(["sample", "replicate", "--functions", "30", "--days", "2", "--out", str(out)]) == 0
    snap = sources.load_snapshot(out)
    assert len(snap.functions) == 30 and snap.window_days == 2
    assert snap.metrics["timestamp"].min() >= pd.Timestamp(snap.manifest["start"])
    assert cli.main(["sample", "replicate", "--functions", "30", "--out", str(out)]) == 2      # exists, no --force
    assert "--force" in capsys.readouterr().err
