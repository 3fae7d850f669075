"""What keeps the studio safe on a desk or an office network: the access token, CSRF tokens, request limits,
and the rule that a name from a page reaches the file system only through a strict pattern.

*Scenario.* A planner runs ``motcua studio`` on her laptop: it listens on 127.0.0.1 only, so nobody else can reach
it, yet any web page she opens could still post a form to ``http://127.0.0.1:<port>`` (cross-site request forgery),
so every form carries a token tied to her session cookie. When the office shares one studio on the network
(``--host 0.0.0.0``), a random access token is printed at start and every request must carry it (in the address the
first time, then in a cookie). Names that come from a page — a scenario's file name, a run folder — are matched
against a strict pattern and resolved inside the workspace or the results folder before any file is opened.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from pathlib import Path

from motcua.errors import InputError

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
"""A scenario name as the page may send it: the schema's slug (lower-case letters, digits, dashes), at most 64."""
RUN_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""One folder name of a run (``lang-son-2024``, ``compare-a-vs-b``, ``20240606-101500-ab12``); no ``..``."""
MAX_BODY_BYTES = 1 << 20
"""The largest request body the studio reads (a scenario form is a few kilobytes)."""
TOKEN_COOKIE = "motcua_token"
SESSION_COOKIE = "motcua_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_PARAM = "token"


class UnsafeName(InputError):
    """A name from a page does not match the strict pattern, or would resolve outside its folder."""


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or ``localhost``) only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A random token for the address printed at start (``--host`` other than loopback)."""
    return secrets.token_urlsafe(24)


def same_token(given: str | None, expected: str) -> bool:
    """Compare a token from a request with the expected one in constant time."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class Csrf:
    """CSRF tokens: one per session, the HMAC of the session id under a secret the server draws at start."""

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = secret or secrets.token_bytes(32)

    def token_for(self, session: str) -> str:
        return hmac.new(self.secret, session.encode(), hashlib.sha256).hexdigest()

    def check(self, session: str | None, token: str | None) -> bool:
        return bool(session) and token is not None and hmac.compare_digest(self.token_for(session or ""), token)


def checked_name(name: str, what: str = "scenario name") -> str:
    """`name` if it matches `NAME`, else `UnsafeName` showing it."""
    if not NAME.fullmatch(name or ""):
        raise UnsafeName(f"{what} {name!r}: use lower-case letters, digits and dashes (at most 64), "
                         "e.g. 'lang-son-2024-qr'")
    return name


def inside(root: Path, *parts: str) -> Path:
    """``root/parts…`` resolved, when every part matches `RUN_PART` and the result stays inside `root`."""
    for part in parts:
        if not RUN_PART.fullmatch(part or "") or ".." in part:
            raise UnsafeName(f"folder name {part!r} is not allowed")
    base = root.resolve()
    path = base.joinpath(*parts).resolve()
    if not path.is_relative_to(base):
        raise UnsafeName(f"{'/'.join(parts)}: outside {base}")
    return path
