"""Self-describing wires (BER, JSON): one writer and one reader visitor, two dialects.

Both wires carry a *device* = name + version + a set of *attributes*; an
attribute = name + must-parse flag + typed value, the value one of
``integer``, ``boolean``, ``octets``, ``null`` (a NULL pointer), ``struct``
(a set of attributes), ``list`` (values), ``tree`` ((key, value) pairs) or
``subsection`` (name + version + attributes). A :class:`Dialect` builds and
takes apart those nodes for one wire (asn1tools values for BER, plain JSON
for JSON); the visitors below hold every rule, so the two wires cannot drift.

Load semantics (matched BY NAME, never by position):

* the device name must match (else :class:`~vmcompat.errors.UnknownSection`);
  the stream's version is checked like the legacy wire (too new / too old,
  versioned marshal functions below the minimum);
* the destination reads the fields it reads on the legacy wire at the
  stream's version (``version_id`` and ``exists`` tests decide, on the
  destination's description and state), each looked up BY NAME: present in
  the stream -> loaded (type-checked); absent -> keeps the destination's
  prior value, else its ``default``;
* a value of the wrong kind (a struct where a scalar is expected, a boolean
  for an integer), an integer outside the destination type's range, a buffer
  of the wrong length, an array of the wrong length or a NULL where the
  destination has no pointer is refused with
  :class:`~vmcompat.errors.TypeMismatch` -- never converted;
* ``equal`` and ``le`` checks as on the legacy wire;
* a stream attribute the destination does not read (it lacks the field, or
  the field is newer than the stream's version, or its ``exists`` test is
  false): refused with :class:`~vmcompat.errors.UnknownField` if it is
  must-parse, skipped if not; an unknown subsection:
  :class:`~vmcompat.errors.UnknownSubsection` (subsection attributes are always
  must-parse, as on the legacy wire). Attributes named like one of the
  destination's off-wire fields (immutable/derived) or ``unused_buffer``
  fields are ignored (the destination dropped them on purpose).

A list whose legacy marker byte is stored in an element's off-wire field
(SCSI requests' ``retry``) sends that field as an integer attribute: the
legacy wire carries it too; on load it must be one of the marker's values
(:class:`~vmcompat.errors.BadMarker`).

Which attributes are must-parse (:func:`must_parse`): every field, except a
field with a declared ``default`` and every field inside a subsection that
has a ``needed`` predicate (optional state), at any depth. Subsection
attributes themselves are always must-parse.

The writer never fails on a validated state; only the reader raises.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from vmcompat.errors import (
    BadMarker,
    MissingField,
    Path,
    StreamError,
    TypeMismatch,
    UnknownField,
    UnknownSection,
    UnknownSubsection,
)
from vmcompat.formats.legacy import LegacyReader
from vmcompat.loadrules import check_version, load_versioned
from vmcompat.model import SUBSECTIONS_KEY, Description, Field, Subsection
from vmcompat.types import WireType
from vmcompat.walk import NOPRIOR, Frame, InputVisitor, Visitor, Walk, load_base
from vmcompat.words import plural

#: value kinds, as named in the ASN.1 module's ``Value`` CHOICE
KINDS = ("integer", "boolean", "octets", "null", "struct", "list", "tree", "subsection")


def must_parse(f: Field, in_needed_subsection: bool) -> bool:
    """Whether a destination that does not know ``f`` must refuse the stream.

    >>> from vmcompat.dsl import uint8
    >>> must_parse(uint8("a"), False), must_parse(uint8("a", default=0), False)
    (True, False)
    >>> must_parse(uint8("a"), True)
    False
    """
    return f.default is None and not in_needed_subsection


class Dialect(Protocol):
    """Builds and reads the nodes of one self-describing wire."""

    def integer(self, v: int) -> Any: ...
    def boolean(self, v: bool) -> Any: ...
    def octets(self, v: bytes) -> Any: ...
    def null(self) -> Any: ...
    def struct(self, attrs: list[Any]) -> Any: ...
    def list(self, items: list[Any]) -> Any: ...
    def tree(self, pairs: list[tuple[Any, Any]]) -> Any: ...
    def subsection(self, name: str, version: int, attrs: list[Any]) -> Any: ...
    def attr(self, name: str, must: bool, value: Any) -> Any: ...
    def device(self, name: str, version: int, attrs: list[Any]) -> Any: ...

    def struct_attrs(self, node: Any) -> list[Any]: ...
    def kind(self, node: Any) -> tuple[str, Any]:
        """(kind, payload) of a value; payloads normalised: ``octets`` bytes, ``tree``
        a list of (key, value), ``subsection`` (name, version, attrs). Raises StreamError."""
    def attr_parts(self, a: Any) -> tuple[str, bool, Any]: ...
    def device_parts(self, d: Any) -> tuple[str, int, list[Any]]: ...


class _Skip:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SKIP"


SKIP: Any = _Skip()  # writer: not an attribute; reader: nothing to store


def _musts(desc: Description, skippable: bool) -> dict[str, bool]:
    key = ("selfdesc-must", skippable)
    m = desc._cache.get(key)
    if m is None:
        m = desc._cache[key] = {f.name: must_parse(f, skippable) for f in desc.fields}
    return m


# ----------------------------------------------------------------------------- writer
@dataclass(slots=True)
class _WFrame:
    state: Any
    musts: dict[str, bool]
    skippable: bool
    marker: str | None = None  # a list element's off-wire marker field (sent: legacy sends it)
    attrs: list[Any] = field(default_factory=list)
    subs: list[tuple[str, int]] = field(default_factory=list)


class TreeWriter(Visitor):
    """Builds the dialect's value tree of a (validated) state."""

    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect

    def start_struct(self, at: Frame, value: Any) -> Any:
        skippable = ((at.parent is not None and at.parent.state.skippable)
                     or (at.sub is not None and at.sub.needed is not None))
        return _WFrame(value, _musts(at.desc, skippable), skippable, at.marker)

    def end_struct(self, at: Frame, value: Any) -> Any:
        return self.d.struct(value.attrs)

    def get(self, state: Any, name: str) -> Any:
        return state.state.get(name)

    def put(self, state: Any, name: str, value: Any) -> Any:
        d = self.d
        if name == SUBSECTIONS_KEY:
            for sub, version in state.subs:
                node = value[sub]
                state.attrs.append(d.attr(sub, True, d.subsection(sub, version,
                                                                  d.struct_attrs(node))))
        elif value is not SKIP:
            state.attrs.append(d.attr(name, state.musts[name], value))
        return state

    def exists(self, at: Frame, path: Path, f: Field, state: Any) -> bool:
        assert f.exists is not None
        return bool(f.exists(state.state))

    def offwire(self, at: Frame, path: Path, f: Field, value: Any) -> Any:
        if f.name == at.state.marker and value is not None:
            return self.d.integer(value)
        return SKIP

    def list_item(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        more = i < len(value)
        return more, (value[i] if more else None)

    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        if value is None:  # a defaulted field the state leaves out: not sent
            return SKIP
        return getattr(self.d, t.node)(value)

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        return SKIP if value is None else self.d.octets(bytes(value))

    def array(self, at: Frame, path: Path, f: Field, n: int | None, items: list[Any]) -> Any:
        null = self.d.null()
        return self.d.list([null if x is None else x for x in items])

    def end_list(self, at: Frame, path: Path, f: Field, items: list[Any]) -> Any:
        return self.d.list(items)

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        return self.d.tree(list(nodes))

    def subsections(self, at: Frame, state: Any) -> Iterator[tuple[Subsection, int]]:
        for s in at.desc.subsections:
            if s.is_needed(state.state):
                v = s.description.version_id
                state.subs.append((s.name, v))
                yield s, v


def write_tree(dialect: Dialect, desc: Description, state: Any) -> Any:
    """The dialect's device node for ``state`` saved with ``desc``."""
    node = Walk(TreeWriter(dialect)).device(desc, desc.version_id, state)
    return dialect.device(desc.name, desc.version_id, dialect.struct_attrs(node))


# ----------------------------------------------------------------------------- reader
@dataclass(slots=True)
class _RFrame:
    """A struct being loaded (the reader's state): its values and its stream attributes."""

    state: dict[str, Any]
    attrs: dict[str, tuple[bool, Any]]
    used: set[str] = field(default_factory=set)


def _mismatch(path: Path, detail: str) -> TypeMismatch:
    return TypeMismatch(path=path, detail=detail)


class TreeReader(InputVisitor):
    """Loads a dialect's value tree by name into a copy of the destination's prior state."""

    def __init__(self, dialect: Dialect, root: list[Any]) -> None:
        self.d = dialect
        self.root = root
        self.kept: dict[Path, Any] = {}  # composite fields absent from the stream: prior
        # (kind, payload) of each array/tree node, by id (the nodes live as long as the
        # reader): asked once per node, not once per element (no quadratic work)
        self._kinds: dict[int, tuple[str, Any]] = {}

    # navigation ----------------------------------------------------------------
    def _attrs(self, path: Path, attrs: Sequence[Any]) -> dict[str, tuple[bool, Any]]:
        out: dict[str, tuple[bool, Any]] = {}
        for a in attrs:
            name, must, value = self.d.attr_parts(a)
            if name in out:
                raise StreamError(path=path + (name,), detail=f"duplicate attribute '{name}'")
            out[name] = (must, value)
        return out

    def locate(self, at: Frame, path: Path) -> Any:
        """The stream node at ``path`` (inside ``at``'s struct), or None."""
        fr: _RFrame = at.state
        rel = path[len(at.path):]
        entry = fr.attrs.get(rel[0])  # type: ignore[arg-type]
        if entry is None:
            return None
        fr.used.add(rel[0])  # type: ignore[arg-type]
        node = entry[1]
        for depth, k in enumerate(rel[1:], 1):
            if isinstance(k, int):
                known = self._kinds.get(id(node))
                if known is None:
                    known = self._kinds[id(node)] = self.d.kind(node)
                kind, payload = known
                if kind not in ("list", "tree"):
                    raise _mismatch(path[:len(at.path) + depth],
                                    f"an array expected, the stream has {kind}")
                if k >= len(payload):
                    return None
                node = payload[k]
            else:  # "key"/"value" of a tree node (a (key, value) pair)
                node = node[0] if k == "key" else node[1]
        return node

    def _expect(self, path: Path, node: Any, want: str, what: str) -> Any:
        kind, payload = self.d.kind(node)
        if kind != want:
            raise _mismatch(path, f"{what} expected, the stream has {kind}")
        return payload

    # structs -------------------------------------------------------------------
    def start_struct(self, at: Frame, value: Any) -> Any:
        if at.parent is None:
            attrs = self.root
        else:
            node = self.locate(at.parent, at.path)
            if node is None:
                attrs = []
            else:
                kind, payload = self.d.kind(node)
                if kind == "struct":
                    attrs = payload
                elif kind == "subsection" and at.desc.name == payload[0]:
                    attrs = payload[2]
                else:
                    raise _mismatch(at.path, f"a struct expected, the stream has {kind}")
        return _RFrame(load_base(at.desc, value), self._attrs(at.path, attrs))

    def end_struct(self, at: Frame, value: Any) -> Any:
        fr: _RFrame = value
        if len(fr.used) < len(fr.attrs):
            dropped = {f.name for f in at.desc.fields if not (f.on_wire and f.in_state)}
            for name, (must, node) in fr.attrs.items():
                if name in fr.used or name in dropped or not must:
                    continue
                if self.d.kind(node)[0] == "subsection":
                    raise UnknownSubsection(path=at.path, sub=name, name=at.desc.name)
                raise UnknownField(path=at.path + (name,), field=name)
        return fr.state

    def get(self, state: Any, name: str) -> Any:
        return state.state.get(name, NOPRIOR)

    def put(self, state: Any, name: str, value: Any) -> Any:
        if value is not SKIP:
            super().put(state.state, name, value)
        return state

    def exists(self, at: Frame, path: Path, f: Field, state: Any) -> bool:
        return super().exists(at, path, f, state.state)

    def offwire(self, at: Frame, path: Path, f: Field, value: Any) -> Any:
        if f.name != at.marker:
            return value
        assert at.field is not None
        node = self.locate(at, path)
        got = None if node is None else self._expect(path, node, "integer", "a list marker")
        if got not in at.field.list_marker.more:
            raise BadMarker(path=path, got=got if isinstance(got, int) else -1)
        return got

    # scalars -------------------------------------------------------------------
    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        node = self.locate(at, path)
        if node is None:
            return value
        got = self._expect(path, node, t.node, t.name)
        if not t.valid(got):
            raise _mismatch(path, f"{got} is out of range of {t.name}")
        LegacyReader._check(path, f, t, got, value, None)  # type: ignore[arg-type]
        return got

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        node = self.locate(at, path)
        if node is None:
            return value
        got = self._expect(path, node, "octets", f"a {n}-byte buffer")
        if len(got) != n:
            raise _mismatch(path, f"a {n}-byte buffer expected, the stream has "
                                  f"{plural(len(got), 'byte')}")
        return got

    # arrays --------------------------------------------------------------------
    def count(self, at: Frame, path: Path, f: Field, state: Any) -> int:
        n = f.array_len if f.array_len is not None else self.get(state, str(f.varray))
        node = self.locate(at, path)
        if node is None:
            self.kept[path] = self.get(state, f.name)
            return 0
        items = self._expect(path, node, "list", "an array")
        if n is NOPRIOR:
            raise MissingField(path=path, detail=f"count field '{f.varray}' is not known")
        if not isinstance(n, int) or n != len(items):
            raise _mismatch(path, f"an array of {n} expected, the stream has {len(items)}")
        return n

    def pointer(self, at: Frame, path: Path, f: Field, value: Any) -> bool:
        node = self.locate(at, path)
        if node is None:
            return value is not None
        return self.d.kind(node)[0] != "null"

    def array(self, at: Frame, path: Path, f: Field, n: int | None, items: list[Any]) -> Any:
        if path in self.kept:
            prior = self.kept.pop(path)
            count = n if n is not None else len(items)
            if f.varray is not None and isinstance(prior, list) and len(prior) != count:
                raise MissingField(path=path, detail=f"absent from the stream, and the prior "
                                                     f"has {plural(len(prior), 'element')}, "
                                                     f"not {count}")
            return prior
        node = self.locate(at, path)
        if node is None:
            return NOPRIOR if any(x is NOPRIOR for x in items) else items
        got = self._expect(path, node, "list", "an array")
        if len(got) != n:
            raise _mismatch(path, f"an array of {n} expected, the stream has {len(got)}")
        return items

    # lists and trees -----------------------------------------------------------
    def _composite(self, at: Frame, path: Path, value: Any, want: str) -> list[Any] | None:
        node = self.locate(at, path)
        if node is None:
            self.kept[path] = value
            return None
        return self._expect(path, node, want, f"a {want}")

    def list_item(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        if i == 0:
            items = self._composite(at, path, value, "list")
        elif path in self.kept:
            return False, None
        else:
            items = self.d.kind(self.locate(at, path))[1]
        if items is None:
            return False, None
        return i < len(items), NOPRIOR

    def end_list(self, at: Frame, path: Path, f: Field, items: list[Any]) -> Any:
        return self.kept.pop(path) if path in self.kept else items

    def start_tree(self, at: Frame, path: Path, f: Field, value: Any) -> int:
        pairs = self._composite(at, path, value, "tree")
        return 0 if pairs is None else len(pairs)

    def tree_node(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[Any, Any]:
        return NOPRIOR, NOPRIOR

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        return self.kept.pop(path) if path in self.kept else [[k, v] for k, v in nodes]

    # subsections ---------------------------------------------------------------
    def subsections(self, at: Frame, state: Any) -> Iterator[tuple[Subsection, int]]:
        fr: _RFrame = state
        for name, (must, node) in list(fr.attrs.items()):
            if self.d.kind(node)[0] != "subsection":
                continue
            sub = at.desc.subsection(name)
            fr.used.add(name)
            if sub is None:
                if must:
                    raise UnknownSubsection(path=at.path, sub=name, name=at.desc.name)
                continue
            _, version, _ = self.d.kind(node)[1]
            check_version(sub.description, version, path=at.path + (name,), marshal=False)
            yield sub, version


def read_tree(dialect: Dialect, desc: Description, tree: Any, into: Any = None) -> Any:
    """Load a dialect's device node with ``desc`` (raises LoadError located at the device)."""
    from vmcompat.errors import LoadError

    try:
        name, version, attrs = dialect.device_parts(tree)
        if name != desc.name:
            raise UnknownSection(idstr=name, instance_id=0)
        return load_versioned(Walk(TreeReader(dialect, attrs)), desc, version, into)
    except LoadError as e:
        raise e.at(device=desc.name) from None
