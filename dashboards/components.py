"""Small Streamlit building blocks shared by the pages: badges and empty states."""

from __future__ import annotations

from typing import Literal

import streamlit as st
from sqlalchemy.engine import Engine

from dashboards import data
from dashboards.sources import DashboardSources

BadgeColor = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray"]

STATUS_COLORS: dict[str, BadgeColor] = {
    "ok": "green",
    "warning": "orange",
    "alert": "red",
    "error": "violet",
    "no_data": "gray",
}
STATUS_ICONS: dict[str, str] = {
    "ok": "🟢",
    "warning": "🟠",
    "alert": "🔴",
    "error": "🟣",
    "no_data": "⚪",
}


def status_label(status: str) -> str:
    """``🔴 alert``, ``⚪ no data``: a status as text for tables and captions."""
    return f"{STATUS_ICONS.get(status, '❔')} {status.replace('_', ' ')}"


def status_badge(status: str, *, prefix: str = "") -> None:
    """A coloured badge for a status (``ok``, ``warning``, ``alert``, ``error``, ``no_data``)."""
    st.badge(f"{prefix}{status.replace('_', ' ')}", color=STATUS_COLORS.get(status, "gray"))


def empty_state(
    what: str, todo: str, *, kind: Literal["info", "warning", "error"] = "info"
) -> None:
    """Say what happened and what to do about it (never a traceback)."""
    show = {"info": st.info, "warning": st.warning, "error": st.error}[kind]
    show(f"**{what}**\n\n{todo}")


def sources() -> DashboardSources:
    """The store, bundle and report locations of this dashboard process."""
    return DashboardSources.from_env()


def require_store(src: DashboardSources) -> Engine | None:
    """The read engine of the store, or ``None`` after showing why there is none."""
    state = data.store_state(src.db_url)
    if state == "ready":
        return data.engine_for(src.db_url)
    if state == "missing":
        empty_state(
            f"No raiwatch store at {src.db_url}",
            "Create one with `raiwatch demo --home <dir>` (a complete example) or "
            "`raiwatch model register -f model.yaml`, then start the dashboard with "
            "`raiwatch dashboard --home <dir>` or set `RAIWATCH_HOME` / `RAIWATCH_DATABASE_URL`.",
        )
    elif state == "unmigrated":
        empty_state(
            "The store's tables do not exist yet",
            "Run any raiwatch command on this store once (for example `raiwatch model list`) "
            "to create its schema, then reload this page.",
        )
    else:
        empty_state(
            "The store could not be read",
            f"{state}. Check that the database is reachable and that `RAIWATCH_DATABASE_URL` "
            "is right, then reload.",
            kind="error",
        )
    return None
