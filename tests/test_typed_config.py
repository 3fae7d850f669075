"""The declared-schema layer every configuration file goes through: one loader, one way to say what is wrong."""

# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest
from motcua.mock_services.bank import BANK_CATALOGUE, BankCatalogueError
from motcua.mock_services.common.catalogue import FEE_CATALOGUE, CatalogueError
from motcua.mock_services.common.faults import FAULT_FILE, FaultConfigError

import motcua.typed_config
from motcua.commands.mock import MOCK_CONFIG
from motcua.errors import EXIT_BAD_INPUT, ConfigError, ScenarioError
from motcua.payment_platform import PAYMENT_GROUPS, BankCatalogue, BankProfile, GroupMix
from motcua.scenario import load_scenario
from motcua.typed_config import (
    ConfigFile,
    FieldProblem,
    Spec,
    check_percentile_order,
    json_schema,
    schema_parts,
    spec,
    spec_of,
)

KINDS = {
    "fault file": (FAULT_FILE.load, FaultConfigError, "seed"),
    "bank catalogue": (BANK_CATALOGUE.load, BankCatalogueError, "banks"),
    "fee catalogue": (FEE_CATALOGUE.load, CatalogueError, "procedures"),
    "--config file": (MOCK_CONFIG.load, ConfigError, "mock"),
    "scenario file": (load_scenario, ScenarioError, "scenario"),
}


@pytest.mark.parametrize("what", KINDS)
def test_every_file_kind_reports_problems_the_same_way(tmp_path, what):
    load, error, known = KINDS[what]
    path = tmp_path / "f.toml"
    with pytest.raises(error, match=rf"f.toml: \(file\) = '.*f.toml': {what} not found") as info:
        load(path)
    assert isinstance(info.value, ConfigError) and info.value.exit_code == EXIT_BAD_INPUT
    path.write_text("[x]\nvalue = 1 2\n")
    with pytest.raises(error, match=r"f.toml: x.value = 'value = 1 2': not valid TOML: .*line 2"):
        load(path)
    typo = known[:-1] + known[-1].upper()
    path.write_text(f"{typo} = 1\n")
    with pytest.raises(error, match=rf"f.toml: {typo} = 1: unknown key; did you mean '{known}'\? known keys: "):
        load(path)


def test_the_base_layer_imports_nothing_above_it():
    code = ("import sys, motcua.typed_config, motcua.payment_platform, motcua.errors; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'mock_services', 'models', 'locustfiles'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    modules = sorted(Path("motcua/typed_config").glob("*.py"))
    assert len(modules) >= 8, modules
    imports = [line for module in modules for line in module.read_text(encoding="utf-8").splitlines()
               if line.startswith(("import ", "from "))]
    assert imports and not [line for line in imports if "mock_services" in line or "models" in line]
    assert {line.split()[1] for line in imports if line.startswith("from motcua.")} <= {
        "motcua.atomic", "motcua.errors", *(f"motcua.typed_config.{m.stem}" for m in modules)}


def test_payment_groups_are_the_fields_of_the_group_mix():
    assert PAYMENT_GROUPS == ("fee", "tax", "insurance", "fine", "electricity")
    assert tuple(GroupMix(fee=0.5, tax=0.5, insurance=0, fine=0, electricity=0).shares()) == PAYMENT_GROUPS


# --- a file kind declared the way the VNPay terminal and merchant files will be -----------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rule:
    rate: float = spec("share of requests", 0.0, share=True)
    note: str = spec("what it is for", "")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Terminal:
    """A test terminal (a toy declaration exercising every field kind of the layer)."""

    tmn_code: str = spec("terminal code", pattern=r"[A-Z0-9]{8}", pattern_hint="8 upper-case letters or digits")
    group: str = spec("payment group", "fee", choices=PAYMENT_GROUPS)
    version: Literal["2.1.0"] = spec("protocol version", "2.1.0")
    fee_vnd: int = spec("fee per payment", 0, money=True)
    secret_file: Path | None = spec("file holding the test secret, relative to this file", None)
    retries: tuple[Rule, ...] = spec("rules", (), shorthand="rate", one_or_many=True)
    port: int = spec("port", 8080, ge=1, le=65535, hint="a TCP port number")

    def check(self) -> None:
        if self.group == "fine" and self.fee_vnd == 0:
            raise FieldProblem("fee_vnd", 0, "a fine cannot be free")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TerminalFile:
    terminal: Terminal = spec("the terminal")


TERMINAL_FILE = ConfigFile(TerminalFile, "terminal file", hint="see the docs")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"tmn_code": "abc"}, r"terminal.tmn_code = 'abc': does not match \[A-Z0-9\]\{8\}: 8 upper-case letters"),
        ({"tmn_code": "TESTCODE", "group": "fees"}, r"terminal.group = 'fees': must be one of fee, tax, insurance, "
                                                    r"fine, electricity; did you mean 'fee'\?$"),
        ({"tmn_code": "TESTCODE", "fee_vnd": 1.5}, r"terminal.fee_vnd = 1.5: must be a whole number of VND"),
        ({"tmn_code": "TESTCODE", "fee_vnd": 10**16}, r"terminal.fee_vnd = 10000000000000000: is implausibly large"),
        ({"tmn_code": "TESTCODE", "port": 0}, r"terminal.port = 0: must be >= 1 \(a TCP port number\)$"),
        ({"tmn_code": "TESTCODE", "port": "80"}, r"terminal.port = '80': expected a number \(a TCP port number\)$"),
        ({"tmn_code": "TESTCODE", "retries": [0.1, 2]}, r"terminal.retries\[1\].rate = 2: a share must be within 0–1"),
        ({"tmn_code": "TESTCODE", "retries": {"rat": 1}}, r"terminal.retries.rat = 1: unknown key; did you mean "),
        ({"tmn_code": "TESTCODE", "group": "fine"}, r"terminal.fee_vnd = 0: a fine cannot be free$"),
        ({"tmn_code": "TESTCODE", "version": 2.1}, r"terminal.version = 2.1: must be one of 2.1.0; did you mean "),
    ],
)
def test_a_declared_file_kind_gets_every_check(table, message):
    with pytest.raises(ConfigError, match=rf"^t.toml: {message}"):
        TERMINAL_FILE.parse({"terminal": table}, file="t.toml")


def test_shorthands_paths_and_a_round_trip(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "t.toml").write_text(
        '[terminal]\ntmn_code = "TESTCODE"\nsecret_file = "keys/test.key"\nretries = 0.25\n', encoding="utf-8")
    terminal = TERMINAL_FILE.load(tmp_path / "sub" / "t.toml").terminal
    assert terminal.secret_file == tmp_path / "sub" / "keys" / "test.key"  # relative to the file's folder
    assert terminal.retries == (Rule(rate=0.25),)
    out = TERMINAL_FILE.write(TerminalFile(terminal=terminal), tmp_path / "back.toml", comment="written by a test")
    assert out.read_text(encoding="utf-8").startswith("# written by a test\n\n[terminal]\n")
    assert TERMINAL_FILE.load(out).terminal == terminal
    schema = json_schema(TerminalFile, title="terminal")["$defs"]["Terminal"]["properties"]
    assert schema["group"] == {"enum": list(PAYMENT_GROUPS), "description": "payment group", "default": "fee"}
    assert schema["retries"]["anyOf"][1]["type"] == "array"
    # a bare number stands for {rate = number}: it takes the rate's bounds, as the reader does
    assert schema["retries"]["anyOf"][0]["anyOf"][0] == {"type": "number", "minimum": 0, "maximum": 1}
    assert "null" not in str(schema["secret_file"])  # TOML has no null


def test_schema_parts_for_an_openapi_document():
    body, defs = schema_parts(TerminalFile, ref_prefix="#/components/schemas/", nullable=True)
    assert body["properties"]["terminal"]["$ref"] == "#/components/schemas/Terminal" and set(defs) == {"Terminal",
                                                                                                      "Rule"}
    assert defs["Terminal"]["properties"]["secret_file"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    data = {"terminal": {"tmn_code": "TESTCODE", "secret_file": None}}
    assert TERMINAL_FILE.parse(data).terminal.secret_file is None  # JSON null: the key left out


def test_writing_refuses_an_invalid_object_and_leaves_nothing(tmp_path):
    bank = BankProfile(code="BIDV", name="BIDV", p50_ms=300, p95_ms=100, notify_p50_ms=1, notify_p95_ms=2)
    with pytest.raises(BankCatalogueError, match=r"<bank catalogue>: banks\[0\].p95_ms = 100.0: below p50_ms = 300.0$"):
        BANK_CATALOGUE.write(BankCatalogue(banks=(bank,)), tmp_path / "banks.toml")
    assert list(tmp_path.iterdir()) == []


def test_a_spec_takes_its_fields_by_keyword_only():
    with pytest.raises(TypeError):
        Spec("share of requests", None, None, None, None, True)
    declared = spec_of(next(f for f in dataclasses.fields(Rule) if f.name == "rate"))
    assert declared == Spec(doc="share of requests", share=True)
    assert dataclasses.replace(declared, share=False).doc == "share of requests"


def test_the_percentile_rule_names_the_high_field_and_the_low_value():
    @dataclasses.dataclass
    class Delay:
        p50_ms: float
        p95_ms: float

    check_percentile_order(Delay(p50_ms=300, p95_ms=300), "p50_ms", "p95_ms")  # equal is allowed
    with pytest.raises(FieldProblem, match=r"^p95_ms: below p50_ms = 300$") as info:
        check_percentile_order(Delay(p50_ms=300, p95_ms=100), "p50_ms", "p95_ms")
    assert (info.value.field, info.value.value) == ("p95_ms", 100)
    with pytest.raises(FieldProblem, match=r"^p95_ms: below p50_ms = 300; a p95 is never below its median$"):
        check_percentile_order(Delay(p50_ms=300, p95_ms=100), "p50_ms", "p95_ms",
                               why="a p95 is never below its median")


def test_the_public_names_of_the_typed_config_package():
    assert sorted(motcua.typed_config.__all__) == sorted([
        "MAX_VND", "MISSING_VALUE", "ConfigFile", "FieldProblem", "Reader", "Spec", "canonical_path",
        "check_percentile_order", "check_share_sum", "check_unique", "get_path", "join", "join_relative",
        "json_ready", "json_schema", "parse_date", "read_toml", "schema_parts", "set_path", "spec", "spec_of",
        "split_path", "to_data", "toml_error", "validate", "vnd_problem", "walk",
    ])
    assert all(hasattr(motcua.typed_config, name) for name in motcua.typed_config.__all__)
