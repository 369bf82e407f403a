"""``descriptions()``: random, valid descriptions covering every feature of the model.

Every scalar type of :data:`vmcompat.types.TYPES` (``equal`` and ``le`` ones
with defaults), buffers, unused buffers, bitmaps, nested structs, fixed and
variable arrays (scalar and struct), arrays of pointers, qtailq/qlist with
QEMU's markers, custom marker bytes, a marker field and a zero sentinel, gtrees
with scalar and struct keys, ``exists`` tests, field versions, defaults,
immutable/derived fields, and subsections with ``needed`` predicates.

Example::

    >>> descriptions().example()                          # doctest: +SKIP
    Description(name='dev', version_id=3, minimum_version_id=1, fields=(...), ...)

Shrinking: fewer fields, earlier (simpler) field kinds, version 1, no
subsections — a minimal failing description is a handful of plain scalars.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from vmcompat.model import Description, Field, Marker, Subsection
from vmcompat.predicates import TRUE, Cmp, Predicate
from vmcompat.strategies._registry import defines_strategy
from vmcompat.types import COUNT_TYPES, TYPES

PLAIN = sorted(n for n, t in TYPES.items() if t.check is None)
CHECKED = sorted(n for n, t in TYPES.items() if t.check is not None)

#: field kinds, simplest first (Hypothesis shrinks toward the start)
KINDS = ("scalar", "array", "buffer", "unused", "bitmap", "checked", "exists", "offwire",
         "varray", "pointer", "struct", "struct_array", "struct_varray", "qtailq", "qlist",
         "gtree")
NESTED = ("scalar", "array", "buffer", "checked", "offwire", "unused")


def _small(t: str) -> SearchStrategy[int]:
    wt = TYPES[t]
    return st.integers(max(wt.lo, 0), min(wt.hi, 9))


@st.composite
def _struct(draw: DrawFn, name: str, version: int, depth: int,
            first: Field | None = None) -> Description:
    """A nested description (plain fields only at depth >= 1)."""
    fields: list[Field] = [first] if first is not None else []
    n = draw(st.integers(1, 3))
    for i in range(n):
        fields.extend(draw(_field(f"e{i}", version, depth, fields, NESTED)))
    return Description(name, version, 0, tuple(fields))


def _plain_scalars(fields: list[Field]) -> list[Field]:
    """Fields a predicate may read: earlier plain scalars, no test, not arrays."""
    return [f for f in fields if f.is_scalar and f.exists is None and not f.is_array
            and f.wire_type is not None and f.wire_type.plain]


@st.composite
def _predicate(draw: DrawFn, candidates: list[Field]) -> Predicate:
    if not candidates:
        return TRUE
    f = draw(st.sampled_from(candidates))
    op = draw(st.sampled_from(("nonzero", "zero", "eq", "ne")))
    value = draw(_small(f.type)) if op in ("eq", "ne") else None
    return Cmp(f.name, op, value)


@st.composite
def _field(draw: DrawFn, name: str, version: int, depth: int, before: list[Field],
           kinds: tuple[str, ...] = KINDS) -> list[Field]:
    kind = draw(st.sampled_from(kinds))
    fv = draw(st.integers(0, version)) if depth == 0 else 0
    plain = st.sampled_from(PLAIN)
    if kind == "scalar":
        t = draw(plain)
        default = draw(st.none() | _small(t)) if TYPES[t].integer else None
        return [Field(name, t, version_id=fv, default=default)]
    if kind == "array":
        return [Field(name, draw(plain), version_id=fv, array_len=draw(st.integers(0, 3)))]
    if kind == "buffer":
        return [Field(name, "buffer", version_id=fv, size=draw(st.integers(0, 4)))]
    if kind == "unused":
        return [Field(name, "unused_buffer", version_id=fv, size=draw(st.integers(1, 4)))]
    if kind == "bitmap":
        return [Field(name, "bitmap", version_id=fv, size=draw(st.integers(1, 130)))]
    if kind == "checked":
        t = draw(st.sampled_from(CHECKED))
        return [Field(name, t, version_id=fv, default=draw(st.integers(1, 9)))]
    if kind == "exists":
        pred = draw(_predicate(_plain_scalars(before) + [f for f in before if not f.on_wire
                                                          and f.is_scalar]))
        t = draw(plain)
        default = draw(st.none() | _small(t)) if TYPES[t].integer else None
        return [Field(name, t, version_id=fv, exists=pred, default=default)]
    if kind == "offwire":
        t = draw(st.sampled_from(("uint8", "uint32", "int16")))
        which = draw(st.booleans())
        return [Field(name, t, immutable=which, derived=not which)]
    if kind == "varray":
        ct = draw(st.sampled_from(sorted(COUNT_TYPES)))
        return [Field(f"{name}_n", ct, version_id=fv),
                Field(name, draw(plain), version_id=fv, varray=f"{name}_n")]
    if kind == "pointer":
        elem = draw(st.sampled_from(("scalar", "struct")))
        n = draw(st.integers(1, 3))
        if elem == "struct":
            sub = draw(_struct(f"{name}_t", 1, depth + 1))
            return [Field(name, "struct", version_id=fv, struct=sub, array_len=n, pointer=True)]
        return [Field(name, draw(plain), version_id=fv, array_len=n, pointer=True)]
    if depth >= 1:
        return [Field(name, draw(plain), version_id=fv)]
    sub = draw(_struct(f"{name}_t", draw(st.integers(1, 2)), depth + 1))
    if kind == "struct":
        return [Field(name, "struct", version_id=fv, struct=sub)]
    if kind == "struct_array":
        return [Field(name, "struct", version_id=fv, struct=sub,
                      array_len=draw(st.integers(0, 2)))]
    if kind == "struct_varray":
        return [Field(f"{name}_n", "uint8", version_id=fv),
                Field(name, "struct", version_id=fv, struct=sub, varray=f"{name}_n")]
    if kind in ("qtailq", "qlist"):
        style = draw(st.sampled_from(("qemu", "byte", "field", "sentinel")))
        marker: Marker | None = None
        if style == "byte":
            marker = Marker(more=(42,), end=0)
        elif style == "field":
            marker = Marker(more=(1, 2), end=0, field="m")
            sub = sub.evolve(fields=(Field("m", "uint8", derived=True), *sub.fields))
        elif style == "sentinel":
            marker = Marker(sentinel="num")
            sub = draw(_struct(f"{name}_t", 1, depth + 1, first=Field("num", "uint32")))
        return [Field(name, kind, version_id=fv, struct=sub, marker=marker)]
    key: Any = draw(st.sampled_from(("uint32", "uint8", "struct")))
    if key == "struct":
        key = Description(f"{name}_k", 1, 0, (Field("k", "uint16"), Field("j", "uint8")))
    return [Field(name, "gtree", version_id=fv, struct=sub, key=key)]


@st.composite
def _description(draw: DrawFn, name: str, max_fields: int) -> Description:
    version = draw(st.integers(1, 4))
    minimum = draw(st.integers(0, version))
    fields: list[Field] = []
    for i in range(draw(st.integers(1, max_fields))):
        fields.extend(draw(_field(f"f{i}", version, 0, fields)))
    subs: list[Subsection] = []
    readable = _plain_scalars(fields)
    for i in range(draw(st.integers(0, 2))):
        body = draw(_struct(f"{name}/sub{i}", draw(st.integers(1, 2)), 1))
        needed = draw(st.none() | _predicate(readable))
        subs.append(Subsection(body, needed))
    return Description(name, version, minimum, tuple(fields), tuple(subs))


@defines_strategy
def descriptions(name: str = "dev", max_fields: int = 6) -> SearchStrategy[Description]:
    """Random valid descriptions named ``name`` with up to ``max_fields`` top-level fields.

    Example: ``@given(descriptions())`` then ``@given(st.data())`` to draw
    ``states(desc)``. Shrinks toward one plain scalar field at version 1.
    """
    return _description(name, max_fields)
