"""Which assumptions the planner's answer depends on: a global sensitivity analysis of a scenario.

*Scenario.* Nearly every behaviour number of a scenario is marked *assumed* in its ``[provenance]``. A planner
reads three figures: the share paid online at the end, the day the target is reached, and the officer-hours a
day the counters free. Which assumptions move them, and so which should be measured first?

*How.* Every number the simulation reads whose provenance is *assumed* is a factor, varied over the range the
scenario's ``[sensitivity]`` table declares (value × (1 ± r), r = 0.3 unless the table says otherwise, cut to
the field's bounds). Factors that stand for one assumption are moved together as a group: a provenance entry,
and the same field across units (``region.units[*].population``). Morris screening (SALib, elementary effects on
a grid) ranks the groups; Sobol' indices (Saltelli sampling, first and total order) are then estimated for the
few that matter. Every sample point is a replication of the coupled model (`models.coupled`), run through the
replication executors (`models.replications`: processes or Dask) on one common random stream, so differences
between points come from the factors and not from the dice. A target not reached within the horizon gets the day
it would be reached at the pace of the run's last four weeks (`extrapolated_reach_day`; counted in the output).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from motcua.errors import InputError, ScenarioError
from motcua.scenario import Scenario, scenario_from_dict
from motcua.typed_config import get_path, set_path, spec_of, split_path

SIMULATED = ("region.units", "citizens", "adoption", "interventions", "payment_system.failure_rate",
             "payment_system.callback_delay_s", "payment_system.unpaid_notice_after_s")
"""The parts of a scenario that `motcua simulate` reads (load-test settings and SLOs change nothing there)."""
NOT_VARIED = {"agents_per_unit", "cost_vnd", "observed_share", "initial_share", "habit_after_uses", "weekdays",
              "hourly", "weekday_factors", "month_factors"}
"""Numbers that are run settings, money, observed, fitted, calendars or counts of uses: never varied."""
OUTPUTS = ("final_share", "target_day", "hours_freed")
OUTPUT_LABELS = {"final_share": "final share paid online", "target_day": "day the target is reached",
                 "hours_freed": "officer-hours freed per open day"}


@dataclasses.dataclass(frozen=True)
class Factor:
    """One assumed number: where it is, its value, its range, and the group (assumption) it belongs to."""

    path: str
    group: str
    base: float
    low: float
    high: float
    integer: bool
    why: str

    def value(self, u: float) -> float:
        """The value at position `u` ∈ [0, 1] of the range."""
        v = self.low + u * (self.high - self.low)
        return float(round(v)) if self.integer else v


def _leaves(node: Any, path: str) -> list[tuple[str, float]]:
    """Every numeric leaf under `node` (a plain-data dict or list) with its dotted path."""
    if isinstance(node, bool):
        return []
    if isinstance(node, int | float):
        return [(path, float(node))]
    if isinstance(node, dict):
        return [leaf for key, value in node.items() if key not in NOT_VARIED
                for leaf in _leaves(value, f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][\w-]*", str(key))
                                    else f'{path}."{key}"')]
    if isinstance(node, list):
        out = []
        for i, item in enumerate(node):
            key = f"[{item['id']}]" if isinstance(item, dict) and "id" in item else f"[{i}]"
            out += _leaves(item, path + key)
        return out
    return []


def _covers(key: str, path: str) -> bool:
    return path == key or path.startswith(key + ".") or path.startswith(key + "[")


def _provenance(scenario: Scenario, path: str) -> tuple[str, str] | None:
    """The most specific provenance entry covering `path`: (key, text)."""
    keys = [k.strip('"') for k in scenario.provenance]
    covering = [k for k in keys if _covers(k, path)]
    if not covering:
        return None
    key = max(covering, key=len)
    text = scenario.provenance.get(key) or scenario.provenance.get(f'"{key}"', "")
    return key, text


def _bounds(scenario: Scenario, path: str) -> tuple[float, float]:
    """The field's own bounds (from its declaration in `motcua.scenario`), or (-inf, inf)."""
    node: Any = scenario
    found = None
    for token in split_path(path):
        if isinstance(token, int):
            node = node[token]
        elif token.startswith("["):
            node = next(x for x in node if getattr(x, "id", None) == token[1:] or getattr(x, "code", None) == token[1:])
        elif dataclasses.is_dataclass(node):
            field = {f.name: f for f in dataclasses.fields(node)}[token]
            found = spec_of(field)
            node = getattr(node, token)
        elif isinstance(node, dict):
            node = node[token]
    if found is None:
        return -math.inf, math.inf
    low = found.ge if found.ge is not None else (found.gt * (1 + 1e-6) + 1e-9 if found.gt is not None else -math.inf)
    high = found.le if found.le is not None else math.inf
    if found.share:
        low, high = max(low, 0.0), min(high, 1.0)
    return low, high


def assumed_factors(scenario: Scenario, *, by_entry: bool = False) -> list[Factor]:
    """Every number the simulation reads whose provenance is *assumed*, with its range and group.

    A group is the field (the same field across units counts once); with ``by_entry`` it is the provenance entry,
    so that a whole section marked assumed (``citizens``) moves as one assumption (fewer runs: ``--quick``).
    """
    data = scenario.to_dict()
    ranges = scenario.sensitivity
    factors = []
    for part in SIMULATED:
        try:
            node = get_path(data, part)
        except (KeyError, ValueError, IndexError):
            continue
        for path, value in _leaves(node, part):
            entry = _provenance(scenario, path)
            if entry is None or not entry[1].startswith("assumed"):
                continue
            key, why = entry
            relative = next((ranges.relative[k] for k in sorted(ranges.relative, key=len, reverse=True)
                             if _covers(k.strip('"'), path)), ranges.default_relative)
            if relative == 0 or value == 0:
                continue
            low, high = _bounds(scenario, path)
            lo, hi = sorted((value * (1 - relative), value * (1 + relative)))
            lo, hi = max(lo, low), min(hi, high)
            integer = isinstance(get_path(data, path), int)
            if hi <= lo or (integer and round(hi) == round(lo)):
                continue
            group = re.sub(r"^region\.units\[[^\]]+\]", "region.units[*]", key)
            if not by_entry and group == key and key != path and key.count(".") == 0:
                group = path  # a whole section marked assumed: each of its numbers is its own assumption
            group = re.sub(r"^region\.units\[[^\]]+\]", "region.units[*]", group)
            factors.append(Factor(path, group, value, lo, hi, integer, why))
    if not factors:
        raise InputError(f"{scenario.file}: no number marked 'assumed:' in [provenance] is read by the simulation; "
                         "nothing to vary (mark assumptions in [provenance], or widen [sensitivity].relative)")
    return factors


def perturbed(scenario: Scenario, factors: Sequence[Factor], u: np.ndarray) -> Scenario:
    """`scenario` with each factor at position u[i] of its range (u = NaN: the scenario's own value)."""
    data = scenario.to_dict()
    for factor, position in zip(factors, u, strict=True):
        if not math.isnan(position):
            value = factor.value(float(position))
            set_path(data, factor.path, int(value) if factor.integer else value)
    try:
        return scenario_from_dict(data, file=scenario.file)
    except ScenarioError as exc:
        raise InputError(f"sensitivity: a sample point is not a valid scenario ({exc}); narrow the range of the "
                         "field it names in [sensitivity.relative]") from None


# --- running sample points ---------------------------------------------------------------------------


def point_outputs(scenario: Scenario, seed: np.random.SeedSequence, quick: bool) -> np.ndarray:
    """(final share, target day, officer-hours freed per open day) of one replication of `scenario`."""
    from motcua.models.coupled import run_replication
    from motcua.models.figures import replication_figures, scenario_facts

    result = run_replication(scenario, seed, quick=quick)
    figures = replication_figures([result], scenario_facts(scenario))
    reach = figures.get("target0_reach_day", np.array([math.nan]))[0]
    if np.isinf(reach):
        reach = -extrapolated_reach_day(figures["share_daily"][0, :, 0], scenario.targets[0].share)
    return np.array([figures["share_final"][0, 0], reach, figures["hours_freed_per_open_day"][0, 0]])


EXTRAPOLATION_DAYS = 28
"""A target not reached within the horizon: its day is extrapolated from the pace of the last 28 days."""


def extrapolated_reach_day(share: np.ndarray, target: float) -> float:
    """The day the all-units share would reach `target` at the pace of its last `EXTRAPOLATION_DAYS` (a run that
    stopped short of it); capped at ten horizons when the share does not rise."""
    days = len(share)
    window = min(EXTRAPOLATION_DAYS, days - 1)
    pace = (share[-1] - share[-1 - window]) / window if window > 0 else 0.0
    cap = 10.0 * days
    return float(min(days - 1 + (target - share[-1]) / pace, cap)) if pace > 0 else cap


def run_points(scenario: Scenario, factors: Sequence[Factor], positions: np.ndarray, *, seed: int, quick: bool,
               executor: Any = None) -> np.ndarray:
    """(points, outputs) for every row of `positions`, each a replication on the same random stream."""
    from motcua.models.coupled import quick_scenario
    from motcua.models.replications import map_replications, spawn_seeds

    base = quick_scenario(scenario) if quick else scenario
    stream = spawn_seeds(seed, 1)[0]
    tasks = [(perturbed(base, factors, row), stream, False) for row in positions]
    return np.array(map_replications(point_outputs, tasks, executor=executor, description="sensitivity points"))


# --- the analysis --------------------------------------------------------------------------------


@dataclasses.dataclass
class Sensitivity:
    """Morris screening of every assumption group, Sobol' indices of the top ones, and a tornado per output."""

    factors: list[Factor]
    groups: list[str]
    base: np.ndarray
    """(outputs,) the three figures at the scenario's own values."""
    morris: dict[str, dict[str, list[float]]]
    """output → {"mu_star", "sigma", "mu_star_conf"} per group (in `groups` order)."""
    top: list[str]
    sobol: dict[str, dict[str, list[float]]]
    """output → {"S1", "ST", "ST_conf"} per top group (in `top` order)."""
    tornado: dict[str, list[tuple[float, float]]]
    """output → (value at the low end, at the high end) per top group, the others at the scenario's values."""
    runs: int
    horizon_days: int
    censored: int
    """Sample points whose target was not reached within the horizon."""

    def ranking(self) -> list[str]:
        """Top groups by their largest total Sobol' index over the outputs."""
        score = {g: max(self.sobol[o]["ST"][i] for o in OUTPUTS if _finite(self.sobol[o]["ST"][i]))
                 if any(_finite(self.sobol[o]["ST"][i]) for o in OUTPUTS) else 0.0 for i, g in enumerate(self.top)}
        return sorted(self.top, key=lambda g: -score[g])

    def summary(self) -> dict[str, Any]:
        return {
            "schema": "motcua.sensitivity/1",
            "outputs": list(OUTPUTS),
            "output_labels": OUTPUT_LABELS,
            "base": dict(zip(OUTPUTS, map(float, self.base), strict=True)),
            "factors": [dataclasses.asdict(f) for f in self.factors],
            "groups": self.groups,
            "morris": self.morris,
            "top": self.top,
            "ranking": self.ranking(),
            "sobol": self.sobol,
            "tornado": {o: [list(t) for t in v] for o, v in self.tornado.items()},
            "runs": self.runs,
            "horizon_days": self.horizon_days,
            "censored_target_days": self.censored,
            "data_to_pin_down": {g: what_data(g) for g in self.top},
        }


def _finite(x: float) -> bool:
    return x is not None and math.isfinite(x)


def analyse(scenario: Scenario, *, trajectories: int = 2, sobol_n: int = 8, top: int = 3, seed: int | None = None,
            quick: bool = False, by_entry: bool | None = None, executor: Any = None,
            evaluate: Callable[[list[Factor], np.ndarray], np.ndarray] | None = None) -> Sensitivity:
    """Morris screening of every assumed group, then Sobol' indices of the `top` groups (see the module doc).

    ``evaluate(factors, positions)`` replaces the coupled model (tests): (points, outputs) for rows of positions
    in [0, 1] (NaN: the scenario's own value).
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if trajectories < 2:
        raise InputError(f"--trajectories {trajectories}: Morris needs at least 2 (e.g. 4)")
    if sobol_n < 2 or sobol_n & (sobol_n - 1):
        raise InputError(f"--sobol-samples {sobol_n}: must be a power of 2 (e.g. 8, 64)")
    seed = scenario.simulation.seed if seed is None else seed
    factors = assumed_factors(scenario, by_entry=quick if by_entry is None else by_entry)
    groups = list(dict.fromkeys(f.group for f in factors))

    def run(positions: np.ndarray) -> np.ndarray:
        if evaluate is not None:
            return np.asarray(evaluate(factors, positions), dtype=float)
        return run_points(scenario, factors, positions, seed=seed, quick=quick, executor=executor)

    def unsigned(y: np.ndarray) -> np.ndarray:
        """The target days with their sign dropped (a negative day marks an extrapolated one)."""
        out = y.copy()
        out[:, 1] = np.abs(out[:, 1])
        return out

    problem = {"num_vars": len(factors), "names": [f.path for f in factors], "bounds": [[0.0, 1.0]] * len(factors),
               "groups": [f.group for f in factors]}
    x_morris = morris_sample.sample(problem, trajectories, num_levels=4, seed=seed % (2**32))
    y_all = run(np.vstack([np.full((1, len(factors)), np.nan), x_morris]))
    base, y_morris = unsigned(y_all)[0], unsigned(y_all)[1:]
    morris: dict[str, dict[str, list[float]]] = {}
    scores = np.zeros(len(groups))
    for k, name in enumerate(OUTPUTS):
        res = morris_analyze.analyze(problem, x_morris, y_morris[:, k], num_levels=4, seed=seed % (2**32))
        order = [list(res["names"]).index(g) for g in groups]
        morris[name] = {key: [_num(res[key][i]) for i in order] for key in ("mu_star", "sigma", "mu_star_conf")}
        spread = float(np.std(y_morris[:, k])) or 1.0
        scores = np.maximum(scores, np.nan_to_num(np.array(morris[name]["mu_star"])) / spread)
    chosen = [groups[i] for i in np.argsort(-scores)[:top]]
    members = [i for i, f in enumerate(factors) if f.group in chosen]
    sub = {"num_vars": len(members), "names": [factors[i].path for i in members],
           "bounds": [[0.0, 1.0]] * len(members), "groups": [factors[i].group for i in members]}
    x_sobol = sobol_sample.sample(sub, sobol_n, calc_second_order=False, seed=seed % (2**32))
    full = np.full((len(x_sobol), len(factors)), np.nan)
    full[:, members] = x_sobol
    corners = []
    for g in chosen:
        for end in (0.0, 1.0):
            row = np.full(len(factors), np.nan)
            row[[i for i, f in enumerate(factors) if f.group == g]] = end
            corners.append(row)
    y_rest = run(np.vstack([full, np.array(corners)]))
    y_sobol, y_corners = unsigned(y_rest)[: len(x_sobol)], unsigned(y_rest)[len(x_sobol):]
    sobol: dict[str, dict[str, list[float]]] = {}
    tornado: dict[str, list[tuple[float, float]]] = {}
    for k, name in enumerate(OUTPUTS):
        if np.ptp(y_sobol[:, k]) == 0:
            sobol[name] = {key: [0.0] * len(chosen) for key in ("S1", "ST", "ST_conf")}
        else:
            res = sobol_analyze.analyze(sub, y_sobol[:, k], calc_second_order=False, seed=seed % (2**32))
            unique = list(dict.fromkeys(factors[i].group for i in members))  # SALib: order of first appearance
            order = [unique.index(g) for g in chosen]
            sobol[name] = {key: [_num(res[key][i]) for i in order] for key in ("S1", "ST", "ST_conf")}
        tornado[name] = [(float(y_corners[2 * j, k]), float(y_corners[2 * j + 1, k])) for j in range(len(chosen))]
    days = (quick_horizon(scenario) if quick else scenario.simulation.horizon_days)
    censored = int(np.sum(y_all[:, 1] < 0) + np.sum(y_rest[:, 1] < 0))
    return Sensitivity(factors, groups, base, morris, chosen, sobol, tornado, len(y_all) + len(y_rest), days,
                       censored)


def quick_horizon(scenario: Scenario) -> int:
    from motcua.models.coupled import quick_horizon as horizon

    return horizon(scenario)


def _num(x: Any) -> float:
    v = float(x)
    return v if math.isfinite(v) else float("nan")


# --- what data would pin an assumption down ---------------------------------------------------------

_DATA = (
    ("population", "the unit's population from the provincial statistics yearbook (niên giám thống kê)",
     "dân số của đơn vị theo niên giám thống kê tỉnh"),
    ("fee_dossiers_per_year", "a year's count of fee-bearing dossiers from the unit's dossier system",
     "số hồ sơ có thu phí trong một năm, lấy từ hệ thống một cửa điện tử của đơn vị"),
    ("communes", "the list of communes and wards of the unit (administrative data)",
     "danh sách xã, phường của đơn vị (số liệu hành chính)"),
    ("counters", "the one-stop shop's staffing roster and a week's counts of visitors who come only for help",
     "lịch trực của bộ phận một cửa và số người đến chỉ để được hướng dẫn trong một tuần"),
    ("citizens", "a household survey of smartphones, connectivity, VNeID level 2 and digital skills",
     "khảo sát hộ gia đình về điện thoại thông minh, kết nối, VNeID mức 2 và kỹ năng số"),
    ("awareness", "a survey question: have you heard that fees can be paid online?",
     "câu hỏi khảo sát: ông/bà có biết có thể nộp phí trực tuyến không?"),
    ("vneid", "the police's monthly count of level-2 VNeID activations in the province",
     "số tài khoản VNeID mức 2 được kích hoạt hằng tháng do công an tỉnh cung cấp"),
    ("interventions", "the campaign's activity log: teams and help points deployed, citizens helped per day",
     "nhật ký hoạt động của chiến dịch: số tổ, điểm hỗ trợ và số người được hỗ trợ mỗi ngày"),
    ("payment_system", "the payment gateway's logs of failed charges and callback delays",
     "nhật ký cổng thanh toán về giao dịch lỗi và độ trễ thông báo kết quả"),
    ("lapse", "a follow-up of payers after a failed payment: how many pay online again",
     "theo dõi người nộp sau một lần thanh toán lỗi: bao nhiêu người quay lại nộp trực tuyến"),
    ("potential_share", "a survey question: would you pay fees online if it were easy? and the share reached "
     "in the communes furthest ahead, as a ceiling",
     "câu hỏi khảo sát: ông/bà có nộp phí trực tuyến nếu thuận tiện không? và tỷ lệ đã đạt ở các xã đi đầu, làm mức "
     "trần"),
    ("adoption", "monthly online-payment shares per unit from the payment platform, to calibrate",
     "tỷ lệ thanh toán trực tuyến hằng tháng theo đơn vị từ nền tảng thanh toán, để hiệu chỉnh"),
)


def what_data(group: str, lang: str = "en") -> str:
    """One sentence: what measurement would pin the assumption `group` down."""
    for key, en, vi in _DATA:
        if key in group:
            return vi if lang == "vi" else en
    return ("một phép đo trực tiếp của " if lang == "vi" else "a direct measurement of ") + group
