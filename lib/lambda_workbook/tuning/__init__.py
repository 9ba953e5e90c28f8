"""Active memory tuning: measure a function at a few sizes, chosen adaptively, until the choice is sure.

The sampling logic is pure: :func:`tune` calls an injected ``invoke(memory_mb) -> mapping`` and never touches
AWS (the AWS invoker lives in :mod:`lambda_workbook.sources.aws_invoker`; :func:`simulated_function` and
:func:`replayed_function` are offline stand-ins). The parts:

* :mod:`.sampling` — the loop: anchors, which size next, when to stop (:func:`tune`);
* :mod:`.stopping` — the comparison of measured sizes and the claimed confidence;
* :mod:`.samples` — classifying one invocation (warm, cold, out of memory, timeout, error);
* :mod:`.result` — :class:`TuningResult`;
* :mod:`.simulate` — the offline stand-ins.
"""

from .result import TuningResult
from .samples import SAMPLE_COLUMNS, TuningError, anchors, check_options, classify_sample
from .sampling import tune
from .simulate import replayed_function, simulated_function

_check_options, _classify = check_options, classify_sample  # the earlier private names

__all__ = ["SAMPLE_COLUMNS", "TuningError", "TuningResult", "anchors", "check_options", "classify_sample",
           "replayed_function", "simulated_function", "tune"]
