"""The architecture review: one findings engine over the article's whole checklist.

:func:`run` (or :func:`findings`) turns a snapshot into ONE table of findings in the findings contract
(:mod:`lambda_workbook.findings`: columns, severity policy, evidence path, band and its meaning, the bills a
saving comes from). The review only runs, de-duplicates and ranks; the findings come from

* the review's own rules (:mod:`lambda_workbook.rules`: timeouts, errors, throttles, stream lag, timeout
  headroom, runtimes, VPC, IAM wildcards, secret names, orchestration in code, transport-only functions);
* the models: :mod:`memory` (``memory-*``, ``arm64-candidate`` from :class:`memory.Decision`), :mod:`triggers`,
  :mod:`reads` and :mod:`coldstarts` (their ``findings``), each handed the review's dollar thresholds.

A module or rule that fails does not sink the review: the failure is kept in :attr:`Review.errors` (and
``findings.attrs["errors"]``) and the rest still runs. :func:`spend` prices what each function spends a month per
service, so :func:`totals` can count savings once and never above the spend they come from. The checklist of
finding ids is :data:`CHECKS` (:mod:`lambda_workbook.checklist`). Pure: snapshot in, tables out (the runtime
table is a data file). The prices are one :class:`~lambda_workbook.prices.Pricing` context, built once at the top
of :func:`run` (or handed in as ``pricing=``) and passed to every module and rule: nothing below loads a book.
"""

from __future__ import annotations

import math
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import costs
from . import findings as contract
from . import prices as _prices
from .analysis import per_snapshot
from .checklist import CHECKS, REQUIRED_IDS, Check, checklist  # noqa: F401  (public: review.CHECKS, ...)
from .findings import COLUMNS, MONEY, NOT_SAVINGS, SECTIONS, SEVERITIES  # noqa: F401  (public: review.COLUMNS, ...)
from .review_views import (  # noqa: F401  (public: review.totals, review.to_markdown, ...)
    SERVICE_NAMES,
    band,
    by_function,
    for_snapshot,
    load,
    results,
    risks,
    save,
    savings_line,
    spend_line,
    spend_view,
    to_csv,
    to_markdown,
    totals,
    view,
)
from .rules import (  # noqa: F401  (public names)
    RULES,
    Context,
    Thresholds,
    calls_path,
    describe_thresholds,
    direct_integration,
    resolve_as_of,
    runtime_table,
    secret_names,
)
from .schema import KEY, Snapshot

MODULES = ("rules", "memory", "triggers", "reads", "coldstarts")


# --------------------------------------------------------------------------------------------------------
# the model modules' findings (memory, triggers, reads, coldstarts), normalised into COLUMNS


def _memory_findings(snapshot: Snapshot, t: Thresholds, options: dict[str, Any], *,
                     pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    """The memory decisions as findings: every text comes from :class:`memory.Decision` (see its row)."""
    from . import memory

    recs = memory.recommend_all(snapshot, pricing=pricing, **options)
    if recs.empty:
        return pd.DataFrame(columns=COLUMNS)
    fc = costs.function_costs(snapshot, pricing=pricing).set_index(KEY)
    have_cpu = set(map(tuple, snapshot.insights.dropna(subset=["cpu_fraction"])[KEY].to_numpy()))
    out = []
    for r in recs.to_dict("records"):
        key = (r["account_id"], r["region"], r["function_name"])
        path = (fc.loc[key, "path"] if key in fc.index else "", "insights" if key in have_cpu else "", "memory model")

        def finding(fid: str, sev: str, title: str, evidence: str, rec: str, money: contract.Band,
                    note: str = r["note"], key=key, path=path) -> contract.Finding:
            return contract.Finding(fid, key, sev, title, evidence, rec, CHECKS[fid].section, path, note, money)

        prob = float(r["probability"]) if r.get("probability") == r.get("probability") else math.nan
        if r["action"] in ("decrease", "increase"):
            s = float(r["monthly_savings_usd"])
            faster = 1.0 - r["recommended_duration_ms"] / r["duration_mean_ms"] if r["duration_mean_ms"] else 0.0
            sev = t.severity(s) if r["action"] == "decrease" else ("medium" if faster >= 0.5 else "low")
            out.append(finding(r["finding"], sev, r["title"], r["evidence_text"], r["recommendation"], contract.Band(
                s, float(r["monthly_savings_low_usd"]), float(r["monthly_savings_high_usd"]),
                r.get("band_meaning") or "", prob)))
        elif r["action"] == "measure":
            out.append(finding("memory-measure", "low", r["title"], r["evidence_text"], r["recommendation"],
                               contract.Band(float(r["measure_value_usd"]), float(r["measure_saving_low_usd"]),
                                             float(r["measure_saving_high_usd"]), r.get("band_meaning") or "",
                                             prob)))
        if bool(r["arm64_candidate"]):
            s = float(r["other_arch_savings_usd"])
            out.append(finding("arm64-candidate", t.severity(s), r["arm64_title"], r["arm64_evidence"],
                               r["arm64_recommendation"], contract.Band(
                                   s, float(r["other_arch_savings_low_usd"]), float(r["other_arch_savings_high_usd"]),
                                   r.get("arm64_band_meaning") or "", float(r["other_arch_probability"])), note=""))
    return contract.frame(out)


def _trigger_paths(snapshot: Snapshot) -> dict[tuple, str]:
    t = snapshot.triggers
    return {k: "triggers:" + "+".join(sorted(set(g["evidence"].astype(str)))) for k, g in t.groupby(KEY)}


def _with_severity(t: Thresholds, options: dict[str, Any]) -> dict[str, Any]:
    """A module's options with the review's dollars-to-severity thresholds, unless the module sets its own."""
    return {**t.policy().as_options(), **options}


def _triggers_findings(snapshot: Snapshot, t: Thresholds, options: dict[str, Any], *,
                       pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    from . import triggers

    df = triggers.findings(snapshot, pricing=pricing, **_with_severity(t, options))
    paths = _trigger_paths(snapshot)
    fc = costs.function_costs(snapshot, pricing=pricing).set_index(KEY)
    calls = {k: calls_path(g) for k, g in snapshot.calls.groupby(KEY)}
    out = []
    for r in df.to_dict("records"):
        key = (r["account_id"], r["region"], r["function_name"])
        p = [paths.get(key, "triggers"), fc.loc[key, "path"] if key in fc.index else "metrics"]
        if r["id"] == "sync-for-async" and calls.get(key):
            p.append(calls[key])
        out.append({**r, "evidence_path": contract.join_path(p)})
    return contract.frame(out)


def _reads_findings(snapshot: Snapshot, t: Thresholds, options: dict[str, Any], *,
                    pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    from . import reads

    return contract.frame(reads.findings(snapshot, pricing=pricing, **_with_severity(t, options)).to_dict("records"))


def _coldstarts_findings(snapshot: Snapshot, t: Thresholds, options: dict[str, Any], *,
                         pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    from . import coldstarts

    return contract.frame(coldstarts.findings(snapshot, pricing=pricing, **_with_severity(t, options))
                          .to_dict("records"))


ADAPTERS = {"memory": _memory_findings, "triggers": _triggers_findings, "reads": _reads_findings,
            "coldstarts": _coldstarts_findings}


def normalise(df: pd.DataFrame, module: str = "") -> pd.DataFrame:
    """A module's findings in :data:`COLUMNS` (:func:`findings.complete`), severities and sections checked."""
    out = contract.complete(df)
    out["severity"] = out["severity"].str.lower().map(
        lambda s: s if s in SEVERITIES else "high" if s in ("critical", "error") else "low")
    default = {k: c.section for k, c in CHECKS.items()}
    out["section"] = [s if s in SECTIONS else default.get(i, "function code")
                      for s, i in zip(out["section"], out["id"], strict=True)]
    return out


def rank(found: pd.DataFrame, by: str = "review") -> pd.DataFrame:
    """Findings in review order (:func:`findings.rank`): findings worth at least $1 a month by dollars, then
    the rest by severity and kind of risk; ``by="money"`` or ``"risk"`` for the other two orders."""
    return contract.rank(found, by)


# --------------------------------------------------------------------------------------------------------
# the engine


@dataclass
class Review:
    """One review of a snapshot: the ranked findings, what failed, and how it was judged."""

    findings: pd.DataFrame
    errors: pd.DataFrame
    as_of: str
    as_of_basis: str
    thresholds: Thresholds
    module_thresholds: dict[str, dict[str, Any]]
    seconds: dict[str, float]
    #: the snapshot's flagged problems (:attr:`Snapshot.flags` as dicts): what this review could not judge
    flags: list[dict[str, Any]] = field(default_factory=list)
    #: what each function spends a month per service (:func:`spend`): the ceiling of every saving
    spend: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=contract.SPEND_COLUMNS))

    def summary(self) -> dict[str, Any]:
        """Spend per service and savings counted once (:func:`findings.summary`)."""
        return contract.summary(self.findings, self.spend)

    def meta(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "as_of_basis": self.as_of_basis, "thresholds": asdict(self.thresholds),
                "module_thresholds": self.module_thresholds, "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
                "errors": self.errors.to_dict("records"), "flags": self.flags}


ERROR_COLUMNS = ["module", "error", "detail"]


def check_module_thresholds(module_thresholds: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """``module_thresholds`` as a plain dict of dicts; a module without thresholds here is a clear error."""
    out = {k: dict(v or {}) for k, v in (module_thresholds or {}).items()}
    bad = sorted(set(out) - set(ADAPTERS))
    if bad:
        raise ValueError(f"module_thresholds: unknown module(s) {bad}; known: {', '.join(ADAPTERS)}")
    return out


def run(snapshot: Snapshot, *, thresholds: Thresholds | dict | None = None,
        module_thresholds: dict[str, dict[str, Any]] | None = None, modules=MODULES, as_of: Any = "auto",
        progress: bool = False, pricing: _prices.Pricing | None = None, workers: int | str | None = None) -> Review:
    """Review a snapshot: every rule here and every module's findings, ranked by dollars.

    ``modules`` picks parts (:data:`MODULES`; ``"rules"`` = this module's own rules). A module or rule that
    raises is recorded in :attr:`Review.errors` with its traceback; the others still run. ``pricing``: the
    price books to use (default :func:`lambda_workbook.prices.for_snapshot`, built once here and handed to
    every part). ``workers``: processes for the per-function models (None or ``"auto"``: the usable cores for
    a big columnar snapshot, else this process; :func:`lambda_workbook.engine.fanout.processes`); the findings
    are the same whichever it is.
    """
    from .engine import fanout

    with fanout.using(workers):
        return _run(snapshot, thresholds=thresholds, module_thresholds=module_thresholds, modules=modules,
                    as_of=as_of, progress=progress, pricing=pricing)


_SKIPPED = object()   # a rule not run (the shared context failed): no findings, no time, no error


def _run(snapshot: Snapshot, *, thresholds, module_thresholds, modules, as_of, progress: bool,
         pricing: _prices.Pricing | None) -> Review:
    from tqdm.auto import tqdm

    from .engine import fanout, lanes

    t = thresholds if isinstance(thresholds, Thresholds) else Thresholds.from_dict(thresholds)
    module_thresholds = check_module_thresholds(module_thresholds)
    unknown = sorted(set(modules) - set(MODULES))
    if unknown:
        raise ValueError(f"unknown module(s) {unknown}; the review composes {', '.join(MODULES)}")
    when = resolve_as_of(snapshot, as_of)
    pricing = _prices.for_snapshot(snapshot, pricing=pricing)
    # each step in the order the review reads them; with worker processes, the steps that do not use them
    # run on a second thread meanwhile (:mod:`lambda_workbook.engine.lanes`)
    steps: list[tuple[str, str, Any]] = []    # (name, lane, what makes its findings)
    for name in modules:
        if name == "rules":
            shared: list[Context] = []
            steps.append(("rules", "alongside",
                          lambda shared=shared: shared.append(Context(snapshot, when, pricing=pricing)) or []))
            steps += [(f"rules:{fid}", "alongside", lambda rule=rule, shared=shared: rule(shared[0], t)
                       if shared else _SKIPPED) for fid, rule in RULES.items()]
        else:
            steps.append((name, "alongside" if name == "triggers" else "workers",
                          lambda name=name: ADAPTERS[name](snapshot, t, module_thresholds.get(name, {}),
                                                           pricing=pricing)))
    spent: list[pd.DataFrame] = []
    steps.append(("spend", "alongside", lambda: spent.append(spend(snapshot, pricing=pricing)) or []))
    last = {name.split(":")[0]: i for i, (name, _, _) in enumerate(steps)}   # a module's last step
    bar = tqdm(total=len(last), desc="findings", unit="check", disable=not progress)

    def attempt(i: int, name: str, fn):
        start = time.perf_counter()
        try:
            found = fn()
            out = (found if found is _SKIPPED else normalise(pd.DataFrame(found), name), None)
        except Exception as exc:  # a failing part must not sink the review
            out = (None, {"module": name, "error": f"{type(exc).__name__}: {exc}",
                          "detail": "".join(traceback.format_exception(exc)[-3:])})
        if i == last[name.split(":")[0]]:
            bar.update()
        return (*out, time.perf_counter() - start)

    together = "workers" in {lane for _, lane, _ in steps} and fanout.processes(snapshot, len(snapshot.functions)) > 1
    with warnings.catch_warnings(), bar:
        warnings.simplefilter("ignore")
        done = lanes.run([(lane, lambda i=i, name=name, fn=fn: attempt(i, name, fn))
                          for i, (name, lane, fn) in enumerate(steps)], together=together)
    frames, errors, seconds = [], [], {}
    for (name, _, _), (frame, error, elapsed) in zip(steps, done, strict=True):
        if frame is _SKIPPED:
            continue
        if frame is not None:
            frames.append(frame)
        if error is not None:
            errors.append(error)
        seconds[name] = elapsed
    frames = [f for f in frames if len(f)]
    found = rank(pd.concat(frames, ignore_index=True)) if frames else normalise(pd.DataFrame(columns=COLUMNS))
    errs = pd.DataFrame(errors, columns=ERROR_COLUMNS)
    found.attrs["errors"] = errs.to_dict("records")
    found.attrs["as_of"] = str(when[0])
    flags = [f.as_dict() for f in snapshot.flags or []]
    return Review(contract.with_deprecated_aliases(found), errs, str(when[0]), when[1], t, module_thresholds,
                  seconds, flags, spent[0] if spent else pd.DataFrame(columns=contract.SPEND_COLUMNS))


@per_snapshot
def spend(snapshot: Snapshot, *, pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    """What each function spends a month, per service (:data:`findings.SPEND_COLUMNS`): Lambda (requests,
    compute with billed INIT, storage, provisioned concurrency), its trigger's own charges and its DynamoDB and
    S3 reads, at list prices without the free tier. A service nobody priced has no row (its spend is unknown).
    ``pricing``: as in :func:`run` (default built here, once)."""
    from . import reads, triggers

    pricing = _prices.for_snapshot(snapshot, pricing=pricing)
    fc = costs.function_costs(snapshot, pricing=pricing)
    rows = [fc[KEY].assign(service="lambda", monthly_usd=fc["monthly_usd"].astype(float),
                           basis="list prices: requests, compute incl. billed INIT, storage, provisioned")]
    src = triggers.source_spend(snapshot, pricing=pricing)
    if len(src):
        rows.append(src[KEY].assign(service=src["service"], monthly_usd=src["monthly_usd"],
                                    basis="trigger " + src["source"] + np.where(src["lower_bound"], " (lower bound)", "")))
    rc = reads.read_calls(snapshot, pricing=pricing)
    if len(rc):
        rc = rc[np.isfinite(rc["monthly_read_usd"])]
        rows.append(rc[KEY].assign(service=rc["service"], monthly_usd=rc["monthly_read_usd"],
                                   basis="reads " + rc["operation"]))
    out = pd.concat(rows, ignore_index=True)
    out = out.groupby(["account_id", "region", "function_name", "service"], as_index=False).agg(
        monthly_usd=("monthly_usd", "sum"), basis=("basis", lambda b: "; ".join(sorted(set(b)))))
    return out[contract.SPEND_COLUMNS]


def findings(snapshot: Snapshot, **kwargs) -> pd.DataFrame:
    """:func:`run`'s findings (errors in ``.attrs["errors"]``)."""
    return run(snapshot, **kwargs).findings


def errors(found: pd.DataFrame) -> pd.DataFrame | str:
    """The checks that failed while producing ``found`` (kept in its ``attrs``), or a line saying none did."""
    errs = pd.DataFrame(found.attrs.get("errors", []), columns=ERROR_COLUMNS)
    if errs.empty:
        return "Every check ran." if "errors" in found.attrs else "Check failures are listed in the review pack's index."
    return errs[["module", "error"]]
