"""QEMU's legacy wire, byte for byte: a writer and a reader visitor.

Big-endian, no names, no tags; fields in declaration order, then subsections
(``0x05``, name length, name, be32 version, payload). The reader follows
``vmstate_load_state``/``vmstate_subsection_load`` exactly, including the quiet
stop on a subsection name that does not start with the parent's name.

>>> from vmcompat.dsl import device, uint16, uint8
>>> d = device("dev", 1, uint16("a"), uint8("b"))
>>> encode(d, {"a": 0x102, "b": 3}).hex()
'010203'
>>> decode(d, bytes.fromhex("010203"), 1)
{'a': 258, 'b': 3}
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import Any

from vmcompat.errors import (
    BY_REASON,
    BadMarker,
    BadValue,
    InputError,
    LoadError,
    NullPointerMismatch,
    Path,
    TrailingData,
    Truncated,
    UnknownSubsection,
)
from vmcompat.limits import MAX_PADDING
from vmcompat.loadrules import (
    SUBSECTION,
    TREE_END,
    TREE_NODE,
    check_version,
    claims_subsection,
    load_versioned,
)
from vmcompat.model import NULLPTR_MARKER, Description, Field, Subsection
from vmcompat.plan import Run
from vmcompat.types import TYPES, WireType
from vmcompat.walk import NOPRIOR, Frame, InputVisitor, OutputVisitor, Walk

_ST = {name: struct.Struct(">" + t.fmt) for name, t in TYPES.items()}
_BE32 = struct.Struct(">I")


def min_size(f: Field, inner: Callable[[Description], int] | None = None) -> int:
    """The fewest wire bytes one element of ``f`` can take (guards hostile counts);
    ``inner`` gives a nested description's (default: folded here)."""
    size = f.element_size()
    if size is None and f.is_struct:
        assert f.struct is not None
        size = (inner or _min_struct)(f.struct)
    # an array-of-pointers element is QEMU's NULL marker or the pointee (which may be empty)
    return min(1, size or 0) if f.pointer else size or 0


def _min_struct(d: Description) -> int:
    return d.fold(_min_struct_step)


def _min_struct_step(d: Description, inner: Callable[[Description], int]) -> int:
    total = 0
    for g in d.fields:
        if g.exists is None and g.on_wire and g.array_len is not None:
            total += g.array_len * min_size(g, inner)
        elif g.exists is None and g.on_wire and not g.is_array:
            c = g.composite
            total += c.least if c is not None and c.least else min_size(g, inner)
    return total


# ----------------------------------------------------------------------------- writer
class LegacyWriter(OutputVisitor):
    """Appends the legacy encoding of a (validated) state to ``out``.

    It never fails on a validated state but for one limit: ``unused_buffer`` padding is
    the only wire content not in the state (4096 elements of a struct with 1 MiB of it
    are 4 GiB from a few bytes of state JSON), so more than
    :data:`~vmcompat.limits.MAX_PADDING` bytes of it in one payload are refused
    (:class:`~vmcompat.errors.InputError`) before they are written.
    """

    __slots__ = ("out", "padding")

    def __init__(self, out: bytearray | None = None) -> None:
        self.out = bytearray() if out is None else out
        self.padding = 0

    def run(self, at: Frame, path: Path, run: Run, state: Any) -> Any:
        self.out += run.struct.pack(*run.values(state))
        return state

    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        self.out += _ST[t.name].pack(value)
        return value

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        self.out += value
        return value

    def unused(self, at: Frame, path: Path, f: Field, n: int) -> None:
        self.padding += n
        if self.padding > MAX_PADDING:
            raise InputError(f"over {MAX_PADDING} bytes of unused_buffer padding in one payload",
                             path=path)
        self.out += bytes(n)

    def pointer(self, at: Frame, path: Path, f: Field, value: Any) -> bool:
        if value is None:
            self.out.append(NULLPTR_MARKER)
            return False
        return True

    def list_item(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        m = f.list_marker
        if i < len(value):
            elem = value[i]
            if m.sentinel is None:
                self.out.append(m.byte_for(elem))
            return True, elem
        if m.sentinel is not None:
            assert f.struct is not None
            self.out += _ST[f.struct.field(m.sentinel).type].pack(0)
        else:
            self.out.append(m.end)
        return False, None

    def start_tree(self, at: Frame, path: Path, f: Field, value: Any) -> int:
        self.out += _BE32.pack(len(value))
        return len(value)

    def tree_node(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[Any, Any]:
        self.out.append(TREE_NODE)
        return value[i][0], value[i][1]

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        self.out.append(TREE_END)
        return [[k, v] for k, v in nodes]

    def subsections(self, at: Frame, state: Any) -> Iterator[tuple[Subsection, int]]:
        for s in at.desc.subsections:
            if s.is_needed(state):
                name = s.name.encode("latin-1")
                v = s.description.version_id
                self.out += bytes((SUBSECTION, len(name))) + name + _BE32.pack(v)
                yield s, v


# ----------------------------------------------------------------------------- reader
class LegacyReader(InputVisitor):
    """Reads the legacy encoding from ``data`` at ``pos`` into a copy of the prior state."""

    __slots__ = ("data", "end", "pos")
    subsection_loop = True

    def __init__(self, data: bytes | bytearray | memoryview, pos: int = 0,
                 end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    # helpers
    def need(self, n: int, path: Path) -> int:
        p = self.pos
        if p + n > self.end:
            raise Truncated(path=path, offset=p, need=n, have=self.end - p)
        self.pos = p + n
        return p

    def byte(self, path: Path) -> int:
        return self.data[self.need(1, path)]

    @staticmethod
    def _check(path: Path, f: Field, t: WireType, got: Any, prior: Any, offset: int) -> None:
        local = prior if prior is not None and prior is not NOPRIOR else f.default
        refused = t.refusal(got, local)
        if refused is not None:
            reason, params = refused
            raise BY_REASON[reason](path=path, offset=offset, **params)

    # structs
    def end_struct(self, at: Frame, value: Any) -> Any:
        return value

    # scalars
    def run(self, at: Frame, path: Path, run: Run, state: Any) -> Any:
        pos = self.pos
        if pos + run.struct.size > self.end:
            self._truncated_in(path, run)
        self.pos = pos + run.struct.size
        vals = run.struct.unpack_from(self.data, pos)
        if run.checked:
            self._check_run(path, run, state, vals, pos)
        i = 0
        for s in run.slots:
            if s.count is None:
                state[s.field.name] = vals[i]
                i += 1
            else:
                state[s.field.name] = list(vals[i:i + s.count])
                i += s.count
        return state

    def _truncated_in(self, path: Path, run: Run) -> None:
        """Name the exact field of a run where the data ends."""
        at = self.pos
        for s in run.slots:
            size = s.type.size * (1 if s.count is None else s.count)
            if at + size > self.end:
                raise Truncated(path=path + (s.field.name,), offset=at, need=size,
                                have=self.end - at)
            at += size
        raise AssertionError("unreachable: the run fits")  # pragma: no cover

    def _check_run(self, path: Path, run: Run, state: Any, vals: tuple[Any, ...],
                   pos: int) -> None:
        i = 0
        for k, s in enumerate(run.slots):
            n = 1 if s.count is None else s.count
            if k in run.checked and s.type.check is not None:
                prior = state.get(s.field.name)
                for j in range(n):
                    pj = prior if s.count is None else self.item(prior, j)
                    p = path + (s.field.name,) + (() if s.count is None else (j,))
                    self._check(p, s.field, s.type, vals[i + j], pj, pos + (i + j) * s.type.size)
            i += n

    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        pos = self.need(t.size, path)
        got = _ST[t.name].unpack_from(self.data, pos)[0]
        if t.check is not None:
            self._check(path, f, t, got, value, pos)
        return got

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        p = self.need(n, path)
        return bytes(self.data[p:p + n])

    def unused(self, at: Frame, path: Path, f: Field, n: int) -> None:
        self.need(n, path)

    # arrays
    def count(self, at: Frame, path: Path, f: Field, state: Any) -> int:
        n = super().count(at, path, f, state) if f.array_len is not None else state.get(f.varray)
        if not isinstance(n, int) or n < 0:
            raise BadValue(path=path, offset=self.pos, detail=f"bad element count {n!r}")
        size = min_size(f)
        if n * size > self.end - self.pos or (size == 0 and n > 1 << 16):
            raise Truncated(path=path, offset=self.pos, need=n * size, have=self.end - self.pos)
        return n

    def pointer(self, at: Frame, path: Path, f: Field, value: Any) -> bool:
        if value is None:  # the destination has NULL here: QEMU only checks the marker
            if self.byte(path) != NULLPTR_MARKER:
                raise NullPointerMismatch(path=path, offset=self.pos - 1)
            return False
        return True

    # lists and trees
    def list_item(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        m = f.list_marker
        if m.sentinel is not None:
            assert f.struct is not None
            st = _ST[f.struct.field(m.sentinel).type]
            if self.pos + st.size > self.end:
                raise Truncated(path=path + (i,), offset=self.pos, need=st.size,
                                have=self.end - self.pos)
            if st.unpack_from(self.data, self.pos)[0] == 0:
                self.pos += st.size
                return False, None
            return True, NOPRIOR
        b = self.byte(path + (i,))
        more = m.after(b)
        if more is None:
            raise BadMarker(path=path + (i,), offset=self.pos - 1, got=b)
        return (True, m.seed(b) or NOPRIOR) if more else (False, None)

    def start_tree(self, at: Frame, path: Path, f: Field, value: Any) -> int:
        n = _BE32.unpack_from(self.data, self.need(4, path))[0]
        if 2 * n + 1 > self.end - self.pos:
            raise Truncated(path=path, offset=self.pos, need=2 * n + 1, have=self.end - self.pos)
        return n

    def tree_node(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[Any, Any]:
        b = self.byte(path + (i,))
        if b != TREE_NODE:
            raise BadMarker(path=path + (i,), offset=self.pos - 1, got=b)
        return NOPRIOR, NOPRIOR

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        b = self.byte(path)
        if b != TREE_END:
            raise BadMarker(path=path, offset=self.pos - 1, got=b)
        return [[k, v] for k, v in nodes]

    # subsections: vmstate_subsection_load
    def subsections(self, at: Frame, state: Any) -> Iterator[tuple[Subsection, int]]:
        data, parent = self.data, at.desc.name.encode()
        while self.pos < self.end and data[self.pos] == SUBSECTION:
            if self.pos + 2 > self.end:
                return
            n = data[self.pos + 1]
            if self.pos + 2 + n > self.end:
                return
            name = bytes(data[self.pos + 2:self.pos + 2 + n])
            if not claims_subsection(parent, name):
                return  # not ours: the caller's loop goes on
            sub = at.desc.subsection(name.decode("latin-1"))
            if sub is None:
                raise UnknownSubsection(path=at.path, offset=self.pos,
                                        sub=name.decode("latin-1"), name=at.desc.name)
            self.pos += 2 + n
            version = _BE32.unpack_from(self.data, self.need(4, at.path + (sub.name,)))[0]
            check_version(sub.description, version, path=at.path + (sub.name,), offset=self.pos - 4,
                          marshal=False)
            yield sub, version


# ----------------------------------------------------------------------------- API
def encode(desc: Description, state: Any) -> bytes:
    """The legacy payload of a state (fields then subsections; no section header)."""
    w = LegacyWriter()
    try:
        Walk(w).device(desc, desc.version_id, state)
    except InputError as e:
        raise e.located(device=desc.name) from None
    return bytes(w.out)


def decode_from(desc: Description, data: bytes | bytearray | memoryview, version: int,
                into: Any = None, offset: int = 0, end: int | None = None) -> tuple[Any, int]:
    """Read one payload at ``offset``; return (state, offset after it).

    Raises :class:`~vmcompat.errors.LoadError` located at the device.
    """
    r = LegacyReader(data, offset, end)
    try:
        state = load_versioned(Walk(r), desc, version, into)
    except LoadError as e:
        raise e.at(device=desc.name) from None
    return state, r.pos


def decode(desc: Description, data: bytes | bytearray | memoryview, version: int,
           into: Any = None) -> Any:
    """Read a whole payload; leftover bytes are an error (:class:`TrailingData`)."""
    state, pos = decode_from(desc, data, version, into)
    if pos != len(data):
        raise TrailingData(device=desc.name, offset=pos, count=len(data) - pos)
    return state


def _decode(desc: Description, data: bytes, version: int, into: Any = None) -> Any:
    return decode(desc, data, version, into)


from vmcompat.formats import Format, register  # noqa: E402  (registry import at the end)

LEGACY = register(Format("legacy", encode, _decode, self_describing=False,
                         doc="QEMU's migration wire, byte for byte"))
