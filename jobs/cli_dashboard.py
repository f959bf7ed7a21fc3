"""``raiwatch dashboard``: start the Streamlit dashboard over the configured store.

The dashboard runs as ``python -m streamlit run dashboards/app.py`` in a child
process with ``RAIWATCH_HOME`` (and ``RAIWATCH_BUNDLE_DIR``) set, so it reads the
same settings as every other command. The child stops with its parent (Ctrl+C,
SIGTERM, or the parent being killed). This module does not import Streamlit.

Login: with ``dashboard_password_hash`` in the settings every browser session
logs in (:mod:`dashboards.login`). Bound beyond loopback without it, the command
refuses to start (exit code 2) unless ``--no-login`` accepts the risk, which
prints a warning and puts one on every page. ``raiwatch dashboard-password``
makes the hash (from a typed password or a generated token).
"""

from __future__ import annotations

import ctypes
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from dashboards import APP_PATH
from dashboards.sources import ADDRESS_ENV, BUNDLE_DIR_ENV, NO_LOGIN_ENV
from monitor.spec.passwords import MIN_PASSWORD_CHARS, hash_password, is_loopback_address
from monitor.spec.settings import load_settings


def dashboard_command(port: int, address: str) -> list[str]:
    """The ``streamlit run`` command line for the dashboard."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        # no "Deploy" button: this dashboard is self-hosted, not a Streamlit Cloud app
        "--client.toolbarMode",
        "minimal",
    ]


def dashboard_env(
    home: Path | None, bundles: Path | None, base: dict[str, str] | None = None
) -> dict[str, str]:
    """The child's environment: ``base`` (default ``os.environ``) plus the chosen locations."""
    env = dict(os.environ if base is None else base)
    if home is not None:
        env["RAIWATCH_HOME"] = str(home.resolve())
    if bundles is not None:
        env[BUNDLE_DIR_ENV] = str(bundles.resolve())
    return env


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when its parent dies, even on ``kill -9``."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def run_child(cmd: list[str], env: dict[str, str], *, stop_timeout_s: float = 10.0) -> int:
    """Run the dashboard child until it exits; Ctrl+C or SIGTERM to this process stops it.

    The child never outlives this process: SIGINT/SIGTERM here terminate it (then kill it
    after ``stop_timeout_s``), and on Linux it also gets SIGTERM if this process is killed.
    """
    child = subprocess.Popen(cmd, env=env, preexec_fn=_die_with_parent)

    def _stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        try:
            child.wait(timeout=stop_timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.poll() is None:
            child.kill()
            child.wait()


def dashboard(
    home: Annotated[
        Path | None,
        typer.Option("--home", help="data directory (default $RAIWATCH_HOME or ./.raiwatch)"),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="port to serve the dashboard on")] = 8501,
    bundles: Annotated[
        Path | None,
        typer.Option("--bundles", help="insights bundle directory (default <home>/bundles)"),
    ] = None,
    address: Annotated[
        str, typer.Option("--address", help="interface to listen on; 0.0.0.0 for every interface")
    ] = "127.0.0.1",
    no_login: Annotated[
        bool,
        typer.Option(
            "--no-login",
            help="serve beyond loopback without a login (not recommended; set "
            "dashboard_password_hash instead)",
        ),
    ] = False,
) -> None:
    """Start the dashboard: fleet health, model pages, alerts and webhooks, RAI review."""
    if not 0 < port < 65536:
        raise typer.BadParameter(f"must be between 1 and 65535, got {port}", param_hint="--port")
    if bundles is not None and not bundles.is_dir():
        raise typer.BadParameter(
            f"{str(bundles)!r} is not a directory; give the directory `raiwatch rai build` wrote to",
            param_hint="--bundles",
        )
    env = dashboard_env(home, bundles)
    env[ADDRESS_ENV] = address
    env.pop(NO_LOGIN_ENV, None)
    has_login = load_settings().dashboard_password_hash is not None
    if not has_login and not is_loopback_address(address):
        if not no_login:
            typer.echo(
                f"error: refusing to serve the dashboard on {address or 'every interface'} "
                "without a login: anyone who can reach it would see every model. Set "
                "dashboard_password_hash in raiwatch.yaml or RAIWATCH_DASHBOARD_PASSWORD_HASH "
                "(make it with 'raiwatch dashboard-password'), bind to 127.0.0.1, or pass "
                "--no-login to accept the risk.",
                err=True,
            )
            raise typer.Exit(2)
        typer.secho(
            f"WARNING: the dashboard is served on {address} WITHOUT A LOGIN (--no-login); anyone "
            "who can reach this address sees every model. Set dashboard_password_hash.",
            err=True, fg=typer.colors.RED, bold=True,
        )  # fmt: skip
        env[NO_LOGIN_ENV] = "1"
    login = "login required" if has_login else "no login"
    typer.echo(f"raiwatch dashboard on http://{address}:{port} ({login}; Ctrl+C to stop)")
    code = run_child(dashboard_command(port, address), env)
    raise typer.Exit(code)


def dashboard_password(
    generate: Annotated[
        bool,
        typer.Option("--generate", help="generate a random token instead of typing a password"),
    ] = False,
) -> None:
    """Make the dashboard's password hash (scrypt, salted) for the settings; the password is never stored."""
    if generate:
        secret = secrets.token_urlsafe(24)
        typer.echo("token (shown once; this is what you type in the login form):", err=True)
        typer.echo(secret)
    else:
        secret = typer.prompt("dashboard password", hide_input=True, confirmation_prompt=True)
        if len(secret) < MIN_PASSWORD_CHARS:
            typer.echo(
                f"error: the password has {len(secret)} characters; use at least "
                f"{MIN_PASSWORD_CHARS}, or --generate a token",
                err=True,
            )
            raise typer.Exit(2)
    encoded = hash_password(secret)
    typer.echo(
        "put this line in raiwatch.yaml (or set RAIWATCH_DASHBOARD_PASSWORD_HASH to the value):",
        err=True,
    )
    typer.echo(f"dashboard_password_hash: '{encoded}'")
