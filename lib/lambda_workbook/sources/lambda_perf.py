"""Download lambda-perf's daily result files and write a new dated INIT priors file (the priors' only network code).

lambda-perf (https://github.com/maxday/lambda-perf, Apache-2.0) commits one JSON file a day,
``data/YYYY/YYYY-MM-DD.json`` (the oldest ones directly under ``data/``). :func:`fetch` takes one file per month,
the first day of the month that has one, over the months asked for; :func:`refresh` hands them to the pure fit
(:mod:`lambda_workbook.initfit`) and writes ``<out>/<today>.json`` atomically. ``csv=`` fits lambda-perf's
per-sample table instead (as in ``data/measurements/lambda-perf-2022-2025``), without the network.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .. import atomicfile, initfit, initpriors

RAW_BASE = "https://raw.githubusercontent.com/maxday/lambda-perf/main/data"
TIMEOUT_S = 30
DAYS_TRIED = 10            # days from the 1st of a month tried before the month counts as missing
MAX_MONTHS = 120
CARRIED = ("package_size", "vpc", "layers", "sources")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class FetchError(ConnectionError):
    """A download failed for a reason other than a missing file (network, HTTP error, timeout)."""


def http_get(url: str) -> bytes | None:
    """The body at ``url``; None when the server answers 404 (no file that day)."""
    req = urllib.request.Request(url, headers={"User-Agent": "lambda-workbook (INIT priors refresh)"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise FetchError(f"could not download {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"could not download {url}: {reason}") from None


def file_urls(day: dt.date) -> list[str]:
    """Where a day's file may be: under its year's folder, or (the oldest files) directly under data/."""
    return [f"{RAW_BASE}/{day.year}/{day.isoformat()}.json", f"{RAW_BASE}/{day.isoformat()}.json"]


def months_ending(until: str, months: int) -> list[str]:
    """``months`` calendar months ending with ``until`` ('YYYY-MM'), oldest first."""
    if not (isinstance(until, str) and _MONTH.match(until)):
        raise ValueError(f"until must be a month 'YYYY-MM', got {until!r}")
    if not (isinstance(months, int) and 1 <= months <= MAX_MONTHS):
        raise ValueError(f"months must be a whole number from 1 to {MAX_MONTHS}, got {months!r}")
    end = initfit.month_index(until)
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(end - months + 1, end + 1)]


def fetch(months: list[str], *, today: dt.date, get: Callable[[str], bytes | None] | None = None
          ) -> tuple[list[tuple[str, Any]], list[str], Counter]:
    """``(date, document)`` for the first day with a file in each month; the months without one; and files
    dropped (not JSON). Days after ``today`` are not tried. ``get`` defaults to :func:`http_get`."""
    get = get or http_get
    docs, missing, dropped = [], [], Counter()
    for month in months:
        year, mon = (int(x) for x in month.split("-"))
        found = False
        for d in range(1, DAYS_TRIED + 1):
            day = dt.date(year, mon, d)
            if day > today:
                break
            body = next((b for b in (get(u) for u in file_urls(day)) if b is not None), None)
            if body is None:
                continue
            try:
                docs.append((day.isoformat(), json.loads(body)))
            except (ValueError, UnicodeDecodeError):
                dropped["daily file that is not JSON"] += 1
                continue
            found = True
            break
        if not found:
            missing.append(month)
    return docs, missing, dropped


def _from_csv(path: str | Path, months: list[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    table = pd.read_csv(path)
    if "measured_on" in table.columns:
        table = table[table["measured_on"].astype(str).str[:7].isin(months)]
    return initfit.samples_from_table(table)


def refresh(months: int = 24, *, out_dir: str | Path | None = None, until: str | None = None,
            today: dt.date | None = None, csv: str | Path | None = None,
            get: Callable[[str], bytes | None] | None = None) -> tuple[Path, dict[str, Any]]:
    """Fit the last ``months`` months (ending with ``until``, default this month) and write ``<out>/<today>.json``.

    The half-life of the recency weights is chosen on the fetched months' own last six (see
    :func:`lambda_workbook.initfit.choose_half_life`); the package-size, VPC and layer figures are carried over
    from the newest bundled priors file.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    window = months_ending(until or today.strftime("%Y-%m"), months)
    if csv is not None:
        (samples, dropped), files = _from_csv(csv, window), 0
        missing = [m for m in window if m not in set(samples["month"])]
    else:
        docs, missing, dropped_files = fetch(window, today=today, get=get)
        if not docs:
            raise FetchError(f"no lambda-perf daily file found for {window[0]}..{window[-1]} under {RAW_BASE}")
        samples, dropped = initfit.samples(docs)
        dropped = {**dropped, **dropped_files}
        files = len(docs)
    half_life, scores = initfit.choose_half_life(samples)
    carry = {k: v for k, v in initpriors.priors().items() if k in CARRIED}
    doc = initfit.fit(samples, half_life_months=half_life, compiled=today.isoformat(), carry=carry, dropped=dropped)
    doc["fitted_on"]["files"] = files or None
    doc["fitted_on"]["missing_months"] = missing
    doc["method"]["half_life_choice"] = scores.to_dict(orient="records")
    path = atomicfile.write_json(Path(out_dir or initpriors.priors_dir()) / f"{today.isoformat()}.json", doc)
    initpriors.priors.cache_clear()
    return path, doc


def format_report(doc: dict[str, Any]) -> str:
    """A few lines on a refreshed priors document: months, files, samples, drops, half-life, entries."""
    fitted = doc["fitted_on"]
    lines = [f"fitted on {fitted['from']}..{fitted['to']}: {len(fitted['months'])} month(s)"
             + (f" from {fitted['files']} daily file(s)" if fitted.get("files") else "")
             + f", {fitted['samples']:,} cold starts"]
    if fitted.get("missing_months"):
        lines.append(f"months without a file: {', '.join(fitted['missing_months'])}")
    for why, n in sorted(fitted.get("dropped", {}).items()):
        lines.append(f"dropped {n:,} {why}(s)")
    h = doc["method"]["half_life_months"]
    lines.append(f"recency half-life: {f'{h:g} months' if h else 'none (every month alike)'}")
    lines.append(f"{len(doc['runtimes'])} runtime x arch x package entries, {len(doc['snapstart'])} SnapStart, "
                 f"{len(doc['custom_runtime_languages'])} custom-runtime languages")
    return "\n".join(lines)
