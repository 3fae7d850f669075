"""Synthetic payers (người nộp): Vietnamese names, CCCD numbers and mobile numbers.

Names come from Faker's ``vi_VN`` word lists, in Vietnamese order (family, middle, given name),
seeded per generator (``seed_instance``), so two generators with the same seed give the same people
and nothing touches Faker's or NumPy's global random state. CCCD numbers have the real structure
(`mock_services.common.ids.make_cccd`): province of birth registration, century/sex digit, birth
year, six random digits. Nobody here is a real person.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from motcua.mock_services.common.ids import PROVINCE_CODES, make_cccd

# Mobile prefixes of the three large networks (Viettel 086/096/097/098/03x, VinaPhone 088/091/094/08x,
# MobiFone 089/090/093/07x); the SIM may or may not be in the payer's own name.
MOBILE_PREFIXES = (
    "086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039",
    "088", "091", "094", "081", "082", "083", "084", "085",
    "089", "090", "093", "070", "076", "077", "078", "079",
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    """A synthetic citizen who pays a fee."""

    name: str
    cccd: str
    phone: str
    female: bool
    birth_year: int
    province: str

    def payer(self) -> dict[str, str]:
        """The ``payer`` object of the agency and gateway APIs: ``{name, cccd, phone}``."""
        return {"name": self.name, "cccd": self.cccd, "phone": self.phone}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class PeopleGenerator:
    """Makes reproducible synthetic payers.

    ``provinces`` are province names from `PROVINCE_CODES` where people were registered at birth;
    birth years are uniform in ``[min_birth_year, max_birth_year]``.
    """

    def __init__(
        self,
        seed: int,
        *,
        provinces: Sequence[str] | None = None,
        min_birth_year: int = 1950,
        max_birth_year: int = 2006,
    ) -> None:
        from faker import Faker  # Faker is slow to import; only users of this class pay for it

        chosen = tuple(provinces) if provinces else tuple(PROVINCE_CODES)
        unknown = [p for p in chosen if p not in PROVINCE_CODES]
        if unknown:
            raise ValueError(f"provinces {unknown!r} have no CCCD code; choose from {', '.join(PROVINCE_CODES)}")
        if not 1900 <= min_birth_year <= max_birth_year <= 2199:
            raise ValueError(
                f"birth years must satisfy 1900 <= min <= max <= 2199, got min={min_birth_year}, max={max_birth_year}"
            )
        self._provinces = chosen
        self._years = (min_birth_year, max_birth_year)
        self._rng = np.random.default_rng(seed)
        self._faker = Faker("vi_VN")
        self._faker.seed_instance(seed)

    def person(self) -> Person:
        """One new payer."""
        female = bool(self._rng.integers(0, 2))
        year = int(self._rng.integers(self._years[0], self._years[1] + 1))
        province = self._provinces[int(self._rng.integers(0, len(self._provinces)))]
        name = self._name(female)
        prefix = MOBILE_PREFIXES[int(self._rng.integers(0, len(MOBILE_PREFIXES)))]
        phone = f"{prefix}{int(self._rng.integers(0, 10_000_000)):07d}"
        cccd = make_cccd(PROVINCE_CODES[province], year, female, self._rng)
        return Person(name=name, cccd=cccd, phone=phone, female=female, birth_year=year, province=province)

    def _name(self, female: bool) -> str:
        # Vietnamese order is family, middle, given name (Faker's vi_VN formats put the given name first).
        given = self._faker.first_name_female() if female else self._faker.first_name_male()
        middle = "Thị" if female and self._rng.random() < 0.5 else self._faker.middle_name()
        return f"{self._faker.last_name()} {middle} {given}"

    def people(self, count: int) -> list[Person]:
        return [self.person() for _ in range(count)]

    def __iter__(self) -> Iterator[Person]:
        while True:
            yield self.person()
