"""The findings contract: what a finding is, how severe, what its dollars mean, and how findings add up.

Every module (the review's own rules, :mod:`memory`, :mod:`triggers`, :mod:`reads`, :mod:`coldstarts`) emits its
findings as :class:`Finding` objects, or as rows that :func:`row` completes. One object carries the title, the
evidence, the note, the recommendation, the saving's band and what the band means, so a page, a CSV line and a
ticket all render the same texts. The review engine only runs the modules, de-duplicates and ranks.

Columns (:data:`COLUMNS`):

* ``id``, ``severity`` (:data:`SEVERITIES`), ``account_id``, ``region``, ``function_name``, ``section``;
* ``title``, ``evidence`` (the numbers, with the note after "Note:"), ``recommendation``;
* ``evidence_path``: where the numbers come from, as ``kind:name`` items joined by ``"; "`` (built from a
  tuple, never parsed out of a sentence): ``reports:sample`` REPORT lines, ``metrics:<Metric>`` CloudWatch,
  ``calls:xray`` traced calls, ``functions.<column>`` configuration, ``insights`` CPU share, ``price book``...;
* ``monthly_impact_usd`` and its ``monthly_impact_low_usd``/``_high_usd`` band (USD a month saved by the
  recommendation; empty for risks nobody can price), ``band_meaning`` (what the band is: a 90% interval of the
  saving, the 10th–90th percentile day, ...), ``probability`` (the chance the change meets its rule, where a
  model states one);
* ``saves_from``: the bills the saving comes out of (``lambda``, ``api-gateway``, ``sqs``, ``dynamodb``, ``s3``,
  ``nat-gateway``, ... joined by ``+``). Two findings of one function that share a bill overlap: :func:`savings`
  counts them once and never above the spend they come from.

Severity: :class:`Severity` turns dollars into a severity with the review's thresholds (``medium_usd``,
``high_usd``); every module that prices a finding receives the same two numbers. Risks keep the severity their
rule gives them (a throttled API is high whatever it costs).

Names: the function's column is ``function_name``, as in every snapshot table. Until the next minor version the
public outputs (:func:`review.run`'s findings, the pack's ``findings.csv`` and ``findings.json``) also carry the
former ``function`` column, an exact copy placed last (:func:`with_deprecated_aliases`); a findings file that has
only ``function`` still loads (:func:`complete`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

SEVERITIES = ("high", "medium", "low")
SECTIONS = ("function code", "execution environment", "invocation source", "external services")
COLUMNS = ["id", "severity", "account_id", "region", "function_name", "title", "evidence", "evidence_path",
           "monthly_impact_usd", "monthly_impact_low_usd", "monthly_impact_high_usd", "recommendation", "section",
           "saves_from", "band_meaning", "probability"]
MONEY = ["monthly_impact_usd", "monthly_impact_low_usd", "monthly_impact_high_usd"]
NUMBERS = [*MONEY, "probability"]
#: Columns added after the first findings files were written: a file without them still loads.
OPTIONAL = ("saves_from", "band_meaning", "probability")

#: Deprecated column -> the canonical column it copies. The copies ride along on the public outputs only
#: (:func:`with_deprecated_aliases`) and go away in the next minor version.
DEPRECATED_ALIASES: dict[str, str] = {"function": "function_name"}

#: Findings whose dollars are the expected value of a measurement, not a saving: never added to savings totals.
NOT_SAVINGS = ("memory-measure",)

#: Risks in the order a review should take them when severities tie: what is failing now before what could.
RISK_ORDER = ("throttles", "stream-iterator-age", "timeout-rate", "error-rate", "deprecated-runtime",
              "iam-wildcard", "secret-env-names", "cold-starts", "init-heavy", "vpc-init", "per-invocation-setup",
              "vpc-review", "timeout-headroom", "memory-underprovisioned", "sync-for-async")

#: The bill each finding's saving comes out of, unless the finding says otherwise.
SAVES_FROM: dict[str, tuple[str, ...]] = {
    "memory-overprovisioned": ("lambda",), "memory-underprovisioned": ("lambda",), "memory-measure": ("lambda",),
    "arm64-candidate": ("lambda",), "apigw-rest-to-http": ("api-gateway",), "batch-size": ("lambda",),
    "sync-for-async": ("lambda",), "dynamodb-scan": ("dynamodb", "lambda"),
    "dynamodb-query-filter": ("dynamodb", "lambda"), "s3-whole-object": ("s3", "lambda"),
    "cold-starts": ("lambda",), "init-heavy": ("lambda",), "provisioned-concurrency": ("lambda",),
    "timeout-rate": ("lambda",), "error-rate": ("lambda",), "orchestration-in-code": ("lambda",),
    "transport-only": ("lambda",), "vpc-review": ("nat-gateway",),
}

#: What a finding's band means, unless the finding says otherwise.
BAND_MEANING: dict[str, str] = {
    "memory-overprovisioned": "at least the low end and at most the high end, each with the decision's probability",
    "memory-underprovisioned": "at least the low end and at most the high end, each with the decision's probability",
    "memory-measure": "what a measurement would lead to: at least the low end and at most the high end, each with "
                      "the decision's probability",
    "arm64-candidate": "at least the low end and at most the high end, each with the decision's probability",
    "apigw-rest-to-http": "the month priced at the window's 10th and 90th percentile day",
    "batch-size": "the month priced at the window's 10th and 90th percentile day",
    "sync-for-async": "the month priced at the window's 10th and 90th percentile day",
    "dynamodb-scan": "index upkeep at ten times the assumed writes (low) to a sparse index (high)",
    "dynamodb-query-filter": "index upkeep at ten times the assumed writes (low) to a sparse index (high)",
    "s3-whole-object": "the measured network throughput's band",
    "cold-starts": "INIT trimmed to a small package's (low) to no INIT billed (high)",
    "init-heavy": "half the trim to a small package's INIT (low) to no INIT billed (high)",
    "provisioned-concurrency": "the safest cheaper setting (low) to the cheapest (high)",
    "timeout-rate": "a month of the days above the limit alone (low) to every failed invocation (high)",
    "error-rate": "a month of the days above the limit alone (low) to every failed invocation (high)",
    "orchestration-in-code": "the workflow at twice (low) to half (high) its estimated price",
    "transport-only": "before the integration's own charge, which is not priced",
    "vpc-review": "NAT data processing of the recorded responses (request bodies not recorded)",
}


@dataclass(frozen=True)
class Severity:
    """Dollars to severity: ``high`` from ``high_usd`` a month, ``medium`` from ``medium_usd``, else ``low``."""

    medium_usd: float = 10.0
    high_usd: float = 100.0

    def __post_init__(self):
        for name in ("medium_usd", "high_usd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"{name} must be a number >= 0 (USD a month), got {value!r}")
        if self.medium_usd > self.high_usd:
            raise ValueError(f"medium_usd ({self.medium_usd:g}) must not exceed high_usd ({self.high_usd:g})")

    def __call__(self, usd: float) -> str:
        if usd != usd:
            return "low"
        return "high" if usd >= self.high_usd else "medium" if usd >= self.medium_usd else "low"

    def as_options(self) -> dict[str, float]:
        """The two thresholds as the keywords every module's ``findings`` accepts."""
        return {"medium_usd": float(self.medium_usd), "high_usd": float(self.high_usd)}


@dataclass(frozen=True)
class Band:
    """A monthly saving: the central figure, its low and high, and what that range means."""

    usd: float
    low: float = math.nan
    high: float = math.nan
    meaning: str = ""
    probability: float = math.nan


@dataclass(frozen=True)
class Finding:
    """One finding: every text a page, a CSV row and a ticket show comes from here."""

    id: str
    key: tuple[str, str, str]
    severity: str
    title: str
    evidence: str
    recommendation: str
    section: str
    path: tuple[str, ...] = ()
    note: str = ""
    band: Band | None = None
    saves_from: tuple[str, ...] = ()

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, got {self.severity!r}")
        if self.section not in SECTIONS:
            raise ValueError(f"section must be one of {', '.join(SECTIONS)}, got {self.section!r}")

    def row(self) -> dict[str, Any]:
        b = self.band or Band(math.nan)
        evidence = self.evidence.rstrip()
        if self.note:
            evidence = f"{evidence.rstrip('.')}. Note: {self.note.strip().rstrip('.')}."
        return {"id": self.id, "severity": self.severity, "account_id": self.key[0], "region": self.key[1],
                "function_name": self.key[2], "title": self.title, "evidence": evidence,
                "evidence_path": join_path(self.path), "monthly_impact_usd": b.usd, "monthly_impact_low_usd": b.low,
                "monthly_impact_high_usd": b.high, "recommendation": self.recommendation, "section": self.section,
                "saves_from": "+".join(self.saves_from or SAVES_FROM.get(self.id, ())) if b.usd == b.usd else "",
                "band_meaning": (b.meaning or BAND_MEANING.get(self.id, "")) if b.usd == b.usd else "",
                "probability": b.probability}


def join_path(items: Iterable[str] | str) -> str:
    """Evidence path items (``kind:name``) joined in order, empty and repeated items dropped."""
    if isinstance(items, str):
        items = items.split("; ")
    seen: list[str] = []
    for item in items:
        text = str(item).strip()
        if text and text not in seen:
            seen.append(text)
    return "; ".join(seen)


def frame(items: Iterable[Finding | dict[str, Any]]) -> pd.DataFrame:
    """Findings (objects or rows) as one table in :data:`COLUMNS`, completed by :func:`complete`."""
    rows = [f.row() if isinstance(f, Finding) else dict(f) for f in items]
    return complete(pd.DataFrame(rows))


def complete(df: pd.DataFrame) -> pd.DataFrame:
    """A table of finding rows in :data:`COLUMNS`: missing columns added (``saves_from`` and ``band_meaning``
    from the id's defaults where a price exists), numbers as floats, text as text, nothing else kept."""
    out = df.copy()
    for old, new in DEPRECATED_ALIASES.items():   # a file or module table written before the rename
        if new not in out and old in out:
            out[new] = out[old]
    for col in COLUMNS:
        if col not in out:
            out[col] = math.nan if col in NUMBERS else ""
    for col in NUMBERS:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    for col in COLUMNS:
        if col not in NUMBERS:
            out[col] = out[col].astype(object).where(out[col].notna(), "").astype(str)
    priced = out["monthly_impact_usd"].notna()
    ids = out["id"]
    out["saves_from"] = out["saves_from"].where((out["saves_from"] != "") | ~priced,
                                                ids.map(lambda i: "+".join(SAVES_FROM.get(i, ()))))
    out.loc[~priced, "saves_from"] = ""
    out["band_meaning"] = out["band_meaning"].where((out["band_meaning"] != "") | ~priced,
                                                    ids.map(lambda i: BAND_MEANING.get(i, "")))
    out.loc[~priced, "band_meaning"] = ""
    return out[COLUMNS].reset_index(drop=True)


def with_deprecated_aliases(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each deprecated column of :data:`DEPRECATED_ALIASES` added last, an exact copy of its
    canonical column (``function`` = ``function_name``), for readers of the findings written before the rename.
    Applied only where findings leave the library (:func:`review.run`, :func:`review.load`, the pack's files);
    pages, views and Markdown show the canonical column alone. The copies go away in the next minor version."""
    out = df.drop(columns=[c for c in DEPRECATED_ALIASES if c in df.columns])
    for old, new in DEPRECATED_ALIASES.items():
        if new in out:
            out[old] = out[new]
    out.attrs.update(df.attrs)
    return out


# --------------------------------------------------------------------------------------------------------
# ranking

def _severity_order(found: pd.DataFrame) -> pd.Series:
    return found["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(len(SEVERITIES))


def _risk_order(found: pd.DataFrame) -> pd.Series:
    return found["id"].map({k: i for i, k in enumerate(RISK_ORDER)}).fillna(len(RISK_ORDER))


#: A finding worth at least this many USD a month ranks by its dollars; below it, severity decides.
MONEY_FLOOR_USD = 1.0


def rank(found: pd.DataFrame, by: str = "review") -> pd.DataFrame:
    """Findings in one of three orders (index reset):

    * ``"money"`` — by expected dollars a month, biggest first; unpriced findings last, by severity;
    * ``"risk"`` — severity first, then the kind of risk (:data:`RISK_ORDER`: throttles, stream lag, timeouts,
      errors, deprecated runtimes, IAM wildcards, ...), then dollars;
    * ``"review"`` (the order of ``findings.csv``, the Markdown and the index) — findings worth at least
      :data:`MONEY_FLOOR_USD` a month by dollars, then everything else by severity and risk kind: no
      high-severity finding ever ranks below one worth less than a dollar a month.
    """
    if by not in ("review", "money", "risk"):
        raise ValueError(f"rank by must be 'review', 'money' or 'risk', got {by!r}")
    if found.empty:
        return found.reset_index(drop=True)
    usd = found["monthly_impact_usd"]
    key = pd.DataFrame({"sev": _severity_order(found), "kind": _risk_order(found), "usd": -usd.fillna(0.0),
                        "unpriced": usd.isna(), "id": found["id"], "fn": found["function_name"]})
    if by == "money":
        cols = ["unpriced", "usd", "sev", "kind", "id", "fn"]
    elif by == "risk":
        cols = ["sev", "kind", "usd", "id", "fn"]
    else:
        key["tier"] = ~(usd >= MONEY_FLOOR_USD)
        key["tier_usd"] = key["usd"].where(~key["tier"], 0.0)
        cols = ["tier", "tier_usd", "sev", "kind", "usd", "id", "fn"]
    return found.loc[key.sort_values(cols, kind="stable").index].reset_index(drop=True)


def risks(found: pd.DataFrame) -> pd.DataFrame:
    """The risks a review should discuss, in :func:`rank` ``"risk"`` order: findings of a kind in
    :data:`RISK_ORDER` or without a price, at high or medium severity (a finding that is only about money is
    not a risk, however large)."""
    kind = found["id"].isin(RISK_ORDER) | found["monthly_impact_usd"].isna()
    return rank(found[kind & found["severity"].isin(("high", "medium"))], by="risk")


# --------------------------------------------------------------------------------------------------------
# totals that add up

SPEND_COLUMNS = ["account_id", "region", "function_name", "service", "monthly_usd", "basis"]


def _groups(services: list[set[str]]) -> list[int]:
    """Connected groups of findings that share a bill (union-find over their ``saves_from`` sets)."""
    parent = list(range(len(services)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(services)):
        for j in range(i):
            if services[i] & services[j]:
                parent[find(i)] = find(j)
    return [find(i) for i in range(len(services))]


def savings(found: pd.DataFrame, spend: pd.DataFrame | None = None) -> pd.DataFrame:
    """Savings counted once: one row per function and group of overlapping findings.

    Findings of one function whose ``saves_from`` bills overlap (cold starts and a long INIT on the same INIT;
    orchestration and memory on the same duration) form a group worth its largest finding — following all of
    them saves *up to* that much, not their sum — and a group never saves more than the function spends on those
    bills (``spend``: :data:`SPEND_COLUMNS` rows; a bill without a spend row is not capped and says so).
    Measure-first findings and negative impacts (a change bought for speed) are not savings.
    Columns: the function key, ``services``, ``ids``, ``monthly_usd``, ``low_usd``, ``high_usd``, ``sum_usd`` (the
    plain sum of the group's findings), ``spend_usd`` (NaN: not measured) and ``capped``.
    """
    cols = ["account_id", "region", "function_name", "services", "ids", "monthly_usd", "low_usd", "high_usd", "sum_usd",
            "spend_usd", "capped"]
    f = found[~found["id"].isin(NOT_SAVINGS) & (found["monthly_impact_usd"] > 0)]
    if f.empty:
        return pd.DataFrame(columns=cols)
    spent = spend_by_bill(spend)
    rows = []
    for key, g in f.groupby(["account_id", "region", "function_name"], sort=False):
        bills = [set(filter(None, str(s).split("+"))) or {"lambda"} for s in g["saves_from"]]
        groups = _groups(bills)
        for gid in sorted(set(groups)):
            members = g[[x == gid for x in groups]]
            services = set().union(*(b for b, x in zip(bills, groups, strict=True) if x == gid))
            central = float(members["monthly_impact_usd"].max())
            low = float(members["monthly_impact_low_usd"].fillna(members["monthly_impact_usd"]).clip(lower=0).max())
            high = float(members["monthly_impact_high_usd"].fillna(members["monthly_impact_usd"]).clip(lower=0).max())
            known = [spent[(*key, s)] for s in services if (*key, s) in spent]
            cap = sum(known) if len(known) == len(services) else math.nan
            capped = cap == cap and high > cap
            if cap == cap:
                central, low, high = min(central, cap), min(low, cap), min(high, cap)
            rows.append((*key, "+".join(sorted(services)), ", ".join(members["id"]), central, min(low, central),
                         max(high, central), float(members["monthly_impact_usd"].sum()), cap, capped))
    return pd.DataFrame(rows, columns=cols)


def summary(found: pd.DataFrame, spend: pd.DataFrame | None = None) -> dict[str, Any]:
    """Spend per service and savings per service, counted once (see :func:`savings`), for an index page."""
    counted = savings(found, spend)
    spent = spend_by_bill(spend)
    by_service: dict[str, dict[str, float]] = {}
    if spend is not None and len(spend):
        for service, usd in spend.groupby("service")["monthly_usd"].sum().items():
            by_service[str(service)] = {"spend_usd": float(usd), "savings_usd": 0.0}
    for r in counted.itertuples():
        services = r.services.split("+")
        # a group over several bills is booked against them in proportion to their spend (evenly when unknown)
        parts = [spent.get((r.account_id, r.region, r.function_name, s), math.nan) for s in services]
        total = sum(p for p in parts if p == p)
        for s, p in zip(services, parts, strict=True):
            share = (p / total) if total > 0 and p == p else 1.0 / len(services)
            entry = by_service.setdefault(s, {"spend_usd": math.nan, "savings_usd": 0.0})
            entry["savings_usd"] += r.monthly_usd * share
    spend_total = float(spend["monthly_usd"].sum()) if spend is not None and len(spend) else math.nan
    return {"spend_usd": spend_total, "savings_usd": float(counted["monthly_usd"].sum()),
            "savings_low_usd": float(counted["low_usd"].sum()), "savings_high_usd": float(counted["high_usd"].sum()),
            "sum_of_findings_usd": float(counted["sum_usd"].sum()), "groups": int(len(counted)),
            "overlapping": int((counted["ids"].str.contains(",")).sum()),
            "uncapped_services": sorted({s for r in counted.itertuples() if r.spend_usd != r.spend_usd
                                         for s in r.services.split("+")}),
            "by_service": by_service}


def spend_by_bill(spend: pd.DataFrame | None) -> dict[tuple, float]:
    """``{(account_id, region, function_name, service): USD a month}`` from a :data:`SPEND_COLUMNS` table."""
    if spend is None or spend.empty:
        return {}
    s = spend.groupby(["account_id", "region", "function_name", "service"])["monthly_usd"].sum()
    return {k: float(v) for k, v in s.items()}
