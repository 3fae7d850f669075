"""What every handler of the studio shares: its configuration, the security middlewares, templates, static files.

`motcua.studio.app.create_app` puts these together with the handlers of `motcua.studio.pages`.
Every response is a server-rendered page (Jinja2, autoescaped) or a file; the one script, ``static/studio.js``,
polls a job's progress and draws the Plotly figures the pages describe. Plotly.js is served from the installed
``plotly`` wheel (``package_data/plotly.min.js``), so nothing comes from the network.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from aiohttp import web

from motcua.report.i18n import LANGS, day, number, percent
from motcua.studio import guard
from motcua.studio.jobs import JobQueue
from motcua.studio.texts import t
from motcua.studio.workspace import DEFAULT_WORKSPACE, Workspace

LANG_COOKIE = "motcua_lang"
STATIC = Path(__file__).parent / "static"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, kw_only=True)
class StudioConfig:
    """How a studio runs: its folders, where it listens, its access token and how many jobs run at once."""

    workspace: Path = DEFAULT_WORKSPACE
    results_root: Path = Path("results")
    host: str = "127.0.0.1"
    port: int = 0
    """0: a free port chosen by the system."""
    token: str | None = None
    """Required on every request when set (``--host`` other than loopback sets one)."""
    max_jobs: int | None = None
    """Commands run at once (default: one per core); more wait in the queue."""
    jobs_folder: Path | None = None
    """Where jobs keep their progress and output (default: ``.studio-jobs`` inside the workspace)."""
    csrf_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)


CONFIG: web.AppKey[StudioConfig] = web.AppKey("config", StudioConfig)
WORKSPACE: web.AppKey[Workspace] = web.AppKey("workspace", Workspace)
JOBS: web.AppKey[JobQueue] = web.AppKey("jobs", JobQueue)
CSRF: web.AppKey[guard.Csrf] = web.AppKey("csrf", guard.Csrf)
SESSION: Any = web.RequestKey("session", str) if hasattr(web, "RequestKey") else "session"  # aiohttp ≥ 3.12


def plotly_js() -> Path:
    """The ``plotly.min.js`` that the ``plotly`` wheel ships."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@functools.cache
def environment() -> jinja2.Environment:
    """The studio's templates, then the report's (the pages import its macros and show its sections)."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.PackageLoader("motcua.studio", "templates"),
                                    jinja2.PackageLoader("motcua.report", "templates")]),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(percent=percent, number=number, day=day)
    return env


def lang_of(request: web.Request) -> str:
    lang = request.query.get("lang") or request.cookies.get(LANG_COOKIE) or LANGS[0]
    return lang if lang in LANGS else LANGS[0]


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """A page of `template` in the request's language, with the CSRF token its forms carry."""
    lang = lang_of(request)
    session = request.get(SESSION, "")
    html = environment().get_template(template).render(
        lang=lang, t=t(lang), csrf=request.app[CSRF].token_for(session), path=request.path_qs,
        token=request.app[CONFIG].token, **values)
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "error.html.j2", status=status, message=message)


# ---------------------------------------------------------------------------------------------
# Middlewares
# ---------------------------------------------------------------------------------------------
@web.middleware
async def token_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """With an access token, every request carries it: ``?token=`` (then kept in a cookie), the cookie, or a header."""
    token = request.app[CONFIG].token
    if token is None:
        return await handler(request)
    given = request.query.get(guard.TOKEN_PARAM)
    if guard.same_token(given, token):
        response = await handler(request)
        response.set_cookie(guard.TOKEN_COOKIE, token, httponly=True, samesite="Strict")
        return response
    if guard.same_token(request.cookies.get(guard.TOKEN_COOKIE) or request.headers.get("X-Motcua-Token"), token):
        return await handler(request)
    return web.Response(status=403, text="403: access token missing or wrong; open the address motcua studio "
                                         "printed (it carries ?token=…)\n")


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A session cookie (for the CSRF token); unsafe methods need the token and a same-origin ``Origin``."""
    session = request.cookies.get(guard.SESSION_COOKIE)
    fresh = session is None
    request[SESSION] = session = session or secrets.token_urlsafe(18)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        origin = request.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.host:
            return error_page(request, 403, t(lang_of(request))("forbidden"))
        form = await request.post() if request.content_type.startswith(("application/x-www", "multipart/")) else {}
        given = request.headers.get(guard.CSRF_HEADER) or form.get(guard.CSRF_FIELD)
        if fresh or not request.app[CSRF].check(session, given if isinstance(given, str) else None):
            return error_page(request, 403, t(lang_of(request))("forbidden"))
    try:
        response = await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return error_page(request, 413, t(lang_of(request))("too_large"))
    if fresh:
        response.set_cookie(guard.SESSION_COOKIE, session, httponly=True, samesite="Strict")
    return response


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No framing, no foreign scripts: every script and style comes from this server."""
    try:
        response = await handler(request)
    except guard.UnsafeName as exc:
        response = error_page(request, 400, str(exc))
    response.headers.setdefault("Content-Security-Policy", "default-src 'self'; script-src 'self'; "
                                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


# ---------------------------------------------------------------------------------------------
# The application
# ---------------------------------------------------------------------------------------------
async def static_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    files = {**{n: STATIC / n for n in ("studio.js", "studio.css", "favicon.svg")}, "plotly.min.js": plotly_js()}
    if name not in files:
        raise web.HTTPNotFound()
    if name == "studio.css":  # the report's look first, then the studio's additions
        env = environment()
        assert env.loader is not None
        css = env.loader.get_source(env, "style.css")[0] + "\n" + files[name].read_text(encoding="utf-8")
        return web.Response(text=css, content_type="text/css", headers={"Cache-Control": "max-age=600"})
    return web.FileResponse(files[name], headers={"Cache-Control": "max-age=600"})
