"""Price List API answers (``pricing:GetProducts``) turned into price snapshot items: the pure part of a refresh.

The calls themselves, and writing the new snapshot, are in :mod:`lambda_workbook.sources.pricelist_fetch`
(``refresh``, ``fetch_items`` and ``make_client`` stay reachable from here under their old names).

Which items to ask for comes from a price snapshot: every item carrying a ``pricelist`` mapping such as
``{"service": "AmazonS3", "usagetype": "Requests-Tier2"}`` names the service code and the product attributes
that identify its price. The newest snapshot of the region being refreshed is used, completed with the items of
the us-east-1 snapshot it lacks; from us-east-1 only the *list of items and mappings* is borrowed, never a price.

Rules kept by ``fetch_items`` and ``refresh``:

* each query is filtered by the product's region on the server (and ``group`` when the mapping has one); the
  region attribute is ``regionCode`` unless the mapping names another in ``region_attribute`` (data transfer
  products carry ``fromRegionCode``, e.g. ``{"service": "AWSDataTransfer", "region_attribute": "fromRegionCode",
  "usagetype": "DataTransfer-Out-Bytes", "transferType": "AWS Outbound", "toLocation": "External"}``); the other
  attributes are compared here, a ``usagetype`` matching exactly or after a region prefix (``USE2-Requests-Tier2``);
* free-tier rows (``location == "Any"``, ``Global-*`` usagetypes) are dropped;
* a product's price dimensions become ``price`` (one dimension) or ``tiers`` (several, ordered by ``beginRange``,
  contiguous and ending at ``Inf``), so volume tiers such as API Gateway's four request tiers or the data transfer
  tiers at 10, 50 and 150 TB are replaced as a whole;
* items that cannot be refreshed are carried over from the *same region's* previous snapshot, marked
  ``"refreshed": false``; items that snapshot lacks (or all, without one) are left out and listed in the
  report's ``missing``.

The snapshot is written atomically and its ``refresh`` key keeps the report (see :func:`format_report`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from . import datafiles, prices
from .prices import check_region

TEMPLATE_REGION = "us-east-1"
# Price List endpoints (botocore's endpoints.json lists only these three); the key is a region's first part.
_NEAREST_ENDPOINT = {"eu": "eu-central-1", "ap": "ap-south-1"}
_DEFAULT_ENDPOINT = "us-east-1"
# Keys of an item that hold prices or where they came from; everything else (unit, note, pricelist,
# metering_kb, ...) describes the item and is kept when its price is replaced.
PRICE_KEYS = frozenset({"price", "tiers", "price_range", "quantity", "free_quantity", "source", "checked", "refreshed",
                         "sku", "usagetype", "publicationDate", "unit_api"})
# Outside us-east-1 a usagetype reads e.g. "USE2-Requests-Tier2": an upper-case code, a dash, the plain name.
_REGION_PREFIX = re.compile(r"^[A-Z0-9]+-(?P<name>.+)$")
# Data sizes in GB, to restate a price per API size unit as a price per the book's size unit.
_SIZE_GB = {"mb": 1 / 1024, "megabytes": 1 / 1024, "gb": 1.0, "gigabytes": 1.0, "tb": 1024.0, "terabytes": 1024.0}
# Mapping keys that steer the query rather than name a product attribute.
REGION_ATTRIBUTE_KEY = "region_attribute"
_QUERY_KEYS = frozenset({"service", REGION_ATTRIBUTE_KEY})


def pricing_endpoint(region: str) -> str:
    """The Price List API endpoint nearest to ``region``: eu-central-1 for eu-*, ap-south-1 for ap-*, else us-east-1.

    Every endpoint answers for every region; the choice only shortens the round trip.
    """
    return _NEAREST_ENDPOINT.get(check_region(region).split("-")[0], _DEFAULT_ENDPOINT)


def check_day(today: Any) -> str:
    if today is None:
        return dt.datetime.now(dt.UTC).date().isoformat()
    if isinstance(today, dt.datetime):
        return today.date().isoformat()
    if isinstance(today, dt.date):
        return today.isoformat()
    if isinstance(today, str) and prices.DATE.match(today):
        try:
            return dt.date.fromisoformat(today).isoformat()
        except ValueError:
            pass
    raise ValueError(f"today must be a date or a 'YYYY-MM-DD' string, got {today!r}")


def newest_snapshot(region: str, roots: list[Path]) -> Path | None:
    """The newest snapshot of ``region`` in the first of ``roots`` that holds one."""
    for root in roots:
        snaps = prices.snapshot_paths(root, region)
        if snaps:
            return snaps[-1]
    return None


def snapshot_roots(root: str | Path | None) -> list[Path]:
    """Folders searched for earlier snapshots: the one being written (if given), then the bundled one."""
    bundled = datafiles.prices_dir()
    if root is None or Path(root).resolve() == bundled.resolve():
        return [bundled]
    return [Path(root), bundled]


def snapshot_label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def region_attribute(mapping: dict) -> str:
    """The product attribute that holds a mapped item's region (``regionCode`` unless the mapping says)."""
    return mapping.get(REGION_ATTRIBUTE_KEY, "regionCode")


def usagetype_matches(actual: str, wanted: str) -> bool:
    if actual == wanted:
        return True
    m = _REGION_PREFIX.match(actual)
    return bool(m) and m.group("name") == wanted


def matches(attrs: dict, mapping: dict, region: str) -> bool:
    """Whether a product's attributes belong to ``region``, are not a free-tier row, and fit the mapping."""
    usagetype = attrs.get("usagetype", "")
    if (attrs.get("location") == "Any" or usagetype.startswith("Global-")
            or attrs.get(region_attribute(mapping)) != region):
        return False
    for key, wanted in mapping.items():
        if key in _QUERY_KEYS:
            continue
        if key == "usagetype":
            if not usagetype_matches(usagetype, wanted):
                return False
        elif attrs.get(key) != wanted:
            return False
    return True


def _size_factor(book_unit: str, api_unit: str) -> float:
    """How many book units one API unit is, when both are data sizes (GB vs TB, say); 1 otherwise."""
    book, api = _SIZE_GB.get(book_unit.strip().lower()), _SIZE_GB.get(api_unit.strip().lower())
    return api / book if book and api else 1.0


def _book_prices(product: dict, book_unit: str) -> dict:
    """Turn a product's on-demand price dimensions into the book's ``price`` or ``tiers`` plus ``unit_api``."""
    dims = [d for term in product.get("terms", {}).get("OnDemand", {}).values()
            for d in term.get("priceDimensions", {}).values()]
    if not dims:
        raise ValueError("the product has no on-demand price dimensions")
    units = sorted({d.get("unit", "") for d in dims})
    if len(units) > 1:
        raise ValueError(f"its price dimensions mix units {units}")
    factor = _size_factor(book_unit, units[0])
    out: dict[str, Any] = {"unit_api": units[0]}
    if len(dims) == 1:
        out["price"] = float(dims[0]["pricePerUnit"]["USD"]) / factor
        return out
    dims.sort(key=lambda d: float(d.get("beginRange", 0)))
    tiers, lower = [], 0.0
    for d in dims:
        if float(d.get("beginRange", 0)) != lower:
            raise ValueError(f"its tiers are not contiguous (a tier begins at {d.get('beginRange')}, expected {lower:g})")
        end = d.get("endRange", "Inf")
        lower = float("inf") if end == "Inf" else float(end)
        tiers.append({"upto": None if end == "Inf" else lower * factor,
                      "price": float(d["pricePerUnit"]["USD"]) / factor})
    if tiers[-1]["upto"] is not None:
        raise ValueError("its last tier does not reach endRange 'Inf'")
    out["tiers"] = tiers
    return out


def pick(products: list[dict], mapping: dict, region: str, book_unit: str) -> tuple[dict | None, str]:
    """The refreshed price fields for one item, or None and the reason it could not be refreshed."""
    rows = [p for p in products if matches(p.get("product", {}).get("attributes", {}), mapping, region)]
    wanted = ", ".join(f"{k}={v}" for k, v in mapping.items() if k != REGION_ATTRIBUTE_KEY)
    if not rows:
        return None, f"no {region} product matches {wanted}"
    skus = sorted({p["product"].get("sku", "?") for p in rows})
    if len(skus) > 1:
        return None, f"{len(skus)} {region} products match {wanted} ({', '.join(skus)}); refusing to guess"
    product = rows[0]
    try:
        fields = _book_prices(product, book_unit)
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"product {skus[0]} could not be read: {exc}"
    fields.update(sku=skus[0], usagetype=product["product"]["attributes"].get("usagetype"))
    if product.get("publicationDate"):
        fields["publicationDate"] = product["publicationDate"]
    return fields, ""


def read_items(path: Path) -> dict[str, dict]:
    with open(path, encoding="utf-8") as fh:
        return prices.parse_book(json.load(fh), path).items


def check_mapping(item_id: str, mapping: Any) -> dict:
    if not (isinstance(mapping, dict) and isinstance(mapping.get("service"), str)
            and all(isinstance(v, str) for v in mapping.values())):
        raise ValueError(f"price item {item_id!r} has a bad pricelist mapping {mapping!r}: expected an object with "
                         "a 'service' code and string attribute values, e.g. {'service': 'AmazonS3', "
                         "'usagetype': 'Requests-Tier2'}")
    return mapping


def format_report(report: dict | str | Path) -> str:
    """A short text summary of a refresh report, or of the report kept in a refreshed snapshot file."""
    if not isinstance(report, dict):
        with open(report, encoding="utf-8") as fh:
            report = json.load(fh).get("refresh") or {}
        if not report:
            return "this snapshot was not written by a Price List refresh"
    lines = [f"Price List refresh of {report['region']} on {report['date']} "
             f"({report['queries']} queries, endpoint {report.get('endpoint') or 'given client'}; "
             f"item list from {report['template']})",
             f"  refreshed: {len(report['refreshed'])}"]
    for key, title in (("carried", "carried over from the previous snapshot (refreshed: false)"),
                       ("missing", "missing (not in the new snapshot)")):
        if report[key]:
            lines.append(f"  {title}: {len(report[key])}")
            by_reason: dict[str, list[str]] = {}
            for item_id in report[key]:
                by_reason.setdefault(report["reasons"].get(item_id, "?"), []).append(item_id)
            lines += [f"    {reason}: {', '.join(ids)}" for reason, ids in by_reason.items()]
    return "\n".join(lines)


def priced_item(old: dict, fresh: dict, day: str) -> dict:
    """A snapshot item refreshed from the API: ``old``'s description with ``fresh``'s prices and today's source."""
    described = {k: v for k, v in old.items() if k not in PRICE_KEYS}
    return {**described, **fresh, "source": f"AWS Price List API get_products {day}", "refreshed": True}


def fetch_report(region: str, day: str, endpoint: str | None, queries: int, previous: Path | None,
                 template: Path | None, base: dict, items: dict, reasons: dict) -> dict:
    """The report of one fetch: what was ``refreshed``, ``carried`` over or ``missing``, and why."""
    return {
        "region": region,
        "date": day,
        "endpoint": endpoint,
        "queries": queries,
        "previous": snapshot_label(previous) if previous else None,
        "template": snapshot_label(template) if template else None,
        "refreshed": sorted(k for k, v in items.items() if v["refreshed"]),
        "carried": sorted(k for k, v in items.items() if not v["refreshed"]),
        "missing": sorted(k for k in base if k not in items),
        "reasons": dict(sorted(reasons.items())),
    }


def snapshot_document(region: str, day: str, items: dict, report: dict) -> dict:
    """The refreshed price snapshot document, refused when no item could be refreshed."""
    if not report["refreshed"]:
        detail = "; ".join(f"{k}: {v}" for k, v in list(report["reasons"].items())[:5])
        raise RuntimeError(f"the AWS Price List API gave no usable price for any {region} item, so nothing was "
                           f"written ({detail})")
    carried = (f" {len(report['carried'])} items marked refreshed: false are carried over from "
               f"{report['previous']} with their original sources." if report["carried"] else "")
    return {
        "schema": prices.SCHEMA,
        "region": region,
        "currency": "USD",
        "as_of": day,
        "compiled": day,
        "origin": "price-list-api",
        "source": (f"AWS Price List API get_products (FormatVersion aws_v1) queried {day} through the "
                   f"{report['endpoint'] or 'given'} endpoint; {len(report['refreshed'])} items refreshed.{carried}"
                   f" Refresh with: lambda-workbook prices refresh --region {region}"),
        "refresh": report,
        "items": items,
    }


# The earlier private names (tests use them).
_matches, _check_mapping = matches, check_mapping
# The calls and the file writing moved to sources.pricelist_fetch; these names are forwarded to it on first use.
_FETCH_NAMES = frozenset({"MAX_RESULTS", "RETRY_ATTEMPTS", "fetch_items", "get_products", "make_client", "refresh"})


def __getattr__(name: str):
    if name in _FETCH_NAMES:
        from .sources import pricelist_fetch

        return getattr(pricelist_fetch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
