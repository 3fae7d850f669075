"""The `motcua` command line as a user meets it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from motcua.cli import main
from motcua.errors import EXIT_CODES


def test_help_lists_exit_codes(capsys):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out and "SLO gate failed" in out


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: motcua" in capsys.readouterr().out


def test_the_installed_console_script_runs_and_prints_the_exit_code_table():
    """The ``motcua`` entry point pip put beside this interpreter (not ``python -m``): it starts, and its help
    lists every exit code of `motcua.errors` with its meaning."""
    script = Path(sys.executable).parent / "motcua"
    assert script.is_file(), f"{script}: no console script; run `make venv` (pip install -e .)"
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False, timeout=60,
                          cwd=Path(sys.executable).parent)
    assert proc.returncode == 0, proc.stderr
    table = proc.stdout.split("exit codes:", 1)[1]
    for code, meaning in EXIT_CODES.items():
        assert re.search(rf"^\s+{code}\s+{re.escape(meaning)}$", table, re.MULTILINE), (code, meaning)


def test_the_exception_tree_of_motcua_errors_holds_every_error_the_command_reports():
    """Every subclass of `MotcuaError` in the code, wherever it is defined, sits in the tree that `motcua.errors`
    draws in its docstring, under its real base class."""
    import motcua.errors

    parent: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in motcua.errors.__doc__.split("::", 1)[1].split("\n\n", 2)[1].splitlines():
        match = re.match(r"^(\s*(?:[│├└─ ]*\s)?)([A-Z]\w+)\s", line + " ")
        assert match, line
        depth, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent[name] = stack[-1][1] if stack else ""
        stack.append((depth, name))
    assert parent["MotcuaError"] == "" and parent["ScenarioError"] == "ConfigError"

    root = Path(__file__).resolve().parents[1]
    sources = subprocess.run(["git", "ls-files", "*.py"], capture_output=True, text=True, check=True,
                             cwd=root).stdout.split()
    defined: dict[str, set[str]] = {}  # class → its bases (a mock service's error may also be a MockServiceError)
    for name in sources:
        if not name.startswith("tests/"):
            text = (root / name).read_text(encoding="utf-8")
            for cls, bases in re.findall(r"^class (\w+)\(([\w, ]+)\):", text, flags=re.MULTILINE):
                defined[cls] = {b.strip() for b in bases.split(",")}
    in_tree = {cls for cls, bases in defined.items() if bases & parent.keys()}
    while True:  # subclasses of subclasses
        more = {cls for cls, bases in defined.items() if bases & in_tree and cls not in in_tree}
        if not more:
            break
        in_tree |= more
    assert {"BankCatalogueError", "FaultConfigError", "CatalogueError", "SLOBreach"} <= in_tree
    misplaced = {cls: (parent.get(cls), sorted(defined[cls])) for cls in in_tree if parent.get(cls) not in defined[cls]}
    assert misplaced == {}
