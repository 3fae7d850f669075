"""The one pooled HTTP/1.1 client of the services and the benchmarks (plain ``http://``, keep-alive).

aiohttp's client spends about three times this client's CPU on one small JSON request
(``benchmarks/bench_httpclient.py`` measures both against the same server in one run). The gateway
sends one IPN per payment and the bank one notification, so the client is on the hot path. This one
writes the request bytes straight onto a pooled connection (an asyncio protocol: no streams, no
task per request) and lets ``httptools`` (llhttp, the parser of Node.js) frame the answer:
``Content-Length``, chunked encoding, keep-alive and ``Connection: close``. An answer without a
length runs until the server closes the connection.

    client = HttpClient(timeout_s=10, max_idle_per_host=512)
    status, body = await client.post(url, body_bytes, {"Content-Type": "application/json"})
    answer = await client.request("GET", url)        # answer.status, answer.body, answer.headers
    client.close()

Errors are aiohttp's, so callers catch the same things whichever client they meet:
`aiohttp.ClientConnectionError` (refused, reset, closed before the answer), `aiohttp.ClientPayloadError`
(an answer llhttp cannot parse), `aiohttp.InvalidURL` (not ``http://``) and `TimeoutError`. A request on
a reused keep-alive connection that the server had already closed is retried once on a fresh
connection (the usual client behaviour; the services' requests are idempotent by design).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import aiohttp
import httptools
from multidict import CIMultiDict
from yarl import URL

IDLE_TTL_S = 15.0
"""Idle connections older than this are not reused (servers close them at their keep-alive timeout)."""


@dataclass(frozen=True)
class Target:
    """Where a URL points: the TCP peer, the ``Host`` header and the request target (path and query)."""

    scheme: str
    host: str
    port: int
    netloc: str
    path_qs: str


@lru_cache(maxsize=4096)
def target_of(url: str) -> Target:
    """Split `url` once (cached): the request target is what is sent and what a signature covers."""
    parsed = URL(url)
    return Target(parsed.scheme, parsed.raw_host or "", parsed.port or 80, parsed.raw_authority, parsed.raw_path_qs)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, body bytes and headers (case-insensitive)."""

    status: int
    body: bytes
    raw_headers: tuple[tuple[bytes, bytes], ...]

    @property
    def headers(self) -> CIMultiDict[str]:
        return CIMultiDict((k.decode("latin-1"), v.decode("latin-1")) for k, v in self.raw_headers)


class _Connection(asyncio.Protocol):
    """One TCP connection with its llhttp parser; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Answer] | None = None
        self.closed = False
        self.keep_alive = True
        self.idle_since = time.monotonic()
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers_done = False
        self.framed = False
        """The answer declared its end (Content-Length or chunked), so a close before it is an error."""
        self.body: list[bytes] = []
        self.header_list: list[tuple[bytes, bytes]] = []

    def expect(self, waiter: asyncio.Future[Answer]) -> None:
        """The next answer on this connection goes to `waiter` (nothing of the previous one is kept)."""
        self.waiter = waiter
        self._reset()

    # ---- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # bytes nobody asked for: the connection cannot be trusted any more
            self.close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(aiohttp.ClientPayloadError(f"malformed HTTP answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is None or self.waiter.done():
            return
        if self.headers_done and not self.framed:  # an answer without a length ends when the server closes
            self.keep_alive = False
            self._finish()
            return
        self._fail(aiohttp.ServerDisconnectedError(f"connection closed before the answer: {exc}"))

    # ---- llhttp callbacks

    def on_message_begin(self) -> None:
        self._reset()

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_list.append((name, value))
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # an interim answer (100 Continue): the real one follows
            return
        self.keep_alive = self.parser.should_keep_alive()
        self._finish()

    # ---- outcome

    def _finish(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
            waiter.set_result(Answer(self.status, body, tuple(self.header_list)))

    def _fail(self, exc: BaseException) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class HttpClient:
    """Pooled keep-alive HTTP/1.1 requests of ready-made bodies to ``http://`` URLs."""

    def __init__(self, *, timeout_s: float = 10.0, max_idle_per_host: int = 512) -> None:
        self.timeout_s = timeout_s
        self.max_idle = max_idle_per_host
        self._idle: dict[tuple[str, int], deque[_Connection]] = defaultdict(deque)

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout_s: float | None = None,
        method: str = "POST",
    ) -> tuple[int, bytes]:
        """POST `body` to `url` (or send another `method`, e.g. a VNPay IPN GET); return (status, body bytes)."""
        answer = await self.request(method, url, body, headers, timeout_s=timeout_s)
        return answer.status, answer.body

    async def request(
        self, method: str, url: str, body: bytes = b"", headers: Mapping[str, str] | None = None, *,
        timeout_s: float | None = None,
    ) -> Answer:
        """Send one request; the answer once it is complete."""
        target = target_of(url)
        if target.scheme != "http" or not target.host:
            raise aiohttp.InvalidURL(url)
        head = [f"{method} {target.path_qs} HTTP/1.1\r\nHost: {target.netloc}\r\nContent-Length: {len(body)}\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in (headers or {}).items()]
        data = "".join(head).encode("latin-1") + b"\r\n" + body
        timeout = self.timeout_s if timeout_s is None else timeout_s
        deadline = asyncio.get_running_loop().time() + timeout
        peer = (target.host, target.port)
        conn, reused = await self._acquire(peer, timeout)
        try:
            return await self._exchange(conn, data, deadline, peer)
        except aiohttp.ServerDisconnectedError:
            if not reused:
                raise
        # The server had closed the idle connection: once more on a fresh one.
        conn, _ = await self._acquire(peer, timeout, fresh=True)
        return await self._exchange(conn, data, deadline, peer)

    async def _acquire(self, peer: tuple[str, int], timeout: float, fresh: bool = False) -> tuple[_Connection, bool]:
        idle = self._idle[peer]
        now = time.monotonic()
        while idle and not fresh:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < IDLE_TTL_S:
                return conn, True
            conn.close()
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(loop.create_connection(_Connection, *peer), timeout)
        except OSError as exc:
            raise aiohttp.ClientConnectionError(f"cannot connect to {peer[0]}:{peer[1]}: {exc}") from exc
        return conn, False

    async def _exchange(self, conn: _Connection, data: bytes, deadline: float, peer: tuple[str, int]) -> Answer:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Answer] = loop.create_future()
        conn.expect(waiter)
        timer = loop.call_at(deadline, _expire, conn, waiter)
        try:
            conn.transport.write(data)  # type: ignore[union-attr]
            answer = await waiter
        except BaseException:
            conn.close()
            raise
        finally:
            timer.cancel()
            conn.waiter = None
        idle = self._idle[peer]
        if conn.keep_alive and not conn.closed and len(idle) < self.max_idle:
            conn.idle_since = time.monotonic()
            idle.append(conn)
        else:
            conn.close()
        return answer

    def close(self) -> None:
        for idle in self._idle.values():
            while idle:
                idle.pop().close()


def _expire(conn: _Connection, waiter: asyncio.Future[Answer]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("no answer within the timeout"))
    conn.close()
