"""``[scenario]`` and ``[simulation]``: what the file is about, the articles it cites, and the simulated period.

*Scenario.* ``[scenario]`` names Lạng Sơn 2024 and lists the articles its observed figures come from
(``[[scenario.sources]]``, cited by id in ``[provenance]``); ``[simulation]`` runs it from the campaign's first
day, 6 June 2024, for 574 days (to the end of 2025), 20 replications from one root seed.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import datetime as dt

from motcua.scenario.common import SLUG
from motcua.typed_config import FieldProblem, check_unique, spec


@dataclasses.dataclass(frozen=True, kw_only=True)
class Source:
    """A source of observed figures: one article (a file of ``shared/seeds/``) with its place and year."""

    id: str = spec("short name that provenance entries cite, e.g. 'lang-son-2024'", pattern=SLUG)
    title: str = spec("title of the article or document")
    place: str = spec("province or body the figures are about, e.g. 'Lạng Sơn'")
    year: int = spec("year of publication", ge=2000, le=2100)
    seed: str | None = spec("file name in shared/seeds/", None)
    url: str | None = spec("web address, when known", None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Meta:
    """Name, title and sources of a scenario."""

    name: str = spec("short name, used for the results folder", pattern=SLUG,
                     pattern_hint="lower-case letters, digits and dashes, e.g. 'lang-son-2024'")
    title: str = spec("one-line title for reports, in Vietnamese (the reports' default language)")
    title_en: str = spec("the title in English, for `--lang en` reports (default: title)", "")
    description: str = spec("what the scenario represents and why", "")
    sources: tuple[Source, ...] = spec("articles the observed figures come from", ())

    def check(self) -> None:
        check_unique([s.id for s in self.sources], "sources", "id")



@dataclasses.dataclass(frozen=True, kw_only=True)
class Simulation:
    """Run settings: the first simulated day, the horizon, replications and seed."""

    start: dt.date = spec("first simulated day (00:00 Asia/Ho_Chi_Minh is minute 0)")
    horizon_days: int = spec("number of simulated days", unit="days", ge=1, le=36600)
    replications: int = spec("independent replications for confidence intervals", 20, ge=1)
    seed: int = spec("root seed of numpy.random.SeedSequence", 20240606, ge=0)
    target_date: dt.date | None = spec("date at which to report the share against the targets", None)

    @property
    def end(self) -> dt.date:
        """The last simulated day."""
        return self.start + dt.timedelta(days=self.horizon_days - 1)

    def check(self) -> None:
        if self.target_date is not None and not self.start <= self.target_date <= self.end:
            raise FieldProblem("target_date", self.target_date.isoformat(),
                               f"outside the simulated period {self.start} – {self.end}")
