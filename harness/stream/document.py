"""A stream as a JSON document, and back, exactly.

Document (``"format": "vmcompat-stream/1"``)::

    {"format", "header": {"magic": "QEVM", "version": 3}, "layout": "2.4",
     "page_size": 4096,
     "configuration": {"machine": "pc-i440fx-7.2", "__subsections__"?: {...}} | null,
     "sections": [
       {"type": "start"|"part"|"end", "section_id", "idstr", "instance_id", "version_id",
        "ram": [RECORD, ...]},
       {"type": "full", "section_id", "idstr", "instance_id", "version_id", "vmsd_name",
        "state": {...}, "raw"?: HEX},
       {"type": "command", "command": N, "data": HEX}],
     "eof": true,
     "vmdesc": {...} | null, "vmdesc_text"?: STR, "vmdesc_hex"?: HEX,
     "vmdesc_from"?: {...}, "pages"?: {"file": NAME, "bytes": N}, "trailing"?: HEX}

``state`` follows the state JSON convention (buffers as hex: the RTC's
``cmos_data`` is its 128 bytes). ``raw`` appears only when re-encoding the
state would not give the stream's bytes (non-zero ``unused`` bytes, a bool
byte other than 0/1); it then wins on encode. For PART/END sections ``idstr``,
``instance_id`` and ``version_id`` are informative (taken from the START).

RAM records (consecutive pages summarised as runs)::

    {"mem_size": TOTAL, "blocks": [[IDSTR, LENGTH], ...]}
    {"zero": OFFSET, "count": N, "block"?: IDSTR, "fill"?: BYTE}
    {"pages": OFFSET, "count": N, "block"?: IDSTR, "at": SIDECAR_OFFSET | "hex": HEX}
    {"eos": true}

``block`` is present when the run's first record names its block (no
CONTINUE flag); every other record of a run continues. Page bytes live in a
sidecar file next to the JSON (``OUT.json`` → ``OUT.pages.bin``, named in
``"pages"``), at byte ``at``, ``count × page_size`` bytes; without a sidecar
they are inline ``hex``. ``vmdesc`` is the parsed vmdesc; ``vmdesc_text`` is
its exact text when ``json.dumps(vmdesc)`` would not reproduce it, and
``vmdesc_hex`` its bytes when it is not even UTF-8 JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring_ascii
from typing import Any

from vmcompat import state as statejson
from vmcompat.errors import InputError
from vmcompat.limits import MAX_RUN
from vmcompat.model import SUBSECTIONS_KEY, wire_name_problem
from vmcompat.stream.configuration import CONFIGURATION_DESC
from vmcompat.stream.devices import DeviceTable, compact_table, device_table
from vmcompat.stream.jsontext import Irregular, Pull, indented, pieces_reader
from vmcompat.stream.layout import (
    FULL,
    LAYOUT_2_4,
    SECTION_NAMES,
    SECTION_TYPES,
    START,
    Layout,
    by_name,
)
from vmcompat.stream.model import (
    Command,
    Configuration,
    Eos,
    MemSize,
    PageRun,
    Pages,
    RamRecord,
    Section,
    Stream,
    Vmdesc,
    ZeroRun,
)
from vmcompat.stream.reader import compact_reader, located_errors, parse_vmdesc
from vmcompat.stream.source import Buffer, release, text_reader
from vmcompat.stream.writer import write_head, write_item, write_tail
from vmcompat.words import plural

FORMAT = "vmcompat-stream/1"
Write = Callable[[bytes | bytearray | memoryview], object]


# ----------------------------------------------------------------------------- to JSON
class _Pages:
    """Where page data goes: a sidecar ``write`` (tracking the offset) or inline hex."""

    def __init__(self, write: Write | None) -> None:
        self.write, self.offset = write, 0

    def put(self, pages: Pages) -> dict[str, Any]:
        if self.write is None:
            return {"hex": b"".join(bytes(p) for p in pages).hex()}
        at = self.offset
        for p in pages:
            self.write(p)
            self.offset += len(p)
        return {"at": at}


def to_document(stream: Stream, *, pages: Write | None = None, pages_file: str | None = None
                ) -> dict[str, Any]:
    """The JSON document of a stream; page bytes go to ``pages`` (a sidecar) if given."""
    sink = _Pages(pages)
    doc = _head_json(stream.layout.name, stream.page_size, stream.configuration)
    doc["sections"] = [_item_json(x, sink, stream.page_size) for x in stream.items]
    doc["eof"] = stream.eof
    doc.update(_vmdesc_json(stream.vmdesc))
    doc.update(_rest_json(stream, sink, pages is not None, pages_file))
    return doc


def _head_json(layout: str, page_size: int, c: Configuration | None) -> dict[str, Any]:
    """The document's keys before ``sections``."""
    return {"format": FORMAT, "header": {"magic": "QEVM", "version": 3}, "layout": layout,
            "page_size": page_size,
            "configuration": None if c is None else {
                "machine": c.machine,
                **({SUBSECTIONS_KEY: statejson.to_json(c.subsections)} if c.subsections else {})}}


def _vmdesc_json(v: Vmdesc | None) -> dict[str, Any]:
    """``vmdesc`` and, when the parsed form would not give its bytes back, its text."""
    doc: dict[str, Any] = {"vmdesc": v.obj if v is not None and v.obj is not None else None}
    if v is not None:
        if v.obj is None:
            try:
                doc["vmdesc_text"] = v.raw.decode("utf-8")
            except UnicodeDecodeError:
                doc["vmdesc_hex"] = v.raw.hex()
        elif json.dumps(v.obj).encode() != v.raw:
            doc["vmdesc_text"] = v.raw.decode("utf-8")
    return doc


def _rest_json(stream: Stream, sink: _Pages, sidecar: bool, pages_file: str | None
               ) -> dict[str, Any]:
    """The document's keys after the vmdesc."""
    doc: dict[str, Any] = {}
    if stream.descriptions_from is not None:
        doc["vmdesc_from"] = stream.descriptions_from
    if sidecar:
        doc["pages"] = {"file": pages_file, "bytes": sink.offset}
    if stream.trailing:
        doc["trailing"] = stream.trailing.hex()
    return doc


def write_document(data: Buffer, out: Write, *, pages: Write, pages_file: str,
                   file: str | None = None, allow_trailing: bool = False) -> None:
    """Decode the stream in ``data`` and write its document's text to ``out`` as it goes.

    The bytes are those of ``json.dump(to_document(read_stream(data), ...), indent=2)``
    and a newline, but each section is written and dropped as soon as it is
    decoded, and the vmdesc is read device by device (:func:`compact_reader`),
    so memory stays flat whatever the number of sections. Errors are
    :func:`read_stream`'s, raised after part of the text was written (write to an
    atomic output). A stream this path does not handle exactly as
    :func:`to_document` would (no configuration section, a vmdesc given or found
    in an unusual form, a value :func:`indented` does not know) raises
    :class:`Irregular` before its text could differ.
    """
    reader = compact_reader(data, file=file, allow_trailing=allow_trailing)
    sink = _Pages(pages)
    with located_errors(data, file):
        config = reader.begin()
        if config is None:  # the layout (before the sections) depends on what follows EOF
            raise Irregular("no configuration section")
        head = _head_json(LAYOUT_2_4.name, reader.page_size, config)
        out(("{" + "".join(f"{_NL1}{_key(k)}{indented(v, _NL1)}," for k, v in head.items())
             + f'{_NL1}"sections": ').encode())
        sep = "[" + _NL2
        for x in reader.items():
            out((sep + indented(_item_json(x, sink, reader.page_size), _NL2)).encode())
            sep = "," + _NL2
            release(data, reader.src.pos)
        out(b"[]" if sep.startswith("[") else _NL1.encode() + b"]")
        stream = reader.finish(config)
        release(data, len(data))
    out(f',{_NL1}"eof": {indented(stream.eof, _NL1)}'.encode())
    if stream.vmdesc is reader.known and reader.known_span is not None:
        _write_vmdesc(data, *reader.known_span, out, reader.known_members)
    else:
        for k, v in _vmdesc_json(stream.vmdesc).items():
            out(f",{_NL1}{_key(k)}{indented(v, _NL1)}".encode())
    for k, v in _rest_json(stream, sink, True, pages_file).items():
        out(f",{_NL1}{_key(k)}{indented(v, _NL1)}".encode())
    out(b"\n}\n")


_NL1, _NL2, _NL3 = "\n  ", "\n    ", "\n      "


def _key(k: str) -> str:
    return encode_basestring_ascii(k) + ": "


def _write_vmdesc(data: Buffer, start: int, end: int, out: Write,
                  members: list[tuple[str, Any]] | None = None) -> None:
    """``"vmdesc"`` (and ``"vmdesc_text"`` if needed) from the vmdesc's bytes
    ``data[start:end]``, device by device, as :func:`_vmdesc_json` and ``json.dump``
    would write them (the text is never held whole). ``members`` are its members
    already parsed (``devices`` a list), if kept: else it is read again."""
    canon = _Canonical(data, start, end)
    out(f',{_NL1}"vmdesc": '.encode())
    canon.feed("{")
    sep = "{"
    for k, v in _members_again(data, start, end) if members is None else members:
        canon.feed(("" if sep == "{" else ", ") + encode_basestring_ascii(k) + ": ")
        out((sep + _NL2 + _key(k)).encode())
        sep = ","
        if k != "devices" or not isinstance(v, (Iterator, list)):
            canon.feed(json.dumps(v))
            out(indented(v, _NL2).encode())
            continue
        canon.feed("[")
        inner = "["
        for dev in v:
            canon.feed("" if inner == "[" else ", ")
            canon.feed(json.dumps(dev))
            out((inner + _NL3 + indented(dev, _NL3)).encode())
            inner = ","
        canon.feed("]")
        out(b"[]" if inner == "[" else _NL2.encode() + b"]")
    canon.feed("}")
    out(b"{}" if sep == "{" else _NL1.encode() + b"}")
    if not canon.same():  # the exact text, escaped a piece at a time
        out(f',{_NL1}"vmdesc_text": "'.encode())
        with text_reader(data, start, end) as fh:
            while piece := fh.read(1 << 20):
                out(encode_basestring_ascii(piece)[1:-1].encode())
        out(b'"')


def _members_again(data: Buffer, start: int, end: int) -> Iterator[tuple[str, Any]]:
    """The members of the vmdesc ``data[start:end]``, read again (``devices`` an iterator)."""
    with text_reader(data, start, end) as fh:
        p = Pull(fh)
        yield from p.members("devices")
        p.end()


class _Canonical:
    """Whether ``json.dumps`` of the parsed vmdesc, fed piece by piece, gives its bytes
    ``data[start:end]`` back (compared in place)."""

    def __init__(self, data: Buffer, start: int, end: int) -> None:
        self.data, self.pos, self.end, self.ok = memoryview(data), start, end, True

    def feed(self, piece: str) -> None:
        b = piece.encode()
        if self.ok and (self.pos + len(b) > self.end
                        or self.data[self.pos:self.pos + len(b)] != b):
            self.ok = False
        self.pos += len(b)

    def same(self) -> bool:
        return self.ok and self.pos == self.end




def _item_json(x: Section | Command, sink: _Pages, page_size: int) -> dict[str, Any]:
    if isinstance(x, Command):
        return {"type": "command", "command": x.command, "data": x.data.hex()}
    out: dict[str, Any] = {"type": SECTION_NAMES[x.kind], "section_id": x.section_id,
                           "idstr": x.idstr, "instance_id": x.instance_id,
                           "version_id": x.version_id}
    if x.ram is not None:
        out["ram"] = [_record_json(r, sink) for r in x.ram]
        return out
    out["vmsd_name"] = x.vmsd_name
    out["state"] = statejson.to_json(x.state)
    if x.raw is not None:
        out["raw"] = x.raw.hex()
    return out


def _zero_json(r: ZeroRun, sink: _Pages) -> dict[str, Any]:
    out: dict[str, Any] = {"zero": r.offset, "count": r.count}
    if r.block is not None:
        out["block"] = r.block
    if r.fill:
        out["fill"] = r.fill
    return out


def _pages_json(r: PageRun, sink: _Pages) -> dict[str, Any]:
    out: dict[str, Any] = {"pages": r.offset, "count": r.count}
    if r.block is not None:
        out["block"] = r.block
    out.update(sink.put(r.pages))
    return out


def _mem_size_json(r: MemSize, sink: _Pages) -> dict[str, Any]:
    return {"mem_size": r.total, "blocks": [[n, ln] for n, ln in r.blocks]}


def _eos_json(r: Eos, sink: _Pages) -> dict[str, Any]:
    return {"eos": True}


#: RAM record type -> its JSON form
RECORD_JSON: dict[type, Callable[[Any, _Pages], dict[str, Any]]] = {
    ZeroRun: _zero_json, PageRun: _pages_json, MemSize: _mem_size_json, Eos: _eos_json}


def _record_json(r: RamRecord, sink: _Pages) -> dict[str, Any]:
    return RECORD_JSON[type(r)](r, sink)


# ----------------------------------------------------------------------------- from JSON
class _Doc:
    """Typed access to a document with one-line errors naming the JSON path."""

    def __init__(self, file: str | None) -> None:
        self.file = file

    def bad(self, where: str, msg: str) -> InputError:
        return InputError(f"{where}: {msg}", file=self.file)

    def get(self, obj: Any, key: str, kind: type | tuple[type, ...], where: str,
            default: Any = ..., lo: int | None = None, hi: int | None = None) -> Any:
        if not isinstance(obj, dict):
            raise self.bad(where, "expected an object")
        if key not in obj:
            if default is ...:
                raise self.bad(where, f"missing {key!r}")
            return default
        v = obj[key]
        if not isinstance(v, kind) or (isinstance(v, bool) and kind is int):
            raise self.bad(f"{where}.{key}", f"expected {getattr(kind, '__name__', kind)}")
        if isinstance(v, int) and not isinstance(v, bool):
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                raise self.bad(f"{where}.{key}", f"{v} is out of range [{lo}, {hi}]")
        return v

    def hex(self, obj: Any, key: str, where: str, default: Any = ...) -> bytes:
        s = self.get(obj, key, str, where, default)
        if s is None or isinstance(s, bytes):
            return s
        try:
            return bytes.fromhex(s)
        except ValueError:
            raise self.bad(f"{where}.{key}", "expected a hex string") from None

    def name(self, obj: Any, key: str, where: str, default: Any = ...,
             longest: int = 255) -> Any:
        """A name as QEMU writes it: latin-1, a u8 length (``longest`` bytes) before it."""
        s = self.get(obj, key, str, where, default)
        problem = None if s is None else wire_name_problem(s, longest)
        if problem:
            raise self.bad(f"{where}.{key}", problem)
        return s


U32 = (0, (1 << 32) - 1)
U64 = (0, (1 << 64) - 1)


def from_document(doc: Any, *, pages: Buffer | None = None, file: str | None = None
                  ) -> Stream:
    """The stream a document describes; ``pages`` is the sidecar's bytes, if any."""
    d = _Doc(file)
    layout, page_size = _head(d, doc)
    vmdesc = _vmdesc(d, doc)
    source = doc.get("vmdesc_from")
    if source is None and vmdesc is not None and vmdesc.ok:
        source = vmdesc.obj
    table = device_table(source, file=file) if source is not None else None
    config = _configuration(d, doc.get("configuration"))
    raw_sections = d.get(doc, "sections", list, "$")
    items = tuple(_items(d, raw_sections, table, pages, page_size))
    trailing = d.hex(doc, "trailing", "$", b"")
    return Stream(layout, config, items, d.get(doc, "eof", bool, "$", True), vmdesc,
                  trailing, page_size, doc.get("vmdesc_from"))


def _head(d: _Doc, doc: Any) -> tuple[Layout, int]:
    """The format, header, layout and page size of a document."""
    if d.get(doc, "format", str, "$") != FORMAT:
        raise d.bad("$.format", f"expected {FORMAT!r}")
    header = d.get(doc, "header", dict, "$")
    if header != {"magic": "QEVM", "version": 3}:
        raise d.bad("$.header", 'only {"magic": "QEVM", "version": 3} streams are written')
    layout = by_name(d.get(doc, "layout", str, "$"))
    page_size = d.get(doc, "page_size", int, "$", lo=512, hi=1 << 16)
    if page_size & (page_size - 1):
        raise d.bad("$.page_size", "not a power of two")
    return layout, page_size


def _items(d: _Doc, raw_sections: Iterable[Any], table: DeviceTable | None,
           pages: Buffer | None, page_size: int) -> Iterator[Section | Command]:
    """The sections and commands of a document's ``sections``, one at a time."""
    started: dict[int, Section] = {}
    for i, o in enumerate(raw_sections):
        item = _item(d, o, f"$.sections[{i}]", table, pages, page_size, started)
        if isinstance(item, Section) and item.kind == START:
            started[item.section_id] = item
        yield item


def write_from_document(path: str, write: Write, *, sidecar: Callable[[str], Buffer],
                        file: str | None = None) -> None:
    """Write the stream the document in file ``path`` describes, section by section.

    The bytes are those of ``write_stream(from_document(read_json(path)))`` but the
    document is read as it is written out (:class:`Pull`), in two passes: the first
    reads all but the sections, and of the vmdesc (its ``vmdesc_text`` if any, else its
    object) keeps a compact device table (:func:`compact_table`: one description per
    distinct device) and its length in bytes; the second writes the sections, then the
    vmdesc's bytes as it reads the vmdesc again, a piece at a time. So memory stays flat
    whatever the number of sections. ``sidecar(name)`` opens the pages sidecar the
    document names. A document this path does not handle exactly as the whole one (a
    vmdesc given as bytes or from elsewhere, none at all, one before the sections,
    irregular JSON) raises :class:`Irregular`. Its
    :class:`~vmcompat.errors.InputError` may come after part of the stream was written,
    and need not be the one the whole path reports first: on either, write to an atomic
    output and let the whole path say what is wrong.
    """
    d = _Doc(file)
    top: dict[str, Any] = {}
    table: DeviceTable | None = None
    size = _Count()
    with open(path, encoding="utf-8") as fh:  # pass 1: all but the sections
        p = Pull(fh)
        for key in p.object():
            if key == "sections":
                for _ in p.elements():
                    p.skip()  # read in pass 2
                top[key] = []
            elif key == "vmdesc" and p.peek() == "{":
                if "vmdesc_text" in top:  # the text wins: the object is only read past
                    _read_past(p)
                else:
                    size = _Count()
                    table = compact_table(_vmdesc_members(p, size), file=file)
                top[key] = {}
            elif key == "vmdesc_text" and p.peek() == '"':
                size = _Count()  # the exact vmdesc: it wins over the object
                text = Pull(pieces_reader(_text(p, size)))
                table = compact_table(text.members("devices"), file=file)
                text.end()
                top[key] = _TEXT_READ
            else:
                top[key] = p.value(2)
        p.end()
    if table is None or {"sections", "vmdesc"} - top.keys() \
            or {"vmdesc_hex", "vmdesc_from"} & top.keys() \
            or top.get("vmdesc_text", _TEXT_READ) is not _TEXT_READ:
        raise Irregular("no vmdesc object (and text) in the document, or one from elsewhere")
    source = "vmdesc_text" if "vmdesc_text" in top else "vmdesc"
    if list(top).index(source) < list(top).index("sections"):
        raise Irregular("the vmdesc comes before the sections")  # its bytes go after them
    layout, page_size = _head(d, top)
    config = _configuration(d, top.get("configuration"))
    ref = top.get("pages")
    pages = sidecar(ref["file"]) if isinstance(ref, dict) and isinstance(ref.get("file"), str) \
        else None
    eof = d.get(top, "eof", bool, "$", True)
    trailing = d.hex(top, "trailing", "$", b"")
    write_head(layout, config, write)
    with open(path, encoding="utf-8") as fh:  # pass 2: the sections, then the vmdesc
        p = Pull(fh)
        for key in p.object():
            if key == "sections":
                for item in _items(d, (p.value(3) for _ in p.elements()), table, pages,
                                   page_size):
                    write_item(item, write, table, layout, page_size)
            elif key == source:
                again = _Count()
                pieces = (_utf8(x) for x in p.string()) if source == "vmdesc_text" \
                    else _vmdesc_pieces(p)
                write_tail(eof, (size.n, _counted(pieces, again)), trailing, write)
                if again.n != size.n:  # the file changed between the passes
                    raise Irregular("the vmdesc read twice differs")
                return  # the rest was read in pass 1
            else:
                _read_past(p)
    raise Irregular("the document changed between the passes")


_TEXT_READ = object()  # a document's vmdesc_text, read (see write_from_document)


class _Count:
    """Bytes seen (of a vmdesc written piece by piece)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, piece: bytes) -> None:
        self.n += len(piece)


def _utf8(piece: str) -> bytes:
    try:
        return piece.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate: the whole path decides
        raise Irregular(str(e)) from None


def _text(p: Pull, put: _Count) -> Iterator[str]:
    """The string at ``p`` piece by piece, ``put`` getting the UTF-8 bytes of each."""
    for piece in p.string():
        put(_utf8(piece))
        yield piece


def _counted(pieces: Iterable[bytes], put: _Count) -> Iterator[bytes]:
    for piece in pieces:
        put(piece)
        yield piece


def _read_past(p: Pull) -> None:
    """Read past the value at ``p`` (checked in pass 1), an object's arrays (a vmdesc's
    devices) an element at a time."""
    if p.peek() != "{":
        p.skip()
        return
    for _ in p.object():
        if p.peek() == "[":
            for _ in p.elements():
                p.skip()
        else:
            p.skip()


def _vmdesc_pieces(p: Pull) -> Iterator[bytes]:
    """The bytes of ``json.dumps`` of the vmdesc object at ``p``, piece by piece."""
    pieces: list[bytes] = []
    for _, value in _vmdesc_members(p, pieces.append):
        yield from pieces
        pieces.clear()
        if isinstance(value, Iterator):
            for _ in value:
                yield from pieces
                pieces.clear()
    yield from pieces


def _vmdesc_members(p: Pull, put: Callable[[bytes], object]) -> Iterator[tuple[str, Any]]:
    """The vmdesc object's members from ``p`` (``devices`` an iterator), while ``put``
    gets the bytes of ``json.dumps`` of the whole object, piece by piece."""
    put(b"{")
    for k, key in enumerate(p.object()):
        put((b", " if k else b"") + json.dumps(key).encode() + b": ")
        if key != "devices" or p.peek() != "[":
            value = p.value(3)
            put(json.dumps(value).encode())
            yield key, value
            continue
        put(b"[")
        yield key, _devices(p, put)
        put(b"]")
    put(b"}")


def _devices(p: Pull, put: Callable[[bytes], object]) -> Iterator[Any]:
    for k, _ in enumerate(p.elements()):
        device = p.value(4)
        put((b", " if k else b"") + json.dumps(device).encode())
        yield device


def _vmdesc(d: _Doc, doc: dict[str, Any]) -> Vmdesc | None:
    if "vmdesc_hex" in doc:
        return parse_vmdesc(d.hex(doc, "vmdesc_hex", "$"))
    if "vmdesc_text" in doc:
        try:
            return parse_vmdesc(d.get(doc, "vmdesc_text", str, "$").encode("utf-8"))
        except UnicodeEncodeError as e:
            raise d.bad("$.vmdesc_text", f"not UTF-8 text: {e.reason} at character "
                        f"{e.start}") from None
    obj = doc.get("vmdesc")
    if obj is None:
        return None
    v = parse_vmdesc(json.dumps(obj).encode())
    if not v.ok:
        raise d.bad("$.vmdesc", v.error or "not a vmdesc")
    return v


def _configuration(d: _Doc, o: Any) -> Configuration | None:
    if o is None:
        return None
    machine = d.name(o, "machine", "$.configuration", longest=U32[1])
    extra = set(o) - {"machine", SUBSECTIONS_KEY}
    if extra:
        raise d.bad("$.configuration", f"unknown key {sorted(extra)[0]!r}")
    subs = o.get(SUBSECTIONS_KEY, {})
    state = statejson.from_json(CONFIGURATION_DESC, {SUBSECTIONS_KEY: subs} if subs else {},
                                file=d.file)
    return Configuration(machine, dict(state.get(SUBSECTIONS_KEY) or {}))


def _item(d: _Doc, o: Any, where: str, table: DeviceTable | None, pages: Buffer | None,
          page_size: int, started: dict[int, Section]) -> Section | Command:
    kind_name = d.get(o, "type", str, where)
    if kind_name == "command":
        data = d.hex(o, "data", where)
        if len(data) > 0xFFFF:
            raise d.bad(f"{where}.data", "longer than 65535 bytes")
        return Command(d.get(o, "command", int, where, lo=0, hi=0xFFFF), data)
    kind = SECTION_TYPES.get(kind_name)
    if kind is None:
        raise d.bad(f"{where}.type", f"unknown section type {kind_name!r}")
    sid = d.get(o, "section_id", int, where, lo=U32[0], hi=U32[1])
    if kind in (START, FULL):
        idstr = d.name(o, "idstr", where)
        inst = d.get(o, "instance_id", int, where, lo=U32[0], hi=U32[1])
        version = d.get(o, "version_id", int, where, lo=U32[0], hi=U32[1])
    else:
        first = started.get(sid)
        idstr = first.idstr if first else d.get(o, "idstr", str, where, "")
        inst = first.instance_id if first else 0
        version = first.version_id if first else 0
    if "ram" in o:
        if kind == FULL:
            raise d.bad(where, "a full section carries a device state, not RAM records")
        ram = tuple(_record(d, r, f"{where}.ram[{j}]", pages, page_size)
                    for j, r in enumerate(d.get(o, "ram", list, where)))
        return Section(kind, sid, idstr, inst, version, ram=ram)
    if kind != FULL:
        raise d.bad(where, "only RAM iterative sections are supported")
    raw = d.hex(o, "raw", where, None)
    entry = table.lookup(idstr, inst) if table is not None else None
    if entry is None or entry.description is None:
        if raw is None:
            raise d.bad(where, f"no vmdesc entry for {idstr!r} instance {inst} (and no raw)")
        return Section(FULL, sid, idstr, inst, version, raw=raw)
    desc = entry.description
    state = None
    if raw is None:
        try:
            state = statejson.from_json(desc, d.get(o, "state", dict, where), file=d.file)
        except InputError as e:
            e.bare = f"{where}.state: {e.bare}"
            raise e.located(file=d.file) from None
    return Section(FULL, sid, idstr, inst, version, state=state, raw=raw, vmsd_name=desc.name)


def _record(d: _Doc, o: Any, where: str, pages: Buffer | None, page_size: int) -> RamRecord:
    if not isinstance(o, dict):
        raise d.bad(where, "expected an object")
    if "eos" in o:
        return Eos()
    if "mem_size" in o:
        total = d.get(o, "mem_size", int, where, lo=0, hi=U64[1])
        blocks = []
        for k, b in enumerate(d.get(o, "blocks", list, where)):
            at = f"{where}.blocks[{k}]"
            if not (isinstance(b, list) and len(b) == 2 and isinstance(b[0], str)
                    and type(b[1]) is int):
                raise d.bad(at, "expected [idstr, length]")
            problem = wire_name_problem(b[0])
            if problem:
                raise d.bad(at, f"idstr: {problem}")
            if not U64[0] <= b[1] <= U64[1]:
                raise d.bad(at, f"length {b[1]} is out of range [{U64[0]}, {U64[1]}]")
            blocks.append((b[0], b[1]))
        return MemSize(total & ~(page_size - 1), tuple(blocks))
    key = "zero" if "zero" in o else "pages" if "pages" in o else None
    if key is None:
        raise d.bad(where, "expected one of eos, mem_size, zero, pages")
    offset = d.get(o, key, int, where, lo=0, hi=U64[1])
    if offset % page_size:
        raise d.bad(f"{where}.{key}", f"offset {offset} is not page aligned")
    count = d.get(o, "count", int, where, lo=1, hi=MAX_RUN)
    if offset + count * page_size > U64[1] + 1:
        raise d.bad(f"{where}.count", "the run ends past the 64-bit address space")
    block = d.name(o, "block", where, None)
    if key == "zero":
        return ZeroRun(offset, count, block, d.get(o, "fill", int, where, 0, lo=0, hi=255))
    n = count * page_size
    if "hex" in o:
        data = d.hex(o, "hex", where)
        if len(data) != n:
            raise d.bad(f"{where}.hex", f"expected {plural(n, 'byte')}, got {len(data)}")
        return PageRun(offset, count, block, Pages(data, 0, page_size, page_size, count))
    at = d.get(o, "at", int, where, lo=0, hi=U64[1])
    if pages is None or at + n > len(pages):
        raise d.bad(f"{where}.at", f"bytes {at}..{at + n} are not in the pages sidecar")
    return PageRun(offset, count, block, Pages(pages, at, page_size, page_size, count))
