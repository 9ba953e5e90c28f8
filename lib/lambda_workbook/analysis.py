"""The snapshot's analysis, computed once: a per-snapshot memo and the bundle the review pack hands its notebooks.

The costly whole-snapshot computations (:func:`lambda_workbook.costs.function_costs`,
:func:`lambda_workbook.coldstarts.analyse`, :func:`lambda_workbook.memory.recommend_all`,
:func:`lambda_workbook.triggers.findings`) are pure functions of a snapshot and a few plain arguments. Decorated
with :func:`per_snapshot`, each result is kept per snapshot object (keyed by ``id()``, dropped when the snapshot
is garbage-collected) and per argument values, so the review engine, the pack's planning and its index page share
one computation instead of repeating it. Every hit returns a fresh copy (results are stored pickled), so a
caller that changes what it got cannot change what the next caller gets. A ``pricing=`` context is keyed by the
books it holds for the snapshot's regions (``None`` by the books the function would load), so the review's
context and a notebook's default are one key. Other arguments that are not plain values (a price book) bypass
the memo.

:func:`save` writes a bundle: the snapshot, the review's findings and every memo entry of that snapshot, pickled
into the run folder. A notebook given ``analysis_path`` loads it with :func:`load` (or :func:`snapshot`), and its
own calls of the decorated functions with the same arguments are hits: the page shows the numbers the pack
computed, without computing them again. An empty ``analysis_path`` computes everything as before, so the
notebooks still run on their own. A bundle is a pickle: load only bundles the workbook wrote itself. Beside the
bundle, a pack run keeps a ``shared`` folder: what one notebook computes with the bundle's snapshot (a keep-alive
scenario table, say) is stored there, and the next notebook asking the same reads it (one that asks while it is
being computed waits for it). Arguments that are tables are keyed by a digest of their content.

:func:`prefetch` computes some of these calls ahead, one of them in a second process, so that the review engine's
two biggest parts run on two cores at once.

``LAMBDA_WORKBOOK_CACHE=0`` (read at each call) turns the memo off, for benchmarks and for debugging.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import os
import pickle
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .params import ParameterError

BUNDLE_VERSION = 1
BUNDLE_FILE = "analysis.pickle"
#: beside a bundle: the folder through which the notebooks of one run share what they compute
SHARED_DIR = "shared"
_PLAIN = (str, int, float, bool, type(None))

#: id(snapshot) -> {(function, arguments): pickled result}
_MEMO: dict[int, dict[tuple, bytes]] = {}
#: id(snapshot) -> the folder its entries are shared through by the notebooks of one pack run
_SHARED: dict[int, _Shared] = {}
#: how long a notebook waits for another one that is computing the same entry, in seconds
WAIT_S = 60.0


class _Shared:
    """Memo entries shared by the processes of one run through files: ``<key digest>.pickle``, written
    atomically by the process that claimed the key (``.lock``, created exclusively); the others wait for it."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _file(self, key: tuple, suffix: str) -> Path:
        import hashlib

        return self.folder / (hashlib.sha256(repr(key).encode()).hexdigest()[:40] + suffix)

    def get(self, key: tuple) -> bytes | None:
        import time

        file, lock = self._file(key, ".pickle"), self._file(key, ".lock")
        deadline = time.monotonic() + WAIT_S
        while not file.exists() and lock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)   # another notebook is computing it
        try:
            return file.read_bytes()
        except OSError:
            return None

    def claim(self, key: tuple) -> bool:
        try:
            os.close(os.open(self._file(key, ".lock"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return True
        except OSError:
            return False

    def put(self, key: tuple, data: bytes) -> None:
        from . import atomicfile

        atomicfile.write_bytes(self._file(key, ".pickle"), data)

    def release(self, key: tuple) -> None:
        with contextlib.suppress(OSError):
            self._file(key, ".lock").unlink()
#: how often each memoised function ran and how often it was a hit (benchmarks, tests)
STATS: dict[str, list[int]] = {}


class BundleError(ParameterError):
    """An analysis bundle that cannot be used (missing, not a bundle, another version): the notebook's
    ``analysis_path`` parameter is wrong, so it stops with this one line."""


def enabled() -> bool:
    return os.environ.get("LAMBDA_WORKBOOK_CACHE", "1").strip().lower() not in ("0", "off", "false", "no")


def _plain(value: Any) -> Any:
    """A hashable stand-in for an argument value, or raise TypeError when it has none we trust."""
    if isinstance(value, _PLAIN):
        return (type(value).__name__, value)
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_plain(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), _plain(v)) for k, v in value.items())))
    if type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pandas"):
        return ("DataFrame", _digest(value))
    raise TypeError(type(value).__name__)


def _digest(df) -> str:
    """A table's content as a digest: values (with the index), column names, dtypes and attrs."""
    import hashlib

    import pandas as pd

    h = hashlib.sha256(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    h.update(repr((list(map(str, df.columns)), list(map(str, df.dtypes)), sorted(df.attrs.items(), key=str))).encode())
    return h.hexdigest()


def _entries(snapshot: Any) -> dict[tuple, bytes]:
    key = id(snapshot)
    if key not in _MEMO:
        _MEMO[key] = {}
        weakref.finalize(snapshot, _forget, key)
    return _MEMO[key]


def _forget(key: int) -> None:
    _MEMO.pop(key, None)
    _SHARED.pop(key, None)


def _keyword_defaults(fn: Callable) -> dict[str, Any]:
    return {k: p.default for k, p in inspect.signature(fn).parameters.items()
            if p.kind is p.KEYWORD_ONLY and p.default is not p.empty}


def _recommend_all_key(arguments: dict[str, Any]) -> dict[str, Any]:
    """``recommend_all(**kwargs)`` hands ``kwargs`` to ``recommend_for_function`` (and what that does not take to
    ``recommend``): a keyword left out is that function's default, so both spellings are one key; ``progress``
    only draws a bar; ``pricing`` is keyed by :func:`_pricing_key`."""
    recommend = importlib.import_module(f"{__package__}.memory.recommend").recommend
    for_function = importlib.import_module(f"{__package__}.memory.snapshot").recommend_for_function
    defaults = {**_keyword_defaults(recommend), **_keyword_defaults(for_function)}
    return {**defaults, **arguments.get("kwargs", {}), "pricing": arguments.get("pricing")}


def _analyse_key(arguments: dict[str, Any]) -> dict[str, Any]:
    """``keep_alive_min=None`` is the default scenario by name (see :func:`lambda_workbook.keepalive.keep_alive`)."""
    from .keepalive import DEFAULT_SCENARIO

    if arguments.get("keep_alive_min") is None:
        arguments = {**arguments, "keep_alive_min": DEFAULT_SCENARIO}
    return arguments


def _pricing_key(snapshot: Any, pricing: Any) -> tuple:
    """A pricing context by what it prices the snapshot's regions with (:meth:`lambda_workbook.prices.Pricing.key`);
    ``None`` is the context the function builds itself (:func:`lambda_workbook.prices.for_snapshot`), so the
    review's explicit context and a notebook's default one are the same key."""
    from . import prices

    return prices.for_snapshot(snapshot, pricing=pricing).key(snapshot.regions)


#: Per memoised function: arguments -> the same call spelled one way (equal keys must mean equal results).
CANONICAL: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "lambda_workbook.memory.snapshot.recommend_all": _recommend_all_key,
    "lambda_workbook.coldstarts.analyse": _analyse_key,
}


def per_snapshot(fn: Callable) -> Callable:
    """Memoise ``fn(snapshot, ...)`` per snapshot object and plain argument values (see the module's text)."""
    sig = inspect.signature(fn)
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(snapshot, *args, **kwargs):
        if not enabled():
            return fn(snapshot, *args, **kwargs)
        try:
            bound = sig.bind(snapshot, *args, **kwargs)
            bound.apply_defaults()
            arguments = dict(list(bound.arguments.items())[1:])
            if name in CANONICAL:
                arguments = CANONICAL[name](arguments)
            if "pricing" in arguments:
                arguments["pricing"] = _pricing_key(snapshot, arguments["pricing"])
            key = (name, tuple((k, _plain(v)) for k, v in sorted(arguments.items())))
            memo = _entries(snapshot)
        except Exception:   # an argument that is not a plain value (or a call that will fail): no memo
            return fn(snapshot, *args, **kwargs)
        stats = STATS.setdefault(name, [0, 0])
        if key not in memo and id(snapshot) in _SHARED:
            found = _SHARED[id(snapshot)].get(key)
            if found is not None:
                memo[key] = found
        if key in memo:
            stats[1] += 1
            return pickle.loads(memo[key])
        stats[0] += 1
        shared = _SHARED.get(id(snapshot))
        owner = shared.claim(key) if shared is not None else False
        try:
            result = fn(snapshot, *args, **kwargs)
            with contextlib.suppress(Exception):   # an unpicklable result is simply not kept
                memo[key] = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
                if owner:
                    shared.put(key, memo[key])
        finally:
            if owner:
                shared.release(key)
        return result

    wrapper.uncached = fn
    return wrapper


def clear(snapshot: Any = None) -> None:
    """Forget the memo of one snapshot (or of all)."""
    if snapshot is None:
        _MEMO.clear()
        _SHARED.clear()
    else:
        _forget(id(snapshot))


def entries(snapshot: Any) -> dict[tuple, bytes]:
    """The memo entries of a snapshot (keys: function name and argument values; values: pickled results)."""
    return dict(_MEMO.get(id(snapshot), {}))


def prime(snapshot: Any, memo: dict[tuple, bytes]) -> None:
    """Add memo entries (from :func:`entries` of an equal snapshot, e.g. in another process) to ``snapshot``'s."""
    _entries(snapshot).update(memo)


def save(path: str | os.PathLike, snapshot: Any, *, findings: Any = None, extra: dict[str, Any] | None = None) -> Path:
    """Write a bundle: ``snapshot`` (without its local path), its memo entries, ``findings`` and ``extra``."""
    import dataclasses

    from . import atomicfile

    bundled = dataclasses.replace(snapshot, path=None) if dataclasses.is_dataclass(snapshot) else snapshot
    doc = {"version": BUNDLE_VERSION, "snapshot": bundled, "memo": entries(snapshot), "findings": findings,
           "extra": dict(extra or {})}
    return atomicfile.write_bytes(path, pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL))


def load(path: str | os.PathLike) -> dict[str, Any]:
    """A bundle written by :func:`save`: ``snapshot`` (its memo primed), ``findings``, ``extra``."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise BundleError(f"analysis bundle {str(file)!r} does not exist; set analysis_path = \"\" to compute "
                          "the analysis in the notebook") from None
    try:
        doc = pickle.loads(raw)
    except Exception as exc:
        raise BundleError(f"analysis bundle {str(file)!r} is not readable ({type(exc).__name__}); set "
                          "analysis_path = \"\" to compute the analysis in the notebook") from None
    if not isinstance(doc, dict) or doc.get("version") != BUNDLE_VERSION:
        raise BundleError(f"analysis bundle {str(file)!r} was written by another version of the workbook; set "
                          "analysis_path = \"\" to compute the analysis in the notebook")
    snap = doc["snapshot"]
    prime(snap, doc["memo"])
    shared = file.parent / SHARED_DIR
    if shared.is_dir():   # a pack run: what one notebook computes, the others reuse
        _SHARED[id(snap)] = _Shared(shared)
    return doc


def snapshot(p: Any, *, regions: list[str] | None = None, accounts: list[str] | None = None):
    """The snapshot a notebook works on, from its checked parameters ``p``: the bundle's when
    ``p.analysis_path`` is set, else loaded from ``p.source``; restricted to ``p.regions`` (and ``accounts``).
    A restriction that keeps every function returns the snapshot itself, so the bundle's analysis still applies."""
    from . import sources

    path = getattr(p, "analysis_path", "")
    if path:
        snap = load(path)["snapshot"]
    else:
        snap = sources.load(p.source, snapshot_path=p.snapshot_path, profiles=p.profiles, regions=p.regions,
                            lookback_days=p.lookback_days)
    return restrict(snap, regions=getattr(p, "regions", None) if regions is None else regions, accounts=accounts)


def restrict(snap: Any, *, regions: list[str] | None = None, accounts: list[str] | None = None):
    """``snap.in_regions(regions).in_accounts(accounts)``, or ``snap`` itself when that keeps every function."""
    if regions and set(snap.regions) <= set(regions) and set(regions) <= set(snap.regions):
        regions = None
    if accounts and set(snap.accounts) <= set(accounts) and set(accounts) <= set(snap.accounts):
        accounts = None
    return snap.in_regions(regions).in_accounts(accounts)


def _compute(snapshot: Any, calls: list[tuple[str, str, dict[str, Any]]]) -> dict[tuple, bytes]:
    """Run memoised calls on ``snapshot`` (in a worker process); returns the snapshot's memo entries."""
    for module, name, kwargs in calls:
        getattr(importlib.import_module(module), name)(snapshot, **kwargs)
    return entries(snapshot)


def prefetch(snapshot: Any, local: list[tuple[str, str, dict[str, Any]]],
             remote: list[tuple[str, str, dict[str, Any]]] = ()) -> dict[str, float]:
    """Compute memoised calls ``(module, function, keywords)`` for ``snapshot`` ahead of their callers: ``remote``
    in a second process while this one runs ``local``; afterwards each is a hit here. A call that fails is left
    to its caller (which then fails as it would have, with its own error). Returns seconds per part."""
    import time

    seconds: dict[str, float] = {}
    if not enabled():
        return seconds
    pool = future = None
    if remote:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        future = pool.submit(_compute, snapshot, list(remote))
    try:
        for module, name, kwargs in local:
            start = time.perf_counter()
            with contextlib.suppress(Exception):
                getattr(importlib.import_module(module), name)(snapshot, **kwargs)
            seconds[name] = time.perf_counter() - start
        if future is not None:
            start = time.perf_counter()
            with contextlib.suppress(Exception):
                got = future.result()
                mine = _entries(snapshot)
                mine.update({k: v for k, v in got.items() if k not in mine})
            seconds["waited for the second process"] = time.perf_counter() - start
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    return seconds
