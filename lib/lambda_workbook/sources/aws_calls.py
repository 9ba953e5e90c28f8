"""Counting the AWS operations a scan performs, stopping it once interrupted, and pricing its own bill with the
price book."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from .. import prices as _prices

GB = 2**30  # bytes per GB as CloudWatch Logs meters data


class ScanCancelled(Exception):
    """Raised inside worker threads once the scan has been interrupted."""


# -- call accounting ----------------------------------------------------------------------------------------
class CallLog:
    """Counts every AWS operation the scan performs (botocore ``before-call``) and every HTTP attempt
    (``before-send``), per region; also the quantities the scan's bill depends on. Thread-safe.

    It is also the cancellation point: once ``cancel`` is set, the next AWS call in any thread raises
    :class:`ScanCancelled`, so an interrupted scan stops within one call.
    """

    def __init__(self, cancel: threading.Event | None = None):
        self.cancel = cancel or threading.Event()
        self.calls: Counter = Counter()          # (region, service, operation) -> calls
        self.attempts: Counter = Counter()       # (region, service, operation) -> HTTP attempts
        self.metrics_requested: Counter = Counter()   # region -> GetMetricData queries sent
        self.bytes_scanned: Counter = Counter()       # region -> Logs Insights bytes scanned
        self._lock = threading.Lock()

    def attach(self, client, region: str) -> None:
        service = client.meta.service_model.service_name

        def before_call(model, **_):
            if self.cancel.is_set():
                raise ScanCancelled("scan interrupted")
            with self._lock:
                self.calls[(region, service, model.name)] += 1

        def metric_queries(params, **_):
            with self._lock:
                self.metrics_requested[region] += len(params.get("MetricDataQueries", []))

        def before_send(event_name: str = "", **_):
            op = event_name.rsplit(".", 1)[-1]
            with self._lock:
                self.attempts[(region, service, op)] += 1

        client.meta.events.register("before-call.*.*", before_call)
        client.meta.events.register("before-send.*.*", before_send)
        if service == "cloudwatch":
            client.meta.events.register("before-parameter-build.cloudwatch.GetMetricData", metric_queries)

    def add_bytes_scanned(self, region: str, n: float) -> None:
        with self._lock:
            self.bytes_scanned[region] += float(n or 0.0)

    def by_operation(self) -> dict[str, int]:
        out: Counter = Counter()
        for (_, service, op), n in self.calls.items():
            out[f"{service}.{op}"] += n
        return dict(sorted(out.items()))

    def total(self, service: str | None = None, operation: str | None = None) -> int:
        return sum(n for (_, s, o), n in self.calls.items()
                   if (service is None or s == service) and (operation is None or o == operation))

    def cost(self) -> dict[str, Any]:
        """The scan's own AWS bill, priced per region with that region's price book."""
        regions = sorted({r for r, _, _ in self.calls} | set(self.metrics_requested) | set(self.bytes_scanned))
        items, unpriced, usd = [], [], 0.0
        for region in regions:
            s3_get = sum(n for (r, s, o), n in self.calls.items() if r == region and s == "s3" and o != "ListBuckets")
            s3_list = sum(n for (r, s, o), n in self.calls.items() if r == region and s == "s3" and o == "ListBuckets")
            quantities = [
                ("cloudwatch.get_metric_data_metric", self.metrics_requested[region], "GetMetricData queries sent"),
                ("logs.insights_gb_scanned", self.bytes_scanned[region] / GB, "Logs Insights data scanned"),
                ("s3.get_request", s3_get, "S3 bucket notification/location reads"),
                ("s3.put_request", s3_list, "S3 ListBuckets (LIST requests)"),
            ]
            try:
                book = _prices.resolve(region)
            except (_prices.PricesNotFound, ValueError):
                book = None
                unpriced.append(region)
            for item, qty, what in quantities:
                if not qty:
                    continue
                price = book.price(item) if book is not None else float("nan")
                cost = qty * price
                items.append({"region": region, "item": item, "what": what, "quantity": round(float(qty), 9),
                              "unit_price_usd": price, "usd": cost,
                              "price_book": f"{book.region} {book.as_of}" if book else "none"})
                if cost == cost:  # not NaN
                    usd += cost
        ops = self.by_operation()
        return {
            "usd": round(usd, 10),
            "items": items,
            "unpriced_regions": unpriced,
            "api_calls": ops,
            "api_calls_total": sum(ops.values()),
            "retries": max(0, sum(self.attempts.values()) - sum(self.calls.values())),
            "metrics_requested": int(sum(self.metrics_requested.values())),
            "insights_gb_scanned": round(sum(self.bytes_scanned.values()) / GB, 6),
            "note": "Only GetMetricData metrics, Logs Insights GB scanned and S3 requests carry a price in the "
                    "price book; the other read calls are counted in api_calls and not priced.",
        }


def format_cost(cost: dict[str, Any]) -> str:
    """The scan's bill as a few lines of text (the CLI prints it)."""
    lines = [f"scan cost: USD {cost['usd']:.4f} for {cost['api_calls_total']:,} AWS API calls "
             f"({cost['retries']:,} retries)"]
    for it in cost["items"]:
        price = "unpriced" if it["usd"] != it["usd"] else f"USD {it['usd']:.6f}"
        lines.append(f"  {it['region']:<14} {it['what']:<40} {it['quantity']:>14,.6g}  {price}")
    for region in cost["unpriced_regions"]:
        lines.append(f"  {region}: no price snapshot; run `lambda-workbook prices refresh --region {region}`")
    return "\n".join(lines)
