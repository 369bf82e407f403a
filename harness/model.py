"""The VMState model: immutable descriptions of device state.

A :class:`Description` is QEMU's ``VMStateDescription``; a :class:`Field` is a
``VMStateField``; a :class:`Subsection` is a description sent only when its
``needed`` predicate holds; a :class:`DeviceHistory` is the ordered versions of
one device plus its optional features.

>>> d = Description("dev", 2, 1, (Field("a", "uint32"), Field("b", "uint8", version_id=2)))
>>> [f.name for f in d.fields_at(1)]
['a']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import Any, TypeVar

from vmcompat.errors import InputError
from vmcompat.limits import MAX_ARRAY_LEN, MAX_FIELD_BYTES, MAX_FIELDS, MAX_NESTING
from vmcompat.predicates import Predicate
from vmcompat.types import (
    ALL_TYPE_NAMES,
    COMPOSITES,
    COUNT_TYPES,
    TYPES,
    Composite,
    WireType,
    did_you_mean,
)
from vmcompat.values import field, immutable, replace

SUBSECTIONS_KEY = "__subsections__"

R = TypeVar("R")

#: a version_id travels as a be32
MAX_VERSION = 0xFFFFFFFF

#: QEMU's marker byte for a NULL element of an array of pointers.
NULLPTR_MARKER = 0x30


@immutable(slots=True)
class Marker:
    """How a list (qtailq/qlist) frames its elements on the wire.

    QEMU's QTAILQ/QLIST: byte ``1`` before each element, ``0`` at the end.
    Other device lists use other bytes (slirp: ``42`` before each socket), put
    the marker's value into an element field (SCSI: ``1``/``2`` say whether a
    request is retried), or have no marker and end with a zero *sentinel*
    field (virtio: a queue whose ``vring.num`` is 0 ends the list).
    """

    more: tuple[int, ...] = (1,)
    end: int = 0
    field: str | None = None
    sentinel: str | None = None

    def byte_for(self, element: Mapping[str, Any]) -> int:
        """The marker byte written before ``element`` (its marker field, else ``more[0]``)."""
        return element[self.field] if self.field is not None else self.more[0]

    def after(self, byte: int) -> bool | None:
        """What a marker byte read before an element says: True another element follows,
        False the list ends, None a bad marker (QEMU refuses the load)."""
        if byte == self.end:
            return False
        return True if byte in self.more else None

    def seed(self, byte: int) -> dict[str, int] | None:
        """The element's marker field as the byte sets it (None: no marker field)."""
        return {self.field: byte} if self.field is not None else None

    def problem(self, element: Description) -> str | None:
        """Why this marker cannot frame lists of ``element`` (None: it can)."""
        if not self.more or any(not 0 <= b <= 255 for b in (*self.more, self.end)):
            return "marker bytes must be in 0..255 (and 'more' not empty)"
        if self.field is not None:
            f = element.field_named(self.field)
            if f is None or not f.is_scalar or f.is_array:
                return f"marker field {self.field!r} is not a scalar field of {element.name!r}"
        if self.sentinel is not None:
            first = element.fields[0] if element.fields else None
            if first is None or first.name != self.sentinel or first.wire_type is None \
                    or not first.wire_type.integer or first.is_array \
                    or first.exists is not None or not first.on_wire:
                return (f"marker sentinel {self.sentinel!r} must name the first field of "
                        f"{element.name!r}, an integer sent in every element")
        return None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.sentinel is not None:
            return {"sentinel": self.sentinel}
        out["more"] = list(self.more)
        out["end"] = self.end
        if self.field is not None:
            out["field"] = self.field
        return out


DEFAULT_MARKER = Marker()


@immutable(slots=True)
class Provenance:
    """What an import from QEMU knows of a field beyond its wire form (compared, like all data).

    ``c_size`` is the C element size a ``-dump-vmstate`` gave; ``qemu_name`` the name QEMU
    gave when an import made it unique (``unused`` -> ``unused[1]``); ``guessed`` says the
    wire type is a guess from the C size (a dump alone gives no type).
    """

    c_size: int | None = None
    qemu_name: str | None = None
    guessed: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.c_size is not None:
            out["c_size"] = self.c_size
        if self.qemu_name is not None:
            out["qemu_name"] = self.qemu_name
        if self.guessed:
            out["guessed"] = True
        return out

    @classmethod
    def from_json(cls, o: Mapping[str, Any]) -> Provenance:
        return cls(o.get("c_size"), o.get("qemu_name"), bool(o.get("guessed", False)))


@immutable
class Field:
    """One field of a description (a ``VMStateField``).

    ``type`` is a scalar type name from :data:`vmcompat.types.TYPES` or one of
    ``buffer``, ``unused_buffer``, ``bitmap``, ``struct``, ``qtailq``,
    ``qlist``, ``gtree``. ``size`` is the byte count of a buffer and the bit
    count of a bitmap.
    """

    name: str
    type: str
    version_id: int = 0
    exists: Predicate | None = None
    array_len: int | None = None
    varray: str | None = None
    size: int | None = None
    struct: Description | None = None
    key: Description | str | None = None
    pointer: bool = False
    default: Any = None
    immutable: bool = False
    derived: bool = False
    broken: bool = False
    marker: Marker | None = None
    provenance: Provenance | None = None
    doc: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise InputError(problem, path=(self.name,))

    def _problem(self) -> str | None:
        t, c = self.type, COMPOSITES.get(self.type)
        if self.name == SUBSECTIONS_KEY:
            return f"{SUBSECTIONS_KEY!r} is reserved: states hold their subsections under it"
        if t not in ALL_TYPE_NAMES:
            return f"unknown field type {t!r}{did_you_mean(t)}"
        if c is not None and c.sized and (self.size is None or self.size < 0):
            return f"type {t!r} needs a non-negative size"
        if c is not None and c.sized:
            unit = c.unit_bytes(self.size) or 0
            if unit * (self.array_len or 1) > MAX_FIELD_BYTES:
                return (f"{t} of {unit * (self.array_len or 1)} bytes is over the limit of "
                        f"{MAX_FIELD_BYTES} bytes per field")
        if c is not None and c.nested and not isinstance(self.struct, Description):
            return f"type {t!r} needs a nested description ('struct')"
        if c is not None and c.keyed and self.key is None:
            return "type 'gtree' needs a key (a description or a scalar type name)"
        if isinstance(self.key, str) and self.key not in TYPES:
            hint = did_you_mean(self.key, TYPES)
            return f"gtree key type {self.key!r} is not a scalar type{hint}"
        if self.array_len is not None and self.varray is not None:
            return "a field has either array_len or varray, not both"
        if self.array_len is not None and not 0 <= self.array_len <= MAX_ARRAY_LEN:
            return f"array_len {self.array_len} is outside 0..{MAX_ARRAY_LEN}"
        if self.pointer and not self.is_array:
            return "pointer marks an array of pointers: give array_len or varray"
        if self.is_list or self.is_tree:
            if self.is_array:
                return f"type {t!r} cannot be an array"
        if c is not None and c.bits and self.is_array:
            return "a bitmap cannot be an array"
        if self.marker is not None:
            if not self.is_list:
                return "marker applies to qtailq/qlist fields only"
            assert isinstance(self.struct, Description)
            problem = self.marker.problem(self.struct)
            if problem:
                return problem
        if not 0 <= self.version_id <= MAX_VERSION:
            return f"version_id {self.version_id} is outside 0..{MAX_VERSION}"
        if self.default is not None:
            return self._default_problem()
        return None

    def _default_problem(self) -> str | None:
        """A default is a value of the field: a scalar's or a buffer's (not an array's)."""
        t, v = self.wire_type, self.default
        c = COMPOSITES.get(self.type)
        if self.is_array or (t is None and not (c is not None and c.defaults)):
            return "a default applies to a scalar or buffer field, not to " + (
                "an array" if self.is_array else f"type {self.type!r}")
        if t is not None and not t.valid(v):
            return f"default {v!r} is not a {t.name} value"
        if t is None and not (isinstance(v, bytes) and len(v) == self.size):
            return f"default must be {self.size} bytes, like the buffer"
        return None

    # -- derived facts -------------------------------------------------------
    @cached_property
    def wire_type(self) -> WireType | None:
        return TYPES.get(self.type)

    @property
    def is_scalar(self) -> bool:
        return self.type in TYPES

    @cached_property
    def is_array(self) -> bool:
        return self.array_len is not None or self.varray is not None

    @property
    def composite(self) -> Composite | None:
        """The non-scalar type's table entry (None for a scalar)."""
        return COMPOSITES.get(self.type)

    @property
    def words(self) -> int | None:
        """A bitmap's count of big-endian 64-bit words on the wire (None: not a bitmap)."""
        c = COMPOSITES.get(self.type)
        return bitmap_words(self.size or 0) if c is not None and c.bits else None

    @property
    def is_list(self) -> bool:
        c = COMPOSITES.get(self.type)
        return c is not None and c.listed

    @property
    def is_tree(self) -> bool:
        c = COMPOSITES.get(self.type)
        return c is not None and c.keyed

    @property
    def is_struct(self) -> bool:
        """A nested description inline (once per element), not a list or a tree."""
        c = COMPOSITES.get(self.type)
        return c is not None and c.inline and self.struct is not None

    @cached_property
    def on_wire(self) -> bool:
        """False for QIDL ``immutable``/``derived`` fields: in the state, never sent."""
        return not (self.immutable or self.derived)

    def present_at(self, version: int) -> bool:
        """Whether a stream of ``version`` may carry the field: QEMU's rule, its one home.

        A field with an exists-test is present iff the test holds (the test alone
        decides, at run time); any other iff ``field.version_id <= version``.
        """
        return self.exists is not None or self.version_id <= version

    @cached_property
    def in_state(self) -> bool:
        """``unused_buffer`` is sent but holds no state."""
        c = COMPOSITES.get(self.type)
        return c is None or c.holds_state

    @property
    def list_marker(self) -> Marker:
        return self.marker or DEFAULT_MARKER

    def element_count(self) -> int | None:
        """Elements of a fixed array, 1 for a plain field, None when variable."""
        if self.varray is not None:
            return None
        return 1 if self.array_len is None else self.array_len

    def element_size(self, inner: Callable[[Description], int | None] | None = None
                     ) -> int | None:
        """Wire bytes of one element, or None when not fixed; ``inner`` gives a nested
        description's (default: :meth:`Description.fixed_size`)."""
        t = self.wire_type
        if t is not None:
            return t.size
        c = COMPOSITES.get(self.type)
        if c is not None and c.sized:
            return c.unit_bytes(self.size)
        if self.is_struct:
            assert self.struct is not None
            return (inner or Description.fixed_size)(self.struct)
        return None

    def wire_size(self, inner: Callable[[Description], int | None] | None = None
                  ) -> int | None:
        """Bytes this field takes on the legacy wire, if fixed (no pointers)."""
        if not self.on_wire:
            return 0
        n, s = self.element_count(), self.element_size(inner)
        if n is None or s is None or self.pointer:
            return None
        return n * s


def _fixed_size(d: Description) -> int | None:
    return d.fold(_fixed_size_step)


def _fixed_size_step(d: Description, inner: Callable[[Description], int | None]
                     ) -> int | None:
    if d.subsections:
        return None
    total = 0
    for f in d.fields:
        s = None if f.exists is not None else f.wire_size(inner)
        if s is None:
            return None
        total += s
    return total


def wire_name_problem(name: str, longest: int = 255) -> str | None:
    """Why ``name`` cannot travel as QEMU writes names (a length, then latin-1 bytes; a u8
    length for subsections, section idstrs and RAM blocks). None: it can."""
    try:
        n = len(name.encode("latin-1"))
    except UnicodeEncodeError:
        return "not a latin-1 name"
    return f"{n} bytes long, longer than {longest}" if n > longest else None


def bitmap_words(nbits: int) -> int:
    """QEMU sends a bitmap as big-endian 64-bit words."""
    return (nbits + 63) // 64


@immutable
class Subsection:
    """A description sent after its parent's fields when ``needed`` holds.

    ``needed`` reads the parent's state (in QEMU the subsection reads the same
    object). ``None`` means always sent, like a VMSD without a needed function.
    """

    description: Description
    needed: Predicate | None = None

    @cached_property
    def name(self) -> str:
        return self.description.name

    def is_needed(self, parent_state: Mapping[str, Any]) -> bool:
        return self.needed is None or bool(self.needed(parent_state))


@immutable
class Description:
    """A ``VMStateDescription``: name, versions, fields, subsections.

    ``marshal`` maps an old stream version (below ``minimum_version_id``) to
    the name of a registered marshal function that loads it (see
    :mod:`vmcompat.marshal`), instead of QEMU's untyped ``load_state_old``.
    """

    name: str
    version_id: int
    minimum_version_id: int = 0
    fields: tuple[Field, ...] = ()
    subsections: tuple[Subsection, ...] = ()
    marshal: tuple[tuple[int, str], ...] = ()
    doc: str = field(default="", compare=False)
    _cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.fields, tuple):
            object.__setattr__(self, "fields", tuple(self.fields))
        if not isinstance(self.subsections, tuple):
            object.__setattr__(self, "subsections", tuple(self.subsections))
        for v in (self.version_id, self.minimum_version_id):
            if not 0 <= v <= MAX_VERSION:
                raise InputError(f"version_id {v} is outside 0..{MAX_VERSION}", device=self.name)
        if self.minimum_version_id > self.version_id:
            raise InputError(
                f"minimum_version_id {self.minimum_version_id} > version_id {self.version_id}",
                device=self.name)
        by_name: dict[str, Field] = {}
        for f in self.fields:
            if f.name in by_name and f.in_state:
                raise InputError("duplicate field name", device=self.name, path=(f.name,))
            if f.varray is not None:
                counter = by_name.get(f.varray)
                if counter is None or counter.type not in COUNT_TYPES or counter.is_array:
                    raise InputError(
                        f"varray count field {f.varray!r} must be an earlier "
                        f"{'/'.join(sorted(COUNT_TYPES))} field", device=self.name, path=(f.name,))
            if f.version_id > self.version_id:
                raise InputError(f"field version_id {f.version_id} > description version_id "
                                 f"{self.version_id}", device=self.name, path=(f.name,))
            by_name.setdefault(f.name, f)
        self._cache["fields"] = by_name
        names = [s.name for s in self.subsections]
        if len(set(names)) != len(names):
            raise InputError("duplicate subsection name", device=self.name)
        for name in names:
            problem = wire_name_problem(name)
            if problem:
                raise InputError(f"subsection name: {problem}", device=self.name, path=(name,))
        if self.nesting > MAX_NESTING:
            raise InputError(f"descriptions nested deeper than {MAX_NESTING} levels",
                             device=self.name)
        if self.field_count > MAX_FIELDS:
            raise InputError(f"{self.field_count} fields (nested ones included), over the "
                             f"limit of {MAX_FIELDS}", device=self.name)

    def __hash__(self) -> int:
        h = self._cache.get("hash")
        if h is None:
            h = self._cache["hash"] = hash((self.name, self.version_id, self.minimum_version_id,
                                            self.fields, self.subsections, self.marshal))
        return h

    # -- queries ---------------------------------------------------------------
    @cached_property
    def field_names(self) -> frozenset[str]:
        """The names of this struct's fields (computed once)."""
        return frozenset(f.name for f in self.fields)

    def derived(self, key: str, make: Callable[[Description], R]) -> R:
        """What ``make`` derives from this (frozen) description, computed once per ``key``:
        what a visitor knows about the struct it is in, without a stack of its own."""
        try:
            found: R = self._cache["derived", key]
        except KeyError:
            found = self._cache["derived", key] = make(self)
        return found

    def field(self, name: str) -> Field:
        f = self.field_named(name)
        if f is None:
            raise KeyError(name)
        return f

    def field_named(self, name: str) -> Field | None:
        """The (first) field called ``name``, or None."""
        by_name: dict[str, Field] = self._cache["fields"]
        return by_name.get(name)

    def nested(self) -> Iterator[Description]:
        """The descriptions directly inside this one: structs, gtree keys, subsections."""
        for f in self.fields:
            if f.struct is not None:
                yield f.struct
            if isinstance(f.key, Description):
                yield f.key
        for s in self.subsections:
            yield s.description

    def fold(self, step: Callable[[Description, Callable[[Description], R]], R]) -> R:
        """The one bottom-up traversal of a description's structure: ``step(d, inner)``
        for this description and every one nested in it (:meth:`nested`), where
        ``inner(c)`` is the result already computed for a nested ``c``. Iterative (no
        recursion limit); a description shared by several fields is folded once.

        >>> from vmcompat.dsl import device, struct, uint8
        >>> d = device("d", 1, uint8("a"), struct("s", device("e", 1, uint8("b"))))
        >>> d.fold(lambda x, inner: 1 + max(map(inner, x.nested()), default=0))
        2
        """
        order: list[Description] = []
        seen: set[int] = set()
        stack: list[tuple[Description, bool]] = [(self, False)]
        while stack:
            d, expanded = stack.pop()
            if expanded:
                order.append(d)
                continue
            if id(d) in seen:
                continue
            seen.add(id(d))
            stack.append((d, True))
            stack.extend((c, False) for c in reversed(list(d.nested())))
        done: dict[int, R] = {}
        for d in order:
            done[id(d)] = step(d, lambda c: done[id(c)])
        return done[id(self)]

    @property
    def nesting(self) -> int:
        """Levels of descriptions, this one included (1: nothing nested)."""
        n = self._cache.get("nesting")
        if n is None:  # nested descriptions were made first: theirs is known already
            n = self._cache["nesting"] = 1 + max((c.nesting for c in self.nested()), default=0)
        return n

    @property
    def field_count(self) -> int:
        """Fields a walk visits once: this description's and every nested one's."""
        n = self._cache.get("field_count")
        if n is None:  # nested descriptions were made first: theirs is known already
            n = self._cache["field_count"] = len(self.fields) + sum(
                c.field_count for c in self.nested())
        return n

    def fields_at(self, version: int) -> tuple[Field, ...]:
        """Fields a stream of ``version`` may carry (exists-tests decide at run time)."""
        return tuple(f for f in self.fields if f.present_at(version))

    def held_subsections(self, held: Any) -> tuple[Subsection, ...]:
        """The declared subsections a state holds, in declaration order: ``held`` is the
        state's ``__subsections__`` value (anything else holds none)."""
        if not held or (type(held) is not dict and not isinstance(held, Mapping)):
            return ()
        return tuple(s for s in self.subsections if s.name in held)

    def subsection(self, name: str) -> Subsection | None:
        for s in self.subsections:
            if s.name == name:
                return s
        return None

    def marshal_for(self, version: int) -> str | None:
        for v, name in self.marshal:
            if v == version:
                return name
        return None

    def fixed_size(self) -> int | None:
        """Wire size of a struct of this description, if fixed (no tests, no subsections):
        a step of :meth:`fold`, computed once."""
        return self.derived("fixed_size", _fixed_size)

    def walk_fields(self) -> Iterator[tuple[tuple[str, ...], Field]]:
        """Every field, nested ones too, with its path of names (no recursion limit)."""
        stack: list[tuple[tuple[str, ...], Description]] = [((), self)]
        while stack:
            prefix, d = stack.pop()
            for f in d.fields:
                yield prefix + (f.name,), f
                if f.struct is not None:
                    stack.append((prefix + (f.name,), f.struct))
            for s in d.subsections:
                stack.append((prefix + (s.name,), s.description))

    def with_fields(self, *fields: Field) -> Description:
        return replace(self, fields=tuple(fields), _cache={})

    def evolve(self, **changes: Any) -> Description:
        """A copy with changes (immutability: never mutate a description)."""
        return replace(self, _cache={}, **changes)


@immutable
class Feature:
    """An optional feature of a device (seed 004: feature bits vs separate devices).

    ``apply`` turns the base description of a version into the description
    with the feature enabled (e.g. add an msix subsection).
    """

    name: str
    apply: Callable[[Description], Description]
    since: int = 0
    doc: str = ""


@immutable
class DeviceHistory:
    """The ordered versions of one device, and its optional features."""

    name: str
    versions: tuple[Description, ...]
    features: tuple[Feature, ...] = ()
    doc: str = ""
    aliases: tuple[str, ...] = ()
    #: on a release axis, each version's release (``("7.2", "10.0")``), oldest first:
    #: releases may share a ``version_id`` with different layouts
    releases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.versions:
            raise InputError("a history needs at least one version", device=self.name)
        if self.releases:
            if len(self.releases) != len(self.versions) or \
                    len(set(self.releases)) != len(self.releases):
                raise InputError(f"one distinct release per version, got {list(self.releases)}",
                                 device=self.name)
            return
        ids = [d.version_id for d in self.versions]
        if ids != sorted(set(ids)):
            raise InputError(f"versions must be strictly increasing, got {ids}", device=self.name)

    @property
    def version_ids(self) -> tuple[int, ...]:
        return tuple(d.version_id for d in self.versions)

    @property
    def labels(self) -> tuple[str, ...]:
        """How cells and reports name the versions: releases, else version ids."""
        return self.releases or tuple(str(v) for v in self.version_ids)

    def version(self, label: str, features: frozenset[str] | tuple[str, ...] = ()
                ) -> Description:
        """The version a cell names (a release on a release axis, else a version id)."""
        if self.releases:
            if label not in self.releases:
                raise InputError(f"no release {label!r} (has: {', '.join(self.releases)})",
                                 device=self.name)
            return self.versions[self.releases.index(label)]
        try:
            return self.at(int(label), features)
        except ValueError:
            raise InputError(f"version label {label!r} is not a number", device=self.name) \
                from None

    @property
    def latest(self) -> Description:
        return self.versions[-1]

    def feature(self, name: str) -> Feature:
        for f in self.features:
            if f.name == name:
                return f
        raise InputError(f"no feature {name!r} (has: {', '.join(x.name for x in self.features)})",
                         device=self.name)

    def at(self, version: int, features: frozenset[str] | tuple[str, ...] = ()) -> Description:
        for d in self.versions:
            if d.version_id == version:
                for name in sorted(features):
                    feat = self.feature(name)
                    if version >= feat.since:
                        d = feat.apply(d)
                return d
        raise InputError(f"no version {version} (has: {', '.join(map(str, self.version_ids))})",
                         device=self.name)
