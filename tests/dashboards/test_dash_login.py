"""Dashboard login: scrypt hashes in the settings, the Streamlit login form (AppTest), and
``raiwatch dashboard`` refusing to serve beyond loopback without a login."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dashboards import APP_PATH
from dashboards.sources import ADDRESS_ENV, NO_LOGIN_ENV
from jobs import cli_dashboard
from monitor.errors import SchemaError
from monitor.spec.passwords import hash_password, verify_password
from monitor.spec.settings import load_settings

PASSWORD = "tr0ub4dor-and-3"
PAGE = "from dashboards.login import require_login\nimport streamlit as st\nif require_login():\n    st.write('THE PAGE')\n"


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No settings file, no RAIWATCH_* variables: only what each test sets."""
    import os

    for key in [k for k in os.environ if k.startswith("RAIWATCH_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAIWATCH_HOME", str(tmp_path / "home"))
    return tmp_path


def _shown(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "error", "warning", "title")
                     for e in getattr(at, kind))  # fmt: skip


def test_hashes_are_salted_and_verify_only_the_right_password() -> None:
    one, two = hash_password(PASSWORD), hash_password(PASSWORD)
    assert one != two and PASSWORD not in one  # a fresh salt each time, the password nowhere
    assert verify_password(PASSWORD, one) and verify_password(PASSWORD, two)
    assert not verify_password(PASSWORD + "x", one) and not verify_password("", one)


def test_settings_refuse_a_plain_password_without_echoing_it(clean_env: Path) -> None:
    with pytest.raises(SchemaError, match="is not a password hash; make one with 'raiwatch dashboard-password'") as err:
        load_settings(env={"RAIWATCH_DASHBOARD_PASSWORD_HASH": PASSWORD})
    assert PASSWORD not in str(err.value)
    encoded = hash_password(PASSWORD)
    assert load_settings(env={"RAIWATCH_DASHBOARD_PASSWORD_HASH": encoded}).dashboard_password_hash == encoded


def test_login_required_wrong_refused_right_accepted(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAIWATCH_DASHBOARD_PASSWORD_HASH", hash_password(PASSWORD))
    monkeypatch.setenv(ADDRESS_ENV, "0.0.0.0")
    monkeypatch.setattr("dashboards.login.WRONG_PASSWORD_DELAY_S", 0.0)
    at = AppTest.from_string(PAGE, default_timeout=30).run()
    assert "THE PAGE" not in _shown(at) and len(at.text_input) == 1  # the login form, nothing else
    at.text_input[0].input("not-the-password")
    at.button[0].click().run()
    assert "THE PAGE" not in _shown(at) and "Wrong password or token." in _shown(at)
    at.text_input[0].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert "THE PAGE" in _shown(at) and not at.text_input  # logged in: the page, no form
    at.run()
    assert "THE PAGE" in _shown(at)  # the session stays logged in across reruns


def test_a_configured_password_is_asked_on_loopback_too(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAIWATCH_DASHBOARD_PASSWORD_HASH", hash_password(PASSWORD))
    monkeypatch.setenv(ADDRESS_ENV, "127.0.0.1")
    at = AppTest.from_string(PAGE, default_timeout=30).run()
    assert "THE PAGE" not in _shown(at) and len(at.text_input) == 1


def test_loopback_without_a_password_needs_no_login(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADDRESS_ENV, "127.0.0.1")
    at = AppTest.from_string(PAGE, default_timeout=30).run()
    assert "THE PAGE" in _shown(at) and not at.text_input


def test_beyond_loopback_without_a_password_shows_nothing_unless_no_login(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ADDRESS_ENV, "0.0.0.0")
    at = AppTest.from_string(PAGE, default_timeout=30).run()
    assert "THE PAGE" not in _shown(at) and "no login is configured" in _shown(at)
    monkeypatch.setenv(NO_LOGIN_ENV, "1")
    at = AppTest.from_string(PAGE, default_timeout=30).run()
    assert "THE PAGE" in _shown(at) and "without a login" in _shown(at)


def test_the_app_itself_is_behind_the_login(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAIWATCH_DASHBOARD_PASSWORD_HASH", hash_password(PASSWORD))
    monkeypatch.setenv(ADDRESS_ENV, "0.0.0.0")
    at = AppTest.from_file(str(APP_PATH), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.text_input) == 1 and at.button[0].label == "Log in"
    assert "Fleet" not in _shown(at)


def _start(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, list[dict[str, str]]]:
    import typer

    started: list[dict[str, str]] = []
    monkeypatch.setattr(cli_dashboard, "run_child", lambda cmd, env: started.append(env) or 0)
    app = typer.Typer()
    app.command()(cli_dashboard.dashboard)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output, started


def test_cli_refuses_beyond_loopback_without_a_login(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, started = _start(monkeypatch, "--address", "0.0.0.0")
    assert code == 2 and started == []
    assert "refusing to serve the dashboard on 0.0.0.0 without a login" in out
    assert "raiwatch dashboard-password" in out and "--no-login" in out


def test_cli_warns_loudly_with_no_login(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, started = _start(monkeypatch, "--address", "0.0.0.0", "--no-login")
    assert code == 0 and len(started) == 1
    assert "WARNING: the dashboard is served on 0.0.0.0 WITHOUT A LOGIN" in out
    assert started[0][NO_LOGIN_ENV] == "1" and started[0][ADDRESS_ENV] == "0.0.0.0"


def test_cli_starts_with_a_login_or_on_loopback(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, started = _start(monkeypatch)
    assert code == 0 and "no login" in out and "WARNING" not in out
    assert started[0][ADDRESS_ENV] == "127.0.0.1" and NO_LOGIN_ENV not in started[0]
    (clean_env / "raiwatch.yaml").write_text(f"dashboard_password_hash: '{hash_password(PASSWORD)}'\n")
    code, out, started = _start(monkeypatch, "--address", "0.0.0.0")
    assert code == 0 and "login required" in out and "WARNING" not in out and len(started) == 1


def test_dashboard_password_makes_a_hash_that_verifies(clean_env: Path) -> None:
    import typer

    app = typer.Typer()
    app.command()(cli_dashboard.dashboard_password)
    result = CliRunner().invoke(app, [], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("dashboard_password_hash: 'scrypt$")
    encoded = line.split("'")[1]
    assert verify_password(PASSWORD, encoded) and PASSWORD not in line
    short = CliRunner().invoke(app, [], input="short\nshort\n")
    assert short.exit_code == 2 and "at least 12" in short.output
    generated = CliRunner().invoke(app, ["--generate"])
    token, hashed = generated.stdout.strip().splitlines()[-2:]
    assert verify_password(token, hashed.split("'")[1])
