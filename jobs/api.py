"""The HTTP API of ``raiwatch serve`` (FastAPI).

* ``POST /api/v1/models/{model}/versions/{version}/logs`` and ``.../labels``:
  ingestion (JSON or NDJSON), API key in ``Authorization: Bearer`` or
  ``X-API-Key``; 422 with per-row reasons, 413 over the size limit.
* ``GET /api/v1/models``, ``/monitors``, ``/runs``, ``/runs/{id}``, ``/alerts``,
  ``/alerts/events``, ``/webhooks/deliveries``: read endpoints (API key).
* ``GET /healthz``, ``GET /metrics`` (Prometheus), ``GET /openapi.json``, ``/docs``
  (Swagger UI) and ``/redoc``, both served with their assets from this process
  (no CDN: they work offline and behind an air gap).

Responses never carry webhook secrets or API keys.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from jobs.ingest import BatchRejected, Kind, ingest_rows, parse_rows
from jobs.metrics import IngestCounters, render_metrics
from monitor.errors import NotFoundError
from monitor.ingest.logstore import LogStore
from monitor.store import Store

KEY_CACHE_S = 30.0
DOCS_ASSETS = "/docs-assets"

_ROW = {
    "type": "object",
    "description": "One row: request id, timestamp, the model's features, prediction and "
    "scores (inference logs) or request id and target (labels). Unknown columns are ignored.",
    "additionalProperties": True,
    "example": {
        "request_id": "r-1",
        "timestamp": "2026-10-01T12:00:00Z",
        "age": 41,
        "purpose": "car",
        "prediction": "1",
        "score": 0.83,
    },
}
#: The ingestion body, documented in OpenAPI (the handler reads it raw to stream-limit its size).
INGEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "array", "items": _ROW, "minItems": 1},
                        {
                            "type": "object",
                            "required": ["rows"],
                            "properties": {"rows": {"type": "array", "items": _ROW, "minItems": 1}},
                        },
                    ]
                }
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "one JSON row object per line"}
            },
        },
    },
    "responses": {
        "422": {
            "description": "the batch was rejected (nothing stored); `errors` gives per-row reasons"
        },
        "413": {"description": "the body is over the size limit; split the batch"},
    },
}


# module level: the handlers' annotations are resolved from module globals
BEARER = HTTPBearer(auto_error=False, description="an API key from `raiwatch apikey create NAME`")
HEADER_KEY = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="the same API key, in a header"
)


def _docs_assets_dir() -> str:
    """Swagger UI and ReDoc bundles shipped in the ``fastapi-offline`` wheel (we use only its files)."""
    from importlib.resources import files

    return str(files("fastapi_offline") / "static")


class _KeyCache:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._valid: dict[str, tuple[str, float]] = {}

    def check(self, key: str) -> str | None:
        hit = self._valid.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        name = self.store.verify_api_key(key)
        if name is not None:
            self._valid[key] = (name, time.monotonic() + KEY_CACHE_S)
        return name


def create_app(store: Store, log_store: LogStore, *, max_request_bytes: int) -> FastAPI:
    """Build the FastAPI application over a store and a log store."""
    from jobs import __version__

    app = FastAPI(
        title="raiwatch", version=__version__, description=__doc__, docs_url=None, redoc_url=None
    )
    app.mount(DOCS_ASSETS, StaticFiles(directory=_docs_assets_dir()), name="docs-assets")
    keys = _KeyCache(store)
    counters = IngestCounters()
    app.state.counters = counters

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="raiwatch API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="raiwatch API",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    def api_key(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
        x_api_key: Annotated[str | None, Depends(HEADER_KEY)] = None,
    ) -> str:
        key = x_api_key or (credentials.credentials if credentials else "")
        name = keys.check(key) if key else None
        if name is None:
            raise HTTPException(
                401,
                "missing or invalid API key; send 'Authorization: Bearer <key>' "
                "(create one with 'raiwatch apikey create NAME')",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return name

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, err: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(err)}, status_code=404)

    async def _read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and int(declared) > max_request_bytes:
            raise HTTPException(413, f"body over {max_request_bytes} bytes; split the batch")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_request_bytes:
                raise HTTPException(413, f"body over {max_request_bytes} bytes; split the batch")
        return bytes(body)

    async def _ingest(request: Request, model: str, version: str, kind: Kind, key_name: str) -> Any:
        body = await _read_body(request)
        mv = await run_in_threadpool(store.get_model_version, model, version)
        try:
            rows = parse_rows(body, request.headers.get("content-type", ""))
            result = await run_in_threadpool(
                ingest_rows, log_store, mv, rows, kind, source=f"api:{key_name}"
            )
        except BatchRejected as err:
            counters.reject(model, version, kind)
            return JSONResponse({"detail": err.message, "errors": err.errors}, status_code=422)
        counters.add(model, version, kind, result.accepted)
        return {"accepted": result.accepted, "ignored_columns": result.ignored_columns,
                "with_type_errors": result.with_type_errors}  # fmt: skip

    @app.post(
        "/api/v1/models/{model}/versions/{version}/logs",
        tags=["ingestion"],
        openapi_extra=INGEST_BODY,
    )
    async def ingest_logs(
        request: Request, model: str, version: str, key: str = Depends(api_key)
    ) -> Any:
        """Store a batch of inference-log rows (all or nothing)."""
        return await _ingest(request, model, version, "logs", key)

    @app.post(
        "/api/v1/models/{model}/versions/{version}/labels",
        tags=["ingestion"],
        openapi_extra=INGEST_BODY,
    )
    async def ingest_labels(
        request: Request, model: str, version: str, key: str = Depends(api_key)
    ) -> Any:
        """Store a batch of ground-truth labels keyed by request id (all or nothing)."""
        return await _ingest(request, model, version, "labels", key)

    @app.get("/api/v1/models", tags=["read"])
    def list_models(_: str = Depends(api_key)) -> list[dict[str, Any]]:
        """Registered model versions."""
        return [mv.model_dump(mode="json") for mv in store.list_model_versions()]

    @app.get("/api/v1/models/{model}/versions/{version}", tags=["read"])
    def get_model(model: str, version: str, _: str = Depends(api_key)) -> dict[str, Any]:
        """One model version."""
        return store.get_model_version(model, version).model_dump(mode="json")

    @app.get("/api/v1/monitors", tags=["read"])
    def list_monitors(_: str = Depends(api_key)) -> list[dict[str, Any]]:
        """Monitors with their cursors and endpoints (never secrets)."""
        endpoints = store.list_endpoints()
        return [
            {"name": m.name, "model": m.model_name, "version": m.model_version,
             "enabled": m.enabled, "spec": m.spec,
             "last_completed_end": m.last_completed_end.isoformat() if m.last_completed_end else None,
             "webhooks": [{"url": e.url, "events": list(e.events), "enabled": e.enabled}
                          for e in endpoints if e.monitor == m.name]}
            for m in store.list_monitors()
        ]  # fmt: skip

    @app.get("/api/v1/runs", tags=["read"])
    def list_runs(
        _: str = Depends(api_key),
        model: str | None = None,
        version: str | None = None,
        monitor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Runs, newest window first (without results)."""
        runs = store.list_runs(name=model, version=version, monitor=monitor, limit=limit)
        return [r.to_dict() for r in runs]

    @app.get("/api/v1/runs/{run_id}", tags=["read"])
    def get_run(run_id: int, _: str = Depends(api_key)) -> dict[str, Any]:
        """One run with its signal results."""
        return store.get_run(run_id).to_dict()

    @app.get("/api/v1/alerts", tags=["read"])
    def alerts(_: str = Depends(api_key), monitor: str | None = None) -> list[dict[str, Any]]:
        """Current alert state of every (monitor, signal)."""
        return [
            {"monitor": s.monitor, "signal": s.signal, "state": s.state, "since": s.since.isoformat(),
             "last_window_end": s.last_window_end.isoformat(), "last_run_id": s.last_run_id}
            for s in store.list_alert_states(monitor)
        ]  # fmt: skip

    @app.get("/api/v1/alerts/events", tags=["read"])
    def alert_events(
        _: str = Depends(api_key),
        monitor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Alert transitions, newest first."""
        return [
            {"monitor": e.monitor, "signal": e.signal, "event": e.event, "run_id": e.run_id,
             "window_start": e.window_start.isoformat(), "window_end": e.window_end.isoformat()}
            for e in store.list_alert_events(monitor, limit=limit)
        ]  # fmt: skip

    @app.get("/api/v1/webhooks/deliveries", tags=["read"])
    def deliveries(
        _: str = Depends(api_key),
        status: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Webhook deliveries, newest first."""
        return [
            {"id": d.id, "url": d.url, "webhook_id": d.message_id, "event": d.event_type,
             "run_id": d.run_id, "status": d.status, "attempts": d.attempts,
             "last_error": d.last_error, "created_at": d.created_at.isoformat()}
            for d in store.list_deliveries(status=status, limit=limit)
        ]  # fmt: skip

    @app.get("/healthz", tags=["ops"])
    def healthz() -> JSONResponse:
        """200 when the database answers, 503 otherwise."""
        try:
            store.delivery_counts()
        except Exception as err:
            return JSONResponse({"status": "unavailable", "database": type(err).__name__}, 503)
        return JSONResponse({"status": "ok"})

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        """Prometheus metrics."""
        return PlainTextResponse(
            render_metrics(store, counters), media_type="text/plain; version=0.0.4"
        )

    return app
