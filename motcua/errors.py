"""Exceptions of the motcua package and the exit codes of the `motcua` command.

Hierarchy (every exception the `motcua` command reports)::

    MotcuaError                     base; exit code EXIT_BAD_INPUT unless a subclass says otherwise
    ├── InputError                  a file, field or value given by the user is wrong
    │   ├── UnsafeName              a name from a studio page that could leave its folder (motcua.studio.guard)
    │   └── ConfigError             a configuration file does not satisfy its schema (motcua.typed_config)
    │       ├── ScenarioError       … a scenario file
    │       ├── BankCatalogueError  … the bank catalogue (motcua.payment_platform.BANK_CATALOGUE)
    │       ├── FaultConfigError    … a fault file or fault table (defined in motcua.mock_services.errors)
    │       └── CatalogueError      … the fee catalogue (defined in motcua.mock_services.errors)
    ├── ServiceError                a mock service (or a real system) could not be started or reached
    ├── SLOBreach                   a load test finished but broke a service-level objective
    ├── InvariantBreach             the payment invariant broke: lost, twice, wrong amount, without approval
    └── ToleranceExceeded           a model disagrees with theory beyond the tolerance

Each message names the file, field and value at fault and, where it can, the fix. Breaches and errors
are raised, never returned: the command line (`motcua.cli.main`) catches them in one place and exits
with their ``exit_code``.

Outside the tree, because they never reach the command line: `motcua.typed_config.FieldProblem` (a
table's ``check`` names a problem; `Reader` raises it as the file kind's `ConfigError` with the field
path), and the load test's control flow inside Locust (`CallbackLost` of `motcua.loadtest`, `JourneyFailed`
and `Restart` of the citizen's journey), which Locust counts as failures. The mock services' own
exceptions (HTTP answers, signatures, ids, money) have their tree in `motcua.mock_services.errors`.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_SLO_BREACH = 3
EXIT_INVARIANT_BREACH = 4
EXIT_TOLERANCE = 5
EXIT_SERVICE = 6
EXIT_INTERRUPTED = 130

EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_INTERNAL: "unexpected internal error (a bug: please report it with the traceback)",
    EXIT_BAD_INPUT: "bad input: a file, field or value is wrong (the message names it)",
    EXIT_SLO_BREACH: "the load test ran but at least one SLO gate failed",
    EXIT_INVARIANT_BREACH: "the payment invariant broke: a payment lost, credited twice, for a wrong amount or "
    "without a bank approval",
    EXIT_TOLERANCE: "a model disagrees with its closed-form theory beyond the tolerance",
    EXIT_SERVICE: "a service could not be started or reached",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C / SIGTERM); everything started was stopped",
}


class MotcuaError(Exception):
    """Base of every error the `motcua` command reports without a traceback."""

    exit_code = EXIT_BAD_INPUT


class InputError(MotcuaError):
    """A file, field or value given by the user is wrong."""


class ConfigError(InputError):
    """A configuration file does not satisfy its schema: ``"<file>: <field path> = <value>: <problem>"``.

    Every configuration file kind (scenario, faults, banks, fee catalogue, ``mock --config``) raises this or a
    subclass of it through `motcua.typed_config`, so all of them report a problem the same way.
    """

    def __init__(self, file: str, field: str, value: object, problem: str) -> None:
        self.file, self.field, self.value, self.problem = file, field, value, problem
        super().__init__(f"{file}: {field} = {value!r}: {problem}")


class ScenarioError(ConfigError):
    """A scenario file does not satisfy the schema."""


class BankCatalogueError(ConfigError):
    """The bank catalogue file is wrong; names the file, the field and the value."""


class ServiceError(MotcuaError):
    """A mock service (or a real system) could not be started or reached."""

    exit_code = EXIT_SERVICE


class SLOBreach(MotcuaError):
    """A load test finished but broke at least one service-level objective."""

    exit_code = EXIT_SLO_BREACH


class InvariantBreach(MotcuaError):
    """The payment invariant broke (`motcua.safety`): lost, credited twice, wrong amount, or without approval."""

    exit_code = EXIT_INVARIANT_BREACH


class ToleranceExceeded(MotcuaError):
    """A model disagrees with its closed-form theory beyond the tolerance."""

    exit_code = EXIT_TOLERANCE
