"""HTTP plumbing shared by the three mock services (aiohttp + uvloop).

Public API::

    app = create_app("gateway", openapi=OPENAPI, faults=service_faults, admin_token=token)
    app.router.add_post("/payments", handler)          # add the service's own routes

    body = await read_json(request)     # dict; ApiError 400 (malformed/not an object) or 413 (> 64 KiB)
    raw = await read_body(request); body = parse_json_object(raw)   # the same in two steps (verify raw first)
    value = require(body, "bank_code")  # present, right type, non-empty; else ApiError 422 naming the field
    raise ApiError(422, "zero_fee", "amount_vnd must be above zero ...", field="amount_vnd")
    return json_response({...}, status=201)

    faults = current_faults(request.app)               # the ServiceFaults in force (PUT /admin/faults swaps it)
    Counter("name", "help", registry=metrics_registry(app))   # a service's own metrics on /metrics

    (signed requests both ways, `verify_signed` and `SignedClient`: common.signed_http)

    run_service(app, host="127.0.0.1", port=0)   # uvloop, prints one JSON line when listening,
                                                 # stops cleanly on SIGTERM / Ctrl-C
                                                 # (a service's command line: common.service_config)

Every app serves ``GET /healthz``, ``GET /metrics`` (Prometheus text from a registry of its own:
``motcua_http_requests_total{method,route,status}``, ``motcua_http_request_seconds{method,route}``,
``motcua_faults_injected_total{kind}`` with kind latency, hang, reset or error),
``GET /openapi.json`` and ``GET|PUT /admin/faults`` (loopback only, header ``X-Admin-Token``).
Errors are JSON ``{"error", "message", "field"?}`` (docs/contracts.md §1); a handler's unexpected
exception becomes a 500 JSON answer, never an HTML page. Faults are applied to the service's own
routes only; the built-in routes above are exempt so a tester can always switch faults off.
Metrics, errors and faults are one middleware (one coroutine layer per request, for speed). A request
that ends without an answer (injected reset or hang, client gone) is counted with status ``0``.

The admin token: ``--admin-token`` or ``$MOTCUA_ADMIN_TOKEN``; without one the admin endpoints answer
403. `TEST_ADMIN_TOKEN` is a published token for tests and local runs only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import signal
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from motcua.mock_services.common.faults import NO_ACTION, NO_FAULTS, ServiceFaults, parse_faults
from motcua.mock_services.errors import AnswerDropped, FaultConfigError
from motcua.mock_services.errors import ApiError as ApiError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

log = logging.getLogger("mock_services")

MAX_BODY_BYTES = 64 * 1024
"""Bodies larger than 64 KiB are refused with 413 (docs/contracts.md §1)."""

ADMIN_TOKEN_HEADER = "X-Admin-Token"
ADMIN_TOKEN_ENV = "MOTCUA_ADMIN_TOKEN"
TEST_ADMIN_TOKEN = "TEST-ONLY-admin-token"
"""TEST ONLY: a published admin token for tests and `motcua mock`; it protects nothing."""

EXEMPT_PREFIXES = ("/healthz", "/metrics", "/openapi.json", "/admin/")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    500: "internal_error",
    503: "unavailable",
}


class FaultSwitch:
    """Holds the faults in force for one app; ``PUT /admin/faults`` replaces them at run time."""

    def __init__(self, service: str, faults: ServiceFaults) -> None:
        self.service = service
        self.current = faults


FAULTS = web.AppKey("faults", FaultSwitch)
SERVICE = web.AppKey("service", str)
OPENAPI = web.AppKey("openapi", bytes)
ADMIN_TOKEN = web.AppKey("admin_token", object)


def metrics_registry(app: web.Application) -> CollectorRegistry:
    """The app's own Prometheus registry: a service registers its domain metrics here."""
    return app[METRICS].registry


def current_faults(app: web.Application) -> ServiceFaults:
    """The faults in force right now (read at the moment of use: they may be replaced at run time)."""
    return app[FAULTS].current


# --------------------------------------------------------------------------- JSON


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
"""One encoder for every answer (``json.dumps`` with options builds a new one per call)."""


def dumps(data: Any) -> bytes:
    return _ENCODER.encode(data).encode()


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(body=dumps(data), status=status, content_type="application/json", headers=headers)


def error_response(exc: ApiError) -> web.Response:
    return json_response(exc.body(), status=exc.status)


async def read_body(request: web.Request) -> bytes:
    """The raw body, refusing more than 64 KiB with 413 before reading it when the length is declared."""
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"request body is {length} bytes; the limit is {MAX_BODY_BYTES} bytes")
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "body_too_large", f"request body exceeds the limit of {MAX_BODY_BYTES} bytes") from None


async def check_form_body(request: web.Request) -> None:
    """ApiError 400 for a ``multipart/*`` body aiohttp cannot read (no boundary, broken parts), before a handler.

    The body is parsed here once (aiohttp keeps the parsed form for the handler's ``request.post()``), so no handler
    meets aiohttp's ``ValueError``/``AssertionError`` of a malformed multipart body and answers 500. Other content
    types reach the handlers as they are: `read_body` and `parse_json_object` answer 400 or 413 for them.
    """
    if not request.content_type.startswith("multipart/") or not request.can_read_body:
        return
    if not request.content_type.startswith("multipart/form-data"):
        raise ApiError(415, "unsupported_media_type",
                       f"Content-Type {request.content_type} is not accepted; send application/json, "
                       "application/x-www-form-urlencoded or multipart/form-data")
    boundary = request.headers.get("Content-Type", "")
    if "boundary=" not in boundary.replace(" ", "").lower():
        raise ApiError(400, "malformed_body", "Content-Type multipart/form-data without a boundary; "
                       "send a boundary parameter (or application/x-www-form-urlencoded)")
    try:
        await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "body_too_large", f"request body exceeds the limit of {MAX_BODY_BYTES} bytes") from None
    except (ValueError, AssertionError, LookupError, TypeError, HttpProcessingError) as exc:
        raise ApiError(400, "malformed_body", f"multipart/form-data body cannot be read: {exc}"[:300]) from None


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Parse a JSON object from `raw`, or raise ApiError 400 saying where it is malformed."""
    if not raw:
        raise ApiError(400, "malformed_json", "request body is empty; send a JSON object")
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise ApiError(400, "malformed_json", "request body is not UTF-8 text; send a JSON object") from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, "malformed_json", f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", f"request body must be a JSON object, got {type(data).__name__}")
    return data


async def read_json(request: web.Request) -> dict[str, Any]:
    return parse_json_object(await read_body(request))


def require(body: Mapping[str, Any], field: str, kind: type | tuple[type, ...] = str) -> Any:
    """`body[field]`, checked for presence and type; ApiError 422 naming the field otherwise."""
    if field not in body:
        raise ApiError(422, "missing_field", f"{field} is required", field=field)
    value = body[field]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ApiError(422, "invalid_field", f"{field} has the wrong type: got {value!r}", field=field)
    if not isinstance(value, kind) or (isinstance(value, str) and not value):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ApiError(422, "invalid_field", f"{field} must be a non-empty {names}, got {value!r}", field=field)
    return value


# --------------------------------------------------------------------------- middlewares


class _Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "motcua_http_requests", "HTTP requests handled, by route and status",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "motcua_http_request_seconds", "Time to answer a request, by route", ["method", "route"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.faults = Counter(
            "motcua_faults_injected", "HTTP faults injected, by kind (latency, hang, reset, error)", ["kind"],
            registry=self.registry,
        )
        self.service = service
        # Label lookups cost more than the increments; keep the children at hand.
        self._latency_children: dict[tuple[str, str], Any] = {}
        self._count_children: dict[tuple[str, str, int], Any] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        counter = self._count_children.get((method, route, status))
        if counter is None:
            counter = self._count_children[(method, route, status)] = self.requests.labels(method, route, str(status))
        counter.inc()
        child = self._latency_children.get((method, route))
        if child is None:
            child = self._latency_children[(method, route)] = self.latency.labels(method, route)
        child.observe(seconds)


METRICS = web.AppKey("metrics", _Metrics)


def _route_of(request: web.Request) -> str:
    info = request.match_info
    route = getattr(info, "route", None)
    resource = getattr(route, "resource", None)
    return resource.canonical if resource is not None else "<unmatched>"


@web.middleware
async def _service_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Metrics, JSON errors and fault injection in one layer (one coroutine per request, not three)."""
    start = time.perf_counter()
    route = _route_of(request)
    try:
        await check_form_body(request)
        faults = current_faults(request.app)
        if faults.spec.has_http_faults and not request.path.startswith(EXEMPT_PREFIXES):
            response = await _with_faults(request, handler, faults, route)
        else:
            response = await handler(request)
    except ApiError as exc:
        response = error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _http_error(request, exc)
    except AnswerDropped:
        # Status 0: no answer; the connection is already gone, so the placeholder below is never sent.
        request.app[METRICS].observe(request.method, route, 0, time.perf_counter() - start)
        return web.Response(status=204)
    except (asyncio.CancelledError, ConnectionResetError):
        request.app[METRICS].observe(request.method, route, 0, time.perf_counter() - start)
        raise
    except Exception as exc:  # a bug in a handler: answer JSON, log the traceback
        log.exception("unhandled error in %s %s", request.method, request.path)
        response = json_response(
            {"error": "internal_error", "message": f"unexpected {type(exc).__name__}: {exc}"}, status=500
        )
    request.app[METRICS].observe(request.method, route, response.status, time.perf_counter() - start)
    return response


def _http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    code = _STATUS_CODES.get(exc.status, "http_error")
    message = exc.text if exc.text and not exc.text.startswith(str(exc.status)) else exc.reason
    if exc.status == 404:
        message = f"no route for {request.method} {request.path}; see /openapi.json"
    elif exc.status == 405:
        message = f"{request.method} is not allowed on {request.path}; see /openapi.json"
    elif exc.status == 413:
        message = f"request body exceeds the limit of {MAX_BODY_BYTES} bytes"
    return json_response({"error": code, "message": message}, status=exc.status)


def reset_connection(request: web.Request) -> None:
    """Close the client's TCP connection with a RST (SO_LINGER 0) instead of answering."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _count_fault(metrics: Any, action: Any) -> None:
    if action.delay_s > 0:
        metrics.faults.labels("latency").inc()
    kind = "hang" if action.hang_s is not None else "reset" if action.reset else "error" if action.status else None
    if kind:
        metrics.faults.labels(kind).inc()


async def _with_faults(
    request: web.Request, handler: Handler, faults: ServiceFaults, route: str
) -> web.StreamResponse:
    action = faults.http_action(request.method, route)
    if action is not NO_ACTION:
        _count_fault(request.app[METRICS], action)
    if action.delay_s > 0:
        await asyncio.sleep(action.delay_s)
    if action.hang_s is not None:
        await asyncio.sleep(action.hang_s)  # the client times out long before; then drop the connection
        reset_connection(request)
        raise AnswerDropped
    if action.reset:
        reset_connection(request)
        raise AnswerDropped
    if action.status is not None:
        raise ApiError(action.status, "injected_fault", f"fault injection: HTTP {action.status} for this request")
    return await handler(request)


# --------------------------------------------------------------------------- built-in routes


async def _healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok", "service": request.app[SERVICE]})


async def _metrics(request: web.Request) -> web.Response:
    payload = generate_latest(request.app[METRICS].registry)
    return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type="application/json")


def _check_admin(request: web.Request) -> None:
    remote = request.remote or ""
    if not (remote.startswith("127.") or remote == "::1"):
        raise ApiError(403, "not_loopback", f"admin endpoints answer loopback clients only, not {remote!r}")
    token = request.app[ADMIN_TOKEN]
    if not token:
        raise ApiError(
            403, "admin_disabled",
            f"admin endpoints are disabled: start the service with --admin-token or ${ADMIN_TOKEN_ENV}",
        )
    given = request.headers.get(ADMIN_TOKEN_HEADER, "")
    if not hmac.compare_digest(given.encode(), str(token).encode()):
        raise ApiError(401, "bad_admin_token", f"header {ADMIN_TOKEN_HEADER} is missing or wrong")


async def _get_faults(request: web.Request) -> web.Response:
    _check_admin(request)
    faults = current_faults(request.app)
    return json_response({"seed": faults.seed, **{k: v for k, v in faults.raw.items() if k != "seed"}})


async def _put_faults(request: web.Request) -> web.Response:
    _check_admin(request)
    table_data = await read_json(request)
    try:
        # A table without a seed keeps the seed in force (from --seed or the fault file).
        table = parse_faults(table_data, source="PUT /admin/faults", default_seed=current_faults(request.app).seed)
    except FaultConfigError as exc:
        raise ApiError(422, "invalid_faults", str(exc), field=exc.field) from None
    switch = request.app[FAULTS]
    switch.current = table.for_service(switch.service, clock_start_s=time.monotonic())
    return json_response({"seed": table.seed, **{k: v for k, v in table.raw.items() if k != "seed"}})


def create_app(
    service: str,
    *,
    openapi: Mapping[str, Any],
    faults: ServiceFaults | None = None,
    admin_token: str | None = None,
    middlewares: tuple[Any, ...] = (),
) -> web.Application:
    """An aiohttp app with the common middlewares and built-in routes; add the service's routes to it."""
    app = web.Application(
        middlewares=[_service_middleware, *middlewares],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SERVICE] = service
    app[OPENAPI] = dumps(openapi)
    app[ADMIN_TOKEN] = admin_token
    app[METRICS] = _Metrics(service)
    if faults is None:
        faults = NO_FAULTS.for_service(service, clock_start_s=time.monotonic())
    app[FAULTS] = FaultSwitch(service, faults)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/openapi.json", _openapi)
    app.router.add_get("/admin/faults", _get_faults)
    app.router.add_put("/admin/faults", _put_faults)
    return app


# --------------------------------------------------------------------------- runner


def run_service(app: web.Application, *, host: str = "127.0.0.1", port: int) -> None:
    """Serve `app` with uvloop until SIGTERM or Ctrl-C, then shut down cleanly.

    When listening, prints one JSON line ``{"service", "url", "pid"}`` to stdout (port 0 → the real port).
    """
    import uvloop

    async def serve() -> None:
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port, backlog=2048, reuse_address=True)
        await site.start()
        bound = runner.addresses[0]
        url = f"http://{bound[0]}:{bound[1]}"
        print(json.dumps({"service": app[SERVICE], "url": url, "pid": os.getpid()}), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve())
