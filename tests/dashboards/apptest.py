"""Run one dashboard page under Streamlit's ``AppTest`` and read what it shows."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest


def run_page(page: str, timeout_s: float = 60.0, **query: str) -> AppTest:
    """Run ``dashboards.views.<page>.render()`` with ``query`` as URL query parameters."""
    at = AppTest.from_string(
        f"from dashboards.views.{page} import render\nrender()\n", default_timeout=timeout_s
    )
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def texts(at: AppTest) -> str:
    """Every title, markdown, caption, info, warning, error and success text, joined."""
    parts: list[str] = []
    for kind in (
        "title",
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
        "subheader",
    ):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def no_exception(at: AppTest) -> None:
    """Fail with the page's exception messages, if any."""
    assert not at.exception, [e.value for e in at.exception]


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first dataframe on the page that has ``column``."""
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    raise AssertionError(f"no dataframe with a {column!r} column on the page")
