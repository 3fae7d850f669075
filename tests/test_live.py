"""Issue 18 items 3, 6, 7: the run watched live (status line, metrics), Locust habits, bad input refused early."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from helpers_mock_http import call
from motcua.mock_services.common.faults import FaultConfigError, check_fault_table, parse_faults
from motcua.mock_services.supervisor import check_fault_file, service_routes

from motcua.cli import main
from motcua.errors import InputError
from motcua.loadtest import metrics, thresholds
from motcua.loadtest.live import EXPORTED, LiveSnapshot, metric_values, requests_per_s, status_line
from motcua.loadtest.runner.locust_processes import check_locust_args
from motcua.loadtest.runner.options import LoadtestOptions, locust_config_files

ROOT = Path(__file__).resolve().parents[1]
SNAP = LiveSnapshot(
    elapsed_s=35.2, duration_s=60, arrivals_started=1041, arrivals_dropped=3, http_requests=3000, http_failures=7,
    requests_per_s=29.8, journeys_finished=1000, journeys_failed=2, callbacks=900,
    callback_ms={"0.5": 120.0, "0.95": 812.4, "0.99": None}, lost_callbacks=1, late_callbacks=4,
)


# ----------------------------------------------------------------------------- bad input (item 7)


def test_fault_file_bank_and_route_typos_name_the_close_match(tmp_path):
    routes = service_routes()
    table = parse_faults({"bank": {"outage": {"banks": ["AGRIBNK"]}}}, source="f.toml")
    with pytest.raises(FaultConfigError, match=r"'AGRIBNK': not a bank of this run; did you mean 'AGRIBANK'"):
        check_fault_table(table, routes=routes, banks=["AGRIBANK", "BIDV"])
    table = parse_faults({"gateway": {"errors": {"rate": 0.1, "routes": ["POST /payment"]}}}, source="f.toml")
    with pytest.raises(FaultConfigError, match=r"'POST /payment': not a route of the gateway; did you mean "
                                               r"'POST /payments'"):
        check_fault_table(table, routes=routes)
    ok = parse_faults({"gateway": {"errors": {"rate": 0.1, "routes": ["POST /payments", "/payments"]}},
                       "bank": {"outage": {"banks": ["BIDV"]}}})
    check_fault_table(ok, routes=routes, banks=["BIDV"])  # real routes (with or without the method), a real bank


def test_fault_file_kinds_and_fields_say_did_you_mean(tmp_path):
    with pytest.raises(FaultConfigError, match="did you mean 'lognormal'"):
        parse_faults({"gateway": {"latency": {"kind": "lognormal2", "p50_ms": 1, "p95_ms": 2}}})
    with pytest.raises(FaultConfigError, match="did you mean 'latency'"):
        parse_faults({"gateway": {"latencyy": 0.1}})


def _loadtest(capsys, *argv: str) -> tuple[int, str]:
    code = main(["loadtest", "peak-day", "--duration", "5s", "--rate", "2", *argv])
    return code, capsys.readouterr().err


def test_loadtest_refuses_bad_input_before_anything_starts(capsys, tmp_path):
    code, err = _loadtest(capsys, "--faults", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "run"))
    assert code == 2 and "nope.toml: fault file not found" in err and "Traceback" not in err
    bad = tmp_path / "bad.toml"
    bad.write_text('[bank]\noutage = {banks=["AGRIBNK"]}\n')
    code, err = _loadtest(capsys, "--faults", str(bad), "--out", str(tmp_path / "run"))
    assert code == 2 and "did you mean 'AGRIBANK'" in err and str(bad) in err
    assert not (tmp_path / "run").exists()  # nothing started, no run folder
    code, err = _loadtest(capsys, "--gateway-url", "127.0.0.1:1", "--agency-url", "http://127.0.0.1:2",
                          "--bank-url", "http://127.0.0.1:3")
    assert code == 2 and "needs a scheme" in err and "http://127.0.0.1:1" in err
    code, err = _loadtest(capsys, "--", "--headless")
    assert code == 2 and "motcua sets --headless itself" in err


def test_check_fault_file_reads_the_file(tmp_path):
    path = tmp_path / "f.toml"
    path.write_text('[gateway]\nlatency = { kind = "fixed", ms = 5, routes = ["GET /payments/{payment_id}"] }\n')
    check_fault_file(path, banks=["BIDV"])
    with pytest.raises(InputError, match="fault file not found"):
        check_fault_file(tmp_path / "missing.toml")


MOCK_STACK = {"time_scale": 0.01}


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=xyz",
                                          "multipart/mixed", "application/x-www-form-urlencoded", "text/plain"])
def test_no_5xx_for_a_malformed_form_on_any_route(stack, content_type):
    """A schema fuzzer's Content-Type without a boundary (or a broken body) gets a 4xx on every write route."""
    urls = {"gateway": stack.gateway_url, "bank": stack.bank_url, "agency": stack.agency_url}
    tried = 0
    for service, routes in service_routes().items():
        for route in sorted(routes):
            method, path = route.split(" ", 1)
            if method not in ("POST", "PUT", "PATCH") or path.startswith("/admin"):
                continue
            url = urls[service] + re.sub(r"\{[^}]+\}", "x", path)
            status, body = call(method, url, headers={"Content-Type": content_type}, raw=b"--xyz\r\nbroken")
            assert status < 500, f"{service} {route} answered {status} to {content_type}: {body}"
            tried += 1
    assert tried >= 10


# ----------------------------------------------------------------------------- live (item 3)


def test_status_line_shows_the_run_so_far():
    line = status_line(SNAP)
    for part in ("35s / 60s", "arrivals 1,041", "dropped 3", "29.8 req/s (last 10 s)", "errors 7", "journey failures 2",
                 "callback p95 812 ms", "lost 1", "late 4"):
        assert part in line
    assert "\n" not in line


def test_snapshot_round_trips_and_rates_use_one_window(tmp_path):
    SNAP.write(tmp_path)
    assert LiveSnapshot.read(tmp_path) == SNAP
    assert LiveSnapshot.read(tmp_path / "none") is None
    http = {100 + s: [10, 0] for s in range(20)}
    assert requests_per_s(http, 120.5) == 10.0  # the last 10 whole seconds


def _exposed_names() -> set[str]:
    names = set()
    for name, _labels, _value in metric_values(SNAP):
        assert EXPORTED[name][0] != "counter" or name.endswith("_total")  # as Prometheus exposes a counter
        names.add(name)
    return names


def test_the_endpoint_exports_the_thresholds_metrics_under_one_naming_rule():
    """One list: every live name is a metric.stat a threshold can gate on (named by prometheus_name), or progress."""
    values = {name: value for name, _labels, value in metric_values(SNAP)}
    named = {metrics.prometheus_name(metric, stat) for metric, stat in metrics.LIVE}
    assert set(values) == set(EXPORTED) == set(metrics.PROGRESS) | named
    for metric, stat in metrics.LIVE:
        assert stat in metrics.METRICS[metric].stats
        thresholds.parse(f"{metric}.{stat} >= 0")  # what the endpoint shows, a threshold can gate on
    assert values["motcua_callback_p95"] == 812.4 and values["motcua_journey_failures_total"] == 2
    assert values["motcua_http_total"] == 3000 and values["motcua_http_errors_total"] == 7
    assert values["motcua_dropped_arrivals_total"] == 3 and values["motcua_lost_callbacks_total"] == 1
    assert math.isnan(values["motcua_callback_p99"])  # no value yet: NaN, not 0


def test_grafana_dashboard_queries_only_metrics_that_exist():
    board = json.loads((ROOT / "docs" / "grafana" / "motcua-loadtest.json").read_text())
    exprs = [t["expr"] for panel in board["panels"] for t in panel.get("targets", [])]
    assert len(exprs) >= 8
    exposed = _exposed_names() | {"motcua_http_requests_total", "motcua_http_request_seconds_bucket"}
    functions = {"sum", "by", "rate", "histogram_quantile", "job", "route", "le", "quantile"}
    for expr in exprs:
        names = {n for n in re.findall(r"[a-z_][a-z0-9_]*", re.sub(r'"[^"]*"|\[[^]]*\]', "", expr))
                 if n not in functions}
        assert names and names <= exposed, f"{expr} names {names - exposed}"


# ----------------------------------------------------------------------------- Locust habits (item 6)


def test_pass_through_refuses_what_motcua_sets():
    assert check_locust_args(["--csv-full-history", "--loglevel", "DEBUG"]) == ("--csv-full-history", "--loglevel",
                                                                                "DEBUG")
    for flag in ("--headless", "-u", "--run-time=5s", "--motcua-rate"):
        with pytest.raises(InputError, match="motcua sets"):
            check_locust_args([flag])


def test_options_after_double_dash_are_only_for_loadtest(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--", "--x"])
    assert exc.value.code == 2


def test_locust_conf_in_the_working_folder_is_found(tmp_path):
    assert locust_config_files(tmp_path) == [] or all(p.name == ".locust.conf" for p in locust_config_files(tmp_path))
    (tmp_path / "locust.conf").write_text("loglevel = DEBUG\n")
    assert tmp_path / "locust.conf" in locust_config_files(tmp_path)


def test_metrics_port_is_checked():
    with pytest.raises(InputError, match="--metrics-port"):
        LoadtestOptions(metrics_port=70000)


def test_locust_help_lists_every_motcua_option_with_its_help_text(monkeypatch):
    """``motcua loadtest --locust-help``: Locust's help with the locustfile's ``--motcua-*`` options."""
    import argparse
    import subprocess
    import sys

    monkeypatch.setenv("LOCUST_SKIP_MONKEY_PATCH", "1")  # importing Locust must not gevent-patch the test process
    from motcua.loadtest.plugin import add_arguments

    ours = argparse.ArgumentParser()
    add_arguments(ours)
    options = [a for a in ours._actions if any(o.startswith("--motcua-") for o in a.option_strings)]
    assert len(options) >= 20 and all(a.help for a in options)  # every option explains itself
    shown = subprocess.run([sys.executable, "-m", "motcua.cli", "loadtest", "--locust-help"], capture_output=True,
                           text=True, timeout=120, check=True).stdout
    flat = " ".join(shown.split())
    assert "--headless" in flat and "--stop-timeout" in flat  # Locust's own options are there too
    for action in options:
        assert action.option_strings[0] in flat and " ".join(action.help.split()) in flat, action.option_strings


def test_locust_itself_answers_help_before_importing_the_locustfile():
    """Why ``--locust-help`` exists: Locust 2.x prints ``locust -f <locustfile> --help`` before it imports the
    locustfile (locustio/locust#2917), so no locustfile's options are in it. When this fails, Locust lists them
    itself: say so in README and drop ``--locust-help``."""
    import subprocess
    import sys

    from motcua.loadtest.runner.locust_processes import LOCUSTFILE

    shown = subprocess.run([sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--help"], capture_output=True,
                           text=True, timeout=120, check=True).stdout
    assert "--headless" in shown and "--motcua-" not in shown
