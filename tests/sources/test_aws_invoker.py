"""The tuner's AWS plumbing against a moto server on 127.0.0.1 (real HTTP; moto's invoke without Docker).

moto echoes the payload and returns no log tail, so the tests inject REPORT lines through ``log_tail_source``
from a known duration model, and check what the invoker did: by default a temporary copy is made, measured and
deleted while the function itself is only read; ``--in-place`` publishes versions and aliases on the function
and deletes them again. Faults and signals: ``test_tune_faults.py`` and ``test_tune_signals.py``.
"""

from __future__ import annotations

import json

import boto3
import pytest

from lambda_workbook import cli
from lambda_workbook.sources import aws_invoker, tune_copy, tune_journal
from tune_moto import (
    CANARY,
    FN,
    READS,
    ZIP,
    Calls,
    fetch_stub,
    lam,
    leftovers,
    logs,
    make_function,
    moto,
    original,
    report_tail,
    sha256_b64,
)

__all__ = ["lam", "logs", "moto"]  # fixtures


def true_ms(memory_mb: float) -> float:
    return 30.0 + 600.0 / min(1.0, memory_mb / 1769.0)


def run(client, logs_client, sizes, tmp_path, **kw):
    kw.setdefault("log_tail_source", report_tail())
    return aws_invoker.tune_function(FN, sizes, client=client, logs_client=logs_client, journal=tmp_path,
                                     fetch_code=fetch_stub, out=kw.pop("out", lambda s: None), **kw)


def test_dry_run_prints_the_plan_and_changes_nothing(lam, tmp_path):
    before = original(lam)
    printed = []
    plan = aws_invoker.tune_function(FN, [128, 256, 512, 1024, 2048], dry_run=True, out=printed.append,
                                     expected_duration_ms=100, journal=tmp_path)
    text = "\n".join(printed)
    assert isinstance(plan, aws_invoker.Plan)
    assert "128, 256, 512, 1024, 2048 MB" in text and "at most 50 invocations" in text
    assert f"temporary copy lwb-tune-{FN}-" in text and "2 variable(s)" in text and "only read" in text
    assert "WARNING" not in text and "dry run: nothing was changed" in text
    # the bound: 50 invocations at 2,048 MB running to the 10 s timeout, request fees included
    assert plan.max_cost_usd == pytest.approx(50 * (2e-7 + 10 * 2 * 0.0000166667), rel=1e-3)
    assert 0 < plan.typical_cost_usd < plan.max_cost_usd
    assert original(lam) == before and not list(tmp_path.iterdir()), "no change, no journal"
    in_place = aws_invoker.tune_function(FN, [128, 1024], dry_run=True, in_place=True, out=printed.append,
                                         journal=tmp_path)
    assert "WARNING (--in-place)" in in_place.text() and "unqualified invocations" in in_place.text()


def test_tunes_a_copy_and_never_touches_the_function(lam, logs, tmp_path):
    before = original(lam)
    calls = Calls(lam, logs)
    heavy, light = json.dumps({"size": "heavy"}).encode(), json.dumps({"size": "light"}).encode()
    result = run(lam, logs, [128, 256, 512, 1024, 1536, 2048, 3008], tmp_path, payloads=[(heavy, 3), (light, 1)])
    ops = calls.stop().ops()
    assert original(lam) == before, "configuration (RevisionId, LastModified, memory), versions, aliases as they were"
    assert set(calls.on(FN)) <= READS and "GetFunction" in calls.on(FN), calls.on(FN)
    assert leftovers(lam, logs) == []
    invokes = [p for _, op, p in calls.log if op == "Invoke"]
    assert 1 <= result.invocations <= 70 and result.invocations == len(invokes)
    copies = {p["FunctionName"] for p in invokes}
    assert len(copies) == 1 and copies.pop().startswith(f"lwb-tune-{FN}-")
    assert all(p["Qualifier"].isdigit() and p["LogType"] == "Tail" for p in invokes)
    # one update + one published version of the copy per size measured, and the copy deleted at the end
    measured = set(result.samples["memory_mb"])
    published = [p for _, op, p in calls.log if op == "PublishVersion"]
    assert len(published) == len(measured) and ops.count("CreateFunction") == 1
    assert ops[-2:] == ["DeleteFunction", "DeleteLogGroup"]
    # cost: 30 ms fixed + CPU-bound 600 ms at 1 vCPU -> the cheapest is the smallest size
    assert result.memory_mb == 128
    assert (result.samples["kind"] == "cold").sum() >= 3
    cycle = aws_invoker.WeightedCycle([3, 1])
    expected = [(heavy, light)[next(cycle)] for _ in range(70)]
    for q in {p["Qualifier"] for p in invokes}:
        seq = [p["Payload"] for p in invokes if p["Qualifier"] == q]
        assert seq == expected[:len(seq)]
    assert result.model.predict([1024])[0] == pytest.approx(true_ms(1024), rel=0.1)
    journal = tune_journal.Journal.load(next(tmp_path.glob("*.jsonl")), lock=False)
    assert journal.finished_clean() and journal.header["mode"] == "copy"


def test_the_copy_has_the_functions_code_and_configuration(lam, logs, tmp_path):
    layer = lam.publish_layer_version(LayerName="deps", Content={"ZipFile": ZIP})["LayerVersionArn"]
    make_function(lam, "configured", env={"A": CANARY}, Layers=[layer], MemorySize=768, Timeout=42,
                  Architectures=["arm64"], EphemeralStorage={"Size": 2048}, TracingConfig={"Mode": "Active"},
                  VpcConfig={"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]})
    calls = Calls(lam, logs)
    aws_invoker.tune_function("configured", [768, 1024], client=lam, logs_client=logs, journal=tmp_path,
                              fetch_code=fetch_stub, out=lambda s: None, max_invocations=4,
                              log_tail_source=report_tail())
    (create,) = [p for _, op, p in calls.stop().log if op == "CreateFunction"]
    assert create["Code"] == {"ZipFile": ZIP} and create["Role"].endswith(":role/configured-role")
    assert create["Environment"] == {"Variables": {"A": CANARY}}
    assert (create["Runtime"], create["Handler"], create["Timeout"], create["MemorySize"]) == (
        "python3.12", "app.handler", 42, 768)
    assert create["Layers"] == [layer] and create["Architectures"] == ["arm64"]
    assert create["EphemeralStorage"] == {"Size": 2048} and create["TracingConfig"] == {"Mode": "Active"}
    assert create["VpcConfig"] == {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    assert leftovers(lam, logs, "configured") == []


def test_an_image_function_is_copied_by_its_digest(lam, logs, tmp_path):
    make_function(lam, "imaged", PackageType="Image",
                  Code={"ImageUri": f"{'1' * 12}.dkr.ecr.us-east-1.amazonaws.com/repo:latest"},
                  ImageConfig={"Command": ["app.handler"]})
    resolved = lam.get_function(FunctionName="imaged")["Code"]["ResolvedImageUri"]
    calls = Calls(lam, logs)
    aws_invoker.tune_function("imaged", [512, 1024], client=lam, logs_client=logs, journal=tmp_path,
                              fetch_code=lambda url: pytest.fail("an image is not downloaded"), out=lambda s: None,
                              max_invocations=4, log_tail_source=report_tail())
    (create,) = [p for _, op, p in calls.stop().log if op == "CreateFunction"]
    assert create["Code"] == {"ImageUri": resolved} and "@sha256:" in resolved
    assert create["PackageType"] == "Image" and create["ImageConfig"] == {"Command": ["app.handler"]}
    assert leftovers(lam, logs, "imaged") == []


def test_code_that_does_not_match_its_hash_is_not_copied(lam, logs, tmp_path):
    before = original(lam)
    with pytest.raises(aws_invoker.InvokerError, match="does not match the function's CodeSha256"):
        aws_invoker.tune_function(FN, [256, 1024], client=lam, logs_client=logs, journal=tmp_path,
                                  fetch_code=lambda url: ZIP + b"tampered", out=lambda s: None)
    assert sha256_b64(ZIP) == before["config"]["CodeSha256"]
    assert original(lam) == before and leftovers(lam, logs) == []
    with pytest.raises(tune_copy.CopyError, match="only an HTTPS code location"):
        tune_copy.fetch_code("http://example.invalid/code.zip")


def test_environment_values_are_never_stored(lam, logs, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tune_copy, "fetch_code", fetch_stub)
    created = Calls(lam, logs)
    inv = aws_invoker.AwsInvoker(FN, client=lam, logs_client=logs, journal=tmp_path / "j", fetch_code=fetch_stub,
                                 log_tail_source=report_tail())
    with inv:
        inv(256)
        inv(1024)
        assert CANARY not in repr(vars(inv)) and inv.env_names == ["DB_PASSWORD", "STAGE"]
    # the copy did get the values ...
    (create,) = [p for _, op, p in created.log if op == "CreateFunction"]
    assert create["Environment"]["Variables"]["DB_PASSWORD"] == CANARY
    # ... and nothing the runs write or return holds them: journals, the --json summary, the output
    summary = tmp_path / "summary.json"
    assert cli.main(["tune", "--function", FN, "--memory", "256,1024", "--max-invocations", "6", "--quiet",
                     "--json", str(summary), "--journal", str(tmp_path), "--region", "us-east-1"]) == 0
    result = run(lam, logs, [256, 1024], tmp_path, max_invocations=6)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 4 and summary in written  # three journals and the summary
    for p in written:
        assert CANARY.encode() not in p.read_bytes(), p
    assert CANARY not in repr(vars(result)) and CANARY not in json.dumps(result.summary())
    assert CANARY not in result.samples.to_csv() and CANARY not in "".join(capsys.readouterr())
    assert CANARY not in repr(vars(inv)) and leftovers(lam, logs) == []


def test_in_place_publishes_aliases_and_restores_everything(lam, logs, tmp_path):
    before = original(lam)
    calls = Calls(lam, logs)
    printed = []
    result = run(lam, logs, [128, 512, 2048], tmp_path, in_place=True, out=printed.append)
    calls.stop()
    after = original(lam)
    assert after["versions"] == before["versions"] and after["aliases"] == before["aliases"]
    assert after["config"]["MemorySize"] == 512 and leftovers(lam, logs) == []
    assert "WARNING (--in-place)" in printed[0]
    invokes = [p for _, op, p in calls.log if op == "Invoke"]
    assert invokes and all(p["FunctionName"] == FN and p["Qualifier"].startswith("lwb-tune-") for p in invokes)
    assert "CreateFunction" not in calls.ops() and result.invocations == len(invokes)
    # $LATEST is at a trial size only between its update and the restore that follows the publish
    trial = [(op, p.get("MemorySize")) for _, op, p in calls.log if op in ("UpdateFunctionConfiguration",
                                                                            "PublishVersion")]
    for i, (op, mb) in enumerate(trial):
        if op == "UpdateFunctionConfiguration" and mb != 512:
            assert trial[i + 1][0] == "PublishVersion" and trial[i + 2] == ("UpdateFunctionConfiguration", 512)


def test_out_of_memory_at_small_sizes_is_infeasible_not_a_failure(lam, logs, tmp_path):
    ok = report_tail()

    def tail(resp, memory_mb, qualifier):
        if memory_mb < 300:
            return [f"REPORT RequestId: r\tDuration: 20.00 ms\tBilled Duration: 21 ms\tMemory Size: {int(memory_mb)} "
                    f"MB\tMax Memory Used: {int(memory_mb)} MB\tStatus: error\tError Type: Runtime.OutOfMemory"]
        return ok(resp, memory_mb, qualifier)

    result = run(lam, logs, [128, 256, 512, 1024], tmp_path, log_tail_source=tail)
    assert set(result.infeasible) == {128.0, 256.0} and "out of memory" in result.infeasible[128.0]
    assert result.memory_mb == 512 and leftovers(lam, logs) == []


def test_client_timer_fallback_when_no_report_line(lam, logs, tmp_path):
    result = run(lam, logs, [256, 1024], tmp_path, log_tail_source=None, max_invocations=8)
    assert (result.samples["source"] == "client-timer").all()
    assert any("client-timer" in n for n in result.notes) and leftovers(lam, logs) == []


@pytest.mark.parametrize("in_place", [False, True], ids=["copy", "in-place"])
def test_ctrl_c_cleans_up_everything(lam, logs, tmp_path, in_place):
    before = original(lam)
    tail, n = report_tail(), {"calls": 0}

    def interrupting(resp, memory_mb, qualifier):
        n["calls"] += 1
        if n["calls"] == 5:
            raise KeyboardInterrupt
        return tail(resp, memory_mb, qualifier)

    with pytest.raises(KeyboardInterrupt):
        run(lam, logs, [128, 512, 2048], tmp_path, log_tail_source=interrupting, in_place=in_place)
    assert n["calls"] == 5 and leftovers(lam, logs) == []
    assert original(lam)["config"]["MemorySize"] == 512 and original(lam)["aliases"] == before["aliases"]


def test_restoring_latest_never_overwrites_a_deploy(lam, logs, tmp_path):
    def cut_off_run(memory_after):
        """An in-place run stopped between setting $LATEST to 2,048 MB and putting it back."""
        inv = aws_invoker.AwsInvoker(FN, client=lam, logs_client=logs, journal=tmp_path, in_place=True)
        inv._open_journal().intent("memory", "lambda:UpdateFunctionConfiguration", "restore", function=FN,
                                   original_mb=512, set_mb=2048)
        lam.update_function_configuration(FunctionName=FN, MemorySize=2048)
        if memory_after != 2048:
            lam.update_function_configuration(FunctionName=FN, MemorySize=memory_after)  # someone deploys
        assert inv.cleanup() == []
        return inv, lam.get_function_configuration(FunctionName=FN)["MemorySize"]

    inv, memory = cut_off_run(2048)
    assert memory == 512 and not inv.notes
    inv, memory = cut_off_run(768)
    assert memory == 768 and any("768 MB, not set by this run: left as it is" in n for n in inv.notes)
    assert leftovers(lam, logs) == []


def test_client_makes_six_attempts_per_call_in_all(lam):
    inv = aws_invoker.AwsInvoker(FN, region="us-east-1")   # its own client, as the CLI makes it
    assert inv.client.meta.config.retries == {"total_max_attempts": 6, "mode": "adaptive"}
    assert inv.client.meta.config.read_timeout == 910


def test_refuses_a_qualified_function_name(lam):
    with pytest.raises(ValueError, match="not a version or alias"):
        aws_invoker.AwsInvoker(f"arn:aws:lambda:us-east-1:123456789012:function:{FN}:live", client=lam)


def test_a_copy_created_by_a_retried_request_is_recognised(lam):
    lam.create_function(FunctionName="lwb-tune-x-abc123", Role=lam.get_function_configuration(FunctionName=FN)["Role"],
                        Runtime="python3.12", Handler="app.handler", Code={"ZipFile": ZIP}, Description="ours")
    info = tune_copy.create_copy(lam, FN, "lwb-tune-x-abc123", description="ours", fetch=fetch_stub)
    assert info["env_names"] == ["DB_PASSWORD", "STAGE"] and CANARY not in repr(info)
    with pytest.raises(lam.exceptions.ResourceConflictException):
        tune_copy.create_copy(lam, FN, "lwb-tune-x-abc123", description="someone else's", fetch=fetch_stub)


def test_copy_names_fit_lambdas_limit():
    long = "f" * 64
    name = tune_copy.copy_name(long, "abc123")
    assert len(name) == 64 and name.startswith("lwb-tune-fff") and name.endswith("-abc123")
    assert tune_copy.copy_name(f"arn:aws:lambda:us-east-1:1:function:{FN}", "abc123") == f"lwb-tune-{FN}-abc123"


def test_cli_tune_dry_run_run_and_in_place(lam, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tune_copy, "fetch_code", fetch_stub)
    monkeypatch.setenv(tune_journal.DIR_ENV, str(tmp_path / "journals"))
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps([{"payload": {"a": 1}, "weight": 2}, {"payload": "raw", "weight": 1}]))
    assert cli.main(["tune", "--function", FN, "--memory", "256,1024", "--dry-run", "--payload", str(payload),
                     "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out
    assert "Tuning plan for orders-tuned" in out and "2 payload(s)" in out and "dry run" in out
    before = original(lam)
    for extra in ([], ["--in-place"]):
        summary = tmp_path / "tune.json"
        assert cli.main(["tune", "--function", FN, "--memory", "256,1024", "--max-invocations", "6", "--quiet",
                         "--json", str(summary), "--region", "us-east-1", *extra]) == 0
        doc = json.loads(summary.read_text())
        assert doc["memory_mb"] in (256, 1024) and doc["invocations"] <= 6
        assert leftovers(lam) == [] and original(lam)["aliases"] == before["aliases"]
    assert original(lam)["config"]["MemorySize"] == 512
    assert len(list((tmp_path / "journals").glob("*.jsonl"))) == 2
    assert cli.main(["tune", "--function", FN, "--memory", "128,99999", "--dry-run"]) == 2
    assert "between 128 and 10240" in capsys.readouterr().err
    assert cli.main(["tune", "--memory", "128"]) == 2
    assert "--function" in capsys.readouterr().err


def test_payload_files_and_weighted_cycle():
    assert aws_invoker.load_payloads({"a": 1}) == [(b'{"a":1}', 1.0)]
    assert aws_invoker.load_payloads([{"payload": "x", "weight": 2}]) == [(b"x", 2.0)]
    with pytest.raises(ValueError, match="weight must be a positive number"):
        aws_invoker.load_payloads([{"payload": "x", "weight": 0}])
    cyc = aws_invoker.WeightedCycle([5, 1, 1])
    seq = [next(cyc) for _ in range(70)]
    assert seq.count(0) == 50 and seq.count(1) == 10 and seq.count(2) == 10
    assert seq[:7].count(0) == 5  # smooth: the heavy item is spread out, not bunched at the end


def test_boto3_is_pointed_at_moto(lam):
    assert boto3.client("lambda", region_name="us-east-1").meta.endpoint_url.startswith("http://127.0.0.1:")
