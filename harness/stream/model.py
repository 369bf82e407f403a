"""A decoded savevm stream: immutable values, enough to write it back byte for byte.

Page data stays where it was read (a ``memoryview`` of the mapped file), so a
decoded stream costs memory per *run* of pages, not per page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vmcompat.stream.layout import Layout
from vmcompat.stream.source import Buffer
from vmcompat.values import field, immutable


# ----------------------------------------------------------------------------- RAM records
@immutable(slots=True)
class MemSize:
    """``MEM_SIZE``: the total RAM size, then each block's idstr and used length."""

    total: int
    blocks: tuple[tuple[str, int], ...]


@immutable(slots=True)
class ZeroRun:
    """``count`` consecutive ``ZERO`` records (one page each) starting at ``offset``.

    ``block`` is the idstr written with the first record (None: that record had
    the ``CONTINUE`` flag); every later record of the run has ``CONTINUE``.
    """

    offset: int
    count: int
    block: str | None
    fill: int = 0


@immutable(slots=True)
class Pages:
    """Page ``i`` is ``buf[start + i*stride : start + i*stride + size]`` (no copies).

    Read from a stream the stride is ``8 + size`` (each page follows its record
    header); from a sidecar file it is ``size``.
    """

    buf: Buffer
    start: int
    stride: int
    size: int
    count: int

    def __iter__(self) -> Iterator[memoryview]:
        view = memoryview(self.buf)
        for i in range(self.count):
            p = self.start + i * self.stride
            yield view[p:p + self.size]

    def contiguous(self) -> bool:
        return self.stride == self.size


@immutable(slots=True)
class PageRun:
    """``count`` consecutive ``PAGE`` records starting at ``offset`` (see :class:`ZeroRun`)."""

    offset: int
    count: int
    block: str | None
    pages: Pages


@immutable(slots=True)
class Eos:
    """``EOS``: the end of one RAM section's records."""


RamRecord = MemSize | ZeroRun | PageRun | Eos


# ----------------------------------------------------------------------------- sections
@immutable
class Section:
    """A START/PART/END/FULL section.

    ``idstr``/``instance_id``/``version_id`` are on the wire for START and FULL
    only (PART/END name their section by id; ``idstr`` is filled in from the
    START for readability). A device section holds ``state`` (its decoded
    payload) and, when re-encoding the state would not give the same bytes
    (non-zero ``unused`` bytes, a bool byte other than 0/1), ``raw``: the
    exact payload, which then wins on encode. A RAM section holds ``ram``.
    """

    kind: int
    section_id: int
    idstr: str = ""
    instance_id: int = 0
    version_id: int = 0
    state: Any = None
    ram: tuple[RamRecord, ...] | None = None
    raw: bytes | None = None
    offset: int = 0  # where the section starts in the stream it was read from
    payload: tuple[int, int] = (0, 0)  # payload start/end in that stream
    vmsd_name: str = ""


@immutable
class Command:
    """A ``COMMAND`` section: be16 command, be16 length, data."""

    command: int
    data: bytes
    offset: int = 0


@immutable
class Configuration:
    """The configuration section: the machine type, plus its subsections' state."""

    machine: str
    subsections: dict[str, Any] = field(default_factory=dict)


@immutable
class Vmdesc:
    """The trailing description: ``obj`` when it parses (``text`` is exact when
    ``json.dumps(obj)`` would not reproduce it), else only ``raw`` bytes."""

    raw: bytes
    obj: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@immutable
class Stream:
    """A whole stream. ``vmdesc`` is the stream's own (None when absent);
    ``descriptions_from`` names an outside vmdesc used to decode device sections."""

    layout: Layout
    configuration: Configuration | None
    items: tuple[Section | Command, ...]
    eof: bool = True
    vmdesc: Vmdesc | None = None
    trailing: bytes = b""
    page_size: int = 4096
    descriptions_from: Any = None
    size: int = 0

    @property
    def sections(self) -> tuple[Section, ...]:
        return tuple(x for x in self.items if isinstance(x, Section))
