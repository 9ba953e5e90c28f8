"""Shared by the tuner's tests: a moto server, a function to tune, what a run left behind, recorded calls and
injected faults (botocore event hooks), and the zip the copy is made from (moto's code location is an AWS host
the tests never reach, so ``fetch_code`` is replaced by :func:`fetch_stub`)."""

from __future__ import annotations

import base64
import hashlib
import os

import boto3
import pytest
import requests
from botocore.exceptions import ReadTimeoutError

from lambda_workbook import sample
from moto_account import ZIP  # the same echo handler the scan tests deploy

FN = "orders-tuned"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
CANARY = "canary-env-value-9d41c7"
READS = {"GetFunctionConfiguration", "GetFunction", "ListVersionsByFunction", "ListAliases"}


FETCHED: list[str] = []


def fetch_stub(url: str) -> bytes:
    """Stands in for the HTTPS download of the presigned code location (the zip the function was made from)."""
    assert url.startswith("https://"), url
    FETCHED.append(url)
    return ZIP


@pytest.fixture(scope="module")
def moto():
    import moto_account

    server = moto_account.MotoServer()
    env = {"AWS_ENDPOINT_URL": server.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": REGION}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield server
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


def reset(server) -> None:
    requests.post(server.endpoint + "/moto-api/reset")
    requests.post(server.endpoint + "/moto-api/config", json={"lambda": {"use_docker": False}})


def make_function(client, name: str = FN, *, env: dict | None = None, **extra) -> dict:
    iam = boto3.client("iam", region_name=REGION)
    try:
        role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName=f"{name}-role")["Role"]["Arn"]
    kw = {"FunctionName": name, "Role": role, "MemorySize": 512, "Timeout": 10, "Architectures": ["x86_64"],
          **extra}
    if kw.get("PackageType") != "Image":
        kw.setdefault("Runtime", "python3.12")
        kw.setdefault("Handler", "app.handler")
        kw.setdefault("Code", {"ZipFile": ZIP})
    if env:
        kw["Environment"] = {"Variables": env}
    return client.create_function(**kw)


@pytest.fixture
def lam(moto):
    """A clean moto with ``orders-tuned`` (512 MB, a canary in its environment), version 1 and alias ``live``."""
    reset(moto)
    client = boto3.client("lambda", region_name=REGION)
    make_function(client, env={"DB_PASSWORD": CANARY, "STAGE": "prod"})
    v1 = client.publish_version(FunctionName=FN)["Version"]
    client.create_alias(FunctionName=FN, Name="live", FunctionVersion=v1)
    return client


@pytest.fixture
def logs(moto):
    return boto3.client("logs", region_name=REGION)


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# -- state -----------------------------------------------------------------------------------------------------
def _clean(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "ResponseMetadata"}


def original(client, name: str = FN) -> dict:
    """Everything about the function a run must leave as it was: $LATEST's configuration (RevisionId and
    LastModified included), its versions and its aliases."""
    return {"config": _clean(client.get_function_configuration(FunctionName=name)),
            "versions": [_clean(v) for v in client.list_versions_by_function(FunctionName=name)["Versions"]],
            "aliases": [_clean(a) for a in client.list_aliases(FunctionName=name)["Aliases"]]}


def leftovers(client, logs_client=None, name: str = FN) -> list[str]:
    """Whatever a tuning run may have left: copies, their log groups, ``lwb-tune-*`` aliases, tune versions."""
    out = [f"function {f['FunctionName']}" for f in client.list_functions()["Functions"]
           if f["FunctionName"].startswith("lwb-tune-")]
    out += [f"alias {a['Name']}" for a in client.list_aliases(FunctionName=name)["Aliases"]
            if a["Name"].startswith("lwb-tune-")]
    out += [f"version {v['Version']}" for v in client.list_versions_by_function(FunctionName=name)["Versions"]
            if (v.get("Description") or "").startswith("lambda-workbook tune")]
    if logs_client is not None:
        out += [f"log group {g['logGroupName']}" for g in
                logs_client.describe_log_groups(logGroupNamePrefix="/aws/lambda/lwb-tune-")["logGroups"]]
    return out


# -- calls -----------------------------------------------------------------------------------------------------
class Calls:
    """Records every call made through the hooked clients, and can make call #k fail.

    ``fail_at=k, when="after"``: call k reaches moto, then raises ReadTimeoutError — the lost-response case;
    ``when="before"``: call k raises before it is sent. ``persist=True``: every later call fails before it is
    sent too (the network is gone)."""

    def __init__(self, *clients, fail_at: int | None = None, when: str = "after", persist: bool = False):
        self.log: list[tuple[str, str, dict]] = []
        self.fail_at, self.when, self.persist = fail_at, when, persist
        self.failed: list[tuple[int, str]] = []
        self.stopped = False
        for c in clients:
            c.meta.events.register("before-parameter-build.*.*", self._record)
            c.meta.events.register("before-call.*.*", self._before)
            c.meta.events.register("after-call.*.*", self._after)

    def _record(self, model, params, **_):
        if not self.stopped:
            self.log.append((model.service_model.service_name, model.name, dict(params)))

    def stop(self) -> Calls:
        """Stop recording (and failing): the checks that follow make calls of their own."""
        self.stopped = True
        return self

    def _fail(self, n: int, when: str) -> bool:
        if self.fail_at is None or self.stopped:
            return False
        if n == self.fail_at:
            return when == self.when
        return self.persist and n > self.fail_at and when == "before"  # later requests never leave

    def _before(self, model, **_):
        n = len(self.log)
        if self._fail(n, "before"):
            self.failed.append((n, model.name))
            raise ReadTimeoutError(endpoint_url=f"injected before call {n} ({model.name})")

    def _after(self, model, **_):
        n = len(self.log)
        if self._fail(n, "after"):
            self.failed.append((n, model.name))
            raise ReadTimeoutError(endpoint_url=f"injected: answer to call {n} ({model.name}) lost")

    def ops(self) -> list[str]:
        return [op for _, op, _ in self.log]

    def on(self, name: str = FN) -> list[str]:
        """Operations whose FunctionName is ``name`` (or its ARN, with or without a qualifier)."""
        out = []
        for service, op, params in self.log:
            fn = str(params.get("FunctionName", ""))
            if service == "lambda" and fn.split(":function:")[-1].split(":")[0] == name:
                out.append(op)
        return out


def report_tail():
    """A log_tail_source writing the REPORT line of a CPU-bound function (deterministic durations)."""
    seen = set()

    def source(resp, memory_mb, qualifier):
        cold = qualifier not in seen
        seen.add(qualifier)
        d = 30.0 + 600.0 / min(1.0, memory_mb / 1769.0)
        return [sample.report_line("r", d, int(memory_mb), 80, init=180.0 if cold else float("nan"))]

    return source
