"""reads.Setting: the keywords both options tables share, passed once."""

import pandas as pd
import pytest

from lambda_workbook import prices, reads

S3 = dict(object_mb=40, fraction_needed=0.02, requests_per_month=30000)
DDB = dict(table_items=12240, items_needed=20, item_kb=1.5, requests_per_month=1e5)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs == b.attrs


@pytest.fixture(scope="module")
def shared():
    net = reads.Network(mb_per_s_1vcpu=40.0, exponent=0.7)
    kw = dict(memory_mb=512, arch="arm64", region="us-east-1", transfer="nat-gateway", network=net,
              parse_ms_per_mb=35.0, baseline_mb=90.0, expansion=3.0, book=prices.load("us-east-1"))
    return kw, reads.Setting(**kw)


def test_a_setting_gives_the_same_tables_as_its_keywords(shared):
    kw, setting = shared
    _same(reads.s3_options(**S3, setting=setting), reads.s3_options(**S3, **kw))
    _same(reads.dynamodb_options(**DDB, setting=setting), reads.dynamodb_options(**DDB, **kw))
    # and not the defaults' tables: the setting is actually used
    assert reads.s3_options(**S3, setting=setting).attrs["memory_mb"] == 512
    assert reads.dynamodb_options(**DDB, setting=setting).attrs["arch"] == "arm64"


def test_a_keyword_other_than_its_default_overrides_the_setting(shared):
    kw, setting = shared
    _same(reads.s3_options(**S3, setting=setting, memory_mb=2048), reads.s3_options(**S3, **{**kw, "memory_mb": 2048}))
    swept = reads.sweep(reads.dynamodb_options, "memory_mb", [256, 4096], setting=setting, **DDB)
    assert swept.groupby("memory_mb")["lambda_ms"].max().loc[256] > swept.groupby("memory_mb")["lambda_ms"].max().loc[4096]


def test_a_bad_setting_is_one_clear_error():
    with pytest.raises(reads.ReadsError, match=r"setting must be a reads.Setting or None, got \{'memory_mb': 512\}"):
        reads.s3_options(**S3, setting={"memory_mb": 512})
    with pytest.raises(reads.ReadsError, match="memory_mb must be <= 10240"):
        reads.dynamodb_options(**DDB, setting=reads.Setting(memory_mb=20000))
    with pytest.raises(TypeError, match="no field"):
        reads.Setting().merge(colour="red")
