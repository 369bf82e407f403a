"""A small Python DSL in the spirit of QEMU's ``VMSTATE_*`` macros.

>>> rtc = device("rtc", 3, uint8("index"), buffer("cmos", 128),
...              int32("period", version=2), minimum=1)
>>> [f.name for f in rtc.fields], rtc.minimum_version_id
(['index', 'cmos', 'period'], 1)

Scalar constructors exist for every type in :data:`vmcompat.types.TYPES`
(``"uint16 equal"`` is :func:`uint16_equal`). Keyword arguments: ``version``
(field version_id), ``exists`` (predicate or its JSON form), ``array``
(fixed length), ``varray`` (name of the count field), ``pointer``,
``default``, ``immutable``, ``derived``, ``broken``.
"""

from __future__ import annotations

from typing import Any

from vmcompat.model import Description, Field, Marker, Subsection
from vmcompat.predicates import Predicate, parse
from vmcompat.types import TYPES


def _field(name: str, type_: str, *, version: int = 0, exists: Any = None,
           array: int | None = None, varray: str | None = None, pointer: bool = False,
           default: Any = None, immutable: bool = False, derived: bool = False,
           broken: bool = False, size: int | None = None, struct: Description | None = None,
           key: Description | str | None = None, marker: Marker | None = None,
           doc: str = "") -> Field:
    return Field(name, type_, version_id=version,
                 exists=None if exists is None else parse(exists),
                 array_len=array, varray=varray, size=size, struct=struct, key=key,
                 pointer=pointer, default=default, immutable=immutable, derived=derived,
                 broken=broken, marker=marker, doc=doc)


def scalar(type_: str, name: str, **kw: Any) -> Field:
    """Any scalar by type name: ``scalar("uint16 equal", "n")``."""
    return _field(name, type_, **kw)


def _make(type_name: str) -> Any:
    def ctor(name: str, **kw: Any) -> Field:
        return _field(name, type_name, **kw)

    ctor.__name__ = ctor.__qualname__ = type_name.replace(" ", "_")
    ctor.__doc__ = f"A ``{type_name}`` field."
    return ctor


int8 = _make("int8")
int16 = _make("int16")
int32 = _make("int32")
int64 = _make("int64")
uint8 = _make("uint8")
uint16 = _make("uint16")
uint32 = _make("uint32")
uint64 = _make("uint64")
bool_ = _make("bool")
timer = _make("timer")
uint8_equal = _make("uint8 equal")
uint16_equal = _make("uint16 equal")
int32_equal = _make("int32 equal")
uint32_equal = _make("uint32 equal")
int64_equal = _make("int64 equal")
int32_le = _make("int32 le")

assert {f.__name__.replace("_", " ").strip() for f in (
    int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool_, timer, uint8_equal,
    uint16_equal, int32_equal, uint32_equal, int64_equal, int32_le)} == set(TYPES), \
    "one DSL constructor per scalar type"


def buffer(name: str, size: int, **kw: Any) -> Field:
    """``VMSTATE_BUFFER``: ``size`` raw bytes (hex in state JSON)."""
    return _field(name, "buffer", size=size, **kw)


def unused(size: int, name: str = "unused", **kw: Any) -> Field:
    """``VMSTATE_UNUSED``: ``size`` zero bytes written, skipped on load; no state."""
    return _field(name, "unused_buffer", size=size, **kw)


def bitmap(name: str, nbits: int, **kw: Any) -> Field:
    """``VMSTATE_BITMAP``: ``nbits`` bits as big-endian 64-bit words."""
    return _field(name, "bitmap", size=nbits, **kw)


def struct(name: str, desc: Description, **kw: Any) -> Field:
    """``VMSTATE_STRUCT``: a nested description (its version never travels)."""
    return _field(name, "struct", struct=desc, **kw)


def struct_array(name: str, desc: Description, n: int | None = None, *,
                 varray: str | None = None, **kw: Any) -> Field:
    """``VMSTATE_STRUCT_ARRAY`` (fixed ``n``) or ``VMSTATE_STRUCT_VARRAY_*`` (``varray``)."""
    return _field(name, "struct", struct=desc, array=n, varray=varray, **kw)


def qtailq(name: str, desc: Description, marker: Marker | None = None, **kw: Any) -> Field:
    """``VMSTATE_QTAILQ_V``: 1 before each element, 0 at the end (or ``marker``)."""
    return _field(name, "qtailq", struct=desc, marker=marker, **kw)


def qlist(name: str, desc: Description, marker: Marker | None = None, **kw: Any) -> Field:
    """``VMSTATE_QLIST_V``: framed like a QTAILQ."""
    return _field(name, "qlist", struct=desc, marker=marker, **kw)


def gtree(name: str, key: Description | str, value: Description, **kw: Any) -> Field:
    """``VMSTATE_GTREE_V`` (struct key) or ``VMSTATE_GTREE_DIRECT_KEY_V`` (scalar key)."""
    return _field(name, "gtree", struct=value, key=key, **kw)


def subsection(desc: Description, needed: Predicate | Any = None) -> Subsection:
    """A subsection sent when ``needed`` holds (always, when None)."""
    return Subsection(desc, None if needed is None else parse(needed))


def device(name: str, version: int, *fields: Field, minimum: int | None = None,
           subsections: tuple[Subsection, ...] | list[Subsection] = (),
           marshal: dict[int, str] | None = None, doc: str = "") -> Description:
    """A ``VMStateDescription``; ``minimum`` defaults to ``version``."""
    return Description(name, version, version if minimum is None else minimum, tuple(fields),
                       tuple(subsections), tuple(sorted((marshal or {}).items())), doc)


vmsd = device
