"""Reading a whole savevm stream (framing + RAM + device sections).

:func:`read_stream` walks the stream once: header, configuration, sections
(RAM records by :mod:`~vmcompat.stream.ram`, device payloads by the legacy
codec with descriptions from a vmdesc), footers, EOF, the trailing vmdesc.
Device sections need descriptions before the vmdesc at the end is reached,
so :func:`find_vmdesc` first locates it from the end of the file.

Errors are typed: :class:`~vmcompat.errors.Truncated`,
:class:`~vmcompat.errors.StreamError` (QEMU's wording where it has one: "Missing
section footer for %s", "Mismatched section id in footer for %s - read 0x%x
expected 0x%x"), :class:`~vmcompat.errors.UnknownSection`, and the legacy
codec's errors (too new/too old/unknown subsection …), all located at a byte
offset.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import struct
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from vmcompat.errors import InputError, LoadError, StreamError, Truncated, UnknownSection
from vmcompat.limits import MAX_TRAILING, MAX_VMDESC, MAX_VMDESC_CANDIDATES
from vmcompat.model import Description
from vmcompat.stream.configuration import read_configuration
from vmcompat.stream.devices import (
    DeviceTable,
    compact_table,
    decode_payload,
    device_table,
    encode_payload,
    shown,
)
from vmcompat.stream.jsontext import Irregular, Pull
from vmcompat.stream.layout import (
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
    for_machine,
)
from vmcompat.stream.model import Command, Configuration, Section, Stream, Vmdesc
from vmcompat.stream.ram import read_ram
from vmcompat.stream.source import Buffer, Source, note_cut, release, text_reader

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


#: how a vmdesc JSON starts: QEMU 10.0 writes a "configuration" entry before "page_size"
VMDESC_STARTS = (b'{"page_size"', b'{"configuration"')


def _tail(data: Buffer) -> tuple[Any, int]:
    """The stream's bytes, searchable (``rfind``, indexing, slicing) without a copy when
    they are a mapped file, and the offset of the end part a vmdesc can be in."""
    base = max(0, len(data) - MAX_VMDESC - MAX_TRAILING - 5)
    whole = data.obj if isinstance(data, memoryview) else data
    if isinstance(whole, mmap.mmap) and len(whole) == len(data):
        return whole, base
    if isinstance(whole, bytes) and len(whole) == len(data):
        return whole, base
    return bytes(memoryview(data)[base:]), 0


def _candidates(tail: Any, lo: int = 0) -> Iterator[int]:
    """Offsets in ``tail`` (not before ``lo``) where a vmdesc JSON may start, last first
    (a bounded number)."""
    ends = dict.fromkeys(VMDESC_STARTS, len(tail))
    for _ in range(MAX_VMDESC_CANDIDATES):
        found = {needle: tail.rfind(needle, lo, end) for needle, end in ends.items()}
        needle, q = max(found.items(), key=lambda kv: kv[1])
        if q < lo + 5:
            return
        yield q
        ends[needle] = q


def find_vmdesc(data: Buffer) -> Vmdesc | None:
    """Locate the trailing vmdesc from the end: ``0x06``, be32 length, the JSON object.

    Only the last :data:`~vmcompat.limits.MAX_VMDESC` + ``MAX_TRAILING`` bytes are
    searched, so a huge (or sparse) file costs no more than a small one.
    """
    tail, lo = _tail(data)
    for q in _candidates(tail, lo):
        if tail[q - 5] == VMDESCRIPTION:
            n = _BE32.unpack_from(tail, q - 4)[0]
            if q + n <= len(tail):
                v = parse_vmdesc(tail[q:q + n])
                if v.ok:
                    return v
    return None


def no_vmdesc(data: Buffer, machine: str | None, at: int) -> LoadError:
    """Why there is no vmdesc to decode with: cut off by a truncation, or none was sent."""
    tail, lo = _tail(data)
    base = len(data) - len(tail)  # 0 unless the tail is a copy of the end
    q = next(_candidates(tail, lo), -1)
    if q >= lo + 5 and tail[q - 5] == VMDESCRIPTION:
        n = _BE32.unpack_from(tail, q - 4)[0]
        if q + n > len(tail):
            return Truncated(device="stream", path=("vmdesc",), offset=base + q, need=n,
                             have=len(tail) - q)
    if machine is not None and for_machine(machine).vmdesc:
        return StreamError(device="stream", offset=None, detail=(
            f"truncated at byte {len(data)}, or its vmdesc is damaged: {machine} streams "
            "end with a vmdesc and none was found (give --vmdesc-from)"))
    return StreamError(device="stream", offset=at, detail=(
        "no vmdesc at the end to decode device sections with (machine types 2.0-2.2 send "
        f"none; any other stream is truncated at byte {len(data)}): give --vmdesc-from"))


class StreamReader:
    """One pass over a stream; see :func:`read_stream`."""

    def __init__(self, data: Buffer, table: DeviceTable | None, *, canonical: bool = True,
                 file: str | None = None, known: Vmdesc | None = None,
                 strict: bool = True, allow_trailing: bool = False,
                 vmdesc_name: str = "the stream's own vmdesc") -> None:
        self.src = Source(data)
        self.known = known  # the vmdesc found from the end, not to be parsed twice
        self.known_span: tuple[int, int] | None = None  # where it is in ``data``, if known
        #: its members as parsed (``devices`` a list), kept when it is small
        self.known_members: list[tuple[str, Any]] | None = None
        self.table = table
        self.canonical = canonical
        self.file = file
        self.strict = strict
        self.allow_trailing = allow_trailing
        self.vmdesc_name = vmdesc_name
        self.page_size = table.page_size if table is not None else 4096
        self.started: dict[int, Section] = {}
        self.machine: str | None = None
        self.footers = False
        self.eof = False
        #: (idstr, instance_id, offset) of each device section read, in order
        self.devices: list[tuple[str, int, int | None]] = []

    def read(self) -> Stream:
        config = self.begin()
        items = tuple(self.items())
        return self.finish(config, items)

    def begin(self) -> Configuration | None:
        """Read the header and the configuration (if any)."""
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
            self.machine = config.machine
        self.footers = config is not None
        return config

    def items(self) -> Iterator[Section | Command]:
        """The sections and commands up to EOF, one at a time (after :meth:`begin`).

        Only ``(idstr, instance_id, offset)`` of each device section is kept (for
        :meth:`match_vmdesc`), so a caller that writes each item out and drops it
        reads a stream of any length in flat memory.
        """
        src = self.src
        while src.left:
            at = src.pos
            kind = src.u8("section type")
            if kind == EOF:
                self.eof = True
                return
            if kind == COMMAND:
                cmd, n = src.be16("command"), src.be16("command.len")
                yield Command(cmd, bytes(src.take(n, "command.data")), at)
                continue
            if kind not in (START, PART, END, FULL):
                raise src.fail(f"unknown savevm section type {kind}", at)
            sec = self.section(kind, at, self.footers)
            if sec.kind == FULL:
                self.devices.append((sec.idstr, sec.instance_id, sec.offset))
            yield sec

    def finish(self, config: Configuration | None, items: tuple[Section | Command, ...] = ()
               ) -> Stream:
        """After :meth:`items`: the vmdesc, the checks that need the whole stream, the rest."""
        src = self.src
        eof = self.eof
        vmdesc = None
        if eof and src.peek() == VMDESCRIPTION:
            src.u8("vmdesc")
            n = src.be32("vmdesc.len")
            at = src.pos
            view = src.take(n, "vmdesc")  # compared in place: a big vmdesc is not copied
            same = self.known is not None and (self.known_span == (at, at + n)
                                               or self.known.raw == view)
            vmdesc = self.known if same else parse_vmdesc(bytes(view))
        if not eof:
            raise src.fail("stream ends without EOF", src.pos)
        if self.strict and self.table is not None:
            self.match_vmdesc()
        if src.left and self.strict and not self.allow_trailing:
            after = "its vmdesc" if vmdesc is not None else "EOF"
            raise src.fail(f"{_count(src.left, 'byte')} after {after} at byte {src.pos} "
                           "(give --allow-trailing to keep them)", src.pos)
        if src.left > MAX_TRAILING:
            raise src.fail(f"{src.left} bytes after the end of the stream", src.pos)
        trailing = bytes(src.take(src.left, "trailing"))
        layout = LAYOUT_2_4 if config is not None else (
            LAYOUT_2_3 if vmdesc is not None else LAYOUT_2_0)
        return Stream(layout, config, items, eof, vmdesc, trailing, self.page_size,
                      size=src.end)

    def match_vmdesc(self) -> None:
        """The device sections must be the vmdesc's devices, in its order.

        QEMU lists every device section it saves in the vmdesc, in save order: a
        difference means the description decoded the stream wrongly (or the stream
        lost a section), so the decoded values cannot be trusted.
        """
        assert self.table is not None
        got = self.devices
        want = [(e.name, e.instance_id) for e in self.table.entries]
        for k, (idstr, instance, offset) in enumerate(got):
            if k >= len(want) or (idstr, instance) != want[k]:
                listed = (f"lists {_section_name(*want[k])} there" if k < len(want)
                          else f"lists only {_count(len(want), 'device section')}")
                raise self.src.fail(f"section {_section_name(idstr, instance)} at "
                                    f"byte {offset} does not match {self.vmdesc_name}, "
                                    f"which {listed}: {_misread(got, k)}", offset)
        if len(got) < len(want):
            missing = want[len(got)]
            raise self.src.fail(f"the stream ends after {_count(len(got), 'device section')} "
                                f"but {self.vmdesc_name} lists {len(want)}, next "
                                f"{_section_name(*missing)}: {_misread(got, len(got))}")

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
            raise no_vmdesc(src.data, self.machine, at)
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


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _section_name(idstr: str, instance: int) -> str:
    return f"'{idstr}'" + (f" instance {instance}" if instance else "")


def _misread(got: list[tuple[str, int, int | None]], k: int) -> str:
    if k == 0:
        return "the vmdesc does not describe this stream"
    idstr, instance, offset = got[k - 1]
    return (f"the vmdesc does not describe this stream (section "
            f"{_section_name(idstr, instance)} at byte {offset} was "
            "probably decoded with the wrong layout)")


def read_stream(data: Buffer, *, vmdesc_from: Any = None, dump: Mapping[str, Description]
                | None = None, file: str | None = None, canonical: bool = True,
                strict: bool = True, allow_trailing: bool = False,
                vmdesc_file: str | None = None) -> Stream:
    """Decode a whole stream.

    ``vmdesc_from`` is a parsed vmdesc to take descriptions from (default: the
    stream's own; ``vmdesc_file`` names it in errors); ``dump`` (descriptions by
    device type, e.g. from :func:`vmcompat.dumps.from_dump`) merges a dump's
    versions and tests in.

    ``strict`` (the default) refuses what would make the decoded values
    untrustworthy: device sections that are not the vmdesc's devices in its order,
    and bytes after the end of the stream (unless ``allow_trailing``).
    ``strict=False`` reads as far as the framing allows (``stream verify``
    reports the rest as defects).
    """
    with located_errors(data, file):
        own = None
        table = None
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
        name = (f"the vmdesc of {vmdesc_file}" if vmdesc_file else "the given vmdesc") \
            if vmdesc_from is not None else "the stream's own vmdesc"
        stream = StreamReader(data, table, canonical=canonical, file=file, known=own,
                              strict=strict, allow_trailing=allow_trailing,
                              vmdesc_name=name).read()
    if vmdesc_from is not None:
        stream = _with(stream, descriptions_from=vmdesc_from)
    return stream


@contextlib.contextmanager
def located_errors(data: Buffer, file: str | None) -> Iterator[None]:
    """Errors of a stream read as :func:`read_stream` raises them (file, cut, depth)."""
    try:
        yield
    except InputError as e:
        raise e.located(file=file) from None
    except Truncated as e:
        note_cut(e, data)
        raise
    except RecursionError:
        raise StreamError(device="stream", offset=None,
                          detail="descriptions or data nested too deeply") from None


def compact_reader(data: Buffer, *, file: str | None = None, allow_trailing: bool = False,
                   canonical: bool = True, strict: bool = True,
                   dump: Mapping[str, Description] | None = None,
                   see: Callable[[Any], object] | None = None) -> StreamReader:
    """A reader of a stream with its own vmdesc, which it reads device by device.

    The vmdesc is kept as its bytes (``known.obj`` is None) and a device table
    sharing one description per distinct device, so memory does not grow with
    the stream's devices; read the sections with :meth:`StreamReader.items`.
    ``canonical``, ``strict`` and ``dump`` are :func:`read_stream`'s; ``see`` is
    shown each vmdesc device as it is read (:func:`compact_table`).
    Whatever :func:`read_stream` would treat differently from a plain, valid
    vmdesc found at the end raises :class:`~vmcompat.stream.jsontext.Irregular`:
    :func:`read_stream` then decides, with its own errors.
    """
    tail, lo = _tail(data)
    for q in _candidates(tail, lo):
        if tail[q - 5] != VMDESCRIPTION:
            continue
        n = _BE32.unpack_from(tail, q - 4)[0]
        if q + n > len(tail):
            continue
        base = len(data) - len(tail)  # 0 unless the tail is a copy of the end
        del tail
        span = (base + q, base + q + n)
        kept: list[tuple[str, Any]] | None = [] if n <= KEEP_PARSED_VMDESC else None
        try:
            with text_reader(data, *span) as fh:
                p = Pull(fh)
                members = p.members("devices")
                table = compact_table(members if kept is None else _kept(members, kept),
                                      file=file, dump=dump, see=see)
                p.end()
        except (UnicodeDecodeError, InputError) as e:
            raise Irregular(str(e)) from None
        release(data, len(data))  # the end searched is not needed until the end
        reader = StreamReader(data, table, file=file, known=Vmdesc(memoryview(data)[
            span[0]:span[1]]), canonical=canonical, strict=strict,
            allow_trailing=allow_trailing)
        reader.known_span, reader.known_members = span, kept
        return reader
    raise Irregular("no vmdesc at the end")


#: a vmdesc of at most this many bytes is kept as parsed by :func:`compact_reader` (a
#: typical one is 100 KB), so writing it out does not parse it again; a bigger one is
#: read again instead, so memory stays flat whatever its size
KEEP_PARSED_VMDESC = 1 << 20


def _kept(members: Iterator[tuple[str, Any]],
          into: list[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """``members`` as they go by, each also put in ``into`` (an iterator value as the list
    of what it gave)."""
    for key, value in members:
        if isinstance(value, Iterator):
            items: list[Any] = []
            into.append((key, items))
            yield key, shown(value, items.append)
        else:
            into.append((key, value))
            yield key, value


def _with(stream: Stream, **changes: Any) -> Stream:
    from vmcompat.values import replace

    return replace(stream, **changes)
