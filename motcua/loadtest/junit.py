"""JUnit XML of the SLO verdicts and the payment invariant, for CI systems (``--junit FILE``).

One ``<testsuite name="motcua.loadtest.<scenario>">``; each SLO gate and the invariant is a
``<testcase>``; a failed one carries a ``<failure>`` whose message gives limit and measured value, a passing one
the same in its ``<system-out>`` (every verdict carries what was measured).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from motcua.atomic import atomic_open_bytes
from motcua.loadtest.slo import Verdict, format_measure, verdicts_of


def write_junit(
    path: Path,
    scenario: str,
    verdicts: list[Verdict],
    *,
    invariant_ok: bool | None = None,
    invariant_detail: str = "",
    duration_s: float = 0.0,
) -> Path:
    cases = []
    for v in verdicts:
        message = None if v.passed else v.breach()
        text = f"{v.description}: limit {v.op} {format_measure(v.limit, v.unit)}, measured {v.shown()}"
        cases.append((f"slo.{v.name}", message, text))
    if invariant_ok is not None:
        cases.append(("invariant.paid_exactly_once", None if invariant_ok else invariant_detail, invariant_detail))
    suite = ET.Element(
        "testsuite",
        name=f"motcua.loadtest.{scenario}",
        tests=str(len(cases)),
        failures=str(sum(1 for _, failure, _ in cases if failure)),
        errors="0",
        time=f"{duration_s:.3f}",
    )
    for name, failure, text in cases:
        case = ET.SubElement(suite, "testcase", classname=f"motcua.loadtest.{scenario}", name=name, time="0")
        if failure:
            ET.SubElement(
                case, "failure", message=failure, type="SLOBreach" if name.startswith("slo.") else "InvariantBreach"
            ).text = text
        else:
            ET.SubElement(case, "system-out").text = text
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    path = Path(path)
    with atomic_open_bytes(path) as fh:
        ET.ElementTree(root).write(fh, encoding="utf-8", xml_declaration=True)
    return path


def write_summary_junit(
    path: Path, scenario: str, data: Mapping[str, Any], *, invariant_ok: bool, invariant_detail: str
) -> Path:
    """`write_junit` of a load test's summary.json: its SLO verdicts and run time, and the invariant's verdict."""
    return write_junit(
        path,
        scenario,
        verdicts_of(data),
        invariant_ok=invariant_ok,
        invariant_detail=invariant_detail,
        duration_s=data.get("run_seconds", 0.0),
    )
