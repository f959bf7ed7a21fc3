"""Model versions and baselines round-trip on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from monitor.errors import ConflictError, NotFoundError
from monitor.spec.model_version import ModelVersion
from monitor.store import Store


def _mv(version: str = "1", **changes: object) -> ModelVersion:
    data: dict[str, object] = {
        "name": "credit",
        "version": version,
        "task": "binary",
        "features": {"age": "numeric", "purpose": "categorical"},
        "scores": ["score"],
        "target": "default",
    }
    data.update(changes)
    return ModelVersion.model_validate(data)


def test_register_get_list_round_trip(store: Store) -> None:
    store.register_model_version(_mv("2"))
    store.register_model_version(_mv("1"))
    store.register_model_version(_mv("1"))  # same spec again: no-op
    assert store.get_model_version("credit", "1") == _mv("1")
    assert [(m.name, m.version) for m in store.list_model_versions()] == [
        ("credit", "1"),
        ("credit", "2"),
    ]


def test_conflicting_spec_names_the_differing_fields(store: Store) -> None:
    store.register_model_version(_mv("1"))
    with pytest.raises(ConflictError, match=r"differing fields: \['features', 'target'\]"):
        store.register_model_version(
            _mv("1", target="y", features={"age": "numeric", "purpose": "text"})
        )


def test_unknown_version_lists_known_ones(store: Store) -> None:
    store.register_model_version(_mv("1"))
    with pytest.raises(
        NotFoundError, match=r"credit:9 is not registered; known versions: \['credit:1'\]"
    ):
        store.get_model_version("credit", "9")


def test_baseline_replaces_active_and_keeps_history(store: Store) -> None:
    store.register_model_version(_mv("1"))
    with pytest.raises(NotFoundError, match="raiwatch baseline create --model credit --version 1"):
        store.load_baseline("credit", "1")
    first = store.save_baseline("credit", "1", {"rows": 10, "nested": {"a": [1.5, None]}}, b"PAR1a")
    second = store.save_baseline("credit", "1", {"rows": 20}, b"PAR1\x00\xffb")
    assert second != first
    document, sample = store.load_baseline("credit", "1")
    assert document == {"rows": 20}
    assert sample == b"PAR1\x00\xffb"
    history = store.baseline_history("credit", "1")
    assert [(i, active) for i, active, _ in history] == [(first, False), (second, True)]


def test_baseline_for_unknown_version_fails(store: Store) -> None:
    with pytest.raises(NotFoundError, match="model register"):
        store.save_baseline("nope", "1", {}, b"")
