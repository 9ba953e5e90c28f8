"""Memory and architecture: a duration model fitted to real measurements, and decisions in dollars with their
uncertainty.

* :mod:`.curve` — the family of duration-vs-memory curves (CPU share, burst credit, overlap of waits);
* :mod:`.priors` — their prior weights, fitted to public Lambda measurements (``data/memory/duration-priors.json``);
* :mod:`.model` — :func:`fit` and :class:`DurationModel` (``predict``, ``interval``, ``samples``);
* :mod:`.costing`, :mod:`.recommend` — monthly cost and the size that best meets a strategy;
* :mod:`.decision` — what to do (decrease, increase, measure first, keep; arm64) and every text about it;
* :mod:`.snapshot`, :mod:`.views` — a snapshot's functions, and the tables the notebook and the review show;
* :mod:`.memo`, :mod:`.lookup` — what the pass over every function shares: a model's draws (per seed and sizes)
  and the snapshot's per-function rows, each computed once; :mod:`.per_function` — one chunk of that pass
  (:mod:`lambda_workbook.engine.fanout` runs the chunks).
"""

from .costing import candidate_sizes, expected_billed_ms, monthly_cost
from .curve import MAX_VCPU, VCPU_MB
from .decision import Decision, Policy, decide
from .model import (
                    DEFAULT_CV,
                    DEFAULT_HEADROOM,
                    MAX_MB,
                    MIN_MB,
                    DurationModel,
                    ObservationError,
                    fit,
                    observations,
                    runtime_family,
)
from .recommend import STRATEGIES, Recommendation, compare_architectures, recommend
from .snapshot import (
                    FunctionRecommendation,
                    decide_function,
                    fit_function,
                    function_observations,
                    policy_from,
                    recommend_all,
                    recommend_for_function,
)
from .views import (
                    VIEW_COLUMNS,
                    MemoryPick,
                    compare_power_tuning,
                    describe,
                    measure_view,
                    pick,
                    pick_function,
                    policy,
                    results,
                    view,
)

__all__ = [
    "DEFAULT_CV", "DEFAULT_HEADROOM", "MAX_MB", "MAX_VCPU", "MIN_MB", "STRATEGIES", "VCPU_MB", "VIEW_COLUMNS",
    "Decision", "DurationModel", "FunctionRecommendation", "MemoryPick", "ObservationError", "Policy", "Recommendation",
    "candidate_sizes", "compare_architectures", "compare_power_tuning", "decide", "decide_function", "describe", "expected_billed_ms",
    "fit", "fit_function", "function_observations", "measure_view", "monthly_cost", "observations", "pick", "pick_function", "policy",
    "policy_from", "recommend", "recommend_all", "recommend_for_function", "results", "runtime_family", "view",
]
