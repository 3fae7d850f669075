"""`motcua mock`: start the mock payment services (gateway, bank, agency); `--check` verifies them end to end.

    motcua mock                          # start the three services, print their URLs, Ctrl-C stops them
    motcua mock --check                  # a few hundred payments with faults; exit 4 if one is lost or doubled

Settings come from the command line, then from ``--config FILE`` (a TOML file with a ``[mock]`` table of
the same names: ``data_dir, seed, time_scale, faults, agency_code, gateway_port, bank_port, agency_port,
protocol``; paths relative to the file's folder). ``--protocol vnpay`` runs the agency mock as a VNPay 2.1.0
merchant (docs/contracts.md §1c).
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from motcua.errors import InputError, ServiceError
from motcua.run_layout import SUMMARY
from motcua.typed_config import ConfigFile, spec


def _port(name: str) -> Any:
    return spec(f"port of the {name} (0: any free port)", None, ge=0, le=65535)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MockSettings:
    """The ``[mock]`` table of ``motcua mock --config FILE``: the command line's settings (it wins over them)."""

    data_dir: Path | None = spec("where the services keep their SQLite files and logs", None)
    seed: int | None = spec("seed of faults and synthetic citizens", None, ge=0)
    time_scale: float | None = spec("multiplies IPN retry waits and bank delays", None, gt=0)
    faults: Path | None = spec("TOML fault file (docs/contracts.md §2)", None)
    agency_code: str | None = spec("the agency's code", None)
    gateway_port: int | None = _port("gateway")
    bank_port: int | None = _port("bank")
    agency_port: int | None = _port("agency")
    protocol: str | None = spec("how the agency integrates the gateway: motcua (JSON API) or vnpay (VNPay 2.1.0)", None,
                                choices=("motcua", "vnpay"))


CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(MockSettings))


@dataclasses.dataclass(frozen=True, kw_only=True)
class MockConfigFile:
    """A ``motcua mock --config`` file: one ``[mock]`` table."""

    mock: MockSettings = spec(f"put the settings ({', '.join(CONFIG_KEYS)}) under a [mock] table")


MOCK_CONFIG = ConfigFile(MockConfigFile, "--config file", hint="give the path of a TOML file with a [mock] table")
DEFAULTS: dict[str, Any] = {
    "protocol": "motcua", "seed": 1, "time_scale": 1.0, "gateway_port": 0, "bank_port": 0, "agency_port": 0,
}
CHECK_TIME_SCALE = 0.01
"""``--check`` compresses the IPN retry schedule and bank delays 100× unless --time-scale is given."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mock",
        help="start the mock gateway, bank and agency services (--check: verify no payment is lost)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="TOML file with a [mock] table of these settings")
    parser.add_argument("--data-dir", type=Path, help="where the services keep their SQLite files and logs")
    parser.add_argument("--seed", type=int, help="seed of faults and synthetic citizens (default 1)")
    parser.add_argument("--faults", type=Path, help="TOML fault file (docs/contracts.md §2)")
    parser.add_argument("--time-scale", type=float, help="multiplies IPN retry, bank delays (default 1; --check 0.01)")
    parser.add_argument("--agency-code", help="the agency's code (default 000.00.20.H37, assumed)")
    parser.add_argument("--protocol", choices=("motcua", "vnpay"),
                        help="how the agency mock integrates the gateway: motcua JSON API (default) or VNPay 2.1.0")
    for name in ("gateway", "bank", "agency"):
        parser.add_argument(f"--{name}-port", type=int, help=f"port of the {name} (default: any free port)")
    check = parser.add_argument_group("--check")
    check.add_argument("--check", action="store_true", help="push payments through with faults and verify the ledger")
    check.add_argument("--payments", type=int, default=300, help="citizens who pay (default 300)")
    check.add_argument("--concurrency", type=int, default=32, help="citizens paying at once (default 32)")
    check.add_argument("--no-faults", action="store_true", help="run the check without the default faults")
    check.add_argument(
        "--no-reconcile", action="store_true", help="skip the reconciliation (lost IPNs then stay lost: exit 4)"
    )
    check.add_argument("--out", type=Path, help="write the run here instead of results/mock-check/<run-id>/")
    parser.set_defaults(func=run)


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """Command line over ``--config`` over defaults (``--check`` defaults to a 100× compressed clock)."""
    merged = dict(DEFAULTS, time_scale=CHECK_TIME_SCALE) if args.check else dict(DEFAULTS)
    if args.config is not None:
        merged.update(_read_config(args.config))
    for key in CONFIG_KEYS:
        value = getattr(args, key, None)
        if value is not None:
            merged[key] = value
    return merged


def _read_config(path: Path) -> dict[str, Any]:
    """The settings given in the ``[mock]`` table of `path` (paths relative to its folder)."""
    settings = MOCK_CONFIG.load(path).mock
    return {key: value for key in CONFIG_KEYS if (value := getattr(settings, key)) is not None}


def stack_config(values: dict[str, Any], data_dir: Path) -> Any:
    from motcua.mock_services.supervisor import DEFAULT_AGENCY_CODE, StackConfig

    return StackConfig(
        data_dir=data_dir,
        seed=int(values["seed"]),
        faults_file=values.get("faults"),
        time_scale=float(values["time_scale"]),
        gateway_port=int(values["gateway_port"]),
        bank_port=int(values["bank_port"]),
        agency_port=int(values["agency_port"]),
        agency_code=values.get("agency_code") or DEFAULT_AGENCY_CODE,
        agency_protocol=str(values.get("protocol") or "motcua"),
    )


def run(args: argparse.Namespace) -> int:
    values = settings(args)
    if args.check and values.get("protocol") == "vnpay":
        raise InputError("--check pays through motcua's JSON API and cannot drive the agency's VNPay mode; check the "
                         "VNPay path with `motcua loadtest SCENARIO --protocol vnpay` instead")
    return run_check(args, values) if args.check else run_stack(values)


def run_stack(values: dict[str, Any]) -> int:
    """Start the services and keep them running until Ctrl-C or SIGTERM."""
    from motcua.mock_services.supervisor import MockStack

    with _data_dir(values.get("data_dir")) as data_dir:
        stack = MockStack(stack_config(values, data_dir))
        try:
            with stack:
                for name, url in stack.urls.items():
                    print(f"{name:<8} {url}   (log: {stack.log_path(name)})")
                print(json.dumps({"urls": stack.urls, "data_dir": str(data_dir), "vnpay": stack.vnpay()}), flush=True)
                if stack.config.admin_token:
                    print(f"faults at run time: PUT <url>/admin/faults with header X-Admin-Token: "
                          f"{stack.config.admin_token} (a published TEST token)")
                print("Ctrl-C or SIGTERM stops all three.", flush=True)
                _watch(stack)
        except KeyboardInterrupt:
            print("stopped: all services shut down", flush=True)
    return 0


def _watch(stack: Any) -> None:
    """Sleep until interrupted; a service that dies on its own is an error."""
    while True:
        time.sleep(0.5)
        for name in stack.urls:
            if stack.pid(name) is None:
                raise ServiceError(f"{name} exited unexpectedly; see {stack.log_path(name)}")


def run_check(args: argparse.Namespace, values: dict[str, Any]) -> int:
    """Start the stack, push payments through with faults, reconcile, verify, write the run, stop."""
    import asyncio

    from motcua.mock_services.check import DEFAULT_FAULTS_FILE, CheckConfig, format_summary
    from motcua.mock_services.check import run_check as check_stack
    from motcua.mock_services.supervisor import MockStack
    from motcua.runs import start_run, write_csv, write_json

    if args.no_faults and values.get("faults"):
        raise InputError("--no-faults and --faults FILE contradict each other; give one of them")
    if not args.no_faults and not values.get("faults"):
        values["faults"] = DEFAULT_FAULTS_FILE
    try:
        config = CheckConfig(
            payments=args.payments, concurrency=args.concurrency, seed=int(values["seed"]),
            reconcile=not args.no_reconcile, quiet_s=_quiet_s(float(values["time_scale"])),
        )  # fmt: skip
    except ValueError as exc:
        raise InputError(f"--payments/--concurrency: {exc}") from None
    with _data_dir(values.get("data_dir")) as data_dir:
        cfg = stack_config(values, data_dir)
        print(f"starting gateway, bank and agency (faults: {values.get('faults') or 'none'}) …", flush=True)
        with MockStack(cfg) as stack:
            print(f"pushing {config.payments} payments through {stack.urls['agency']} …", flush=True)
            result = asyncio.run(check_stack(stack.urls, config))
        print(format_summary(result.summary), flush=True)
        with start_run("mock-check", seed=config.seed, out=args.out, kind="mock-check") as run_dir:
            result.summary["settings"] = {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}
            write_json(run_dir.path(SUMMARY), result.summary)
            write_csv(run_dir.path("payments.csv"), result.ROW_HEADER, result.rows())
            if values.get("faults"):
                run_dir.add_input(Path(values["faults"]), "faults")
            for name in ("gateway", "bank", "agency"):
                log = data_dir / f"{name}.log"
                if log.exists():
                    shutil.copy2(log, run_dir.path("logs", f"{name}.log"))
            run_dir.record(parameters={"payments": config.payments, "concurrency": config.concurrency,
                                   "reconcile": config.reconcile, "time_scale": cfg.time_scale},
                       invariant_ok=result.ok)  # fmt: skip
        print(f"run written to {run_dir.dir}", flush=True)
    result.raise_if_broken()
    return 0


def _quiet_s(time_scale: float) -> float:
    """How long the IPN traffic must be quiet to count as settled: past one retry interval (300 s scaled)."""
    return max(2.0, 1.5 * 300.0 * time_scale + 1.0)


@contextlib.contextmanager
def _data_dir(given: Path | None) -> Any:
    """The given data directory (kept), or a temporary one (removed afterwards)."""
    if given is not None:
        Path(given).mkdir(parents=True, exist_ok=True)
        yield Path(given)
        return
    with tempfile.TemporaryDirectory(prefix="motcua-mock-") as tmp:
        yield Path(tmp)

