"""The review's findings as readers get them: totals per section and per function, the ranked table for a
notebook, CSV and Markdown for tickets, plain JSON-able results, and the findings file written and read back.
Re-exported by :mod:`lambda_workbook.review` (``review.totals``, ``review.to_markdown``, ...)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import findings as contract
from .findings import COLUMNS, NOT_SAVINGS, SECTIONS, SEVERITIES
from .schema import KEY, Snapshot

if TYPE_CHECKING:
    from .review import Review

def totals(found: pd.DataFrame, spend: pd.DataFrame | None = None) -> pd.DataFrame:
    """Findings and monthly savings per section (and overall), savings counted once: overlapping findings of
    one function count as their largest and never above what the function spends on those bills
    (:func:`findings.savings`; ``spend`` from :func:`spend`). ``sum_usd`` is the plain sum of the findings.
    Measure-first findings are counted but their expected value is not a saving."""
    rows = []
    for section in (*SECTIONS, "all"):
        all_f = found if section == "all" else found[found["section"] == section]
        f = all_f[~all_f["id"].isin(NOT_SAVINGS)]
        counted = contract.savings(all_f, spend)
        rows.append({"section": section, "findings": len(all_f),
                     **{s: int((all_f["severity"] == s).sum()) for s in SEVERITIES},
                     "priced": int(f["monthly_impact_usd"].notna().sum()),
                     "monthly_usd": float(counted["monthly_usd"].sum()),
                     "monthly_low_usd": float(counted["low_usd"].sum()),
                     "monthly_high_usd": float(counted["high_usd"].sum()),
                     "sum_usd": float(f["monthly_impact_usd"].clip(lower=0).sum())})
    return pd.DataFrame(rows).set_index("section")


def by_function(found: pd.DataFrame, spend: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per function: findings, high-severity count and monthly savings counted once (:func:`findings.savings`)."""
    cols = ["account_id", "region", "function_name"]
    if found.empty:
        return pd.DataFrame(columns=cols + ["findings", "high", "monthly_usd", "ids"])
    g = found.assign(hi=found["severity"] == "high")
    out = g.groupby(cols).agg(findings=("id", "size"), high=("hi", "sum"),
                              ids=("id", lambda s: ", ".join(sorted(set(s)))))
    counted = contract.savings(found, spend).groupby(cols)["monthly_usd"].sum()
    out["monthly_usd"] = counted.reindex(out.index).fillna(0.0)
    return out.reset_index().sort_values(["monthly_usd", "high", "findings"], ascending=False, ignore_index=True)


def _money(x: float) -> str:
    """Dollars with cents; an amount that rounds to zero cents but is not zero reads "<$0.01"."""
    if pd.isna(x):
        return ""
    if 0 < abs(x) < 0.005:
        return "<$0.01" if x > 0 else "−<$0.01"
    return f"${x:,.2f}" if x >= 0 else f"−${-x:,.2f}"


def band(r) -> str:
    """``$12.00 ($8.00–$15.00)`` for a finding row (mapping or namedtuple)."""
    get = r.get if isinstance(r, dict) else lambda k: getattr(r, k)
    central, low, high = get("monthly_impact_usd"), get("monthly_impact_low_usd"), get("monthly_impact_high_usd")
    if pd.isna(central):
        return "—"
    text = _money(central)
    if low == low and high == high and (abs(low - central) > 0.005 or abs(high - central) > 0.005):
        text += f" ({_money(low)}–{_money(high)})"
    elif high == high and abs(high - central) > 0.005:
        text += f" (up to {_money(high)})"
    return text


def view(found: pd.DataFrame, top: int | None = None, *, styled: bool = False, by: str = "review"):
    """The ranked findings with readable headers, for notebooks (``by``: ``review``, ``money`` or ``risk``
    order, :func:`rank`; ``styled``: a Styler that shows whole texts, left-aligned)."""
    if found.empty:
        return "No findings: every check passed."
    f = contract.rank(found, by).head(top) if top else contract.rank(found, by)
    out = pd.DataFrame({
        "$/month (band)": [band(r) for r in f.to_dict("records")], "severity": f["severity"].to_numpy(),
        "id": f["id"].to_numpy(), "function": (f["function_name"] + " (" + f["account_id"].str[-4:] + ")").to_numpy(),
        "finding": f["title"].to_numpy(), "evidence": f["evidence"].to_numpy(), "source": f["evidence_path"].to_numpy(),
        "recommendation": f["recommendation"].to_numpy(),
    }, index=pd.RangeIndex(1, len(f) + 1, name="rank"))
    if not styled:
        return out
    return out.style.set_properties(**{"text-align": "left", "vertical-align": "top"}).set_table_styles(
        [{"selector": "th", "props": [("text-align", "left")]}])


def to_csv(found: pd.DataFrame) -> str:
    """The ranked findings as CSV (a ``rank`` column first)."""
    f = contract.rank(found)
    out = contract.with_deprecated_aliases(f.assign(rank=range(1, len(f) + 1))[["rank", *COLUMNS]])
    return out.to_csv(index=False, lineterminator="\n", float_format="%.2f")


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


#: The risks to discuss first, severity first (:func:`findings.risks`).
risks = contract.risks


def spend_view(found: pd.DataFrame, spend_table: pd.DataFrame) -> pd.DataFrame:
    """Per service: what the functions spend a month and what the findings save, counted once
    (:func:`findings.summary`), with a total row; a saving on a bill whose spend was not measured says so."""
    summ = contract.summary(found, spend_table)
    def share(saved: float, spent: float) -> float:
        return saved / spent if spent == spent and spent > 0 else math.nan

    by_spend = sorted(summ["by_service"].items(), key=lambda kv: -np.nan_to_num(kv[1]["spend_usd"], nan=-1.0))
    rows = [{"service": SERVICE_NAMES.get(k, k), "spend_usd": v["spend_usd"], "savings_usd": v["savings_usd"],
             "savings_share": share(v["savings_usd"], v["spend_usd"])} for k, v in by_spend]
    rows.append({"service": "all", "spend_usd": summ["spend_usd"], "savings_usd": summ["savings_usd"],
                 "savings_share": share(summ["savings_usd"], summ["spend_usd"])})
    return pd.DataFrame(rows)


def spend_line(summary: dict[str, Any]) -> str:
    """``Spend $X/month (Lambda $a, API Gateway $b, ...)`` from :func:`findings.summary`."""
    known = [(k, v) for k, v in summary["by_service"].items() if v["spend_usd"] == v["spend_usd"]]
    parts = [f"{SERVICE_NAMES.get(k, k)} {_money(v['spend_usd'])}"
             for k, v in sorted(known, key=lambda kv: -kv[1]["spend_usd"])]
    return f"spend {_money(summary['spend_usd'])}/month" + (f" ({', '.join(parts)})" if parts else "")


#: How a bill is named on a page.
SERVICE_NAMES = {"lambda": "Lambda", "api-gateway": "API Gateway", "sqs": "SQS", "sns": "SNS", "kinesis": "Kinesis",
                 "dynamodb": "DynamoDB", "s3": "S3", "eventbridge": "EventBridge", "nat-gateway": "NAT gateway",
                 "step-functions": "Step Functions", "load-balancer": "Load balancer"}


def savings_line(summary: dict[str, Any]) -> str:
    """The de-duplicated savings in one sentence, saying what was counted once."""
    text = (f"savings up to {_money(summary['savings_usd'])}/month ({_money(summary['savings_low_usd'])}–"
            f"{_money(summary['savings_high_usd'])}), overlapping findings of a function counted once")
    if summary["sum_of_findings_usd"] > summary["savings_usd"] + 0.005:
        text += f" (the findings add up to {_money(summary['sum_of_findings_usd'])} before that)"
    if summary["uncapped_services"]:
        text += "; spend not measured for " + ", ".join(SERVICE_NAMES.get(s, s) for s in summary["uncapped_services"])
    return text


def to_markdown(found: pd.DataFrame, *, title: str = "Lambda architecture review: findings",
                context: str = "", links: dict[tuple, str] | None = None, spend: pd.DataFrame | None = None) -> str:
    """The ranked findings as Markdown for tickets: a summary table, then one section per finding."""
    f = contract.rank(found)
    t = totals(f, spend).loc["all"]
    summ = contract.summary(f, spend)
    lines = [f"# {title}", ""]
    if context:
        lines += [context, ""]
    lines += [f"{len(f)} findings ({int(t['high'])} high, {int(t['medium'])} medium, {int(t['low'])} low); "
              + (spend_line(summ) + "; " if spend is not None and len(spend) else "") + savings_line(summ) + ".",
              "", "Order: findings worth at least $1/month by dollars, then the rest by severity, so no high-severity "
              "finding ranks below one worth less than a dollar.", "",
              "| # | $/month | severity | id | function | finding |", "|---|---|---|---|---|---|"]
    for i, r in enumerate(f.to_dict("records"), 1):
        lines.append(f"| {i} | {_md(band(r))} | {r['severity']} | `{r['id']}` | {_md(r['function_name'])} "
                     f"({_md(r['account_id'])}, {_md(r['region'])}) | {_md(r['title'])} |")
    for i, r in enumerate(f.to_dict("records"), 1):
        lines += ["", f"## {i}. [{r['severity']}] {r['id']}: {r['function_name']} — {r['title']}", "",
                  f"- **Where:** {r['function_name']} in account {r['account_id']}, {r['region']}",
                  f"- **Section:** {r['section']}", f"- **Monthly impact:** {band(r)}"
                  + (f" — band: {r['band_meaning']}" if r.get("band_meaning") else "")
                  + (f"; probability {r['probability']:.0%}" if r.get("probability") == r.get("probability") else ""),
                  f"- **Evidence** ({r['evidence_path']}): {r['evidence']}",
                  f"- **Recommendation:** {r['recommendation']}"]
        link = (links or {}).get((r["account_id"], r["region"], r["function_name"]))
        if link:
            lines.append(f"- **Deep dive:** {link}")
    return "\n".join(lines) + "\n"


def results(review: Review | pd.DataFrame, top: int = 20) -> dict[str, Any]:
    """The findings as plain JSON-able data (for a notebook's results JSON and the review pack)."""
    from .review import Review

    found = review.findings if isinstance(review, Review) else review
    spent = review.spend if isinstance(review, Review) else None
    t = totals(found, spent)
    rows = [{k: (None if isinstance(v, float) and math.isnan(v) else round(v, 4) if isinstance(v, float) else v)
             for k, v in r.items()}
            for r in contract.with_deprecated_aliases(contract.rank(found).head(top)[COLUMNS]).to_dict("records")]
    out = {"count": int(len(found)), "by_id": {k: int(v) for k, v in found["id"].value_counts().sort_index().items()},
           "by_severity": {s: int((found["severity"] == s).sum()) for s in SEVERITIES},
           "monthly_usd": round(float(t.loc["all", "monthly_usd"]), 4),
           "by_section": {s: {"findings": int(t.loc[s, "findings"]), "monthly_usd": round(float(t.loc[s, "monthly_usd"]), 4)}
                          for s in SECTIONS},
           "top": rows}
    summ = contract.summary(found, spent)
    out["summary"] = {k: (None if isinstance(v, float) and math.isnan(v) else round(v, 4) if isinstance(v, float)
                          else v) for k, v in summ.items() if k != "by_service"}
    out["summary"]["by_service"] = {k: {n: (None if x != x else round(x, 4)) for n, x in v.items()}
                                    for k, v in summ["by_service"].items()}
    if isinstance(review, Review):
        out.update({k: v for k, v in review.meta().items() if k in ("as_of", "as_of_basis", "errors", "flags")})
    else:
        out["errors"] = found.attrs.get("errors", [])
    return out


def save(found: pd.DataFrame, path: str | Path) -> Path:
    """Write findings as CSV (atomic); :func:`load` reads them back with their types."""
    from . import atomicfile

    return atomicfile.write_text(path, to_csv(found))


def load(path: str | Path) -> pd.DataFrame:
    """Findings written by :func:`save` (or a review pack's ``findings.csv``), with the deprecated ``function``
    copy of ``function_name`` last, as :func:`run` returns them; a file written before the rename (``function``
    only) loads too."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for old, new in contract.DEPRECATED_ALIASES.items():
        if new not in df and old in df:
            df[new] = df[old]
    missing = [c for c in COLUMNS if c not in df.columns and c not in contract.OPTIONAL]
    if missing:
        raise ValueError(f"{path}: not a findings file (missing column(s) {missing})")
    for col in contract.NUMBERS:
        df[col] = pd.to_numeric(df[col].replace("", np.nan), errors="coerce") if col in df else np.nan
    for col in contract.OPTIONAL:
        if col not in df:
            df[col] = ""
    return contract.with_deprecated_aliases(df[COLUMNS])


def for_snapshot(found: pd.DataFrame, snapshot: Snapshot) -> pd.DataFrame:
    """The findings about functions of ``snapshot`` (e.g. after restricting it to an account or region)."""
    keys = set(map(tuple, snapshot.functions[KEY].to_numpy()))
    mask = np.array([(a, r, f) in keys for a, r, f in zip(found["account_id"], found["region"], found["function_name"],
                                                        strict=True)], dtype=bool)
    out = found[mask].reset_index(drop=True)
    out.attrs.update(found.attrs)
    return out
