"""The tuner's AWS side: invoke one function at chosen memory sizes, safely. The workbook's only write path.

What it does, in order (``plan().text()`` prints it before anything changes, with a cost estimate):

* reads the function's configuration and its existing versions and aliases;
* for each size the tuner asks for (lazily: sizes it never measures cost nothing) it sets ``$LATEST``'s
  memory, waits for the update, publishes a version, **puts ``$LATEST``'s memory back at once**, and creates
  an alias ``lwb-tune-<MB>-<run>`` on that version. Invocations go to that alias only: no existing alias is
  edited and nothing routes ``$LATEST``'s traffic elsewhere. Updates carry ``RevisionId`` where the API
  returns one, so a deployment made meanwhile is never overwritten;
* invokes with ``LogType=Tail`` and reads the REPORT line of the returned log tail with
  :func:`lambda_workbook.logs.parse_reports` (duration, billed duration, INIT, Max Memory Used, status);
  payloads come from a weighted list in a smooth round-robin, the same sequence at every size;
* in ``finally`` (also on Ctrl-C, with further Ctrl-C ignored while it runs) deletes every alias and version
  it created and restores ``$LATEST``'s original memory if it still holds a value this run set.

When a log tail has no REPORT line (some emulators, e.g. moto without Docker), a ``log_tail_source`` callable
may supply the lines; otherwise the client-side round-trip time is used, marked ``source="client-timer"``,
and the first call per size is treated as the cold start.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .. import billing, logs, tuning

ALIAS_PREFIX = "lwb-tune"
# 6 attempts per call in all (botocore's "max_attempts" would count retries: 6 there meant 7 attempts); the read
# timeout outlasts the longest invocation (900 s)
_CONFIG = Config(retries={"total_max_attempts": 6, "mode": "adaptive"}, read_timeout=910)


class InvokerError(RuntimeError):
    """The invoker could not prepare, run or clean up; the message says what is left behind, if anything."""


def load_payloads(doc) -> list[tuple[bytes, float]]:
    """Payloads with weights from a JSON document: a Power Tuning-style list ``[{"payload": ..., "weight":
    N}, ...]`` or a single payload (anything else). Strings are sent as they are, other values as JSON."""
    if isinstance(doc, list) and doc and all(isinstance(p, dict) and "payload" in p for p in doc):
        out = []
        for i, p in enumerate(doc):
            w = p.get("weight", 1)
            if not isinstance(w, (int, float)) or w <= 0 or isinstance(w, bool):
                raise ValueError(f"payload {i}: weight must be a positive number, got {w!r}")
            out.append((_encode(p["payload"]), float(w)))
        return out
    return [(_encode(doc), 1.0)]


def _encode(payload) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


class WeightedCycle:
    """Smooth weighted round-robin: over any window of sum(weights) calls each item appears ~weight times."""

    def __init__(self, weights: Sequence[float]):
        if not weights or any(w <= 0 for w in weights):
            raise ValueError(f"weights must be positive, got {list(weights)!r}")
        self.weights = list(weights)
        self.current = [0.0] * len(weights)

    def __next__(self) -> int:
        total = sum(self.weights)
        for i, w in enumerate(self.weights):
            self.current[i] += w
        k = max(range(len(self.weights)), key=lambda i: self.current[i])
        self.current[k] -= total
        return k


@dataclass
class Plan:
    """What a tuning run will do and may cost, printed before anything changes."""

    function_name: str
    region: str
    arch: str
    runtime: str
    memory_mb: float
    timeout_s: float
    sizes: list[float]
    max_invocations: int
    payloads: int
    alias_prefix: str
    max_cost_usd: float
    typical_cost_usd: float | None
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        sizes = ", ".join(f"{m:g}" for m in self.sizes)
        lines = [
            f"Tuning plan for {self.function_name} ({self.region}, {self.arch}, {self.runtime or 'image'}, "
            f"currently {self.memory_mb:g} MB, timeout {self.timeout_s:g} s)",
            f"  sizes considered: {sizes} MB; at most {self.max_invocations} invocations, {self.payloads} payload(s)",
            f"  for each size measured: set $LATEST's memory, publish a version, restore $LATEST's memory "
            f"({self.memory_mb:g} MB) right away, create alias {self.alias_prefix}-<MB>-<run>",
            "  invocations go to those aliases only; no existing alias or $LATEST's traffic is touched",
            "  at the end (also on error or Ctrl-C): delete every alias and version created, restore the configuration",
            f"  cost: at most ${self.max_cost_usd:,.4f} (every invocation at the largest size running to its timeout)",
        ]
        if self.typical_cost_usd is not None:
            lines.append(f"        about ${self.typical_cost_usd:,.4f} at the expected duration")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


class AwsInvoker:
    """``invoke(memory_mb)`` for :func:`lambda_workbook.tuning.tune` against a real (or emulated) function.

    Use it as a context manager (or call :meth:`cleanup` in a ``finally``)::

        with AwsInvoker("orders-api", region="us-east-1") as inv:
            result = tuning.tune(inv, [128, 256, 512, 1024], arch=inv.arch)
    """

    def __init__(self, function_name: str, *, region: str | None = None, profile: str | None = None,
                 session: boto3.Session | None = None, client=None, payloads: Iterable[tuple[bytes, float]] | None = None,
                 alias_prefix: str = ALIAS_PREFIX, log_tail_source: Callable[..., list[str]] | None = None,
                 update_timeout_s: float = 120.0, poll_s: float = 1.0):
        if not function_name or not isinstance(function_name, str):
            raise ValueError(f"function_name must be a function name or ARN, got {function_name!r}")
        if ":" in function_name.split(":function:")[-1]:
            raise ValueError(f"tune the function itself, not a version or alias: {function_name!r}")
        self.function_name = function_name
        if client is None:
            session = session or boto3.Session(profile_name=profile or None, region_name=region)
            client = session.client("lambda", config=_CONFIG)
        self.client = client
        self.region = client.meta.region_name
        self.payloads = list(payloads) if payloads is not None else [(b"{}", 1.0)]
        if not self.payloads:
            raise ValueError("payloads is empty: give at least one payload")
        self.alias_prefix = alias_prefix
        self.log_tail_source = log_tail_source
        self.update_timeout_s = update_timeout_s
        self.poll_s = poll_s
        self.run_id = secrets.token_hex(3)
        self.config = self._get_config()
        self.original_memory_mb = float(self.config["MemorySize"])
        self.arch = (self.config.get("Architectures") or ["x86_64"])[0]
        self.runtime = self.config.get("Runtime", "")
        self.versions_before = set(self._versions())
        self.created_aliases: list[str] = []
        self.created_versions: list[str] = []
        self.aliases: dict[float, str] = {}
        self.memory_touched = False
        self._sizes_set: set[int] = set()
        self.notes: list[str] = []
        self._cycles: dict[float, WeightedCycle] = {}
        self._calls: dict[float, int] = {}
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------------------
    def _get_config(self) -> dict[str, Any]:
        try:
            return self.client.get_function_configuration(FunctionName=self.function_name)
        except ClientError as exc:
            raise InvokerError(f"cannot read {self.function_name!r}: {exc}") from None

    def _versions(self) -> list[str]:
        out, marker = [], None
        while True:
            kw = {"FunctionName": self.function_name, **({"Marker": marker} if marker else {})}
            page = self.client.list_versions_by_function(**kw)
            out += [v["Version"] for v in page.get("Versions", [])]
            marker = page.get("NextMarker")
            if not marker:
                return out

    def plan(self, memory_options, *, max_invocations: int | None = None,
             expected_duration_ms: float | None = None) -> Plan:
        """The plan and its cost bound for these sizes; changes nothing."""
        sizes = tuning._check_options(memory_options)
        budget = 10 * len(sizes) if max_invocations is None else int(max_invocations)
        timeout_ms = float(self.config.get("Timeout", 3)) * 1000.0
        max_cost = billing.lambda_cost(budget, timeout_ms, max(sizes), arch=self.arch, region=self.region)
        typical = None
        if expected_duration_ms:
            per = budget / len(sizes)
            typical = sum(billing.lambda_cost(per, expected_duration_ms, m, arch=self.arch, region=self.region)
                          for m in sizes)
        notes = []
        if max(sizes) > 3008:
            notes.append("sizes above 3,008 MB fail on accounts still limited to 3,008 MB (ValidationException)")
        if not (self.config.get("Runtime") or "").strip():
            notes.append("container image: make sure the image supports this architecture")
        return Plan(self.function_name, self.region, self.arch, self.runtime, self.original_memory_mb,
                    timeout_ms / 1000.0, sizes, budget, len(self.payloads), self.alias_prefix, max_cost, typical, notes)

    # -- preparing a size ------------------------------------------------------------------------------
    def _wait_updated(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.update_timeout_s
        while True:
            cfg = self.client.get_function_configuration(FunctionName=self.function_name)
            status = cfg.get("LastUpdateStatus") or "Successful"
            if status == "Successful":
                return cfg
            if status == "Failed":
                raise InvokerError(f"configuration update failed: {cfg.get('LastUpdateStatusReason', '')}")
            if time.monotonic() > deadline:
                raise InvokerError(f"configuration update still {status} after {self.update_timeout_s:g} s")
            time.sleep(self.poll_s)

    def _put_memory(self, cfg: dict[str, Any], memory_mb: float) -> None:
        """Set ``$LATEST``'s memory (guarded by ``cfg``'s RevisionId where the API gives one) and wait for it."""
        kw = {"FunctionName": self.function_name, "MemorySize": int(memory_mb)}
        if cfg.get("RevisionId"):
            kw["RevisionId"] = cfg["RevisionId"]
        self.client.update_function_configuration(**kw)
        self._wait_updated()

    def _set_memory(self, memory_mb: float) -> None:
        self._put_memory(self._wait_updated(), memory_mb)

    def prepare(self, memory_mb: float) -> str:
        """Publish a version at ``memory_mb`` and point a fresh alias at it; returns the alias name."""
        m = float(memory_mb)
        if m in self.aliases:
            return self.aliases[m]
        if m != self.original_memory_mb:
            self.memory_touched = True
            self._sizes_set.add(int(m))
            self._set_memory(m)
        try:
            version = self.client.publish_version(
                FunctionName=self.function_name,
                Description=f"lambda-workbook tune {self.run_id}: {int(m)} MB")["Version"]
            if version not in self.versions_before:
                self.created_versions.append(version)
        finally:
            if m != self.original_memory_mb:
                self._restore_memory()
        got = float(self.client.get_function_configuration(FunctionName=self.function_name,
                                                           Qualifier=version)["MemorySize"])
        if got != m:
            raise InvokerError(f"version {version} has {got:g} MB, not {m:g} MB (was $LATEST changed meanwhile?)")
        alias = f"{self.alias_prefix}-{int(m)}-{self.run_id}"
        self.client.create_alias(FunctionName=self.function_name, Name=alias, FunctionVersion=version,
                                 Description="temporary alias of lambda-workbook tune; deleted when it ends")
        self.created_aliases.append(alias)
        self.aliases[m] = alias
        return alias

    def _restore_memory(self) -> None:
        cfg = self._wait_updated()
        if float(cfg["MemorySize"]) == self.original_memory_mb:
            return
        if int(cfg["MemorySize"]) not in self._sizes_set:
            self.notes.append(f"$LATEST's memory is {cfg['MemorySize']} MB, not set by this run: left as it is")
            return
        self._put_memory(cfg, self.original_memory_mb)

    # -- invoking --------------------------------------------------------------------------------------
    def _payload(self, m: float) -> bytes:
        cycle = self._cycles.setdefault(m, WeightedCycle([w for _, w in self.payloads]))
        return self.payloads[next(cycle)][0]

    def __call__(self, memory_mb: float) -> dict[str, Any]:
        m = float(memory_mb)
        with self._lock:
            alias = self.prepare(m)
            first = self._calls.get(m, 0) == 0
            self._calls[m] = self._calls.get(m, 0) + 1
        start = time.perf_counter()
        resp = self.client.invoke(FunctionName=self.function_name, Qualifier=alias, InvocationType="RequestResponse",
                                  LogType="Tail", Payload=self._payload(m))
        wall_ms = (time.perf_counter() - start) * 1000.0
        body = resp["Payload"].read() if resp.get("Payload") is not None else b""
        lines = base64.b64decode(resp["LogResult"]).decode("utf-8", "replace").splitlines() if resp.get("LogResult") else []
        if not any("REPORT" in ln or "platform.report" in ln for ln in lines) and self.log_tail_source is not None:
            lines = list(self.log_tail_source(resp, m, alias))
        out: dict[str, Any] = {}
        reports = logs.parse_reports(lines) if lines else None
        if reports is not None and len(reports):
            r = reports.iloc[-1]
            out.update({k: (None if isinstance(r[k], float) and math.isnan(r[k]) else r[k]) for k in
                        ("duration_ms", "billed_duration_ms", "init_duration_ms", "max_memory_used_mb")})
            out["source"] = "report"
            if r.get("status") and str(r["status"]).lower() not in ("success", "nan", "none"):
                out["status"] = str(r["status"]).lower()
                out["error"] = str(r.get("error_type") or r["status"])
        else:
            if not any("client-timer" in n for n in self.notes):
                self.notes.append("client-timer: no REPORT line in the invoke log tail, so durations are client-side "
                                  "round trips (network time included) and each size's first call counts as cold")
            out.update(duration_ms=wall_ms, source="client-timer", cold=first)
        if resp.get("FunctionError"):
            out["error"] = _error_text(body) or resp["FunctionError"]
        return out

    # -- cleanup ---------------------------------------------------------------------------------------
    def cleanup(self) -> list[str]:
        """Delete what this run created and restore ``$LATEST``'s memory. Returns problems (empty = clean)."""
        problems: list[str] = []
        with _sigint_ignored():
            for kind, created, delete in (
                    ("alias", self.created_aliases, lambda a: self.client.delete_alias(FunctionName=self.function_name, Name=a)),
                    ("version", self.created_versions,
                     lambda v: self.client.delete_function(FunctionName=self.function_name, Qualifier=v))):
                for item in list(created):
                    try:
                        delete(item)
                        created.remove(item)
                    except ClientError as exc:
                        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                            created.remove(item)  # already gone
                        else:
                            problems.append(f"{kind} {item}: {exc}")
            if self.memory_touched:
                try:
                    self._restore_memory()
                except (ClientError, InvokerError) as exc:
                    problems.append(f"restoring $LATEST's memory to {self.original_memory_mb:g} MB: {exc}")
            self.aliases.clear()
        return problems

    def __enter__(self) -> AwsInvoker:
        return self

    def __exit__(self, *exc) -> None:
        problems = self.cleanup()
        if problems:
            raise InvokerError("cleanup left things behind: " + "; ".join(problems))


def _error_text(body: bytes) -> str:
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(doc, dict):
        return ": ".join(str(doc[k]) for k in ("errorType", "errorMessage") if doc.get(k))
    return ""


@contextlib.contextmanager
def _sigint_ignored():
    """Ignore Ctrl-C while cleaning up (main thread only); the previous handler comes back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def tune_function(function_name: str, memory_options, *, strategy: str = "cost", max_invocations: int | None = None,
                  payloads: Iterable[tuple[bytes, float]] | None = None, dry_run: bool = False,
                  region: str | None = None, profile: str | None = None, session: boto3.Session | None = None,
                  client=None, log_tail_source=None, expected_duration_ms: float | None = None,
                  out: Callable[[str], None] = print, **tune_kwargs) -> tuning.TuningResult | Plan:
    """Print the plan; unless ``dry_run``, tune the function's memory and clean up. Returns the result (or plan)."""
    inv = AwsInvoker(function_name, region=region, profile=profile, session=session, client=client,
                     payloads=payloads, log_tail_source=log_tail_source)
    plan = inv.plan(memory_options, max_invocations=max_invocations, expected_duration_ms=expected_duration_ms)
    out(plan.text())
    if dry_run:
        out("dry run: nothing was changed and nothing was invoked")
        return plan
    with inv:
        result = tuning.tune(inv, plan.sizes, strategy=strategy, arch=inv.arch, runtime=inv.runtime or None,
                             max_invocations=plan.max_invocations, region=inv.region, **tune_kwargs)
    result.notes.extend(inv.notes)
    return result
