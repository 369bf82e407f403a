"""Scalar wire types: a table of data, not an if-chain.

Every scalar VMState type is one :class:`WireType`; variants such as
``"uint16 equal"`` are :func:`dataclasses.replace` copies with a ``check``.

>>> TYPES["uint16"].size, TYPES["uint16 equal"].check
(2, 'equal')
>>> did_you_mean("uint33")
" (did you mean 'uint32', 'uint8' or 'int32'?)"
"""

from __future__ import annotations

import difflib
import struct
from collections.abc import Iterable
from dataclasses import dataclass, replace
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
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

    def valid(self, value: object) -> bool:
        if self.kind == "bool":
            return isinstance(value, bool)
        return type(value) is int and self.lo <= value <= self.hi

    def pack(self, value: int | bool) -> bytes:
        return struct.pack(">" + self.fmt, value)


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

#: Non-scalar field types, handled by the walk (see :mod:`harness.walk`).
COMPOSITE_TYPES = frozenset(
    {"buffer", "unused_buffer", "bitmap", "struct", "qtailq", "qlist", "gtree"}
)

ALL_TYPE_NAMES = frozenset(TYPES) | COMPOSITE_TYPES


def did_you_mean(name: object, names: Iterable[str] = ALL_TYPE_NAMES) -> str:
    """The nearest valid type names to a misspelt one, as a hint to append (or "")."""
    near = difflib.get_close_matches(name, sorted(names), n=3) if isinstance(name, str) else []
    hint = " or ".join(", ".join(repr(n) for n in near).rsplit(", ", 1))
    return f" (did you mean {hint}?)" if near else ""
