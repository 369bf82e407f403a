"""A real section's description whose unknown tests are decided by what a state holds.

A description imported from QEMU (:mod:`vmcompat.dumps`) knows that a field has a
``field_exists`` test, or a subsection a ``needed`` function, but not what they
compute: they read pseudo-fields (``__test__<field>``, ``__needed__<subsection>``)
that no state holds. States drawn near a capture hold exactly the fields and
subsections the capture holds (each element of an array its own), so here each
such test becomes :class:`Holds`: the field is sent, the subsection is sent, when
the state holds it — the capture's outcome, element by element.

>>> from vmcompat.dumps import unknown_needed
>>> from vmcompat.model import Description, Field, Subsection
>>> sub = Description("d/s", 1, 1, (Field("x", "uint8"),))
>>> d = pin(Description("d", 1, 1, (Field("a", "uint8"),),
...                     (Subsection(sub, unknown_needed("d/s")),)))
>>> d.subsections[0].is_needed({"a": 1, "__subsections__": {"d/s": {"x": 2}}})
True
>>> d.subsections[0].is_needed({"a": 1})
False
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vmcompat.dumps import has_unknown_needed, has_unknown_test
from vmcompat.model import SUBSECTIONS_KEY, Description, Field
from vmcompat.predicates import Predicate
from vmcompat.values import immutable, replace


@immutable(slots=True)
class Holds(Predicate):
    """The state holds field ``name`` (``subsection``: holds that subsection)."""

    name: str
    subsection: bool = False

    def __call__(self, state: Mapping[str, Any]) -> bool:
        if self.subsection:
            held = state.get(SUBSECTIONS_KEY)
            return isinstance(held, Mapping) and self.name in held
        return self.name in state

    def to_json(self) -> Any:
        return {"holds": self.name, "subsection": self.subsection}


def pin(desc: Description) -> Description:
    """``desc`` with every unknown ``field_exists``/``needed`` decided by the state."""
    fields: list[Field] = []
    for f in desc.fields:
        changes: dict[str, Any] = {}
        if has_unknown_test(f):
            changes["exists"] = Holds(f.name)
        if f.struct is not None:
            changes["struct"] = pin(f.struct)
        fields.append(replace(f, **changes) if changes else f)
    subs = [replace(s, description=pin(s.description),
                    needed=Holds(s.name, subsection=True) if has_unknown_needed(s) else s.needed)
            for s in desc.subsections]
    return desc.evolve(fields=tuple(fields), subsections=tuple(subs))
