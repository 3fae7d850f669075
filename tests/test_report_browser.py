"""Read the campaign report as a reader would: headless Chromium opens report.html.

Chromium is driven over its DevTools protocol (``--remote-debugging-port``) with a tiny client on
aiohttp's websocket: navigate to the file, wait for the load event, then ask the page whether every
chart image decoded (``naturalWidth > 0``), collect console errors and uncaught exceptions, and keep a
screenshot in the test's temporary folder. Skipped only when ``/usr/bin/chromium`` is absent
(`.ci/run` installs Debian's chromium package).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers_run import shared_run

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--window-size=1280,2000")
IMAGES_JS = """JSON.stringify({
  lang: document.documentElement.lang,
  title: document.title,
  images: Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth}))
})"""

pytestmark = [pytest.mark.timeout(600),
              pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed at /usr/bin/chromium "
                                "(apt-get install -y --no-install-recommends chromium; .ci/run does it in CI)")]


class DevTools:
    """A minimal DevTools-protocol client: commands with ids, events collected as they arrive."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    async def call(self, method: str, **params) -> dict:
        msg_id = next(self.ids)
        await self.ws.send_json({"id": msg_id, "method": method, "params": params})
        while True:
            msg = await asyncio.wait_for(self.ws.receive_json(), timeout=60)
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    async def wait_event(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            msg = await asyncio.wait_for(self.ws.receive_json(), timeout=deadline - time.monotonic())
            self.events.append(msg)
            if msg.get("method") == method:
                return msg
        raise TimeoutError(method)

    def errors(self) -> list[str]:
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e.get("method") == "Runtime.consoleAPICalled" and p.get("type") == "error":
                out.append(json.dumps(p.get("args"))[:300])
            elif e.get("method") == "Runtime.exceptionThrown":
                out.append(json.dumps(p.get("exceptionDetails"))[:300])
            elif e.get("method") == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(p["entry"].get("text", "")[:300])
        return out


async def inspect_page(port: int, url: str, screenshot: Path) -> tuple[dict, list[str]]:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/json/list") as resp:
            pages = [t for t in await resp.json() if t["type"] == "page"]
        async with session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            cdp = DevTools(ws)
            for domain in ("Page", "Runtime", "Log"):
                await cdp.call(f"{domain}.enable")
            await cdp.call("Page.navigate", url=url)
            await cdp.wait_event("Page.loadEventFired")
            result = await cdp.call("Runtime.evaluate", expression=IMAGES_JS, returnByValue=True)
            shot = await cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            return json.loads(result["result"]["value"]), cdp.errors()


def devtools_port(profile: Path, proc: subprocess.Popen, timeout: float = 30) -> int:
    """Chromium writes the port it chose into ``DevToolsActivePort`` in its profile folder."""
    deadline = time.monotonic() + timeout
    marker = profile / "DevToolsActivePort"
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().split()[0])
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode}")
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


def test_report_opens_in_chromium_with_every_chart_and_no_console_error(tmp_path_factory, tmp_path):
    run_dir = shared_run(tmp_path_factory)
    report = run_dir / "report.html"
    profile = tmp_path / "chromium-profile"
    proc = subprocess.Popen([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port = devtools_port(profile, proc)
        page, errors = asyncio.run(inspect_page(port, report.resolve().as_uri(), tmp_path / "report.png"))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    assert page["lang"] == "vi"
    assert "Báo cáo chiến dịch" in page["title"]
    charts = sorted(p.name for p in (run_dir / "charts").glob("*.png"))
    assert len(page["images"]) == len(charts) >= 10
    broken = [img["alt"] for img in page["images"] if not img["complete"] or img["width"] <= 0]
    assert broken == []
    assert errors == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
