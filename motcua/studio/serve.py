"""Starting the studio: bind, print the address (with the access token when one is needed), open the browser."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import webbrowser
from pathlib import Path

from aiohttp import web

from motcua.studio.app import StudioConfig, create_app
from motcua.studio.guard import is_loopback, new_token


async def start(config: StudioConfig) -> tuple[web.AppRunner, str]:
    """Start serving `config`; the runner (to stop it) and the address to open."""
    runner = web.AppRunner(create_app(config), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    server = site._server
    assert server is not None and server.sockets  # type: ignore[attr-defined]
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    shown = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
    url = f"http://{shown if ':' not in shown else f'[{shown}]'}:{port}/"
    if config.token:
        url += f"scenarios?token={config.token}"
    return runner, url


async def serve(*, workspace: Path, results_root: Path, host: str, port: int, max_jobs: int | None,
                open_browser: bool) -> None:
    """Serve until Ctrl-C or SIGTERM; running jobs are stopped on the way out."""
    token = None if is_loopback(host) else new_token()
    config = StudioConfig(workspace=workspace, results_root=results_root, host=host, port=port, token=token,
                          max_jobs=max_jobs)
    runner, url = await start(config)
    print(f"motcua studio: {url}", flush=True)
    if token:
        print(f"motcua studio: listening on {host}; every request needs the access token {token} "
              "(the address above carries it)", flush=True)
    print(f"motcua studio: workspace {config.workspace.resolve()}, runs in {results_root.resolve()}; "
          "Ctrl-C stops it", flush=True)
    if open_browser:
        with contextlib.suppress(Exception):
            webbrowser.open(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
