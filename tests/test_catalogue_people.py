"""The fee catalogue and the synthetic payers."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from motcua.mock_services.common.catalogue import PAYMENT_GROUPS, CatalogueError, load_fee_catalogue
from motcua.mock_services.common.ids import PROVINCE_CODES, parse_cccd
from motcua.mock_services.common.people import PeopleGenerator


def test_bundled_catalogue_has_the_cited_fees():
    catalogue = load_fee_catalogue()
    assert catalogue["LLTP"].fee_vnd == 200_000 and not catalogue["LLTP"].assumed
    assert catalogue["CTBS"].unit == "page" and catalogue["CTBS"].fee_for(5) == 10_000
    assert catalogue["KHAISINH"].fee_vnd == 0 and "KHAISINH" not in {p.code for p in catalogue.paid()}
    assert catalogue["LLTP"].fee_for(5) == 200_000  # a per-dossier fee ignores the quantity
    assert {p.group for p in catalogue} == set(PAYMENT_GROUPS)
    assert any(p.assumed for p in catalogue) and all(p.source for p in catalogue)
    with pytest.raises(KeyError, match="procedure_code 'NOPE' is not in the fee catalogue"):
        catalogue["NOPE"]


ENTRY = 'code = "X"\nname = "Thủ tục X"\ngroup = "fee"\nfee_vnd = 1000\nassumed = true\nsource = "test"\n'


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[[procedures]\n", r"fees.toml: line 1 = '\[\[procedures\]': not valid TOML: .*line 1"),
        ("[catalogue]\ntitle = 'x'\n", r"fees.toml: procedures = <missing>: required: the procedures, as "),
        ("procedures = []\n[catalogue]\ntitle = 'x'\n", r"fees.toml: procedures = \[\]: no \[\[procedures\]\] entries"),
        ("[[procedures]]\ncode = 'X'\n", r"fees.toml: procedures\[0\].name = <missing>: required: Vietnamese name"),
        ("[[procedures]]\n" + ENTRY.replace('"fee"', '"fees"'),
         r"fees.toml: procedures\[0\].group = 'fees': must be one of fee, tax, insurance, fine, electricity; "
         r"did you mean 'fee'\?$"),
        ("[[procedures]]\n" + ENTRY.replace("1000", "-5"), r"procedures\[0\].fee_vnd = -5: must not be negative$"),
        ("[[procedures]]\n" + ENTRY.replace("1000", "1000.5"),
         r"procedures\[0\].fee_vnd = 1000.5: must be a whole number of VND \(an integer, e.g. 200000\)$"),
        ("[[procedures]]\n" + ENTRY.replace("true", '"yes"'), r"procedures\[0\].assumed = 'yes': expected true or "),
        ("[[procedures]]\n" + ENTRY + "unit = 'sheet'\n", r"unit = 'sheet': must be one of dossier, page$"),
        ("[[procedures]]\n" + ENTRY.replace('"test"', '" "'), r"procedures\[0\].source = ' ': does not match .*: say "),
        ("[[procedures]]\n" + ENTRY + "fees_vnd = 5\n",
         r"procedures\[0\].fees_vnd = 5: unknown key; did you mean 'fee_vnd'\?"),
        ("[[procedures]]\n" + ENTRY + "[[procedures]]\n" + ENTRY,
         r"fees.toml: procedures\[1\].code = 'X': duplicate; each must be unique$"),
    ],
)
def test_bad_catalogue_is_refused_naming_the_entry_and_field(tmp_path, text, match):
    path = tmp_path / "fees.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match=match):
        load_fee_catalogue(path)


def test_missing_catalogue_says_so(tmp_path):
    with pytest.raises(CatalogueError, match=r"fees\.toml: \(file\) = '.*fees.toml': fee catalogue not found; pass "):
        load_fee_catalogue(tmp_path / "fees.toml")


def test_people_are_reproducible_and_leave_global_random_state_alone():
    random.seed(5)
    np.random.seed(5)
    expected_py, expected_np = random.random(), np.random.random()
    random.seed(5)
    np.random.seed(5)
    first = PeopleGenerator(42).people(20)
    assert first == PeopleGenerator(42).people(20)
    assert first != PeopleGenerator(43).people(20)
    assert (random.random(), np.random.random()) == (expected_py, expected_np)


def test_people_have_valid_cccd_phone_and_vietnamese_name_order():
    codes = {code: name for name, code in PROVINCE_CODES.items()}
    for person in PeopleGenerator(7, provinces=["Lạng Sơn", "Sơn La"], min_birth_year=1960).people(200):
        province, year, female = parse_cccd(person.cccd)
        assert (codes[province], year, female) == (person.province, person.birth_year, person.female)
        assert person.province in ("Lạng Sơn", "Sơn La") and 1960 <= year <= 2006
        assert re.fullmatch(r"0\d{9}", person.phone)
        assert len(person.name.split()) >= 3 and person.payer() == {
            "name": person.name, "cccd": person.cccd, "phone": person.phone,
        }  # fmt: skip


def test_people_refuse_unknown_provinces_and_impossible_years():
    with pytest.raises(ValueError, match=r"provinces \['Atlantis'\] have no CCCD code"):
        PeopleGenerator(1, provinces=["Atlantis"])
    with pytest.raises(ValueError, match=r"min=2000, max=1990"):
        PeopleGenerator(1, min_birth_year=2000, max_birth_year=1990)
