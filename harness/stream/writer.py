"""Writing a whole savevm stream: the exact inverse of :mod:`~vmcompat.stream.reader`.

Output goes through a ``write`` callable (a file's ``write``, a
``bytearray.extend``), so page data streams out without being gathered.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

from vmcompat.errors import InputError
from vmcompat.stream.configuration import write_configuration
from vmcompat.stream.devices import DeviceTable, device_table, encode_payload
from vmcompat.stream.layout import (
    CONFIGURATION,
    EOF,
    FOOTER,
    FULL,
    MAGIC,
    START,
    VERSION,
    VMDESCRIPTION,
    Layout,
)
from vmcompat.stream.model import Command, Configuration, Section, Stream, Vmdesc
from vmcompat.stream.ram import write_ram

Write = Callable[[bytes | bytearray | memoryview], object]


def table_for(stream: Stream) -> DeviceTable | None:
    """The descriptions a stream's device sections are written with."""
    source = stream.descriptions_from
    if source is None and stream.vmdesc is not None and stream.vmdesc.ok:
        source = stream.vmdesc.obj
    return device_table(source) if source is not None else None


def write_stream(stream: Stream, write: Write, table: DeviceTable | None = None) -> None:
    """Write ``stream``; ``table`` defaults to :func:`table_for`."""
    if table is None and any(s.kind == FULL and s.raw is None for s in stream.sections):
        table = table_for(stream)
    write_head(stream.layout, stream.configuration, write)
    for item in stream.items:
        write_item(item, write, table, stream.layout, stream.page_size)
    write_tail(stream.eof, stream.vmdesc, stream.trailing, write)


def write_head(layout: Layout, configuration: Configuration | None, write: Write) -> None:
    """The header and, when the layout has one, the configuration section."""
    write(struct.pack(">II", MAGIC, VERSION))
    if layout.configuration:
        if configuration is None:
            raise InputError(f"layout {layout.name} needs a configuration section")
        write(bytes((CONFIGURATION,)) + write_configuration(configuration))


def write_item(item: Section | Command, write: Write, table: DeviceTable | None,
               layout: Layout, page_size: int) -> None:
    """One section (and its footer) or command."""
    if isinstance(item, Command):
        write(struct.pack(">BHH", 0x08, item.command, len(item.data)) + item.data)
        return
    write(_header(item))
    if item.ram is not None:
        write_ram(item.ram, write, page_size)
    else:
        write(_payload(item, table))
    if layout.footers:
        write(bytes((FOOTER,)) + item.section_id.to_bytes(4, "big"))


#: a vmdesc's length, then its bytes a piece at a time (never held whole)
VmdescPieces = tuple[int, Iterable[bytes]]


def write_tail(eof: bool, vmdesc: Vmdesc | VmdescPieces | None, trailing: bytes,
               write: Write) -> None:
    """EOF, the vmdesc and what follows it."""
    if eof:
        write(bytes((EOF,)))
    if vmdesc is not None:
        size, pieces = (len(vmdesc.raw), (vmdesc.raw,)) if isinstance(vmdesc, Vmdesc) \
            else vmdesc
        write(bytes((VMDESCRIPTION,)) + size.to_bytes(4, "big"))
        for piece in pieces:
            write(piece)
    if trailing:
        write(trailing)


def _header(s: Section) -> bytes:
    head = bytes((s.kind,)) + s.section_id.to_bytes(4, "big")
    if s.kind in (START, FULL):
        name = s.idstr.encode("latin-1")
        head += bytes((len(name),)) + name + struct.pack(">II", s.instance_id, s.version_id)
    return head


def _payload(s: Section, table: DeviceTable | None) -> bytes:
    if s.raw is not None:
        return s.raw
    entry = table.lookup(s.idstr, s.instance_id) if table is not None else None
    if entry is None or entry.description is None:
        raise InputError(f"no description for section {s.idstr!r} instance {s.instance_id}",
                         device=s.idstr)
    try:
        return encode_payload(entry.description, s.state)
    except InputError as e:  # the padding limit (harness/limits.py): name the section
        raise e.located(device=s.idstr) from None


def to_bytes(stream: Stream, table: DeviceTable | None = None) -> bytes:
    """The whole stream in memory (tests, small streams)."""
    out = bytearray()
    write_stream(stream, out.extend, table)
    return bytes(out)
