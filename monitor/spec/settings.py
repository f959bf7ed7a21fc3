"""Service settings: one optional YAML file plus ``RAIWATCH_*`` environment variables.

Precedence: environment variable > YAML file > default. The YAML file is
``$RAIWATCH_CONFIG`` or ``./raiwatch.yaml`` when it exists. Secrets never live
here; webhook signing keys and API keys are stored (hashed where possible) in
the database and never logged.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.errors import SchemaError

if TYPE_CHECKING:
    from monitor.ingest.logstore import LogStore

ENV_PREFIX = "RAIWATCH_"
#: settings whose value may be a secret pasted by mistake: never echoed in an error
SECRET_SETTINGS = {("dashboard_password_hash",)}


class Settings(BaseModel):
    """Where raiwatch keeps its data and how it reaches its database."""

    model_config = ConfigDict(extra="forbid")

    home: Path = Field(default=Path(".raiwatch"), description="data directory")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<home>/raiwatch.db"
    )
    dashboard_url: str = "http://127.0.0.1:8501"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    max_request_bytes: int = 10 * 1024 * 1024
    reservoir_size: int = 10_000
    histogram_bins: int = 1000
    top_k_categories: int = 1000
    batch_rows: int = 262_144
    threads: int = Field(default_factory=lambda: min(4, os.cpu_count() or 1))
    timestamp_earliest: dt.datetime = Field(
        default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        description="log and label timestamps before this are rejected as implausible",
    )
    timestamp_max_future_s: float = Field(
        default=86_400.0, ge=0, description="timestamps further in the future are rejected"
    )
    compaction_interval_s: float = Field(
        default=600.0, ge=0, description="serve compacts the log store this often (0: never)"
    )
    webhook_allowed_networks: list[str] = Field(
        default_factory=list, description="private networks (CIDR) webhooks may be sent to"
    )
    webhook_allow_loopback: bool = Field(default=True, description="allow webhooks to 127.0.0.1 / ::1")
    metrics_public: bool = Field(default=False, description="serve /metrics without an API key")
    compaction_min_files: int = Field(default=8, ge=2, description="compact a day with this many files")
    dashboard_password_hash: str | None = Field(
        default=None,
        description="scrypt hash of the dashboard password or token ('raiwatch dashboard-password'); "
        "with it the dashboard asks for a login; without it the dashboard serves loopback only",
    )

    @field_validator("dashboard_password_hash")
    @classmethod
    def _password_hash(cls, value: str | None) -> str | None:
        from monitor.spec.passwords import check_password_hash

        if value is None or not value.strip():
            return None
        try:
            return check_password_hash(value)
        except ValueError as err:
            raise ValueError(f"the value {err}") from None

    @field_validator("webhook_allowed_networks", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        import ipaddress

        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            return value
        cleaned = [str(v).strip() for v in items if str(v).strip()]
        for item in cleaned:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not a network; write CIDRs such as 10.0.0.0/8") from None
        return cleaned

    @field_validator("timestamp_earliest")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'raiwatch.db').resolve()}"

    def log_store(self) -> LogStore:
        """The log store under ``home`` with these settings' timestamp bounds."""
        from monitor.ingest.log_rows import TimestampBounds
        from monitor.ingest.logstore import LogStore

        bounds = TimestampBounds(self.timestamp_earliest, dt.timedelta(seconds=self.timestamp_max_future_s))
        return LogStore(self.home, timestamp_bounds=bounds)

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def label_dir(self) -> Path:
        return self.home / "labels"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def bundle_dir(self) -> Path:
        return self.home / "bundles"

    @property
    def report_dir(self) -> Path:
        return self.home / "reports"


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from a YAML file and ``RAIWATCH_*`` variables."""
    env = dict(os.environ if env is None else env)
    data: dict[str, Any] = {}
    cfg = Path(path or env.get("RAIWATCH_CONFIG", "raiwatch.yaml"))
    if path is not None and not cfg.is_file():
        raise SchemaError(f"settings file {str(cfg)!r} does not exist; check the path")
    if cfg.is_file():
        loaded = yaml.safe_load(cfg.read_text()) or {}
        if not isinstance(loaded, dict):
            raise SchemaError(f"settings file {str(cfg)!r} must hold a mapping of settings")
        data.update(loaded)
    for name in Settings.model_fields:
        key = ENV_PREFIX + name.upper()
        if key in env:
            data[name] = env[key]
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']} "
            + ("(value not shown)" if e["loc"][:1] in SECRET_SETTINGS else f"(got {e.get('input')!r})")
            for e in err.errors()
        )
        raise SchemaError(
            f"invalid settings ({problems}); fix {cfg} or the {ENV_PREFIX}* variable"
        ) from None
