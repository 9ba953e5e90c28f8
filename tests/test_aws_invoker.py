"""The tuner's AWS plumbing against a moto server on 127.0.0.1 (real HTTP; moto's invoke without Docker).

moto echoes the payload and returns no log tail, so the tests inject REPORT lines through ``log_tail_source``
from a known duration model, and check what the invoker did to the function: versions and aliases created
and deleted, ``$LATEST``'s memory restored, the live alias untouched, also after Ctrl-C.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import boto3
import pytest
import requests

from lambda_workbook import cli, sample
from lambda_workbook.sources import aws_invoker

FN = "orders-tuned"


@pytest.fixture(scope="module")
def moto():
    import moto_account

    server = moto_account.MotoServer()
    env = {"AWS_ENDPOINT_URL": server.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    assert requests.post(server.endpoint + "/moto-api/config", json={"lambda": {"use_docker": False}}).ok
    try:
        yield server
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


@pytest.fixture
def lam(moto):
    requests.post(moto.endpoint + "/moto-api/reset")
    requests.post(moto.endpoint + "/moto-api/config", json={"lambda": {"use_docker": False}})
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return event\n")
    client = boto3.client("lambda", region_name="us-east-1")
    client.create_function(FunctionName=FN, Runtime="python3.12", Role=role, Handler="app.handler",
                           Code={"ZipFile": buf.getvalue()}, MemorySize=512, Timeout=10, Architectures=["x86_64"])
    v1 = client.publish_version(FunctionName=FN)["Version"]
    client.create_alias(FunctionName=FN, Name="live", FunctionVersion=v1)
    return client


def true_ms(memory_mb: float) -> float:
    return 30.0 + 600.0 / min(1.0, memory_mb / 1769.0)


def report_tail(oom_below: float = 0.0):
    """A log_tail_source that writes the REPORT line a function following ``true_ms`` would print."""
    seen = set()

    def source(resp, memory_mb, alias):
        cold = alias not in seen
        seen.add(alias)
        d = true_ms(memory_mb) * (1.0 + 0.01 * (len(seen) % 3))
        if memory_mb < oom_below:
            return [f"REPORT RequestId: r\tDuration: {d:.2f} ms\tBilled Duration: {int(d) + 1} ms\t"
                    f"Memory Size: {int(memory_mb)} MB\tMax Memory Used: {int(memory_mb)} MB\tStatus: error\t"
                    "Error Type: Runtime.OutOfMemory"]
        return [sample.report_line("r", d, int(memory_mb), 80, init=180.0 if cold else float("nan"))]

    return source


def state(client):
    versions = sorted(v["Version"] for v in client.list_versions_by_function(FunctionName=FN)["Versions"])
    aliases = {a["Name"]: a["FunctionVersion"] for a in client.list_aliases(FunctionName=FN)["Aliases"]}
    return client.get_function_configuration(FunctionName=FN)["MemorySize"], versions, aliases


def test_dry_run_prints_the_plan_and_changes_nothing(lam):
    before = state(lam)
    printed = []
    plan = aws_invoker.tune_function(FN, [128, 256, 512, 1024, 2048], dry_run=True, out=printed.append,
                                     expected_duration_ms=100)
    text = "\n".join(printed)
    assert isinstance(plan, aws_invoker.Plan)
    assert "128, 256, 512, 1024, 2048 MB" in text and "at most 50 invocations" in text
    assert "$" in text and "dry run: nothing was changed" in text
    # the bound: 50 invocations at 2,048 MB running to the 10 s timeout, request fees included
    assert plan.max_cost_usd == pytest.approx(50 * (2e-7 + 10 * 2 * 0.0000166667), rel=1e-3)
    assert 0 < plan.typical_cost_usd < plan.max_cost_usd
    assert state(lam) == before


def test_tune_publishes_invokes_and_cleans_up(lam):
    before = state(lam)
    calls = []
    original = lam.invoke

    def spy(**kw):
        calls.append(kw)
        return original(**kw)

    lam.invoke = spy
    heavy, light = json.dumps({"size": "heavy"}).encode(), json.dumps({"size": "light"}).encode()
    result = aws_invoker.tune_function(FN, [128, 256, 512, 1024, 1536, 2048, 3008], client=lam,
                                       payloads=[(heavy, 3), (light, 1)], log_tail_source=report_tail(),
                                       out=lambda s: None)
    assert state(lam) == before, "versions, aliases and $LATEST's memory are as they were"
    assert 1 <= result.invocations <= 70 and result.invocations == len(calls)
    # cost: 30 ms fixed + CPU-bound 600 ms at 1 vCPU -> the cheapest is the smallest size
    assert result.memory_mb == 128
    assert set(result.samples["kind"]) <= {"ok", "cold"} and (result.samples["kind"] == "cold").sum() >= 3
    qualifiers = {c["Qualifier"] for c in calls}
    assert all(q.startswith("lwb-tune-") for q in qualifiers) and "live" not in qualifiers
    assert all(c["LogType"] == "Tail" and c["InvocationType"] == "RequestResponse" for c in calls)
    # weighted payloads: every size gets the same smooth 3-heavy-per-light sequence from its start
    cycle = aws_invoker.WeightedCycle([3, 1])
    expected = [(heavy, light)[next(cycle)] for _ in range(70)]
    for q in qualifiers:
        seq = [c["Payload"] for c in calls if c["Qualifier"] == q]
        assert seq == expected[:len(seq)]
    assert expected[:4].count(heavy) == 3
    assert result.model.predict([1024])[0] == pytest.approx(true_ms(1024), rel=0.1)


def test_client_timer_fallback_when_no_report_line(lam):
    before = state(lam)
    result = aws_invoker.tune_function(FN, [256, 1024], client=lam, out=lambda s: None, max_invocations=8)
    assert state(lam) == before
    assert (result.samples["source"] == "client-timer").all()
    assert any("client-timer" in n for n in result.notes)


def test_out_of_memory_at_small_sizes_is_infeasible_not_a_failure(lam):
    result = aws_invoker.tune_function(FN, [128, 256, 512, 1024], client=lam, out=lambda s: None,
                                       log_tail_source=report_tail(oom_below=300))
    assert set(result.infeasible) == {128.0, 256.0}
    assert "out of memory" in result.infeasible[128.0]
    assert result.memory_mb == 512


def test_ctrl_c_cleans_up_everything(lam):
    before = state(lam)
    tail = report_tail()
    n = {"calls": 0}

    def interrupting(resp, memory_mb, alias):
        n["calls"] += 1
        if n["calls"] == 5:
            raise KeyboardInterrupt
        return tail(resp, memory_mb, alias)

    with pytest.raises(KeyboardInterrupt):
        aws_invoker.tune_function(FN, [128, 512, 2048], client=lam, log_tail_source=interrupting, out=lambda s: None)
    assert n["calls"] == 5
    assert state(lam) == before


def test_interrupt_while_latest_holds_another_size_restores_it(lam):
    inv = aws_invoker.AwsInvoker(FN, client=lam)
    inv.memory_touched = True
    inv._sizes_set.add(2048)
    inv._set_memory(2048)  # as if Ctrl-C arrived between the update and the restore
    assert lam.get_function_configuration(FunctionName=FN)["MemorySize"] == 2048
    assert inv.cleanup() == []
    assert lam.get_function_configuration(FunctionName=FN)["MemorySize"] == 512


def test_a_deploy_during_the_run_is_not_overwritten(lam):
    inv = aws_invoker.AwsInvoker(FN, client=lam)
    inv.memory_touched = True
    inv._sizes_set.add(2048)
    lam.update_function_configuration(FunctionName=FN, MemorySize=768)  # someone else's change
    inv.cleanup()
    assert lam.get_function_configuration(FunctionName=FN)["MemorySize"] == 768
    assert any("not set by this run" in n for n in inv.notes)


def test_client_makes_six_attempts_per_call_in_all(lam):
    inv = aws_invoker.AwsInvoker(FN, region="us-east-1")   # its own client, as the CLI makes it
    assert inv.client.meta.config.retries == {"total_max_attempts": 6, "mode": "adaptive"}
    assert inv.client.meta.config.read_timeout == 910


def test_refuses_a_qualified_function_name(lam):
    with pytest.raises(ValueError, match="not a version or alias"):
        aws_invoker.AwsInvoker(f"arn:aws:lambda:us-east-1:123456789012:function:{FN}:live", client=lam)


def test_cli_tune_dry_run_and_run(lam, tmp_path, capsys):
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps([{"payload": {"a": 1}, "weight": 2}, {"payload": "raw", "weight": 1}]))
    assert cli.main(["tune", "--function", FN, "--memory", "256,1024", "--dry-run", "--payload", str(payload),
                     "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out
    assert "Tuning plan for orders-tuned" in out and "2 payload(s)" in out and "dry run" in out
    before = state(lam)
    summary = tmp_path / "tune.json"
    assert cli.main(["tune", "--function", FN, "--memory", "256,1024", "--max-invocations", "6", "--quiet",
                     "--json", str(summary), "--region", "us-east-1"]) == 0
    assert state(lam) == before
    doc = json.loads(summary.read_text())
    assert doc["memory_mb"] in (256, 1024) and doc["invocations"] <= 6
    assert cli.main(["tune", "--function", FN, "--memory", "128,99999", "--dry-run"]) == 2
    assert "between 128 and 10240" in capsys.readouterr().err


def test_payload_files_and_weighted_cycle():
    assert aws_invoker.load_payloads({"a": 1}) == [(b'{"a":1}', 1.0)]
    assert aws_invoker.load_payloads([{"payload": "x", "weight": 2}]) == [(b"x", 2.0)]
    with pytest.raises(ValueError, match="weight must be a positive number"):
        aws_invoker.load_payloads([{"payload": "x", "weight": 0}])
    cyc = aws_invoker.WeightedCycle([5, 1, 1])
    seq = [next(cyc) for _ in range(70)]
    assert seq.count(0) == 50 and seq.count(1) == 10 and seq.count(2) == 10
    assert seq[:7].count(0) == 5  # smooth: the heavy item is spread out, not bunched at the end
