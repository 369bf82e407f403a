"""``states(description)``: valid device states, built by a *virtual visitor* of the walk.

The strategy is not a second traversal of descriptions: :class:`StateStrategy`
is a :class:`~vmcompat.walk.Visitor` with ``virtual=True`` (no state, every
array/list visited once) and ``all_fields=True`` (off-wire and exists-tested
fields too). Each callback returns a strategy; :meth:`StateStrategy.end_struct`
combines a struct's members with ``st.fixed_dictionaries`` and one ``.map``
that makes the state consistent (variable-array counts follow their lists,
exists-tested fields are dropped or set to their default when the test is
false, subsections are kept only when ``needed`` holds on the parent).
Nothing is filtered, so nothing is rejected.

Example::

    >>> from vmcompat.dsl import device, uint8, uint16_equal
    >>> d = device("dev", 1, uint8("n"), uint8("a", varray="n"), uint16_equal("magic", default=7))
    >>> states(d).example()                                  # doctest: +SKIP
    {'n': 2, 'a': [0, 255], 'magic': 7}

Shrinking: integers shrink toward 0 (toward a predicate constant first when a
field is read by an ``exists``/``needed`` test), lists toward empty, NULL
pointers toward present elements, booleans toward False, so a minimal
counterexample has small numbers, short lists and only the subsections it needs.
"""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from vmcompat.errors import Path
from vmcompat.model import SUBSECTIONS_KEY, Description, Field
from vmcompat.predicates import Cmp, Predicate, fold
from vmcompat.strategies._registry import defines_strategy
from vmcompat.types import TYPES, WireType
from vmcompat.walk import Frame, Visitor, Walk

#: bounds that keep states small (lists, trees, variable arrays)
MAX_LIST = 4
MAX_VARRAY = 6
#: longest variable array drawn to meet a predicate constant on its count
MAX_PREDICATE_LEN = 64


def _constants(p: Predicate | None, into: dict[str, set[Any]]) -> None:
    """Values a predicate compares fields with (so the strategy can hit both branches)."""
    if p is None:
        return
    for q in fold(p, lambda q, parts: [q, *(x for part in parts for x in part)]):
        if isinstance(q, Cmp):
            into.setdefault(q.field, set()).update({0, 1} if q.value is None else {q.value, 0})


class _Facts:
    """What the visitor knows about a struct's description: its count fields and the
    constants its predicates compare fields with (``Description.derived``, once each)."""

    __slots__ = ("consts", "counts")

    def __init__(self, desc: Description) -> None:
        self.counts = {f.varray for f in desc.fields if f.varray is not None}
        self.consts: dict[str, set[Any]] = {}
        for f in desc.fields:
            _constants(f.exists, self.consts)
        for s in desc.subsections:
            _constants(s.needed, self.consts)


class _Finish:
    """The ``.map`` that makes a drawn struct consistent (a class: readable repr)."""

    __slots__ = ("desc",)

    def __init__(self, desc: Description) -> None:
        self.desc = desc

    def __repr__(self) -> str:
        return f"finish({self.desc.name!r})"

    def __call__(self, drawn: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
        s, subs = drawn
        s = dict(s)
        desc = self.desc
        groups: dict[str, list[str]] = {}
        for f in desc.fields:
            if f.varray is not None and isinstance(s.get(f.name), list):
                groups.setdefault(f.varray, []).append(f.name)
        for count, arrays in groups.items():
            n = min(len(s[a]) for a in arrays)
            for a in arrays:
                s[a] = s[a][:n]
            if count in s:
                s[count] = n
        for f in desc.fields:
            if f.exists is not None and f.name in s and not f.exists(s):
                if f.default is not None:
                    s[f.name] = f.default
                else:
                    del s[f.name]
        if subs:
            kept = {name: v for name, v in subs.items() if desc.subsection(name).is_needed(s)}
            if kept:
                s[SUBSECTIONS_KEY] = kept
        return s


class _MarkList:
    """Elements of a list: marker field drawn from ``Marker.more``, sentinel nonzero."""

    __slots__ = ("field", "sentinel")

    def __init__(self, field: str | None, sentinel: str | None) -> None:
        self.field, self.sentinel = field, sentinel

    def __call__(self, drawn: tuple[dict[str, Any], int]) -> dict[str, Any]:
        elem, marker = drawn
        elem = dict(elem)
        if self.field is not None:
            elem[self.field] = marker
        if self.sentinel is not None and not elem.get(self.sentinel):
            elem[self.sentinel] = 1
        return elem


def _sorted_nodes(nodes: list[tuple[Any, Any]]) -> list[list[Any]]:
    return [[k, v] for k, v in sorted(nodes, key=lambda kv: kv[0])]


def _nodes(nodes: list[tuple[Any, Any]]) -> list[list[Any]]:
    return [[k, v] for k, v in nodes]


class _MaskBitmap:
    __slots__ = ("nbits",)

    def __init__(self, nbits: int) -> None:
        self.nbits = nbits

    def __call__(self, words: list[int]) -> list[int]:
        extra = len(words) * 64 - self.nbits
        if words and extra:
            words = [*words[:-1], words[-1] & ((1 << (64 - extra)) - 1)]
        return words


#: fixed scalar arrays at least this long are drawn as one byte string
_PACKED_MIN = 4
#: byte strings longer than this are drawn sparse: a dense prefix, then a few bytes set
#: at drawn offsets over zeros (real devices carry 4 KiB configs and 64 KiB buffers, far
#: past what Hypothesis can draw densely, and zeros are what they mostly hold)
DENSE_BYTES = 256
SPARSE_WRITES = 8


class _Sparse:
    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def __repr__(self) -> str:
        return f"_Sparse({self.n})"

    def __call__(self, drawn: tuple[bytes, list[tuple[int, int]]]) -> bytes:
        head, writes = drawn
        out = bytearray(self.n)
        out[:len(head)] = head
        for at, byte in writes:
            out[at] = byte
        return bytes(out)


#: fixed arrays of structs longer than this are drawn as one element repeated, with a
#: few elements replaced at drawn indices (ich9-ahci: 6 ports × 32 NCQ slots)
SPREAD_MIN = 8
SPREAD_WRITES = 2


class _Spread:
    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def __repr__(self) -> str:
        return f"_Spread({self.n})"

    def __call__(self, drawn: tuple[Any, list[tuple[int, Any]]]) -> list[Any]:
        base, writes = drawn
        out = [base] * self.n
        for at, elem in writes:
            out[at] = elem
        return out


def spread(elem: Any, n: int) -> Any:
    """A list of exactly ``n`` elements; long ones repeat one element with a few others."""
    if n <= SPREAD_MIN:
        return st.lists(elem, min_size=n, max_size=n)
    writes = st.lists(st.tuples(st.integers(0, n - 1), elem), max_size=SPREAD_WRITES)
    return st.tuples(elem, writes).map(_Spread(n))


def byte_strings(n: int) -> Any:
    """Exactly ``n`` bytes; shrinks toward zeros. Long ones are sparse (:data:`DENSE_BYTES`).

    >>> byte_strings(4)
    binary(min_size=4, max_size=4)
    """
    if n <= DENSE_BYTES:
        return st.binary(min_size=n, max_size=n)
    writes = st.lists(st.tuples(st.integers(DENSE_BYTES, n - 1), st.integers(1, 255)),
                      max_size=SPARSE_WRITES)
    return st.tuples(st.binary(max_size=DENSE_BYTES), writes).map(_Sparse(n))


class _Unpack:
    __slots__ = ("st",)

    def __init__(self, t: WireType, n: int) -> None:
        self.st = struct.Struct(f">{n}{t.fmt}")

    def __call__(self, raw: bytes) -> list[int]:
        return list(self.st.unpack(raw))


def _edges(t: WireType, lo: int, hi: int) -> list[int]:
    """Boundary values (the sign bit, the extremes): where reinterpretations show."""
    bits = 8 * t.size
    cand = {hi, lo, -1, 1 << (bits - 1), (1 << (bits - 1)) - 1, 0x80, 0x7F}
    return sorted(v for v in cand if lo <= v <= hi and v != 0)


class StateStrategy(Visitor):
    """Virtual visitor: every callback returns a strategy for the node it visits."""

    virtual = True
    all_fields = True

    # structs ---------------------------------------------------------------
    def start_struct(self, at: Frame, value: Any) -> Any:
        return {}

    def end_struct(self, at: Frame, value: Any) -> Any:
        members = dict(value)
        if at.fresh:  # list/tree elements are allocated by the loader: no off-wire values
            for f in at.desc.fields:
                if not f.on_wire:
                    members.pop(f.name, None)
        subs = members.pop(SUBSECTIONS_KEY, {})
        return st.tuples(st.fixed_dictionaries(members),
                         st.fixed_dictionaries(subs)).map(_Finish(at.desc))

    def get(self, state: Any, name: str) -> Any:
        return None

    # scalars -----------------------------------------------------------------
    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        if not t.ranged:
            return t.values(f.default)
        frame = at.desc.derived("states", _Facts)
        if f.name in frame.counts and f.type == t.name:
            return st.just(0)  # overwritten by the count sync
        lo, hi = t.bounds(f.default)
        ints = st.integers(lo, hi)
        edges = _edges(t, lo, hi)
        if edges:
            # extremes and the half past the sign bit, where reinterpretations show
            bits = 8 * t.size
            half = st.integers(lo, -1) if lo < 0 else st.integers(
                min(hi, 1 << (bits - 1)), hi)
            ints = st.one_of(ints, st.sampled_from(edges), half)
        if f.name in frame.consts and f.type == t.name:
            hits = sorted(v for v in frame.consts[f.name]
                          if isinstance(v, int) and lo <= v <= hi)
            if hits:
                return st.one_of(st.sampled_from(hits), ints)
        return ints

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        return byte_strings(n)

    # arrays ------------------------------------------------------------------
    def pointer(self, at: Frame, path: Path, f: Field, value: Any) -> bool:
        return True  # build the element; ``array`` adds the NULL choice

    def array(self, at: Frame, path: Path, f: Field, n: int | None, items: list[Any]) -> Any:
        elem = items[0]
        t = f.wire_type
        if (t is not None and f.array_len is not None and f.array_len >= _PACKED_MIN
                and not f.pointer and t.plain):
            # one draw for the whole array: fast, and shrinks toward all zeros
            n = f.array_len
            return byte_strings(n * t.size).map(_Unpack(t, n))
        if f.pointer:
            elem = st.one_of(elem, st.none())
        if f.array_len is not None:
            return spread(elem, f.array_len)
        count_type = TYPES[at.desc.field(str(f.varray)).type]
        top = min(MAX_VARRAY, count_type.hi)
        lists = st.lists(elem, max_size=top)
        wanted = sorted(k for k in at.desc.derived("states", _Facts).consts.get(f.varray, ())
                        if isinstance(k, int) and top < k <= min(MAX_PREDICATE_LEN,
                                                               count_type.hi))
        if wanted:  # a predicate compares the count with a constant: reach it
            lists = st.one_of(lists, *(st.lists(elem, min_size=k, max_size=k) for k in wanted))
        return lists

    def bitmap(self, at: Frame, path: Path, f: Field, words: list[Any]) -> Any:
        n = f.words
        return st.lists(words[0], min_size=n, max_size=n).map(_MaskBitmap(f.size or 0))

    # lists and trees -----------------------------------------------------------
    def list_item(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        return i == 0, None

    def end_list(self, at: Frame, path: Path, f: Field, items: list[Any]) -> Any:
        m = f.list_marker
        elem = items[0]
        if m.field is not None or m.sentinel is not None:
            marks = st.sampled_from(m.more) if m.field is not None else st.just(0)
            elem = st.tuples(elem, marks).map(_MarkList(m.field, m.sentinel))
        return st.lists(elem, max_size=MAX_LIST)

    def start_tree(self, at: Frame, path: Path, f: Field, value: Any) -> int:
        return 1

    def tree_node(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[Any, Any]:
        return None, None

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        key, val = nodes[0]
        pair = st.tuples(key, val)
        if isinstance(f.key, str):
            return st.lists(pair, max_size=MAX_LIST, unique_by=lambda kv: kv[0]).map(_sorted_nodes)
        return st.lists(pair, max_size=MAX_LIST).map(_nodes)


_CACHE: dict[tuple[Description, int], SearchStrategy[dict[str, Any]]] = {}


@defines_strategy
def states(description: Description, version: int | None = None
           ) -> SearchStrategy[dict[str, Any]]:
    """Valid states of ``description`` (fields a stream of ``version`` carries).

    ``version`` defaults to the description's own ``version_id`` (what a save
    writes). Cached per frozen description. Example::

        states(catalog.resolve("catalog:ps2kbd@3"))   # {'scancode_set': 2, ...}

    Shrinks toward zeros, empty lists and absent subsections.
    """
    v = description.version_id if version is None else version
    key = (description, v)
    try:
        found = _CACHE.get(key)
    except TypeError:  # an unhashable default: no cache
        return Walk(StateStrategy()).device(description, v, None)
    if found is None:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        found = _CACHE[key] = Walk(StateStrategy()).device(description, v, None)
    return found


__all__ = ["states"]
