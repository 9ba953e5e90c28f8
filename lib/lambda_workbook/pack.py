"""The review pack: ``lambda-workbook review`` — the findings engine and papermill batch runs as one offline folder.

:func:`build` loads a snapshot once, runs :func:`lambda_workbook.review.run` over it, then executes notebooks
headless in a pool of processes sized to the machine:

* ``account_review`` for every account and region of the snapshot (fed the engine's findings, so the numbers
  are the index's);
* the per-function deep dives — ``memory``, ``invocation_sources``, ``read_what_you_need``, ``cold_starts``,
  whichever exist — for the functions that matter: the top N by finding impact or by cost, or those matching a
  name pattern; by default each only where it has something to show (``deep_dives="relevant"``).

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

import datetime as dt
import fnmatch
import html
import json
import multiprocessing
import os
import re
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__, argtypes, atomicfile, costs, params, report, review, sources
from .redact import Redactor, local_paths
from .schema import KEY, Snapshot

DEEP_DIVES = ("memory", "invocation_sources", "read_what_you_need", "cold_starts")
PLOTLY_FILE = "plotly.min.js"
ERROR_ANCHOR = "papermill-error-cell"
RANK_BY = ("impact", "cost")
_PLOTLY_BANNER = re.compile(r"\*\s*plotly\.js v\d")
_WIDGET = "application/vnd.jupyter.widget-view+json"
_EXPLORER_NOTE = ("<p><em>Interactive explorer: it needs a live kernel, so it is not part of this offline report. "
                  "Open the notebook (<code>.ipynb</code> beside this page) in JupyterLab to use it.</em></p>")

#: Defaults of every option (the CLI and a YAML file override them).
DEFAULTS: dict[str, Any] = {
    "source": "sample", "snapshot": "", "profile": "", "region": "all", "days": 14, "top": 5, "rank_by": "impact",
    "functions": "", "deep_dives": "relevant", "workers": 0, "redact": False, "run": "", "out": "reports",
    "chart_top": 15, "timeout": 1200, "inline_plotly": False, "as_of": "auto", "thresholds": {},
    "module_thresholds": {},
}
#: Allowed ranges of the whole-number options (None: no upper bound); the CLI checks the same at parse time.
_COUNTS: dict[str, tuple[int, int | None]] = {"top": (0, None), "workers": (0, None), "timeout": (1, None),
                                              "chart_top": (1, argtypes.MAX_CHART_BARS), "days": (1, 455)}


# --------------------------------------------------------------------------------------------------------
# notebook post-processing (runs in the worker processes)


def plotly_tag(src: str) -> str:
    """What replaces plotly's inlined bundle: its config line and a script loading the shared copy."""
    return ("<script type=\"text/javascript\">window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
            f"<script type=\"text/javascript\" src=\"{src}\"></script>\n")


def plotly_source() -> Path:
    """plotly.py's bundled ``plotly.min.js`` (the same file its notebook renderer inlines)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / PLOTLY_FILE


def _redactor(redact: Redactor | dict[str, str] | None) -> Redactor | None:
    return redact if isinstance(redact, Redactor) or redact is None else Redactor(dict(redact))


def finish_notebook(ipynb: Path, html_path: Path, *, plotly_src: str | None,
                    redact: Redactor | dict[str, str] | None, title: str) -> Path:
    """Make an executed notebook fit for the pack, then write its HTML (inputs hidden).

    Widget state (which embeds the explorers' JavaScript) is dropped and widget outputs become a note; with
    ``plotly_src`` the inlined plotly.js bundle is replaced by a ``<script src>`` to the shared copy (without,
    it stays inlined); ``redact`` (a :class:`Redactor`, or its aliases) masks account ids and local paths.
    """
    import nbformat

    redactor = _redactor(redact)

    nb = nbformat.read(str(ipynb), as_version=4)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for i, out in enumerate(cell.get("outputs", [])):
            data = out.get("data", {})
            if _WIDGET in data:
                cell.outputs[i] = nbformat.v4.new_output("display_data", data={
                    "text/html": _EXPLORER_NOTE, "text/plain": "(interactive explorer: open the notebook in JupyterLab)"})
            elif plotly_src and _PLOTLY_BANNER.search(str(data.get("text/html", ""))[:2000]):
                data["text/html"] = plotly_tag(plotly_src)
    text = nbformat.writes(nb)
    if redactor:
        text = redactor(text)
    atomicfile.write_text(ipynb, text)
    out = report.to_html(ipynb, html_path, title=title)
    if redactor:
        redactor.file(out)
    return out


def _kernel_never_ran(ipynb: Path) -> bool:
    """True when papermill failed before any cell ran (a kernel that did not start)."""
    import nbformat

    if not ipynb.exists():
        return True
    try:
        nb = nbformat.read(str(ipynb), as_version=4)
    except Exception:
        return True
    return not any(c.get("execution_count") for c in nb.cells if c.cell_type == "code")


def execute_job(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook of the pack (in a worker process): execute, retry a failed kernel start once, finish
    the notebook and its HTML, redact its results JSON. Never raises: failures are reported in the result."""
    start = time.perf_counter()
    ipynb, html_path = Path(spec["ipynb"]), Path(spec["html"])
    result = {"status": "ok", "error": "", "attempts": 0, "html": None}
    for attempt in (1, 2):
        result["attempts"] = attempt
        try:
            report.execute(spec["notebook"], ipynb, spec["parameters"], timeout_s=spec["timeout_s"])
            break
        except report.NotebookFailed as exc:
            err = exc.error
            name = getattr(err, "ename", type(err).__name__)
            value = getattr(err, "evalue", str(err))
            result.update(status="failed", error=f"{name}: {value}".strip())
            if attempt == 1 and not hasattr(err, "ename") and _kernel_never_ran(ipynb):
                result.update(status="ok", error="")
                continue
            break
        except Exception as exc:  # papermill itself broke: keep going with the batch
            result.update(status="failed", error=f"{type(exc).__name__}: {exc}")
            break
    if ipynb.exists():
        try:
            finish_notebook(ipynb, html_path, plotly_src=spec["plotly_src"], redact=spec["redact"], title=spec["title"])
            result["html"] = str(html_path)
        except Exception as exc:
            result.update(status="failed", error=result["error"] or f"HTML conversion failed: {type(exc).__name__}: {exc}")
    results = Path(spec["parameters"].get("results_path") or "/nonexistent")
    redactor = _redactor(spec["redact"])
    if redactor and results.exists():
        redactor.file(results)
    if redactor and result["error"]:
        result["error"] = redactor(result["error"])
    result["seconds"] = round(time.perf_counter() - start, 2)
    return result


# --------------------------------------------------------------------------------------------------------
# planning


@dataclass
class Job:
    """One notebook run of the pack; paths are relative to the run directory."""

    notebook: str                 # name (or path of a .ipynb)
    title: str
    out: str                      # e.g. "acct/us-east-1/orders-api/memory" (no suffix)
    parameters: dict[str, Any]
    account_id: str = ""
    region: str = ""
    function: str = ""
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


_READ_IDS = {k for k, c in review.CHECKS.items() if c.module == "reads"}
_COLD_IDS = {k for k, c in review.CHECKS.items() if c.module == "coldstarts"}


def relevant(notebook: str, key: tuple, snapshot: Snapshot, ids: set[str]) -> bool:
    """Whether a deep dive has something to show for a function (``deep_dives="relevant"``)."""
    def rows(table: str) -> pd.DataFrame:
        return snapshot.for_function(table, key[2], account_id=key[0], region=key[1])

    if notebook == "read_what_you_need":
        calls = rows("calls")
        reads = calls["service"].isin(["s3", "dynamodb"]) & calls["operation"].str.contains(
            "Get|Query|Scan|Select", regex=True)
        return bool(ids & _READ_IDS) or bool(reads.any())
    if notebook == "cold_starts":
        return bool(ids & _COLD_IDS) or bool(rows("triggers")["sync"].any())
    if notebook == "invocation_sources":
        return bool(len(rows("triggers")))
    return True


def select_functions(snapshot: Snapshot, found: pd.DataFrame, *, top: int = 5, rank_by: str = "impact",
                     pattern: str = "") -> pd.DataFrame:
    """The functions worth a deep dive: matching ``pattern`` (globs, comma-separated; empty = all), ranked by
    finding impact (USD a month saved, then high-severity findings, then cost) or by cost; the first ``top``
    (0 = all matches)."""
    if rank_by not in RANK_BY:
        raise ValueError(f"rank_by must be one of {', '.join(RANK_BY)}, got {rank_by!r}")
    c = costs.function_costs(snapshot)[KEY + ["monthly_usd"]].rename(columns={"function_name": "function"})
    per = review.by_function(found)
    t = c.merge(per, on=["account_id", "region", "function"], how="left").fillna(
        {"findings": 0, "high": 0, "monthly_usd_y": 0.0, "ids": ""})
    t = t.rename(columns={"monthly_usd_x": "cost_usd", "monthly_usd_y": "impact_usd"})
    globs = [g.strip() for g in str(pattern or "").split(",") if g.strip()]
    if globs:
        t = t[t["function"].map(lambda n: any(fnmatch.fnmatchcase(n, g) for g in globs))]
        if t.empty:
            raise ValueError(f"no function matches {pattern!r} (functions include: "
                             f"{', '.join(sorted(snapshot.functions['function_name'])[:8])}, ...)")
    order = ["impact_usd", "high", "findings", "cost_usd"] if rank_by == "impact" else ["cost_usd", "impact_usd"]
    t = t.sort_values(order, ascending=False, ignore_index=True)
    return t.head(top) if top else t


def _source_parameters(options: dict[str, Any], snapshot_dir: Path | None) -> dict[str, Any]:
    if snapshot_dir is not None:
        return {"source": "snapshot", "snapshot_path": str(snapshot_dir.resolve()), "profile": "",
                "lookback_days": int(options["days"])}
    path = str(Path(options["snapshot"]).resolve()) if options["snapshot"] else ""   # notebooks run elsewhere
    return {"source": options["source"], "snapshot_path": path,
            "profile": str(options["profile"] or ""), "lookback_days": int(options["days"])}


def plan(snapshot: Snapshot, found: pd.DataFrame, run_dir: Path, options: dict[str, Any],
         snapshot_dir: Path | None, findings_csv: Path) -> tuple[list[Job], pd.DataFrame]:
    """The pack's notebook runs: an account review per account and region, then the deep dives."""
    base = _source_parameters(options, snapshot_dir)
    jobs = []
    pairs = snapshot.functions[["account_id", "region"]].drop_duplicates().sort_values(["account_id", "region"])
    for acct, region in pairs.itertuples(index=False):
        out = f"{_safe(acct)}/{_safe(region)}/account_review"
        jobs.append(Job("account_review", f"Account review — {acct}, {region}", out, {
            **base, "region": region, "account": acct, "top_n": int(options["chart_top"]),
            "findings_path": str(findings_csv.resolve())}, acct, region))
    chosen = select_functions(snapshot, found, top=int(options["top"]), rank_by=options["rank_by"],
                              pattern=options["functions"])
    dives = _deep_dive_names(options["deep_dives"])
    ids = {k: set(g["id"]) for k, g in found.groupby(["account_id", "region", "function"])} if len(found) else {}
    names = snapshot.functions.groupby(["region", "function_name"])["account_id"].nunique()
    for r in chosen.itertuples():
        key = (r.account_id, r.region, r.function)
        src = base
        if names.get((r.region, r.function), 1) > 1:  # the same name in several accounts: give the notebook one
            sub = run_dir / "snapshots" / _safe(r.account_id)
            if not sub.exists():
                sources.save(snapshot.in_accounts([r.account_id]), sub)
            src = {**base, "source": "snapshot", "snapshot_path": str(sub.resolve())}
        for nb in dives:
            if options["deep_dives"] == "relevant" and not relevant(nb, key, snapshot, ids.get(key, set())):
                continue
            out = f"{_safe(r.account_id)}/{_safe(r.region)}/{_safe(r.function)}/{nb}"
            jobs.append(Job(nb, f"{nb.replace('_', ' ').capitalize()} — {r.function} ({r.account_id}, {r.region})", out,
                            {**src, "region": r.region, "function": r.function}, *key, kind="deep-dive"))
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


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _quiet_worker(log: str) -> None:
    """Pool initializer: one math thread per kernel (the pool already keeps every core busy), and the worker's
    (and its kernels') stderr to the run's log, so kernel start-up warnings do not drown the progress bar."""
    for name in _THREAD_VARS:
        os.environ.setdefault(name, "1")
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)


def default_workers() -> int:
    """Processes for the pool: the cores this process may use (papermill kernels are CPU-bound)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def run_jobs(jobs: list[Job], run_dir: Path, options: dict[str, Any], *, redact: Redactor | None = None,
             progress: bool = True) -> list[Job]:
    """Execute the jobs in a process pool (``options["workers"]``, 0 = the core count; 1 = in this process)."""
    from tqdm.auto import tqdm

    specs = [_spec(j, run_dir, options, redact) for j in jobs]
    workers = min(int(options.get("workers") or default_workers()), max(len(jobs), 1))
    bar = tqdm(total=len(jobs), desc="review pack", unit="notebook", disable=not progress)

    def done(job: Job, res: dict[str, Any]) -> None:
        job.status, job.error, job.seconds, job.attempts = res["status"], res["error"], res["seconds"], res["attempts"]
        job.has_html = bool(res["html"])
        bar.update(1)
        bar.set_postfix(failed=sum(j.status == "failed" for j in jobs))

    try:
        if workers <= 1:
            for job, spec in zip(jobs, specs, strict=True):
                done(job, execute_job(spec))
        else:
            ctx = multiprocessing.get_context("spawn")
            log = run_dir / "notebooks.log"
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_quiet_worker,
                                     initargs=(str(log.resolve()),)) as pool:
                futures = {pool.submit(execute_job, s): j for j, s in zip(jobs, specs, strict=True)}
                for fut in as_completed(futures):
                    try:
                        res = fut.result()
                    except Exception as exc:  # the worker process died
                        res = {"status": "failed", "error": f"worker failed: {type(exc).__name__}: {exc}",
                               "seconds": 0.0, "attempts": 1, "html": None}
                    done(futures[fut], res)
    finally:
        bar.close()
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
    (tests, benchmarks)."""
    opts = load_options(config, **given)
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    out = Path(opts["out"])
    regions = params._regions("review", str(opts["region"]))
    snapshot = loaded
    if snapshot is None:
        snapshot = sources.load(opts["source"], snapshot_path=opts["snapshot"] or None,
                                profiles=[p for p in str(opts["profile"]).split(",") if p] or None, regions=regions,
                                lookback_days=int(opts["days"]), progress=progress)
    snapshot = snapshot.in_regions(regions)
    if snapshot.functions.empty:
        where = f"{opts['source']} {opts['snapshot']}".strip()
        raise ValueError(f"nothing to review: the snapshot ({where}) holds no function in the regions asked for")
    seconds["load"] = time.perf_counter() - t0
    run_dir = out / _run_name(out, opts["run"])   # named now, created once the review has run (checked input only)
    redactor = Redactor.for_snapshot(snapshot, local_paths(run_dir=run_dir, out=out, snapshot=opts["snapshot"],
                                                           config=config)) if opts["redact"] else None
    reviewed = redactor.snapshot(snapshot) if redactor else snapshot
    if redactor:
        reviewed.flags = [f.map_text(redactor) for f in reviewed.flags or []]
    t = time.perf_counter()
    result = review.run(reviewed, thresholds=opts["thresholds"], module_thresholds=opts["module_thresholds"],
                        as_of=opts["as_of"], progress=progress)   # "auto": today for a live scan
    seconds["findings"] = time.perf_counter() - t
    found = result.findings
    run_dir.mkdir(parents=True, exist_ok=True)
    try:   # a run folder is whole or absent: nothing half-written is left if planning fails
        snapshot_dir = None
        if redactor or opts["source"] == "aws":  # one scan (or one redacted copy) that every notebook reads
            snapshot_dir = sources.save(reviewed, run_dir / "snapshot")
        findings_csv = review.save(found, run_dir / "findings.csv")
        if jobs is None or callable(jobs):
            planned, _ = plan(reviewed, found, run_dir, opts, snapshot_dir, findings_csv)
            jobs = jobs(planned) if callable(jobs) else planned
        if not opts["inline_plotly"]:
            shutil.copyfile(plotly_source(), run_dir / PLOTLY_FILE)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    t = time.perf_counter()
    run_jobs(jobs, run_dir, opts, redact=redactor, progress=progress)
    seconds["notebooks"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0
    pack = Pack(run_dir, run_dir / "index.html", None, found, jobs, result.errors, seconds)
    write_files(pack, reviewed, result, opts)
    if redactor:   # every file of the run (the notebooks' own were redacted as they finished)
        redactor.tree(run_dir, skip=[run_dir / PLOTLY_FILE])
    pack.latest = write_latest(out, run_dir)
    if redactor and pack.latest:
        redactor.file(pack.latest)
    return pack


# --------------------------------------------------------------------------------------------------------
# files: findings for tickets, the run record, the index


def _deep_links(jobs: list[Job]) -> dict[tuple, list[Job]]:
    out: dict[tuple, list[Job]] = {}
    for j in jobs:
        if j.kind == "deep-dive" and j.has_html:
            out.setdefault((j.account_id, j.region, j.function), []).append(j)
    return out


def write_files(pack: Pack, snapshot: Snapshot, result: review.Review, opts: dict[str, Any]) -> None:
    run = pack.run_dir
    m = snapshot.manifest
    context = (f"Source {m.get('source')}, window {str(m['start'])[:10]} to {str(m['end'])[:10]}; accounts "
               f"{', '.join(snapshot.accounts)}; regions {', '.join(snapshot.regions)}. Runtime support judged as of "
               f"{result.as_of} ({result.as_of_basis}).")
    links = {k: ", ".join(f"{j.name}: {j.out}.html" for j in js) for k, js in _deep_links(pack.jobs).items()}
    atomicfile.write_text(run / "findings.md", review.to_markdown(pack.findings, context=context, links=links))
    atomicfile.write_json(run / "findings.json", {**review.results(result, top=len(pack.findings)),
                                                  "columns": review.COLUMNS})
    record = {
        "workbook": __version__, "run": run.name, "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "options": {k: v for k, v in opts.items() if k not in ("thresholds", "module_thresholds")},
        "snapshot": {"source": m.get("source"), "start": str(m["start"]), "end": str(m["end"]),
                     "accounts": snapshot.accounts, "regions": snapshot.regions,
                     "functions": int(len(snapshot.functions)), "redacted": bool(m.get("redacted"))},
        "review": result.meta(), "totals": review.results(result, top=0),
        "notebooks": [{**{k: v for k, v in asdict(j).items() if k != "parameters"}, "html": f"{j.out}.html" if j.has_html
                       else None, "ipynb": f"{j.out}.ipynb", "results": f"{j.out}.results.json",
                       "link": j.link() if j.has_html else None} for j in pack.jobs],
        "seconds": {k: round(v, 2) for k, v in pack.seconds.items()},
        "exit_code": pack.exit_code,
    }
    atomicfile.write_json(run / "review.json", record)
    atomicfile.write_text(pack.index, render_index(pack, snapshot, result, opts))


def write_latest(out: Path, run_dir: Path) -> Path:
    """``<out>/index.html``: the latest run's index with links into ``<run>/``, plus the list of runs."""
    text = (run_dir / "index.html").read_text(encoding="utf-8")
    prefix = f"{run_dir.name}/"
    text = re.sub(r"""\b(href|src)=(["'])(?!https?:|#|/|data:)([^"']+)\2""",
                  lambda mm: f"{mm.group(1)}={mm.group(2)}{prefix}{mm.group(3)}{mm.group(2)}", text)
    runs = sorted((p for p in out.iterdir() if (p / "review.json").exists()), key=lambda p: p.name, reverse=True)
    items = "".join(f'<li><a href="{html.escape(p.name)}/index.html">{html.escape(p.name)}</a></li>' for p in runs)
    text = text.replace("<!--RUNS-->", f"<h2>Review runs</h2><ul>{items}</ul>")
    return atomicfile.write_text(out / "index.html", text)


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1400px;color:#222;
padding:0 16px}h1{margin-bottom:4px}.meta{color:#555;margin-top:0}table{border-collapse:collapse;width:100%;margin:8px 0 20px}
th,td{border-bottom:1px solid #ddd;padding:6px 8px;text-align:left;vertical-align:top;font-size:14px}
th{background:#f5f5f5}.num{text-align:right;white-space:nowrap}.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:180px}.card b{font-size:20px;display:block}
.sev{border-radius:4px;padding:1px 6px;color:#fff;font-size:12px}.high{background:#E45756}.medium{background:#F58518}
.low{background:#72B7B2}.failed{color:#b00020;font-weight:bold}.ok{color:#2e7d32}details summary{cursor:pointer;color:#345}
code{font-size:12px;color:#555}.small{font-size:12px;color:#555}
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _flags_section(flags: list[dict[str, Any]]) -> list[str]:
    """The snapshot's flagged problems (:mod:`lambda_workbook.snapshot_checks`): what the review could not judge."""
    if not flags:
        return []
    rows = [f"<tr><td><code>{_e(f['file'])}</code></td><td class='num'>{_e(f['row'] or '')}</td><td>{_e(f['column'])}"
            f"</td><td>{_e(f['function'])}" + (f"<br><span class='small'>{_e(f['account_id'])} · {_e(f['region'])}</span>"
                                               if f["function"] else "")
            + f"</td><td>{_e(f['message'])}" + (f" <span class='small'>(and {f['more']} more rows like it)</span>"
                                                if f["more"] else "") + "</td></tr>" for f in flags]
    return [f"<h2 id='snapshot-flags'>Flagged in the snapshot ({len(flags)})</h2><p class='small'>The review ran "
            "without these parts and is right for the rest; rows are the file's (the header is row 1). The rules: "
            "<code>lambda-workbook schema</code>.</p><table><tr><th>file</th><th class='num'>row</th><th>column</th>"
            "<th>function</th><th>problem</th></tr>", *rows, "</table>"]


def render_index(pack: Pack, snapshot: Snapshot, result: review.Review, opts: dict[str, Any]) -> str:
    """The pack's front page: totals, the findings ranked by dollars with evidence and links, the reports."""
    import plotly.io as pio

    from . import plots

    found = review.rank(pack.findings)
    tot = review.totals(found)
    spend = costs.function_costs(snapshot)["monthly_usd"].sum() if len(snapshot.functions) else 0.0
    m = snapshot.manifest
    links = _deep_links(pack.jobs)
    all_ = tot.loc["all"]
    failed = pack.failed
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Lambda architecture review — {_e(pack.run_dir.name)}"
             f"</title><style>{_CSS}</style>"]
    if not opts["inline_plotly"]:
        parts.append(plotly_tag(PLOTLY_FILE))
    parts.append("</head><body>")
    parts.append(f"<h1>Lambda architecture review</h1><p class='meta'>Run {_e(pack.run_dir.name)} · source "
                 f"{_e(m.get('source'))} · window {_e(str(m['start'])[:10])} to {_e(str(m['end'])[:10])} · accounts "
                 f"{_e(', '.join(snapshot.accounts))} · regions {_e(', '.join(snapshot.regions))} · "
                 f"{len(snapshot.functions)} functions · runtimes judged as of {_e(result.as_of)} "
                 f"({_e(result.as_of_basis)}){' · <b>redacted</b>' if m.get('redacted') else ''}</p>")
    cards = [("Lambda spend", f"${spend:,.2f}/month", "list prices, no free tier"),
             ("Quantified savings", f"${all_['monthly_usd']:,.2f}/month",
              f"band ${all_['monthly_low_usd']:,.2f}–${all_['monthly_high_usd']:,.2f}; measure-first findings not "
              "included"),
             ("Findings", f"{int(all_['findings'])}", f"{int(all_['high'])} high · {int(all_['medium'])} medium · "
              f"{int(all_['low'])} low"),
             ("Notebooks", f"{len(pack.jobs) - len(failed)} of {len(pack.jobs)} rendered",
              f"{len(failed)} failed" if failed else "all ran")]
    if result.flags:
        cards.append(("Snapshot", f"{len(result.flags)} flagged", "parts the review could not judge (below)"))
    parts.append("<div class='cards'>" + "".join(
        f"<div class='card'>{_e(a)}<b>{_e(b)}</b><span class='small'>{_e(c)}</span></div>" for a, b, c in cards) + "</div>")
    if failed:
        parts.append("<p class='failed'>Failed notebooks: " + ", ".join(
            f"<a href='{_e(j.link())}'>{_e(j.title)}</a> ({_e(j.error[:160])})" if j.has_html else
            f"{_e(j.title)} ({_e(j.error[:160])})" for j in failed) + "</p>")
    if len(result.errors):
        parts.append("<p class='failed'>Checks that failed (the rest of the review ran): " + "; ".join(
            f"{_e(r.module)}: {_e(r.error)}" for r in result.errors.itertuples()) + "</p>")
    parts += _flags_section(result.flags)
    parts.append("<h2>By section</h2><table><tr><th>section</th><th class='num'>findings</th><th class='num'>high</th>"
                 "<th class='num'>medium</th><th class='num'>low</th><th class='num'>savings $/month (band)</th></tr>")
    for section, r in tot.iterrows():
        parts.append(f"<tr><td>{_e(section)}</td><td class='num'>{int(r['findings'])}</td><td class='num'>{int(r['high'])}"
                     f"</td><td class='num'>{int(r['medium'])}</td><td class='num'>{int(r['low'])}</td><td class='num'>"
                     f"${r['monthly_usd']:,.2f} (${r['monthly_low_usd']:,.2f}–${r['monthly_high_usd']:,.2f})</td></tr>")
    parts.append("</table>")
    if found["monthly_impact_usd"].notna().any():
        fig = plots.findings_impact(found, top=int(opts["chart_top"]))
        parts.append(pio.to_html(fig, include_plotlyjs=bool(opts["inline_plotly"]), full_html=False))
    parts.append("<h2>Findings, ranked by dollars</h2><p class='small'>USD a month saved by following the "
                 "recommendation (negative: it costs more, bought for speed); findings without a price are risks, "
                 "ranked by severity after the priced ones. Also as <a href='findings.csv'>CSV</a>, "
                 "<a href='findings.md'>Markdown</a> and <a href='findings.json'>JSON</a>.</p>")
    parts.append("<table><tr><th>#</th><th class='num'>$/month (band)</th><th>severity</th><th>finding</th>"
                 "<th>function</th><th>section</th><th>deep dives</th></tr>")
    for i, r in enumerate(found.to_dict("records"), 1):
        key = (r["account_id"], r["region"], r["function"])
        dives = " · ".join(f"<a href='{_e(j.link())}'>{_e(j.name.replace('_', ' '))}</a>" for j in links.get(key, []))
        parts.append(
            f"<tr><td>{i}</td><td class='num'>{_e(review.band(r))}</td><td><span class='sev {_e(r['severity'])}'>"
            f"{_e(r['severity'])}</span></td><td><b>{_e(r['title'])}</b> <code>{_e(r['id'])}</code><details><summary>"
            f"evidence and recommendation</summary><p>{_e(r['evidence'])}</p><p class='small'>source: "
            f"{_e(r['evidence_path'])}</p><p><b>Recommendation:</b> {_e(r['recommendation'])}</p></details></td>"
            f"<td>{_e(r['function'])}<br><span class='small'>{_e(r['account_id'])} · {_e(r['region'])}</span></td>"
            f"<td>{_e(r['section'])}</td><td>{dives}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>Reports</h2><table><tr><th>notebook</th><th>status</th><th class='num'>seconds</th>"
                 "<th>files</th></tr>")
    for j in sorted(pack.jobs, key=lambda j: (j.kind != "account", j.account_id, j.region, j.function, j.name)):
        page = f"<a href='{_e(j.link())}'>{_e(j.title)}</a>" if j.has_html else _e(j.title)
        status = ("<span class='ok'>ok</span>" if j.status == "ok" else
                  f"<span class='failed'>failed</span> <span class='small'>{_e(j.error[:300])}</span>"
                  + (f" — <a href='{_e(j.link())}'>error cell</a>" if j.has_html else ""))
        files = [f"<a href='{_e(j.out)}{suffix}'>{label}</a>" for suffix, label in
                 ((".ipynb", "notebook"), (".results.json", "results")) if (pack.run_dir / f"{j.out}{suffix}").exists()]
        parts.append(f"<tr><td>{page}</td><td>{status}</td><td class='num'>{j.seconds:,.1f}</td><td class='small'>"
                     f"{' · '.join(files)}</td></tr>")
    parts.append("</table><!--RUNS-->")
    parts.append("<h2>How this review was made</h2><p class='small'>Thresholds (defaults unless set in the "
                 "configuration): " + "; ".join(f"{_e(k)} {_e(v)}" for k, v in asdict(result.thresholds).items()
                                               if k not in ("secret_names", "secret_reference_suffixes"))
                 + (f". Module thresholds: {_e(json.dumps(result.module_thresholds))}" if result.module_thresholds else "")
                 + f". Engine {sum(result.seconds.values()):,.1f} s; notebooks {pack.seconds.get('notebooks', 0):,.1f} s. "
                 f"Record: <a href='review.json'>review.json</a>"
                 + (", kernel messages: <a href='notebooks.log'>notebooks.log</a>" if (pack.run_dir / "notebooks.log")
                    .exists() else "") + f". lambda-workbook {_e(__version__)}.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
