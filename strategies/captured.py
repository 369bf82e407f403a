"""``captured_states(description, captured)``: states near a real capture of a device.

A real QEMU checks much of what it loads (PCI config bits against their masks,
``VMSTATE_VALIDATE`` ranges, ``post_load`` hooks): a state drawn field by field
from the whole range of each type is refused for the first checked field it
meets, so nothing behind that check is ever exercised. These states start
from a captured one instead: every leaf (scalar, buffer, array) is either its
captured value or a value drawn from its type's range; long arrays and buffers
get a few random elements or patches (a short buffer may be wholly random), so
states stay within Hypothesis's size budget.

The layout stays the capture's: the same fields (a ``field_exists`` test keeps
its captured outcome), the same list and variable-array lengths, the same
NULL pointers and the same subsections. ``equal`` fields keep their captured
value (QEMU compares them with its own), ``int32 le`` fields stay within
``[0, captured]``.

:class:`CapturedStrategy` is a (non-virtual) visitor of the one walk, over the
description and the captured state together.

Shrinking goes toward the capture: each nested struct (an array element, a
subsection) and each leaf toward its captured value, a random value toward 0,
edits toward fewer and smaller ones, so a minimal counterexample is the capture
with only the values that matter changed.

>>> from vmcompat.dsl import device, uint8
>>> d = device("d", 1, uint8("a"), uint8("b"))
>>> captured_states(d, {"a": 1, "b": 2}).example() in ({"a": 1, "b": 2},)  # doctest: +SKIP
True
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from vmcompat.errors import Path
from vmcompat.model import SUBSECTIONS_KEY, Description, Field
from vmcompat.plan import Run
from vmcompat.strategies._registry import defines_strategy
from vmcompat.types import WireType
from vmcompat.walk import Frame, Visitor, Walk

#: random edits of one long array or buffer
MAX_EDITS = 4
#: scalar arrays up to this long draw each element near its capture; longer ones are edited
SMALL_ARRAY = 64
#: arrays of structs up to this long draw each element; longer ones are edited
SMALL_STRUCTS = 8
#: buffers up to this many bytes are drawn whole; longer ones get patches (a whole random
#: buffer could not shrink back toward the capture)
SMALL_BUFFER = 16
#: longest byte run one patch of a buffer writes
MAX_PATCH = 16


class _Struct:
    """A struct being built: its captured value, and the strategies of its members."""

    __slots__ = ("captured", "members")

    def __init__(self, captured: Any) -> None:
        self.captured = captured if isinstance(captured, dict) else {}
        self.members: dict[str, Any] = {}


class _Edits:
    """Apply ``[(index, value), ...]`` to a copy of the captured array (a readable repr)."""

    __slots__ = ("values",)

    def __init__(self, values: list[Any]) -> None:
        self.values = values

    def __repr__(self) -> str:
        return f"edits(<{len(self.values)} captured>)"

    def __call__(self, edits: list[tuple[int, Any]]) -> list[Any]:
        out = list(self.values)
        for i, v in edits:
            out[i] = v
        return out


class _Patches:
    """Write ``[(offset, bytes), ...]`` over a copy of the captured buffer."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)

    def __repr__(self) -> str:
        return f"patches(<{len(self.data)} captured bytes>)"

    def __call__(self, patches: list[tuple[int, bytes]]) -> bytes:
        out = bytearray(self.data)
        for at, chunk in patches:
            chunk = chunk[:len(out) - at]
            out[at:at + len(chunk)] = chunk
        return bytes(out)


class _At:
    """``value`` → ``(index, value)``: one edit of an array."""

    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = i

    def __repr__(self) -> str:
        return f"at({self.i})"

    def __call__(self, value: Any) -> tuple[int, Any]:
        return self.i, value


def _listed(items: tuple[Any, ...]) -> list[Any]:
    return list(items)


def _pairs(nodes: tuple[tuple[Any, Any], ...]) -> list[list[Any]]:
    return [[k, v] for k, v in nodes]


def _dict(items: dict[str, Any]) -> dict[str, Any]:
    return items


def _random(f: Field, t: WireType, captured: Any) -> SearchStrategy[Any]:
    """A value of ``t`` from its range (``int32 le``: within ``[0, captured]``)."""
    # plain integers (their generation favours the bounds): a one_of of ranges and edges
    # would not shrink from the edges back toward the capture
    limit = captured if isinstance(captured, int) and captured >= 0 else None
    return t.values(limit, free=True)


def _near(captured: Any, other: SearchStrategy[Any]) -> SearchStrategy[Any]:
    """The captured value (what it shrinks to), or one from ``other``."""
    return other if captured is None else st.one_of(st.just(captured), other)


def _wrap(value: Any) -> SearchStrategy[Any]:
    return value if isinstance(value, SearchStrategy) else st.just(value)


class CapturedStrategy(Visitor):
    """Walks a description with a captured state; every callback returns a strategy."""

    def start_struct(self, at: Frame, value: Any) -> Any:
        return _Struct(value)

    def end_struct(self, at: Frame, value: Any) -> Any:
        members = {k: _wrap(v) for k, v in value.members.items() if k != SUBSECTIONS_KEY}
        subs = value.members.get(SUBSECTIONS_KEY)
        if subs:
            members[SUBSECTIONS_KEY] = st.fixed_dictionaries(
                {k: _wrap(v) for k, v in subs.items()}).map(_dict)
        built = st.fixed_dictionaries(members).map(_dict)
        # a nested struct (an element, a subsection) may stay whole as captured: one choice
        # the shrinker can take back, instead of one per leaf
        return built if not at.path else _near(value.captured, built)

    def get(self, state: Any, name: str) -> Any:
        return state.captured.get(name)

    def put(self, state: Any, name: str, value: Any) -> Any:
        state.members[name] = value
        return state

    def exists(self, at: Frame, path: Path, f: Field, state: Any) -> bool:
        return f.name in state.captured  # the test's captured outcome

    def offwire(self, at: Frame, path: Path, f: Field, value: Any) -> Any:
        return st.just(value)

    # scalars -----------------------------------------------------------------
    def run(self, at: Frame, path: Path, run: Run, state: Any) -> Any:
        for slot in run.slots:
            f = slot.field
            cur = self.get(state, f.name)
            if slot.count is None:
                new = self.scalar(at, path + (f.name,), f, slot.type, cur)
            else:
                values = list(cur) if isinstance(cur, list) else [None] * slot.count
                new = self.scalars(at, f, slot.type, values)
            state = self.put(state, f.name, new)
        return state

    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        if t.must_match and value is not None:
            return st.just(value)  # the destination compares it with its own
        return _near(value, _random(f, t, value))

    def scalars(self, at: Frame, f: Field, t: WireType, values: list[Any]
                ) -> SearchStrategy[list[Any]]:
        """A fixed array of scalars: each element near its capture, or (long) a few edits."""
        n = len(values)
        if n <= SMALL_ARRAY or any(v is None for v in values):
            return st.tuples(*(self.scalar(at, (), f, t, v) for v in values)).map(_listed)
        if t.must_match:
            return st.just(values)
        edits = st.lists(st.tuples(st.integers(0, n - 1), _random(f, t, None)), min_size=1,
                         max_size=MAX_EDITS).map(_Edits(values))
        return st.one_of(st.just(values), edits)

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        if not isinstance(value, (bytes, bytearray)) or len(value) != n:
            value = bytes(n)
        if n <= SMALL_BUFFER:
            return _near(bytes(value), st.binary(min_size=n, max_size=n))
        patches = st.lists(st.tuples(st.integers(0, n - 1),
                                     st.binary(min_size=1, max_size=MAX_PATCH)),
                           min_size=1, max_size=MAX_EDITS).map(_Patches(value))
        return st.one_of(st.just(bytes(value)), patches)

    # arrays ------------------------------------------------------------------
    def count(self, at: Frame, path: Path, f: Field, state: Any) -> int:
        cur = state.captured.get(f.name)
        if f.array_len is not None:
            return f.array_len
        return len(cur) if isinstance(cur, list) else 0  # the captured length

    def array(self, at: Frame, path: Path, f: Field, n: int | None, items: list[Any]) -> Any:
        values = at.state.captured.get(f.name)
        items = [_wrap(x) for x in items]
        if len(items) <= SMALL_STRUCTS or not isinstance(values, list) or \
                len(values) != len(items):
            return st.tuples(*items).map(_listed)
        # a long array of structs: the capture, with a few elements drawn near theirs
        one = st.one_of(*(x.map(_At(i)) for i, x in enumerate(items)))
        return st.one_of(st.just(values), st.lists(one, min_size=1, max_size=MAX_EDITS)
                         .map(_Edits(values)))

    def bitmap(self, at: Frame, path: Path, f: Field, words: list[Any]) -> Any:
        return st.tuples(*(_wrap(x) for x in words)).map(_listed)

    # lists and trees -----------------------------------------------------------
    def end_list(self, at: Frame, path: Path, f: Field, items: list[Any]) -> Any:
        return st.tuples(*items).map(_listed)

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        return st.tuples(*(st.tuples(_wrap(k), v) for k, v in nodes)).map(_pairs)

    # subsections ---------------------------------------------------------------
    def subsections(self, at: Frame, state: Any) -> Any:
        for s in at.desc.held_subsections(state.captured.get(SUBSECTIONS_KEY)):
            yield s, s.description.version_id


@defines_strategy
def captured_states(description: Description, captured: dict[str, Any]
                    ) -> SearchStrategy[dict[str, Any]]:
    """States of ``description`` near ``captured`` (a decoded section of a real capture).

    Same layout as the capture (fields, lengths, NULLs, subsections); each leaf
    is its captured value or a random one. Shrinks toward the capture.
    """
    return Walk(CapturedStrategy()).device(description, description.version_id, captured)


__all__ = ["captured_states"]
