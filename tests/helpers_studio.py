"""Test helpers for `motcua studio`: a studio served in-process on a free loopback port, and a client that keeps
its cookies and reads the CSRF token from the pages, as a browser would."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import requests
from helpers_mock_http import ServerThread

from motcua.studio import StudioConfig, create_app

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Studio:
    """`motcua studio` on 127.0.0.1:<free port>, with a workspace and a results folder under `root`."""

    def __init__(self, root: Path, **config: Any) -> None:
        self.root = Path(root)
        self.workspace, self.results = self.root / "ws", self.root / "results"
        self.config = StudioConfig(workspace=self.workspace, results_root=self.results, **config)
        self.server = ServerThread(create_app(self.config))
        self.url = self.server.url
        self.http = requests.Session()

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(self.url + path, timeout=60, **kw)

    def csrf(self) -> str:
        found = CSRF.search(self.get("/scenarios").text)
        assert found, "the scenarios page carries a CSRF token"
        return found.group(1)

    def post(self, path: str, data: Any = None, **kw: Any) -> requests.Response:
        form = dict(data or {}) if not isinstance(data, list) else data
        if isinstance(form, dict):
            form.setdefault("csrf", self.csrf())
        else:
            form = [("csrf", self.csrf()), *form]
        return self.http.post(self.url + path, data=form, timeout=60, **kw)

    def stop(self) -> None:
        self.server.stop()
