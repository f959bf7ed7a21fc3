"""Cached data loading for the pages.

``st.cache_resource`` holds connections (read engine, the store for the one
write the dashboard does: redelivery); ``st.cache_data`` holds query results,
keyed by the database URL so several stores never mix. Results expire after
:data:`TTL_S` seconds so new runs show up without restarting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from dashboards import model_queries, queries, webhook_queries
from dashboards.distributions import ColumnHistogram, column_histogram
from dashboards.sources import read_engine, store_exists
from monitor.store import Store

TTL_S = 30


@st.cache_resource(show_spinner=False)
def engine_for(db_url: str) -> Engine:
    """The read-only engine of a store (one per process)."""
    return read_engine(db_url)


@st.cache_resource(show_spinner=False)
def store_for(db_url: str) -> Store:
    """The writable store, for the dashboard's few writes: redelivery, acknowledging and
    silencing alerts."""
    return Store(db_url)


def store_state(db_url: str) -> str:
    """``ready``, ``missing`` (no database), ``unmigrated`` or the connection error."""
    if not store_exists(db_url):
        return "missing"
    try:
        return "ready" if queries.schema_ready(engine_for(db_url)) else "unmigrated"
    except SQLAlchemyError as err:
        return f"{type(err).__name__}: {str(err).splitlines()[0]}"


@st.cache_data(ttl=TTL_S, show_spinner=False)
def fleet(db_url: str) -> pd.DataFrame:
    return queries.fleet_overview(engine_for(db_url))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def versions(db_url: str) -> pd.DataFrame:
    return queries.model_versions(engine_for(db_url))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def monitors(db_url: str, name: str, version: str) -> list[str]:
    return model_queries.monitors_of(engine_for(db_url), name, version)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def runs(db_url: str, monitor: str) -> pd.DataFrame:
    return model_queries.runs_of(engine_for(db_url), monitor)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def results(db_url: str, monitor: str) -> pd.DataFrame:
    return model_queries.results_of(engine_for(db_url), monitor)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def alert_states(db_url: str) -> pd.DataFrame:
    return webhook_queries.alert_states(engine_for(db_url))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def alert_events(db_url: str) -> pd.DataFrame:
    return webhook_queries.alert_events(engine_for(db_url))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def deliveries(db_url: str) -> pd.DataFrame:
    return webhook_queries.deliveries(engine_for(db_url))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def attempts(db_url: str, delivery_ids: tuple[int, ...]) -> pd.DataFrame:
    return webhook_queries.attempts(engine_for(db_url), delivery_ids)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def delivery_body(db_url: str, delivery_id: int) -> str | None:
    return webhook_queries.delivery_body(engine_for(db_url), delivery_id)


@st.cache_data(ttl=600, show_spinner=False)
def baseline_histogram(db_url: str, name: str, version: str, column: str) -> ColumnHistogram | None:
    """The baseline's histogram (numeric) or category counts of ``column``, if stored."""
    found = model_queries.baseline_document(engine_for(db_url), name, version)
    if found is None:
        return None
    return column_histogram(found, column)


@st.cache_data(ttl=600, show_spinner=False)
def window_values(
    home: str, spec: dict[str, Any], start: dt.datetime, end: dt.datetime, column: str
) -> list[Any]:
    """The window's logged values of ``column`` (read from the log store, not recomputed)."""
    from monitor.ingest.logstore import LogStore
    from monitor.spec.model_version import parse_model_version

    mv = parse_model_version(spec, source="store")
    chunks = [
        b.column(0).to_pylist() for b in LogStore(home).scan(mv, start, end, columns=[column])
    ]
    return [v for chunk in chunks for v in chunk]


def clear() -> None:
    """Forget cached query results (after a write such as redelivery)."""
    st.cache_data.clear()
