"""Where the review pack's tasks run: on this machine, or on a Dask cluster.

An :class:`Executor` maps a function over items and returns the results in the items' order, with a progress
bar per phase (``Executor.map(fn, items, progress=True, desc="notebooks")``). Two kinds:

* :class:`LocalExecutor` (``"local"``, the default) — this process, or a pool of spawned processes on this
  machine when it has more than one worker;
* :class:`DaskExecutor` — a ``distributed.Client``: ``"dask-local[:N]"`` starts a ``LocalCluster`` of ``N``
  single-threaded worker processes on this machine (``N`` defaults to the usable cores), ``"dask://HOST:PORT"``
  connects to a running scheduler. Its workers may be other machines: what a task needs travels with it (as
  Python objects or bytes) and what it makes comes back to the client, so the workers share no folder with it.

:func:`parse` checks an executor string (one clear line naming the value and what is allowed) without importing
Dask; :func:`open` makes the executor. Dask is an optional extra (``pip install 'lambda-workbook[cluster]'``):
without it, asking for a Dask executor is one line saying so. Functions given to :meth:`Executor.map` must be
importable module-level functions (they are pickled by reference to run elsewhere).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .engine.fanout import usable_cores  # noqa: F401  (public: executors.usable_cores, one definition)

#: What an executor string may be, for error messages and the command line's help.
ALLOWED = ("'local' (this machine, the default), 'dask-local' or 'dask-local:N' (a Dask LocalCluster of N worker "
           "processes here), or 'dask://HOST:PORT' (a running Dask scheduler)")
INSTALL = "pip install 'lambda-workbook[cluster]'"
_ADDRESS = re.compile(r"^dask://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})$")
_LOCAL = re.compile(r"^dask-local(?::(?P<n>\d+))?$")
#: Most LocalCluster workers one machine is given (each runs notebooks, each kernel a process of its own).
MAX_LOCAL_WORKERS = 64


class MissingDask(ValueError):
    """A Dask executor was asked for, but dask[distributed] is not installed."""


@dataclass(frozen=True)
class ExecutorSpec:
    """A checked executor string: ``kind`` is ``local``, ``dask-local`` or ``dask``."""

    kind: str
    workers: int | None = None     # dask-local: worker processes (None: the usable cores)
    address: str = ""              # dask: the scheduler's tcp:// address

    @property
    def text(self) -> str:
        if self.kind == "dask-local":
            return "dask-local" + (f":{self.workers}" if self.workers else "")
        return self.address.replace("tcp://", "dask://", 1) if self.kind == "dask" else "local"


def parse(value: Any) -> ExecutorSpec:
    """An executor string as an :class:`ExecutorSpec`; anything else is one ``ValueError`` line naming it."""
    text = str(value).strip() if isinstance(value, str) else None
    if text is None or not text:
        raise ValueError(f"executor {value!r} is not allowed: use {ALLOWED}")
    if text == "local":
        return ExecutorSpec("local")
    m = _LOCAL.match(text)
    if m:
        n = int(m["n"]) if m["n"] is not None else None
        if n is not None and not 1 <= n <= MAX_LOCAL_WORKERS:
            raise ValueError(f"executor {value!r} is not allowed: dask-local:N needs N from 1 to "
                             f"{MAX_LOCAL_WORKERS}; use {ALLOWED}")
        return ExecutorSpec("dask-local", workers=n)
    m = _ADDRESS.match(text)
    if m and 0 < int(m["port"]) < 65536:
        return ExecutorSpec("dask", address=f"tcp://{m['host']}:{int(m['port'])}")
    raise ValueError(f"executor {value!r} is not allowed: use {ALLOWED}")


class Executor:
    """Maps a function over items somewhere; results come back in the items' order."""

    kind = "local"
    #: True when tasks may run on other machines: inputs travel as objects or bytes, files come back as bytes
    remote = False

    def map(self, fn: Callable, items: Sequence, *, progress: bool = False, desc: str = "tasks",
            unit: str = "task", order: Sequence[int] | None = None, errors: str = "raise",
            done: Callable[[int, Any], Any] | None = None, large: bool = False) -> list:
        """``[fn(x) for x in items]``, run by this executor.

        ``order``: the indices in the order to start them (default: as given); ``errors="return"`` puts a task's
        exception in its place instead of raising it (the others still run); ``done(i, result)`` is called on
        this side as each one finishes (a dict it returns is shown beside the bar); ``progress`` shows a bar
        named ``desc``; ``large``: the items are big (snapshots), so a cluster gets each straight from here
        rather than inside the task graph (items holding handles of :meth:`share` must not be ``large``)."""
        raise NotImplementedError

    @property
    def workers(self) -> int:
        return 1

    def everywhere(self, fn: Callable, *args: Any) -> None:
        """``fn(*args)`` once in every worker (clean-up); here, for an executor on this machine."""
        fn(*args)

    def describe(self) -> str:
        return self.kind

    def close(self) -> None:
        pass

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _check_errors(errors: str) -> None:
    if errors not in ("raise", "return"):
        raise ValueError(f"errors must be 'raise' or 'return', got {errors!r}")


def _plan(items, order, errors: str) -> tuple[list, list[int], list[Any]]:
    """What every ``map`` starts from: the items as a list, the order to submit them in, a slot per result."""
    _check_errors(errors)
    items = list(items)
    return items, list(range(len(items))) if order is None else list(order), [None] * len(items)


def _bar(total: int, progress: bool, desc: str, unit: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not progress)


def _done(bar, done: Callable | None, i: int, value: Any) -> None:
    """One task finished: tell ``done`` (a mapping it returns is shown beside the bar), move the bar."""
    shown = done(i, value) if done is not None else None
    if isinstance(shown, dict):
        bar.set_postfix(shown, refresh=False)
    bar.update(1)


class LocalExecutor(Executor):
    """This process (one worker), or a pool of ``workers`` spawned processes on this machine, each started with
    ``initializer(*initargs)``."""

    kind = "local"

    def __init__(self, workers: int = 1, *, initializer: Callable | None = None, initargs: tuple = ()):
        self._workers = max(1, int(workers))
        self.initializer, self.initargs = initializer, tuple(initargs)

    @property
    def workers(self) -> int:
        return self._workers

    def describe(self) -> str:
        return f"local ({self._workers} process{'es' * (self._workers > 1)})"

    def map(self, fn, items, *, progress=False, desc="tasks", unit="task", order=None, errors="raise", done=None,
            large=False):
        items, order, results = _plan(items, order, errors)
        bar = _bar(len(items), progress, desc, unit)

        def finish(i: int, value: Any) -> None:
            results[i] = value
            _done(bar, done, i, value)

        try:
            workers = min(self._workers, len(items))
            if workers <= 1:
                for i in order:
                    try:
                        value = fn(items[i])
                    except Exception as exc:
                        if errors == "raise":
                            raise
                        value = exc
                    finish(i, value)
                return results
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=self.initializer, initargs=self.initargs) as pool:
                futures = {pool.submit(fn, items[i]): i for i in order}
                for fut in as_completed(futures):
                    try:
                        value = fut.result()
                    except Exception as exc:   # the task raised, or its process died
                        if errors == "raise":
                            for f in futures:
                                f.cancel()
                            raise
                        value = exc
                    finish(futures[fut], value)
            return results
        finally:
            bar.close()


class DaskExecutor(Executor):
    """A ``distributed.Client``; closes the cluster it started (``dask-local``), never one it only joined."""

    kind = "dask"
    remote = True

    def __init__(self, client, *, cluster=None, spec: ExecutorSpec | None = None):
        self.client, self.cluster, self.spec = client, cluster, spec

    @property
    def workers(self) -> int:
        try:
            return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))
        except TypeError:   # distributed releases before scheduler_info(n_workers=...)
            return max(1, len(self.client.scheduler_info()["workers"]))
        except Exception:
            return 1

    def describe(self) -> str:
        where = self.spec.text if self.spec else "dask"
        return f"{where} (scheduler {self.client.scheduler.address}, {self.workers} workers)"

    def everywhere(self, fn: Callable, *args: Any) -> None:
        self.client.run(fn, *args)

    def share(self, value: Any):
        """``value`` sent to the cluster once; the handle stands for it inside the items of :meth:`map`."""
        return self.client.scatter(value, hash=False)

    def map(self, fn, items, *, progress=False, desc="tasks", unit="task", order=None, errors="raise", done=None,
            large=False):
        from distributed import as_completed

        items, order, results = _plan(items, order, errors)
        tag = f"lambda-workbook-{desc.replace(' ', '-')}-{uuid.uuid4().hex[:8]}"
        args = dict(zip(order, self.client.scatter([items[i] for i in order], hash=False), strict=True)) if large \
            else {i: items[i] for i in order}
        futures = {self.client.submit(fn, args[i], key=f"{tag}-{i}", pure=False, retries=0): i for i in order}
        bar = _bar(len(items), progress, desc, unit)
        try:
            for fut in as_completed(list(futures)):
                i = futures[fut]
                try:
                    value = fut.result()
                except Exception as exc:   # the task raised, or its worker was lost
                    if errors == "raise":
                        raise
                    value = exc
                results[i] = value
                _done(bar, done, i, value)
        finally:
            bar.close()
            for fut in [*futures, *(args.values() if large else ())]:
                fut.release()
        return results

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def _distributed():
    try:
        import distributed
    except ImportError:
        raise MissingDask(f"a Dask executor needs dask[distributed], which is not installed: {INSTALL}") from None
    return distributed


def open(value: Any = "local", *, workers: int | None = None, initializer: Callable | None = None,  # noqa: A001
         initargs: tuple = ()) -> Executor:
    """The executor an executor string names (:func:`parse`). ``workers``: processes of a local executor
    (None: the usable cores); ``initializer``: what each local pool process runs first (Dask workers run as the
    cluster was started)."""
    spec = value if isinstance(value, ExecutorSpec) else parse(value)
    if spec.kind == "local":
        return LocalExecutor(workers or usable_cores(), initializer=initializer, initargs=initargs)
    distributed = _distributed()
    if spec.kind == "dask-local":
        cluster = distributed.LocalCluster(n_workers=spec.workers or usable_cores(), threads_per_worker=1,
                                           processes=True, dashboard_address=None)
        try:
            return DaskExecutor(distributed.Client(cluster), cluster=cluster, spec=spec)
        except BaseException:
            cluster.close()
            raise
    try:
        client = distributed.Client(spec.address, timeout="20s")
    except OSError as exc:
        raise ConnectionError(f"executor {spec.text}: no Dask scheduler answered at {spec.address} ({exc}); "
                              "start one (dask scheduler) or check the address") from None
    return DaskExecutor(client, spec=spec)
