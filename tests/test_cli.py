"""The `motcua` command line as a user meets it."""

from __future__ import annotations

import subprocess
import sys

from motcua.cli import main


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


def test_console_script_is_installed():
    proc = subprocess.run(
        [sys.executable, "-m", "motcua.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and proc.stdout.startswith("motcua ")
