"""``[citizens]`` and ``[adoption]``: who the citizens are and how they come to pay online.

*Scenario.* 72% of Lạng Sơn's citizens own a smartphone, 45% have a level-2 VNeID; the Generalized Bass
parameters (innovation p, imitation q, the weight of outreach effort) and ``[adoption.behaviour]`` say how
fast barriers fall and adopters lapse. The adoption model (`motcua.models.adoption`) reads these tables.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import datetime as dt

from motcua.typed_config import spec

VNEID_LEVEL2_REQUIRED_FROM = dt.date(2024, 6, 15)
"""From this day a level-2 VNeID identity is required to pay online on the national portal (national rule)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Citizens:
    """Who the citizens are: shares of the population with each trait (barriers and enablers)."""

    smartphone: float = spec("own a smartphone", share=True)
    vneid_level2: float = spec("have a level-2 VNeID electronic identity", share=True)
    rural: float = spec("live in rural communes", share=True)
    ethnic_minority: float = spec("belong to an ethnic minority", share=True)
    good_connectivity: float = spec("have a reliable mobile or fixed Internet link", share=True)
    digital_skill: float = spec("can complete an online form and payment unaided", share=True)
    cash_preference: float = spec("prefer paying cash at the counter", share=True)
    small_fee_sensitivity: float = spec("would not bother paying a small fee online", share=True)
    sim_in_own_name: float = spec("have a SIM card registered in their own name", 0.9, share=True)
    data_leak_fear: float = spec("fear leaking personal data online", 0.2, share=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BehaviourParameters:
    """How citizens react to barriers and levers in the agent model (``[adoption.behaviour]``, optional, each key
    optional): every default is an assumption that no source measures.

    The exceptions are ``vneid_required_from`` (the national rule of 15 June 2024) and ``agents_per_unit`` (a
    run setting). `models.adoption.AdoptionModel` reads this table unless given ``behaviour=``. Rates are per
    year per citizen; a factor multiplies a citizen's relative adoption hazard (1 = no barrier); a lift is the
    share of a barrier that one unit of a lever's intensity removes; shares and probabilities are within 0–1.
    """

    agents_per_unit: int = spec("agents simulated per unit (fewer if the unit has fewer people); one agent stands "
                                "for population / agents of the unit's citizens", 20_000, unit="agents", ge=1)
    initial_awareness: float = spec("share of citizens who know about online payment on the first day", 0.6,
                                    share=True)
    initial_habitual_share: float = spec("share of the first day's adopters who are already habitual", 0.7,
                                         share=True)
    awareness_per_year: float = spec("rate of hearing about online payment from outreach, multiplied by the "
                                     "effort x(t)", 0.4, unit="per year", ge=0)
    awareness_imitation_per_year: float = spec("word of mouth: rate of hearing about it per unit of the commune's "
                                               "adopter share", 1.0, unit="per year", ge=0)
    reach_rural: float = spec("factor at which outreach reaches rural citizens", 0.7, unit="factor", ge=0)
    reach_minority: float = spec("factor at which outreach reaches ethnic-minority citizens (language, distance)",
                                 0.6, unit="factor", ge=0)
    device_per_year: float = spec("rate at which citizens get a smartphone or a usable link on their own", 0.2,
                                  unit="per year", ge=0)
    help_point_per_year: float = spec("device/link gap closed by a post-office help point of intensity 1 that "
                                      "gives no capacity_per_day", 2.0, unit="per year", ge=0)
    team_per_year: float = spec("device/link and identity gaps closed by a community digital team of intensity 1 "
                                "that gives no capacity_per_day", 3.0, unit="per year", ge=0)
    vneid_per_year: float = spec("rate of level-2 VNeID enrolment through the ordinary police rollout", 0.8,
                                 unit="per year", ge=0)
    vneid_drive_per_year: float = spec("identity gap closed by a VNeID drive of intensity 1 that gives no "
                                       "capacity_per_day", 4.0, unit="per year", ge=0)
    unaware_factor: float = spec("relative adoption hazard of a citizen who has not heard of online payment "
                                 "(outreach must reach, convince and equip them in one go)", 0.3,
                                 unit="factor", ge=0, le=1)
    needs_device_factor: float = spec("relative adoption hazard of a citizen without a smartphone or a usable "
                                      "link", 0.3, unit="factor", ge=0, le=1)
    needs_identity_factor: float = spec("relative adoption hazard of a citizen without a level-2 VNeID", 0.5,
                                        unit="factor", ge=0, le=1)
    unskilled_factor: float = spec("relative adoption hazard of a citizen without digital skill", 0.5,
                                   unit="factor", ge=0, le=1)
    skill_lift: float = spec("lever strength: share of the skill barrier removed per unit intensity of community "
                             "digital teams and post-office help points", 0.5, unit="per unit intensity", ge=0, le=1)
    cash_factor: float = spec("relative adoption hazard of a citizen who prefers cash", 0.6, unit="factor",
                              ge=0, le=1)
    small_fee_factor: float = spec("relative adoption hazard of a citizen who would not bother paying a small fee "
                                   "online", 0.7, unit="factor", ge=0, le=1)
    qr_lift: float = spec("lever strength: share of the cash barrier removed per unit intensity of QR payment at "
                          "the counter", 0.6, unit="per unit intensity", ge=0, le=1)
    fee_reduction_lift: float = spec("lever strength: share of the small-fee barrier removed per unit intensity of "
                                     "an online-fee reduction", 0.8, unit="per unit intensity", ge=0, le=1)
    tried_cash_online: float = spec("probability that a cash-preferring citizen who has tried (not yet habitual) "
                                    "pays a dossier online; below 1 the share of dossiers paid online falls below "
                                    "the share of adopters", 1.0, share=True)
    tried_small_fee_online: float = spec("the same for a citizen who would not bother paying a small fee online",
                                         1.0, share=True)
    qr_counter_uptake: float = spec("probability that an able non-adopter pays by QR at a counter that offers it "
                                    "(intensity 1)", 0.2, share=True)
    fully_online_dossier_share: float = spec("share of fee-bearing dossiers that belong to fully-online services "
                                             "(which refuse_in_person_filing pushes online)", 0.6, share=True)
    habitual_lapse_factor: float = spec("a habitual payer lapses after a bad experience with this factor times "
                                        "adoption.lapse_after_bad_experience", 0.5, unit="factor", ge=0, le=1)
    vneid_required_from: dt.date = spec("first day a level-2 VNeID is needed to pay online (national rule)",
                                        VNEID_LEVEL2_REQUIRED_FROM)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AdoptionParams:
    """Generalized Bass parameters: innovation p, imitation q, the weight of outreach effort, trust, behaviour.

    The mean-field share of adopters F follows dF/dt = (p + qF/m)(m − F)·x(t) with m = potential_share and
    effort x(t) = 1 + effort_weight · (sum of the intensities of the `OUTREACH_KINDS` interventions active in
    the unit that day: information_campaign, community_digital_team, post_office_help). Only those three add
    to x(t), in the agent model and in calibration alike; the other levers (counter guidance, QR at the
    counter, online-fee reduction, refusing in-person filing, VNeID drives) act on their own barrier in the
    agent model, with the strengths of ``[adoption.behaviour]`` (`BehaviourParameters`).
    """

    p_per_year: float = spec("innovation coefficient p (adoption without peers)", unit="per year", gt=0)
    q_per_year: float = spec("imitation coefficient q (adoption driven by adopters nearby)", unit="per year", ge=0)
    effort_weight: float = spec("weight of outreach effort in x(t) = 1 + weight · (sum of the intensities of the "
                                "active information_campaign, community_digital_team and post_office_help "
                                "interventions)", 1.0, ge=0)
    potential_share: float = spec("ceiling share of fee-bearing dossiers that can ever be paid online", 0.95,
                                  share=True, gt=0)
    lapse_after_bad_experience: float = spec("probability an adopter lapses after a failed or unconfirmed "
                                             "payment", 0.3, share=True)
    return_after_lapse_per_year: float = spec("rate at which lapsed adopters try again", 0.5, unit="per year", ge=0)
    habit_after_uses: int = spec("successful online payments after which a citizen is habitual", 2, ge=1)
    behaviour: BehaviourParameters = spec("how citizens react to barriers and levers in the agent model (all "
                                          "assumed; defaults in motcua/scenario.py)",
                                          default_factory=BehaviourParameters)
