"""The `motcua` command line.

Each sub-command lives in its own module under `motcua.commands`; a module exposes
``register(subparsers)`` which adds its parser and sets ``func`` to the function that runs it.
That function returns 0 when all went well; bad input, unreachable services and breaches (an SLO
gate, the payment invariant, a model's tolerance) are raised as `motcua.errors` exceptions, each
carrying its exit code, and `main` — the one place that catches them — prints the message and returns
the code. Heavy imports stay inside the functions so that `motcua --help` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from motcua import __version__
from motcua.errors import EXIT_CODES, EXIT_INTERNAL, EXIT_INTERRUPTED, MotcuaError

# Sub-command modules, in the order `motcua --help` lists them. A module that does not
# exist yet is skipped, so the command line grows with the project.
COMMAND_MODULES = (
    "motcua.commands.run",
    "motcua.commands.demo",
    "motcua.commands.scenario",
    "motcua.commands.simulate",
    "motcua.commands.calibrate",
    "motcua.commands.sensitivity",
    "motcua.commands.optimise",
    "motcua.commands.validate",
    "motcua.commands.mock",
    "motcua.commands.loadtest",
    "motcua.commands.report",
    "motcua.commands.results",
    "motcua.commands.studio",
)


def _exit_code_epilog() -> str:
    lines = ["exit codes:"] + [f"  {code:>3}  {text}" for code, text in sorted(EXIT_CODES.items())]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="motcua",
        description="Load tests and simulations of online payment of public-service fees.",
        epilog=_exit_code_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"motcua {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    passed = argv[argv.index("--") + 1:] if "--" in argv else None  # `motcua loadtest … -- <Locust options>`
    args = parser.parse_args(argv if passed is None else argv[:argv.index("--")])
    if passed is not None:
        if not hasattr(args, "locust_args"):
            parser.error(f"{args.command or 'motcua'}: options after -- are passed through only by motcua loadtest")
        args.locust_args = passed
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MotcuaError as exc:
        print(f"motcua {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"motcua {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
