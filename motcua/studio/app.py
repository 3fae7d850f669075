"""The studio's web application: `create_app(StudioConfig(...))` returns an aiohttp `web.Application`.

`motcua.studio.context` holds the configuration, middlewares and templates; `motcua.studio.pages` the handlers.
"""

from __future__ import annotations

from aiohttp import web

from motcua.studio import guard, pages
from motcua.studio.context import (
    CONFIG,
    CSRF,
    JOBS,
    WORKSPACE,
    StudioConfig,
    headers_middleware,
    session_middleware,
    static_file,
    token_middleware,
)
from motcua.studio.jobs import JobQueue
from motcua.studio.workspace import Workspace

__all__ = ["StudioConfig", "create_app"]


def create_app(config: StudioConfig) -> web.Application:
    """The studio for `config`; jobs an earlier studio left waiting start again, running ones are stopped (and
    marked interrupted) when the application shuts down."""
    app = web.Application(middlewares=[headers_middleware, token_middleware, session_middleware],
                          client_max_size=guard.MAX_BODY_BYTES)
    workspace = Workspace(config.workspace)
    app[CONFIG] = config
    app[WORKSPACE] = workspace
    app[CSRF] = guard.Csrf(config.csrf_secret)
    app[JOBS] = JobQueue(config.jobs_folder or workspace.root / ".studio-jobs", config.results_root, config.max_jobs)
    app.router.add_get("/static/{name}", static_file)
    pages.add_routes(app)

    async def resume_jobs(app: web.Application) -> None:
        await app[JOBS].resume()

    async def stop_jobs(app: web.Application) -> None:
        await app[JOBS].close()

    app.on_startup.append(resume_jobs)
    app.on_shutdown.append(stop_jobs)
    return app
