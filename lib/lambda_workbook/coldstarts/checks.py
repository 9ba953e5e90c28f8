"""Cold-start and INIT findings from evidence: frequent cold starts, long INIT, provisioned concurrency that idles
or is too small (or would pay for a steady load), VPC attachment and per-invocation setup (:func:`findings`)."""

from __future__ import annotations

import numbers
import re
from typing import Any

import numpy as np
import pandas as pd

from .. import billing, costs
from .. import findings as _findings
from .. import prices as _prices
from ..analysis import enabled, per_snapshot
from ..engine import fanout
from ..initpriors import init_prior, priors
from ..memory import runtime_family
from .function import for_function
from .provisioned import pc_count_for_cost, pc_options, snapstart, snapstart_cost, snapstart_words
from .series import ByFunction, metric_series, series_from_rows
from .snapshot import analyse, exported

THRESHOLDS: dict[str, float | None] = {
    # AWS: INITs typically occur in under 1% of invocations ("AWS Lambda standardizes billing for INIT Phase",
    # https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/)
    "min_cold_share": 0.01,
    "min_cold_starts": 10.0,       # evidence floor over the window
    "min_p99_inflation": 1.5,      # p99 with cold starts / p99 of warm invocations (synchronous callers)
    "min_init_usd": 5.0,           # billed INIT per month worth a finding on its own
    "init_heavy_ms": 1000.0,       # observed INIT p50
    "init_share": 0.25,            # INIT share of the function's billed time
    "pc_utilisation": None,        # None = the price book's break-even utilisation
    "min_savings_usd": 5.0,        # provisioned-concurrency changes worth proposing
    "spillover_share": 0.01,       # provisioned concurrency too small
    "setup_calls_per_invocation": 0.5,
    "medium_usd": 10.0,            # severity of a priced saving: medium from this USD a month (the review's)
    "high_usd": 100.0,             # ... high from this
}


FINDING_COLUMNS = ["id", "severity", "function_name", "account_id", "region", "title", "evidence", "evidence_path",
                   "monthly_impact_usd", "monthly_impact_low_usd", "monthly_impact_high_usd", "recommendation",
                   "section", "heuristic"]


SETUP_OPERATIONS = {"secretsmanager": ("getsecretvalue",), "ssm": ("getparameter",), "kms": ("decrypt",),
                    "sts": ("assumerole", "getcalleridentity"), "appconfig": ("getconfiguration", "startconfiguration")}


SETUP_WORDS = ("connect", "handshake", "createclient", "login", "newclient", "init")


def _thresholds(overrides: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(THRESHOLDS))
    if unknown:
        raise ValueError(f"unknown threshold(s) {unknown}; coldstarts.findings takes {', '.join(THRESHOLDS)}")
    out = dict(THRESHOLDS)
    for key, value in overrides.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0):
            raise ValueError(f"threshold {key!r} must be a number >= 0 (or None), got {value!r}")
        out[key] = value
    return out


def _finding(r, fid: str, severity: str, title: str, evidence: str, path: str, impact: float, low: float,
             high: float, recommendation: str, section: str, heuristic: bool) -> dict[str, Any]:
    return {"id": fid, "severity": severity, "function_name": r.function_name, "account_id": r.account_id,
            "region": r.region, "title": title, "evidence": evidence, "evidence_path": path,
            "monthly_impact_usd": impact, "monthly_impact_low_usd": low, "monthly_impact_high_usd": high,
            "recommendation": recommendation, "section": section, "heuristic": heuristic}


@per_snapshot
@exported
def findings(snapshot, *, table: pd.DataFrame | None = None, book: _prices.PriceBook | None = None,
             pricing: _prices.Pricing | None = None, **thresholds) -> pd.DataFrame:
    """Cold-start and INIT findings with evidence, dollars and a recommendation (thresholds: :data:`THRESHOLDS`).

    ids: ``cold-starts`` (frequent cold starts that inflate a synchronous p99 or bill real INIT money),
    ``init-heavy`` (long INIT; package size and layers as heuristic causes), ``provisioned-concurrency``
    (idle or too small provisioned concurrency, or a steady load it would serve for less), ``vpc-init``
    (heuristic: VPC attachment on a function with frequent cold starts) and ``per-invocation-setup``
    (heuristic: traced secret/parameter fetches or connection handshakes on every invocation).
    """
    th = _thresholds(thresholds)
    pricing = _prices.for_snapshot(snapshot, book=book, pricing=pricing)
    given = table is not None
    table = analyse(snapshot, pricing=pricing) if table is None else table
    # each function on its own rows: in chunks, on more than one process for a big snapshot. A worker reads the
    # analysis table from the memo it received (a table handed in, or no memo, travels with every chunk)
    whole = table if given or not enabled() else None
    out = fanout.map_chunks(findings_chunk, snapshot, table, th=th, pricing=pricing, table=whole)
    df = pd.DataFrame(out, columns=FINDING_COLUMNS)
    order = {"high": 0, "medium": 1, "low": 2}
    return df.sort_values(["severity", "monthly_impact_usd"], key=lambda c: c.map(order) if c.name == "severity"
                          else -c.fillna(0), ignore_index=True)


def findings_chunk(snapshot, rows: pd.DataFrame, scope: dict[str, Any], *, th: dict[str, Any],
                   pricing: _prices.Pricing, table: pd.DataFrame | None) -> list[dict[str, Any]]:
    """:func:`findings`' rows for a slice of the analysis table (a task of
    :func:`lambda_workbook.engine.fanout.map_chunks`); ``table``: the whole table, None = :func:`analyse`'s."""
    if table is None:
        if "coldstarts.table" not in scope:
            scope["coldstarts.table"] = analyse(snapshot, pricing=pricing)
        table = scope["coldstarts.table"]
    if "coldstarts.checks" not in scope:
        scope["coldstarts.checks"] = ByFunction(snapshot)
    by = scope["coldstarts.checks"]
    # only the functions whose PC check reads their per-minute metrics: a block read for every function of the
    # chunk would bring in rows that most of them never ask for
    by.plan(rows.loc[_reads_metrics(rows, th), ["account_id", "region", "function_name"]]
            .itertuples(index=False, name=None))
    index, days = _Recent(by), snapshot.window_days
    out: list[dict[str, Any]] = []
    for r in rows.itertuples():
        out += _cold_start_findings(r, th, days, pricing)
        out += _pc_findings(snapshot, index, table, r, th, pricing)
        out += _setup_findings(snapshot, index, r, th, pricing)
    return out


def _reads_metrics(rows: pd.DataFrame, th: dict[str, Any]) -> np.ndarray:
    """Which rows of the analysis table :func:`_pc_findings` looks up the metrics of: traffic with a known
    duration, and provisioned concurrency or a mean concurrency at its utilisation limit."""
    limit = rows["pc_breakeven"] if th["pc_utilisation"] is None else th["pc_utilisation"]
    active = (rows["invocations"] > 0) & rows["duration_mean_ms"].notna()
    return (active & ((rows["provisioned"] > 0) | ~(rows["concurrency_mean"] < limit))).to_numpy()


class _Recent:
    """A :class:`ByFunction` that keeps the rows of the function asked last: the checks of one function read
    its ``metrics`` several times (series, concurrency, spillover), and on a snapshot still on disk each read
    is a query."""

    def __init__(self, index: ByFunction) -> None:
        self.index = index
        self.snapshot = index.snapshot
        self._key: tuple | None = None
        self._rows: dict[str, pd.DataFrame] = {}

    def rows(self, table: str, fn) -> pd.DataFrame:
        key = tuple(fn) if isinstance(fn, tuple) else (fn["account_id"], fn["region"], fn["function_name"])
        if key != self._key:
            self._key, self._rows = key, {}
        if table not in self._rows:
            self._rows[table] = self.index.rows(table, key)
        return self._rows[table]


def _cold_start_findings(r, th: dict[str, Any], days: float, pricing: _prices.Pricing) -> list[dict[str, Any]]:
    out = []
    share = r.cold_share if r.cold_share == r.cold_share else 0.0
    observed_init = not str(r.init_source).startswith("prior")
    n_cold = r.cold_starts
    path = _findings.join_path([r.cold_source, "INIT: " + r.init_source.split(';')[0], r.series_path])
    latency_hit = bool(r.sync) and r.p99_inflation == r.p99_inflation and r.p99_inflation >= th["min_p99_inflation"]
    money_hit = r.init_usd_month >= th["min_init_usd"]
    if share >= th["min_cold_share"] and n_cold >= th["min_cold_starts"] and (latency_hit or money_hit):
        severity = "high" if latency_hit and share >= 5 * th["min_cold_share"] else ("medium" if latency_hit else "low")
        prior = init_prior(r.runtime, r.package_type, 0.0, arch=r.arch)["median_ms"]
        trim = r.init_usd_month * max(0.0, 1.0 - prior / r.init_mean_ms) if r.init_mean_ms > 0 else 0.0
        evidence = (f"{n_cold:,.0f} of {r.invocations:,.0f} invocations started cold ({share:.1%}) in {days:g} days "
                    f"(modelled {r.modelled_cold_starts:,.0f} with {r.model} routing); INIT p50 "
                    f"{r.init_p50_ms:,.0f} ms; p99 {r.p99_warm_ms:,.0f} ms warm vs {r.p99_ms:,.0f} ms with cold starts"
                    f"{' (synchronous caller)' if r.sync else ''}; billed INIT ${r.init_usd_month:,.2f}/month")
        out.append(_finding(
            r, "cold-starts", severity, f"{share:.0%} of invocations are cold starts" + (
                f" and lift p99 {r.p99_inflation:.1f}x" if latency_hit else ""), evidence, path,
            r.init_usd_month, trim, r.init_usd_month, cold_start_advice(r, pricing=pricing), "execution environment", False))
    heavy = observed_init and r.init_p50_ms >= th["init_heavy_ms"]
    heavy_share = r.init_share_of_time >= th["init_share"]
    if (heavy or heavy_share) and n_cold >= th["min_cold_starts"]:
        small = init_prior(r.runtime, r.package_type, 0.0, arch=r.arch)
        sized = init_prior(r.runtime, r.package_type, r.code_size_mb * 2**20, vpc=bool(r.vpc), arch=r.arch)
        trim = r.init_usd_month * max(0.0, 1.0 - small["median_ms"] / r.init_mean_ms) if r.init_mean_ms > 0 else 0.0
        evidence = (f"INIT p50 {r.init_p50_ms:,.0f} ms, p99 {r.init_p99_ms:,.0f} ms over {n_cold:,.0f} cold starts; "
                    f"{r.init_share_of_time:.0%} of the function's billed time is INIT; package {r.code_size_mb:.1f} MiB "
                    f"zipped, {int(r.layer_count)} layer(s){', VPC-attached' if r.vpc else ''}. A small "
                    f"{'image' if str(r.package_type).lower() == 'image' else runtime_family(r.runtime)} package typically "
                    f"initialises in ~{small['median_ms']:,.0f} ms; "
                    f"heuristic for this size: ~{sized['median_ms']:,.0f} ms")
        out.append(_finding(
            r, "init-heavy", "high" if heavy and r.sync else "medium",
            f"INIT takes {r.init_p50_ms / 1000:.1f} s ({r.init_share_of_time:.0%} of billed time)", evidence,
            f"{r.init_source.split(';')[0]}; functions.code_size_bytes, layer_count", trim, 0.5 * trim,
            r.init_usd_month, _init_advice(r), "function code", True))
    if r.vpc and bool(r.sync) and share >= th["min_cold_share"] and n_cold >= th["min_cold_starts"]:
        extra = priors()["vpc"]["extra_ms"]
        evidence = (f"VPC-attached, {share:.1%} cold starts on a synchronous path; published 2020 medians: "
                    f"{extra:.0f} ms more per cold start with a VPC (0.50 s vs 0.26 s)")
        out.append(_finding(
            r, "vpc-init", "low", "VPC attachment adds to frequent cold starts (heuristic)", evidence,
            f"functions.vpc_id; {r.cold_source}; init priors (vpc)", float("nan"), float("nan"), float("nan"),
            "Keep the VPC only if the function reaches private resources; otherwise detach it. If it must stay, "
            "cut cold starts (keep traffic warm, SnapStart/PC) rather than INIT code.", "execution environment", True))
    return out


def cold_start_advice(r, *, pricing: _prices.Pricing | None = None) -> str:
    ss = snapstart(r.runtime, package_type=r.package_type, ephemeral_mb=r.ephemeral_storage_mb, provisioned=r.provisioned)
    if ss["eligible"] and not ss["charged"]:
        first = "Enable SnapStart on a published version (free for Java): restores replace the INIT"
    elif ss["eligible"]:
        cost = snapstart_cost(r.memory_mb, r.cold_starts_month, runtime=r.runtime, arch=r.arch, region=r.region,
                              pricing=pricing)
        price = (f"about ${cost['total_usd']:,.2f}/month here for one published version at today's cold starts"
                 if cost["total_usd"] == cost["total_usd"] else f"the {r.arch} price is not in the price book")
        first = f"Consider SnapStart (Python 3.12+ and .NET 8+ pay its cache and restore: {price})"
    else:
        first = f"SnapStart is not available ({ss['reason']})"
    return (f"{first}; trim INIT (fewer dependencies, lazy imports); where latency matters during known hours, "
            "a scheduled provisioned environment (see the cold-starts notebook's options) keeps one warm.")


def _snapstart_tail(r) -> str:
    ss = snapstart(r.runtime, package_type=r.package_type, ephemeral_mb=r.ephemeral_storage_mb)
    if not ss["eligible"]:
        return "."
    if ss["charged"]:
        return "; SnapStart removes most INIT without PC (this runtime pays its cache and restore charges)."
    return "; SnapStart removes most INIT without PC (free for Java: no cache or restore charge)."


def _init_advice(r) -> str:
    text = (f"Minimise what runs before the handler: {r.code_size_mb:.0f} MiB zipped and {int(r.layer_count)} layer(s) "
            "suggest unused dependencies; import lazily what only some paths need; create SDK clients once, "
            "outside the handler, but only those every path uses.")
    if runtime_family(r.runtime) == "java":
        text += " For Java frameworks, SnapStart (free) or a lighter DI container shortens INIT most."
    return text


def _pc_findings(snapshot, index: ByFunction, table: pd.DataFrame, r, th: dict[str, Any],
                 pricing: _prices.Pricing) -> list[dict[str, Any]]:
    if r.invocations <= 0 or r.duration_mean_ms != r.duration_mean_ms:
        return []
    limit = th["pc_utilisation"] if th["pc_utilisation"] is not None else r.pc_breakeven
    if r.provisioned > 0:
        where = {"account_id": r.account_id, "region": r.region}
        detail = for_function(snapshot, r.function_name, table=table, pricing=pricing, _index=index, **where)
        opts = detail.options
        current = opts[opts["current"]]
        if current.empty:
            return []
        cur = float(current["total_usd"].iloc[0])
        util = r.pc_utilisation
        out = []
        spill = metric_series(index.rows("metrics", (r.account_id, r.region, r.function_name)),
                              "ProvisionedConcurrencySpilloverInvocations", "Sum").sum()
        if util < limit and r.concurrency_peak < r.provisioned:
            alternatives = opts[~opts["current"] & opts["total_usd"].notna()]
            best = alternatives.loc[alternatives["total_usd"].idxmin()]
            safe = opts[(opts["provisioned"] > 0) & ~opts["current"] & (opts["schedule"] == "")]
            safe_cost = float(safe["total_usd"].min()) if len(safe) else float(best["total_usd"])
            evidence = (f"{int(r.provisioned)} provisioned environments, observed peak concurrency {r.concurrency_peak:g} "
                        f"(hourly ConcurrentExecutions max), mean {r.concurrency_mean:.3f} busy: utilisation "
                        f"{util:.2%} against a break-even of {r.pc_breakeven:.0%}; PC costs ${cur:,.2f}/month; "
                        + snapstart_words(best, r.runtime))
            out.append(_finding(
                r, "provisioned-concurrency", min(_findings.Severity(th["medium_usd"], th["high_usd"])(
                    cur - float(best["total_usd"])), "medium", key=_findings.SEVERITIES.index),
                f"Provisioned concurrency {int(r.provisioned)} for a peak of {r.concurrency_peak:g}", evidence,
                "functions.provisioned_concurrency; metrics:ConcurrentExecutions (Maximum, 3600 s); price book",
                cur - float(best["total_usd"]), cur - safe_cost, cur - float(best["total_usd"]),
                f"Cheapest option: {'remove PC and enable SnapStart' if best['option'] == 'SnapStart' else best['option']} "
                f"(${best['total_usd']:,.2f}/month in all). To keep cold starts away, size PC to the observed peak "
                f"({r.concurrency_peak:g}) and schedule it for busy hours" + _snapstart_tail(r),
                "execution environment", False))
        if r.invocations and spill / r.invocations >= th["spillover_share"]:
            out.append(_finding(
                r, "provisioned-concurrency", "medium", "Provisioned concurrency too small: requests spill over",
                f"{spill:,.0f} of {r.invocations:,.0f} invocations ({spill / r.invocations:.1%}) spilled to on-demand "
                f"environments despite {int(r.provisioned)} provisioned", "metrics:ProvisionedConcurrencySpilloverInvocations",
                float("nan"), float("nan"), float("nan"),
                f"Raise provisioned concurrency towards the observed peak ({r.concurrency_peak:g}) for the busy hours.",
                "execution environment", False))
        return out
    if r.concurrency_mean < limit:   # even one environment would idle more than break-even allows
        return []
    series = series_from_rows(snapshot, index.rows("metrics", (r.account_id, r.region, r.function_name)))
    best_n = pc_count_for_cost(series, r.duration_mean_ms, arch=r.arch, region=r.region, pricing=pricing)
    if best_n == 0:
        return []
    opts = pc_options(series, r.duration_mean_ms, r.memory_mb, arch=r.arch, init_ms=r.init_mean_ms,
                      counts=(0, best_n), model=r.model, runtime=r.runtime, package_type=r.package_type,
                      ephemeral_mb=r.ephemeral_storage_mb, snapstart_option=False, region=r.region,
                      pricing=pricing)
    base = float(opts["total_usd"].iloc[0])
    best = opts.loc[opts["total_usd"].idxmin()]
    saving = base - float(best["total_usd"])
    if best["provisioned"] > 0 and saving >= th["min_savings_usd"]:
        return [_finding(
            r, "provisioned-concurrency", _findings.Severity(th["medium_usd"], th["high_usd"])(saving),
            f"{int(best['provisioned'])} provisioned environment(s) would cost "
            "less than on-demand for the steady load",
            f"mean concurrency {r.concurrency_mean:.2f}; PC {int(best['provisioned'])} would be {best['pc_utilisation']:.0%} "
            f"utilised (break-even {r.pc_breakeven:.0%}): ${best['total_usd']:,.2f} vs ${base:,.2f}/month on demand",
            f"{r.series_path}; price book", saving, 0.5 * saving, saving,
            f"Provision {int(best['provisioned'])} environment(s) on an alias; watch the utilisation metric.",
            "execution environment", False)]
    return []


def _is_setup(service: str, operation: str) -> bool:
    """A listed secret/parameter/credential fetch, or an operation whose name reads like a client setup."""
    op = _NOT_LETTERS.sub("", operation.lower())
    return any(op.startswith(p) for p in SETUP_OPERATIONS.get(service.lower(), ())) or any(w in op for w in SETUP_WORDS)


_NOT_LETTERS = re.compile(r"[^a-z]")


def _setup_calls(calls: pd.DataFrame, per_invocation: float) -> np.ndarray:
    """Which of a function's traced calls are setup work done on (nearly) every invocation."""
    services, operations = calls["service"].to_numpy(), calls["operation"].to_numpy()
    if per_invocation is None or calls["calls_per_invocation"].dtype != np.float64 or \
            not all(isinstance(x, str) for x in (*services, *operations)):   # the pandas methods, as written
        service = calls["service"].str.lower()
        op = calls["operation"].str.lower().str.replace(r"[^a-z]", "", regex=True)
        listed = pd.Series([any(o.startswith(p) for p in SETUP_OPERATIONS.get(sv, ())) for sv, o in
                            zip(service, op, strict=True)], index=calls.index, dtype=bool)
        worded = op.apply(lambda o: any(w in o for w in SETUP_WORDS))
        return ((listed | worded) & (calls["calls_per_invocation"] >= per_invocation)).to_numpy()
    setup = np.array([_is_setup(sv, o) for sv, o in zip(services, operations, strict=True)], dtype=bool)
    return setup & (calls["calls_per_invocation"].to_numpy() >= per_invocation)


def _setup_findings(snapshot, index: ByFunction, r, th: dict[str, Any], pricing: _prices.Pricing) -> list[dict[str, Any]]:
    calls = index.rows("calls", {"account_id": r.account_id, "region": r.region, "function_name": r.function_name})
    if calls.empty or r.invocations <= 0:
        return []
    hits = calls[_setup_calls(calls, th["setup_calls_per_invocation"])]
    if hits.empty:
        return []
    per_inv_ms = float((hits["calls_per_invocation"] * hits["mean_ms"]).sum())
    setup_ms = r.invocations * costs.month_factor(snapshot) * per_inv_ms   # a month of it, GB-s priced by billing
    usd = float(billing.cost_from_totals(0.0, setup_ms, r.memory_mb, r.arch, book=pricing.book(r.region)))
    what = "; ".join(f"{h.service}:{h.operation} {h.calls_per_invocation:.2f}/invocation x {h.mean_ms:.0f} ms"
                     for h in hits.itertuples())
    share = per_inv_ms / r.duration_mean_ms if r.duration_mean_ms else float("nan")
    return [_finding(
        r, "per-invocation-setup", "medium" if share >= 0.1 else "low",
        "Clients or configuration set up on every invocation (heuristic)",
        f"{what} (evidence: {', '.join(sorted(set(hits['evidence'])))}): {per_inv_ms:.0f} ms per invocation, "
        f"{share:.0%} of the mean duration. The API calls' own fees are not in the price book (not counted)",
        "calls (traced downstream calls)", usd, 0.5 * usd, usd,
        "Fetch secrets/parameters and open connections once in INIT (module scope) and cache them with a TTL; "
        "reuse HTTP keep-alive and database connections (or a proxy) instead of connecting per request.",
        "function code", True)]
