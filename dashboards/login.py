"""The dashboard's login gate, run by ``app.py`` before any page.

* A password hash in the settings (``dashboard_password_hash``, made by
  ``raiwatch dashboard-password``): every browser session logs in once with the
  password or token; a wrong one is refused after a short delay.
* No hash, bound to loopback (the default ``127.0.0.1``): no login.
* No hash, bound beyond loopback: ``raiwatch dashboard`` refuses to start unless
  ``--no-login`` is given; with it, every page carries a warning. Should the app
  be started another way on such an address, it shows no data and says why.

The bind address comes from ``RAIWATCH_DASHBOARD_ADDRESS`` (set by ``raiwatch
dashboard``) or Streamlit's ``server.address``.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from dashboards.sources import ADDRESS_ENV, NO_LOGIN_ENV
from monitor.errors import SchemaError
from monitor.spec.passwords import is_loopback_address, verify_password
from monitor.spec.settings import load_settings

_SESSION_KEY = "raiwatch_logged_in"
WRONG_PASSWORD_DELAY_S = 1.0


def bound_address() -> str | None:
    """The address the dashboard serves on, when known."""
    return os.environ.get(ADDRESS_ENV) or st.get_option("server.address")


def require_login() -> bool:
    """Show the login form or a refusal when needed; ``True`` when the page may be shown."""
    try:
        password_hash = load_settings().dashboard_password_hash
    except SchemaError as err:
        st.error(f"The dashboard settings are invalid: {err}")
        return False
    address = bound_address()
    if password_hash is None:
        if address is None or is_loopback_address(address):
            return True
        if os.environ.get(NO_LOGIN_ENV) == "1":
            st.warning(
                f"This dashboard is served on {address} without a login (`--no-login`): anyone "
                "who can reach it sees every model. Set `dashboard_password_hash` to require one.",
                icon=":material/lock_open:",
            )
            return True
        st.error(
            f"This dashboard is bound to {address}, beyond loopback, and no login is configured, "
            "so it shows nothing. Set `dashboard_password_hash` (make one with "
            "`raiwatch dashboard-password`), or bind it to 127.0.0.1."
        )
        return False
    if st.session_state.get(_SESSION_KEY):
        if st.sidebar.button("Log out", key="raiwatch_logout"):
            st.session_state[_SESSION_KEY] = False
            st.rerun()
        return True
    return _login_form(password_hash)


def _login_form(password_hash: str) -> bool:
    st.title("raiwatch")
    with st.form("raiwatch_login"):
        password = st.text_input("Password or token", type="password", key="raiwatch_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        if password and verify_password(password, password_hash):
            st.session_state[_SESSION_KEY] = True
            st.rerun()
        time.sleep(WRONG_PASSWORD_DELAY_S)  # slows guessing; the hash itself is slow too
        st.error("Wrong password or token.")
    return False
