"""The review pack: ``lambda-workbook review`` — the findings engine and papermill batch runs as one offline folder.

:func:`build` loads a snapshot once, runs :func:`lambda_workbook.review.run` over it, then executes notebooks
headless in a pool of processes sized to the machine (or, with ``executor="dask-local"`` / ``"dask://HOST:PORT"``,
one task per (account, region) and per notebook on a Dask cluster: :mod:`lambda_workbook.executors`):

* ``account_review`` for every account and region of the snapshot (fed the engine's findings, so the numbers
  are the index's);
* the per-function deep dives — ``memory``, ``invocation_sources``, ``read_what_you_need``, ``cold_starts``,
  whichever exist — for the functions that matter: the top N functions by finding impact or by cost, or those
  matching a name pattern. By default (``deep_dives="relevant"``) a function gets exactly the deep dives that
  explain its findings (:data:`DEEP_DIVE_FOR`), and only functions with such a finding count towards N.

The snapshot's analysis is computed once: the engine, the planning and the index share one memo
(:mod:`lambda_workbook.analysis`), and the notebooks load a bundle of it (``analysis_path``) instead of
loading the snapshot and computing it again. The bundle lives in a temporary folder for the run only; the saved
notebooks have ``analysis_path = ""`` and run again as they are.

Every notebook writes its results JSON beside it and is converted to HTML with inputs hidden. A notebook that
fails is kept with papermill's error cell (linked from the index at ``#papermill-error-cell``) and does not
stop the batch; a kernel that fails to start is retried once. Pages load ONE shared ``plotly.min.js`` (plotly's
own bundle, copied into the pack) by a relative path instead of inlining 4.8 MB each, and nothing from the
network; interactive explorers, which need a live kernel, are replaced by a note. ``<run>/index.html`` ranks
the findings by dollars with totals and links; ``findings.csv``/``.md``/``.json`` are for tickets;
``review.json`` records the run. ``redact=True`` replaces account ids in any form by aliases and local paths by
placeholders (:mod:`lambda_workbook.redact`): in the snapshot the notebooks read, before anything is rendered,
then in every file of the run folder.
``<out>/index.html`` is the latest run's index (links relative to ``<out>``), so ``make review`` still writes
``reports/index.html``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import analysis, argtypes, costs, executors, params, remote_pages, report, review, sources
from .engine import fanout
from .index_page import deep_links, render_index, write_files, write_latest  # noqa: F401  (pack.render_index...)
from .notebook_pages import (  # noqa: F401  (public: pack.finish_notebook, pack.execute_job, ...)
    PLOTLY_FILE,
    execute_job,
    finish_notebook,
    kernel_never_ran,
    make_redactor,
    plotly_source,
    plotly_tag,
    quiet_worker,
)
from .redact import Redactor, local_paths
from .renamed import renamed
from .review_partitions import run as review_by_partition
from .schema import KEY, Snapshot

DEEP_DIVES = ("memory", "invocation_sources", "read_what_you_need", "cold_starts")
ERROR_ANCHOR = "papermill-error-cell"
RANK_BY = ("impact", "cost")

#: The deep dive that explains each finding id of the checklist (:data:`lambda_workbook.review.CHECKS`); None:
#: no notebook explains it (the finding's evidence on the index is the whole story).
DEEP_DIVE_FOR: dict[str, str | None] = {fid: {
    "memory-overprovisioned": "memory", "memory-underprovisioned": "memory", "memory-measure": "memory",
    "arm64-candidate": "memory",
    "cold-starts": "cold_starts", "init-heavy": "cold_starts", "provisioned-concurrency": "cold_starts",
    "vpc-init": "cold_starts", "per-invocation-setup": "cold_starts",
    "apigw-rest-to-http": "invocation_sources", "batch-size": "invocation_sources",
    "sync-for-async": "invocation_sources", "stream-iterator-age": "invocation_sources",
    "dynamodb-scan": "read_what_you_need", "dynamodb-query-filter": "read_what_you_need",
    "s3-whole-object": "read_what_you_need",
}.get(fid) for fid in review.CHECKS}
#: Rough relative run time of each notebook: the pool starts the longest first.
_WEIGHT = {"cold_starts": 3, "memory": 2, "account_review": 1.5}

#: Defaults of every option (the CLI and a YAML file override them).
DEFAULTS: dict[str, Any] = {
    "source": "sample", "snapshot": "", "profile": "", "region": "all", "days": 14, "top": 10, "rank_by": "impact",
    "functions": "", "deep_dives": "relevant", "workers": 0, "redact": False, "run": "", "out": "reports",
    "chart_top": 15, "timeout": 1200, "inline_plotly": False, "as_of": "auto", "thresholds": {},
    "module_thresholds": {}, "cache": True, "executor": "local", "org_role": "", "external_id": "",
}
#: Allowed ranges of the whole-number options (None: no upper bound); the CLI checks the same at parse time.
_COUNTS: dict[str, tuple[int, int | None]] = {"top": (0, None), "workers": (0, None), "timeout": (1, None),
                                              "chart_top": (1, argtypes.MAX_CHART_BARS), "days": (1, 455)}


# --------------------------------------------------------------------------------------------------------
# planning


@renamed(function_name="function")
@dataclass
class Job:
    """One notebook run of the pack; paths are relative to the run directory."""

    notebook: str                 # name (or path of a .ipynb)
    title: str
    out: str                      # e.g. "acct/us-east-1/orders-api/memory" (no suffix)
    parameters: dict[str, Any]
    account_id: str = ""
    region: str = ""
    function_name: str = ""
    kind: str = "account"         # account | deep-dive
    status: str = "pending"
    error: str = ""
    seconds: float = 0.0
    attempts: int = 0
    has_html: bool = False

    @property
    def name(self) -> str:
        return Path(self.notebook).stem

    def link(self) -> str:
        """The page (failed: its error cell) relative to the run directory."""
        return f"{self.out}.html" + (f"#{ERROR_ANCHOR}" if self.status == "failed" else "")


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(part)).strip("_") or "_"


def available_deep_dives() -> list[str]:
    """Deep-dive notebooks that exist and take a ``function`` parameter, in :data:`DEEP_DIVES` order."""
    out = []
    for name in DEEP_DIVES:
        try:
            path = report.notebook_path(name)
        except FileNotFoundError:
            continue
        if "function" in notebook_parameters(str(path)):
            out.append(name)
    return out


_PARAMS_CACHE: dict[str, set[str]] = {}


def notebook_parameters(path: str) -> set[str]:
    """The names in a notebook's ``parameters`` cell (papermill's inspection)."""
    if path not in _PARAMS_CACHE:
        import papermill as pm

        _PARAMS_CACHE[path] = set(pm.inspect_notebook(path))
    return _PARAMS_CACHE[path]


def deep_dives_for(ids) -> list[str]:
    """The deep dives that explain finding ids, in :data:`DEEP_DIVES` order (ids without one add nothing)."""
    wanted = {DEEP_DIVE_FOR.get(i) for i in ids}
    return [nb for nb in DEEP_DIVES if nb in wanted]


def relevant(notebook: str, key: tuple, snapshot: Snapshot | None, ids: set[str]) -> bool:
    """Whether a deep dive explains one of a function's findings ``ids`` (``deep_dives="relevant"``)."""
    return notebook in deep_dives_for(ids)


def select_functions(snapshot: Snapshot, found: pd.DataFrame, *, top: int = 5, rank_by: str = "impact",
                     pattern: str = "", explained_by: list[str] | None = None) -> pd.DataFrame:
    """The functions worth a deep dive: matching ``pattern`` (globs, comma-separated; empty = all), ranked by
    finding impact (USD a month saved, then high-severity findings, then cost) or by cost; the first ``top``
    functions (0 = all matches). With ``explained_by`` (deep-dive names), only functions with a finding that one of
    them explains are candidates, so each of the ``top`` gets a deep dive."""
    if rank_by not in RANK_BY:
        raise ValueError(f"rank_by must be one of {', '.join(RANK_BY)}, got {rank_by!r}")
    c = costs.function_costs(snapshot)[KEY + ["monthly_usd"]]
    per = review.by_function(found)
    t = c.merge(per, on=KEY, how="left").fillna(
        {"findings": 0, "high": 0, "monthly_usd_y": 0.0, "ids": ""})
    t = t.rename(columns={"monthly_usd_x": "cost_usd", "monthly_usd_y": "impact_usd"})
    globs = [g.strip() for g in str(pattern or "").split(",") if g.strip()]
    if globs:
        t = t[t["function_name"].map(lambda n: any(fnmatch.fnmatchcase(n, g) for g in globs))]
        if t.empty:
            raise ValueError(f"no function matches {pattern!r} (functions include: "
                             f"{', '.join(sorted(snapshot.functions['function_name'])[:8])}, ...)")
    if explained_by is not None:
        ids = _ids_by_function(found)
        t = t[[bool(set(deep_dives_for(ids.get(k, ()))) & set(explained_by))
               for k in zip(t["account_id"], t["region"], t["function_name"], strict=True)]]
    order = ["impact_usd", "high", "findings", "cost_usd"] if rank_by == "impact" else ["cost_usd", "impact_usd"]
    t = t.sort_values(order, ascending=False, ignore_index=True)
    return t.head(top) if top else t


def _ids_by_function(found: pd.DataFrame) -> dict[tuple, set[str]]:
    return {k: set(g["id"]) for k, g in found.groupby(KEY)} if len(found) else {}


def _source_parameters(options: dict[str, Any], snapshot_dir: Path | None) -> dict[str, Any]:
    if snapshot_dir is not None:
        return {"source": "snapshot", "snapshot_path": str(snapshot_dir.resolve()), "profile": "",
                "lookback_days": int(options["days"])}
    path = str(Path(options["snapshot"]).resolve()) if options["snapshot"] else ""   # notebooks run elsewhere
    return {"source": options["source"], "snapshot_path": path,
            "profile": str(options["profile"] or ""), "lookback_days": int(options["days"])}


def plan(snapshot: Snapshot, found: pd.DataFrame, run_dir: Path, options: dict[str, Any],
         snapshot_dir: Path | None, findings_csv: Path, *,
         analysis_path: Path | None = None) -> tuple[list[Job], pd.DataFrame]:
    """The pack's notebook runs: an account review per account and region, then the deep dives (with
    ``deep_dives="relevant"``: the top functions with a finding a deep dive explains, each with exactly those).
    ``analysis_path``: the bundle of ``snapshot``'s analysis the notebooks load instead of computing it."""
    base = {**_source_parameters(options, snapshot_dir),
            "analysis_path": str(Path(analysis_path).resolve()) if analysis_path else ""}
    jobs = []
    pairs = snapshot.functions[["account_id", "region"]].drop_duplicates().sort_values(["account_id", "region"])
    for acct, region in pairs.itertuples(index=False):
        out = f"{_safe(acct)}/{_safe(region)}/account_review"
        jobs.append(Job("account_review", f"Account review — {acct}, {region}", out, {
            **base, "region": region, "account": acct, "top_n": int(options["chart_top"]),
            "findings_path": str(findings_csv.resolve())}, acct, region))
    dives = _deep_dive_names(options["deep_dives"])
    by_findings = options["deep_dives"] == "relevant"
    chosen = select_functions(snapshot, found, top=int(options["top"]), rank_by=options["rank_by"],
                              pattern=options["functions"], explained_by=dives if by_findings else None)
    ids = _ids_by_function(found)
    names = snapshot.functions.groupby(["region", "function_name"])["account_id"].nunique()
    for r in chosen.itertuples():
        key = (r.account_id, r.region, r.function_name)
        src = base
        if names.get((r.region, r.function_name), 1) > 1:  # the same name in several accounts: give the notebook one
            sub = run_dir / "snapshots" / _safe(r.account_id)
            if not sub.exists():
                sources.save(snapshot.in_accounts([r.account_id]), sub)
            src = {**base, "source": "snapshot", "snapshot_path": str(sub.resolve()), "analysis_path": ""}
        for nb in dives:
            if by_findings and not relevant(nb, key, snapshot, ids.get(key, set())):
                continue
            out = f"{_safe(r.account_id)}/{_safe(r.region)}/{_safe(r.function_name)}/{nb}"
            jobs.append(Job(nb, f"{nb.replace('_', ' ').capitalize()} — {r.function_name} ({r.account_id}, {r.region})", out,
                            {**src, "region": r.region, "function": r.function_name}, *key, kind="deep-dive"))
    return jobs, chosen


def _deep_dive_names(value: Any) -> list[str]:
    have = available_deep_dives()
    if value in ("relevant", "all", None, ""):
        return have
    if value == "none":
        return []
    wanted = [v.strip() for v in (value.split(",") if isinstance(value, str) else value) if v.strip()]
    unknown = [w for w in wanted if w not in DEEP_DIVES]
    if unknown:
        raise ValueError(f"unknown deep dive(s) {unknown}; choose from {', '.join(DEEP_DIVES)} (or relevant, all, none)")
    return [w for w in wanted if w in have]


def _spec(job: Job, run_dir: Path, options: dict[str, Any], redact: Redactor | None) -> dict[str, Any]:
    path = report.notebook_path(job.notebook)
    declared = notebook_parameters(str(path))
    out = run_dir / job.out
    parameters = {k: v for k, v in {**job.parameters, "results_path": str(out.with_suffix(".results.json").resolve())
                                    }.items() if k in declared}
    depth = job.out.count("/")
    return {"notebook": str(path), "ipynb": str(out.with_suffix(".ipynb")), "html": str(out.with_suffix(".html")),
            "parameters": parameters, "timeout_s": int(options["timeout"]), "title": job.title, "redact": redact,
            "plotly_src": None if options["inline_plotly"] else "../" * depth + PLOTLY_FILE}


def default_workers() -> int:
    """Processes for the pool: the cores this process may use (papermill kernels are CPU-bound)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _submission_order(jobs: list[Job], specs: list[dict[str, Any]]) -> list[tuple[Job, dict[str, Any]]]:
    """Rounds of one notebook of each kind, the longest kinds first: the long ones do not all wait for the end,
    and the first of a kind has stored what its kind shares (:mod:`lambda_workbook.analysis`) before the next
    of that kind needs it."""
    kinds: dict[str, list[tuple[Job, dict[str, Any]]]] = {}
    for js in zip(jobs, specs, strict=True):
        kinds.setdefault(js[0].name, []).append(js)
    queues = sorted(kinds.values(), key=lambda q: -_WEIGHT.get(q[0][0].name, 1))
    return [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]


def run_jobs(jobs: list[Job], run_dir: Path, options: dict[str, Any], *, redact: Redactor | None = None,
             progress: bool = True, executor: executors.Executor | None = None,
             bundles: dict[tuple[str, str], bytes | None] | None = None) -> list[Job]:
    """Execute the jobs on ``executor`` (default: a local pool of ``options["workers"]`` processes, 0 = the core
    count; 1 = in this process). On a remote executor each job's files travel as bytes
    (:mod:`lambda_workbook.remote_pages`) and it loads its partition's analysis bundle from ``bundles``."""
    specs = [_spec(j, run_dir, options, redact) for j in jobs]
    own = executor is None
    if own:
        executor = executors.LocalExecutor(int(options.get("workers") or default_workers()), initializer=quiet_worker,
                                           initargs=(str((run_dir / "notebooks.log").resolve()),))
    fn, items, token = execute_job, specs, f"{run_dir.name}-{os.getpid()}"   # token: what workers keep for the run
    if executor.remote:
        fn, items = remote_pages.execute_remote, remote_pages.items(jobs, specs, bundles or {}, executor.share, token)
    position = {id(j): i for i, j in enumerate(jobs)}

    def done(i: int, res: Any) -> None:
        if isinstance(res, BaseException):   # the worker process died
            res = {"status": "failed", "error": f"worker failed: {type(res).__name__}: {res}",
                   "seconds": 0.0, "attempts": 1, "html": None}
        elif executor.remote:
            res = remote_pages.write_back(res, run_dir / "notebooks.log")
        job = jobs[i]
        job.status, job.error, job.seconds, job.attempts = res["status"], res["error"], res["seconds"], res["attempts"]
        job.has_html = bool(res["html"])
        return {"failed": sum(j.status == "failed" for j in jobs)}

    try:
        executor.map(fn, items, progress=progress, desc="notebooks rendered", unit="notebook", errors="return",
                     order=[position[id(j)] for j, _ in _submission_order(jobs, specs)], done=done)
    finally:
        if executor.remote:
            with contextlib.suppress(Exception):   # a worker that is gone keeps nothing
                executor.everywhere(remote_pages.forget, token)
        if own:
            executor.close()
    return jobs


# --------------------------------------------------------------------------------------------------------
# the pack


@dataclass
class Pack:
    run_dir: Path
    index: Path
    latest: Path | None
    findings: pd.DataFrame
    jobs: list[Job]
    errors: pd.DataFrame
    seconds: dict[str, float]

    @property
    def failed(self) -> list[Job]:
        return [j for j in self.jobs if j.status != "ok"]

    @property
    def exit_code(self) -> int:
        """1 when the review is partial (a notebook or a check failed; the pack says which), else 0. Flagged
        snapshot problems leave it 0: the review is right for what it covers, and the index lists what it lacks."""
        return 1 if self.failed or len(self.errors) else 0


def load_options(config: str | os.PathLike | None = None, **given: Any) -> dict[str, Any]:
    """:data:`DEFAULTS`, then a YAML file's values, then ``given`` (None = not given). Unknown keys are errors."""
    import yaml

    opts = dict(DEFAULTS)
    if config:
        data = yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{config}: expected a mapping of review options, got {type(data).__name__}")
        data = {k.replace("-", "_"): v for k, v in data.items()}
        unknown = sorted(set(data) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"{config}: unknown option(s) {unknown}; known: {', '.join(DEFAULTS)}")
        opts.update(data)
    opts.update({k: v for k, v in given.items() if v is not None})
    unknown = sorted(set(opts) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown review option(s) {unknown}; known: {', '.join(DEFAULTS)}")
    if opts["source"] not in sources.SOURCES:
        raise ValueError(f"source must be one of {', '.join(sources.SOURCES)}, got {opts['source']!r}")
    if opts["source"] == "snapshot" and not opts["snapshot"]:
        raise ValueError("source 'snapshot' needs a snapshot directory (--snapshot)")
    if opts["rank_by"] not in RANK_BY:
        raise ValueError(f"rank_by must be one of {', '.join(RANK_BY)}, got {opts['rank_by']!r}")
    for name, (lo, hi) in _COUNTS.items():
        value = opts[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
            allowed = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
            raise ValueError(f"{name} must be a whole number {allowed}, got {value!r}")
    review.Thresholds.from_dict(opts["thresholds"])   # fail before any work starts
    review.check_module_thresholds(opts["module_thresholds"])
    _deep_dive_names(opts["deep_dives"])
    executors.parse(opts["executor"])
    return opts


def _run_name(out: Path, name: str) -> str:
    """``name`` (default: the UTC time), with a suffix if a run of that name exists."""
    base = _safe(name) if name else dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    candidate, n = base, 1
    while (out / candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def build(config: str | os.PathLike | None = None, *, progress: bool = True, loaded: Snapshot | None = None,
          jobs: list[Job] | Callable[[list[Job]], list[Job]] | None = None, **given: Any) -> Pack:
    """Run the review pack (options: :data:`DEFAULTS`, a YAML ``config``, then keywords). ``loaded`` (a
    :class:`Snapshot`) skips loading; ``jobs`` replaces the planned notebook runs, or edits them when it is a function of the plan
    (tests, benchmarks). ``cache=False`` (or ``LAMBDA_WORKBOOK_CACHE=0``) computes the analysis as before the
    memo: again in every part of the engine and in every notebook (benchmarks)."""
    opts = load_options(config, **given)
    if opts["cache"]:
        return _build(config, opts, progress=progress, loaded=loaded, jobs=jobs)
    before = os.environ.get("LAMBDA_WORKBOOK_CACHE")
    os.environ["LAMBDA_WORKBOOK_CACHE"] = "0"   # this process and the notebooks' kernels
    try:
        return _build(config, opts, progress=progress, loaded=loaded, jobs=jobs)
    finally:
        if before is None:
            os.environ.pop("LAMBDA_WORKBOOK_CACHE", None)
        else:
            os.environ["LAMBDA_WORKBOOK_CACHE"] = before


def _build(config, opts: dict[str, Any], *, progress: bool, loaded: Snapshot | None,
           jobs: list[Job] | Callable[[list[Job]], list[Job]] | None) -> Pack:
    out = Path(opts["out"])
    run_dir = out / _run_name(out, opts["run"])   # named now, created once the review has run (checked input only)
    with executors.open(opts["executor"], workers=int(opts["workers"] or default_workers()), initializer=quiet_worker,
                        initargs=(str(run_dir.resolve() / "notebooks.log"),)) as executor:
        return _load_and_review(config, opts, run_dir, executor, progress=progress, loaded=loaded, jobs=jobs)


@contextlib.contextmanager
def _phase(desc: str, progress: bool):
    """A one-step progress bar for a phase that reports no steps of its own (loading a snapshot from files); it
    shows only once the phase has taken a second, so an input refused at once stays the one line it is."""
    from tqdm.auto import tqdm

    with tqdm(total=1, desc=desc, unit="step", disable=not progress, delay=1.0) as bar:
        yield
        bar.update()


def _load_and_review(config, opts: dict[str, Any], run_dir: Path, executor: executors.Executor, *, progress: bool,
                     loaded: Snapshot | None, jobs: list[Job] | Callable[[list[Job]], list[Job]] | None) -> Pack:
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    out = Path(opts["out"])
    regions = params.parse_regions("review", str(opts["region"]))
    snapshot = loaded
    if snapshot is None:
        scan = {"org_role": opts["org_role"] or None, "external_id": opts["external_id"] or None,
                "executor": executor} if opts["source"] == "aws" else {}
        with _phase("load", progress and opts["source"] != "aws"):   # a live scan shows its own bars
            snapshot = sources.load(opts["source"], snapshot_path=opts["snapshot"] or None,
                                    profiles=[p for p in str(opts["profile"]).split(",") if p] or None,
                                    regions=regions, lookback_days=int(opts["days"]), progress=progress, **scan)
    snapshot = snapshot.in_regions(regions)
    if snapshot.functions.empty:
        where = f"{opts['source']} {opts['snapshot']}".strip()
        raise ValueError(f"nothing to review: the snapshot ({where}) holds no function in the regions asked for")
    seconds["load"] = time.perf_counter() - t0
    redactor = Redactor.for_snapshot(snapshot, local_paths(run_dir=run_dir, out=out, snapshot=opts["snapshot"],
                                                           config=config)) if opts["redact"] else None
    reviewed = redactor.snapshot(snapshot) if redactor else snapshot
    if redactor:
        reviewed.flags = [f.map_text(redactor) for f in reviewed.flags or []]
    return _review_and_pages(config, opts, reviewed, redactor, run_dir, executor, progress=progress, jobs=jobs,
                             seconds=seconds, t0=t0)


def _review_and_pages(config, opts: dict[str, Any], reviewed: Snapshot, redactor: Redactor | None, run_dir: Path,
                      executor: executors.Executor, *, progress: bool,
                      jobs: list[Job] | Callable[[list[Job]], list[Job]] | None, seconds: dict[str, float],
                      t0: float) -> Pack:
    out = Path(opts["out"])
    t = time.perf_counter()
    bundles: dict[tuple[str, str], bytes | None] = {}
    run = {"thresholds": opts["thresholds"], "module_thresholds": opts["module_thresholds"], "as_of": opts["as_of"]}
    if executor.remote:   # one task per (account, region); each partition's notebooks load its bundle
        result, bundles = review_by_partition(reviewed, executor, bundles=True, progress=progress, **run)
    else:
        fan = opts["workers"] or None   # the per-function models' processes (None: automatic, engine.fanout)
        if int(opts["workers"] or default_workers()) > 1 and fanout.processes(reviewed, len(reviewed.functions),
                                                                              fan) == 1:
            # a snapshot analysed in one process: the engine's two biggest parts at once, on two cores
            memory_options = dict(review.check_module_thresholds(opts["module_thresholds"]).get("memory", {}))
            with _phase("findings: memory and cold starts", progress):
                analysis.prefetch(reviewed, local=[("lambda_workbook.coldstarts", "analyse", {})],
                                  remote=[("lambda_workbook.memory", "recommend_all", memory_options)])
        result = review.run(reviewed, progress=progress, workers=fan, **run)   # as_of "auto": today for a live scan
    seconds["findings"] = time.perf_counter() - t
    found = result.findings
    run_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="lambda-workbook-analysis-"))   # the bundle: for this run only
    try:
        try:   # a run folder is whole or absent: nothing half-written is left if planning fails
            snapshot_dir = None
            if redactor or opts["source"] == "aws":  # one scan (or one redacted copy) that every notebook reads
                snapshot_dir = sources.save(reviewed, run_dir / "snapshot")
            findings_csv = review.save(found, run_dir / "findings.csv")
            bundle = None
            if analysis.enabled() and not executor.remote:
                t = time.perf_counter()
                bundle = analysis.save(scratch / analysis.BUNDLE_FILE, reviewed, findings=found)
                (scratch / analysis.SHARED_DIR).mkdir()
                seconds["bundle"] = time.perf_counter() - t
            if jobs is None or callable(jobs):
                planned, _ = plan(reviewed, found, run_dir, opts, snapshot_dir, findings_csv, analysis_path=bundle)
                jobs = jobs(planned) if callable(jobs) else planned
            if not opts["inline_plotly"]:
                shutil.copyfile(plotly_source(), run_dir / PLOTLY_FILE)
        except BaseException:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
        t = time.perf_counter()
        run_jobs(jobs, run_dir, opts, redact=redactor, progress=progress,
                 **({"executor": executor, "bundles": bundles} if executor.remote else {}))
        seconds["notebooks"] = time.perf_counter() - t
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds["total"] = time.perf_counter() - t0
    pack = Pack(run_dir, run_dir / "index.html", None, found, jobs, result.errors, seconds)
    write_files(pack, reviewed, result, opts)
    if redactor:   # every file of the run (the notebooks' own were redacted as they finished)
        redactor.tree(run_dir, skip=[run_dir / PLOTLY_FILE])
    pack.latest = write_latest(out, run_dir)
    if redactor and pack.latest:
        redactor.file(pack.latest)
    return pack
