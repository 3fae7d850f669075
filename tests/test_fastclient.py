"""The keep-alive POST client of the hot paths, against real servers: aiohttp and a hand-written raw one."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading

import aiohttp
import pytest
from aiohttp import web
from helpers_mock_http import ServerThread
from motcua.mock_services.common.fastclient import HttpClient


class RawServer:
    """A TCP server that answers each request with canned bytes (to test framing the client must handle)."""

    def __init__(
        self, answer: bytes, *, close_after: bool = False, delay_s: float = 0.0, reset_after: int | None = None
    ) -> None:
        self.answer, self.close_after, self.delay_s = answer, close_after, delay_s
        self.reset_after = reset_after  # answer this many requests in all, then reset every connection (RST)
        self.answered = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            while True:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                lengths = [h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")]
                length = int(lengths[0])
                while len(body) < length:
                    body += conn.recv(65536)
                if self.delay_s:
                    threading.Event().wait(self.delay_s)
                if self.reset_after is not None and self.answered >= self.reset_after:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                self.answered += 1
                conn.sendall(self.answer)
                if self.close_after:
                    return

    def close(self) -> None:
        self.sock.close()


def run(coro):
    return asyncio.run(coro)


def test_posts_reuse_one_connection_against_aiohttp():
    seen, peers = [], set()

    async def echo(request):
        seen.append((request.headers["X-Test"], await request.read()))
        peers.add(request.transport.get_extra_info("peername"))
        return web.json_response({"n": len(seen)})

    app = web.Application()
    app.router.add_post("/ipn", echo)
    with ServerThread(app) as srv:
        async def main():
            poster = HttpClient(timeout_s=5)
            out = [await poster.post(srv.url + "/ipn?x=1", b'{"a":1}', {"X-Test": str(i)}) for i in range(5)]
            poster.close()
            return out

        out = run(main())
    assert [status for status, _ in out] == [200] * 5 and out[-1][1] == b'{"n": 5}'
    assert seen == [(str(i), b'{"a":1}') for i in range(5)]
    assert len(peers) == 1  # one keep-alive connection for all five


def test_chunked_and_connection_close_answers():
    chunked = RawServer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n")
    closing = RawServer(b"HTTP/1.1 503 Busy\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno", close_after=True)

    async def main():
        poster = HttpClient(timeout_s=5)
        a = [await poster.post(f"http://127.0.0.1:{chunked.port}/", b"{}", {}) for _ in range(2)]
        b = [await poster.post(f"http://127.0.0.1:{closing.port}/", b"{}", {}) for _ in range(2)]
        poster.close()
        return a, b

    a, b = run(main())
    assert a == [(200, b'{"a":1}')] * 2 and chunked.connections == 1
    assert b == [(503, b"no")] * 2 and closing.connections == 2


def test_server_closing_an_idle_connection_is_retried_once():
    closer = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", close_after=True)  # no Connection: close

    async def main():
        poster = HttpClient(timeout_s=5)
        first = await poster.post(f"http://127.0.0.1:{closer.port}/", b"{}", {})
        await asyncio.sleep(0.05)  # the server has closed it meanwhile
        second = await poster.post(f"http://127.0.0.1:{closer.port}/", b"{}", {})
        poster.close()
        return first, second

    assert run(main()) == ((200, b"ok"), (200, b"ok"))
    assert closer.connections == 2


def test_timeout_refused_and_bad_scheme():
    slow = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", delay_s=2)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]

    async def main():
        poster = HttpClient(timeout_s=0.2)
        with pytest.raises(TimeoutError):
            await poster.post(f"http://127.0.0.1:{slow.port}/", b"{}", {})
        with pytest.raises(aiohttp.ClientConnectionError, match="cannot connect"):
            await poster.post(f"http://127.0.0.1:{dead_port}/", b"{}", {})
        with pytest.raises(aiohttp.InvalidURL):
            await poster.post("https://127.0.0.1/", b"{}", {})
        poster.close()

    run(main())


def test_get_headers_until_close_body_and_malformed_answers():
    headed = RawServer(b"HTTP/1.1 200 OK\r\nX-Signature: abc\r\nContent-Length: 2\r\n\r\nhi")
    until_close = RawServer(b"HTTP/1.1 200 OK\r\n\r\nall of it", close_after=True)
    garbage = RawServer(b"HTTP/1.1 2x0 OK\r\n\r\n")

    async def main():
        client = HttpClient(timeout_s=5)
        answer = await client.request("GET", f"http://127.0.0.1:{headed.port}/r?day=2024-06-10")
        tail = await client.request("GET", f"http://127.0.0.1:{until_close.port}/")
        with pytest.raises(aiohttp.ClientPayloadError, match="malformed HTTP answer"):
            await client.post(f"http://127.0.0.1:{garbage.port}/", b"{}", {})
        client.close()
        return answer, tail

    answer, tail = run(main())
    assert (answer.status, answer.body, answer.headers["x-signature"]) == (200, b"hi", "abc")
    assert (tail.status, tail.body) == (200, b"all of it")


def test_a_reset_after_a_good_answer_is_an_error_not_the_old_answer():
    # The second request on the kept-alive connection is reset: its answer must not be the first one again.
    resetter = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", reset_after=1)

    async def main():
        client = HttpClient(timeout_s=5)
        first = await client.post(f"http://127.0.0.1:{resetter.port}/", b"{}", {})
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await client.post(f"http://127.0.0.1:{resetter.port}/", b"{}", {})
        client.close()
        return first

    assert run(main()) == (200, b"ok")
