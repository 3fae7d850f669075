"""Each service's configuration is declared once: defaults and checks in the type (a configuration built in code
is checked), and the command line generated from it (its defaults are the type's, its errors name the option)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from motcua.mock_services.agency import AgencyConfig
from motcua.mock_services.bank import BankConfig
from motcua.mock_services.common.service_config import (
    COMMON_FIELDS,
    OPTION,
    ServiceConfig,
    config_from_args,
    service_arg_parser,
)
from motcua.mock_services.errors import IdError, ServiceConfigError
from motcua.mock_services.gateway import GatewayConfig, parse_schedule

REQUIRED = {AgencyConfig: ["--gateway-url", "http://127.0.0.1:9/"]}
CONFIGS = [GatewayConfig, BankConfig, AgencyConfig]


def _parse(config_type: type[ServiceConfig], *argv: str, **defaults) -> ServiceConfig:
    parser = service_arg_parser(config_type.__name__.removesuffix("Config").lower(), "test", config_type)
    args = parser.parse_args(["--port", "0", "--data-dir", "/tmp/d", *REQUIRED.get(config_type, []), *argv])
    return config_from_args(parser, config_type, args, **defaults)


@pytest.mark.parametrize("config_type", CONFIGS, ids=lambda c: c.__name__)
def test_the_command_line_defaults_are_the_types(config_type):
    extra = {"public_url": "http://127.0.0.1:9"} if config_type is AgencyConfig else {}
    from_cli = _parse(config_type, **extra)
    in_code = config_type(data_dir=Path("/tmp/d"), **{"gateway_url": "http://127.0.0.1:9"} if extra else {}, **extra)
    assert from_cli == in_code


@pytest.mark.parametrize("config_type", CONFIGS, ids=lambda c: c.__name__)
def test_every_option_names_a_field_and_every_common_field_is_an_option(config_type):
    parser = service_arg_parser("x", "test", config_type)
    flags = {a.option_strings[0] for a in parser._actions if a.option_strings}
    declared = {f.metadata[OPTION].flag: f.name for f in dataclasses.fields(config_type) if OPTION in f.metadata}
    assert set(declared) <= flags
    assert set(COMMON_FIELDS) <= set(declared.values())
    assert flags - set(declared) <= {"-h", "--port", "--host", "--faults", "--admin-token", "--terminals", "--tmn-code"}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: GatewayConfig(data_dir=Path("d"), time_scale=0), "time_scale must be above zero, got 0"),
        (lambda: GatewayConfig(data_dir=Path("d"), ipn_timeout_s=-1.0), "ipn_timeout_s must be above zero, got -1.0"),
        (lambda: GatewayConfig(data_dir=Path("d"), ipn_delays_s=(5.0, -1.0)),
         r"ipn_delays_s must be comma-separated seconds ≥ 0 such as 300,300,300, got \(5.0, -1.0\)"),
        (lambda: GatewayConfig(data_dir=Path("d"), commit_linger_ms=1001), "commit_linger_ms must be within 0–1000"),
        (lambda: GatewayConfig(data_dir=Path("d"), default_ipn_url="ftp://x"), "default_ipn_url must be an http"),
        (lambda: BankConfig(data_dir=Path("d"), latency_scale=-0.5), "latency_scale must be ≥ 0, got -0.5"),
        (lambda: AgencyConfig(data_dir=Path("d"), gateway_url="127.0.0.1:1", public_url="http://a"),
         "gateway_url must be an http"),
        (lambda: AgencyConfig(data_dir=Path("d"), gateway_url="http://g", public_url="http://a", expires_in_s=0),
         "expires_in_s must be within 1–604800 seconds, got 0"),
        (lambda: AgencyConfig(data_dir=Path("d"), gateway_url="http://g", public_url="http://a", protocol="soap"),
         "protocol must be one of motcua, vnpay, got 'soap'"),
    ],
)
def test_a_configuration_built_in_code_is_checked(build, message):
    with pytest.raises(ServiceConfigError, match=message):
        build()


def test_a_bad_agency_code_is_refused_on_construction():
    with pytest.raises(IdError, match=r"agency_code must look like '000.00.12.H37' \(QCVN 102:2016\), got 'H37'"):
        AgencyConfig(data_dir=Path("d"), gateway_url="http://g", public_url="http://a", agency_code="H37")


def test_the_agency_drops_a_trailing_slash_of_its_urls():
    config = AgencyConfig(data_dir=Path("d"), gateway_url="http://g:1/", public_url="http://a:2/")
    assert (config.gateway_url, config.public_url) == ("http://g:1", "http://a:2")


@pytest.mark.parametrize(
    ("config_type", "argv", "message"),
    [
        (GatewayConfig, ["--time-scale", "0"], "--time-scale must be above zero, got 0.0"),
        (GatewayConfig, ["--ipn-schedule", "300,abc"],
         "--ipn-schedule must be comma-separated seconds ≥ 0 such as 300,300,300; got '300,abc'"),
        (GatewayConfig, ["--ipn-schedule=-1,5"], "--ipn-schedule must be comma-separated seconds ≥ 0 such as "
                                                 "300,300,300, got '-1,5'"),
        (GatewayConfig, ["--commit-linger-ms", "2000"], "--commit-linger-ms must be within 0–1000, got 2000.0"),
        (BankConfig, ["--latency-scale", "-1"], "--latency-scale must be ≥ 0, got -1.0"),
        (AgencyConfig, ["--payment-expires-s", "0"], "--payment-expires-s must be within 1–604800 seconds, got 0"),
        (AgencyConfig, ["--agency-code", "H37"], "agency_code must look like '000.00.12.H37'"),
    ],
)
def test_a_refused_value_on_the_command_line_names_the_option(config_type, argv, message, capsys):
    extra = {"public_url": "http://127.0.0.1:9"} if config_type is AgencyConfig else {}
    with pytest.raises(SystemExit) as info:
        _parse(config_type, *argv, **extra)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_options_set_their_fields():
    config = _parse(GatewayConfig, "--ipn-schedule", "1,2.5", "--commit-linger-ms", "0", "--seed", "7",
                    "--bank-url", "http://b")
    assert (config.ipn_delays_s, config.commit_linger_ms, config.seed, config.bank_url) == ((1.0, 2.5), 0.0, 7,
                                                                                          "http://b")
    assert parse_schedule(" 1, 2 ,") == (1.0, 2.0)
