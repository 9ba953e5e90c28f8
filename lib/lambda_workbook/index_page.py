"""The review pack's front page (``<run>/index.html``), the latest-run page (``<out>/index.html``) and the run's
other files (:func:`write_files`: findings for tickets, the run record).

:func:`context` gathers what the page shows into plain values (one key per block of the template);
:func:`render_index` fills ``templates/index.html.j2`` with Jinja2, autoescape on, so every text from a
snapshot or a finding is escaped. :func:`write_latest` copies a run's index one level up with its links
rewritten into the run folder, plus the list of runs.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import __version__, atomicfile
from . import findings as contract

TEMPLATE = "index.html.j2"
#: The Reports table and the failed list show at most this much of an error (a refused parameter is one line).
ERROR_CHARS = 300
#: The findings tables ("Risks first", "All findings") list at most this many rows; a line says how many more
#: there are and links the files that hold them all (``findings.csv``, ``findings.md``). ``opts["index_rows"]``
#: overrides it.
INDEX_ROWS = 100

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1400px;color:#222;
padding:0 16px}h1{margin-bottom:4px}.meta{color:#555;margin-top:0}table{border-collapse:collapse;width:100%;margin:8px 0 20px}
th,td{border-bottom:1px solid #ddd;padding:6px 8px;text-align:left;vertical-align:top;font-size:14px}
th{background:#f5f5f5}.num{text-align:right;white-space:nowrap}.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:180px}.card b{font-size:20px;display:block}
.sev{border-radius:4px;padding:1px 6px;color:#fff;font-size:12px}.high{background:#E45756}.medium{background:#F58518}
.low{background:#72B7B2}.failed{color:#b00020;font-weight:bold}.ok{color:#2e7d32}details summary{cursor:pointer;color:#345}
code{font-size:12px;color:#555}.small{font-size:12px;color:#555}
"""


def _escape(value: Any) -> Any:
    """Every value the template prints, escaped as :func:`html.escape` does (quotes included); markup that is
    already safe (macros, the figure) is left alone."""
    from markupsafe import Markup

    return value if hasattr(value, "__html__") else Markup(html.escape(str(value)))


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("lambda_workbook", "templates"), autoescape=True,
                              finalize=_escape, undefined=jinja2.StrictUndefined)


def _short(error: str) -> str:
    return error if len(error) <= ERROR_CHARS else error[:ERROR_CHARS - 1] + "…"


def deep_links(jobs: list) -> dict[tuple, list]:
    """The rendered deep dives of each function ``(account_id, region, function_name)``."""
    out: dict[tuple, list] = {}
    for j in jobs:
        if j.kind == "deep-dive" and j.has_html:
            out.setdefault((j.account_id, j.region, j.function_name), []).append(j)
    return out


def _job(j, run_dir: Path) -> dict[str, Any]:
    files = [{"href": f"{j.out}{suffix}", "label": label} for suffix, label in
             ((".ipynb", "notebook"), (".results.json", "results")) if (run_dir / f"{j.out}{suffix}").exists()]
    return {"title": j.title, "has_html": j.has_html, "link": j.link(), "status": j.status, "error": _short(j.error),
            "seconds": f"{j.seconds:,.1f}", "files": files}


def context(pack, snapshot, result, opts: dict[str, Any]) -> dict[str, Any]:
    """Everything the page shows, as plain values: one key per block of the template."""
    from markupsafe import Markup

    from . import review

    found = review.rank(pack.findings)
    spent = getattr(result, "spend", None)
    tot = review.totals(found, spent)
    summ = contract.summary(found, spent)
    m = snapshot.manifest
    links = deep_links(pack.jobs)
    all_ = tot.loc["all"]
    failed = pack.failed
    per_service = sorted(((review.SERVICE_NAMES.get(k, k), v) for k, v in summ["by_service"].items()
                          if v["spend_usd"] == v["spend_usd"]), key=lambda kv: -kv[1]["spend_usd"])
    risky = contract.risks(found)
    cards = [("Spend", f"${summ['spend_usd']:,.2f}/month" if summ["spend_usd"] == summ["spend_usd"] else "unknown",
              " · ".join(f"{name} ${v['spend_usd']:,.2f}" for name, v in per_service[:4])
              + (" · …" if len(per_service) > 4 else "") + " (list prices, no free tier)"),
             ("Savings, counted once", f"up to ${summ['savings_usd']:,.2f}/month",
              f"band ${summ['savings_low_usd']:,.2f}–${summ['savings_high_usd']:,.2f}; the findings add up to "
              f"${summ['sum_of_findings_usd']:,.2f} before overlaps on one bill count once; never above the "
              "spend they come from; measure-first findings not included"),
             ("Risks", f"{int((risky['severity'] == 'high').sum())} high",
              f"{len(risky)} to discuss (throttles, stream lag, failures, runtimes, IAM, ...): listed first below"),
             ("Findings", f"{int(all_['findings'])}", f"{int(all_['high'])} high · {int(all_['medium'])} medium · "
              f"{int(all_['low'])} low"),
             ("Notebooks", f"{len(pack.jobs) - len(failed)} of {len(pack.jobs)} rendered",
              f"{len(failed)} failed" if failed else "all ran")]
    if result.flags:
        cards.append(("Snapshot", f"{len(result.flags)} flagged", "parts the review could not judge (below)"))
    chart = ""
    if len(found) and found["monthly_impact_usd"].notna().any():
        import plotly.io as pio

        from . import plots

        fig = plots.findings_impact(found, top=int(opts["chart_top"]))
        chart = Markup(pio.to_html(fig, include_plotlyjs=bool(opts["inline_plotly"]), full_html=False))
    def rows(table) -> list[dict[str, Any]]:
        out = []
        for r in table.to_dict("records"):
            key = (r["account_id"], r["region"], r["function_name"])
            prob = r.get("probability")
            out.append({**{k: r[k] for k in ("id", "severity", "title", "evidence", "evidence_path", "recommendation",
                                             "function_name", "account_id", "region", "section",
                                             "band_meaning")},
                        "band": review.band(r), "probability": f"{prob:.0%}" if prob == prob and prob is not None else "",
                        "saves_from": " + ".join(review.SERVICE_NAMES.get(x, x) for x in r["saves_from"].split("+") if x),
                        "dives": [{"link": j.link(), "name": j.name.replace("_", " ")} for j in links.get(key, [])]})
        return out

    limit = int(opts.get("index_rows") or INDEX_ROWS)
    findings, risks = rows(found.head(limit)), rows(risky.head(limit))
    services = [{"service": r.service, "spend": f"${r.spend_usd:,.2f}" if r.spend_usd == r.spend_usd else "not measured",
                 "savings": f"${r.savings_usd:,.2f}",
                 "share": f"{r.savings_share:.0%}" if r.savings_share == r.savings_share else "–"}
                for r in review.spend_view(found, spent).itertuples() if r.service != "all"]
    order = sorted(pack.jobs, key=lambda j: (j.kind != "account", j.account_id, j.region, j.function_name, j.name))
    thresholds = "; ".join(f"{k} {v}" for k, v in asdict(result.thresholds).items()
                           if k not in ("secret_names", "secret_reference_suffixes"))
    from .notebook_pages import PLOTLY_FILE

    return {
        "run": pack.run_dir.name, "css": CSS, "version": __version__,
        "plotly_src": "" if opts["inline_plotly"] else PLOTLY_FILE,
        "meta": {"source": m.get("source"), "start": str(m["start"])[:10], "end": str(m["end"])[:10],
                 "accounts": ", ".join(snapshot.accounts), "regions": ", ".join(snapshot.regions),
                 "functions": len(snapshot.functions), "as_of": result.as_of, "as_of_basis": result.as_of_basis,
                 "redacted": bool(m.get("redacted"))},
        "cards": [{"label": a, "value": b, "note": c} for a, b, c in cards],
        "failed": [_job(j, pack.run_dir) for j in failed],
        "check_errors": [{"module": r.module, "error": r.error} for r in result.errors.itertuples()],
        "flags": list(result.flags or []),
        "sections": [{"section": section, "findings": int(r["findings"]), "high": int(r["high"]),
                      "medium": int(r["medium"]), "low": int(r["low"]),
                      "savings": f"${r['monthly_usd']:,.2f} (${r['monthly_low_usd']:,.2f}–${r['monthly_high_usd']:,.2f})",
                      "sum": f"${r['sum_usd']:,.2f}"}
                     for section, r in tot.iterrows()],
        "services": services,
        "spend_total": f"${summ['spend_usd']:,.2f}" if summ["spend_usd"] == summ["spend_usd"] else "unknown",
        "savings_total": f"${summ['savings_usd']:,.2f}",
        "chart": chart,
        "risks": risks,
        "findings": findings,
        "more": {"risks": len(risky) - len(risks), "risks_total": len(risky), "findings": len(found) - len(findings),
                 "findings_total": len(found)},
        "reports": [_job(j, pack.run_dir) for j in order],
        "how": {"thresholds": thresholds,
                "module_thresholds": json.dumps(result.module_thresholds) if result.module_thresholds else "",
                "engine_seconds": f"{sum(result.seconds.values()):,.1f}",
                "notebook_seconds": f"{pack.seconds.get('notebooks', 0):,.1f}",
                "has_log": (pack.run_dir / "notebooks.log").exists()},
    }


def render_index(pack, snapshot, result, opts: dict[str, Any]) -> str:
    """The pack's front page: totals, the findings ranked by dollars with evidence and links, the reports."""
    return _environment().get_template(TEMPLATE).render(**context(pack, snapshot, result, opts))


def write_latest(out: Path, run_dir: Path) -> Path:
    """``<out>/index.html``: the latest run's index with links into ``<run>/``, plus the list of runs."""
    text = (run_dir / "index.html").read_text(encoding="utf-8")
    prefix = f"{run_dir.name}/"
    text = re.sub(r"""\b(href|src)=(["'])(?!https?:|#|/|data:)([^"']+)\2""",
                  lambda mm: f"{mm.group(1)}={mm.group(2)}{prefix}{mm.group(3)}{mm.group(2)}", text)
    runs = sorted((p for p in out.iterdir() if (p / "review.json").exists()), key=lambda p: p.name, reverse=True)
    items = "".join(f'<li><a href="{html.escape(p.name)}/index.html">{html.escape(p.name)}</a></li>' for p in runs)
    text = text.replace("<!--RUNS-->", f"<h2>Review runs</h2><ul>{items}</ul>")
    return atomicfile.write_text(out / "index.html", text)


def write_files(pack, snapshot, result, opts: dict[str, Any]) -> None:
    """The run's files: ``findings.md``/``.json`` for tickets, ``review.json`` (the record), ``index.html``."""
    from . import review

    run = pack.run_dir
    m = snapshot.manifest
    context = (f"Source {m.get('source')}, window {str(m['start'])[:10]} to {str(m['end'])[:10]}; accounts "
               f"{', '.join(snapshot.accounts)}; regions {', '.join(snapshot.regions)}. Runtime support judged as of "
               f"{result.as_of} ({result.as_of_basis}).")
    links = {k: ", ".join(f"{j.name}: {j.out}.html" for j in js) for k, js in deep_links(pack.jobs).items()}
    atomicfile.write_text(run / "findings.md", review.to_markdown(pack.findings, context=context, links=links,
                                                                  spend=getattr(result, "spend", None)))
    atomicfile.write_json(run / "findings.json", {**review.results(result, top=len(pack.findings)),
                                                  "columns": review.COLUMNS})
    record = {
        "workbook": __version__, "run": run.name, "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "options": {k: v for k, v in opts.items() if k not in ("thresholds", "module_thresholds")},
        "snapshot": {"source": m.get("source"), "start": str(m["start"]), "end": str(m["end"]),
                     "accounts": snapshot.accounts, "regions": snapshot.regions,
                     "functions": int(len(snapshot.functions)), "redacted": bool(m.get("redacted"))},
        "review": result.meta(), "totals": review.results(result, top=0),
        "notebooks": [{**{k: v for k, v in asdict(j).items() if k != "parameters"}, "html": f"{j.out}.html" if j.has_html
                       else None, "ipynb": f"{j.out}.ipynb", "results": f"{j.out}.results.json",
                       "link": j.link() if j.has_html else None} for j in pack.jobs],
        "seconds": {k: round(v, 2) for k, v in pack.seconds.items()},
        "exit_code": pack.exit_code,
    }
    atomicfile.write_json(run / "review.json", record)
    atomicfile.write_text(pack.index, render_index(pack, snapshot, result, opts))
