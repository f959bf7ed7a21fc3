"""The runnable examples in rai docstrings hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "rai.results",
    "rai.data",
    "rai.components.error_analysis",
    "rai.components.fairness_intervals",
    "rai.components.causal_refutation",
    "rai.step_cache",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0
