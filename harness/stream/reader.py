"""Reading a whole savevm stream (framing + RAM + device sections).

:func:`read_stream` walks the stream once: header, configuration, sections
(RAM records by :mod:`~harness.stream.ram`, device payloads by the legacy
codec with descriptions from a vmdesc), footers, EOF, the trailing vmdesc.
Device sections need descriptions before the vmdesc at the end is reached,
so :func:`find_vmdesc` first locates it from the end of the file.

Errors are typed: :class:`~harness.errors.Truncated`,
:class:`~harness.errors.StreamError` (QEMU's wording where it has one: "Missing
section footer for %s", "Mismatched section id in footer for %s - read 0x%x
expected 0x%x"), :class:`~harness.errors.UnknownSection`, and the legacy
codec's errors (too new/too old/unknown subsection …), all located at a byte
offset.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any

from harness.errors import InputError, LoadError, StreamError, UnknownSection
from harness.limits import MAX_TRAILING, MAX_VMDESC, MAX_VMDESC_CANDIDATES
from harness.model import Description
from harness.stream.configuration import read_configuration
from harness.stream.devices import DeviceTable, decode_payload, device_table, encode_payload
from harness.stream.layout import (
    COMMAND,
    CONFIGURATION,
    END,
    EOF,
    FOOTER,
    FULL,
    LAYOUT_2_0,
    LAYOUT_2_3,
    LAYOUT_2_4,
    MAGIC,
    PART,
    START,
    VERSION,
    VMDESCRIPTION,
)
from harness.stream.model import Command, Configuration, Section, Stream, Vmdesc
from harness.stream.ram import read_ram
from harness.stream.source import Buffer, Source

_BE32 = struct.Struct(">I")
RAM_IDSTR = "ram"
RAM_VERSION = 4


def parse_vmdesc(raw: bytes) -> Vmdesc:
    """A vmdesc from its bytes; ``error`` says why it does not parse."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        return Vmdesc(raw, None, f"vmdesc does not parse: {e}")
    if not (isinstance(obj, dict) and isinstance(obj.get("devices"), list)):
        return Vmdesc(raw, obj, "vmdesc is not {page_size, devices: [...]}")
    return Vmdesc(raw, obj)


def find_vmdesc(data: Buffer) -> Vmdesc | None:
    """Locate the trailing vmdesc from the end: ``0x06``, be32 length, ``{"page_size"…``.

    Only the last :data:`~harness.limits.MAX_VMDESC` + ``MAX_TRAILING`` bytes are
    searched, so a huge (or sparse) file costs no more than a small one.
    """
    tail = bytes(memoryview(data)[max(0, len(data) - MAX_VMDESC - MAX_TRAILING - 5):])
    q = tail.rfind(b'{"page_size"')
    for _ in range(MAX_VMDESC_CANDIDATES):
        if q < 5:
            return None
        if tail[q - 5] == VMDESCRIPTION:
            n = _BE32.unpack_from(tail, q - 4)[0]
            if q + n <= len(tail):
                v = parse_vmdesc(tail[q:q + n])
                if v.ok:
                    return v
        q = tail.rfind(b'{"page_size"', 0, q)
    return None


class StreamReader:
    """One pass over a stream; see :func:`read_stream`."""

    def __init__(self, data: Buffer, table: DeviceTable | None, *, canonical: bool = True,
                 file: str | None = None, known: Vmdesc | None = None) -> None:
        self.src = Source(data)
        self.known = known  # the vmdesc found from the end, not to be parsed twice
        self.table = table
        self.canonical = canonical
        self.file = file
        self.page_size = table.page_size if table is not None else 4096
        self.started: dict[int, Section] = {}

    def read(self) -> Stream:
        src = self.src
        if src.left < 8:
            raise src.fail("not a migration stream (shorter than its header)", 0)
        magic, version = src.be32("magic"), src.be32("version")
        if magic != MAGIC:
            raise src.fail(f"not a migration stream (magic 0x{magic:08x})", 0)
        if version != VERSION:
            raise src.fail(f"unsupported migration stream version {version}", 4)
        config: Configuration | None = None
        if src.peek() == CONFIGURATION:
            src.u8("configuration")
            config = read_configuration(src)
        footers = config is not None
        items: list[Section | Command] = []
        eof = False
        while src.left:
            at = src.pos
            kind = src.u8("section type")
            if kind == EOF:
                eof = True
                break
            if kind == COMMAND:
                cmd, n = src.be16("command"), src.be16("command.len")
                items.append(Command(cmd, bytes(src.take(n, "command.data")), at))
                continue
            if kind not in (START, PART, END, FULL):
                raise src.fail(f"unknown savevm section type {kind}", at)
            items.append(self.section(kind, at, footers))
        vmdesc = None
        if eof and src.peek() == VMDESCRIPTION:
            src.u8("vmdesc")
            n = src.be32("vmdesc.len")
            raw = bytes(src.take(n, "vmdesc"))
            vmdesc = self.known if self.known is not None and self.known.raw == raw \
                else parse_vmdesc(raw)
        if not eof:
            raise src.fail("stream ends without EOF", src.pos)
        if src.left > MAX_TRAILING:
            raise src.fail(f"{src.left} bytes after the end of the stream", src.pos)
        trailing = bytes(src.take(src.left, "trailing"))
        layout = LAYOUT_2_4 if config is not None else (
            LAYOUT_2_3 if vmdesc is not None else LAYOUT_2_0)
        return Stream(layout, config, tuple(items), eof, vmdesc, trailing, self.page_size,
                      size=src.end)

    def section(self, kind: int, at: int, footers: bool) -> Section:
        src = self.src
        sid = src.be32("section_id")
        if kind in (START, FULL):
            idstr = src.name("idstr")
            instance, version = src.be32("instance_id"), src.be32("version_id")
        else:
            first = self.started.get(sid)
            if first is None:
                raise src.fail(f"Unknown savevm section {sid}", at)
            idstr, instance, version = first.idstr, first.instance_id, first.version_id
        start = src.pos
        if idstr == RAM_IDSTR and kind != FULL:
            if version != RAM_VERSION:
                raise src.fail(f"ram: unsupported version {version} (expected {RAM_VERSION})",
                               at)
            ram = read_ram(src, self.page_size)
            sec = Section(kind, sid, idstr, instance, version, ram=ram, offset=at,
                          payload=(start, src.pos))
        elif kind != FULL:
            raise src.fail(f"iterative section {idstr!r} is not supported (only RAM)", at)
        else:
            sec = self.device(sid, idstr, instance, version, at)
        if kind == START:
            self.started[sid] = sec
        if footers:
            self.footer(sec)
        return sec

    def device(self, sid: int, idstr: str, instance: int, version: int, at: int) -> Section:
        src = self.src
        if self.table is None:
            raise src.fail("no vmdesc to decode device sections with (this stream has none: "
                           "give --vmdesc-from)", at)
        entry = self.table.lookup(idstr, instance)
        if entry is None:
            raise UnknownSection(device="stream", offset=at, idstr=idstr, instance_id=instance)
        desc: Description | None = entry.description
        if desc is None:
            raise src.fail(f"section {idstr!r} has no VMState description (old-style save "
                           "handler): cannot delimit it", at)
        start = src.pos
        try:
            state, end = decode_payload(desc, src.data, version, start)
        except LoadError as e:
            e.add_note(f"in section {sid} {idstr!r} instance {instance}")
            raise
        src.pos = end
        raw = None
        if self.canonical and encode_payload(desc, state) != bytes(src.data[start:end]):
            raw = bytes(src.data[start:end])
        return Section(FULL, sid, idstr, instance, version, state=state, raw=raw, offset=at,
                       payload=(start, end), vmsd_name=desc.name)

    def footer(self, sec: Section) -> None:
        src = self.src
        at = src.pos
        mark = src.peek()
        if mark != FOOTER:
            raise src.fail(f"Missing section footer for {sec.idstr}", at)
        src.u8("footer")
        got = src.be32("footer.section_id")
        if got != sec.section_id:
            raise src.fail(f"Mismatched section id in footer for {sec.idstr} - read 0x{got:x} "
                           f"expected 0x{sec.section_id:x}", at)


def read_stream(data: Buffer, *, vmdesc_from: Any = None, dump: Mapping[str, Description]
                | None = None, file: str | None = None, canonical: bool = True) -> Stream:
    """Decode a whole stream.

    ``vmdesc_from`` is a parsed vmdesc to take descriptions from (default: the
    stream's own); ``dump`` (descriptions by device type, e.g. from
    :func:`harness.dumps.from_dump`) merges a dump's versions and tests in.
    """
    own = None
    table = None
    try:
        if vmdesc_from is not None:
            table = device_table(vmdesc_from, file=file, dump=dump)
        else:
            own = find_vmdesc(data)
            if own is not None:
                try:
                    table = device_table(own.obj, file=file, dump=dump)
                except InputError as e:  # the stream's own vmdesc: a bad stream, not bad input
                    where = InputError(e.bare, device=e.device, path=e.path)
                    raise StreamError(device="stream", offset=None,
                                      detail=f"the stream's vmdesc is unusable: {where}") from None
        stream = StreamReader(data, table, canonical=canonical, file=file, known=own).read()
    except InputError as e:
        raise e.located(file=file) from None
    except RecursionError:
        raise StreamError(device="stream", offset=None,
                          detail="descriptions or data nested too deeply") from None
    if vmdesc_from is not None:
        stream = _with(stream, descriptions_from=vmdesc_from)
    return stream


def _with(stream: Stream, **changes: Any) -> Stream:
    from dataclasses import replace

    return replace(stream, **changes)
