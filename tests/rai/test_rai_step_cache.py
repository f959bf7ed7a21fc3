"""Step caching: what runs is counted, not timed."""

from __future__ import annotations

from collections import Counter

from conftest import base_config

from rai import components
from rai.pipeline import build_from_frames


def test_cached_components_do_not_run_again(binary_data, tmp_path, monkeypatch) -> None:
    train, test, model = binary_data
    calls: Counter[str] = Counter()
    for name, function in list(components.COMPONENTS.items()):

        def counted(inputs, _name=name, _function=function):
            calls[_name] += 1
            return _function(inputs)

        monkeypatch.setitem(components.COMPONENTS, name, counted)
    config = base_config(components=["performance", "error_analysis", "fairness"])
    cache = tmp_path / "cache"
    first = build_from_frames(model, train, test, config=config, cache_dir=cache)
    assert calls == {"performance": 1, "error_analysis": 1, "fairness": 1}
    again = build_from_frames(model, train, test, config={**config, "gates": []}, cache_dir=cache)
    assert calls == {"performance": 1, "error_analysis": 1, "fairness": 1}
    assert set(again.manifest["steps"].values()) == {"reused"}
    assert again.components["error_analysis"].summary == first.components["error_analysis"].summary
    changed = build_from_frames(
        model, train.assign(noise_b=train["noise_b"] + 1), test, config=config, cache_dir=cache
    )
    assert calls == {"performance": 2, "error_analysis": 2, "fairness": 2}  # new data: all
    assert set(changed.manifest["steps"].values()) == {"computed"}
    build_from_frames(model, train, test, config={**config, "seed": 5}, cache_dir=cache)
    assert calls == {"performance": 3, "error_analysis": 3, "fairness": 3}
