"""Counterfactual rows highlight exactly the features that differ from the original row."""

from __future__ import annotations

import pandas as pd

from dashboards.views.rai_whatif import highlight_changes


def test_only_changed_features_are_highlighted() -> None:
    original = pd.Series({"income": 40_000.0, "purpose": "car", "age": 30.0})
    cfs = pd.DataFrame(
        {
            "income": [55_000.0, 40_000.0],
            "purpose": ["car", "home"],
            "age": [30.0, 30.0],
            "n_changed": [1, 1],
        }
    )
    styles = highlight_changes(cfs, original, ["income", "purpose", "age"])._compute().ctx
    highlighted = {
        (r, c) for (r, c), props in styles.items() if any("background-color" in p[0] for p in props)
    }
    # (row, column position): row 0 changed income (col 0), row 1 changed purpose (col 1)
    assert highlighted == {(0, 0), (1, 1)}
    plain = highlight_changes(cfs, None, ["income"])._compute().ctx
    assert not any(props for props in plain.values())
