"""Signed HTTP between the mock services: checking a request's signature, and a client that signs its own.

Every call between the agency, the gateway and the bank carries HMAC signature headers (`common.signing`).
The server side checks them with `verify_signed` (the caller picks the error shape); the calling side
sends through `SignedClient`, on the pooled keep-alive client of `common.fastclient`::

    key_id = verify_signed(request, raw_body, keys)    # SignatureError
    client = SignedClient("gateway", TEST_KEYS["gateway"], timeout_s=5)
    status, data = await client.post_json(url, payload)                   # signed POST
    status, data = await client.get_json(url)                             # signed GET
    answer = await client.fetch("GET", url)    # answer.status, .body (bytes), .headers (to verify a signed answer)
    await client.close()
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web
from motcua.mock_services.common import signing
from motcua.mock_services.common.fastclient import Answer, HttpClient, target_of
from motcua.mock_services.common.http import dumps


def verify_signed(
    request: web.Request, body: bytes, keys: Mapping[str, bytes], *, tolerance_s: int = signing.DEFAULT_TOLERANCE_S
) -> str:
    """Check the request's signature headers; return the key id or raise `signing.SignatureError`.

    The signed path is the raw request target (path and query), exactly as the client sent it.
    """
    return signing.verify(keys, request.method, request.raw_path, request.headers, body, tolerance_s=tolerance_s)


class SignedClient:
    """An HTTP client that signs each request with one key, on the pooled `fastclient.HttpClient`.

    ``http://`` URLs (every service URL: they are loopback) go through `HttpClient`; aiohttp's
    session is opened only for another scheme. Both raise aiohttp's errors and `TimeoutError`.
    """

    def __init__(self, key_id: str, secret: bytes, *, timeout_s: float = 10.0, limit: int = 512) -> None:
        self.key_id, self.secret = key_id, secret
        self.timeout_s = timeout_s
        self.limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._client = HttpClient(timeout_s=timeout_s, max_idle_per_host=limit)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.limit, keepalive_timeout=30, ttl_dns_cache=None)
            self._session = aiohttp.ClientSession(connector=connector, json_serialize=json.dumps)
        return self._session

    def headers_for(self, method: str, url: str, body: bytes, *, bad_signature: bool = False) -> dict[str, str]:
        headers = signing.sign(self.key_id, self.secret, method, target_of(url).path_qs, body)
        if bad_signature:  # fault injection: a signature the receiver must refuse
            headers[signing.HEADER_SIGNATURE] = "0" * 128
        return headers

    async def fetch(
        self, method: str, url: str, payload: Any = None, *, signed: bool = True, timeout_s: float | None = None,
        bad_signature: bool = False, headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request; the whole answer (status, body bytes, headers).

        Raises `aiohttp.ClientError` or `TimeoutError` when the peer fails or is too slow.
        """
        body = b"" if payload is None else dumps(payload)
        all_headers = {"Content-Type": "application/json"} if payload is not None else {}
        if signed:
            all_headers.update(self.headers_for(method, url, body, bad_signature=bad_signature))
        all_headers.update(headers or {})
        if url.startswith("http://"):
            return await self._client.request(method, url, body, all_headers, timeout_s=timeout_s)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s if timeout_s is None else timeout_s)
        async with self.session.request(method, url, data=body or None, headers=all_headers, timeout=timeout) as resp:
            raw = await resp.read()
            raw_headers = tuple(resp.raw_headers)
        return Answer(resp.status, raw, raw_headers)

    async def request(self, method: str, url: str, payload: Any = None, **kwargs: Any) -> tuple[int, Any]:
        """Send one request; return (status, parsed JSON or the text if the answer is not JSON)."""
        answer = await self.fetch(method, url, payload, **kwargs)
        raw = answer.body
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw.decode(errors="replace")
        return answer.status, data

    async def post_json(self, url: str, payload: Any, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("POST", url, payload, **kwargs)

    async def get_json(self, url: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("GET", url, None, **kwargs)

    async def close(self) -> None:
        self._client.close()
        if self._session is not None and not self._session.closed:
            await self._session.close()
