"""`motcua compare` as a decision (issue 16 item 3): paired differences with intervals, added cost, cost per
point only for an effect distinguishable from zero, contributions that do not add up, ``comparison.html``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from motcua.cli import main
from motcua.compare_decision import (
    NOT_DISTINGUISHABLE,
    cost_per_point,
    decision,
    reach_days_difference,
    shapley,
)
from tests.test_simulate_cli import only_run, variant

QR_AND_TEAMS = '''
[[interventions]]
kind = "qr_at_counter"
name = "QR tại quầy"
name_en = "QR at the counter"
start = 2024-06-20
end = 2024-07-31
units = ["*"]
intensity = 0.5
cost_vnd = 180000000

[[interventions]]
kind = "community_digital_team"
name = "Tổ công nghệ số cộng đồng"
name_en = "Community digital teams"
start = 2024-06-20
end = 2024-07-31
units = ["*"]
intensity = 0.5
cost_vnd = 300000000
'''

TINY_DRIVE = '''
[[interventions]]
kind = "vneid_drive"
name = "Đợt cấp VNeID rất nhỏ"
name_en = "A tiny VNeID drive"
start = 2024-07-30
end = 2024-07-31
units = ["*"]
intensity = 0.001
capacity_per_day = 1
cost_vnd = 100000000
'''


def with_interventions(path: Path, name: str, block: str) -> Path:
    """A copy of the scenario file at `path` named `name`, with the `[[interventions]]` `block` added before
    its first ``[[targets]]``."""
    text = path.read_text(encoding="utf-8").replace(f'name = "{path.stem}"', f'name = "{name}"', 1)
    head, tail = text.split("[[targets]]", 1)
    out = path.parent / f"{name}.toml"
    out.write_text(head + block.strip() + "\n\n[[targets]]" + tail, encoding="utf-8")
    return out


# --- the figures, on synthetic replications ---------------------------------------------------------------------
def test_cost_per_point_only_when_the_effect_is_distinguishable_from_zero():
    assert cost_per_point(480_000_000, {"mean": 0.02, "low": 0.01, "high": 0.03}) == 240_000_000
    assert cost_per_point(480_000_000, {"mean": 0.001, "low": -0.003, "high": 0.005}) == NOT_DISTINGUISHABLE
    assert cost_per_point(480_000_000, {"mean": -0.02, "low": -0.03, "high": -0.01}) is None  # a loss, no price


def test_shapley_splits_the_plan_effect_exactly_and_differs_from_alone_and_left_out():
    values = {frozenset(): 0.0, frozenset({0}): 1.0, frozenset({1}): 2.0, frozenset({0, 1}): 5.0}
    shares = shapley(values, [0, 1])
    assert shares == pytest.approx({0: 2.0, 1: 3.0})
    assert sum(shares.values()) == pytest.approx(values[frozenset({0, 1})])
    # alone: 1 + 2 = 3; left out: (5 − 2) + (5 − 1) = 7; neither is the plan's 5
    three = {frozenset(s): float(len(s) ** 2) for s in ([], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2])}
    assert sum(shapley(three, [0, 1, 2]).values()) == pytest.approx(9.0)


def test_reach_days_difference_counts_censored_replications_at_the_horizon():
    a = np.array([100.0, np.inf, 120.0])
    b = np.array([90.0, 150.0, 100.0])
    out = reach_days_difference(a, b, days=200)
    assert out["mean"] == pytest.approx(((90 - 100) + (150 - 200) + (100 - 120)) / 3, abs=0.01)
    assert out["censored"] == 1 and out["neither"] == 0
    never = reach_days_difference(np.array([np.inf, np.inf]), np.array([np.inf, np.inf]), days=200)
    assert never["neither"] == never["n"] == 2  # said as "not within the horizon by either plan", not "+0 days"


def test_decision_gives_added_cost_in_integer_vnd():
    class Facts:
        def __init__(self, costs, targets=("t",)):
            self.costs, self.targets = costs, targets

    a = {"share_final": np.array([[0.20], [0.21], [0.22]]), "target0_reach_day": np.array([np.inf] * 3),
         "target0_reached": np.zeros(3)}
    b = {"share_final": np.array([[0.25], [0.27], [0.26]]), "target0_reach_day": np.array([150.0, 160.0, 170.0]),
         "target0_reached": np.array([1.0, 1.0, 0.0])}
    out = decision(a, b, Facts([("x", 300_000_000)]), Facts([("x", 300_000_000), ("y", 480_000_000)]), 200)
    assert out["added_cost_vnd"] == 480_000_000 and isinstance(out["added_cost_vnd"], int)
    assert out["effect_distinguishable"] and isinstance(out["cost_per_point_vnd"], int)
    assert out["final_share_points"]["mean"] == pytest.approx(5.0)
    assert out["probability_by_deadline"]["difference"]["mean"] == pytest.approx(2 / 3)


def a_comparison(low: float, uncertainty: str) -> dict:
    """A compare summary of one plan (as `motcua compare` writes it) whose effect interval starts at `low` points."""
    effect = {"mean": 0.2, "low": low, "high": 0.5, "n": 3}
    contributions = {"computed": True, "replications": 2, "subsets": 2, "plan_effect_points": 0.2,
                     "sum_alone_points": 0.2, "sum_left_out_points": 0.2,
                     "interventions": [{"name": "Tổ công nghệ số", "name_en": "Digital teams", "cost_vnd": 300_000_000,
                                        "alone_points": 0.2, "left_out_points": 0.2, "shapley_points": 0.2}]}
    return {"settings": {"replications": 3, "seed": 7, "uncertainty": uncertainty}, "baseline": "ls-base",
            "summaries": [{"scenario": {"name": "ls-base", "title": "Lạng Sơn", "title_en": "Lang Son"}}],
            "differences": [{"scenario": "ls-teams", "baseline": "ls-base", "contributions": contributions,
                             "decision": {"final_share_points": effect, "added_cost_vnd": 300_000_000,
                                          "effect_distinguishable": low > 0,
                                          "cost_per_point_vnd": 1_500_000_000 if low > 0 else NOT_DISTINGUISHABLE}}]}


def test_comparison_page_takes_every_word_from_the_one_text_table(monkeypatch):
    """comparison.html keeps no table of its own: its words are `motcua.report.i18n.TEXTS`' ``cmp_*`` keys and the
    report's shared ones (what an interval covers, "not distinguishable from zero")."""
    import motcua.report.comparison as comparison
    from motcua.report.i18n import TEXTS, text

    assert not hasattr(comparison, "TEXTS")
    vi = comparison.render_comparison(a_comparison(-0.1, "parameters and replications"), {}, "vi")
    en = comparison.render_comparison(a_comparison(0.1, "replications only"), {}, "en")
    assert text("vi", "cmp_title", scenario="Lạng Sơn") in vi and text("en", "cmp_title", scenario="Lang Son") in en
    assert text("vi", "interval_covers", covers=text("vi", "covers_parameters")) in vi
    assert text("en", "interval_covers", covers=text("en", "covers_replications")) in en
    assert vi.count(text("vi", "not_distinguishable")) == 2  # beside the effect and instead of a cost per point
    assert text("en", "not_distinguishable") not in en and "1,500,000,000" in en
    assert "Tổ công nghệ số" in vi and "Digital teams" in en and "Digital teams" not in vi
    for key in ("cmp_contributions", "cmp_shapley", "cmp_cost_per_point", "cmp_figure"):
        assert text("vi", key) in vi and text("en", key) in en
    monkeypatch.setitem(TEXTS["vi"], "cmp_shapley", "Phần Shapley (đã đổi)")
    assert "Phần Shapley (đã đổi)" in comparison.render_comparison(a_comparison(0.1, "replications only"), {}, "vi")


# --- end to end ---------------------------------------------------------------------------------------------------
def test_compare_effect_including_zero_prints_not_distinguishable_and_no_cost_per_point(tmp_path, capsys):
    baseline = variant(tmp_path / "in", "ls-base", campaign=False)
    plan = with_interventions(baseline, "ls-tiny", TINY_DRIVE)
    code = main(["compare", str(baseline), str(plan), "--quick", "--replications", "3", "--workers", "1",
                 "--results-root", str(tmp_path / "out"), "--quiet", "--uncertainty", "replications"])
    assert code == 0
    out = capsys.readouterr().out
    assert NOT_DISTINGUISHABLE in out
    assert "VND per point" not in out
    assert "added cost +100,000,000 VND" in out
    run = only_run(tmp_path / "out", "compare-ls-base-vs-ls-tiny")
    diff = json.loads((run / "summary.json").read_text(encoding="utf-8"))["differences"][0]
    assert diff["decision"]["cost_per_point_vnd"] == NOT_DISTINGUISHABLE
    html = (run / "comparison.html").read_text(encoding="utf-8")
    assert "hiệu quả chưa phân biệt được với 0" in html and '<html lang="vi">' in html  # the report's words


@pytest.mark.slow
def test_compare_plan_with_added_interventions_reports_contributions(tmp_path, capsys):
    baseline = variant(tmp_path / "in", "ls-base")
    plan = with_interventions(baseline, "ls-qr-teams", QR_AND_TEAMS)
    code = main(["compare", str(baseline), str(plan), "--quick", "--replications", "3", "--workers", "1",
                 "--results-root", str(tmp_path / "out"), "--quiet", "--lang", "en"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Shapley" in out and "do not add up" in out
    run = only_run(tmp_path / "out", "compare-ls-base-vs-ls-qr-teams")
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    c = summary["differences"][0]["contributions"]
    assert c["computed"] and c["subsets"] == 4 and len(c["interventions"]) == 2
    assert sum(r["shapley_points"] for r in c["interventions"]) == pytest.approx(c["plan_effect_points"], abs=1e-2)
    assert summary["differences"][0]["decision"]["added_cost_vnd"] == 480_000_000
    assert summary["settings"]["uncertainty"] == "parameters and replications"
    assert '<html lang="en">' in (run / "comparison.html").read_text(encoding="utf-8")
