"""The supervisor starts the three services as processes, restarts them, and never leaves one behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers_mock_http import call, wait_for
from helpers_stack import alive, dossier, file_dossier, processes_mentioning
from motcua.mock_services.supervisor import SERVICES, MockStack, StackConfig

from motcua.errors import InputError, ServiceError

ROOT = Path(__file__).resolve().parent.parent


def _refused(url: str) -> bool:
    try:
        call("GET", f"{url}/healthz", timeout=1)
    except OSError:
        return True
    return False


def test_stack_runs_three_healthy_processes_and_stops_them_all(tmp_path):
    config = StackConfig(data_dir=tmp_path, time_scale=0.01, cpu_affinity={"gateway": frozenset({0})})
    with MockStack(config) as stack:
        assert len(set(stack.ports.values())) == 3
        for name in SERVICES:
            status, body = call("GET", f"{stack.url(name)}/healthz")
            assert status == 200 and body == {"status": "ok", "service": name}
            assert (tmp_path / f"{name}.log").exists()
        pids = [stack.pid(name) for name in SERVICES]
        assert os.sched_getaffinity(stack.pid("gateway")) == {0}
        assert sorted(p.name for p in tmp_path.glob("*.sqlite")) == ["agency.sqlite", "bank.sqlite", "gateway.sqlite"]
        urls = stack.urls
    assert not any(alive(pid) for pid in pids)
    assert all(_refused(url) for url in urls.values())
    assert processes_mentioning(str(tmp_path)) == []


def test_kill_and_restart_keep_the_port_and_the_data(tmp_path):
    with MockStack(StackConfig(data_dir=tmp_path, time_scale=0.01)) as stack:
        code = file_dossier(stack.agency_url, "KHAISINH")["dossier_code"]
        old_pid, port = stack.pid("agency"), stack.ports["agency"]
        stack.kill("agency")
        assert stack.pid("agency") is None and not alive(old_pid) and _refused(stack.agency_url)
        with pytest.raises(ServiceError, match="cannot kill agency: it is not running"):
            stack.kill("agency")
        stack.restart("agency")
        assert stack.ports["agency"] == port and stack.pid("agency") not in (None, old_pid)
        assert dossier(stack.agency_url, code)["status"] == "no_fee"


def test_a_service_that_cannot_start_is_reported_with_its_log_and_nothing_is_left(tmp_path):
    config = StackConfig(data_dir=tmp_path, extra_args={"agency": ["--agency-code", "H37"]})
    with pytest.raises(ServiceError, match=r"(?s)agency exited with code 2 while starting.*agency_code must look like"):
        MockStack(config).start()
    assert processes_mentioning(str(tmp_path)) == []


SCRIPT = textwrap.dedent(
    """
    import sys, time
    from motcua.mock_services.supervisor import MockStack, StackConfig
    with MockStack(StackConfig(data_dir=sys.argv[1], time_scale=0.01)) as stack:
        print("ready", flush=True)
        time.sleep(120)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_supervisor_death_or_signal_leaves_no_orphans(tmp_path, sig):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "ready"
        children = processes_mentioning(str(tmp_path))
        assert len(children) == 4  # the script itself and three services
        proc.send_signal(sig)
        proc.wait(20)
        # SIGTERM/SIGINT: the supervisor stops them; SIGKILL: the kernel's parent-death signal does.
        wait_for(lambda: processes_mentioning(str(tmp_path)) == [], timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gateway_port": 70000}, r"gateway_port must be a port number 0–65535.*got 70000"),
        ({"time_scale": 0}, r"time_scale must be > 0 .*got 0"),
        ({"extra_args": {"bnak": ["-x"]}}, r"unknown service 'bnak'"),
        ({"faults_file": Path("/nonexistent/faults.toml")}, r"faults file /nonexistent/faults.toml not found"),
    ],
)
def test_stack_config_refuses_bad_settings(tmp_path, kwargs, match):
    with pytest.raises(InputError, match=match):
        StackConfig(data_dir=tmp_path, **kwargs)
