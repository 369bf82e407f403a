"""The oracle: what loading a state saved under one description into another must give.

Computed from the two descriptions and the state alone, never by running the
codec (verdicts: :mod:`vmcompat.compat.verdict`). Two visitors of the one walk:

- :class:`SourceTokens` walks the *source* description with the state, like a
  writer, but emits typed tokens (a scalar with its wire type and path, a
  buffer, an unused run, a NULL marker, a list/tree marker byte, a tree count,
  a subsection header) instead of bytes;
- :class:`TokenReader` walks the *destination* description like a reader,
  consuming those tokens positionally (the legacy wire has no names) while
  building the **by-name projection**: each destination field takes the value
  of the source field of the same name (or of the source field it renames),
  fields absent from the stream keep the prior value or their ``default``.

As long as every destination read meets a token of the same size at the same
place, and the value read positionally equals the by-name value, the oracle
stays *aligned*: it predicts QEMU's checks (too new/old, unknown subsection,
equal mismatch, int32 le, bad marker, trailing data) exactly, applying the
rules and messages of :mod:`vmcompat.loadrules`, the one home of QEMU's loader
rules that the codecs apply too (the oracle's own job is the projection), and the load
must give the projection (:data:`EXACT`) or refuse with that reason
(:data:`REFUSE`). As soon as the layouts misalign (a size differs, a field is
missing or extra) or a positional value differs from the by-name value (two
same-size fields swapped, ``uint8`` read as ``int8`` with a value >= 128), the
reader goes on by name only and the expectation becomes :data:`EITHER`: the load
must refuse or give exactly the projection; anything else is corrupt.

Renames: a destination field whose name the source lacks, read positionally
from a source field of the same wire type whose name the destination lacks,
is a rename: compatible, with a note.

Marshal functions: a stream older than the destination's minimum that a
marshal function accepts is expected to load as
``marshal.convert(projection onto marshal.layout, prior)``: the marshal's
declared conversion is the expectation's source of truth (the oracle checks
the stream against the layout, not the conversion's arithmetic).

Self-describing wires (``Format.self_describing``): correspondence by name;
identical types give :data:`EXACT`, any type difference :data:`EITHER`.

>>> from vmcompat.dsl import device, uint8, uint16
>>> old = device("d", 1, uint8("a"))
>>> new = device("d", 2, uint8("a"), uint16("b", version=2, default=5), minimum=1)
>>> e = expect(old, new, {"a": 7})
>>> e.kind, e.state == {"a": 7, "b": 5}
('exact', True)
>>> expect(new, old, {"a": 7, "b": 1}).reason
<Reason.TOO_NEW: 'too_new'>
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from vmcompat.compat.aligned import overlay
from vmcompat.errors import InputError, LoadError, Path, Reason, dotted, message
from vmcompat.loadrules import SUBSECTION, TREE_END, TREE_NODE, check_version, claims_subsection
from vmcompat.marshal import MARSHALS
from vmcompat.model import NULLPTR_MARKER, SUBSECTIONS_KEY, Description, Field, Subsection
from vmcompat.plan import Run
from vmcompat.types import TYPES, WireType
from vmcompat.values import immutable
from vmcompat.walk import NOPRIOR, Frame, InputVisitor, OutputVisitor, Walk
from vmcompat.words import plural

#: expectation kinds
EXACT, REFUSE, EITHER = "exact", "refuse", "either"
#: what each kind means, for people
OUTCOMES = {EXACT: "QEMU loads the expected state",
            EITHER: "QEMU refuses the load, or loads exactly the expected state",
            REFUSE: "QEMU refuses the load"}

NOTHING_LEFT = "the stream holds nothing more to read here"

_MISSING: Any = object()


@immutable
class Expectation:
    """What the load must do: ``exact`` (give ``state``), ``refuse`` (with ``reason``),
    or ``either`` (refuse, or give exactly ``state``)."""

    kind: str
    state: Any = None
    reason: Reason | None = None
    detail: str = ""
    notes: tuple[str, ...] = ()


@dataclass(slots=True)
class Token:
    """One item the source writes: ``kind`` is scalar, buffer, unused, null, byte, count, sub."""

    kind: str
    path: Path
    size: int
    value: Any
    type: WireType | None = None
    names: frozenset[str] = field(default_factory=frozenset)

    def packed(self) -> bytes:
        """The bytes of this token (to reinterpret them under another type)."""
        if self.kind == "scalar" and self.type is not None:
            return struct.pack(">" + self.type.fmt, self.value)
        if self.kind in ("buffer", "unused"):
            return bytes(self.value)
        if self.kind in ("null", "byte"):
            return bytes((self.value & 0xFF,))
        if self.kind == "count":
            return struct.pack(">I", self.value)
        name = self.value[0].encode()
        return bytes((SUBSECTION, len(name))) + name + struct.pack(">I", self.value[1])


class SourceTokens(OutputVisitor):
    """Walks the source description with a state; emits :class:`Token` s (a writer)."""

    def __init__(self) -> None:
        self.tokens: list[Token] = []
        #: the runs written, by the index of their first token: (run, path of its struct)
        self.runs: dict[int, tuple[Run, Path]] = {}

    def run(self, at: Frame, path: Path, run: Run, state: Any) -> Any:
        """A run's tokens, as :meth:`scalar` emits them one element at a time, and where
        the run starts (a reader of an equal layout there takes its values as they are)."""
        tokens = self.tokens
        self.runs[len(tokens)] = (run, path)
        names = at.desc.field_names
        for slot in run.slots:
            name, t = slot.field.name, slot.type
            value = self.get(state, name)
            if slot.count is None:
                tokens.append(Token("scalar", path + (name,), t.size, value, t, names))
            else:
                p = path + (name,)
                tokens.extend(Token("scalar", p + (i,), t.size, self.item(value, i), t, names)
                              for i in range(slot.count))
        return state

    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        self.tokens.append(Token("scalar", path, t.size, value, t, at.desc.field_names))
        return value

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        self.tokens.append(Token("buffer", path, n, bytes(value), None, at.desc.field_names))
        return value

    def unused(self, at: Frame, path: Path, f: Field, n: int) -> None:
        self.tokens.append(Token("unused", path, n, bytes(n)))

    def pointer(self, at: Frame, path: Path, f: Field, value: Any) -> bool:
        if value is None:
            self.tokens.append(Token("null", path, 1, NULLPTR_MARKER))
            return False
        return True

    def list_item(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        m = f.list_marker
        if i < len(value):
            elem = value[i]
            if m.sentinel is None:
                b = m.byte_for(elem)
                self.tokens.append(Token("byte", path + (i,), 1, b))
            return True, elem
        if m.sentinel is not None:
            assert f.struct is not None
            t = TYPES[f.struct.field(m.sentinel).type]
            self.tokens.append(Token("scalar", path + (i, m.sentinel), t.size, 0, t))
        else:
            self.tokens.append(Token("byte", path + (i,), 1, m.end))
        return False, None

    def start_tree(self, at: Frame, path: Path, f: Field, value: Any) -> int:
        self.tokens.append(Token("count", path, 4, len(value)))
        return len(value)

    def tree_node(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[Any, Any]:
        self.tokens.append(Token("byte", path + (i,), 1, TREE_NODE))
        return value[i][0], value[i][1]

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        self.tokens.append(Token("byte", path, 1, TREE_END))
        return [[k, v] for k, v in nodes]

    def subsections(self, at: Frame, state: Any) -> Iterator[tuple[Subsection, int]]:
        for s in at.desc.subsections:
            if s.is_needed(state):
                v = s.description.version_id
                self.tokens.append(Token("sub", at.path + (s.name,), 6 + len(s.name.encode()),
                                         (s.name, v)))
                yield s, v


class _Refuse(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def lookup(state: Any, path: Path) -> Any:
    """The value at ``path`` in a state (subsections by name, gtree ``key``/``value``)."""
    cur = state
    for p in path:
        if isinstance(cur, dict):
            if p in cur:
                cur = cur[p]
                continue
            subs = cur.get(SUBSECTIONS_KEY)
            if isinstance(subs, dict) and p in subs:
                cur = subs[p]
                continue
            return _MISSING
        if isinstance(cur, (list, tuple)):
            if p in ("key", "value") and len(cur) == 2 and not isinstance(p, int):
                cur = cur[0 if p == "key" else 1]
                continue
            if isinstance(p, int) and 0 <= p < len(cur):
                cur = cur[p]
                continue
        return _MISSING
    return cur


def _reinterpret(tok: Token, t: WireType) -> Any:
    """What a read of type ``t`` gets from the bytes of ``tok``."""
    v = tok.value
    if tok.type is t and t.reads_back(v):
        return v  # written and read as one type: the same number, without the bytes
    data = tok.packed()
    if len(data) != t.size:
        return _MISSING
    return struct.unpack(">" + t.fmt, data)[0]


class TokenReader(InputVisitor):
    """Walks the destination like a reader, over the source's tokens (see module doc)."""

    #: QEMU runs the subsection loop after every struct, declared subsections or not
    subsection_loop = True

    def __init__(self, tokens: list[Token], source: Any, self_describing: bool = False,
                 sub_versions: dict[Path, int] | None = None,
                 runs: dict[int, tuple[Run, Path]] | None = None) -> None:
        self.tokens, self.i, self.source = tokens, 0, source
        self.runs = runs or {}  # SourceTokens.runs
        self.aligned = not self_describing
        self.self_describing = self_describing
        self.notes: list[str] = []
        self.why = ""  # first misalignment/divergence
        self.sub_versions = sub_versions or {}

    # alignment ---------------------------------------------------------------
    def lose(self, path: Path, why: str) -> None:
        if self.aligned:
            self.aligned = False
            self.why = f"{dotted(path) or '<top>'}: {why}"

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.aligned and self.i < len(self.tokens) else None

    def take(self, path: Path, size: int, kinds: tuple[str, ...]) -> Token | None:
        if not self.aligned:
            return None
        if self.i >= len(self.tokens):
            self.lose(path, NOTHING_LEFT)
            return None
        tok = self.tokens[self.i]
        if tok.size != size or tok.kind not in kinds:
            self.lose(path, f"QEMU reads {plural(size, 'byte')} here, where the source wrote "
                            f"the {plural(tok.size, 'byte')} of {dotted(tok.path)}")
            return None
        self.i += 1
        return tok

    def renamed(self, at: Frame, tok: Token, path: Path) -> bool:
        """A leaf rename: names differ at one level, each unknown to the other side."""
        if tok.kind == "unused" or len(tok.path) != len(path):
            return False
        diff = [k for k, (a, b) in enumerate(zip(tok.path, path)) if a != b]
        if len(diff) != 1 or not isinstance(path[diff[0]], str):
            return False
        k = diff[0]
        old, new = tok.path[k], path[k]
        if new in tok.names or old in at.desc.field_names:
            return False
        note = (f"{dotted(path[:k + 1])} is loaded from the bytes of {dotted(tok.path[:k + 1])}"
                f", at the same place: taken as a rename")
        if note not in self.notes:
            self.notes.append(note)
        return True

    def byname(self, path: Path, keep: Any) -> Any:
        v = lookup(self.source, path)
        return keep if v is _MISSING else v

    def settle(self, at: Frame, path: Path, tok: Token | None, positional: Any, keep: Any
               ) -> Any:
        """The projected value of a leaf read positionally from ``tok``."""
        if tok is None:
            return self.byname(path, keep)
        if tok.path == path or self.renamed(at, tok, path):
            expected = tok.value
        else:
            expected = self.byname(path, _MISSING)
            if expected is _MISSING and tok.kind == "unused" and positional is not _MISSING:
                # a field restored where the source keeps VMSTATE_UNUSED: it reads the zeros
                note = f"{dotted(path)} reads the unused bytes of {dotted(tok.path)}"
                if note not in self.notes:
                    self.notes.append(note)
                return positional
            if expected is _MISSING:
                self.lose(path, f"the source has no such field: QEMU reads it from the bytes "
                                f"of {dotted(tok.path)}")
                return keep
        if positional is _MISSING or positional != expected or \
                type(positional) is not type(expected):
            self.lose(path, f"QEMU reads {positional!r} from the bytes of {dotted(tok.path)}, "
                            f"where the source saved {expected!r}")
        return expected

    # structs -----------------------------------------------------------------
    def put(self, state: Any, name: str, value: Any) -> Any:
        state[name] = value  # the projection keeps NOPRIOR marks; normalize() drops them
        return state

    # scalars -----------------------------------------------------------------
    def run(self, at: Frame, path: Path, run: Run, state: Any) -> Any:
        """Each element as :meth:`scalar` reads it; where the source wrote a run of the same
        layout at the same path, a plain integer's token is taken as it is, which is all
        :meth:`scalar` does with it (same type, same path, no check, reads back)."""
        src = self.runs.get(self.i) if self.aligned else None
        same = src is not None and src[1] == path and src[0].layout == run.layout
        for slot in run.slots:
            f, t = slot.field, slot.type
            fast = same and t.plain
            p, cur = path + (f.name,), self.get(state, f.name)
            if slot.count is None:
                state[f.name] = self._element(at, p, f, t, fast, cur, None)
            else:
                state[f.name] = [self._element(at, p + (i,), f, t, fast, cur, i)
                                 for i in range(slot.count)]
        return state

    def _element(self, at: Frame, path: Path, f: Field, t: WireType, fast: bool, cur: Any,
                 i: int | None) -> Any:
        """One element of a run: the source's token as it is when ``fast`` allows and it
        reads back, else as :meth:`scalar` reads it (``cur``: the field's prior, item ``i``
        of it for an array)."""
        v = self.tokens[self.i].value if fast and self.aligned else _MISSING
        if v is not _MISSING and t.reads_back(v):
            self.i += 1
            return v
        return self.scalar(at, path, f, t, cur if i is None else self.item(cur, i))

    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        tok = self.take(path, t.size, ("scalar", "unused", "byte", "null", "count"))
        positional = _MISSING
        if tok is not None:
            positional = _reinterpret(tok, t)
            if positional is not _MISSING:
                positional = t.from_int(positional)
            self.check(path, f, t, positional, value)
        elif self.self_describing:
            src_t = self.source_type(path)
            if src_t is not None and src_t.name != t.name and not self.why:
                self.why = f"{dotted(path)}: type {src_t.name} in the source, {t.name} here"
        return self.settle(at, path, tok, positional, value)

    def source_type(self, path: Path) -> WireType | None:
        for tok in self.tokens:
            if tok.path == path:
                return tok.type
        return None

    def check(self, path: Path, f: Field, t: WireType, got: Any, prior: Any) -> None:
        local = prior if prior is not None and prior is not NOPRIOR else f.default
        refused = t.refusal(got, local)
        if refused is not None:
            reason, params = refused
            raise _Refuse(reason, f"{dotted(path)}: {message(reason, **params)}")

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        tok = self.take(path, n, ("buffer", "unused"))
        return self.settle(at, path, tok, None if tok is None else bytes(tok.value), value)

    def unused(self, at: Frame, path: Path, f: Field, n: int) -> None:
        if not self.aligned:
            return
        got = 0
        while got < n:
            if self.i >= len(self.tokens):
                self.lose(path, NOTHING_LEFT)
                return
            tok = self.tokens[self.i]
            if got + tok.size > n or tok.kind == "sub":
                self.lose(path, f"{plural(n, 'unused byte')} end inside {dotted(tok.path)}")
                return
            got += tok.size
            self.i += 1

    # arrays ------------------------------------------------------------------
    def count(self, at: Frame, path: Path, f: Field, state: Any) -> int:
        if f.array_len is not None:
            return f.array_len
        n = state.get(f.varray)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            if self.aligned:
                raise _Refuse(Reason.BAD_VALUE, f"{dotted(path)}: bad element count {n!r}")
            src = lookup(self.source, path)
            return len(src) if isinstance(src, list) else 0
        return n

    def pointer(self, at: Frame, path: Path, f: Field, value: Any) -> bool:
        tok = self.peek()
        if value is None:  # NULL in the destination: only the marker is checked
            if tok is not None:
                if tok.kind == "null":
                    self.i += 1
                else:
                    self.lose(path, f"a NULL slot here, where the source wrote "
                                    f"{dotted(tok.path)}")
            return False
        if tok is not None and tok.kind == "null":
            self.lose(path, "the source wrote NULL where this slot is present")
        return True

    # lists and trees ---------------------------------------------------------
    def list_item(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        m = f.list_marker
        if not self.aligned:
            src = lookup(self.source, path)
            if isinstance(src, list) and i < len(src):
                return True, ({m.field: src[i].get(m.field)} if m.field is not None
                              and isinstance(src[i], dict) else NOPRIOR)
            return False, None
        if m.sentinel is not None:
            assert f.struct is not None
            t = TYPES[f.struct.field(m.sentinel).type]
            tok = self.peek()
            if tok is None or tok.size != t.size or tok.kind not in ("scalar", "unused"):
                self.lose(path + (i,), "the list's end marker is not where the source wrote it")
                return self.list_item(at, path, f, value, i)
            if _reinterpret(tok, t) == 0:
                self.i += 1
                return False, None
            return True, NOPRIOR
        tok = self.take(path + (i,), 1, ("byte",))
        if tok is None:
            return self.list_item(at, path, f, value, i)
        more = m.after(tok.value)
        if more is None:
            raise _Refuse(Reason.BAD_MARKER, f"{dotted(path + (i,))}: "
                          + message(Reason.BAD_MARKER, got=tok.value))
        return (True, m.seed(tok.value) or NOPRIOR) if more else (False, None)

    def start_tree(self, at: Frame, path: Path, f: Field, value: Any) -> int:
        tok = self.take(path, 4, ("count",))
        if tok is not None:
            return int(tok.value)
        src = lookup(self.source, path)
        return len(src) if isinstance(src, list) else 0

    def tree_node(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[Any, Any]:
        tok = self.take(path + (i,), 1, ("byte",))
        if tok is not None and tok.value != TREE_NODE:
            raise _Refuse(Reason.BAD_MARKER, f"{dotted(path + (i,))}: "
                          + message(Reason.BAD_MARKER, got=tok.value))
        return NOPRIOR, NOPRIOR

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        tok = self.take(path, 1, ("byte",))
        if tok is not None and tok.value != TREE_END:
            raise _Refuse(Reason.BAD_MARKER,
                          f"{dotted(path)}: " + message(Reason.BAD_MARKER, got=tok.value))
        return [[k, v] for k, v in nodes]

    # subsections: vmstate_subsection_load --------------------------------------
    def names_a_sub(self, parent: bytes) -> bool:
        """Whether the bytes ahead (a 0x05 first) read as a subsection header of ``parent``:
        QEMU takes them as one only when the length byte leaves room for "parent/…" and
        the name starts with the parent's name; anything else ends its loop quietly.
        Unsure (the name runs past what the source wrote): True."""
        ahead = b""
        for tok in self.tokens[self.i:]:
            ahead += tok.packed()
            if len(ahead) >= 2 + 255:
                break
        if len(ahead) < 2:
            return True
        n = ahead[1]
        if n < len(parent) + 1:
            return False
        name = ahead[2:2 + n]
        return parent.startswith(name) if len(name) < len(parent) else name.startswith(parent)

    def subsections(self, at: Frame, state: Any) -> Iterator[tuple[Subsection, int]]:
        parent = at.desc.name.encode()
        while self.aligned:
            tok = self.peek()
            if tok is None:
                return
            if tok.kind != "sub":
                if tok.packed()[:1] == bytes((SUBSECTION,)) and self.names_a_sub(parent):
                    self.lose(at.path, f"{dotted(tok.path)} starts with byte 0x05 where QEMU "
                                    "looks for a subsection")
                    break
                return
            name, version = tok.value
            if not claims_subsection(parent, name.encode()):
                return  # not ours: QEMU's loop ends quietly
            sub = at.desc.subsection(name)
            if sub is None:
                raise _Refuse(Reason.UNKNOWN_SUBSECTION, message(
                    Reason.UNKNOWN_SUBSECTION, sub=name, name=at.desc.name))
            self.i += 1
            try:
                check_version(sub.description, version, marshal=False)
            except LoadError as e:
                raise _Refuse(e.reason, f"subsection {name}: {e.message}") from None
            yield sub, version
        # by name: the subsections the source sent that the destination knows
        for sub in at.desc.held_subsections(lookup(self.source, at.path + (SUBSECTIONS_KEY,))):
            yield sub, self.sub_versions.get(at.path + (sub.name,), sub.description.version_id)


#: the values of a state that hold others (leaves are everything else)
CONTAINERS = (dict, list)


def normalize(value: Any) -> Any:
    """Drop NOPRIOR ("no value") entries so projections compare cleanly."""
    if isinstance(value, dict):  # leaves are taken as they are, without a call each
        return {k: normalize(v) if isinstance(v, CONTAINERS) else v
                for k, v in value.items() if v is not NOPRIOR}
    if isinstance(value, list):
        return [normalize(v) if isinstance(v, CONTAINERS) else v for v in value]
    return value


def _version_check(dst: Description, version: int) -> Expectation | str | None:
    """Refusal for the version, a marshal name, or None (plain load): QEMU's rule is
    :func:`vmcompat.loadrules.check_version`."""
    try:
        return check_version(dst, version)
    except LoadError as e:
        return Expectation(REFUSE, reason=e.reason, detail=e.message)


def expect(src: Description, dst: Description, state: Any, prior: Any = None, *,
           self_describing: bool = False) -> Expectation:
    """The expected outcome of loading ``state`` (saved with ``src``) into ``dst``.

    ``prior`` is the destination's state before the load (fields absent from
    the stream keep it).
    """
    version = src.version_id
    check = _version_check(dst, version)
    if isinstance(check, Expectation):
        return check
    m = MARSHALS.get(check) if isinstance(check, str) else None
    if not self_describing and (check is None or m is not None):
        target, into = (dst, prior) if m is None else (m.layout, None)
        loaded = overlay(src, target, version, state, into)
        if loaded is not None:
            return _loaded(EXACT, loaded, "", [], check, prior)
    return _walked(src, dst, check, state, prior, self_describing)


def walked(src: Description, dst: Description, state: Any, prior: Any = None, *,
           self_describing: bool = False) -> Expectation:
    """:func:`expect` by the full walks alone (what :mod:`vmcompat.compat.aligned`'s
    shortcut must agree with wherever it answers)."""
    check = _version_check(dst, src.version_id)
    if isinstance(check, Expectation):
        return check
    return _walked(src, dst, check, state, prior, self_describing)


def _walked(src: Description, dst: Description, check: str | None, state: Any, prior: Any,
            self_describing: bool) -> Expectation:
    """The full walks, past the version check (``check``: a marshal's name, or None)."""
    version = src.version_id
    writer = SourceTokens()
    Walk(writer).device(src, version, state)
    subv = {t.path: t.value[1] for t in writer.tokens if t.kind == "sub"}
    reader = TokenReader(writer.tokens, state, self_describing, subv, writer.runs)
    target, into = dst, prior
    if isinstance(check, str):
        m = MARSHALS.get(check)
        if m is None:
            raise InputError(f"marshal function {check!r} is not registered", device=dst.name)
        target, into = m.layout, None
    try:
        loaded = Walk(reader).device(target, version, into)
    except _Refuse as r:
        return Expectation(REFUSE, reason=r.reason, detail=r.detail, notes=tuple(reader.notes))
    if reader.aligned and reader.i < len(reader.tokens):
        nxt = reader.tokens[reader.i]
        if (nxt.kind == "sub" and not target.subsections
                and claims_subsection(target.name.encode(), nxt.value[0].encode())):
            # QEMU always runs vmstate_subsection_load, even with no subsections declared
            return Expectation(REFUSE, reason=Reason.UNKNOWN_SUBSECTION,
                               detail=message(Reason.UNKNOWN_SUBSECTION, sub=nxt.value[0],
                                              name=target.name), notes=tuple(reader.notes))
        left = sum(t.size for t in reader.tokens[reader.i:])
        return Expectation(REFUSE, reason=Reason.TRAILING,
                           detail=message(Reason.TRAILING, count=left),
                           notes=tuple(reader.notes))
    if self_describing:
        kind = EITHER if reader.why else EXACT
    else:
        kind = EXACT if reader.aligned else EITHER
    return _loaded(kind, loaded, reader.why, list(reader.notes), check, prior)


def _loaded(kind: str, loaded: Any, why: str, notes: list[str], check: str | None,
            prior: Any) -> Expectation:
    """The expectation of a load that gave ``loaded``: through the marshal function
    ``check`` names, if any (its declared conversion over ``prior``)."""
    if check is not None:
        try:
            loaded = MARSHALS[check].convert(loaded, prior)
        except (LoadError, InputError, KeyError, TypeError, ValueError) as e:
            return Expectation(EITHER, state=None, detail=f"marshal {check}: {e}",
                               notes=tuple(notes))
        notes.append(f"loaded through marshal function {check!r}")
    return Expectation(kind, state=normalize(loaded), detail=why, notes=tuple(notes))
