"""Test helpers for the mock services: an in-process server thread, service subprocesses, a tiny client.

- `ServerThread(app)`: runs an aiohttp app on its own uvloop thread on a free loopback port.
- `ServiceProcess("gateway", data_dir, extra_args, port=0)`: ``python -m motcua.mock_services.<name>``; reads the
  URL from the JSON line the service prints when listening; `kill()` sends SIGKILL, `stop()` SIGTERM.
- `call(method, url, payload=None, headers=None, raw=None)`: a blocking request → (status, JSON or text).
- `signed_headers(key_id, method, url, body)`: signature headers with the published test keys.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from motcua.mock_services.common import signing

ROOT = Path(__file__).resolve().parent.parent


class ServerThread:
    """An aiohttp app served on 127.0.0.1:<free port> from a background event loop."""

    def __init__(self, app: web.Application) -> None:
        import uvloop

        self.app = app
        self.loop = uvloop.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("in-process server did not start within 10 s")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._ready.set()
        self.loop.run_forever()

    def run(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.run(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ServiceProcess:
    """One mock service as a real process on a free port (``--port 0``)."""

    def __init__(self, name: str, data_dir: Path, args: list[str] | None = None, *, port: int = 0,
                 timeout: float = 20) -> None:
        self.name, self.data_dir, self.args = name, Path(data_dir), list(args or [])
        self.port, self.timeout = port, timeout
        self.start()

    def start(self) -> None:
        cmd = [sys.executable, "-m", f"motcua.mock_services.{self.name}", "--port", str(self.port),
               "--data-dir", str(self.data_dir), *self.args]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # stderr goes to a file: a pipe nobody reads would block the service once 64 KiB of logs piled up.
        self.log_path = self.data_dir / f"{self.name}.stderr.log"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=ROOT)
        line = self._read_line()
        self.url = json.loads(line)["url"]

    def _read_line(self) -> str:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.timeout)
        if not result or not result[0].strip():
            self.proc.kill()
            self.proc.wait(5)
            raise RuntimeError(f"{self.name} did not start: {self.log_path.read_text()[-2000:]}")
        return result[0]

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def call(
    method: str, url: str, payload: Any = None, *, headers: dict[str, str] | None = None, raw: bytes | None = None,
    timeout: float = 10,
) -> tuple[int, Any]:
    """One blocking HTTP request; returns (status, parsed JSON, or text when the answer is not JSON)."""
    parts = urlsplit(url)
    body = raw if raw is not None else (None if payload is None else json.dumps(payload).encode())
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        all_headers = {"Content-Type": "application/json"} if body is not None else {}
        all_headers.update(headers or {})
        conn.request(method, path, body=body, headers=all_headers)
        resp = conn.getresponse()
        data = resp.read()
        try:
            return resp.status, json.loads(data) if data else None
        except ValueError:
            return resp.status, data.decode(errors="replace")
    finally:
        conn.close()


def signed_headers(key_id: str, method: str, url: str, body: bytes = b"", *, timestamp: int | None = None) -> dict:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return signing.sign(key_id, signing.TEST_KEYS[key_id], method, path, body, timestamp=timestamp)


def signed_call(key_id: str, method: str, url: str, payload: Any = None, *, extra: dict | None = None,
                timestamp: int | None = None) -> tuple[int, Any]:
    body = b"" if payload is None else json.dumps(payload).encode()
    headers = signed_headers(key_id, method, url, body, timestamp=timestamp)
    headers.update(extra or {})
    return call(method, url, headers=headers, raw=body if payload is not None else None)


def wait_for(predicate: Any, timeout: float = 10, interval: float = 0.02) -> Any:
    """Poll `predicate` until it returns a truthy value; raise AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value {value!r})")
        time.sleep(interval)
