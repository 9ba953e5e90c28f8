"""Refresh a price snapshot from the AWS Price List API (``pricing:GetProducts``): the calls and the file written.

What to ask for, how an answer becomes a snapshot item and the report's shape are in
:mod:`lambda_workbook.pricelist` (pure functions); this module makes the ``pricing`` client, pages through
``GetProducts`` and writes ``<prices>/<region>/<day>.json`` atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .. import atomicfile, datafiles, prices
from ..pricelist import (
    TEMPLATE_REGION,
    check_day,
    check_mapping,
    fetch_report,
    newest_snapshot,
    pick,
    priced_item,
    pricing_endpoint,
    read_items,
    region_attribute,
    snapshot_document,
    snapshot_roots,
)
from ..prices import check_region
from . import errors

MAX_RESULTS = 100
RETRY_ATTEMPTS = 6


def make_client(region: str, *, session=None):
    """A boto3 ``pricing`` client on :func:`~lambda_workbook.pricelist.pricing_endpoint`, retrying throttles
    adaptively a bounded number of times."""
    from botocore.config import Config

    if session is None:
        import boto3

        session = boto3.Session()
    config = Config(retries={"mode": "adaptive", "max_attempts": RETRY_ATTEMPTS}, connect_timeout=10, read_timeout=60)
    return session.client("pricing", region_name=pricing_endpoint(region), config=config)


def get_products(client, service: str, region: str, group: str | None,
                 attribute: str = "regionCode") -> list[dict]:
    """Every product of one query (``attribute`` holds the region), following NextToken; each PriceList entry
    is a JSON string."""
    filters = [{"Type": "TERM_MATCH", "Field": attribute, "Value": region}]
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


def fetch_items(region: str, *, client=None, session=None, progress: bool = True,
                root: str | Path | None = None, today: Any = None) -> tuple[dict, dict]:
    """Query the Price List API for every mapped item of ``region`` and return ``(items, report)``.

    The items asked for are those of the region's newest snapshot plus any item of the newest us-east-1
    snapshot it lacks (for a new region, all of them). ``root`` is a prices folder searched for snapshots before
    the bundled one. ``items`` are ready for a snapshot document; ``report`` lists what was ``refreshed``,
    ``carried`` over (from the same region's snapshot only) or ``missing``, with a reason per item not refreshed.
    """
    region = check_region(region)
    day = check_day(today)
    roots = snapshot_roots(root)
    previous = newest_snapshot(region, roots)
    template = newest_snapshot(TEMPLATE_REGION, roots)
    if previous is None and template is None:
        raise prices.PricesNotFound(f"no {region} or {TEMPLATE_REGION} price snapshot under "
                                    f"{', '.join(map(str, roots))} to tell which items to fetch")
    own = read_items(previous) if previous else {}
    # The template adds items the region's own snapshot lacks (only their descriptions and mappings are used).
    base = {**(read_items(template) if template and template != previous else {}), **own}
    if client is None:
        client = make_client(region, session=session)

    items: dict[str, dict] = {}
    reasons: dict[str, str] = {}
    queries: dict[tuple[str, str | None, str], list[dict]] = {}
    for item_id in tqdm(sorted(base), desc=f"Price List {region}", unit="item", disable=not progress):
        old = base[item_id]
        fresh, why = None, "no pricelist mapping"
        if "pricelist" in old:
            mapping = check_mapping(item_id, old["pricelist"])
            key = (mapping["service"], mapping.get("group"), region_attribute(mapping))
            if key not in queries:  # items of one service without a group share one query
                queries[key] = get_products(client, key[0], region, key[1], key[2])
            fresh, why = pick(queries[key], mapping, region, str(old.get("unit", "")))
        if fresh is not None:
            items[item_id] = priced_item(old, fresh, day)
        else:
            reasons[item_id] = why
            if item_id in own:  # carried over only from the same region's snapshot
                items[item_id] = {**old, "refreshed": False}

    endpoint = getattr(getattr(client, "meta", None), "region_name", None)
    report = fetch_report(region, day, endpoint, len(queries), previous, template, base, items, reasons)
    return items, report


def refresh(region: str, *, out_dir: str | Path | None = None, client=None, session=None, today: Any = None,
            progress: bool = True, profile: str | None = None) -> Path:
    """Fetch ``region``'s prices and write ``<out_dir>/<region>/<today>.json``; return its path.

    Credentials: ``client``, else ``session``, else a session for ``profile`` (the default chain when None).
    ``out_dir`` defaults to the bundled prices folder. The document is checked with
    :func:`~lambda_workbook.prices.parse_book` before it is written, and nothing is written when no item could be refreshed or the fetch fails.
    """
    region = check_region(region)
    day = check_day(today)
    out = Path(out_dir) if out_dir is not None else datafiles.prices_dir()
    with errors.translating(profile=profile, region=pricing_endpoint(region), service="pricing",
                            offline="the bundled prices need none: lambda-workbook prices show"):
        if session is None and client is None and profile:
            import boto3

            session = boto3.Session(profile_name=profile)
        items, report = fetch_items(region, client=client, session=session, progress=progress, root=out, today=day)
    doc = snapshot_document(region, day, items, report)
    path = out / region / f"{day}.json"
    prices.parse_book(doc, path)
    atomicfile.write_text(path, json.dumps(doc, indent=1) + "\n")
    prices.clear_cache()
    return path
