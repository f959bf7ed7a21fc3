"""The HTTP API of ``raiwatch serve`` (FastAPI).

* ``POST /api/v1/models/{model}/versions/{version}/logs`` and ``.../labels``:
  ingestion (JSON, NDJSON or an Arrow IPC stream), API key in ``Authorization: Bearer`` or
  ``X-API-Key``; 422 with per-row reasons (invalid UTF-8 and pathological JSON
  included), 413 over the size limit. ``Idempotency-Key`` makes a retry safe
  (:mod:`jobs.idempotency`); log rows whose request id is already stored are
  counted in ``duplicates`` and not stored again; labels re-run the stored
  windows they touch (as ``raiwatch labels ingest`` does). 2xx means durable.
* ``GET /api/v1/models``, ``/monitors``, ``/runs``, ``/runs/{id}``, ``/alerts``,
  ``/alerts/events``, ``/webhooks/deliveries``: read endpoints.
* ``GET /api/v1/apikeys`` and ``POST /api/v1/apikeys/{name}/revoke``: key management.
* ``GET /healthz``, ``GET /metrics`` (Prometheus; API key unless ``metrics_public``),
  ``GET /openapi.json``, ``/docs`` (Swagger UI) and ``/redoc``, both served with their
  assets from this process (no CDN: they work offline and behind an air gap).

Every endpoint declares its scope (:class:`RequireScope` or :func:`public_endpoint`;
building the app fails otherwise) and OpenAPI shows it as ``x-raiwatch-scope``:
``ingest`` for the two ingestion endpoints, ``read`` for the read endpoints and
``/metrics``, ``admin`` for key management (``admin`` holds every scope). A key
limited to some models gets 403 for another model's data and sees only its
models in listings; ``/metrics`` (every model) needs an unrestricted key. A
missing, unknown or revoked key is 401, a key without the scope 403; keys are
checked against the store on every request, so a revocation is immediate.

When the database or the data directory is unavailable every endpoint answers
503 with ``Retry-After`` (and ``/healthz`` 503); the outage is logged once when
it starts and once when it ends. Responses never carry webhook secrets, API keys
or tokens in webhook URLs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as FastApiPath
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from jobs.idempotency import IdempotencyKeys
from jobs.ingest import ARROW_STREAM, BatchRejected, Kind, ingest_rows, parse_batch
from jobs.metrics import IngestCounters, render_metrics
from jobs.outage import RETRY_AFTER_S, OutageTracker, is_unavailable
from monitor.errors import NotFoundError
from monitor.ingest.logstore import LogStore
from monitor.redaction import redact, redact_url, register_secret
from monitor.spec.model_version import ModelVersion
from monitor.store import ApiKeyGrant, Store

log = logging.getLogger("raiwatch.api")
#: Row ids are 32-bit integers on every store; a larger id is a 422, not a database error.
MAX_ROW_ID = 2**31 - 1
#: Called after labels are stored with the model version and the labelled request ids;
#: returns the ids of the runs it re-ran.
LabelHook = Callable[[ModelVersion, list[str]], list[int]]
DOCS_ASSETS = "/docs-assets"


# module level: the handlers' annotations are resolved from module globals
BEARER = HTTPBearer(auto_error=False, description="an API key from `raiwatch apikey create NAME`")
HEADER_KEY = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="the same API key, in a header"
)


def _docs_assets_dir() -> str:
    """Swagger UI and ReDoc bundles shipped in the ``fastapi-offline`` wheel (we use only its files)."""
    from importlib.resources import files

    return str(files("fastapi_offline") / "static")


class _KeyCheck:
    """API-key verification against the store on every request: a revoked key stops at once."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def check(self, key: str) -> ApiKeyGrant | None:
        grant = self.store.authenticate_api_key(key)
        if grant is not None:
            register_secret(key)
        return grant


class RequireScope:
    """Dependency of an endpoint that needs an API key holding ``scope``.

    401 without a valid, unrevoked key; 403 when the key lacks the scope, or
    when ``every_model`` and the key is limited to some models (such an endpoint
    shows data of every model, e.g. ``/metrics``).
    """

    def __init__(self, keys: _KeyCheck, scope: str, *, every_model: bool = False) -> None:
        self.keys = keys
        self.scope = scope
        self.every_model = every_model

    def __call__(
        self,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
        x_api_key: Annotated[str | None, Depends(HEADER_KEY)] = None,
    ) -> ApiKeyGrant:
        key = x_api_key or (credentials.credentials if credentials else "")
        grant = self.keys.check(key) if key else None
        if grant is None:
            raise HTTPException(
                401,
                "missing or invalid API key; send 'Authorization: Bearer <key>' "
                "(create one with 'raiwatch apikey create NAME --scope SCOPE')",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not grant.allows(self.scope):
            raise HTTPException(
                403, f"API key {grant.name!r} has scopes {list(grant.scopes)}; this endpoint "
                     f"needs scope {self.scope!r} (or admin); create a key with --scope {self.scope}",
            )  # fmt: skip
        if self.every_model and grant.models is not None:
            raise HTTPException(
                403, f"API key {grant.name!r} is limited to models {list(grant.models)}; this "
                     "endpoint shows every model and needs a key without a model restriction",
            )  # fmt: skip
        return grant


def public_endpoint() -> None:
    """Marks an endpoint that needs no API key (``/healthz``, the docs)."""


def check_model(grant: ApiKeyGrant, model: str) -> None:
    """403 unless ``grant`` may touch ``model``."""
    if not grant.may_use(model):
        raise HTTPException(
            403, f"API key {grant.name!r} is limited to models {list(grant.models or ())}; "
                 f"it may not use model {model!r}",
        )  # fmt: skip


def endpoint_scope(route: APIRoute) -> str | None:
    """The scope an endpoint declares (``public`` for none needed), or ``None`` if it declares none."""
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, RequireScope):
            return dependency.call.scope
        if dependency.call is public_endpoint:
            return "public"
    return None


def _batch_body(rows: str) -> dict[str, Any]:
    """OpenAPI request body of an ingestion endpoint (the body is parsed by hand, all or nothing)."""
    row = {"type": "object", "additionalProperties": True, "description": rows}
    array = {"type": "array", "items": row, "minItems": 1}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"oneOf": [
                    array, {"type": "object", "properties": {"rows": array}, "required": ["rows"]}]}},
                "application/x-ndjson": {"schema": {"type": "string", "description": "one JSON row per line"}},
                ARROW_STREAM: {"schema": {"type": "string", "format": "binary",
                                          "description": "an Arrow IPC stream of rows"}},
            },
        },
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "a retry with the same key and body is answered once"}],
    }  # fmt: skip


def _unavailable_response(what: str) -> JSONResponse:
    return JSONResponse(
        {"detail": f"the {what} is unavailable; nothing was stored; retry after "
                   f"{RETRY_AFTER_S} seconds"},
        status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)},
    )  # fmt: skip


def create_app(
    store: Store,
    log_store: LogStore,
    *,
    max_request_bytes: int,
    on_labels: LabelHook | None = None,
    metrics_public: bool = False,
) -> FastAPI:
    """Build the FastAPI application over a store and a log store.

    ``on_labels`` re-runs the windows touched by labels (``raiwatch serve``
    passes :func:`jobs.relabel.rerun_for_labels`); without it labels are only stored.
    ``/metrics`` needs an API key unless ``metrics_public`` (settings ``metrics_public: true``).
    """
    from jobs import __version__

    app = FastAPI(
        title="raiwatch", version=__version__, description=__doc__, docs_url=None, redoc_url=None
    )
    app.mount(DOCS_ASSETS, StaticFiles(directory=_docs_assets_dir()), name="docs-assets")
    keys = _KeyCheck(store)
    counters = IngestCounters()
    outages = OutageTracker()
    idempotency = IdempotencyKeys(log_store.root / "_idempotency")
    app.state.counters = counters
    app.state.outages = outages

    @app.middleware("http")
    async def _store_outages(request: Request, call_next: Any) -> Any:
        try:
            response = await call_next(request)
        except Exception as err:
            if not is_unavailable(err):
                raise
            what = "data directory" if isinstance(err, OSError) else "database"
            outages.failed(what, err)
            return _unavailable_response(what)
        if response.status_code < 500 and request.url.path != "/healthz":
            outages.succeeded("database")
        return response

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(public_endpoint)])
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="raiwatch API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False, dependencies=[Depends(public_endpoint)])
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="raiwatch API",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    ingest_key = RequireScope(keys, "ingest")
    read_key = RequireScope(keys, "read")
    admin_key = RequireScope(keys, "admin")
    every_model_read_key = RequireScope(keys, "read", every_model=True)

    def visible_monitors(grant: ApiKeyGrant) -> dict[str, str] | None:
        """Monitor name → model of the monitors ``grant`` may see (``None``: every monitor)."""
        if grant.models is None:
            return None
        return {m.name: m.model_name for m in store.list_monitors() if grant.may_use(m.model_name)}

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

    def _store_batch(mv: ModelVersion, body: bytes, content_type: str, kind: Kind,
                     key_name: str) -> tuple[int, dict[str, Any]]:  # fmt: skip
        try:
            frame = parse_batch(body, content_type, mv)
            result = ingest_rows(log_store, mv, frame, kind, source=f"api:{key_name}")
        except BatchRejected as err:
            counters.reject(mv.name, mv.version, kind)
            return 422, {"detail": err.message, "errors": err.errors}
        counters.add(mv.name, mv.version, kind, result.accepted)
        answer: dict[str, Any] = {"accepted": result.accepted,
                                  "ignored_columns": result.ignored_columns,
                                  "with_type_errors": result.with_type_errors}  # fmt: skip
        if kind == "logs":
            answer["duplicates"] = result.duplicates
        elif on_labels is not None and result.request_ids:
            answer["rerun_runs"] = len(on_labels(mv, result.request_ids))
        return 200, answer

    async def _ingest(
        request: Request, model: str, version: str, kind: Kind, grant: ApiKeyGrant
    ) -> Any:
        check_model(grant, model)
        key_name = grant.name
        body = await _read_body(request)
        mv = await run_in_threadpool(store.get_model_version, model, version)
        content_type = request.headers.get("content-type", "")
        key = request.headers.get("idempotency-key")
        if key is None:
            status, answer = await run_in_threadpool(
                _store_batch, mv, body, content_type, kind, key_name
            )
            return JSONResponse(answer, status_code=status)
        scope = f"{key_name}\0{mv.name}\0{mv.version}\0{kind}"
        claim = await run_in_threadpool(idempotency.claim, scope, key, body)
        if claim.action == "replay":
            return JSONResponse(claim.body, status_code=claim.status,
                                headers={"Idempotent-Replayed": "true"})  # fmt: skip
        if claim.action == "conflict":
            headers = {"Retry-After": "1"} if "still being processed" in claim.reason else None
            return JSONResponse({"detail": claim.reason}, status_code=claim.status, headers=headers)
        try:
            status, answer = await run_in_threadpool(
                _store_batch, mv, body, content_type, kind, key_name
            )
        except BaseException:
            claim.finish(503, None)  # not an answer about the batch: the key may be retried
            raise
        claim.finish(status, answer)
        return JSONResponse(answer, status_code=status)

    @app.post("/api/v1/models/{model}/versions/{version}/logs", tags=["ingestion"],
              openapi_extra=_batch_body("inference-log rows: request id, timestamp, features, outputs"))  # fmt: skip
    async def ingest_logs(
        request: Request, model: str, version: str, key: ApiKeyGrant = Depends(ingest_key)
    ) -> Any:
        """Store a batch of inference-log rows (all or nothing)."""
        return await _ingest(request, model, version, "logs", key)

    @app.post("/api/v1/models/{model}/versions/{version}/labels", tags=["ingestion"],
              openapi_extra=_batch_body("labels: request_id, label, optional label_timestamp"))  # fmt: skip
    async def ingest_labels(
        request: Request, model: str, version: str, key: ApiKeyGrant = Depends(ingest_key)
    ) -> Any:
        """Store a batch of ground-truth labels keyed by request id (all or nothing)."""
        return await _ingest(request, model, version, "labels", key)

    @app.get("/api/v1/models", tags=["read"])
    def list_models(grant: ApiKeyGrant = Depends(read_key)) -> list[dict[str, Any]]:
        """Registered model versions (those of the key's models when it is limited)."""
        return [mv.model_dump(mode="json") for mv in store.list_model_versions()
                if grant.may_use(mv.name)]  # fmt: skip

    @app.get("/api/v1/models/{model}/versions/{version}", tags=["read"])
    def get_model(
        model: str, version: str, grant: ApiKeyGrant = Depends(read_key)
    ) -> dict[str, Any]:
        """One model version."""
        check_model(grant, model)
        return store.get_model_version(model, version).model_dump(mode="json")

    @app.get("/api/v1/monitors", tags=["read"])
    def list_monitors(grant: ApiKeyGrant = Depends(read_key)) -> list[dict[str, Any]]:
        """Monitors with their cursors and endpoints (never secrets)."""
        endpoints = store.list_endpoints()
        return [
            {"name": m.name, "model": m.model_name, "version": m.model_version,
             "enabled": m.enabled, "spec": m.spec,
             "last_completed_end": m.last_completed_end.isoformat() if m.last_completed_end else None,
             "webhooks": [{"url": redact_url(e.url), "events": list(e.events), "enabled": e.enabled}
                          for e in endpoints if e.monitor == m.name]}
            for m in store.list_monitors() if grant.may_use(m.model_name)
        ]  # fmt: skip

    @app.get("/api/v1/runs", tags=["read"])
    def list_runs(
        grant: ApiKeyGrant = Depends(read_key),
        model: str | None = None,
        version: str | None = None,
        monitor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Runs, newest window first (without results)."""
        if model is not None:
            check_model(grant, model)
        models: list[str | None] = (
            [model] if model is not None or grant.models is None else list(grant.models)
        )
        runs = [r for name in models
                for r in store.list_runs(name=name, version=version, monitor=monitor, limit=limit)]  # fmt: skip
        runs.sort(key=lambda r: (r.window_end, r.id), reverse=True)
        return [r.to_dict() for r in runs[:limit]]

    @app.get("/api/v1/runs/{run_id}", tags=["read"])
    def get_run(
        run_id: Annotated[int, FastApiPath(ge=1, le=MAX_ROW_ID)],
        grant: ApiKeyGrant = Depends(read_key),
    ) -> dict[str, Any]:
        """One run with its signal results."""
        run = store.get_run(run_id)
        check_model(grant, run.model_name)
        return run.to_dict()

    @app.get("/api/v1/alerts", tags=["read"])
    def alerts(
        grant: ApiKeyGrant = Depends(read_key), monitor: str | None = None
    ) -> list[dict[str, Any]]:
        """Current alert state of every (monitor, signal)."""
        visible = visible_monitors(grant)
        return [
            {"monitor": s.monitor, "signal": s.signal, "state": s.state, "since": s.since.isoformat(),
             "last_window_end": s.last_window_end.isoformat(), "last_run_id": s.last_run_id}
            for s in store.list_alert_states(monitor) if visible is None or s.monitor in visible
        ]  # fmt: skip

    @app.get("/api/v1/alerts/events", tags=["read"])
    def alert_events(
        grant: ApiKeyGrant = Depends(read_key),
        monitor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Alert transitions, newest first."""
        visible = visible_monitors(grant)
        names: list[str | None] = [monitor] if visible is None else [
            m for m in visible if monitor is None or m == monitor]  # fmt: skip
        events = [e for name in names for e in store.list_alert_events(name, limit=limit)]
        events.sort(key=lambda e: e.id, reverse=True)
        return [
            {"monitor": e.monitor, "signal": e.signal, "event": e.event, "run_id": e.run_id,
             "window_start": e.window_start.isoformat(), "window_end": e.window_end.isoformat()}
            for e in events[:limit]
        ]  # fmt: skip

    @app.get("/api/v1/webhooks/deliveries", tags=["read"])
    def deliveries(
        grant: ApiKeyGrant = Depends(read_key),
        status: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Webhook deliveries, newest first."""
        visible = visible_monitors(grant)
        names: list[str | None] = [None] if visible is None else list(visible)
        found = [
            d
            for name in names
            for d in store.list_deliveries(status=status, monitor=name, limit=limit)
        ]
        found.sort(key=lambda d: d.id, reverse=True)
        return [
            {"id": d.id, "url": redact_url(d.url), "webhook_id": d.message_id,
             "event": d.event_type, "run_id": d.run_id, "status": d.status,
             "attempts": d.attempts, "last_error": redact(d.last_error) if d.last_error else None, "created_at": d.created_at.isoformat()}
            for d in found[:limit]
        ]  # fmt: skip

    @app.get("/api/v1/apikeys", tags=["admin"])
    def list_api_keys(_: ApiKeyGrant = Depends(admin_key)) -> list[dict[str, Any]]:
        """API keys: name, prefix, scopes, models and dates (never a key or its hash)."""
        return [
            {"name": k.name, "prefix": k.prefix, "scopes": list(k.scopes),
             "models": None if k.models is None else list(k.models),
             "created_at": k.created_at.isoformat(),
             "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None}
            for k in store.list_api_keys()
        ]  # fmt: skip

    @app.post("/api/v1/apikeys/{name}/revoke", tags=["admin"])
    def revoke_api_key(name: str, _: ApiKeyGrant = Depends(admin_key)) -> dict[str, Any]:
        """Revoke a key by name; the next request with it is refused."""
        store.revoke_api_key(name)
        return {"name": name, "revoked": True}

    @app.get("/healthz", tags=["ops"], dependencies=[Depends(public_endpoint)])
    def healthz() -> JSONResponse:
        """200 when the database answers and the data directory is writable, 503 otherwise."""
        problems: dict[str, str] = {}
        try:
            store.delivery_counts()
            outages.succeeded("database")
        except Exception as err:
            outages.failed("database", err)
            problems["database"] = type(err).__name__
        try:
            probe = log_store.root / ".healthz"
            probe.parent.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"ok")
            outages.succeeded("data directory")
        except OSError as err:
            outages.failed("data directory", err)
            problems["data_directory"] = type(err).__name__
        if problems:
            return JSONResponse({"status": "unavailable", **problems}, 503,
                                headers={"Retry-After": str(RETRY_AFTER_S)})  # fmt: skip
        return JSONResponse({"status": "ok"})

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def metrics(
        _: Any = Depends(public_endpoint if metrics_public else every_model_read_key),
    ) -> PlainTextResponse:
        """Prometheus metrics (scrape with ``authorization: Bearer <key>`` unless public)."""
        return PlainTextResponse(
            render_metrics(store, counters), media_type="text/plain; version=0.0.4"
        )

    _declare_scopes(app)
    return app


def _declare_scopes(app: FastAPI) -> None:
    """Write each endpoint's scope into its OpenAPI operation; refuse an endpoint without one."""
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        scope = endpoint_scope(route)
        if scope is None:
            raise RuntimeError(
                f"endpoint {route.path} declares no scope (RequireScope or public_endpoint)"
            )
        route.openapi_extra = {**(route.openapi_extra or {}), "x-raiwatch-scope": scope}
        if scope != "public":
            route.description = (route.description or "") + (
                f"\n\nNeeds an API key with scope `{scope}` (or `admin`)."
            )
