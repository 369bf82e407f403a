"""Deterministic, readable, valid sample states for any description.

:func:`sample_state` walks a description once (it is a visitor of
:mod:`vmcompat.walk`, like every codec) and derives each value from the field's
path, so the same description always gives the same state and a value tells
where it came from. Goldens and known-answer tests reuse it.

Rules, chosen so that the state is valid and exercises the description:

* a field that an ``eq`` test of its struct (an ``exists`` test or a
  subsection's ``needed``) compares takes the compared value, so that the
  tested fields are present;
* other integers are a stable hash of the dotted path, never zero (a zero would end
  a sentinel-terminated list), small for signed types so that ``int32 le``
  checks hold; ``equal`` and ``le`` fields with a ``default`` take the default
  (the value the destination requires);
* count fields of variable arrays hold ``count`` (default 3), clamped to the
  type; arrays of pointers are NULL at every odd index;
* lists have ``count`` elements; a list whose marker byte lives in an element
  field cycles through the marker's ``more`` values; gtrees have ``count``
  nodes in increasing key order;
* buffers are ``(hash + i) & 0xff``; booleans alternate by hash; timers are
  armed (non-negative) or ``-1`` by hash;
* off-wire fields (derived, immutable) are set too (booleans true), since
  they are what ``needed`` predicates read; subsections are present exactly
  when their ``needed`` predicate holds on the sampled parent.

>>> from vmcompat.dsl import device, uint8, buffer
>>> sample_state(device("d", 1, uint8("a"), buffer("b", 4)))
{'a': 163, 'b': b'\\xf9\\xfa\\xfb\\xfc'}
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from vmcompat.errors import Path
from vmcompat.model import Description, Field
from vmcompat.predicates import All, AnyOf, Cmp, Predicate, fold
from vmcompat.types import TYPES, WireType
from vmcompat.walk import Frame, Visitor, Walk

__all__ = ["sample_state", "SampleBuilder"]


def _h(path: Path) -> int:
    return zlib.crc32(".".join(map(str, path)).encode())


class SampleBuilder(Visitor):
    """Builds a state while the walk goes through a description."""

    def __init__(self, count: int = 3) -> None:
        self.n = count

    # structs -------------------------------------------------------------------
    def start_struct(self, at: Frame, value: Any) -> Any:
        return dict(value) if isinstance(value, dict) else {}

    def get(self, state: Any, name: str) -> Any:
        return state.get(name)

    def offwire(self, at: Frame, path: Path, f: Field, value: Any) -> Any:
        if value is not None:
            return value
        t = TYPES.get(f.type)
        if t is None:
            return f.default
        if t.valid(True):
            return True  # off-wire flags gate subsections: turn them on
        return self.scalar(at, path, f, t, None)

    # scalars -------------------------------------------------------------------
    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        if t.check is not None and f.default is not None:
            return f.default
        h = _h(path)
        special = t.sample_special(h)
        if special is not None:
            return special
        counters, wanted = at.desc.derived("sample", _asked)
        if f.name in counters:
            return min(self.n, t.hi)
        if f.name in wanted and t.valid(wanted[f.name]):
            return wanted[f.name]
        return t.sample_int(h)

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        h = _h(path)
        return bytes((h + i) & 0xFF for i in range(n))

    # arrays --------------------------------------------------------------------
    def pointer(self, at: Frame, path: Path, f: Field, value: Any) -> bool:
        return not (isinstance(path[-1], int) and path[-1] % 2 == 1)

    def array(self, at: Frame, path: Path, f: Field, n: int | None, items: list[Any]) -> Any:
        if f.words is not None and items:
            rem = (f.size or 0) % 64
            if rem:
                items[-1] &= (1 << rem) - 1
        return items

    # lists and trees -------------------------------------------------------------
    def list_item(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        if i >= self.n:
            return False, None
        m = f.list_marker
        if m.field is not None:
            return True, {m.field: m.more[i % len(m.more)]}
        return True, None

    def start_tree(self, at: Frame, path: Path, f: Field, value: Any) -> int:
        return self.n

    def tree_node(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[Any, Any]:
        return None, None

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        if isinstance(f.key, str):
            t = TYPES[f.key]
            # direct keys: small, distinct, increasing (GTree order)
            nodes = [(min(t.hi, 16 * (i + 1) + (k % 16 if isinstance(k, int) else 0)), v)
                     for i, (k, v) in enumerate(nodes)]
        return [[k, v] for k, v in nodes]


def _asked(desc: Description) -> tuple[frozenset[str], dict[str, Any]]:
    """A struct's count fields, and the values its predicates' ``eq`` comparisons ask for."""
    wanted: dict[str, Any] = {}
    for p in (*(f.exists for f in desc.fields), *(s.needed for s in desc.subsections)):
        _equalities(p, wanted)
    return frozenset(f.varray for f in desc.fields if f.varray), wanted


def _equalities(p: Predicate | None, out: dict[str, Any]) -> None:
    """Values that make ``p``'s ``eq`` comparisons true (first one wins)."""
    if p is not None:
        for k, v in fold(p, lambda q, parts: _EQUALITIES.get(type(q), _none)(q, parts)).items():
            out.setdefault(k, v)


def _none(p: Predicate, parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {}


def _all_equal(p: Predicate, parts: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in parts:
        for k, v in part.items():
            out.setdefault(k, v)
    return out


#: what each predicate node asks to be equal (an ``any`` asks what its first part asks)
_EQUALITIES: dict[type, Callable[[Any, list[dict[str, Any]]], dict[str, Any]]] = {
    Cmp: lambda p, parts: {p.field: p.value} if p.op == "eq" else {},
    All: _all_equal,
    AnyOf: lambda p, parts: parts[0] if parts else {},
}


def sample_state(desc: Description, version: int | None = None, *, count: int = 3) -> Any:
    """A deterministic valid state of ``desc`` as saved at ``version`` (default: its own)."""
    return Walk(SampleBuilder(count)).device(desc, version, None)
