"""deploy/: the Dockerfile, the Compose file, Prometheus and Grafana provisioning, validated
structurally (no container engine runs here) and against what the code really serves:
every metric a Grafana panel or alert rule queries is one ``/metrics`` exports, the scrape
target is the service's port, every mounted file exists."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVICES = {"raiwatch", "dashboard", "postgres", "prometheus", "grafana"}

# The subset of the Compose specification this file uses (compose-spec.io), strict on keys
# so a typo (``depend_on``) fails here instead of being ignored by an old engine.
SERVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "image": {"type": "string"},
        "build": {
            "type": "object",
            "additionalProperties": False,
            "required": ["context", "dockerfile"],
            "properties": {"context": {"type": "string"}, "dockerfile": {"type": "string"}},
        },
        "command": {"type": "array", "items": {"type": "string"}},
        "environment": {"type": "object", "additionalProperties": {"type": "string"}},
        "ports": {"type": "array", "items": {"type": "string", "pattern": r"^\d+:\d+$"}},
        "volumes": {"type": "array", "items": {"type": "string"}},
        "depends_on": {
            "oneOf": [
                {"type": "array", "items": {"type": "string"}},
                {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "required": ["condition"],
                        "properties": {
                            "condition": {
                                "enum": ["service_started", "service_healthy",
                                         "service_completed_successfully"]
                            }
                        },
                    },
                },
            ]
        },
        "healthcheck": {
            "type": "object",
            "additionalProperties": False,
            "required": ["test"],
            "properties": {
                "test": {"type": "array", "minItems": 2, "items": {"type": "string"}},
                "interval": {"type": "string"}, "timeout": {"type": "string"},
                "retries": {"type": "integer"}, "start_period": {"type": "string"},
            },
        },
        "restart": {"enum": ["no", "always", "on-failure", "unless-stopped"]},
        "secrets": {"type": "array", "items": {"type": "string"}},
    },
    "anyOf": [{"required": ["image"]}, {"required": ["build"]}],
}  # fmt: skip
COMPOSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["services"],
    "patternProperties": {"^x-": {}},
    "properties": {
        "name": {"type": "string"},
        "services": {"type": "object", "additionalProperties": SERVICE_SCHEMA},
        "volumes": {"type": "object"},
        "secrets": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "oneOf": [{"required": ["file"]}, {"required": ["environment"]}],
                "properties": {"file": {"type": "string"}, "environment": {"type": "string"}},
            },
        },
    },
    "additionalProperties": False,
}
# What Grafana's file provisioning needs of a dashboard (the fields this one uses).
DASHBOARD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["uid", "title", "panels", "schemaVersion"],
    "properties": {
        "uid": {"type": "string", "pattern": r"^[a-zA-Z0-9_-]{1,40}$"},
        "panels": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "type", "title", "gridPos", "targets", "datasource"],
                "properties": {
                    "type": {"enum": ["stat", "timeseries", "state-timeline", "table", "gauge"]},
                    "gridPos": {
                        "type": "object",
                        "required": ["x", "y", "w", "h"],
                        "properties": {"x": {"minimum": 0}, "w": {"minimum": 1, "maximum": 24}},
                    },
                    "targets": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "object", "required": ["refId", "expr"]},
                    },
                },
            },
        },
    },
}


def _load(path: str) -> Any:
    return yaml.safe_load((DEPLOY / path).read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load("compose.yaml")


@pytest.fixture(scope="module")
def exported_metrics(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Metric families ``/metrics`` exports on a store with a run, an alert and a delivery."""
    from jobs.metrics import IngestCounters, render_metrics
    from monitor.signals.results import SignalResult
    from monitor.store import AlertPolicy, EndpointSpec, Store

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('metrics') / 'raiwatch.db'}")
    store.migrate()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    store.upsert_monitor("m", "credit", "1", {}, start_at=t0,
                         endpoints=[EndpointSpec("http://127.0.0.1:9/h", "whsec_c2VjcmV0")])  # fmt: skip
    result = SignalResult(signal="data_drift", feature="age", metric="wasserstein", value=0.4, threshold=0.1, status="alert")
    store.save_run("m", "credit", "1", t0, t0 + timedelta(days=1), "alert", [result], 10, 0.1, {},
                   policy=AlertPolicy())  # fmt: skip
    counters = IngestCounters()
    counters.add("credit", "1", "logs", 5)
    counters.reject("credit", "1", "logs")
    text = render_metrics(store, counters)
    store.dispose()
    return set(re.findall(r"^# TYPE (\w+) ", text, flags=re.M))


def _metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\b(raiwatch_\w+)", expr))


def test_compose_file_has_every_service_and_fits_the_schema(compose: dict[str, Any]) -> None:
    jsonschema.validate(compose, COMPOSE_SCHEMA)
    services = compose["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        for dep in service.get("depends_on", []):
            assert dep in services, f"{name} depends on unknown service {dep}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose["volumes"], f"{name} uses undeclared volume {source}"
        for secret in service.get("secrets", []):
            assert secret in compose.get("secrets", {}), f"{name} uses undeclared secret {secret}"
        if "build" in service:
            assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    assert services["raiwatch"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["dashboard"]


def test_the_service_reaches_the_compose_postgres(compose: dict[str, Any]) -> None:
    env = compose["services"]["raiwatch"]["environment"]
    pg = compose["services"]["postgres"]["environment"]
    url = env["RAIWATCH_DATABASE_URL"]
    match = re.fullmatch(r"postgresql\+psycopg://(\w+):(\S+)@postgres:5432/(\w+)", url)
    assert match, url
    assert match.group(1) == pg["POSTGRES_USER"] and match.group(3) == pg["POSTGRES_DB"]
    assert match.group(2) == pg["POSTGRES_PASSWORD"]  # the same ${POSTGRES_PASSWORD:-…}
    assert compose["services"]["dashboard"]["environment"] == env


def test_commands_are_real_raiwatch_commands(compose: dict[str, Any]) -> None:
    from typer.testing import CliRunner

    from jobs.cli import app

    for name in ("raiwatch", "dashboard"):
        command = compose["services"][name]["command"]
        assert command[0] == "raiwatch"
        result = CliRunner().invoke(app, [*command[1:], "--help"])
        assert result.exit_code == 0, (name, result.output)


def test_dockerfile_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)  # continuation lines
    instructions = [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    final = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    stage = instructions[final:]
    users = [arg for op, arg in stage if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    last_user = max(i for i, (op, _) in enumerate(stage) if op == "USER")
    assert all(op != "RUN" for op, _ in stage[last_user:]), "RUN after USER would need root"
    [health] = [arg for op, arg in stage if op == "HEALTHCHECK"]
    assert "/healthz" in health and "--interval" in health
    assert any(op == "EXPOSE" and "8000" in arg.split() for op, arg in stage)
    cmd = json.loads(next(arg for op, arg in stage if op == "CMD"))
    assert cmd[:2] == ["raiwatch", "serve"]
    for op, arg in instructions:
        if op == "COPY" and "--from" not in arg:
            for source in shlex.split(arg)[:-1]:
                assert (ROOT / source).exists(), f"COPY of missing {source}"


def test_prometheus_scrapes_the_service_port(compose: dict[str, Any]) -> None:
    config = _load("prometheus/prometheus.yml")
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    [target] = job["static_configs"][0]["targets"]
    host, port = target.split(":")
    command = compose["services"][host]["command"]
    assert command[command.index("--port") + 1] == port
    # /metrics needs a key: the scrape sends the secret compose mounts into prometheus
    auth = job["authorization"]
    assert auth["type"] == "Bearer"
    secret = auth["credentials_file"].removeprefix("/run/secrets/")
    assert secret in compose["services"]["prometheus"]["secrets"]
    assert "environment" in compose["secrets"][secret] or "file" in compose["secrets"][secret]


def test_grafana_dashboard_queries_only_exported_metrics(exported_metrics: set[str]) -> None:
    dashboard = json.loads((DEPLOY / "grafana/dashboards/raiwatch.json").read_text())
    jsonschema.validate(dashboard, DASHBOARD_SCHEMA)
    [datasource] = _load("grafana/provisioning/datasources/prometheus.yaml")["datasources"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    queried: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"]
        for target in panel["targets"]:
            queried |= _metric_names(target["expr"])
    for variable in dashboard["templating"]["list"]:
        queried |= _metric_names(variable["definition"])
    assert queried <= exported_metrics, queried - exported_metrics
    assert {"raiwatch_alert_firing", "raiwatch_signal_value"} <= queried


def test_grafana_provisions_the_dashboard_and_an_alert_rule(
    compose: dict[str, Any], exported_metrics: set[str]
) -> None:
    mounts = dict(
        v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"] if v.startswith(".")
    )
    [provider] = _load("grafana/provisioning/dashboards/raiwatch.yaml")["providers"]
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    [datasource] = _load("grafana/provisioning/datasources/prometheus.yaml")["datasources"]
    assert datasource["url"] == "http://prometheus:9090"
    [group] = _load("grafana/provisioning/alerting/raiwatch.yaml")["groups"]
    [rule] = group["rules"]
    refs = {d["refId"]: d for d in rule["data"]}
    assert rule["condition"] in refs
    query = refs["A"]
    assert query["datasourceUid"] == datasource["uid"]
    assert _metric_names(query["model"]["expr"]) <= exported_metrics
    for ref in refs.values():  # expressions refer to earlier steps only
        if ref["datasourceUid"] == "__expr__":
            assert ref["model"]["expression"] in refs
    assert rule["for"] and rule["annotations"]["summary"]
