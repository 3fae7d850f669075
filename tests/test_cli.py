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
