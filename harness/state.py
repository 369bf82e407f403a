"""State values: read from JSON (with validation) and written back.

State JSON (the README's "Descriptions"): integers, booleans, buffers as lowercase hex strings,
arrays as lists, NULL pointers as ``null``, structs as objects, lists as lists
of objects, GTrees as lists of ``[key, value]``; subsections under
``"__subsections__"`` keyed by full name. In memory buffers are ``bytes``.

>>> from vmcompat.dsl import device, buffer, uint8
>>> d = device("d", 1, uint8("a"), buffer("b", 2))
>>> s = from_json(d, {"a": 1, "b": "00ff"})
>>> s, to_json(s)
({'a': 1, 'b': b'\\x00\\xff'}, {'a': 1, 'b': '00ff'})
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vmcompat.errors import InputError, Path
from vmcompat.model import SUBSECTIONS_KEY, Description, Field
from vmcompat.types import WireType
from vmcompat.walk import Frame, Visitor, Walk
from vmcompat.words import plural


class StateReader(Visitor):
    """Validates a state (JSON or in-memory) against a description; returns it in memory form.

    Writers never fail: every state handed to a writer passes here first. A
    ``partial`` state (a destination's prior) may leave fields and needed
    subsections out; what it holds is checked all the same.
    """

    all_fields = True

    def __init__(self, partial: bool = False) -> None:
        self.partial = partial

    def _bad(self, path: Path, msg: str) -> InputError:
        return InputError(msg, path=path)

    def start_struct(self, at: Frame, value: Any) -> Any:
        if not isinstance(value, dict):
            raise self._bad(at.path, f"expected an object, got {type(value).__name__}")
        known = {f.name for f in at.desc.fields if f.in_state}
        extra = set(value) - known - {SUBSECTIONS_KEY}
        if extra:
            raise self._bad(at.path + (sorted(extra)[0],), "unknown field (not in the description)")
        subs = value.get(SUBSECTIONS_KEY)
        if subs is not None:
            if not isinstance(subs, dict):
                raise self._bad(at.path + (SUBSECTIONS_KEY,), "expected an object of subsections")
            names = {s.name for s in at.desc.subsections}
            for k in subs:
                if k not in names:
                    raise self._bad(at.path + (k,), "unknown subsection")
        return dict(value)

    def end_subsections(self, at: Frame, state: Any) -> Any:
        held = state.get(SUBSECTIONS_KEY) or {}
        for s in at.desc.subsections:
            if s.name not in held and not self.partial and s.is_needed(state):
                raise self._bad(at.path + (s.name,),
                                "subsection is needed by this state but missing")
        return state

    def missing(self, at: Frame, path: Path, f: Field, state: Any) -> Any:
        """An absent field: its ``default`` if it has one, else an error if it must be sent."""
        if f.default is not None:
            state[f.name] = f.default
        elif f.on_wire and not self.partial and (f.exists is None or f.exists(state)):
            raise self._bad(path, "missing field")
        return state

    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        if not t.valid(value):
            raise self._bad(path, f"{t.name} must be {t.wanted}, got {value!r}")
        return value

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = bytes.fromhex(value)
            except ValueError:
                raise self._bad(path, "buffer must be a hex string") from None
        if not isinstance(value, (bytes, bytearray)) or len(value) != n:
            got = len(value) if isinstance(value, (bytes, bytearray)) else repr(value)
            raise self._bad(path, f"buffer must be {plural(n, 'byte')}, got {got}")
        return bytes(value)

    def count(self, at: Frame, path: Path, f: Field, state: Any) -> int:
        value = state.get(f.name)
        if not isinstance(value, list):
            raise self._bad(path, f"expected a list, got {type(value).__name__}")
        if f.array_len is not None:
            n = f.array_len
        else:
            n = state.get(f.varray)
        if n != len(value):
            src = "array_len" if f.array_len is not None else f"count field {f.varray!r}"
            raise self._bad(path, f"list has {plural(len(value), 'element')}, {src} says {n}")
        return n

    def pointer(self, at: Frame, path: Path, f: Field, value: Any) -> bool:
        return value is not None

    def array(self, at: Frame, path: Path, f: Field, n: int | None, items: list[Any]) -> Any:
        return items

    def list_item(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        if not isinstance(value, list):
            raise self._bad(path, f"expected a list, got {type(value).__name__}")
        if i >= len(value):
            return False, None
        elem, m = value[i], f.list_marker
        if isinstance(elem, dict):
            if m.field is not None and elem.get(m.field) not in m.more:
                raise self._bad(path + (i, m.field),
                                f"marker field must be one of {list(m.more)}")
            if m.sentinel is not None and not elem.get(m.sentinel):
                raise self._bad(path + (i, m.sentinel), "a zero sentinel ends the list")
        return True, elem

    def start_tree(self, at: Frame, path: Path, f: Field, value: Any) -> int:
        if not isinstance(value, list) or not all(
                isinstance(n, (list, tuple)) and len(n) == 2 for n in value):
            raise self._bad(path, "a gtree is a list of [key, value] pairs")
        if isinstance(f.key, str):
            keys = [n[0] for n in value]
            if any(not isinstance(k, int) for k in keys) or keys != sorted(set(keys)):
                raise self._bad(path, "gtree keys must be unique and in increasing order")
        return len(value)


def from_json(desc: Description, obj: Any, *, file: str | None = None,
              partial: bool = False) -> Any:
    """Validate a state object against ``desc``; buffers become bytes. A ``partial``
    state (a prior to load into) may leave fields out."""
    try:
        return Walk(StateReader(partial)).device(desc, desc.version_id, obj)
    except InputError as e:
        raise e.located(file=file, device=desc.name) from None



def map_leaves(state: Any, leaf: Callable[[Any], Any]) -> Any:
    """The one recursion over a state tree: dicts rebuilt as dicts, lists and tuples as
    lists, every other value through ``leaf`` (which must keep a plain ``int``: a list of
    plain ints is copied in one step, the fast path of big register arrays)."""
    t = type(state)
    if t is int or t is str:
        return state
    if isinstance(state, dict):
        return {k: map_leaves(v, leaf) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        if all(type(x) is int for x in state):
            return list(state)
        return [map_leaves(v, leaf) for v in state]
    return leaf(state)


def hex_bytes(value: Any) -> Any:
    """A state leaf as JSON: bytes as hex, anything else as it is."""
    return bytes(value).hex() if isinstance(value, (bytes, bytearray)) else value


def to_json(state: Any) -> Any:
    """The JSON form of an in-memory state (bytes -> hex, tuples -> lists)."""
    return map_leaves(state, hex_bytes)
