"""Compile a description version into a plan, once.

A plan is the description's fields at one version, with every run of
consecutive fixed-size scalars (and fixed arrays of them) fused into one
:class:`Run` backed by a single ``struct.Struct``. The walk iterates the plan,
so compilation changes speed, never behaviour; visitors that do not
special-case runs see one ``scalar`` call per element.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from vmcompat.model import Field
from vmcompat.types import TYPES, WireType
from vmcompat.values import immutable

if TYPE_CHECKING:
    from vmcompat.model import Description


@immutable(slots=True)
class Slot:
    """One field inside a run: ``count`` is None for a plain scalar."""

    field: Field
    type: WireType
    count: int | None


@immutable(slots=True)
class Run:
    """Consecutive fixed-size scalar fields as one ``struct.Struct``.

    ``layout`` is what the run puts on the wire, by name: two runs of equal layout
    (of two descriptions) write and read the same values at the same places. ``pins``
    are the fields whose destination value the description alone fixes
    (:meth:`WireType.pinned <vmcompat.types.WireType.pinned>`): (name, that value, count
    or None), in slot order.
    """

    slots: tuple[Slot, ...]
    struct: struct.Struct
    checked: tuple[int, ...]  # indexes of slots with a load check or bool type
    layout: tuple[tuple[str, WireType, int | None], ...]
    pins: tuple[tuple[str, Any, int | None], ...]

    @property
    def size(self) -> int:
        return self.struct.size

    def values(self, state: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        for s in self.slots:
            v = state[s.field.name]
            if s.count is None:
                out.append(v)
            else:
                out.extend(v)
        return out


@immutable(slots=True)
class Step:
    """A field the walk visits on its own (composite, tested, versioned, off-wire)."""

    field: Field


@immutable(slots=True)
class Plan:
    version: int
    steps: tuple[Run | Step, ...]


def _element_type(f: Field) -> tuple[WireType, int | None] | None:
    """The scalar type and count if ``f`` can join a run."""
    if f.exists is not None or not f.on_wire or f.pointer or f.varray is not None:
        return None
    if f.words is not None:
        if f.is_array:
            return None
        return TYPES["uint64"], f.words
    t = TYPES.get(f.type)
    if t is None:
        return None
    return t, f.array_len


def plan_of(desc: Description, version: int | None = None) -> Plan:
    """The compiled plan for loading/saving ``version`` of ``desc`` (cached on ``desc``)."""
    v = desc.version_id if version is None else version
    p = desc._cache.get(("plan", v))
    if p is None:
        p = desc._cache[("plan", v)] = compile_plan(desc, v)
    return p


def compile_plan(desc: Description, version: int) -> Plan:
    steps: list[Run | Step] = []
    pending: list[Slot] = []

    def flush() -> None:
        if pending:
            # a repeat count per array ("1048576B"), never one character per element: the
            # plan costs the same for any array length (bounded by the model's limits)
            fmt = ">" + "".join(s.type.fmt if s.count is None else f"{s.count}{s.type.fmt}"
                                for s in pending)
            checked = tuple(i for i, s in enumerate(pending)
                            if s.type.checked)
            layout = tuple((s.field.name, s.type, s.count) for s in pending)
            pins = tuple((s.field.name, s.type.prior(s.field.default), s.count)
                         for s in pending if s.type.pinned(s.field.default))
            steps.append(Run(tuple(pending), struct.Struct(fmt), checked, layout, pins))
            pending.clear()

    for f in desc.fields:
        if not f.present_at(version):
            continue  # not in streams of this version
        et = _element_type(f)
        if et is not None:
            pending.append(Slot(f, et[0], et[1]))
            continue
        flush()
        steps.append(Step(f))
    flush()
    return Plan(version, tuple(steps))
