"""Renamed keyword arguments: the canonical name works, the former one still does for a while, with a warning.

The library names a concept one way everywhere (``function_name``, ``memory_mb``, ``arch``, ``region``,
``account_id``). Where a public function's keyword had another name, :func:`renamed` keeps the old spelling
working::

    @renamed(function_name="name")
    def init_estimate(snapshot, function_name, *, account_id=None, region=None): ...

    init_estimate(snap, name="orders-api")   # works, with a DeprecationWarning naming 'name' and 'function_name'

Positional calls are unaffected. On a class (a dataclass), the constructor accepts the old keyword and the old
attribute reads the new one, both with the same warning. :data:`RENAMED` lists every rename, for the test that
keeps names canonical; :func:`keywords` moves former names in keywords handed on by name.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T", bound=Callable[..., Any])

#: ``"module.qualname" -> {new: old}`` for every function or class wrapped by :func:`renamed`.
RENAMED: dict[str, dict[str, str]] = {}


def _warn(where: str, old: str, new: str, stacklevel: int) -> None:
    warnings.warn(f"{where}: the keyword {old!r} is deprecated, use {new!r}", DeprecationWarning,
                  stacklevel=stacklevel + 1)


def _moved(where: str, renames: dict[str, str], kwargs: dict[str, Any], depth: int = 3) -> dict[str, Any]:
    for new, old in renames.items():
        if old in kwargs:
            if new in kwargs:
                raise TypeError(f"{where}() got both {old!r} (deprecated) and {new!r}; pass {new!r} only")
            _warn(f"{where}()", old, new, depth)
            kwargs[new] = kwargs.pop(old)
    return kwargs


def _old_attribute(cls: type, old: str, new: str) -> property:
    def get(self):
        _warn(f"{cls.__name__}.{old}", old, new, 2)
        return getattr(self, new)
    return property(get, doc=f"Deprecated: use ``{new}``.")


def keywords(target: Callable[..., Any], kwargs: dict[str, Any], *, stacklevel: int = 2) -> dict[str, Any]:
    """``kwargs`` meant for ``target`` (a function wrapped by :func:`renamed`) with former names moved to the new
    ones, with the same warning; for code that hands keywords on by name (an explorer's ``set``). ``stacklevel``
    as for :func:`warnings.warn`, counted from the caller of this function."""
    renames = RENAMED.get(f"{target.__module__}.{target.__qualname__}", {})
    return _moved(target.__qualname__, renames, dict(kwargs), depth=stacklevel + 2)


def renamed(**new_from_old: str) -> Callable[[T], T]:
    """Decorator: each ``new=old`` pair lets callers still pass ``old=...`` for the parameter ``new``, with a
    :class:`DeprecationWarning` that names both. Passing both is a ``TypeError``."""
    def wrap(target: T) -> T:
        params = inspect.signature(target).parameters
        missing = sorted(set(new_from_old) - set(params))
        if missing:
            raise TypeError(f"renamed: {target.__qualname__} has no parameter(s) {missing}")
        RENAMED[f"{target.__module__}.{target.__qualname__}"] = dict(new_from_old)
        if isinstance(target, type):
            init = target.__init__

            @functools.wraps(init)
            def __init__(self, *args, **kwargs):
                init(self, *args, **_moved(target.__name__, new_from_old, kwargs))

            target.__init__ = __init__
            for new, old in new_from_old.items():
                if not hasattr(target, old):
                    setattr(target, old, _old_attribute(target, old, new))
            return target

        @functools.wraps(target)
        def call(*args, **kwargs):
            return target(*args, **_moved(target.__qualname__, new_from_old, kwargs))

        return call  # type: ignore[return-value]
    return wrap
