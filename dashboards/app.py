"""Streamlit entry script of the raiwatch dashboard (``raiwatch dashboard`` runs it).

Webhook payloads link to ``/?model=…&version=…&monitor=…&run=…``; such a link
opens the model page on that run. Every page is behind :func:`dashboards.login.require_login`.
"""

from __future__ import annotations

import streamlit as st

from dashboards.login import require_login
from dashboards.navigation import DEFAULT_PAGE, all_pages, page


def main() -> None:
    """Configure the page, ask for a login when one is needed, route deep links, run the page."""
    st.set_page_config(page_title="raiwatch", page_icon=":material/monitoring:", layout="wide")
    if not require_login():
        st.stop()
    current = st.navigation(all_pages())
    if current.url_path in ("", DEFAULT_PAGE) and "model" in st.query_params:
        st.switch_page(page("model"), query_params=st.query_params.to_dict())
    st.sidebar.caption("raiwatch · reads stored results and bundles; never recomputes them")
    current.run()


main()
