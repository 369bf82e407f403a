"""A real section's description pinned to its capture: unknown tests take their captured outcome.

A description imported from QEMU (:mod:`harness.dumps`) knows that a field has a
``field_exists`` test, or a subsection a ``needed`` function, but not what they
compute: they read pseudo-fields (``__test__<field>``, ``__needed__<subsection>``)
that no state holds. Pinned to a captured state, each such test becomes the
constant the capture shows (the field was sent, the subsection was sent), so a
state drawn within the capture's layout saves and loads in that layout.

>>> from harness.dumps import unknown_needed
>>> from harness.model import Description, Field, Subsection
>>> sub = Description("d/s", 1, 1, (Field("x", "uint8"),))
>>> d = Description("d", 1, 1, (Field("a", "uint8"),), (Subsection(sub, unknown_needed("d/s")),))
>>> pin(d, {"a": 1, "__subsections__": {"d/s": {"x": 2}}}).subsections[0].needed
Const(value=True)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.dumps import has_unknown_needed, has_unknown_test
from harness.model import SUBSECTIONS_KEY, Description, Field
from harness.predicates import Const


def _first(value: Any) -> Any:
    """An element's captured state, for the description all elements share."""
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, dict)), {})
    return value


def pin(desc: Description, captured: Any) -> Description:
    """``desc`` with every unknown ``field_exists``/``needed`` outcome as in ``captured``."""
    state = captured if isinstance(captured, dict) else {}
    fields: list[Field] = []
    for f in desc.fields:
        changes: dict[str, Any] = {}
        if has_unknown_test(f):
            changes["exists"] = Const(f.name in state)
        if f.struct is not None:
            changes["struct"] = pin(f.struct, _first(state.get(f.name)))
        fields.append(replace(f, **changes) if changes else f)
    held = state.get(SUBSECTIONS_KEY) or {}
    subs = []
    for s in desc.subsections:
        needed = Const(s.name in held) if has_unknown_needed(s) else s.needed
        subs.append(replace(s, description=pin(s.description, held.get(s.name)), needed=needed))
    return desc.evolve(fields=tuple(fields), subsections=tuple(subs))
