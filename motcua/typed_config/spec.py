"""A configuration field's declaration: `spec(...)` gives a dataclass field its doc, unit and bounds.

*Scenario.* A planner writes ``patience_minutes = 60`` in a scenario; the field behind it is declared once as
``spec("mean wait a citizen tolerates …", 60.0, unit="minutes", gt=0)``. `Reader` validates the file against
that declaration and `json_schema` documents it for editors, so the two cannot drift apart. A class's own
``check(self)`` raises `FieldProblem` for rules that span fields.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True, kw_only=True)
class Spec:
    """What a field accepts, beyond its Python type (keyword-only: ``Spec(doc=…, unit="minutes", gt=0)``)."""

    doc: str
    """What the value means, for messages (``required: <doc>``) and the JSON Schema's description."""
    unit: str | None = None
    """The unit, shown after the doc (``[minutes]``) and in "expected a number in <unit>"."""
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    share: bool = False
    """A share within 0–1 (a percentage such as 45 is refused with the hint to write 0.45)."""
    money: bool = False
    """A whole number of VND, 0 ≤ amount ≤ `MAX_VND`."""
    pattern: str | None = None
    pattern_hint: str = ""
    """Said after "does not match <pattern>", e.g. "lower-case letters, digits and dashes"."""
    length: int | None = None
    """The exact number of items of a list."""
    choices: tuple[str, ...] | None = None
    """A set of strings declared elsewhere (a string field whose ``Literal`` would be too long to write)."""
    shorthand: str | None = None
    """A bare number stands for ``{<shorthand> = number}`` (a nested table written as its one field)."""
    one_or_many: bool = False
    """A single table where a list is expected stands for a list of one."""
    hint: str = ""
    """Added to every problem of the field."""


def spec(
    doc: str,
    default: Any = dataclasses.MISSING,
    *,
    default_factory: Any = dataclasses.MISSING,
    unit: str | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    share: bool = False,
    money: bool = False,
    pattern: str | None = None,
    pattern_hint: str = "",
    length: int | None = None,
    choices: tuple[str, ...] | None = None,
    shorthand: str | None = None,
    one_or_many: bool = False,
    hint: str = "",
) -> Any:
    """Declare a configuration field: its documentation, unit and bounds (see `Spec` and `motcua.typed_config`)."""
    meta = {"spec": Spec(doc=doc, unit=unit, ge=ge, gt=gt, le=le, share=share, money=money, pattern=pattern,
                         pattern_hint=pattern_hint, length=length, choices=choices, shorthand=shorthand,
                         one_or_many=one_or_many, hint=hint)}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


def spec_of(field: dataclasses.Field[Any]) -> Spec:
    """The declaration of `field` (an empty one for a field not declared with `spec`)."""
    declared: Spec | None = field.metadata.get("spec")
    return declared or Spec(doc="")


class FieldProblem(Exception):
    """Raised by a ``check`` method: ``field`` is relative to the object being checked."""

    def __init__(self, field: str, value: object, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.value, self.problem = field, value, problem
