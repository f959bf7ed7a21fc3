"""Responsible-AI review: build an insights bundle, a scorecard and release gates.

Public surface::

    from rai import build, build_from_frames, InsightsBundle, RaiConfig
"""

from __future__ import annotations

from rai.bundle import InsightsBundle
from rai.config import RaiConfig
from rai.errors import BundleError, RaiConfigError, RaiDataError, RaiError, RaiModelError
from rai.gates import GateSpec, GateVerdict, evaluate_gates
from rai.pipeline import build, build_from_frames

__all__ = [
    "BundleError",
    "GateSpec",
    "GateVerdict",
    "InsightsBundle",
    "RaiConfig",
    "RaiConfigError",
    "RaiDataError",
    "RaiError",
    "RaiModelError",
    "build",
    "build_from_frames",
    "evaluate_gates",
]
