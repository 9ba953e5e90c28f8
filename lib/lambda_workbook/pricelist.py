"""Refresh a price snapshot from the AWS Price List API (``pricing:GetProducts``).

Which items to ask for comes from a price snapshot: every item carrying a ``pricelist`` mapping such as
``{"service": "AmazonS3", "usagetype": "Requests-Tier2"}`` names the service code and the product attributes
that identify its price. The newest snapshot of the region being refreshed is used, completed with the items of
the us-east-1 snapshot it lacks; from us-east-1 only the *list of items and mappings* is borrowed, never a price.

Rules kept by :func:`fetch_items` and :func:`refresh`:

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

from tqdm.auto import tqdm

from . import atomicfile, datafiles, prices
from .prices import check_region

TEMPLATE_REGION = "us-east-1"
MAX_RESULTS = 100
RETRY_ATTEMPTS = 6
# Price List endpoints (botocore's endpoints.json lists only these three); the key is a region's first part.
_NEAREST_ENDPOINT = {"eu": "eu-central-1", "ap": "ap-south-1"}
_DEFAULT_ENDPOINT = "us-east-1"
# Keys of an item that hold prices or where they came from; everything else (unit, note, pricelist,
# metering_kb, ...) describes the item and is kept when its price is replaced.
_PRICE_KEYS = frozenset({"price", "tiers", "price_range", "quantity", "free_quantity", "source", "checked", "refreshed",
                         "sku", "usagetype", "publicationDate", "unit_api"})
# Outside us-east-1 a usagetype reads e.g. "USE2-Requests-Tier2": an upper-case code, a dash, the plain name.
_REGION_PREFIX = re.compile(r"^[A-Z0-9]+-(?P<name>.+)$")
# Data sizes in GB, to restate a price per API size unit as a price per the book's size unit.
_SIZE_GB = {"mb": 1 / 1024, "megabytes": 1 / 1024, "gb": 1.0, "gigabytes": 1.0, "tb": 1024.0, "terabytes": 1024.0}
# Mapping keys that steer the query rather than name a product attribute.
_REGION_ATTRIBUTE = "region_attribute"
_QUERY_KEYS = frozenset({"service", _REGION_ATTRIBUTE})


def pricing_endpoint(region: str) -> str:
    """The Price List API endpoint nearest to ``region``: eu-central-1 for eu-*, ap-south-1 for ap-*, else us-east-1.

    Every endpoint answers for every region; the choice only shortens the round trip.
    """
    return _NEAREST_ENDPOINT.get(check_region(region).split("-")[0], _DEFAULT_ENDPOINT)


def make_client(region: str, *, session=None):
    """A boto3 ``pricing`` client on :func:`pricing_endpoint`, retrying throttles adaptively a bounded number of times."""
    from botocore.config import Config

    if session is None:
        import boto3

        session = boto3.Session()
    config = Config(retries={"mode": "adaptive", "max_attempts": RETRY_ATTEMPTS}, connect_timeout=10, read_timeout=60)
    return session.client("pricing", region_name=pricing_endpoint(region), config=config)


def _day(today: Any) -> str:
    if today is None:
        return dt.datetime.now(dt.UTC).date().isoformat()
    if isinstance(today, dt.datetime):
        return today.date().isoformat()
    if isinstance(today, dt.date):
        return today.isoformat()
    if isinstance(today, str) and prices._DATE.match(today):
        try:
            return dt.date.fromisoformat(today).isoformat()
        except ValueError:
            pass
    raise ValueError(f"today must be a date or a 'YYYY-MM-DD' string, got {today!r}")


def _newest_snapshot(region: str, roots: list[Path]) -> Path | None:
    """The newest snapshot of ``region`` in the first of ``roots`` that holds one."""
    for root in roots:
        snaps = prices._snapshots(root, region)
        if snaps:
            return snaps[-1]
    return None


def _roots(root: str | Path | None) -> list[Path]:
    """Folders searched for earlier snapshots: the one being written (if given), then the bundled one."""
    bundled = datafiles.prices_dir()
    if root is None or Path(root).resolve() == bundled.resolve():
        return [bundled]
    return [Path(root), bundled]


def _label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _region_attribute(mapping: dict) -> str:
    """The product attribute that holds a mapped item's region (``regionCode`` unless the mapping says)."""
    return mapping.get(_REGION_ATTRIBUTE, "regionCode")


def _get_products(client, service: str, region: str, group: str | None,
                  region_attribute: str = "regionCode") -> list[dict]:
    """Every product of one query, following NextToken; each PriceList entry is a JSON string."""
    filters = [{"Type": "TERM_MATCH", "Field": region_attribute, "Value": region}]
    if group is not None:
        filters.append({"Type": "TERM_MATCH", "Field": "group", "Value": group})
    products, token, seen = [], None, set()
    while True:
        args = {"ServiceCode": service, "Filters": filters, "FormatVersion": "aws_v1", "MaxResults": MAX_RESULTS}
        if token:
            args["NextToken"] = token
        page = client.get_products(**args)
        products.extend(json.loads(p) if isinstance(p, str) else p for p in page.get("PriceList", []))
        token = page.get("NextToken")
        if not token:
            return products
        if token in seen:
            raise RuntimeError(f"the Price List API repeated NextToken {token!r} for {service}; stopping")
        seen.add(token)


def _usagetype_matches(actual: str, wanted: str) -> bool:
    if actual == wanted:
        return True
    m = _REGION_PREFIX.match(actual)
    return bool(m) and m.group("name") == wanted


def _matches(attrs: dict, mapping: dict, region: str) -> bool:
    """Whether a product's attributes belong to ``region``, are not a free-tier row, and fit the mapping."""
    usagetype = attrs.get("usagetype", "")
    if (attrs.get("location") == "Any" or usagetype.startswith("Global-")
            or attrs.get(_region_attribute(mapping)) != region):
        return False
    for key, wanted in mapping.items():
        if key in _QUERY_KEYS:
            continue
        if key == "usagetype":
            if not _usagetype_matches(usagetype, wanted):
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


def _pick(products: list[dict], mapping: dict, region: str, book_unit: str) -> tuple[dict | None, str]:
    """The refreshed price fields for one item, or None and the reason it could not be refreshed."""
    rows = [p for p in products if _matches(p.get("product", {}).get("attributes", {}), mapping, region)]
    wanted = ", ".join(f"{k}={v}" for k, v in mapping.items() if k != _REGION_ATTRIBUTE)
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


def _read_items(path: Path) -> dict[str, dict]:
    with open(path, encoding="utf-8") as fh:
        return prices.parse_book(json.load(fh), path).items


def _check_mapping(item_id: str, mapping: Any) -> dict:
    if not (isinstance(mapping, dict) and isinstance(mapping.get("service"), str)
            and all(isinstance(v, str) for v in mapping.values())):
        raise ValueError(f"price item {item_id!r} has a bad pricelist mapping {mapping!r}: expected an object with "
                         "a 'service' code and string attribute values, e.g. {'service': 'AmazonS3', "
                         "'usagetype': 'Requests-Tier2'}")
    return mapping


def fetch_items(region: str, *, client=None, session=None, progress: bool = True,
                root: str | Path | None = None, today: Any = None) -> tuple[dict, dict]:
    """Query the Price List API for every mapped item of ``region`` and return ``(items, report)``.

    The items asked for are those of the region's newest snapshot plus any item of the newest us-east-1
    snapshot it lacks (for a new region, all of them). ``root`` is a prices folder searched for snapshots before
    the bundled one. ``items`` are ready for a snapshot document; ``report`` lists what was ``refreshed``,
    ``carried`` over (from the same region's snapshot only) or ``missing``, with a reason per item not refreshed.
    """
    region = check_region(region)
    day = _day(today)
    roots = _roots(root)
    previous = _newest_snapshot(region, roots)
    template = _newest_snapshot(TEMPLATE_REGION, roots)
    if previous is None and template is None:
        raise prices.PricesNotFound(f"no {region} or {TEMPLATE_REGION} price snapshot under "
                                    f"{', '.join(map(str, roots))} to tell which items to fetch")
    own = _read_items(previous) if previous else {}
    # The template adds items the region's own snapshot lacks (only their descriptions and mappings are used).
    base = {**(_read_items(template) if template and template != previous else {}), **own}
    if client is None:
        client = make_client(region, session=session)

    items: dict[str, dict] = {}
    reasons: dict[str, str] = {}
    queries: dict[tuple[str, str | None, str], list[dict]] = {}
    for item_id in tqdm(sorted(base), desc=f"Price List {region}", unit="item", disable=not progress):
        old = base[item_id]
        fresh, why = None, "no pricelist mapping"
        if "pricelist" in old:
            mapping = _check_mapping(item_id, old["pricelist"])
            key = (mapping["service"], mapping.get("group"), _region_attribute(mapping))
            if key not in queries:  # items of one service without a group share one query
                queries[key] = _get_products(client, key[0], region, key[1], key[2])
            fresh, why = _pick(queries[key], mapping, region, str(old.get("unit", "")))
        if fresh is not None:
            described = {k: v for k, v in old.items() if k not in _PRICE_KEYS}
            items[item_id] = {**described, **fresh, "source": f"AWS Price List API get_products {day}", "refreshed": True}
        else:
            reasons[item_id] = why
            if item_id in own:  # carried over only from the same region's snapshot
                items[item_id] = {**old, "refreshed": False}

    report = {
        "region": region,
        "date": day,
        "endpoint": getattr(getattr(client, "meta", None), "region_name", None),
        "queries": len(queries),
        "previous": _label(previous) if previous else None,
        "template": _label(template) if template else None,
        "refreshed": sorted(k for k, v in items.items() if v["refreshed"]),
        "carried": sorted(k for k, v in items.items() if not v["refreshed"]),
        "missing": sorted(k for k in base if k not in items),
        "reasons": dict(sorted(reasons.items())),
    }
    return items, report


def refresh(region: str, *, out_dir: str | Path | None = None, client=None, session=None, today: Any = None,
            progress: bool = True, profile: str | None = None) -> Path:
    """Fetch ``region``'s prices and write ``<out_dir>/<region>/<today>.json``; return its path.

    Credentials: ``client``, else ``session``, else a session for ``profile`` (the default chain when None).
    ``out_dir`` defaults to the bundled prices folder. The document is checked with :func:`prices.parse_book`
    before it is written, and nothing is written when no item could be refreshed or the fetch fails.
    """
    from .sources import errors  # AWS failures leave as one-line errors.AwsError

    region = check_region(region)
    day = _day(today)
    out = Path(out_dir) if out_dir is not None else datafiles.prices_dir()
    with errors.translating(profile=profile, region=pricing_endpoint(region), service="pricing",
                            offline="the bundled prices need none: lambda-workbook prices show"):
        if session is None and client is None and profile:
            import boto3

            session = boto3.Session(profile_name=profile)
        items, report = fetch_items(region, client=client, session=session, progress=progress, root=out, today=day)
    if not report["refreshed"]:
        detail = "; ".join(f"{k}: {v}" for k, v in list(report["reasons"].items())[:5])
        raise RuntimeError(f"the AWS Price List API gave no usable price for any {region} item, so nothing was "
                           f"written ({detail})")
    carried = (f" {len(report['carried'])} items marked refreshed: false are carried over from "
               f"{report['previous']} with their original sources." if report["carried"] else "")
    doc = {
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
    path = out / region / f"{day}.json"
    prices.parse_book(doc, path)
    atomicfile.write_text(path, json.dumps(doc, indent=1) + "\n")
    prices.clear_cache()
    return path


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
