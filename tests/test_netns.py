"""A real second host: a network namespace joined to this one by a veth pair.

The three mock services listen on the host end of the pair (a private /30 of our own, nothing else is
routed); a client inside the namespace, with its own address, reaches the public routes but gets 403
from the admin endpoints, even with the right token, because it is not on loopback. `motcua loadtest`
refuses the non-loopback targets unless ``--allow-non-loopback`` is given. Needs root and iproute2
(``.ci/run`` runs as root and installs iproute2); elsewhere the test is skipped and says why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_mock_http import ServiceProcess
from motcua.mock_services.common.http import ADMIN_TOKEN_HEADER, TEST_ADMIN_TOKEN

ROOT = Path(__file__).resolve().parent.parent
_BLOCK = os.getpid() % 16384
HOST_ADDR = f"10.231.{_BLOCK // 64}.{_BLOCK % 64 * 4 + 1}"
PEER_ADDR = f"10.231.{_BLOCK // 64}.{_BLOCK % 64 * 4 + 2}"
PREFIX = 30
"""A private /30 (RFC 1918, in 10.231.0.0/16, chosen by process id so that two runs at once do not collide)
between the host and the namespace only; no route leads anywhere else."""

CLIENT = r"""
import json, sys, urllib.request, urllib.error
out = {}
for name, method, url, headers in json.loads(sys.argv[1]):
    req = urllib.request.Request(url, method=method, headers=headers, data=b"{}" if method == "PUT" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            out[name] = [resp.status, json.loads(resp.read() or b"null")]
    except urllib.error.HTTPError as exc:
        out[name] = [exc.code, json.loads(exc.read() or b"null")]
print(json.dumps(out))
"""


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)


def _why_no_netns() -> str | None:
    if sys.platform != "linux":
        return f"network namespaces are Linux only (this is {sys.platform})"
    if os.geteuid() != 0:
        return "creating a network namespace needs root (run as root, as .ci/run does)"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed (apt-get install iproute2; .ci/run does it)"
    return None


@pytest.fixture
def namespace():
    """A namespace with one veth pair: host end HOST_ADDR, namespace end PEER_ADDR. Removed afterwards."""
    why = _why_no_netns()
    if why:
        pytest.skip(why)
    tag = f"{os.getpid() % 100000}"
    ns, host_if, peer_if = f"motcua-{tag}", f"mch{tag}", f"mcp{tag}"
    made = _ip("netns", "add", ns)
    if made.returncode:
        pytest.skip(f"`ip netns add` is not possible here: {made.stderr.strip()}")
    try:
        for args in (
            ("link", "add", host_if, "type", "veth", "peer", "name", peer_if),
            ("link", "set", peer_if, "netns", ns),
            ("addr", "add", f"{HOST_ADDR}/{PREFIX}", "dev", host_if),
            ("link", "set", host_if, "up"),
            ("-n", ns, "addr", "add", f"{PEER_ADDR}/{PREFIX}", "dev", peer_if),
            ("-n", ns, "link", "set", peer_if, "up"),
            ("-n", ns, "link", "set", "lo", "up"),
        ):
            done = _ip(*args)
            assert done.returncode == 0, f"ip {' '.join(args)}: {done.stderr}"
        yield ns
    finally:
        _ip("link", "del", host_if)  # also removes the peer end
        _ip("netns", "del", ns)
        assert ns not in _ip("netns", "list").stdout, f"namespace {ns} was not removed"


def _from_namespace(ns: str, requests: list[tuple[str, str, str, dict[str, str]]]) -> dict[str, list]:
    done = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", CLIENT, json.dumps(requests)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_admin_endpoints_refuse_another_host_and_loadtest_refuses_it(namespace, tmp_path):
    admin = {ADMIN_TOKEN_HEADER: TEST_ADMIN_TOKEN}
    common = ["--host", HOST_ADDR, "--admin-token", TEST_ADMIN_TOKEN]
    services = [ServiceProcess("bank", tmp_path / "bank", common)]
    services.append(ServiceProcess("gateway", tmp_path / "gateway", [*common, "--bank-url", services[0].url]))
    services.append(ServiceProcess("agency", tmp_path / "agency", [*common, "--gateway-url", services[1].url]))
    try:
        urls = {s.name: s.url for s in services}
        assert all(u.startswith(f"http://{HOST_ADDR}:") for u in urls.values()), urls
        public = {"bank": "/banks", "gateway": "/stats", "agency": "/events?limit=1"}
        asks = []
        for name, url in urls.items():
            asks += [(f"{name} GET /healthz", "GET", url + "/healthz", {}),
                     (f"{name} GET {public[name]}", "GET", url + public[name], {}),
                     (f"{name} GET /admin/faults", "GET", url + "/admin/faults", admin),
                     (f"{name} PUT /admin/faults", "PUT", url + "/admin/faults", {**admin,
                                                                                  "Content-Type": "application/json"})]
        answers = _from_namespace(namespace, asks)
        print(f"\nfrom namespace {namespace} ({PEER_ADDR}) to the services on {HOST_ADDR}:")
        for name, (status, body) in answers.items():
            print(f"  {name:32} {status} {json.dumps(body, ensure_ascii=False)[:110]}")
        for name, (status, body) in answers.items():
            if "/admin/" in name:
                assert status == 403 and body["error"] == "not_loopback" and PEER_ADDR in body["message"], name
            else:
                assert status == 200, (name, status, body)

        scenario = ROOT / "scenarios" / "peak-day.toml"
        argv = [sys.executable, "-m", "motcua.cli", "loadtest", str(scenario), "--duration", "2s", "--rate", "1",
                "--gateway-url", urls["gateway"], "--agency-url", urls["agency"], "--bank-url", urls["bank"],
                "--out", str(tmp_path / "run")]
        refused = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)
        print(f"motcua loadtest against {HOST_ADDR} without --allow-non-loopback: exit {refused.returncode}: "
              f"{refused.stderr.strip()[-300:]}")
        assert refused.returncode == 2
        assert "not loopback" in refused.stderr and "--allow-non-loopback" in refused.stderr
        assert not (tmp_path / "run").exists(), "a refused load test must write nothing"
    finally:
        for s in services:
            s.stop()
