"""The price book: dated, sourced price snapshots per region, read from ``data/prices/<region>/<date>.json``.

Prices are data. Models never hold a price constant; they ask a :class:`PriceBook` for an item by id
(``"lambda.duration.arm64"``), for its flat price, or for the cost of a quantity across its volume tiers.
Refresh a snapshot from the AWS Price List API with ``lambda-workbook prices refresh --region R``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import datafiles

SCHEMA = "lambda-workbook/prices/1"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# An AWS region code: two letters, an optional partition part (-gov, -iso, -isob, ...), a direction, a digit.
# The one definition every region check uses (price books, notebook parameters, scans, trigger workloads).
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_DATE, _REGION = DATE, REGION  # the earlier private names


class PricesNotFound(LookupError):
    """No price snapshot exists for the requested region."""


def check_region(region: Any) -> str:
    """Return ``region`` if it is a well-formed region name, else raise a ValueError naming it."""
    if not isinstance(region, str) or not REGION.match(region):
        raise ValueError(f"region must be an AWS region name such as 'us-east-1', 'eu-west-1' or "
                         f"'us-gov-west-1' (lower case, ending in a digit), got {region!r}")
    return region


@dataclass(frozen=True)
class PriceBook:
    """One region's prices at one date. Items are plain dicts as stored in the snapshot file."""

    region: str
    as_of: str
    items: dict[str, dict[str, Any]]
    source: str = ""
    path: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def item(self, item_id: str) -> dict[str, Any]:
        try:
            return self.items[item_id]
        except KeyError:
            close = [k for k in self.items if k.split(".")[0] == item_id.split(".")[0]]
            hint = f" Items of that service: {', '.join(sorted(close))}." if close else ""
            raise KeyError(f"price item {item_id!r} is not in the {self.region} price book ({self.as_of}).{hint}") from None

    def has(self, item_id: str) -> bool:
        return item_id in self.items

    def known(self, item_id: str) -> bool:
        """Whether an item's price is known: a ``null`` price is unknown (NaN from :meth:`price`), never $0."""
        it = self.item(item_id)
        if "tiers" in it:
            return all(t.get("price") is not None for t in it["tiers"])
        return it.get("price") is not None

    @property
    def references(self) -> dict[str, dict[str, str]]:
        """The public page (``title``, ``url``) behind each source key the items name, e.g. ``[SQS-CB]``."""
        return dict(self.meta.get("references", {}))

    def price(self, item_id: str) -> float:
        """The unit price of a flat item, or the first-tier price of a tiered one. NaN when unknown."""
        it = self.item(item_id)
        if "tiers" in it:
            return float(it["tiers"][0]["price"])
        if "price" in it:
            return float("nan") if it["price"] is None else float(it["price"])
        raise KeyError(f"price item {item_id!r} has no price (it holds {sorted(it)})")

    def quantity(self, item_id: str) -> float:
        """A non-price figure of an item, e.g. a free-tier allowance."""
        it = self.item(item_id)
        if "quantity" not in it:
            raise KeyError(f"price item {item_id!r} holds no quantity")
        return float(it["quantity"])

    def unit(self, item_id: str) -> str:
        return str(self.item(item_id).get("unit", ""))

    def tiers(self, item_id: str) -> list[tuple[float, float]]:
        """``[(upper_bound, price), ...]`` with ``inf`` for the last tier; a flat item is a single tier."""
        it = self.item(item_id)
        if "tiers" in it:
            return [(np.inf if t["upto"] is None else float(t["upto"]), float(t["price"])) for t in it["tiers"]]
        return [(np.inf, self.price(item_id))]

    def cost(self, item_id: str, quantity, *, already: float = 0.0):
        """Cost of ``quantity`` units of an item across its volume tiers.

        ``already`` is usage earlier in the same month (other functions of the account, say), which decides
        which tier the quantity starts in. Vectorised over ``quantity``; returns a float for a scalar.
        """
        q = np.asarray(quantity, dtype=float)
        if np.any(q < 0) or already < 0:
            raise ValueError(f"quantity must be >= 0 for {item_id!r}, got {quantity!r} (already={already!r})")
        start, end = already, already + q
        total = np.zeros_like(q)
        lower = 0.0
        for upper, price in self.tiers(item_id):
            overlap = np.clip(np.minimum(end, upper) - np.maximum(start, lower), 0.0, None)
            total = total + overlap * price
            lower = upper
        return float(total) if total.ndim == 0 else total

    def table(self) -> pd.DataFrame:
        """Every item as one row: id, unit, price (first tier), tiers, note, source."""
        rows = []
        for key, it in sorted(self.items.items()):
            price = it.get("price")
            if "tiers" in it:
                price = it["tiers"][0]["price"]
            rows.append({
                "item": key,
                "unit": it.get("unit", ""),
                "price_usd": price if price is not None else np.nan,
                "quantity": it.get("quantity", np.nan),
                "tiers": len(it.get("tiers", [])) or (1 if "price" in it else 0),
                "note": it.get("note", ""),
                "source": it.get("source", ""),
            })
        return pd.DataFrame(rows).set_index("item")


def snapshot_paths(root: Path, region: str) -> list[Path]:
    folder = root / region
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.json") if DATE.match(p.stem))


def available(root: Path | None = None) -> dict[str, list[str]]:
    """Regions with a snapshot, and the dates held for each."""
    root = Path(root) if root else datafiles.prices_dir()
    if not root.is_dir():
        return {}
    out = {}
    for d in sorted(root.iterdir()):
        dates = [p.stem for p in snapshot_paths(root, d.name)]
        if dates:
            out[d.name] = dates
    return out


def parse_book(doc: dict[str, Any], path: Path | None = None) -> PriceBook:
    """Check a snapshot document's shape and turn it into a :class:`PriceBook`."""
    where = str(path) if path else "price snapshot"
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"{where}: schema is {doc.get('schema')!r}, expected {SCHEMA!r}")
    for key in ("region", "as_of", "items"):
        if key not in doc:
            raise ValueError(f"{where}: missing key {key!r}")
    for item_id, it in doc["items"].items():
        if not isinstance(it, dict) or not ({"price", "tiers", "quantity", "price_range"} & set(it)):
            raise ValueError(f"{where}: item {item_id!r} has neither price, tiers, quantity nor price_range")
        for tier in it.get("tiers", []):
            if tier.get("price") is None or float(tier["price"]) < 0:
                raise ValueError(f"{where}: item {item_id!r} has a tier without a non-negative price: {tier}")
    meta = {k: v for k, v in doc.items() if k not in ("items",)}
    return PriceBook(region=doc["region"], as_of=doc["as_of"], items=doc["items"],
                     source=doc.get("source", ""), path=path, meta=meta)


@lru_cache(maxsize=32)
def _load_cached(region: str, as_of: str | None, root: str) -> PriceBook:
    root_path = Path(root)
    snaps = snapshot_paths(root_path, region)
    if not snaps:
        have = ", ".join(available(root_path)) or "none"
        raise PricesNotFound(
            f"no price snapshot for region {region!r} (bundled regions: {have}). Fetch one from the AWS Price "
            f"List API with: lambda-workbook prices refresh --region {region}")
    if as_of is not None:
        eligible = [p for p in snaps if p.stem <= as_of]
        if not eligible:
            raise PricesNotFound(
                f"no price snapshot for {region!r} dated on or before {as_of!r} (have: {', '.join(p.stem for p in snaps)})")
        snaps = eligible
    path = snaps[-1]
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    return parse_book(doc, path)


def load(region: str = "us-east-1", *, as_of: str | None = None, root: str | Path | None = None) -> PriceBook:
    """The newest price snapshot for ``region`` (or the newest on or before ``as_of``, YYYY-MM-DD).

    A region without a snapshot raises :class:`PricesNotFound` naming the refresh command: prices are never
    borrowed from another region.
    """
    check_region(region)
    if as_of is not None and not (isinstance(as_of, str) and DATE.match(as_of)):
        raise ValueError(f"as_of must be a date 'YYYY-MM-DD', got {as_of!r}")
    return _load_cached(region, as_of, str(Path(root) if root else datafiles.prices_dir()))


def clear_cache() -> None:
    _load_cached.cache_clear()


# The pricing context handed to the models (lambda_workbook.pricing), under this module's name too. Imported
# last: pricing.py reads PriceBook, load and PricesNotFound from here.
from .pricing import DEFAULT_REGION, Pricing, context, for_snapshot, resolve  # noqa: E402, F401
