"""Cold starts, INIT and provisioned concurrency: how often a function's traffic finds no warm environment,
what INIT costs and adds to latency, and when provisioned concurrency or SnapStart pays.

* :mod:`.series` — invocations per minute: checked input, synthetic patterns, a snapshot function's series;
* :mod:`.pool` — the environment-reuse model and its closed form (:func:`cold_start_profile`,
  :func:`expected_cold_starts`), with :mod:`.poolterms` (the Poisson and survival terms its levels share) and
  :mod:`.poolwindows` (a level's eviction and reuse sums in one pass) and :mod:`.poolevict` (eviction chances);
  :func:`simulate` (:mod:`lambda_workbook.poolsim`) replays it event by event;
* :mod:`.init` — INIT estimates (observed, else a prior from :mod:`lambda_workbook.initpriors`) and latency;
* :mod:`.provisioned` — provisioned concurrency and SnapStart: break-even, schedules, options priced a month;
* :mod:`.snapshot`, :mod:`.function` — a snapshot's functions analysed (:func:`analyse`), one in depth;
  :mod:`.per_function` — one chunk of that analysis (:mod:`lambda_workbook.engine.fanout` runs the chunks);
* :mod:`.checks` — the findings (:func:`findings`); :mod:`.views` — the notebook's tables, summary and results.

Keep-alive windows and scenarios live in :mod:`lambda_workbook.keepalive` and are re-exported here. Everything
is pure: data in, numbers and DataFrames out.
"""

from ..initpriors import init_prior, priors
from ..keepalive import (
    DEFAULT_SCENARIO,
    RECYCLE_MIN,
    SCENARIOS,
    KeepAlive,
    PoolCohorts,
    Sweeps,
    keep_alive,
    p_cold_after_idle,
)
from ..poolsim import ROUTINGS, Simulation, simulate
from .checks import (
    FINDING_COLUMNS,
    SETUP_OPERATIONS,
    SETUP_WORDS,
    THRESHOLDS,
    cold_start_advice,
    findings,
)
from .function import FunctionColdStarts, for_function
from .init import init_estimate, latency_quantiles
from .pool import MODELS, cold_start_profile, expected_cold_starts
from .provisioned import (
    MONTH_MINUTES,
    SNAPSTART_MINIMUM,
    SNAPSTART_SOURCE,
    Schedule,
    busy_schedule,
    erlang_b,
    pc_breakeven_utilization,
    pc_count_for_cost,
    pc_options,
    snapstart,
    snapstart_cost,
    snapstart_words,
)
from .series import (
    PATTERNS,
    durations,
    invocation_series,
    is_counts,
    observed_concurrency,
    per_minute,
    synthetic_traffic,
)
from .snapshot import analyse, scenarios
from .views import OPTION_VIEW, VIEW, focus_function, options_view, results, schedule_parameter, summary, view

# The names these had when the package was one module (lambda_workbook.poolsim and the tests import them).
_durations, _is_counts, _cold_start_advice = durations, is_counts, cold_start_advice

__all__ = [
    "DEFAULT_SCENARIO", "FINDING_COLUMNS", "MODELS", "MONTH_MINUTES", "OPTION_VIEW", "PATTERNS", "RECYCLE_MIN",
    "ROUTINGS", "SCENARIOS", "SETUP_OPERATIONS", "SETUP_WORDS", "SNAPSTART_MINIMUM", "SNAPSTART_SOURCE", "THRESHOLDS",
    "VIEW", "FunctionColdStarts", "KeepAlive", "PoolCohorts", "Schedule", "Simulation", "Sweeps", "analyse",
    "busy_schedule", "cold_start_advice", "cold_start_profile", "durations", "erlang_b", "expected_cold_starts",
    "findings", "focus_function", "for_function", "init_estimate", "init_prior", "invocation_series", "is_counts",
    "keep_alive", "latency_quantiles", "observed_concurrency", "options_view", "p_cold_after_idle",
    "pc_breakeven_utilization", "pc_count_for_cost", "pc_options", "per_minute", "priors", "results", "scenarios",
    "schedule_parameter", "simulate", "snapstart", "snapstart_cost", "snapstart_words", "summary",
    "synthetic_traffic", "view",
]
