"""The one safety net (`motcua.safety`): each breach kind is caught, named, and exits 4 through every caller.

- The invariant itself, on small hand-made records: each of the four breach kinds, and a clean day.
- ``motcua mock --check`` against the real services: lost IPNs without reconciliation break it for real
  (tests/test_mock_cli.py); here every kind, by tampering with the agency's records as read back.
- ``motcua loadtest`` and ``motcua run``: the Locust part is replayed from the shared quick run
  (tests/helpers_run.py) against an in-process fake of the agency's journal, which credits every
  approved payment once; the tamper then makes each kind of breach.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers_fake_agency import FakeAgency
from helpers_run import RUN_ARGS, shared_run

from motcua import safety
from motcua.cli import main
from motcua.errors import EXIT_INVARIANT_BREACH, InvariantBreach, ServiceError
from motcua.safety import AgencyRecords, Charge, Credit

KINDS = tuple(safety.BREACH_KINDS)


def one_kind_by_default(kept: str) -> list[Any]:
    """Every breach kind, all but `kept` marked slow.

    Through ``motcua loadtest`` and ``motcua run`` a breach travels the same way whatever its kind (~30 s a case on a
    busy 2-core machine); each kind is found and named by the invariant itself and by ``motcua mock --check`` in the
    default run, so there one kind per caller shows the exit 4 and the naming; ``make test-all`` runs every kind.
    """
    return [pytest.param(kind, marks=() if kind == kept else pytest.mark.slow) for kind in KINDS]

# ----------------------------------------------------------------------------- the invariant on its own

CHARGES = [
    Charge("P1", "D1", True, 200_000),
    Charge("P2", "D2", True, 50_000),
    Charge("P3", "D3", False),  # declined
    Charge("P4", "D4", None),  # the citizen never learned the bank's answer
]


def honest(charges: list[Charge]) -> dict[str, list[Credit]]:
    """The agency's credits when everything went right: each approved payment once, for the charged amount."""
    return {c.payment_id: [Credit(c.payment_id, c.dossier_code, "payment_confirmed", c.charged_vnd)]
            for c in charges if c.approved}


def tamper(kind: str, charges: list[Charge], credits: dict[str, list[Credit]]) -> dict[str, list[Credit]]:
    """`credits` with one breach of `kind` on the first approved (or declined) payment."""
    credits = {pid: list(cs) for pid, cs in credits.items()}
    first = next(c for c in charges if c.approved and c.payment_id in credits)
    if kind == "lost":
        del credits[first.payment_id]
    elif kind == "credited_twice":
        again = dataclasses.replace(credits[first.payment_id][0], via="paid_by_reconciliation")
        credits[first.payment_id].append(again)
    elif kind == "wrong_amount":
        credits[first.payment_id][0] = dataclasses.replace(credits[first.payment_id][0],
                                                           amount_vnd=(first.charged_vnd or 0) - 1_000)
    else:
        declined = next(c for c in charges if c.approved is False)
        credits[declined.payment_id] = [Credit(declined.payment_id, declined.dossier_code, "payment_confirmed", 1)]
    return credits


def test_a_clean_day_holds_and_counts_the_money():
    credits = honest(CHARGES)
    credits["P4"] = [Credit("P4", "D4", "paid_by_reconciliation", 10_000)]  # unknown answer, paid: not a breach
    verdict = safety.check_invariant(CHARGES, AgencyRecords(credits))
    assert verdict.ok and verdict.breach() is None
    counts = (verdict.bank_approved, verdict.marked_paid, verdict.paid_by_ipn, verdict.paid_by_reconciliation)
    assert counts == (2, 3, 2, 1)
    assert verdict.approved_vnd == 250_000 and verdict.credited_vnd == 260_000 and verdict.paid_unobserved == 1
    assert verdict.recovered == {"P4"}
    assert safety.Verdict.from_dict(verdict.as_dict()).as_dict() == verdict.as_dict()
    assert verdict.describe().startswith("OK: every bank-approved payment paid exactly once, for the amount charged")


@pytest.mark.parametrize("kind", KINDS)
def test_each_breach_kind_is_found_and_named(kind):
    verdict = safety.check_invariant(CHARGES, AgencyRecords(tamper(kind, CHARGES, honest(CHARGES))))
    assert not verdict.ok
    assert {k: b.count for k, b in verdict.breaches.items()} == {k: int(k == kind) for k in KINDS}
    code = "D3" if kind == "without_approval" else "D1"
    assert verdict.as_dict()[kind] == [code] and verdict.as_dict()[f"{kind}_count"] == 1
    with pytest.raises(InvariantBreach, match=re.escape(f"1 {safety.BREACH_KINDS[kind]}: {code}")):
        verdict.raise_if_broken()
    assert safety.Verdict.from_dict(verdict.as_dict()).message() == verdict.message()


def test_a_grown_double_credit_counter_breaks_it_even_when_the_journal_looks_clean():
    verdict = safety.check_invariant(CHARGES, AgencyRecords(honest(CHARGES), double_credits=1))
    assert verdict.breaches["credited_twice"].count == 1 and "per /stats double_credits" in verdict.message()


def test_the_one_percentile_rule_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert safety.nearest_rank(values, 95) == 95.0 and safety.nearest_rank(values, 99.5) == 100.0
    assert safety.nearest_rank([1.0, 2.0], 50) == 1.0  # a value that occurred, not 1.5 (linear would say 1.5)
    assert safety.percentile_summary([3.0, 1.0, 2.0, 10.0]) == {"count": 4, "p50": 2.0, "p95": 10.0, "p99": 10.0}
    assert safety.percentile_summary([]) == {"count": 0, "p50": None, "p95": None, "p99": None}


def test_reconciliation_covers_every_day_touched():
    # 23:59 and 00:01 in Việt Nam (UTC+7) are two days; an approval two days earlier adds its own
    late = 1_717_606_740.0  # 2024-06-05 23:59 +07
    assert safety.days_touched(late, late + 120, [late - 2 * 86_400]) == ["2024-06-03", "2024-06-05", "2024-06-06"]


def test_the_journal_reader_pages_through_and_a_strict_one_never_mistakes_silence_for_loss(fake_agency):
    fake_agency.credit({"approvals": [{"payment_id": f"P{i}", "dossier_code": f"D{i}", "amount_vnd": 1_000 * i,
                                       "approved_at": 1_717_000_000.0 + i} for i in range(1, 26)]})
    reader = safety.JournalReader(fake_agency.url, 3, limit=10)
    events = reader.fetch()
    assert [e["seq"] for e in events] == list(range(4, 26)) and reader.since == 25 and reader.fetch() == []
    records = safety.read_agency(fake_agency.url, 0, {"double_credits": 0})
    assert len(records.credits) == 25 and records.credits["P7"][0].amount_vnd == 7_000
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    lenient = safety.JournalReader(dead, 5, timeout_s=1)
    assert lenient.fetch() == [] and lenient.errors == 1 and lenient.since == 5
    with pytest.raises(ServiceError, match=r"GET http://127\.0\.0\.1:9/events\?since=5&limit=1000 failed"):
        safety.JournalReader(dead, 5, timeout_s=1, strict=True).fetch()


def test_the_safety_net_imports_nothing_above_it():
    """mock_services, the load-test harness and the pipeline all import `motcua.safety`: it may import only the
    standard library and `motcua.errors` (a later import of theirs would make a cycle)."""
    tree = ast.parse(Path(safety.__file__).read_text(encoding="utf-8"))
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names} == {"motcua.errors"}


# ----------------------------------------------------------------------------- tampering through each caller


def tamper_reads(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """From now on the agency's records as `motcua.safety` reads them back carry one breach of `kind`."""
    real = safety.check_invariant

    def tampered(charges, agency: AgencyRecords) -> safety.Verdict:
        charges = list(charges)
        return real(charges, AgencyRecords(tamper(kind, charges, dict(agency.credits)), agency.double_credits))

    monkeypatch.setattr(safety, "check_invariant", tampered)


def expect_breach(code: int, err: str, kind: str, invariant: dict[str, Any]) -> None:
    """Exit 4, the breach named on stderr, and in summary.json that kind once and no other."""
    assert code == EXIT_INVARIANT_BREACH, err
    assert "payment invariant broken" in err and f"1 {safety.BREACH_KINDS[kind]}" in err, err
    assert invariant["ok"] is False
    assert {k: invariant[f"{k}_count"] for k in KINDS} == {k: int(k == kind) for k in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_mock_check_exits_4_naming_each_breach(tmp_path, capsys, monkeypatch, kind):
    faults = tmp_path / "faults.toml"
    faults.write_text("seed = 4\n[bank]\ntoxicity = 0.4\n", encoding="utf-8")  # approvals and declines
    tamper_reads(monkeypatch, kind)
    out = tmp_path / "run"
    code = main(["mock", "--check", "--payments", "10", "--concurrency", "10", "--faults", str(faults),
                 "--time-scale", "0.002", "--seed", "3", "--data-dir", str(tmp_path / "data"), "--out", str(out)])
    captured = capsys.readouterr()
    expect_breach(code, captured.err, kind, json.loads((out / "summary.json").read_text())["invariant"])
    assert "invariant           BROKEN — " in captured.out


def replay_locust(monkeypatch: pytest.MonkeyPatch, recorded: Path, agency: FakeAgency) -> None:
    """Instead of Locust, the recorded run's harness.json and Locust CSVs (with one decline added for sure)."""
    from motcua.loadtest.runner import LocustJob, locust_processes

    def replay(job: LocustJob) -> None:
        harness = json.loads((recorded / "harness.json").read_text(encoding="utf-8"))
        harness["declined"] = [*harness.get("declined", []), ["P-DECLINED", "D-DECLINED"]]
        shutil.copytree(recorded / "locust", job.locust_dir, dirs_exist_ok=True)
        (job.folder / "harness.json").write_text(json.dumps(harness), encoding="utf-8")
        agency.credit(harness)

    monkeypatch.setattr(locust_processes, "run_locust", replay)


@pytest.mark.parametrize("kind", one_kind_by_default("credited_twice"))
def test_loadtest_exits_4_naming_each_breach(tmp_path_factory, tmp_path, capsys, monkeypatch, fake_agency, kind):
    recorded = shared_run(tmp_path_factory)
    replay_locust(monkeypatch, recorded / "loadtest", fake_agency)
    tamper_reads(monkeypatch, kind)
    out, junit = tmp_path / "run", tmp_path / "junit.xml"
    scenario = recorded / "demand" / "scenario-load.toml"
    code = main(["loadtest", str(scenario), "--out", str(out), "--junit", str(junit), *fake_agency.urls()])
    captured = capsys.readouterr()
    expect_breach(code, captured.err, kind, json.loads((out / "summary.json").read_text())["invariant"])
    assert "invariant: BROKEN — " in captured.out
    assert "InvariantBreach" in junit.read_text(encoding="utf-8")


def copy_step(recorded: Path, name: str) -> Callable[[Path, Any], dict[str, Any]]:
    """A pipeline step that copies the recorded run's folder `name` (its manifest entry as recorded)."""
    entry = next(s for s in json.loads((recorded / "manifest.json").read_text())["steps"] if s["name"] == name)

    def step(run_dir: Path, _ctx: Any) -> dict[str, Any]:
        shutil.copytree(recorded / name, Path(run_dir) / name, dirs_exist_ok=True)
        return {k: v for k, v in entry.items() if k not in ("name", "seconds")}

    return step


@pytest.mark.parametrize("kind", one_kind_by_default("lost"))  # lost: the one case that writes the real report
def test_run_exits_4_naming_each_breach_after_writing_the_report(tmp_path_factory, tmp_path, capsys, monkeypatch,
                                                                 fake_agency, kind):
    from motcua import pipeline

    recorded = shared_run(tmp_path_factory)
    replay_locust(monkeypatch, recorded / "loadtest", fake_agency)
    steps = dict(pipeline.STEPS)
    monkeypatch.setattr(pipeline, "STEPS", (("simulate", copy_step(recorded, "simulate")),
                                            ("demand", copy_step(recorded, "demand")),
                                            ("loadtest", steps["loadtest"]),
                                            ("feedback", copy_step(recorded, "feedback"))))
    if kind != "lost":  # the real report (~8 s) once; the other kinds only need to reach the end
        monkeypatch.setattr(pipeline, "step_report", lambda run_dir, _ctx: {"folder": ".", "report": "report.html"})
    tamper_reads(monkeypatch, kind)
    out = tmp_path / "run"
    code = main(["run", "scenarios/lang-son-2024.toml", *RUN_ARGS, "--out", str(out), *fake_agency.urls()])
    captured = capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    expect_breach(code, captured.err, kind, summary["loadtest"]["invariant"])
    assert "invariant: BROKEN — " in captured.out and summary["loadtest"]["invariant_ok"] is False
    if kind == "lost":  # the report was written before the exit, and says so
        assert "Bất biến đối soát BỊ VI PHẠM" in (out / "report.html").read_text(encoding="utf-8")
