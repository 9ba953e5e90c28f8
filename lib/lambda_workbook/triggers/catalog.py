"""The trigger catalog (``data/triggers/catalog.json``): every invocation source's semantics and meters,
checked on load so that a malformed entry is named with its key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import datafiles

CATALOG_SCHEMA = "lambda-workbook/triggers/1"
RULES = ("per_event", "per_attempt", "per_invocation", "per_call", "per_hour", "per_poll", "capacity", "gb_seconds")
ROLES = ("producer", "transport", "delivery", "fixed")


class CatalogError(ValueError):
    """The trigger catalog file is malformed; the message names the source and the key."""


@dataclass(frozen=True)
class Catalog:
    """The trigger catalog as loaded from ``data/triggers/catalog.json``."""

    doc: dict[str, Any]
    path: Path | None = None

    @property
    def sources(self) -> dict[str, dict[str, Any]]:
        return self.doc["sources"]

    @property
    def ids(self) -> list[str]:
        return list(self.sources)

    def source(self, source_id: str) -> dict[str, Any]:
        try:
            return self.sources[source_id]
        except KeyError:
            raise KeyError(f"unknown invocation source {source_id!r}; the catalog has {', '.join(self.ids)}") from None

    def lambda_limit(self, source_id: str) -> dict[str, Any]:
        kind = self.doc["invocation_kinds"][self.source(source_id)["invocation"]]
        return self.doc["lambda_limits"][kind["lambda_limit"]]

    def batching_ids(self) -> list[str]:
        return [sid for sid, s in self.sources.items() if s.get("batching")]


_REQUIRED = ("name", "short", "family", "invocation", "caller_waits", "attempts", "ordering", "retries",
             "on_failure", "scaling", "meters", "sources")


def parse_catalog(doc: dict[str, Any], path: Path | None = None) -> Catalog:
    """Check a catalog document's shape (names the source and key at fault) and wrap it."""
    where = str(path) if path else "trigger catalog"
    if doc.get("schema") != CATALOG_SCHEMA:
        raise CatalogError(f"{where}: schema is {doc.get('schema')!r}, expected {CATALOG_SCHEMA!r}")
    for key in ("lambda_limits", "invocation_kinds", "sources", "unknown_latency"):
        if key not in doc:
            raise CatalogError(f"{where}: missing key {key!r}")
    kinds = doc["invocation_kinds"]
    for sid, s in doc["sources"].items():
        missing = [k for k in _REQUIRED if k not in s]
        if missing:
            raise CatalogError(f"{where}: source {sid!r} lacks {missing}")
        if s["invocation"] not in kinds:
            raise CatalogError(f"{where}: source {sid!r} has invocation {s['invocation']!r}; allowed: {sorted(kinds)}")
        if kinds[s["invocation"]]["lambda_limit"] not in doc["lambda_limits"]:
            raise CatalogError(f"{where}: invocation kind {s['invocation']!r} names an unknown Lambda limit")
        for i, m in enumerate(s["meters"]):
            if m.get("rule") not in RULES:
                raise CatalogError(f"{where}: source {sid!r} meter {i} has rule {m.get('rule')!r}; allowed: {RULES}")
            if m.get("role") not in ROLES:
                raise CatalogError(f"{where}: source {sid!r} meter {i} has role {m.get('role')!r}; allowed: {ROLES}")
            if "item" not in m:
                raise CatalogError(f"{where}: source {sid!r} meter {i} names no price item")
            units = m.get("units", 1)
            if isinstance(units, str) and units not in s.get("assumptions", {}):
                raise CatalogError(f"{where}: source {sid!r} meter {i} takes its units from assumption {units!r}, "
                                   "which the source does not define")
            if m["rule"] == "per_call" and not s.get("batching", {}).get("per_call"):
                raise CatalogError(f"{where}: source {sid!r} meter {i} is per_call but batching.per_call is not set")
        b = s.get("batching")
        if b:
            for key in ("default_size", "max_size", "window_max_s", "poll_interval_s", "partitions"):
                if key not in b:
                    raise CatalogError(f"{where}: source {sid!r} batching lacks {key!r}")
            if b["partitions"] == "capacity" and "capacity" not in s:
                raise CatalogError(f"{where}: source {sid!r} sizes partitions by capacity but has no 'capacity' block")
    return Catalog(doc, path)


@lru_cache(maxsize=8)
def _load_catalog(path: str) -> Catalog:
    with open(path, encoding="utf-8") as fh:
        return parse_catalog(json.load(fh), Path(path))


def catalog_path() -> Path:
    return datafiles.data_dir() / "triggers" / "catalog.json"


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The bundled trigger catalog (or the one at ``path``)."""
    p = Path(path) if path else catalog_path()
    if not p.exists():
        raise FileNotFoundError(f"no trigger catalog at {p}")
    return _load_catalog(str(p))
