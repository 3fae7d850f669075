"""A mock service's configuration, declared once: its fields carry their defaults, the type checks them on
construction, and the command line is generated from them.

Scene: the supervisor starts the gateway as ``python -m motcua.mock_services.gateway --port P --data-dir D
--ipn-schedule 20,20,20 …``; a test builds it in-process with ``build_app(GatewayConfig(data_dir=tmp))``.
Both end in one `GatewayConfig`. Its fields hold the defaults and its ``__post_init__`` refuses a value the
service cannot run with (`ServiceConfigError`, naming the field and the value), so a configuration built in
code is checked exactly as a command line is. A field the command line sets names its option with `option`;
`service_arg_parser` adds those options with the field's default, and `config_from_args` builds the
configuration, turning a refused value into the parser's error naming the option and the text given::

    @dataclass(frozen=True, kw_only=True)
    class BankConfig(ServiceConfig):
        latency_scale: float = option("--latency-scale", "multiplies charge latencies (0: none)",
                                      default=1.0, read=float)

        def __post_init__(self) -> None:
            super().__post_init__()
            check(self.latency_scale >= 0, "latency_scale", self.latency_scale, "must be ≥ 0")

    def main(argv: list[str] | None = None) -> None:
        serve("bank", "The banks and e-wallets mock.", BankConfig, build_app, argv)

`ServiceConfig` holds what every service takes (its data folder, the seed, the time scale). The options that
say how to run it rather than what it is — port, host, fault file, admin token — are `service_arg_parser`'s own.
"""

# `option(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from motcua.mock_services.common.faults import ServiceFaults, load_fault_file, parse_faults
from motcua.mock_services.common.http import ADMIN_TOKEN_ENV, run_service
from motcua.mock_services.errors import FaultConfigError, ServiceConfigError

from motcua.errors import ConfigError

OPTION = "motcua.mock_services.option"
"""The key of a field's `Option` in its metadata."""


@dataclass(frozen=True, kw_only=True)
class Option:
    """How the command line sets one configuration field."""

    flag: str
    help: str
    """The option's help; ``{service}`` stands for the service's name."""
    read: Callable[[str], Any] = str
    """The option's text → a value (argparse's ``type``: its errors are argparse's)."""
    load: Callable[[Any], Any] | None = None
    """The value read → the field's (a file name → the file's contents); its ValueError or ConfigError is the
    parser's error. Without the option the field keeps the class's default (nothing is loaded)."""
    required: bool = False
    choices: tuple[str, ...] | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


def option(flag: str, help: str, *, default: Any = MISSING, default_factory: Any = MISSING,
           read: Callable[[str], Any] = str, load: Callable[[Any], Any] | None = None, required: bool = False,
           choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with its default and the command-line option that sets it."""
    spec = Option(flag=flag, help=help, read=read, load=load, required=required, choices=choices)
    return field(default=default, default_factory=default_factory, metadata={OPTION: spec})


def check(ok: bool, name: str, value: object, problem: str) -> None:
    """Refuse `value` of field `name` unless `ok`: `ServiceConfigError` ``"<name> <problem>, got <value>"``."""
    if not ok:
        raise ServiceConfigError(name, value, problem)


def is_http_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


@dataclass(frozen=True, kw_only=True)
class ServiceConfig:
    """What every mock service takes: the folder of its SQLite database, a seed and a time scale."""

    data_dir: Path = option("--data-dir", "directory of {service}.sqlite (created if missing)", read=Path,
                            required=True)
    seed: int = option("--seed", "seed of the fault draws when the file gives none", default=0, read=int)
    """Seed of the fault draws when the fault file gives none (and of the bank's latency and decline draws)."""
    time_scale: float = option(
        "--time-scale", "multiplies every scheduled delay (IPN retries, bank notify delays); 0.01 = 100× faster",
        default=1.0, read=float)
    """Multiplies every scheduled delay (IPN retries, bank notification delays and retries); 0.01: 100× faster."""

    def __post_init__(self) -> None:
        check(self.time_scale > 0, "time_scale", self.time_scale, "must be above zero")


COMMON_FIELDS = tuple(f.name for f in fields(ServiceConfig))

C = TypeVar("C", bound=ServiceConfig)


def _options(config_type: type, names: Sequence[str] | None = None) -> list[tuple[Field[Any], Option]]:
    """The fields of `config_type` that the command line sets (those of `names`, else the service's own)."""
    found = [(f, f.metadata[OPTION]) for f in fields(config_type) if OPTION in f.metadata]
    if names is None:
        return [(f, spec) for f, spec in found if f.name not in COMMON_FIELDS]
    return sorted(((f, spec) for f, spec in found if f.name in names), key=lambda pair: names.index(pair[0].name))


def _add(parser: argparse.ArgumentParser, service: str, options: list[tuple[Field[Any], Option]]) -> None:
    for f, spec in options:
        plain = f.default is not MISSING and spec.load is None
        parser.add_argument(spec.flag, type=spec.read, required=spec.required, choices=spec.choices,
                            default=f.default if plain else None, help=spec.help.replace("{service}", service))


def service_arg_parser(service: str, description: str, config_type: type[ServiceConfig]) -> argparse.ArgumentParser:
    """The service's command line: how to run it (port, host, faults, admin token) and its configuration's options."""
    parser = argparse.ArgumentParser(prog=f"python -m motcua.mock_services.{service}", description=description)
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    _add(parser, service, _options(config_type, ["data_dir"]))
    parser.add_argument("--faults", default=None, help="TOML fault file (docs/contracts.md §2)")
    _add(parser, service, _options(config_type, ["seed", "time_scale"]))
    parser.add_argument("--admin-token", default=os.environ.get(ADMIN_TOKEN_ENV),
                        help=f"token for /admin/faults (default ${ADMIN_TOKEN_ENV}; unset = admin disabled)")
    _add(parser, service, _options(config_type))
    return parser


def config_from_args(parser: argparse.ArgumentParser, config_type: type[C], args: argparse.Namespace,
                     **defaults: Any) -> C:
    """The configuration the command line gives; `defaults` fill fields it leaves unset.

    A refused value ends the program through ``parser.error`` (exit 2), naming the option and the text given.
    """
    values, given = dict(defaults), {}
    for f, spec in _options(config_type, COMMON_FIELDS) + _options(config_type):
        value = getattr(args, spec.dest)
        if value is None and (spec.load is not None or f.default is MISSING):
            continue  # not given: the class's default (or the caller's)
        given[f.name] = value
        if spec.load is not None:
            try:
                value = spec.load(value)
            except (ValueError, ConfigError) as exc:
                parser.error(f"{spec.flag} {exc}")
        values[f.name] = value
    try:
        return config_type(**values)
    except ServiceConfigError as exc:
        flag = next((spec.flag for f, spec in _options(config_type, [exc.field])), None)
        if flag is None:
            parser.error(str(exc))
        parser.error(f"{flag} {exc.problem}, got {given.get(exc.field, exc.value)!r}")
    except ValueError as exc:  # a check of the field's own kind (an agency code): its message names the field
        parser.error(str(exc))


def faults_from_args(args: argparse.Namespace, service: str, seed: int) -> ServiceFaults:
    """Load ``--faults`` (if any) for `service`; exits with status 2 and a clear message if the file is bad."""
    if not args.faults:
        table = parse_faults({"seed": seed}, source="--seed")
    else:
        try:
            table = load_fault_file(args.faults, default_seed=seed)
        except FaultConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    return table.for_service(service, clock_start_s=time.monotonic())


def serve(
    service: str, description: str, config_type: type[C], build_app: Callable[..., web.Application],
    argv: Sequence[str] | None = None, *, more_options: Callable[[argparse.ArgumentParser], None] | None = None,
    derive: Callable[[argparse.Namespace], Mapping[str, Any]] | None = None,
) -> None:
    """``python -m motcua.mock_services.<service>``: read the command line, build the app, serve it until SIGTERM.

    `more_options` adds options that are not fields (they feed `derive`); `derive` gives values of fields the
    command line leaves unset, from the parsed options (its ValueError or ConfigError is the parser's error).
    """
    parser = service_arg_parser(service, description, config_type)
    if more_options is not None:
        more_options(parser)
    args = parser.parse_args(argv)
    try:
        defaults = dict(derive(args)) if derive is not None else {}
    except (ValueError, ConfigError) as exc:
        parser.error(str(exc))
    config = config_from_args(parser, config_type, args, **defaults)
    app = build_app(config, faults=faults_from_args(args, service, config.seed), admin_token=args.admin_token)
    run_service(app, host=args.host, port=args.port)
