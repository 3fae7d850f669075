"""A real Prometheus server scrapes a running load test (``--metrics-port``) and the mocks, and its query API sees
callback percentiles and journey failures while the run is going (issue 18 item 3)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest
from motcua.mock_services.supervisor import free_port

PROMETHEUS = shutil.which("prometheus")
pytestmark = pytest.mark.skipif(
    PROMETHEUS is None and not os.environ.get("CI"),
    reason="the prometheus binary is missing (apt-get install prometheus; .ci/run installs it in CI)",
)


def _query(base: str, expr: str) -> list[dict]:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)["data"]["result"]


def test_prometheus_sees_the_run_while_it_goes(tmp_path):
    assert PROMETHEUS, "CI must have the prometheus binary (.ci/run installs it)"
    metrics_port, prom_port = free_port(), free_port()
    run = subprocess.Popen(
        [sys.executable, "-m", "motcua.cli", "loadtest", "peak-day", "--duration", "25s", "--rate", "4",
         "--time-scale", "0.01", "--metrics-port", str(metrics_port), "--out", str(tmp_path / "run")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(run.stderr), daemon=True).start()  # type: ignore[arg-type]
    prom = None
    try:
        end = time.time() + 60
        while not any(line.startswith("system under test:") for line in lines):
            assert run.poll() is None and time.time() < end, "".join(lines)
            time.sleep(0.2)
        mocks = re.findall(r"(\w+) http://(127\.0\.0\.1:\d+)", next(x for x in lines if x.startswith("system under")))
        jobs = [{"job_name": "motcua-loadtest", "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}]
        jobs += [{"job_name": name, "static_configs": [{"targets": [target]}]} for name, target in mocks]
        config = tmp_path / "prometheus.yml"
        config.write_text(json.dumps({"global": {"scrape_interval": "1s"}, "scrape_configs": jobs}))  # YAML ⊃ JSON
        prom = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{prom_port}"
        seen: dict[str, list[dict]] = {}
        wanted = ("motcua_callback_p95 > 0", "motcua_journey_failures_total",
                  "motcua_arrivals_started_total > 0", "sum(motcua_http_requests_total)")
        while len(seen) < len(wanted) and run.poll() is None:
            time.sleep(1)
            for expr in wanted:
                try:
                    result = _query(base, expr)
                except OSError:
                    continue
                if result:
                    seen[expr] = result
        assert run.poll() is None, "the run ended before Prometheus saw every metric: " + str(sorted(seen))
        assert set(seen) == set(wanted)
        assert {r["metric"]["job"] for r in _query(base, "up == 1")} >= {"motcua-loadtest", "gateway", "bank"}
        assert run.wait(timeout=120) == 0, "".join(lines)
    finally:
        for proc in (prom, run):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
