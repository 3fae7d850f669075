"""`motcua demo`: what `make demo` runs — the main job on the bundled scenarios, quick settings.

Each step is an ordinary `motcua` command, printed before it runs, so a newcomer can copy it.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time

# (what it shows, the command). Bundled scenarios by name, so the printed commands can be copied from any folder.
DEMO_STEPS: tuple[tuple[str, list[str]], ...] = (
    ("the whole loop on Lạng Sơn 2024 (quick settings): simulation → peak-day demand → load test against the mocks "
     "→ measured callbacks fed back → campaign report",
     ["run", "lang-son-2024", "--quick"]),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the main job on the bundled scenarios with quick settings (what `make demo` does)",
        description=__doc__,
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for number, (what, command) in enumerate(DEMO_STEPS, start=1):
        print(f"\n=== demo step {number}/{len(DEMO_STEPS)}: {what}\n$ motcua {shlex.join(command)}", flush=True)
        started = time.monotonic()
        # Each step is its own `motcua` process, exactly the command printed above.
        code = subprocess.run([sys.executable, "-m", "motcua.cli", *command], check=False).returncode
        print(f"=== step {number} finished in {time.monotonic() - started:.1f} s with exit code {code}", flush=True)
        if code != 0:
            return code
    print("\nDemo complete. The report is the report.html printed above (open it in a browser); "
          "past runs: `motcua results list`; outputs are under results/.")
    return 0
