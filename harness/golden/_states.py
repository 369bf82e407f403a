"""Deterministic, readable golden states: values from field positions, never random.

Uses :func:`harness.catalog._sample.sample_state` when the catalog ships it;
otherwise :class:`SampleBuilder`, a visitor of the one walk: the scalar at
position ``k`` (1-based) of its struct is ``0x11 * k`` (wrapped to the type),
element ``i`` of an array adds ``i``; booleans are true; buffers repeat the
field's name; count fields, lists and trees hold 2 elements; no NULL pointers.

>>> from harness.dsl import device, uint8, uint16, buffer
>>> builtin_sample(device("d", 1, uint8("a"), uint16("b", array=2), buffer("c", 3)))
{'a': 17, 'b': [34, 35], 'c': b'ccc'}
>>> d = device("d", 1, uint8("a"))
>>> sample_state(d) == sample_state(d)
True
"""

from __future__ import annotations

from typing import Any

from harness import state as statejson
from harness.errors import Path
from harness.model import Description, Field
from harness.plan import Run
from harness.types import WireType
from harness.walk import Visitor, Walk

#: elements of variable arrays, lists and trees in a sample state
SAMPLE_COUNT = 2


class SampleBuilder(Visitor):
    """Builds a state by walking a description with no input state."""

    def __init__(self) -> None:
        self.stack: list[tuple[dict[str, int], frozenset[str]]] = []

    def start_struct(self, path: Path, desc: Description, version: int, value: Any) -> Any:
        positions = {f.name: i + 1 for i, f in enumerate(desc.fields)}
        counts = frozenset(f.varray for f in desc.fields if f.varray is not None)
        self.stack.append((positions, counts))
        return {}

    def end_struct(self, path: Path, desc: Description, value: Any) -> Any:
        self.stack.pop()
        return value

    def _value(self, f: Field, t: WireType, index: int) -> Any:
        positions, counts = self.stack[-1]
        if t.kind == "bool":
            return True
        if f.name in counts:
            return SAMPLE_COUNT
        span = min(t.hi, 0x7FFFFFFF) + 1
        v = (0x11 * positions.get(f.name, 1) + index) % span
        return v or 1

    def run(self, path: Path, run: Run, state: Any) -> Any:
        for slot in run.slots:
            f = slot.field
            if slot.count is None:
                state[f.name] = self._value(f, slot.type, 0)
            else:
                state[f.name] = [self._value(f, slot.type, i) for i in range(slot.count)]
        return state

    def scalar(self, path: Path, f: Field, t: WireType, value: Any) -> Any:
        index = path[-1] if path and isinstance(path[-1], int) else 0
        return self._value(f, t, index)

    def buffer(self, path: Path, f: Field, n: int, value: Any) -> Any:
        seed = f.name.encode() or b"\x00"
        return (seed * (n // len(seed) + 1))[:n]

    def offwire(self, path: Path, f: Field, value: Any) -> Any:
        t = f.wire_type
        if t is None:
            return f.default
        if f.array_len is not None:
            return [self._value(f, t, i) for i in range(f.array_len)]
        return self._value(f, t, 0)

    def pointer(self, path: Path, f: Field, value: Any) -> bool:
        return True

    def list_item(self, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        return i < SAMPLE_COUNT, None

    def end_list(self, path: Path, f: Field, items: list[Any]) -> Any:
        m = f.list_marker
        for item in items:
            if m.field is not None and m.field in item:
                item[m.field] = m.more[0]
            if m.sentinel is not None and m.sentinel in item and not item[m.sentinel]:
                item[m.sentinel] = 1
        return items

    def start_tree(self, path: Path, f: Field, value: Any) -> int:
        return SAMPLE_COUNT

    def tree_node(self, path: Path, f: Field, value: Any, i: int) -> tuple[Any, Any]:
        return None, None

    def end_tree(self, path: Path, f: Field, nodes: list[Any]) -> Any:
        if isinstance(f.key, str):  # direct keys: unique and increasing
            return [[i + 1, v] for i, (_, v) in enumerate(nodes)]
        return [[k, v] for k, v in nodes]


def builtin_sample(desc: Description) -> Any:
    """The fallback sample state (no validation)."""
    return Walk(SampleBuilder()).device(desc, desc.version_id, None)


def sample_state(desc: Description) -> Any:
    """The golden state of a description, validated (in-memory form: buffers as bytes)."""
    try:
        from harness.catalog._sample import sample_state as catalog_sample
    except ImportError:
        catalog_sample = builtin_sample
    return statejson.from_json(desc, catalog_sample(desc))
