"""One walk, many visitors.

:class:`Walk` owns recursion and the path; a :class:`Visitor` sees one call
per node and never recurses by itself. The walk follows QAPI's visitor
contract: every method takes the current value and returns the value to keep,
so an output visitor (a writer) returns what it was given, an input visitor (a
reader) returns what it read, and a *virtual* visitor (schema, strategy) gets
``None`` and returns what it builds.

Every callback's first argument is the :class:`Frame` it is in (the enclosing
description, its state, its role, its parent frame), as jsonschema hands each keyword
function its validator: a visitor keeps no stack of enclosing structs and hands the next
callback nothing through attributes. What visitors used to re-detect has a hook or a
frame attribute: ``bitmap`` (a bitmap's words), ``Frame.sub``/role ``subsection`` (a
subsection starts), ``Frame.marker`` (a list element's marker field), ``Frame.fresh``
(inside a list or tree element).

The walk iterates a description's compiled :class:`~vmcompat.plan.Plan`:
visitors may handle a whole :class:`~vmcompat.plan.Run` at once (the legacy
codec packs it with one ``struct.Struct``); :class:`Visitor`'s default splits
it into ``scalar`` calls, so both paths give the same result.

>>> from vmcompat.model import Description, Field
>>> d = Description("dev", 1, 1, (Field("a", "uint8"), Field("b", "bool")))
>>> class Names(Visitor):
...     def scalar(self, at, path, f, t, value):
...         print(".".join(map(str, path)), t.name)
...         return value
>>> _ = Walk(Names()).device(d, 1, {"a": 1, "b": True})
a uint8
b bool
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from vmcompat.errors import Path
from vmcompat.model import SUBSECTIONS_KEY, Description, Field, Subsection, bitmap_words
from vmcompat.plan import Run, plan_of
from vmcompat.types import TYPES, WireType

_U64 = TYPES["uint64"]


#: what a struct is to its parent (:attr:`Frame.role`)
DEVICE, FIELD, SUBSECTION, ITEM, KEY, VALUE = (
    "device", "field", "subsection", "item", "key", "value")


_new = tuple.__new__


class Frame(NamedTuple):
    """The struct a callback is in: what the walk hands every callback (as jsonschema
    hands each keyword function its validator), so no visitor keeps its own stack.

    Immutable: a named tuple, made on the codecs' path too (one per struct, two where
    ``start_struct`` returns a new state). ``state`` is what ``start_struct`` returned
    (in the frame ``start_struct`` itself gets: the value it is passed); ``field`` is
    the field whose value the struct is (``None`` for the device and a subsection),
    ``sub`` the subsection it is (role ``subsection``).
    """

    path: Path
    desc: Description
    version: int
    role: str
    parent: Frame | None = None
    field: Field | None = None
    sub: Subsection | None = None
    state: Any = None
    #: inside a list or tree element (roles item/key/value), however deep: the loader
    #: allocates it fresh
    fresh: bool = False

    def holding(self, state: Any) -> Frame:
        """This frame with the struct's state (what ``start_struct`` returned)."""
        return _new(Frame, (self[0], self[1], self[2], self[3], self[4], self[5], self[6],
                            state, self[8]))

    @property
    def marker(self) -> str | None:
        """The off-wire marker field a list element carries (its list's), or None."""
        if self.role != ITEM or self.field is None:
            return None
        return self.field.list_marker.field



class Visitor:
    """Base visitor: pass-through defaults; override what a format needs.

    Writers must not fail on a validated state; only readers raise
    :class:`~vmcompat.errors.LoadError`.
    """

    #: virtual visitors walk a description without a state (lists once, all fields)
    virtual: bool = False
    #: readers of QEMU's wire run the subsection loop after every struct, declared
    #: subsections or not (``vmstate_load_state`` always calls ``vmstate_subsection_load``)
    subsection_loop: bool = False
    #: state visitors (JSON conversion, validation) see every field the state holds,
    #: off-wire and exists-tested ones too, and every subsection it holds
    all_fields: bool = False

    # structs -----------------------------------------------------------------
    def start_struct(self, at: Frame, value: Any) -> Any:
        return value

    def end_struct(self, at: Frame, value: Any) -> Any:
        return value

    def exists(self, at: Frame, path: Path, f: Field, state: Any) -> bool:
        """Whether a field with an ``exists`` test is on the wire."""
        assert f.exists is not None
        return bool(f.exists(state))

    def missing(self, at: Frame, path: Path, f: Field, state: Any) -> Any:
        """An ``all_fields`` visitor met a field the state does not hold; returns the state."""
        return state

    def offwire(self, at: Frame, path: Path, f: Field, value: Any) -> Any:
        """An immutable/derived field: in the state, never sent."""
        return value

    def get(self, state: Any, name: str) -> Any:
        return None if state is None else state.get(name)

    def put(self, state: Any, name: str, value: Any) -> Any:
        state[name] = value
        return state

    # scalars -------------------------------------------------------------------
    def run(self, at: Frame, path: Path, run: Run, state: Any) -> Any:
        """A run of fixed-size scalars; default: one ``scalar`` call per element."""
        for slot in run.slots:
            f = slot.field
            if self.all_fields and not self.virtual and f.name not in state:
                state = self.missing(at, path + (f.name,), f, state)
                continue
            cur = self.get(state, f.name)
            p = path + (f.name,)
            if slot.count is None:
                new = self.scalar(at, p, f, slot.type, cur)
            else:
                items = [self.scalar(at, p + (i,), f, slot.type, self.item(cur, i))
                         for i in range(slot.count if not self.virtual else 1)]
                new = (self.array(at, p, f, slot.count, items) if f.words is None
                       else self.bitmap(at, p, f, items))
            state = self.put(state, f.name, new)
        return state

    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        return value

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        return value

    def unused(self, at: Frame, path: Path, f: Field, n: int) -> None:
        return None

    # arrays --------------------------------------------------------------------
    def count(self, at: Frame, path: Path, f: Field, state: Any) -> int:
        """Elements of an array field (fixed, or from its count field)."""
        if f.array_len is not None:
            return f.array_len
        assert f.varray is not None
        return int(self.get(state, f.varray) or 0)

    def item(self, value: Any, i: int) -> Any:
        if isinstance(value, (list, tuple)) and i < len(value):
            return value[i]
        return None

    def pointer(self, at: Frame, path: Path, f: Field, value: Any) -> bool:
        """Array of pointers: True if this element is present (not NULL)."""
        return value is not None

    def array(self, at: Frame, path: Path, f: Field, n: int | None, items: list[Any]) -> Any:
        return items

    def bitmap(self, at: Frame, path: Path, f: Field, words: list[Any]) -> Any:
        """A bitmap's 64-bit words (one, in a virtual walk); default: an array of them."""
        return self.array(at, path, f, None if self.virtual else len(words), words)

    # lists and trees -----------------------------------------------------------
    def list_item(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        """Whether element ``i`` follows, and its prior value (writers: the element)."""
        more = isinstance(value, list) and i < len(value)
        return more, (value[i] if more else None)

    def end_list(self, at: Frame, path: Path, f: Field, items: list[Any]) -> Any:
        return items

    def start_tree(self, at: Frame, path: Path, f: Field, value: Any) -> int:
        return len(value) if isinstance(value, list) else 0

    def tree_node(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[Any, Any]:
        """Prior (key, value) of node ``i``."""
        node = self.item(value, i)
        return (node[0], node[1]) if node is not None else (None, None)

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        return [[k, v] for k, v in nodes]

    # subsections ---------------------------------------------------------------
    def subsections(self, at: Frame, state: Any) -> Iterable[tuple[Subsection, int]]:
        """The subsections to visit, in order, each with its stream version."""
        if self.all_fields:
            desc = at.desc
            subs = desc.subsections if self.virtual else desc.held_subsections(
                self.get(state, SUBSECTIONS_KEY))
            for s in subs:
                yield s, s.description.version_id
            return
        for s in at.desc.subsections:
            if s.is_needed(state):
                yield s, s.description.version_id

    def end_subsections(self, at: Frame, state: Any) -> Any:
        return state


def load_base(desc: Description, prior: Any) -> dict[str, Any]:
    """Where loading a struct starts: a copy of the prior state, absent fields at their default.

    Every reader (legacy, self-describing, the oracle's) starts a struct here, so
    "fields absent from the stream keep the prior value or their default" has one home.

    >>> from vmcompat.dsl import device, uint8
    >>> load_base(device("d", 1, uint8("a", default=3), uint8("b")), {"b": 1})
    {'b': 1, 'a': 3}
    """
    state = dict(prior) if isinstance(prior, dict) else {}
    for f in desc.fields:
        if f.default is not None and f.name not in state:
            state[f.name] = f.default
    return state


class _NoPrior:
    """A reader's prior for a field or element the destination does not have."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOPRIOR"

    def __bool__(self) -> bool:
        return False


#: what a reader's ``get``/``item`` give where the destination has no prior value
NOPRIOR: Any = _NoPrior()


class InputVisitor(Visitor):
    """Base of readers: each struct starts from :func:`load_base`; a field or element
    the destination has no prior for reads as :data:`NOPRIOR` and is never stored."""

    def start_struct(self, at: Frame, value: Any) -> Any:
        return load_base(at.desc, value)

    def get(self, state: Any, name: str) -> Any:
        return state.get(name, NOPRIOR)

    def put(self, state: Any, name: str, value: Any) -> Any:
        if value is not NOPRIOR:  # an off-wire field the destination does not have stays absent
            state[name] = value
        return state

    def item(self, value: Any, i: int) -> Any:
        if isinstance(value, (list, tuple)) and i < len(value):
            return value[i]
        return NOPRIOR


class OutputVisitor(Visitor):
    """Base of writers: they read the state and never change it (``put`` keeps it as is)."""

    def put(self, state: Any, name: str, value: Any) -> Any:
        return state


class _Kept(OutputVisitor):
    """Collects the fields a load leaves as they were, wherever the state lacks them."""

    def __init__(self) -> None:
        self.absent: list[Path] = []

    def start_struct(self, at: Frame, value: Any) -> Any:
        for f in at.desc.fields:
            off = not f.on_wire or not f.present_at(at.version)
            if off and f.in_state and f.name not in value:
                self.absent.append(at.path + (f.name,))
        return value

    def exists(self, at: Frame, path: Path, f: Field, state: Any) -> bool:
        sent = super().exists(at, path, f, state)
        if not sent and f.in_state and f.name not in state:
            self.absent.append(path + (f.name,))
        return sent

    def subsections(self, at: Frame, state: Any) -> Iterator[tuple[Subsection, int]]:
        for s in at.desc.held_subsections(state.get(SUBSECTIONS_KEY)):
            yield s, s.description.version_id


def kept_absent(desc: Description, version: int, loaded: Any) -> list[Path]:
    """Fields a load of a ``version`` stream left as they were (off the wire, newer than
    the stream, or skipped by their test) for which ``loaded`` holds no value: the prior
    state must give them.

    >>> from vmcompat.dsl import device, uint8
    >>> d = device("d", 2, uint8("a"), uint8("b", version=2), uint8("c", immutable=True))
    >>> kept_absent(d, 1, {"a": 5})
    [('b',), ('c',)]
    """
    v = _Kept()
    Walk(v).device(desc, version, loaded)
    return v.absent


class Walk:
    """Drives a visitor over a description (and a state), handing each callback its
    :class:`Frame`."""

    __slots__ = ("v",)

    def __init__(self, visitor: Visitor) -> None:
        self.v = visitor

    def device(self, desc: Description, version: int | None = None, value: Any = None) -> Any:
        v = desc.version_id if version is None else version
        return self.struct(Frame((), desc, v, DEVICE, state=value), value)

    def struct(self, at: Frame, value: Any) -> Any:
        v = self.v
        state = v.start_struct(at, value)
        path, desc, version, role, parent, f, sub, _, fresh = at
        if state is not value:
            at = _new(Frame, (path, desc, version, role, parent, f, sub, state, fresh))
        for step in plan_of(desc, version).steps:
            if type(step) is Run:
                state = v.run(at, path, step, state)
            else:
                state = self.field(at, step.field, state)
        if desc.subsections or v.subsection_loop:
            state = self.subsections(at, state)
        return v.end_struct(at, state)

    def subsections(self, at: Frame, state: Any) -> Any:
        v = self.v
        held = v.get(state, SUBSECTIONS_KEY)
        subs = dict(held) if isinstance(held, dict) else {}
        for sub, version in v.subsections(at, state):
            prior = subs.get(sub.name)
            inner = _new(Frame, (at.path + (sub.name,), sub.description, version, SUBSECTION,
                                 at, None, sub, prior, at.fresh))
            subs[sub.name] = self.struct(inner, prior)
        if subs or v.virtual:
            state = v.put(state, SUBSECTIONS_KEY, subs)
        return v.end_subsections(at, state)

    def field(self, at: Frame, f: Field, state: Any) -> Any:
        v = self.v
        path = at[0]
        p = path + (f.name,)
        if not f.in_state:
            if f.exists is None or v.all_fields or v.exists(at, path, f, state):
                v.unused(at, p, f,
                         (f.size or 0) * (v.count(at, p, f, state) if f.is_array else 1))
            return state
        if v.all_fields:
            if not v.virtual and f.name not in state:
                return v.missing(at, p, f, state)
        elif not f.on_wire:
            return v.put(state, f.name, v.offwire(at, p, f, v.get(state, f.name)))
        elif f.exists is not None and not v.exists(at, path, f, state):
            return state
        cur = v.get(state, f.name)
        if f.is_array:
            n = None if v.virtual else v.count(at, p, f, state)
            items = [self.element(at, p + (i,), f, v.item(cur, i))
                     for i in (range(1) if n is None else range(n))]
            new = v.array(at, p, f, n, items)
        else:
            new = self.element(at, p, f, cur)
        return v.put(state, f.name, new)

    def element(self, at: Frame, path: Path, f: Field, value: Any) -> Any:
        v = self.v
        if f.pointer and not v.pointer(at, path, f, value):
            return None
        t = f.wire_type
        if t is not None:
            return v.scalar(at, path, f, t, value)
        return _KINDS[f.type](self, at, path, f, value)

    # composite kinds ---------------------------------------------------------
    def _struct(self, at: Frame, path: Path, f: Field, value: Any) -> Any:
        d = f.struct
        assert d is not None
        return self.struct(_new(Frame, (path, d, d.version_id, FIELD, at, f, None, value,
                                        at.fresh)), value)

    def _buffer(self, at: Frame, path: Path, f: Field, value: Any) -> Any:
        return self.v.buffer(at, path, f, f.size or 0, value)

    def _bitmap(self, at: Frame, path: Path, f: Field, value: Any) -> Any:
        v = self.v
        n = 1 if v.virtual else bitmap_words(f.size or 0)
        return v.bitmap(at, path, f,
                        [v.scalar(at, path + (i,), f, _U64, v.item(value, i)) for i in range(n)])

    def _list(self, at: Frame, path: Path, f: Field, value: Any) -> Any:
        v = self.v
        d = f.struct
        assert d is not None
        items: list[Any] = []
        for i in _count():
            more, prior = v.list_item(at, path, f, value, i)
            if not more:
                break
            items.append(self.struct(_new(Frame, (path + (i,), d, d.version_id, ITEM, at, f,
                                                  None, prior, True)), prior))
        return v.end_list(at, path, f, items)

    def _gtree(self, at: Frame, path: Path, f: Field, value: Any) -> Any:
        v = self.v
        d = f.struct
        assert d is not None
        nodes: list[tuple[Any, Any]] = []
        for i in range(v.start_tree(at, path, f, value)):
            pk, pv = v.tree_node(at, path, f, value, i)
            p = path + (i,)
            if isinstance(f.key, str):
                k = v.scalar(at, p + ("key",), f, TYPES[f.key], pk)
            else:
                kd = f.key
                assert kd is not None
                k = self.struct(_new(Frame, (p + ("key",), kd, kd.version_id, KEY, at, f, None,
                                             pk, True)), pk)
            nodes.append((k, self.struct(_new(Frame, (p + ("value",), d, d.version_id, VALUE,
                                                      at, f, None, pv, True)), pv)))
        return v.end_tree(at, path, f, nodes)


def _count() -> Iterator[int]:
    i = 0
    while True:
        yield i
        i += 1


_KINDS = {
    "struct": Walk._struct,
    "buffer": Walk._buffer,
    "bitmap": Walk._bitmap,
    "qtailq": Walk._list,
    "qlist": Walk._list,
    "gtree": Walk._gtree,
}
