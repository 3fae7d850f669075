"""A small HTTP/1.1 keep-alive client for the services' hot outbound path (IPNs, bank notifications).

aiohttp's client spends about 130 µs of CPU on one small JSON POST; the gateway sends one IPN per
payment, so that alone would cost a tenth of its budget at 1,500 payments/s. This client writes the
request bytes straight onto a pooled connection (asyncio protocol, no streams, no tasks) and parses
just enough of the answer: the status line, ``Content-Length`` or chunked encoding, and
``Connection: close``. It speaks plain ``http://`` only; `SignedClient` uses it for POSTs when built
with ``fast=True`` and falls back to aiohttp for everything else.

Errors are aiohttp's, so callers catch the same things either way: `aiohttp.ClientConnectionError`
(refused, reset, closed before the answer) and `TimeoutError`. A request on a reused keep-alive
connection that the server had already closed is retried once on a fresh connection (the usual
client behaviour; IPNs and notifications are idempotent by design).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp

IDLE_TTL_S = 15.0
"""Idle connections older than this are not reused (servers close them at their keep-alive timeout)."""


class _Response:
    """Incremental parse of one HTTP/1.1 response."""

    def __init__(self) -> None:
        self.status = 0
        self.length: int | None = None
        self.chunked = False
        self.keep_alive = True
        self.head_done = False
        self.body = b""

    def feed(self, buf: bytearray) -> bool:
        """Consume `buf` as far as possible; True once the whole response is in."""
        if not self.head_done:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            self._parse_head(bytes(buf[:end]).decode("latin-1"))
            del buf[: end + 4]
        if self.chunked:
            return self._feed_chunked(buf)
        if self.length is None:
            return False  # body until the server closes the connection
        if len(buf) < self.length:
            return False
        self.body = bytes(buf[: self.length])
        del buf[: self.length]
        return True

    def _parse_head(self, head: str) -> None:
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1])
        self.keep_alive = parts[0] == "HTTP/1.1"
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                self.length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                self.chunked = True
            elif name == "connection":
                self.keep_alive = value != "close" and (self.keep_alive or value == "keep-alive")
        if self.status in (204, 304) or 100 <= self.status < 200:
            self.length = 0
        self.head_done = True
        self._chunks: list[bytes] = []

    def _feed_chunked(self, buf: bytearray) -> bool:
        while True:
            end = buf.find(b"\r\n")
            if end < 0:
                return False
            size = int(bytes(buf[:end]).split(b";")[0], 16)
            if size == 0:
                trailer = buf.find(b"\r\n\r\n", end)
                if trailer < 0 and buf[end:end + 4] != b"\r\n\r\n":
                    return False
                stop = trailer + 4 if trailer >= 0 else end + 4
                del buf[:stop]
                self.body = b"".join(self._chunks)
                return True
            if len(buf) < end + 2 + size + 2:
                return False
            self._chunks.append(bytes(buf[end + 2:end + 2 + size]))
            del buf[: end + 2 + size + 2]


class _Connection(asyncio.Protocol):
    """One TCP connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.response: _Response | None = None
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False
        self.idle_since = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._try_finish()

    def _try_finish(self) -> None:
        waiter, response = self.waiter, self.response
        if waiter is None or waiter.done() or response is None:
            return
        try:
            complete = response.feed(self.buf)
        except (ValueError, IndexError) as exc:
            waiter.set_exception(aiohttp.ClientResponseError(None, (), message=f"malformed HTTP answer: {exc}"))
            self.close()
            return
        if complete:
            waiter.set_result((response.status, response.body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter, response = self.waiter, self.response
        if waiter is None or waiter.done():
            return
        if response is not None and response.head_done and response.length is None and not response.chunked:
            waiter.set_result((response.status, bytes(self.buf)))  # the body ran until the close
            return
        waiter.set_exception(aiohttp.ServerDisconnectedError(f"connection closed before the answer: {exc}"))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class FastPoster:
    """Pooled keep-alive HTTP/1.1 POSTs of ready-made bodies."""

    def __init__(self, *, timeout_s: float = 10.0, max_idle_per_host: int = 512) -> None:
        self.timeout_s = timeout_s
        self.max_idle = max_idle_per_host
        self._idle: dict[tuple[str, int], deque[_Connection]] = defaultdict(deque)

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout_s: float | None = None,
        method: str = "POST",
    ) -> tuple[int, bytes]:
        """POST `body` to `url` (or send another `method`, e.g. a VNPay IPN GET); return (status, body bytes)."""
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise aiohttp.InvalidURL(url)
        host, port = parts.hostname, parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = [f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {len(body)}\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in headers.items()]
        request = "".join(head).encode("latin-1") + b"\r\n" + body
        timeout = self.timeout_s if timeout_s is None else timeout_s
        deadline = asyncio.get_running_loop().time() + timeout
        conn, reused = await self._acquire(host, port, timeout)
        try:
            return await self._exchange(conn, request, deadline, host, port)
        except aiohttp.ServerDisconnectedError:
            if not reused:
                raise
        # The server had closed the idle connection: once more on a fresh one.
        conn, _ = await self._acquire(host, port, timeout, fresh=True)
        return await self._exchange(conn, request, deadline, host, port)

    async def _acquire(self, host: str, port: int, timeout: float, fresh: bool = False) -> tuple[_Connection, bool]:
        idle = self._idle[(host, port)]
        now = time.monotonic()
        while idle and not fresh:
            conn = idle.pop()
            if not conn.closed and not conn.buf and now - conn.idle_since < IDLE_TTL_S:
                return conn, True
            conn.close()
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(loop.create_connection(_Connection, host, port), timeout)
        except OSError as exc:
            raise aiohttp.ClientConnectionError(f"cannot connect to {host}:{port}: {exc}") from exc
        return conn, False

    async def _exchange(
        self, conn: _Connection, request: bytes, deadline: float, host: str, port: int
    ) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[tuple[int, bytes]] = loop.create_future()
        conn.waiter, conn.response = waiter, _Response()
        timer = loop.call_at(deadline, _expire, conn, waiter)
        try:
            conn.transport.write(request)  # type: ignore[union-attr]
            status, body = await waiter
        except BaseException:
            conn.close()
            raise
        finally:
            timer.cancel()
            conn.waiter = None
        idle = self._idle[(host, port)]
        if conn.response.keep_alive and not conn.closed and not conn.buf and len(idle) < self.max_idle:
            conn.idle_since = time.monotonic()
            conn.response = None
            idle.append(conn)
        else:
            conn.close()
        return status, body

    def close(self) -> None:
        for idle in self._idle.values():
            while idle:
                idle.pop().close()


def _expire(conn: _Connection, waiter: asyncio.Future[tuple[int, bytes]]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("no answer within the timeout"))
    conn.close()
