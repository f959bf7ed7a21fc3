"""Monitor declarations: what to watch, when, how strictly, and whom to tell.

A monitor is declared in YAML and added with ``raiwatch monitor add -f monitor.yaml``::

    name: credit-daily
    model: credit
    version: "1"
    schedule: "0 6 * * *"        # cron, in ``timezone``
    window: 1d                   # lookback: each run covers [tick - window, tick)
    delay: 15m                   # wait for late logs before running a tick
    cooldown: 6h                 # min time between two firings of a signal
    retrain_on: [data_drift, performance]
    retrain_every: 30d           # also request retraining once per period (reason: schedule)
    challenger: {version: "2", mode: shadow}   # or split; see ChallengerSpec
    signals:
      data_drift: {thresholds: {wasserstein: {value: 0.15}}}
    webhooks:
      - url: https://ml.example.com/hooks/raiwatch
        secret_env: RAIWATCH_HOOK_SECRET   # or secret: whsec_...
        events: [monitor.alert.firing, model.retrain.requested]
    engine: local                # or spark, with `spark:`; either with `source:` (monitor/spec/engine.py)
    segments:                    # every signal also per segment (monitor/segments/spec.py)
      - feature: region
      - cohorts_from: bundles/credit-1
    segment_budget: 0.5          # share of signals.alpha spent on segments

Durations are ``<number><unit>`` with unit ``s``, ``m``, ``h``, ``d`` or ``w``.
Invalid files raise :class:`~monitor.errors.SchemaError` naming the field and
the fix. Webhook secrets are :class:`~pydantic.SecretStr` and are dropped by
:meth:`MonitorSpec.stored_dict`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.errors import SchemaError, format_validation_error
from monitor.redaction import redact_url, register_secret
from monitor.segments.spec import DEFAULT_SEGMENT_BUDGET, SegmentSpec, check_unique_families
from monitor.signals import SIGNALS
from monitor.spec.engine import SourceSpec, SparkSettings
from monitor.spec.model_version import load_yaml
from monitor.spec.signal_config import SignalConfig

EventType = Literal[
    "monitor.alert.firing",
    "monitor.alert.resolved",
    "model.retrain.requested",
    "model.challenger.better",
    "model.challenger.worse",
    "model.traffic.missing",
    "model.traffic.restored",
]
_ALL_EVENTS: tuple[EventType, ...] = get_args(EventType)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """``"15m"`` → 15 minutes; numbers are seconds; timedeltas pass through."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 15m, 1h, 1d or 1w")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


class RaiReviewSpec(BaseModel):
    """A scheduled Responsible-AI review on the window's labelled production rows.

    After each run, when at least ``min_labels`` rows of the window have labels, an
    insights bundle is built from them (``test``) and the baseline's labelled sample
    (``train``) with the real model (``model_uri`` of the model version), and its
    gate verdicts are stored with the run. ``settings`` are the ``rai.yaml`` fields
    (components, gates, treatment features...); the data contract (target, task,
    categorical and sensitive features) comes from the model version.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    settings: dict[str, Any] = Field(default_factory=dict)
    min_labels: int = Field(default=200, ge=20)


class ChallengerSpec(BaseModel):
    """A challenger version compared with the monitor's (champion) version on live traffic.

    ``mode: shadow``: the challenger answers every request too and its inference
    logs carry the same request ids (a paired comparison); ``mode: split``: each
    version serves its own share of traffic (an unpaired comparison). Both
    versions must be registered with a baseline. The ``challenger`` signal
    judges it; ``raiwatch monitor promote`` makes it the champion.

    >>> ChallengerSpec(version=2).version, ChallengerSpec(version="2").mode
    ('2', 'shadow')
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    mode: Literal["shadow", "split"] = "shadow"

    @field_validator("version", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )

    @field_validator("version")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError('give the challenger\'s model version, e.g. version: "2"')
        return value


class WebhookTarget(BaseModel):
    """Where to POST signed events for one monitor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://[^\s/]+", description="http(s) URL")
    secret: SecretStr | None = None
    secret_env: str | None = None
    events: tuple[EventType, ...] = _ALL_EVENTS
    timeout: timedelta = timedelta(seconds=10)
    max_attempts: int = Field(default=8, ge=1, le=50)

    _duration = field_validator("timeout", mode="before")(parse_duration)

    @field_validator("secret")
    @classmethod
    def _remember_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            register_secret(value.get_secret_value())
        return value

    def resolve_secret(self, env: dict[str, str]) -> str:
        """The signing secret, from ``secret`` or the ``secret_env`` variable."""
        if self.secret is not None:
            return self.secret.get_secret_value()
        if self.secret_env and env.get(self.secret_env):
            register_secret(env[self.secret_env])
            return env[self.secret_env]
        raise SchemaError(
            f"webhooks: {self.url}: environment variable {self.secret_env!r} is not set; "
            "export it before 'raiwatch monitor add' or give 'secret:' in the file"
        )


class MonitorSpec(BaseModel):
    """A declared monitor (see the module docstring for the YAML form)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
    model: str
    version: str
    schedule: str = "0 * * * *"
    timezone: str = "UTC"
    window: timedelta = timedelta(hours=1)
    delay: timedelta = timedelta(0)
    cooldown: timedelta = timedelta(hours=1)
    misfire_grace: timedelta = timedelta(minutes=10)
    start: datetime | None = None
    signals: SignalConfig = Field(default_factory=SignalConfig)
    retrain_on: tuple[str, ...] = ()
    retrain_every: timedelta | None = None
    challenger: ChallengerSpec | None = None
    webhooks: tuple[WebhookTarget, ...] = ()
    rai_review: RaiReviewSpec | None = None
    export_report: bool = False  # write each window's Evidently HTML report for the dashboard
    enabled: bool = True
    engine: Literal["local", "spark"] = "local"
    spark: SparkSettings | None = None  # engine: spark; default local[2]
    source: SourceSpec | None = None  # default raiwatch's own log store; local engine: a local path
    segments: tuple[SegmentSpec, ...] = ()  # signals also run per segment (monitor/segments/)
    segment_budget: float = Field(default=DEFAULT_SEGMENT_BUDGET, gt=0, lt=1)

    _durations = field_validator("window", "delay", "cooldown", "misfire_grace", mode="before")(
        parse_duration
    )

    @field_validator("retrain_every", mode="before")
    @classmethod
    def _period(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @model_validator(mode="before")
    @classmethod
    def _challenger_switches_its_signal_on(cls, data: Any) -> Any:
        """``challenger:`` turns the ``challenger`` signal on (it is off without one)."""
        if not isinstance(data, dict):
            return data
        signals = data.get("signals") or {}
        block = signals.get("challenger") if isinstance(signals, dict) else None
        explicit = isinstance(block, dict) and "enabled" in block
        if data.get("challenger") is not None and not explicit and isinstance(signals, dict):
            data = {
                **data,
                "signals": {**signals, "challenger": {**(block or {}), "enabled": True}},
            }
        return data

    @field_validator("version", "model", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        if len(value.split()) != 5:
            raise ValueError(
                f"{value!r} is not a 5-field cron expression (minute hour day month weekday), "
                "e.g. '0 * * * *' for hourly"
            )
        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as err:
            raise ValueError(f"{value!r} is not a valid cron expression: {err}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone such as 'UTC' or 'Europe/Paris'"
            ) from None
        return value

    @field_validator("window")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be a positive duration, e.g. 1h")
        return value

    @field_validator("retrain_on")
    @classmethod
    def _known_signals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in value if s not in SIGNALS]
        if unknown:
            raise ValueError(f"unknown signals {unknown}; choose from {list(SIGNALS)}")
        return value

    @field_validator("webhooks")
    @classmethod
    def _one_secret(cls, value: tuple[WebhookTarget, ...]) -> tuple[WebhookTarget, ...]:
        for w in value:
            if (w.secret is None) == (w.secret_env is None):
                raise ValueError(f"{redact_url(w.url)}: give exactly one of 'secret' or 'secret_env'")
        urls = [w.url for w in value]
        if len(set(urls)) != len(urls):
            raise ValueError("each webhook URL once; merge the 'events' of duplicated URLs")
        return value

    _unique_segments = field_validator("segments")(check_unique_families)

    @model_validator(mode="after")
    def _segments_run_locally(self) -> MonitorSpec:
        if self.segments and self.engine != "local":
            raise ValueError(
                "segments are profiled by the local engine; use 'engine: local' or remove 'segments'"
            )
        return self

    @model_validator(mode="after")
    def _lifecycle(self) -> MonitorSpec:
        if self.retrain_every is not None and self.retrain_every < self.window:
            raise ValueError(
                f"retrain_every ({self.retrain_every}) is shorter than the window ({self.window}); "
                "the schedule is checked once per window: use a period of at least one window, e.g. 30d"
            )
        if self.challenger is not None:
            if self.challenger.version == self.version:
                raise ValueError(
                    f"challenger.version {self.challenger.version!r} is the monitor's own version; "
                    'name the other (retrained) version, e.g. challenger: {version: "2", mode: shadow}'
                )
            if self.source is not None:
                raise ValueError(
                    "'challenger' compares the versions' rows in raiwatch's log store; remove 'source' "
                    "(log both versions with the SDK, the HTTP API or 'raiwatch logs ingest')"
                )
            if self.engine != "local":
                raise ValueError(
                    "'challenger' runs on the local engine; remove 'engine: spark' or 'challenger'"
                )
        elif self.signals.challenger.enabled:
            raise ValueError(
                "signals.challenger is enabled but the monitor declares no 'challenger:'; add "
                'challenger: {version: "2", mode: shadow} or remove signals.challenger'
            )
        return self

    @model_validator(mode="after")
    def _spark_settings_need_spark(self) -> MonitorSpec:
        if self.engine != "spark" and self.spark is not None:
            raise ValueError("'spark' applies to 'engine: spark'; add it or remove 'spark'")
        if self.engine != "spark" and self.source is not None and self.source.table is not None:
            raise ValueError(
                "a 'source' table is read by Spark: add 'engine: spark', or give the local engine "
                "a 'path' (a Parquet file or a Delta table directory)"
            )
        if self.source is not None and self.rai_review is not None:
            raise ValueError(
                "rai_review reads the window's labelled rows from raiwatch's log store, which does not "
                "hold the rows of an external 'source'; remove 'source' (Spark then reads the log "
                "store) or 'rai_review'"
            )
        return self

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> MonitorSpec:
        """Rebuild a spec from :meth:`stored_dict` (webhooks live in the store's endpoints)."""
        return parse_monitor_spec({**data, "webhooks": []}, source=f"store:{data.get('name')}")

    def stored_dict(self) -> dict[str, Any]:
        """JSON-able spec for the store, without webhook secrets."""
        data = self.model_dump(mode="json", exclude={"webhooks": {"__all__": {"secret"}}})
        for key in ("window", "delay", "cooldown", "misfire_grace"):
            data[key] = getattr(self, key).total_seconds()
        if self.retrain_every is not None:
            data["retrain_every"] = self.retrain_every.total_seconds()
        for hook, target in zip(data["webhooks"], self.webhooks, strict=True):
            hook["timeout"] = target.timeout.total_seconds()
        return data


def parse_monitor_spec(data: Any, *, source: str = "<python>") -> MonitorSpec:
    """Validate a mapping as a :class:`MonitorSpec`, raising :class:`SchemaError`."""
    if not isinstance(data, dict):
        raise SchemaError(
            f"invalid monitor in {source}: expected a mapping with name, model, version, "
            f"schedule and window, got {type(data).__name__}"
        )
    try:
        return MonitorSpec.model_validate(data)
    except ValidationError as err:
        raise SchemaError(format_validation_error("monitor", source, err)) from None


def load_monitor_spec(path: str | Path) -> MonitorSpec:
    """Read a monitor YAML file."""
    p = Path(path)
    if not p.is_file():
        raise SchemaError(f"monitor file {str(p)!r} does not exist; check the path")
    try:
        data = load_yaml(p.read_text())
    except yaml.YAMLError as err:
        raise SchemaError(f"monitor file {str(p)!r} is not valid YAML: {err}") from err
    return parse_monitor_spec(data, source=str(p))
