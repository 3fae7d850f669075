"""Loading scenarios: a file or a bundled scenario's bare name (``lang-son-2024``), and the JSON Schema for editors.

*Scenario.* A planner types ``motcua simulate lang-son-2024``: the bare name means the bundled file, which is
read, validated table by table and across tables, and comes back as one frozen `Scenario` — or as a
`ScenarioError` naming the file, the field path and the value (``2024-12-32`` is an impossible date).
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from motcua.scenario.common import SCENARIO_DIR
from motcua.scenario.document import SCENARIO_FILE, Scenario, scenario_from_dict
from motcua.typed_config import json_schema as _json_schema


def scenario_file(path: str | Path) -> Path:
    """The file a scenario argument names: a path, or a bare name (``lang-son-2024``) of a bundled scenario."""
    path = Path(path)
    if not path.exists() and path.suffix == "" and (SCENARIO_DIR / f"{path}.toml").exists():
        return SCENARIO_DIR / f"{path}.toml"
    return path


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file. A bare name (``lang-son-2024``) means a bundled scenario."""
    path = scenario_file(path)
    hint = "bundled scenarios: " + ", ".join(p.stem for p in bundled_scenarios())
    data = dataclasses.replace(SCENARIO_FILE, hint=hint).read(path)
    return scenario_from_dict(data, file=str(path))


def bundled_scenarios() -> list[Path]:
    """The scenario files shipped in ``scenarios/`` (not the fee catalogue or load-only files)."""
    return sorted(p for p in SCENARIO_DIR.glob("*.toml") if _looks_like_scenario(p))


def _looks_like_scenario(path: Path) -> bool:
    try:
        return "scenario" in tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # let load_scenario report it


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, generated from the tables' declarations (for editors and checks)."""
    schema = _json_schema(Scenario, title="motcua scenario", schema_id="https://motcua.invalid/scenario.schema.json")
    schema["description"] = (
        "A motcua scenario (TOML). Cross-field rules that JSON Schema cannot express — mixes sum to 1, "
        "referenced unit and source ids exist, periods end after they start, dates are real dates — "
        "are checked by `motcua scenario check`."
    )
    return schema
