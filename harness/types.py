"""Scalar wire types: a table that carries behaviour, not an if-chain.

Every scalar VMState type is one :class:`WireType`; variants such as
``"uint16 equal"`` are :func:`~vmcompat.values.replace` copies with a ``check``. What a
type means is answered here and nowhere else: its range (:meth:`WireType.bounds`),
the value a destination holds before a load (:meth:`WireType.prior`), the value an
``equal`` field must hold (:meth:`WireType.required`), its load check
(:meth:`WireType.refusal`, with QEMU's message parameters), its JSON Schema
(:meth:`WireType.schema`) and its Hypothesis strategy (:meth:`WireType.values`).
An ``if`` on a type's ``kind`` or ``check`` outside this module is a defect.

>>> TYPES["uint16"].size, TYPES["uint16 equal"].check
(2, 'equal')
>>> did_you_mean("uint33")
" (did you mean 'uint32', 'uint8' or 'int32'?)"
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from vmcompat.errors import Reason
from vmcompat.values import immutable, replace

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy


@immutable(slots=True)
class WireType:
    """A fixed-size scalar on the legacy wire (big-endian)."""

    name: str
    size: int
    fmt: str  # struct format character, without byte order
    lo: int
    hi: int
    check: str | None = None  # None | "equal" | "le"
    kind: str = "int"  # "int" | "bool" | "timer"

    @property
    def signed(self) -> bool:
        return self.lo < 0

    @property
    def base(self) -> str:
        """The type with its load check stripped: ``"uint16 equal"`` -> ``"uint16"``."""
        return self.name.split(" ")[0]

    @property
    def integer(self) -> bool:
        """An ordinary integer (not a bool, not a timer's expiry)."""
        return self.kind == "int"

    def reads_back(self, value: Any) -> bool:
        """Whether the bytes this type writes for ``value`` read back, as this type, as
        ``value`` itself: an integer of its range (not a bool, not a timer's expiry)."""
        return self.integer and type(value) is int and self.lo <= value <= self.hi

    @property
    def plain(self) -> bool:
        """An ordinary integer without a load check: any value of its range loads."""
        return self.integer and self.check is None

    @property
    def ranged(self) -> bool:
        """A state explores a range of values (not a bool, not an ``equal`` field)."""
        return self.kind != "bool" and self.check != "equal"

    @property
    def must_match(self) -> bool:
        """An ``equal`` type: a load refuses any value but the destination's own."""
        return self.check == "equal"

    @property
    def capped(self) -> bool:
        """An ``le`` type: a load refuses a value above the destination's own (or below 0)."""
        return self.check == "le"

    @property
    def demand(self) -> str:
        """What the load check demands of an incoming value, for a message ("" if none)."""
        return {"equal": "equal", "le": "be between 0 and"}.get(self.check or "", "")

    def stricter(self, default: Any) -> int | None:
        """A destination ``default`` that refuses what ``default`` allows (None: none)."""
        old = default if _is_int(default) else 0
        if self.check == "equal":
            return old + 1 if old + 1 <= self.hi else old - 1
        if self.check == "le" and _is_int(default) and default >= 1:
            return default // 2
        return None

    @property
    def checked(self) -> bool:
        """A load inspects the value: a check (``equal``, ``le``) or a bool's 0/1."""
        return self.check is not None or self.kind == "bool"

    @property
    def node(self) -> str:
        """The node a self-describing format writes: ``"boolean"`` or ``"integer"``."""
        return "boolean" if self.kind == "bool" else "integer"

    @property
    def zero(self) -> int | bool:
        """The value of a field reset with nothing else to go by: ``False`` or ``0``."""
        return False if self.kind == "bool" else 0

    @property
    def wanted(self) -> str:
        """What a valid value is, for a message: ``true/false`` or the integer range."""
        return "true/false" if self.kind == "bool" else f"an integer in [{self.lo}, {self.hi}]"

    def valid(self, value: object) -> bool:
        if self.kind == "bool":
            return isinstance(value, bool)
        return type(value) is int and self.lo <= value <= self.hi

    def from_int(self, value: int) -> int | bool:
        """A value unpacked as an integer, as this type holds it."""
        return bool(value) if self.kind == "bool" else value

    def unsigned(self, value: int) -> int:
        """The value as the unsigned integer of the same width (how QEMU prints it)."""
        return value & ((1 << (8 * self.size)) - 1)

    def pack(self, value: int | bool) -> bytes:
        return struct.pack(">" + self.fmt, value)

    def bounds(self, default: Any = None) -> tuple[int, int]:
        """The values a field of this type may hold: ``le`` is ``[0, default]``."""
        if self.check == "le":
            hi = self.hi if not _is_int(default) else max(0, min(self.hi, default))
            return 0, hi
        return self.lo, self.hi

    def required(self, default: Any) -> int | None:
        """The value an ``equal`` field must hold: its ``default``; None when the
        destination's own value decides (no default), or for any other type."""
        return default if self.check == "equal" and _is_int(default) else None

    def pinned(self, default: Any) -> bool:
        """Whether a destination's prior value is fixed by the description: an ``equal``
        field always, an ``le`` field with a ``default`` (its limit)."""
        return self.check == "equal" or (self.check == "le" and _is_int(default))

    def prior(self, default: Any) -> int | bool:
        """The destination's value before a load when nothing else says: a checked
        type's ``default`` (what the check compares with), else :attr:`zero`."""
        return default if self.check is not None and _is_int(default) else self.zero

    def refusal(self, got: int, local: Any) -> tuple[Reason, dict[str, Any]] | None:
        """QEMU's refusal of ``got`` against the destination's ``local`` value, with
        its message parameters (:data:`vmcompat.errors.MSG`); None when it loads."""
        if self.check == "equal":
            if local is not None and got != local:
                return Reason.EQUAL, {"got": self.unsigned(got), "local": self.unsigned(local)}
        elif self.check == "le":
            if got < 0 or (local is not None and got > local):
                return Reason.LE, {"got": got, "local": local if local is not None else "local"}
        return None

    def schema(self, default: Any = None) -> dict[str, Any]:
        """The JSON Schema of a value of this type."""
        if self.kind == "bool":
            return {"type": "boolean"}
        required = self.required(default)
        if required is not None:
            return {"type": "integer", "const": required}
        if self.check == "le":
            return {"type": "integer", "minimum": 0,
                    "maximum": self.hi if default is None else default}
        return {"type": "integer", "minimum": self.lo, "maximum": self.hi}

    def values(self, default: Any = None, *, free: bool = False) -> SearchStrategy[Any]:
        """Every value a state may hold: booleans, the one an ``equal`` field must
        hold (:meth:`prior`), or the integers of :meth:`bounds`. ``free``: an ``equal``
        field ranges over its type too (a state near a capture, which decides)."""
        from hypothesis import strategies as st

        if self.kind == "bool":
            return st.booleans()
        if self.check == "equal" and not free:
            return st.just(self.prior(default))
        return st.integers(*self.bounds(default))

    def sample_special(self, h: int) -> int | bool | None:
        """A readable sample value from a hash for a type with its own rule (bool,
        timer: armed or not); None for an integer, sampled by :meth:`sample_int`."""
        if self.kind == "bool":
            return bool(h & 1)
        if self.kind == "timer":
            return -1 if h % 4 == 0 else h % 1_000_000_007
        return None

    def sample_int(self, h: int) -> int:
        """A readable, non-zero sample integer from a hash (small for ``le``: within any
        limit; small for signed types)."""
        if self.check == "le":
            return h % 8
        hi = self.hi if not self.signed else min(self.hi, 0x7FFF)
        return 1 + h % hi


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(name: str, size: int, signed: bool) -> WireType:
    bits = size * 8
    fmt = {1: "b", 2: "h", 4: "i", 8: "q"}[size]
    if signed:
        return WireType(name, size, fmt, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return WireType(name, size, fmt.upper(), 0, (1 << bits) - 1)


_BASE = [
    *(_int(f"int{b}", b // 8, True) for b in (8, 16, 32, 64)),
    *(_int(f"uint{b}", b // 8, False) for b in (8, 16, 32, 64)),
    WireType("bool", 1, "?", 0, 1, kind="bool"),
    # QEMU's timer_put writes the expiry time as be64; -1 when not armed.
    replace(_int("timer", 8, True), kind="timer"),
]
_BY_NAME = {t.name: t for t in _BASE}
_CHECKED = [
    *(replace(_BY_NAME[b], name=f"{b} equal", check="equal")
      for b in ("uint8", "uint16", "int32", "uint32", "int64")),
    replace(_BY_NAME["int32"], name="int32 le", check="le"),
]

#: type name -> WireType, for every scalar type of the model.
TYPES: MappingProxyType[str, WireType] = MappingProxyType(
    {t.name: t for t in (*_BASE, *_CHECKED)}
)

#: types a variable array may take its element count from.
COUNT_TYPES = frozenset({"uint8", "uint16", "int32", "uint32"})

@immutable(slots=True)
class Composite:
    """A non-scalar field type: what a field of it needs, holds and takes on the wire.

    The walk (:mod:`vmcompat.walk`) drives them; this table says what each one is, so
    no module branches on the names.
    """

    name: str
    sized: bool = False  # needs ``size``: a buffer's bytes, a bitmap's bits
    bits: bool = False  # ``size`` counts bits, sent as big-endian 64-bit words
    holds_state: bool = True  # False: sent, but holds nothing (``unused_buffer``)
    nested: bool = False  # needs a nested description (``struct``)
    inline: bool = False  # the nested description sits inline, once per element
    listed: bool = False  # a marker-framed list of elements (QTAILQ/QLIST)
    keyed: bool = False  # a tree of (key, value) nodes: needs a ``key`` (GTree)
    defaults: bool = False  # may declare a ``default`` value (bytes)
    #: the fewest wire bytes one element takes when its size is not fixed (hostile counts)
    least: int = 0

    def unit_bytes(self, size: int | None) -> int | None:
        """Wire bytes of one element given the field's ``size`` (None: not fixed here)."""
        if not self.sized:
            return None
        return 8 * (((size or 0) + 63) // 64) if self.bits else size

    def zero(self, size: int | None) -> Any:
        """A field's value reset with nothing else to go by (None: no such value)."""
        if self.defaults:
            return bytes(size or 0)
        return {} if self.inline else None


_COMPOSITES = [
    Composite("buffer", sized=True, defaults=True),
    Composite("unused_buffer", sized=True, holds_state=False),
    Composite("bitmap", sized=True, bits=True),
    Composite("struct", nested=True, inline=True),
    Composite("qtailq", nested=True, listed=True, least=1),
    Composite("qlist", nested=True, listed=True, least=1),
    Composite("gtree", nested=True, keyed=True, least=5),
]

#: type name -> Composite, for every non-scalar type of the model.
COMPOSITES: MappingProxyType[str, Composite] = MappingProxyType(
    {c.name: c for c in _COMPOSITES})

#: Non-scalar field types, handled by the walk (see :mod:`vmcompat.walk`).
COMPOSITE_TYPES = frozenset(COMPOSITES)

ALL_TYPE_NAMES = frozenset(TYPES) | COMPOSITE_TYPES


def did_you_mean(name: object, names: Iterable[str] = ALL_TYPE_NAMES) -> str:
    """The nearest valid type names to a misspelt one, as a hint to append (or "")."""
    import difflib  # only for an error message

    near = difflib.get_close_matches(name, sorted(names), n=3) if isinstance(name, str) else []
    hint = " or ".join(", ".join(repr(n) for n in near).rsplit(", ", 1))
    return f" (did you mean {hint}?)" if near else ""
