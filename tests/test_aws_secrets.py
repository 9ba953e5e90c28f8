"""Secrets stay at the boundary: canary values seeded into the functions' environment variables appear in no
file the scan or a report writes, in no log line (even with botocore debug logging on) and on no console."""

from __future__ import annotations

import gzip
import logging

import boto3

from lambda_workbook import cli, report


def _texts(folder):
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            yield path, data.decode("utf-8", errors="replace")


def test_canary_values_never_leave_the_boundary(aws_env, tmp_path, capsys):
    canaries = aws_env.seeded.canaries
    assert len(canaries) >= 10
    # the canaries really are in the account: moto hands them out to anyone who asks
    lam = boto3.client("lambda", region_name="us-east-1")
    env = lam.get_function_configuration(FunctionName="notifications-sender")["Environment"]["Variables"]
    assert set(env.values()) & set(canaries)

    log_file = tmp_path / "debug.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    botocore_log = logging.getLogger("botocore")
    old_level = botocore_log.level
    botocore_log.addHandler(handler)
    botocore_log.setLevel(logging.DEBUG)
    try:
        code = cli.main(["scan", "--profile", "prod,staging", "--regions", "us-east-1", "--days", "1",
                         "--out", str(tmp_path / "snap")])
    finally:
        botocore_log.removeHandler(handler)
        botocore_log.setLevel(old_level)
        handler.close()
    assert code == 0
    report.account_review(tmp_path / "review", source="snapshot", snapshot_path=str(tmp_path / "snap"), profile="",
                          region="all", lookback_days=14, top_n=5)
    report.account_review(tmp_path / "live", source="aws", snapshot_path="", profile="prod", region="us-east-1",
                          lookback_days=1, top_n=5)
    console = capsys.readouterr()

    debug = log_file.read_text()
    assert "Response body: <redacted by lambda-workbook>" in debug      # bodies would have been logged
    written = dict(_texts(tmp_path))
    assert {"snap/functions.csv", "review/index.html", "live/account_review.ipynb"} <= {
        str(p.relative_to(tmp_path)) for p in written}
    for canary in canaries:
        for path, text in written.items():
            assert canary not in text, f"{canary} leaked into {path}"
        assert canary not in console.out and canary not in console.err
    # the names are kept: the scan did read the environment
    assert "STRIPE_SECRET_KEY" in written[tmp_path / "snap" / "functions.csv"]
