"""Fault tables: validation with clear messages, reproducibility under a seed, the distributions."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from motcua.mock_services.common.faults import (
    FaultConfigError,
    keyed_uniform,
    load_fault_file,
    lognormal_ms,
    parse_faults,
)

CONTRACT_EXAMPLE = """
seed = 7
[gateway]
latency = { kind = "lognormal", p50_ms = 20, p95_ms = 200, routes = ["POST /payments"] }
errors = { status = 503, rate = 0.05, routes = ["POST /payments"] }
reset = { rate = 0.01 }
hang = { rate = 0.001 }
[gateway.ipn]
lost = 0.1
duplicate = { rate = 0.05, copies = 3 }
reorder = 0.1
early = 0.05
amount_mismatch = 0.01
bad_signature = 0.01
[bank]
freeze = { start_s = 5, duration_s = 5 }
outage = { banks = ["AGRIBANK"], code = "75" }
toxicity = 0.02
pending = 0.02
[agency]
latency = { kind = "fixed", ms = 50, routes = ["POST /ipn"] }
"""


def test_contract_example_parses(tmp_path):
    path = tmp_path / "faults.toml"
    path.write_text(CONTRACT_EXAMPLE)
    table = load_fault_file(path)
    assert table.seed == 7
    gw = table.for_service("gateway")
    assert gw.ipn.lost == 0.1 and gw.ipn.duplicate_copies == 3 and gw.ipn.duplicate_rate == 0.05
    assert gw.spec.hang[0].rate == 0.001 and gw.spec.reset[0].rate == 0.01
    bank = table.for_service("bank").bank
    assert bank.outage.banks == ("AGRIBANK",) and bank.toxicity == 0.02 and bank.pending == 0.02
    assert bank.freeze_active(5.0) and bank.freeze_active(9.9) and not bank.freeze_active(10.0)
    assert not bank.freeze_active(4.9)
    agency = table.for_service("agency")
    action = agency.http_action("POST", "/ipn")
    assert action.delay_s == pytest.approx(0.05) and action.status is None
    assert agency.http_action("GET", "/dossiers/x").is_noop


BAD_TABLES = [
        ({"gateway": {"errors": {"status": 404, "rate": 0.1}}}, "gateway.errors.status",
         r"= 404: must be >= 500 \(an HTTP 5xx status such as 500 or 503\)$"),
        ({"gateway": {"errors": {"rate": 1.5}}}, "gateway.errors.rate",
         r"= 1.5: a share must be within 0–1; if 1.5 is a percentage, write 0.015 "
         r"\(a rate between 0 and 1, e.g. 0.05 for 5 %\)$"),
        ({"gateway": {"latency": {"kind": "gamma"}}}, "gateway.latency.kind",
         r"= 'gamma': must be one of fixed, uniform, lognormal$"),
        ({"gateway": {"latency": {"kind": "lognormal", "p50_ms": 50, "p95_ms": 10}}}, "gateway.latency.p95_ms",
         r"= 10.0: below p50_ms = 50.0$"),
        ({"gateway": {"latency": {"kind": "lognormal", "p95_ms": 10}}}, "gateway.latency.p50_ms",
         r"= 0.0: must be > 0 for a lognormal delay$"),
        ({"gateway": {"ipn": {"lost": "yes"}}}, "gateway.ipn.lost", r"= 'yes': expected a number \(a rate between"),
        ({"gateway": {"ipn": {"duplicate": {"rate": 0.1, "copies": 0}}}}, "gateway.ipn.duplicate.copies",
         r"= 0: must be >= 1$"),
        ({"gateway": {"ipn": {"duplicate": True}}}, "gateway.ipn.duplicate", r"= True: expected a table of Duplicate"),
        ({"bank": {"outage": {"banks": "AGRIBANK"}}}, "bank.outage.banks",
         r"= 'AGRIBANK': expected a list \[ ... \] \(a list of bank codes, e.g. \[\"AGRIBANK\"\]\)$"),
        ({"bank": {"outage": {"banks": ["AGRIBANK"], "code": 75}}}, "bank.outage.code",
         r"= 75: expected a string in quotes$"),
        ({"bank": {"outage": {"code": "7"}}}, "bank.outage.code",
         r"= '7': does not match \[0-9\]\{2\}: a two-digit response code string such as \"75\"$"),
        ({"bank": {"ipn": {"lost": 0.1}}}, "bank.ipn", r"= \{'lost': 0.1\}: unknown key; known keys: latency, errors"),
        ({"gatway": {}}, "gatway", r"= \{\}: unknown key; did you mean 'gateway'\? known keys: seed, gateway, bank, "
                                   r"agency$"),
        ({"gateway": {"reset": {"rat": 0.1}}}, "gateway.reset.rat", r"unknown key; did you mean 'rate'\?"),
        ({"gateway": {"errors": {"rate": 0.1, "routes": ["/payments", "post /x"]}}}, "gateway.errors.routes[1]",
         r"= 'post /x': does not match .*: a \"METHOD /path\" string, e.g. \"POST /payments\"$"),
        ({"seed": -1}, "seed", r"= -1: must be >= 0$"),
        ({"seed": 1.5}, "seed", r"= 1.5: expected a whole number \(an integer\)$"),
        ({"gateway": {"latency": [{"kind": "fixed", "ms": 1}, {"kind": "fixed", "ms": -1}]}},
         "gateway.latency[1].ms", r"= -1: must be >= 0$"),
]
CROSS_FIELD = ("p95_ms", "p50_ms", "max_ms")
"""The rules across fields (`LatencyRule.check`), which the JSON Schema cannot say."""


@pytest.mark.parametrize(("table", "field", "text"), BAD_TABLES)
def test_bad_tables_name_field_and_value(table, field, text):
    with pytest.raises(FaultConfigError, match=text) as info:
        parse_faults(table, source="f.toml")
    assert info.value.field == field
    assert str(info.value).startswith(f"f.toml: {field} = ")


def test_shorthands_read_as_their_tables():
    table = parse_faults({"gateway": {"reset": 0.2, "errors": [0.1, {"status": 500, "rate": 0.3}],
                                      "ipn": {"duplicate": 0.05}}})
    gateway = table.for_service("gateway")
    assert [r.rate for r in gateway.spec.reset] == [0.2]
    assert [(e.status, e.rate) for e in gateway.spec.errors] == [(503, 0.1), (500, 0.3)]
    assert gateway.ipn.duplicate_rate == 0.05 and gateway.ipn.duplicate_copies == 1
    assert table.for_service("agency").ipn.lost == 0 and not table.for_service("gateway").bank.freeze_active(0)


def test_bad_file_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("seed = \n")
    with pytest.raises(FaultConfigError, match=r"broken.toml: seed = 'seed =': not valid TOML: .*line 1"):
        load_fault_file(path)
    with pytest.raises(FaultConfigError, match=r"missing.toml: \(file\) = '.*missing.toml': fault file not found; "
                                               r"see docs/contracts.md §2"):
        load_fault_file(tmp_path / "missing.toml")
    path.write_text('[gateway]\nerrors = { status = 503, rate = 2 }\n')
    with pytest.raises(FaultConfigError, match=r"broken.toml: gateway.errors.rate = 2: a share must be within 0–1"):
        load_fault_file(path)


def _decisions(seed: int) -> list:
    table = parse_faults({
        "seed": seed,
        "gateway": {"latency": {"kind": "uniform", "min_ms": 1, "max_ms": 9}, "errors": {"status": 500, "rate": 0.3}},
    })
    faults = table.for_service("gateway")
    return [faults.http_action("POST", "/payments") for _ in range(200)]


def test_same_seed_same_faults_other_seed_other_faults():
    assert _decisions(3) == _decisions(3)
    assert _decisions(3) != _decisions(4)
    errors = sum(a.status == 500 for a in _decisions(3))
    assert 35 <= errors <= 85  # 30 % of 200, binomial sd ≈ 6.5
    assert all(0.001 <= a.delay_s <= 0.009 for a in _decisions(3))


def test_keyed_draws_do_not_depend_on_order():
    faults = parse_faults({"seed": 5}).for_service("gateway")
    keys = [f"pay-{i}" for i in range(1000)]
    first = [faults.chance(0.2, key=k, kind="lost") for k in keys]
    again = [faults.chance(0.2, key=k, kind="lost") for k in reversed(keys)][::-1]
    assert first == again
    assert 150 <= sum(first) <= 250
    assert keyed_uniform(5, "a") != keyed_uniform(6, "a")


def test_lognormal_hits_p50_and_p95():
    rng = np.random.default_rng(1)
    draws = np.array([lognormal_ms(rng, 300.0, 1200.0) for _ in range(20_000)])
    assert np.percentile(draws, 50) == pytest.approx(300, rel=0.05)
    assert np.percentile(draws, 95) == pytest.approx(1200, rel=0.06)


def test_services_have_independent_streams():
    table = parse_faults({"seed": 1})
    a = table.for_service("gateway").rng.random(5)
    b = table.for_service("bank").rng.random(5)
    assert not np.allclose(a, b)
    assert np.allclose(a, table.for_service("gateway").rng.random(5))


@given(st.floats(allow_nan=True, allow_infinity=True, width=32), st.sampled_from(["lost", "reorder", "early"]))
def test_any_rate_is_accepted_iff_within_0_and_1(rate, kind):
    table = {"gateway": {"ipn": {kind: rate}}}
    if 0.0 <= rate <= 1.0:
        assert getattr(parse_faults(table).for_service("gateway").ipn, kind) == rate
    else:
        with pytest.raises(FaultConfigError, match=f"gateway.ipn.{kind} = .*(within 0–1|finite).*between 0 and 1"):
            parse_faults(table)


@given(st.floats(1, 5000), st.floats(1, 20))
def test_lognormal_rules_never_give_negative_delays(p50, spread):
    faults = parse_faults({"gateway": {"latency": {"kind": "lognormal", "p50_ms": p50, "p95_ms": p50 * spread}}})
    actions = [faults.for_service("gateway").http_action("GET", "/x") for _ in range(20)]
    assert all(a.delay_s >= 0 and a.status is None for a in actions)


def _published_validator():
    import jsonschema
    from motcua.mock_services.gateway.openapi import OPENAPI

    schema = {**OPENAPI["components"]["schemas"]["FaultTable"], "components": OPENAPI["components"]}
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize(("table", "field", "text"), [t for t in BAD_TABLES if not t[1].endswith(CROSS_FIELD)])
def test_the_published_schema_refuses_what_the_parser_refuses(table, field, text):
    """GET /openapi.json publishes FaultTable generated from the same dataclasses the parser reads."""
    assert list(_published_validator().iter_errors(table)), f"the published FaultTable accepts {table}"


@pytest.mark.parametrize("table", [
    tomllib.loads(CONTRACT_EXAMPLE),
    {"gateway": {"reset": 0.2, "errors": [0.1, {"status": 500, "rate": 0.3}], "ipn": {"duplicate": 0.05}}},
    {"seed": None, "gateway": None, "bank": {"freeze": None, "outage": {"banks": []}}},  # JSON null = left out
])
def test_the_published_schema_accepts_what_the_parser_accepts(table):
    parse_faults(table)
    errors = [e.message for e in _published_validator().iter_errors(table)]
    assert not errors, errors
