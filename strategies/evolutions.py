"""``evolutions(d)`` and ``mutations(d)``: one-step changes of a description, labelled.

A change turns ``d`` (the old version) into a new description; the question
is always the upgrade: can the new version load what the old one saved?

- :func:`evolutions` — changes QEMU's rules call compatible: a field added
  with a version bump, a subsection added (with ``needed``), a field replaced
  by an ``unused_buffer`` of the same wire size, ``version_id`` raised,
  ``minimum_version_id`` lowered, a scalar renamed with identical layout
  (compatible on the legacy wire, reported as a note).
- :func:`mutations` — breaking changes, generated only where they really
  break ``d``: a type widened/narrowed (sizes differ), a sign changed (values
  past the sign bit change meaning: must come out **corrupt**), two same-type
  fields swapped (**corrupt**), fields of different sizes reordered, a field
  removed, a field added without a version bump, an array length changed, a
  variable array's count type changed, a subsection renamed or removed (when
  it can be sent), the minimum raised above the old version (too old), the
  version lowered (too new), a field's version raised, an ``exists`` test
  changed, an ``equal`` field's default changed.

Each value is a :class:`Change` (kind, new description, detail, and the
verdict it must produce: ``expected``; ``None`` means "anything but
compatible"). Example::

    >>> mutations(device("d", 1, uint8("a"), uint8("b"))).example()   # doctest: +SKIP
    Change(kind='fields_swapped', description=..., detail='a <-> b', expected=<Verdict.CORRUPT>)

Shrinking: toward the first applicable change in the order of the tables
below (simple changes of the first fields first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from vmcompat.compat.verdict import Verdict
from vmcompat.errors import InputError
from vmcompat.model import Description, Field, Subsection
from vmcompat.predicates import FALSE, Cmp, Const, Not
from vmcompat.strategies._registry import defines_strategy
from vmcompat.types import COUNT_TYPES, TYPES
from vmcompat.values import immutable, replace


@immutable
class Change:
    """One labelled step: ``before`` → ``description``; ``expected`` verdict of before→after."""

    kind: str
    description: Description
    detail: str
    expected: Verdict | None = Verdict.COMPATIBLE
    before: Description | None = None

    @property
    def breaking(self) -> bool:
        return self.expected is not Verdict.COMPATIBLE


# ----------------------------------------------------------------------------- helpers
def _reads(d: Description) -> set[str]:
    names: set[str] = set()
    for f in d.fields:
        if f.exists is not None:
            names |= f.exists.reads()
    for s in d.subsections:
        if s.needed is not None:
            names |= s.needed.reads()
    return names


def _counts(d: Description) -> set[str]:
    return {f.varray for f in d.fields if f.varray is not None}


def _eligible(d: Description) -> list[tuple[int, Field]]:
    """Top-level fields always on the wire with a fixed, nonzero size, read by nothing."""
    busy = _reads(d) | _counts(d)
    out = []
    for i, f in enumerate(d.fields):
        size = f.wire_size()
        if (f.on_wire and f.in_state and f.exists is None and f.name not in busy
                and size is not None and size > 0):
            out.append((i, f))
    return out


def _with(d: Description, fields: list[Field], **kw: object) -> Description | None:
    try:
        return d.evolve(fields=tuple(fields), **kw)
    except InputError:
        return None


def _replace_field(d: Description, i: int, new: Field | None, **kw: object
                   ) -> Description | None:
    fields = list(d.fields)
    if new is None:
        del fields[i]
    else:
        fields[i] = new
    return _with(d, fields, **kw)


def _int_types(f: Field) -> bool:
    t = f.wire_type
    return t is not None and t.plain and f.type in TYPES


_OTHER_SIZE = {"uint8": "uint16", "uint16": "uint8", "uint32": "uint16", "uint64": "uint32",
               "int8": "int16", "int16": "int8", "int32": "int16", "int64": "int32"}
_WIDER = {"uint8", "uint16", "int8", "int16"}
_FLIP = {"uint8": "int8", "int8": "uint8", "uint16": "int16", "int16": "uint16",
         "uint32": "int32", "int32": "uint32", "uint64": "int64", "int64": "uint64"}


def _unique(d: Description, base: str) -> str:
    names = {f.name for f in d.fields}
    name, k = base, 0
    while name in names:
        k += 1
        name = f"{base}{k}"
    return name


# ----------------------------------------------------------------------------- evolutions
def all_evolutions(d: Description) -> list[Change]:
    """Every compatible one-step change of ``d`` (deterministic order)."""
    v = d.version_id
    out: list[Change] = []

    def add(kind: str, new: Description | None, detail: str) -> None:
        if new is not None:
            out.append(Change(kind, new, detail, Verdict.COMPATIBLE, d))

    added = Field(_unique(d, "added"), "uint16", version_id=v + 1, default=0)
    add("field_added_with_bump", _with(d, [*d.fields, added], version_id=v + 1),
        f"{added.name} (uint16, version {v + 1}) at the end")
    add("field_added_with_bump", _with(d, [added, *d.fields], version_id=v + 1),
        f"{added.name} (uint16, version {v + 1}) first")
    readable = [f for _, f in _eligible(d) if f.is_scalar and not f.is_array]
    sub = Description(f"{d.name}/added", 1, 1, (Field("x", "uint32"),))
    if d.subsection(sub.name) is None:
        needed = Cmp(readable[0].name, "nonzero") if readable else None
        add("subsection_added", d.evolve(subsections=(*d.subsections, Subsection(sub, needed))),
            f"subsection {sub.name} (needed: {needed.to_json() if needed else 'always'})")
    for i, f in _eligible(d):
        n = f.wire_size() or 0
        add("field_to_unused", _replace_field(
            d, i, Field("unused", "unused_buffer", version_id=f.version_id, size=n)),
            f"{f.name} -> unused_buffer({n})")
    add("version_raised", d.evolve(version_id=v + 1), f"version_id {v} -> {v + 1}")
    if d.minimum_version_id > 0:
        m = d.minimum_version_id
        add("minimum_lowered", d.evolve(minimum_version_id=m - 1),
            f"minimum_version_id {m} -> {m - 1}")
    for i, f in _eligible(d):
        if f.is_scalar:
            name = _unique(d, f"{f.name}_renamed")
            add("field_renamed", _replace_field(d, i, replace(f, name=name)),
                f"{f.name} -> {name} (same layout: a rename on the legacy wire)")
    return out


# ----------------------------------------------------------------------------- mutations
_Maker = Callable[[Description], Iterator[Change]]


def _m_types(d: Description) -> Iterator[Change]:
    for i, f in _eligible(d):
        if _int_types(f) and f.type in _OTHER_SIZE:
            t = _OTHER_SIZE[f.type]
            kind = "type_widened" if f.type in _WIDER else "type_narrowed"
            new = _replace_field(d, i, replace(f, type=t, default=None))
            if new is not None:
                yield Change(kind, new, f"{f.name}: {f.type} -> {t}", None, d)


def _m_sign(d: Description) -> Iterator[Change]:
    for i, f in _eligible(d):
        if _int_types(f) and f.type in _FLIP:
            t = _FLIP[f.type]
            new = _replace_field(d, i, replace(f, type=t, default=None))
            if new is not None:
                yield Change("sign_changed", new, f"{f.name}: {f.type} -> {t}", Verdict.CORRUPT, d)


def _m_swap(d: Description) -> Iterator[Change]:
    elig = dict(_eligible(d))
    for i in range(len(d.fields) - 1):
        a, b = elig.get(i), elig.get(i + 1)
        if a is None or b is None:
            continue
        fields = list(d.fields)
        fields[i], fields[i + 1] = b, a
        new = _with(d, fields)
        if new is None:
            continue
        same = (a.type == b.type and a.array_len == b.array_len and a.size == b.size
                and a.struct == b.struct and a.is_scalar
                and (a.wire_type is None or a.wire_type.check is None))
        if same:
            yield Change("fields_swapped", new, f"{a.name} <-> {b.name}", Verdict.CORRUPT, d)
        elif a.wire_size() != b.wire_size():
            yield Change("fields_reordered", new, f"{a.name} <-> {b.name}", None, d)


def _m_remove(d: Description) -> Iterator[Change]:
    for i, f in _eligible(d):
        new = _replace_field(d, i, None)
        if new is not None:
            yield Change("field_removed", new, f"{f.name} removed", None, d)


def _m_add(d: Description) -> Iterator[Change]:
    name = _unique(d, "added")
    for i in (0, len(d.fields)):
        fields = list(d.fields)
        fields.insert(i, Field(name, "uint8"))
        new = _with(d, fields)
        if new is not None:
            yield Change("field_added_no_bump", new, f"{name} (uint8) at {i}, no version bump",
                         None, d)


def _m_array(d: Description) -> Iterator[Change]:
    for i, f in _eligible(d):
        if f.array_len is not None and f.array_len >= 1 and not f.pointer:
            n = f.array_len + 1
            new = _replace_field(d, i, replace(f, array_len=n))
            if new is not None:
                yield Change("array_length_changed", new, f"{f.name}: {f.array_len} -> {n}",
                             None, d)


def _m_count(d: Description) -> Iterator[Change]:
    for i, f in enumerate(d.fields):
        if f.name in _counts(d) and f.exists is None and f.on_wire and not f.is_array:
            t = {"uint8": "uint16", "uint16": "uint8", "uint32": "uint16",
                 "int32": "uint16"}[f.type]
            assert t in COUNT_TYPES
            new = _replace_field(d, i, replace(f, type=t))
            if new is not None:
                yield Change("varray_count_type_changed", new, f"{f.name}: {f.type} -> {t}",
                             None, d)


def _sendable(s: Subsection) -> bool:
    return not (isinstance(s.needed, Const) and not s.needed.value)


def _m_subsections(d: Description) -> Iterator[Change]:
    for k, s in enumerate(d.subsections):
        if not _sendable(s):
            continue
        subs = list(d.subsections)
        name = s.name + "x"
        if d.subsection(name) is None:
            subs[k] = replace(s, description=s.description.evolve(name=name))
            yield Change("subsection_renamed", d.evolve(subsections=tuple(subs)),
                         f"{s.name} -> {name}", Verdict.REFUSED, d)
        rest = tuple(x for x in d.subsections if x is not s)
        yield Change("subsection_removed", d.evolve(subsections=rest), f"{s.name} removed",
                     Verdict.REFUSED, d)


def _m_versions(d: Description) -> Iterator[Change]:
    v = d.version_id
    yield Change("minimum_raised", d.evolve(version_id=v + 1, minimum_version_id=v + 1,
                                            marshal=()),
                 f"minimum_version_id -> {v + 1} (old streams are version {v})",
                 Verdict.REFUSED, d)
    if v >= 1:
        fields = [replace(f, version_id=min(f.version_id, v - 1)) for f in d.fields]
        new = _with(d, fields, version_id=v - 1,
                    minimum_version_id=min(d.minimum_version_id, v - 1))
        if new is not None:
            yield Change("version_lowered", new, f"version_id {v} -> {v - 1}", Verdict.REFUSED, d)
    for i, f in _eligible(d):
        new = _replace_field(d, i, replace(f, version_id=v + 1), version_id=v + 1)
        if new is not None:
            yield Change("field_version_raised", new, f"{f.name}: version {f.version_id} -> "
                                                     f"{v + 1}", None, d)


def _m_exists(d: Description) -> Iterator[Change]:
    for i, f in _eligible(d):
        new = _replace_field(d, i, replace(f, exists=FALSE))
        if new is not None:
            yield Change("exists_changed", new, f"{f.name}: exists -> false", None, d)
    busy = _reads(d) | _counts(d)
    for i, f in enumerate(d.fields):
        size = f.wire_size() if f.exists is None else replace(f, exists=None).wire_size()
        if f.exists is not None and f.on_wire and f.in_state and size and f.name not in busy:
            new = _replace_field(d, i, replace(f, exists=Not(f.exists)))
            if new is not None:
                yield Change("exists_changed", new, f"{f.name}: exists negated", None, d)


def _m_default(d: Description) -> Iterator[Change]:
    for i, f in enumerate(d.fields):
        t = f.wire_type
        if t is None or not f.on_wire or f.exists is not None:
            continue
        new_default = t.stricter(f.default)
        if new_default is None:
            continue
        new = _replace_field(d, i, replace(f, default=new_default))
        if new is not None:
            yield Change("default_changed", new, f"{f.name} ({t.name}): default {f.default} -> "
                                                 f"{new_default}", Verdict.REFUSED, d)


MUTATORS: tuple[_Maker, ...] = (_m_types, _m_sign, _m_swap, _m_remove, _m_add, _m_array,
                                _m_count, _m_subsections, _m_versions, _m_exists, _m_default)

#: every mutation kind this module can produce
MUTATION_KINDS = ("type_widened", "type_narrowed", "sign_changed", "fields_swapped",
                  "fields_reordered", "field_removed", "field_added_no_bump",
                  "array_length_changed", "varray_count_type_changed", "subsection_renamed",
                  "subsection_removed", "minimum_raised", "version_lowered",
                  "field_version_raised", "exists_changed", "default_changed")
EVOLUTION_KINDS = ("field_added_with_bump", "subsection_added", "field_to_unused",
                   "version_raised", "minimum_lowered", "field_renamed")


def all_mutations(d: Description) -> list[Change]:
    """Every breaking one-step change of ``d`` (deterministic order)."""
    return [c for make in MUTATORS for c in make(d)]


@defines_strategy
def evolutions(description: Description) -> SearchStrategy[Change]:
    """A compatible one-step change of ``description`` (see the module doc)."""
    return st.sampled_from(all_evolutions(description))


@defines_strategy
def mutations(description: Description) -> SearchStrategy[Change]:
    """A breaking one-step change of ``description`` (see the module doc)."""
    found = all_mutations(description)
    return st.sampled_from(found) if found else st.nothing()
