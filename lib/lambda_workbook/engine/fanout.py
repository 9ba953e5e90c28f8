"""Per-function model work in chunks, on this process or on worker processes of this machine.

What remains per function after the group-bys is model arithmetic on one function's own rows: the cold-start
pool model, the memory decision's Monte Carlo. A function's result depends on its own rows, its configuration
and its own seed, never on which process computed it or what was computed before it. :func:`map_chunks` cuts
the items (one per function) into chunks, runs ``task(snapshot, chunk, scope, **options)`` on each, and returns
the results concatenated in the items' order, so the outcome is the same with one process or several.

``scope`` is a dict that lives as long as the map in one process (the task keeps what its chunks share there:
a table split by function, a parsed table). Workers are started with ``spawn`` (a fresh interpreter: no DuckDB
thread or lock is inherited), each receives the snapshot once (a columnar snapshot's big tables stay on disk
and travel as their file readers) and the parent's memo entries for it (:mod:`lambda_workbook.analysis`), so a
whole-snapshot table the parent already computed is not computed again. A worker's DuckDB gets one thread and
a smaller memory limit, and a worker never starts workers of its own. Workers do not import the caller's main
script (the tasks are library functions), so a script without an ``if __name__ == "__main__"`` guard, or a
notebook, starts them safely.

How many processes (:func:`processes`): the ``workers`` argument, else :func:`using`'s setting, else the
``LAMBDA_WORKBOOK_WORKERS`` environment variable, else automatic: the usable cores when the snapshot's big
tables are still on disk (a columnar snapshot) and it holds at least :data:`MIN_FUNCTIONS` functions, one
process otherwise (a worker's start, about two seconds of imports, is not worth it for a small account). The
functions given must be importable module-level functions (they are pickled by reference).

Python's documentation on process pools and start methods:
https://docs.python.org/3/library/concurrent.futures.html#processpoolexecutor and
https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

#: the environment variable that sets the number of processes (1 = this process only)
WORKERS_ENV = "LAMBDA_WORKBOOK_WORKERS"
#: a snapshot with fewer functions is analysed in this process unless more workers are asked for
MIN_FUNCTIONS = 400
#: functions per task: small enough to balance two workers and keep a chunk's rows small in memory
CHUNK = 100
#: a worker's DuckDB settings (the parent keeps its own)
WORKER_DUCKDB = {"LAMBDA_WORKBOOK_DUCKDB_THREADS": "1", "LAMBDA_WORKBOOK_DUCKDB_MEMORY": "1GB"}
#: the most worker processes one machine is given
MAX_WORKERS = 64

_SETTING: contextvars.ContextVar[int | None] = contextvars.ContextVar("lambda_workbook_workers", default=None)
_IN_WORKER = False
_WORKER: dict[str, Any] = {}


def check_workers(value: Any) -> int | None:
    """``value`` as a number of processes (None: automatic); anything else is one ``ValueError`` line."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    try:
        n = int(str(value).strip()) if not isinstance(value, bool) else -1
    except ValueError:
        n = -1
    if not 1 <= n <= MAX_WORKERS:
        raise ValueError(f"workers {value!r} is not allowed: use 'auto' or a whole number from 1 to {MAX_WORKERS}")
    return n


@contextlib.contextmanager
def using(workers: Any) -> Iterator[None]:
    """Within the block, :func:`map_chunks` calls without their own ``workers`` use ``workers`` (None: automatic)."""
    token = _SETTING.set(check_workers(workers))
    try:
        yield
    finally:
        _SETTING.reset(token)


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # not Linux
        return max(1, os.cpu_count() or 1)


def _on_disk(snapshot: Any) -> bool:
    is_lazy = getattr(snapshot, "is_lazy", None)
    return callable(is_lazy) and bool(is_lazy("metrics"))


def processes(snapshot: Any, items: int, requested: Any = None, chunk: int | None = None) -> int:
    """How many processes :func:`map_chunks` uses for ``items`` functions of ``snapshot`` (see the module's text).
    Always one inside a worker, and inside a daemonic process (a pool's worker, a Dask worker: it may not start
    processes of its own; the pool around it is the parallelism)."""
    import multiprocessing

    if _IN_WORKER or multiprocessing.current_process().daemon:
        return 1
    n = check_workers(requested)
    if n is None:
        n = _SETTING.get()
    if n is None:
        n = check_workers(os.environ.get(WORKERS_ENV))
    if n is None:
        n = usable_cores() if _on_disk(snapshot) and items >= MIN_FUNCTIONS else 1
    return max(1, min(n, -(-items // (chunk or CHUNK)) if items else 1))


def chunks(items: Sequence[Any], size: int = CHUNK) -> list:
    """``items`` in consecutive chunks of at most ``size``: lists, or row slices of a DataFrame (whose
    ``itertuples`` then give the rows the whole table's would)."""
    if hasattr(items, "iloc"):
        return [items.iloc[i:i + size] for i in range(0, len(items), size)]
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def map_chunks(task: Callable[..., list], snapshot: Any, items: Sequence[Any], *, workers: Any = None,
               chunk: int | None = None, progress: bool = False, desc: str = "", unit: str = "function",
               **options: Any) -> list:
    """``task(snapshot, chunk, scope, **options)`` over ``items`` (a sequence, or a DataFrame cut into row
    slices) in chunks; the chunks' result lists joined in the items' order. ``workers``: see :func:`processes`.
    A task that raises raises here, as it would in one process; a worker that dies (killed for memory, say) is
    one ``RuntimeError`` line saying so."""
    from tqdm.auto import tqdm

    size = max(1, int(chunk or CHUNK))
    parts = chunks(items, size)
    n = processes(snapshot, len(items), workers, size)
    out: list[list] = [[] for _ in parts]
    with tqdm(total=len(items), desc=desc, unit=unit, disable=not progress) as bar:
        if n <= 1:
            scope: dict[str, Any] = {}
            for i, part in enumerate(parts):
                out[i] = task(snapshot, part, scope, **options)
                bar.update(len(part))
        else:
            _in_pool(task, snapshot, parts, out, n, options, bar)
    return [r for part in out for r in part]


def _in_pool(task, snapshot, parts, out, n: int, options: dict[str, Any], bar) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from .. import analysis

    payload = pickle.dumps((snapshot, analysis.entries(snapshot)), protocol=pickle.HIGHEST_PROTOCOL)
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start, initargs=([payload], WORKER_DUCKDB))
    try:
        with _main_hidden():   # the workers start while the tasks are submitted
            pending = {pool.submit(_run, task, part, options): i for i, part in enumerate(parts)}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                out[i] = fut.result()
                bar.update(len(parts[i]))
    except BrokenProcessPool:
        raise RuntimeError(f"a worker process of {n} stopped before its chunk was done (out of memory?); "
                           f"set {WORKERS_ENV}=1 to analyse in this process") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """``spawn`` starts a worker by importing the parent's main script or module (where a pickled function
    defined there would live); none of ours does, and a main script without a guard would run itself again in
    every worker. While workers start, ``__main__`` shows no file and no module spec, so none is imported."""
    main = sys.modules.get("__main__")
    saved = {k: getattr(main, k) for k in ("__file__", "__spec__") if main is not None and hasattr(main, k)}
    try:
        if "__file__" in saved:
            del main.__file__
        if "__spec__" in saved:
            main.__spec__ = None
        yield
    finally:
        for k, v in saved.items():
            setattr(main, k, v)


def _start(box: list[bytes], env: dict[str, str]) -> None:
    """A worker's start: its DuckDB settings, the snapshot and the parent's memo entries for it. The payload
    comes in a list emptied here: the pool keeps its start arguments for the worker's life, the bytes need not."""
    global _IN_WORKER
    from .. import analysis

    os.environ.update(env)
    _IN_WORKER = True
    snapshot, memo = pickle.loads(box.pop())
    analysis.prime(snapshot, memo)
    _WORKER.update(snapshot=snapshot, scope={})


def _run(task: Callable[..., list], part: list, options: dict[str, Any]) -> list:
    return task(_WORKER["snapshot"], part, _WORKER["scope"], **options)
