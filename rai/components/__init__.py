"""The RAI components, in run order, as a plain registry anyone can grep."""

from __future__ import annotations

from collections.abc import Callable

from rai.components.causal import run_causal
from rai.components.counterfactual import run_counterfactual
from rai.components.error_analysis import run_error_analysis
from rai.components.explanation import run_explanation
from rai.components.fairness import run_fairness
from rai.components.performance import run_performance
from rai.results import ComponentResult
from rai.validate import RaiInputs

COMPONENTS: dict[str, Callable[[RaiInputs], ComponentResult]] = {
    "performance": run_performance,
    "explanation": run_explanation,
    "error_analysis": run_error_analysis,
    "causal": run_causal,
    "counterfactual": run_counterfactual,
    "fairness": run_fairness,
}

__all__ = ["COMPONENTS"]
