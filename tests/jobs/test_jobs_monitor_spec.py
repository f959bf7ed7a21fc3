"""Monitor YAML: valid files load, invalid ones name the field and the fix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.errors import SchemaError
from monitor.spec.monitor import MonitorSpec, load_monitor_spec, parse_monitor_spec

YAML = """
name: credit-daily
model: credit
version: 1
schedule: "0 6 * * *"
timezone: Europe/Paris
window: 1d
delay: 15m
cooldown: 6h
retrain_on: [data_drift]
signals:
  alpha: 0.02
  correction: benjamini-hochberg
  data_drift: {min_effect: {wasserstein: 0.1}}
webhooks:
  - url: http://127.0.0.1:9000/hook
    secret_env: HOOK_SECRET
    events: [monitor.alert.firing]
    timeout: 5s
"""


def test_yaml_loads_and_round_trips_without_secrets(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(YAML)
    spec = load_monitor_spec(path)
    assert spec.version == "1" and spec.window == timedelta(days=1)
    assert spec.delay == timedelta(minutes=15) and spec.cooldown == timedelta(hours=6)
    assert spec.signals.correction == "benjamini-hochberg" and spec.signals.alpha == 0.02
    assert spec.signals.data_drift.min_effect == {"wasserstein": 0.1}
    assert spec.webhooks[0].resolve_secret({"HOOK_SECRET": "abc"}) == "abc"
    stored = spec.stored_dict()
    assert stored["window"] == 86400.0 and stored["webhooks"][0]["timeout"] == 5.0
    again = MonitorSpec.from_stored(stored)
    assert again.window == spec.window and again.schedule == spec.schedule
    assert again.webhooks == ()


def test_inline_secret_is_hidden() -> None:
    spec = parse_monitor_spec({"name": "m", "model": "a", "version": "1",
                               "webhooks": [{"url": "http://h/x", "secret": "hunter2"}]})  # fmt: skip
    assert "hunter2" not in repr(spec) and "hunter2" not in str(spec.stored_dict())
    assert spec.webhooks[0].resolve_secret({}) == "hunter2"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schedule": "every hour"}, r"schedule: .*not a 5-field cron expression"),
        ({"schedule": "61 * * * *"}, r"schedule: .*not a valid cron expression"),
        ({"window": "1 day"}, r"window: got '1 day'; .*write e.g. 90s, 15m, 1h, 1d or 1w"),
        ({"window": "0s"}, r"window: .*must be a positive duration"),
        ({"timezone": "Mars/Olympus"}, r"timezone: .*not an IANA time zone"),
        ({"retrain_on": ["drift"]}, r"retrain_on: .*unknown signals \['drift'\]; choose from"),
        ({"colour": "red"}, r"colour: unknown field; remove it"),
        ({"webhooks": [{"url": "http://h/x"}]}, r"give exactly one of 'secret' or 'secret_env'"),
        ({"webhooks": [{"url": "ftp://h/x", "secret": "s"}]}, r"webhooks.0.url"),
        ({"webhooks": [{"url": "http://h/x", "secret": "s", "events": ["x"]}]},
         r"webhooks.0.events.0: got 'x'; use one of 'monitor.alert.firing'"),
    ],
)  # fmt: skip
def test_invalid_fields_name_the_field_and_the_fix(change: dict[str, object], message: str) -> None:
    data = {"name": "m", "model": "a", "version": "1", **change}
    with pytest.raises(SchemaError, match=message):
        parse_monitor_spec(data, source="m.yaml")


def test_missing_fields_and_unset_secret_env(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"model: required field is missing; add it"):
        parse_monitor_spec({"name": "m", "version": "1"})
    spec = parse_monitor_spec({"name": "m", "model": "a", "version": "1",
                               "webhooks": [{"url": "http://h/x", "secret_env": "NOPE"}]})  # fmt: skip
    with pytest.raises(SchemaError, match=r"environment variable 'NOPE' is not set"):
        spec.webhooks[0].resolve_secret({})
    with pytest.raises(SchemaError, match="does not exist"):
        load_monitor_spec(tmp_path / "missing.yaml")
