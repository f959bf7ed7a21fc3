"""The demo bundle builds, its gates pass, and the public surface imports."""

from __future__ import annotations

import importlib

import pytest

import rai
from rai.bundle import InsightsBundle
from rai.demo import build_demo_bundle, make_credit_data


def test_every_public_name_imports() -> None:
    for name in rai.__all__:
        assert getattr(rai, name) is not None
    for module in ("rai.pipeline", "rai.bundle", "rai.gates", "rai.scorecard", "rai.demo"):
        importlib.import_module(module)


def test_demo_data_is_seeded() -> None:
    assert make_credit_data(50, seed=1).equals(make_credit_data(50, seed=1))
    assert not make_credit_data(50, seed=1).equals(make_credit_data(50, seed=2))


@pytest.mark.slow
def test_demo_bundle_passes_its_gates(tmp_path) -> None:
    path = build_demo_bundle(tmp_path / "demo", seed=0)
    bundle = InsightsBundle.load(path)
    assert all(result.ok for result in bundle.components.values())
    verdicts = bundle.gate_verdicts()
    assert len(verdicts) == 5 and all(v.passed for v in verdicts)
    top = bundle.components["explanation"].summary["top_features"]
    assert top[0] in {"debt_ratio", "income"}  # the generating process's strongest drivers
    effect = bundle.components["causal"].summary["effects"][0]
    assert effect["treatment"] == "debt_ratio" and effect["ci_low"] > 0
    assert (path / "scorecard.html").is_file() and (path / "scorecard.pdf").is_file()
