"""The tuner's AWS side: invoke one function at chosen memory sizes, safely. The workbook's only write path.

``plan().text()`` prints what a run will do, with a cost bound, before anything changes. Two ways to measure:

* **a temporary copy** (the default): :mod:`.tune_copy` creates ``lwb-tune-<name>-<run>`` from the function's
  code and configuration; for each size the tuner asks for (lazily: sizes never measured cost nothing) the copy's
  memory is set, the update waited for, and a version of the copy published; invocations go to that version.
  The function itself is only read (``GetFunctionConfiguration``, ``GetFunction``): its configuration, versions,
  aliases and traffic are never touched;
* **in place** (``in_place=True``, the old method): for each size ``$LATEST``'s memory is set, a version
  published, ``$LATEST``'s memory **put back at once**, and an alias ``lwb-tune-<MB>-<run>`` created on that
  version; invocations go to the alias. While a size is being prepared (seconds), *unqualified invocations of
  the function run at the trial size*: the plan says so in a warning. Updates carry ``RevisionId`` where the
  API returns one, so a deployment made meanwhile is never overwritten.

Either way every AWS change is first written to a journal (:mod:`.tune_journal`); while the invoker is entered,
SIGINT, SIGTERM and SIGHUP raise :class:`.tune_signals.Interrupted`; and leaving it — normally, on an error or
on a signal — undoes what the journal lists (:mod:`.tune_undo`: deletes the copy and its log group, or the
aliases and versions, restores ``$LATEST``'s memory, and sweeps for the run's own aliases and versions whose
creation answer was lost). A run killed outright is undone by ``lambda-workbook tune --recover <journal>``.

Invocations use ``LogType=Tail``; the REPORT line of the returned log tail is read with
:func:`lambda_workbook.logs.parse_reports` (duration, billed duration, INIT, Max Memory Used, status); payloads
come from a weighted list in a smooth round-robin, the same sequence at every size. When a log tail has no
REPORT line (some emulators, e.g. moto without Docker), a ``log_tail_source`` callable may supply the lines;
otherwise the client-side round-trip time is used, marked ``source="client-timer"``, and the first call per
size is treated as the cold start.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .. import billing, logs, tuning
from . import errors, tune_copy, tune_journal, tune_signals, tune_undo
from .tune_journal import Journal, TuneError
from .tune_plan import Plan
from .tune_signals import Interrupted

ALIAS_PREFIX = tune_copy.PREFIX
# 6 attempts per call in all (botocore's "max_attempts" would count retries: 6 there meant 7 attempts); the read
# timeout outlasts the longest invocation (900 s)
_CONFIG = Config(retries={"total_max_attempts": 6, "mode": "adaptive"}, read_timeout=910)
_LOGS_CONFIG = Config(retries={"total_max_attempts": 6, "mode": "adaptive"}, read_timeout=60)
#: Where a denied call's permission is granted (named in the error line).
TUNER_POLICY = "iam/workbook-tuner-policy.json"
#: Raised for anything the invoker cannot do; the message says what is left behind, if anything.
InvokerError = TuneError
__all__ = ["ALIAS_PREFIX", "AwsInvoker", "Interrupted", "InvokerError", "Plan", "WeightedCycle", "load_payloads",
           "recover", "tune_function"]


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


class AwsInvoker:
    """``invoke(memory_mb)`` for :func:`lambda_workbook.tuning.tune` against a real (or emulated) function.

    Use it as a context manager: entering it arms the signal handlers, leaving it undoes everything::

        with AwsInvoker("orders-api", region="us-east-1") as inv:
            result = tuning.tune(inv, [128, 256, 512, 1024], arch=inv.arch)

    ``journal`` is the journal's file or folder (default ``~/.lambda-workbook/tune-journal/``); ``fetch_code``
    downloads a zip from its presigned URL (default :func:`.tune_copy.fetch_code`, HTTPS only).
    """

    def __init__(self, function_name: str, *, region: str | None = None, profile: str | None = None,
                 session: boto3.Session | None = None, client=None, logs_client=None,
                 payloads: Iterable[tuple[bytes, float]] | None = None, alias_prefix: str = ALIAS_PREFIX,
                 log_tail_source: Callable[..., list[str]] | None = None, update_timeout_s: float = 120.0,
                 poll_s: float = 1.0, in_place: bool = False, journal=None,
                 fetch_code: Callable[[str], bytes] | None = None):
        if not function_name or not isinstance(function_name, str):
            raise ValueError(f"function_name must be a function name or ARN, got {function_name!r}")
        if ":" in function_name.split(":function:")[-1]:
            raise ValueError(f"tune the function itself, not a version or alias: {function_name!r}")
        self.function_name = function_name
        if client is None:
            session = session or boto3.Session(profile_name=profile or None, region_name=region)
            client = session.client("lambda", config=_CONFIG)
        self.session = session
        self.client = client
        self._logs_client = logs_client
        self.region = client.meta.region_name
        self.payloads = list(payloads) if payloads is not None else [(b"{}", 1.0)]
        if not self.payloads:
            raise ValueError("payloads is empty: give at least one payload")
        self.alias_prefix = alias_prefix
        self.log_tail_source = log_tail_source
        self.update_timeout_s = update_timeout_s
        self.poll_s = poll_s
        self.in_place = bool(in_place)
        self.fetch_code = fetch_code
        self.run_id = secrets.token_hex(3)
        self.env_names: list[str] = []
        self.config = self._get_config()
        self.original_memory_mb = float(self.config["MemorySize"])
        self.arch = (self.config.get("Architectures") or ["x86_64"])[0]
        self.runtime = self.config.get("Runtime", "")
        self.copy_name = None if self.in_place else tune_copy.copy_name(function_name, self.run_id, alias_prefix)
        self.target = function_name if self.in_place else self.copy_name
        self.versions_before = set(self._versions()) if self.in_place else set()
        self.journal_path = tune_journal.path_for(journal, function_name, self.run_id)
        self.journal: Journal | None = None
        self.qualifiers: dict[float, str] = {}
        self.notes: list[str] = []
        self.problems: list[str] = []
        self.finished = False
        self._copy_step: int | None = None
        self._copy_memory: float | None = None
        self._cycles: dict[float, WeightedCycle] = {}
        self._calls: dict[float, int] = {}
        self._lock = threading.Lock()
        self._guard = tune_signals.Guard()

    # -- reading ---------------------------------------------------------------------------------------
    def _get_config(self) -> dict[str, Any]:
        """The function's configuration without its environment values (only their names are kept)."""
        try:
            cfg = self.client.get_function_configuration(FunctionName=self.function_name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise InvokerError(f"function {self.function_name!r} not found in {self.region}: check the name, "
                                   "--region and --profile") from None
            why = errors.translate(exc, region=self.region, service="lambda", policy=TUNER_POLICY)
            raise InvokerError(f"cannot read {self.function_name!r}: {why}") from exc
        env = cfg.pop("Environment", None) or {}
        self.env_names = sorted(env.get("Variables") or {})
        env.clear()
        return cfg

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
        sizes = tuning.check_options(memory_options)
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
        notes.append("every invocation runs the function's real code with its role: use payloads that are safe "
                     "to repeat")
        if not self.in_place:
            if (self.config.get("SnapStart") or {}).get("ApplyOn", "None") != "None":
                notes.append("SnapStart is not copied: the copy's cold starts are full INITs")
            if self.config.get("KMSKeyArn"):
                notes.append("the copy uses the function's KMS key: the tuner needs that key's permissions too")
        return Plan(self.function_name, self.region, self.arch, self.runtime, self.original_memory_mb,
                    timeout_ms / 1000.0, sizes, budget, len(self.payloads), self.alias_prefix, max_cost, typical, notes,
                    mode="in-place" if self.in_place else "copy", copy_name=self.copy_name or "",
                    journal_path=str(self.journal_path), env_vars=len(self.env_names),
                    package=self.config.get("PackageType") or "Zip")

    # -- preparing a size ------------------------------------------------------------------------------
    def _open_journal(self) -> Journal:
        if self.journal is None:
            self.journal = Journal.start(
                self.journal_path, run=self.run_id, mode="in-place" if self.in_place else "copy",
                region=self.region, function=self.function_name, function_arn=self.config.get("FunctionArn"),
                original_memory_mb=self.original_memory_mb, copy=self.copy_name, alias_prefix=self.alias_prefix)
        return self.journal

    def _wait(self, name: str) -> dict[str, Any]:
        return tune_copy.wait_ready(self.client, name, timeout_s=self.update_timeout_s, poll_s=self.poll_s)

    def _check_version(self, resp: dict[str, Any], memory_mb: float, function: str) -> str:
        version = resp["Version"]
        got = resp.get("MemorySize")
        if got is None:
            got = self.client.get_function_configuration(FunctionName=function, Qualifier=version)["MemorySize"]
        if float(got) != memory_mb:
            raise InvokerError(f"version {version} of {function} has {float(got):g} MB, not {memory_mb:g} MB "
                               "(was it changed meanwhile?)")
        return version

    def _create_copy(self) -> None:
        j, name = self._open_journal(), self.copy_name
        log_group = tune_copy.log_group(name)
        j.intent("log-group", "lambda:InvokeFunction", f"delete the log group {log_group} (Lambda creates it when "
                 "the copy first runs)", name=log_group)
        self._copy_step = j.intent("function", "lambda:CreateFunction",
                                   f"delete the function {name} (its versions go with it)", name=name)
        info = tune_copy.create_copy(
            self.client, self.function_name, name, fetch=self.fetch_code,
            description=f"temporary copy of {tune_copy.base_name(self.function_name)} made by lambda-workbook tune "
                        f"{self.run_id}; deleted when the run ends")
        j.done(self._copy_step, code_bytes=info["code_bytes"], package=info["package"])
        self._copy_memory = float(self._wait(name)["MemorySize"])

    def _prepare_copy(self, m: float) -> str:
        if self._copy_step is None:
            self._create_copy()
        j, name = self._open_journal(), self.copy_name
        if self._copy_memory != m:
            j.intent("copy-change", "lambda:UpdateFunctionConfiguration", f"none of its own: deleted with {name}",
                     name=name, memory_mb=int(m), covered_by=self._copy_step)
            self._copy_memory = None  # unknown until the update is confirmed
            self.client.update_function_configuration(FunctionName=name, MemorySize=int(m))
            self._wait(name)
            self._copy_memory = m
        step = j.intent("copy-change", "lambda:PublishVersion", f"none of its own: deleted with {name}", name=name,
                        memory_mb=int(m), covered_by=self._copy_step)
        resp = self.client.publish_version(FunctionName=name, Description=tune_undo.version_description(self.run_id, m))
        j.done(step, version=resp["Version"])
        return self._check_version(resp, m, name)

    def _sizes_set(self) -> set[int]:
        return {int(s["set_mb"]) for s in self.journal.steps() if s["kind"] == "memory"} if self.journal else set()

    def _prepare_in_place(self, m: float) -> str:
        j, fn, orig = self._open_journal(), self.function_name, self.original_memory_mb
        desc = tune_undo.version_description(self.run_id, m)
        memory_step = None
        if m != orig:
            memory_step = j.intent("memory", "lambda:UpdateFunctionConfiguration",
                                   f"set $LATEST's memory back to {orig:g} MB unless it holds a size this run did "
                                   "not set", function=fn, original_mb=int(orig), set_mb=int(m))
            cfg = self._wait(fn)
            kw = {"FunctionName": fn, "MemorySize": int(m), **({"RevisionId": cfg["RevisionId"]}
                                                                if cfg.get("RevisionId") else {})}
            self.client.update_function_configuration(**kw)
            self._wait(fn)
        try:
            step = j.intent("version", "lambda:PublishVersion", f"delete the version of {fn} described {desc!r}",
                            function=fn, description=desc)
            resp = self.client.publish_version(FunctionName=fn, Description=desc)
            # an unchanged $LATEST gives back an existing version, with that version's description: not ours
            ours = resp["Version"] not in self.versions_before and resp.get("Description") == desc
            j.done(step, version=resp["Version"], ours=ours)
        finally:
            if memory_step is not None:
                j.undone(memory_step, tune_undo.restore_memory(self.client, fn, orig, self._sizes_set(), notes=self.notes,
                                                               timeout_s=self.update_timeout_s, poll_s=self.poll_s))
        version = self._check_version(resp, m, fn)
        alias = f"{self.alias_prefix}-{int(m)}-{self.run_id}"
        step = j.intent("alias", "lambda:CreateAlias", f"delete the alias {alias} of {fn}", function=fn, name=alias)
        self.client.create_alias(FunctionName=fn, Name=alias, FunctionVersion=version,
                                 Description="temporary alias of lambda-workbook tune; deleted when it ends")
        j.done(step)
        return alias

    def prepare(self, memory_mb: float) -> str:
        """Make ``memory_mb`` invocable; returns the qualifier (the copy's version, or the in-place alias)."""
        m = float(memory_mb)
        if m not in self.qualifiers:
            if self.finished:
                raise InvokerError("this tuning run has ended and cleaned up")
            self.qualifiers[m] = self._prepare_in_place(m) if self.in_place else self._prepare_copy(m)
        return self.qualifiers[m]

    # -- invoking --------------------------------------------------------------------------------------
    def _payload(self, m: float) -> bytes:
        cycle = self._cycles.setdefault(m, WeightedCycle([w for _, w in self.payloads]))
        return self.payloads[next(cycle)][0]

    def __call__(self, memory_mb: float) -> dict[str, Any]:
        m = float(memory_mb)
        with self._lock:
            qualifier = self.prepare(m)
            first = self._calls.get(m, 0) == 0
            self._calls[m] = self._calls.get(m, 0) + 1
        start = time.perf_counter()
        resp = self.client.invoke(FunctionName=self.target, Qualifier=qualifier, InvocationType="RequestResponse",
                                  LogType="Tail", Payload=self._payload(m))
        wall_ms = (time.perf_counter() - start) * 1000.0
        body = resp["Payload"].read() if resp.get("Payload") is not None else b""
        lines = base64.b64decode(resp["LogResult"]).decode("utf-8", "replace").splitlines() if resp.get("LogResult") else []
        if not any("REPORT" in ln or "platform.report" in ln for ln in lines) and self.log_tail_source is not None:
            lines = list(self.log_tail_source(resp, m, qualifier))
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
    def _logs(self):
        if self._logs_client is None:
            maker = self.session.client if self.session is not None else boto3.client
            self._logs_client = maker("logs", region_name=self.region, config=_LOGS_CONFIG)
        return self._logs_client

    def cleanup(self, attempts: int = 3) -> list[str]:
        """Undo what the journal lists (up to ``attempts`` passes); returns the problems (empty = clean).
        Signals are recorded, not raised, meanwhile. Calling it again after it finished does nothing."""
        if self.finished:
            return self.problems
        with self._guard.deferred():
            problems: list[str] = []
            if self.journal is not None:
                for attempt in range(attempts):
                    if attempt:  # botocore retried each call already; this pass is for answers that were lost
                        time.sleep(min(self.poll_s, 0.5) * attempt)
                    problems = tune_undo.undo(self.journal, self.client, self._logs, notes=self.notes,
                                              timeout_s=self.update_timeout_s, poll_s=self.poll_s)
                    if not problems:
                        break
                self.journal.finish(clean=not problems, problems=problems)
            self.problems, self.finished = problems, True
            if self.journal is not None:
                self.journal.close()
            self.qualifiers.clear()
        return problems

    def close(self) -> list[str]:
        """Clean up (again, if a signal cut the first try short) and put the previous signal handlers back."""
        problems = None
        while problems is None:
            try:
                problems = self.cleanup()
            except Interrupted:
                continue  # the one signal that raises landed before cleanup deferred signals: clean up again
        self._guard.disarm()
        return problems

    def left_behind(self) -> str:
        return (f"cleanup left things behind: {'; '.join(self.problems)}; undo them with: "
                f"lambda-workbook tune --recover {self.journal_path}")

    def __enter__(self) -> AwsInvoker:
        if not self._guard.arm():
            self.notes.append("not on the main thread: SIGTERM/SIGHUP are not handled; the journal still is "
                              f"written ({self.journal_path})")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.close():
            raise InvokerError(self.left_behind()) from exc
        pending = self._guard.pending_interrupt()
        if pending is not None and exc_type is None:
            raise pending


def _error_text(body: bytes) -> str:
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(doc, dict):
        return ": ".join(str(doc[k]) for k in ("errorType", "errorMessage") if doc.get(k))
    return ""


def tune_function(function_name: str, memory_options, *, strategy: str = "cost", max_invocations: int | None = None,
                  payloads: Iterable[tuple[bytes, float]] | None = None, dry_run: bool = False,
                  region: str | None = None, profile: str | None = None, session: boto3.Session | None = None,
                  client=None, logs_client=None, log_tail_source=None, expected_duration_ms: float | None = None,
                  in_place: bool = False, journal=None, fetch_code: Callable[[str], bytes] | None = None,
                  poll_s: float = 1.0, update_timeout_s: float = 120.0, out: Callable[[str], None] = print,
                  **tune_kwargs) -> tuning.TuningResult | Plan:
    """Print the plan; unless ``dry_run``, tune the function's memory (on a temporary copy, or ``in_place``) and
    clean up, also on an error or a signal. Returns the result (or the plan)."""
    inv = AwsInvoker(function_name, region=region, profile=profile, session=session, client=client,
                     logs_client=logs_client, payloads=payloads, log_tail_source=log_tail_source, in_place=in_place,
                     journal=journal, fetch_code=fetch_code, poll_s=poll_s, update_timeout_s=update_timeout_s)
    plan = inv.plan(memory_options, max_invocations=max_invocations, expected_duration_ms=expected_duration_ms)
    out(plan.text())
    if dry_run:
        out("dry run: nothing was changed and nothing was invoked")
        return plan
    try:
        with inv:
            result = tuning.tune(inv, plan.sizes, strategy=strategy, arch=inv.arch, runtime=inv.runtime or None,
                                 max_invocations=plan.max_invocations, region=inv.region, **tune_kwargs)
    finally:
        # __exit__ cut short by the one signal that raises: finish its work
        if (not inv.finished or inv._guard.armed) and inv.close():
            raise InvokerError(inv.left_behind())
    what = f"a temporary copy {inv.copy_name}, deleted" if not in_place else "in place; its aliases and versions deleted"
    result.notes.extend(inv.notes + [f"measured {what}; journal {inv.journal_path}"])
    return result


def recover(journal: str | Path | None = None, **kwargs) -> list[str]:
    """Undo what a journal lists (``None``: every unfinished journal in the default folder); returns problems."""
    paths = [Path(journal)] if journal else tune_journal.unfinished()
    out = kwargs.get("out", print)
    if not paths:
        out(f"no unfinished journals in {tune_journal.default_dir()}")
    problems: list[str] = []
    for p in paths:
        try:
            problems += tune_undo.recover(p, **kwargs)
        except tune_journal.JournalError as exc:
            if journal:
                raise
            out(f"{p}: skipped: {exc}")  # e.g. a run still going: the others are recovered all the same
            problems.append(str(exc))
    return problems
