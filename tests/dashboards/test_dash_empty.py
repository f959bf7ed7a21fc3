"""Empty and missing stores: every page says what happened and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboards.apptest import no_exception, run_page, texts


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("overview", "No model versions registered yet"),
        ("model", "No model versions registered yet"),
        ("alerts", "No alerts yet"),
    ],
)
def test_empty_store(empty_env: Path, page: str, message: str) -> None:
    at = run_page(page)
    no_exception(at)
    assert message in texts(at)


def test_empty_store_has_no_deliveries(empty_env: Path) -> None:
    assert "No webhook deliveries yet" in texts(run_page("alerts"))


@pytest.mark.parametrize("page", ["overview", "model", "alerts"])
def test_missing_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    monkeypatch.setenv("RAIWATCH_HOME", str(tmp_path / "nowhere"))
    monkeypatch.delenv("RAIWATCH_DATABASE_URL", raising=False)
    at = run_page(page)
    no_exception(at)
    assert "No raiwatch store at" in texts(at)
    assert "raiwatch demo" in texts(at)
