"""The dashboard's pages, by URL path.

Pages are plain functions; :func:`page` builds the ``st.Page`` for a URL path
(Streamlit identifies a callable page by its URL path, so a page built again
here is the page registered in ``app.py``). Page modules are imported lazily
so a page can link to another without an import cycle.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import NamedTuple

import streamlit as st


class PageSpec(NamedTuple):
    """Where a page's ``render`` lives and how it is shown in the menu."""

    module: str
    title: str
    icon: str


PAGES: dict[str, PageSpec] = {
    "overview": PageSpec("dashboards.views.overview", "Fleet overview", ":material/dashboard:"),
    "model": PageSpec("dashboards.views.model", "Model", ":material/monitoring:"),
    "alerts": PageSpec("dashboards.views.alerts", "Alerts & webhooks", ":material/notifications:"),
    "rai": PageSpec("dashboards.views.rai", "RAI review", ":material/balance:"),
    "lifecycle": PageSpec("dashboards.views.lifecycle", "Model lifecycle", ":material/compare_arrows:"),
}
DEFAULT_PAGE = "overview"


def _render(url_path: str) -> Callable[[], None]:
    def run() -> None:
        module = importlib.import_module(PAGES[url_path].module)
        module.render()

    run.__name__ = f"render_{url_path}"
    return run


def page(url_path: str) -> st.Page:
    """The ``st.Page`` of ``url_path`` (one of :data:`PAGES`)."""
    spec = PAGES[url_path]
    return st.Page(
        _render(url_path),
        title=spec.title,
        icon=spec.icon,
        url_path=url_path,
        default=url_path == DEFAULT_PAGE,
    )


def all_pages() -> list[st.Page]:
    """Every page, in menu order."""
    return [page(p) for p in PAGES]
