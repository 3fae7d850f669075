"""The shared HTTP plumbing and the group-commit database, on a real in-process server."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3

import pytest
from aiohttp import web
from helpers_mock_http import ServerThread, call
from motcua.mock_services.common.db import Database
from motcua.mock_services.common.faults import parse_faults
from motcua.mock_services.common.http import (
    MAX_BODY_BYTES,
    TEST_ADMIN_TOKEN,
    ApiError,
    create_app,
    json_response,
    read_json,
)

OPENAPI = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}


def _app(db: Database | None = None) -> web.Application:
    app = create_app("gateway", openapi=OPENAPI, admin_token=TEST_ADMIN_TOKEN)

    async def echo(request: web.Request) -> web.Response:
        body = await read_json(request)
        if body.get("boom"):
            raise RuntimeError("boom")
        if body.get("teapot"):
            raise ApiError(422, "bad_value", "teapot is not allowed", field="teapot")
        if db is not None:
            await db.transact(lambda c: c.execute("INSERT INTO t(v) VALUES (?)", (json.dumps(body),)))
        return json_response({"got": body}, status=201)

    app.router.add_post("/echo", echo)
    return app


@pytest.fixture
def server(tmp_path):
    db = Database(tmp_path / "t.sqlite", "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT);")
    with ServerThread(_app(db)) as srv:
        srv.db = db
        yield srv


def _count(srv) -> int:
    return srv.db.query_one("SELECT count(*) FROM t")[0]


def test_json_errors_and_nothing_written(server):
    assert call("POST", server.url + "/echo", {"a": 1}) == (201, {"got": {"a": 1}})
    status, body = call("POST", server.url + "/echo", raw=b'{"a": ')
    assert status == 400 and body["error"] == "malformed_json" and "line 1" in body["message"]
    status, body = call("POST", server.url + "/echo", raw=b"[1, 2]")
    assert status == 400 and "JSON object" in body["message"]
    status, body = call("POST", server.url + "/echo", raw=b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}')
    assert status == 413 and body["error"] == "body_too_large"
    status, body = call("POST", server.url + "/echo", {"teapot": True})
    assert (status, body) == (422, {"error": "bad_value", "message": "teapot is not allowed", "field": "teapot"})
    status, body = call("POST", server.url + "/echo", {"boom": True})
    assert status == 500 and body["error"] == "internal_error" and "RuntimeError" in body["message"]
    status, body = call("GET", server.url + "/nowhere")
    assert status == 404 and body["error"] == "not_found"
    assert _count(server) == 1  # only the first, valid request wrote


def test_builtin_routes(server):
    assert call("GET", server.url + "/healthz") == (200, {"status": "ok", "service": "gateway"})
    assert call("GET", server.url + "/openapi.json")[1]["openapi"] == "3.1.0"
    call("POST", server.url + "/echo", {"a": 1})
    status, text = call("GET", server.url + "/metrics")
    assert status == 200
    assert 'motcua_http_requests_total{method="POST",route="/echo",status="201"} 1.0' in text
    assert 'motcua_http_request_seconds_count{method="POST",route="/echo"} 1.0' in text


def test_admin_faults_need_the_token_and_apply_at_run_time(server):
    url = server.url + "/admin/faults"
    assert call("GET", url)[0] == 401
    assert call("GET", url, headers={"X-Admin-Token": "wrong"})[0] == 401
    token = {"X-Admin-Token": TEST_ADMIN_TOKEN}
    status, body = call("PUT", url, {"gateway": {"errors": {"status": 503, "rate": 1.0}}}, headers=token)
    assert status == 200 and body["gateway"]["errors"]["status"] == 503
    status, body = call("POST", server.url + "/echo", {"a": 1})
    assert status == 503 and body["error"] == "injected_fault"
    assert call("GET", server.url + "/healthz")[0] == 200  # built-in routes are exempt
    status, body = call("PUT", url, {"gateway": {"errors": {"status": 404, "rate": 1.0}}}, headers=token)
    assert status == 422 and body["field"] == "gateway.errors.status" and "5xx" in body["message"]
    assert call("PUT", url, {}, headers=token)[0] == 200
    assert call("POST", server.url + "/echo", {"a": 1})[0] == 201


def test_admin_disabled_without_token():
    with ServerThread(create_app("bank", openapi=OPENAPI)) as srv:
        status, body = call("GET", srv.url + "/admin/faults", headers={"X-Admin-Token": ""})
        assert status == 403 and "--admin-token" in body["message"]


def test_reset_and_hang_faults(server):
    token = {"X-Admin-Token": TEST_ADMIN_TOKEN}
    call("PUT", server.url + "/admin/faults", {"gateway": {"reset": 1.0}}, headers=token)
    with pytest.raises((ConnectionResetError, ConnectionError, OSError)):
        call("POST", server.url + "/echo", {"a": 1})
    call("PUT", server.url + "/admin/faults", {"gateway": {"hang": {"rate": 1.0, "hang_s": 30}}}, headers=token)
    with pytest.raises(socket.timeout):
        call("POST", server.url + "/echo", {"a": 1}, timeout=0.3)
    call("PUT", server.url + "/admin/faults", {}, headers=token)
    assert _count(server) == 0
    text = call("GET", server.url + "/metrics")[1]
    # The reset is counted with status 0; the hang is still hanging.
    assert 'motcua_http_requests_total{method="POST",route="/echo",status="0"} 1.0' in text


def test_group_commit_batches_and_isolates_failures(tmp_path):
    db = Database(tmp_path / "g.sqlite", "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER UNIQUE);")

    def insert(v):
        return lambda c: c.execute("INSERT INTO t(v) VALUES (?)", (v,)).lastrowid

    async def main():
        futures = [db.transact(insert(i)) for i in range(500)] + [db.transact(insert(3))]
        return await asyncio.gather(*futures, return_exceptions=True)

    results = asyncio.run(main())
    assert isinstance(results[-1], sqlite3.IntegrityError)  # the duplicate rolled back alone
    assert db.query_one("SELECT count(*) FROM t")[0] == 500
    assert db.stats == {"commits": 1, "units": 501, "slow_batches": 1, "wal_rewinds": 0}
    assert db.query_one("PRAGMA journal_mode")[0] == "wal"
    db.close()


def test_fault_table_is_applied_per_route():
    table = parse_faults({"seed": 1, "gateway": {"errors": {"status": 500, "rate": 1.0, "routes": ["POST /echo"]}}})
    app = create_app("gateway", openapi=OPENAPI, faults=table.for_service("gateway"))

    async def other(request):
        return json_response({"ok": True})

    app.router.add_post("/echo", other)
    app.router.add_post("/other", other)
    with ServerThread(app) as srv:
        assert call("POST", srv.url + "/echo", {})[0] == 500
        assert call("POST", srv.url + "/other", {})[0] == 200


def test_delay_queue_order_dedup_and_concurrency():
    import time as _time

    from motcua.mock_services.common.outbox import DelayQueue

    started: list[tuple[str, float]] = []
    active = {"now": 0, "max": 0}

    async def deliver(key):
        started.append((key, _time.time()))
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])
        await asyncio.sleep(0.05)
        active["now"] -= 1

    async def main():
        queue = DelayQueue(deliver, concurrency=2)
        queue.start()
        t0 = _time.time()
        queue.schedule("late", t0 + 0.3)
        queue.schedule("soon", t0 + 0.1)
        for key in ("a", "b", "c", "a"):  # "a" twice: queued once
            queue.schedule(key, t0)
        await asyncio.sleep(0.6)
        await queue.stop()
        return t0

    t0 = asyncio.run(main())
    keys = [k for k, _ in started]
    assert sorted(keys[:3]) == ["a", "b", "c"] and keys[3:] == ["soon", "late"]
    assert active["max"] == 2
    times = dict(started)
    assert times["soon"] - t0 >= 0.1 and times["late"] - t0 >= 0.3
