"""The RAM section's records (idstr ``"ram"``, version 4), read and written.

Each record is a be64 ``offset | flags``: ``ZERO`` (0x02, one fill byte),
``MEM_SIZE`` (0x04: the total, then per block u8 length + idstr + be64 used
length, until the lengths add up to the total), ``PAGE`` (0x08, one page),
``EOS`` (0x10, the end of this section's records), ``CONTINUE`` (0x20: same
block as the previous record; without it a u8 length + block idstr follow).
Consecutive ZERO or PAGE records become one run; page bytes are never copied.

>>> recs = read_ram(Source(bytes.fromhex("0000000000001022" "00" "0000000000000010")), 4096)
>>> recs
(ZeroRun(offset=4096, count=1, block=None, fill=0), Eos())
>>> out = bytearray(); write_ram(recs, out.extend); out.hex()
'0000000000001022000000000000000010'
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from vmcompat.stream.model import Eos, MemSize, PageRun, Pages, RamRecord, ZeroRun
from vmcompat.stream.source import Source

ZERO = 0x02
MEM_SIZE = 0x04
PAGE = 0x08
EOS = 0x10
CONTINUE = 0x20

FLAG_NAMES = MappingProxyType({0x01: "FULL (obsolete)", ZERO: "ZERO", MEM_SIZE: "MEM_SIZE",
                               PAGE: "PAGE", EOS: "EOS", CONTINUE: "CONTINUE",
                               0x40: "XBZRLE", 0x80: "HOOK", 0x100: "COMPRESS_PAGE"})
_BE64 = struct.Struct(">Q")

Write = Callable[[bytes | bytearray | memoryview], object]


def _name_bytes(name: str) -> bytes:
    raw = name.encode("latin-1")
    return bytes((len(raw),)) + raw


def read_ram(src: Source, page_size: int) -> tuple[RamRecord, ...]:
    """Records up to and including ``EOS``; raises StreamError/Truncated on bad input."""
    out: list[RamRecord] = []
    mask = page_size - 1
    data = src.data
    run: list = []  # [kind, offset, count, block, fill_or_start]

    def flush() -> None:
        if run:
            kind, offset, count, block, extra = run
            if kind == ZERO:
                out.append(ZeroRun(offset, count, block, extra))
            else:
                out.append(PageRun(offset, count, block,
                                   Pages(data, extra, 8 + page_size, page_size, count)))
            run.clear()

    while True:
        at = src.pos
        word = src.be64("ram.record")
        flags, addr = word & mask, word & ~mask
        kind = flags & ~CONTINUE
        if kind == EOS and not flags & CONTINUE:
            flush()
            out.append(Eos())
            return tuple(out)
        if kind == MEM_SIZE and not flags & CONTINUE:
            flush()
            out.append(_mem_size(src, addr))
            continue
        if kind not in (ZERO, PAGE):
            names = [n for b, n in FLAG_NAMES.items() if flags & b] or [f"0x{flags:x}"]
            raise src.fail(f"unsupported RAM record flags 0x{flags:x} ({'|'.join(names)})", at)
        block = None if flags & CONTINUE else src.name("ram.block")
        if kind == ZERO:
            fill = src.u8("ram.zero")
            if not (run and run[0] == ZERO and block is None and run[4] == fill
                    and addr == run[1] + run[2] * page_size):
                flush()
                run[:] = [ZERO, addr, 1, block, fill]
            else:
                run[2] += 1
            run[2] += _more(data, src, run[1] + run[2] * page_size, ZERO, 1, page_size,
                            fill)
        else:
            start = src.need(page_size, "ram.page")
            if not (run and run[0] == PAGE and block is None
                    and addr == run[1] + run[2] * page_size
                    and start == run[4] + run[2] * (8 + page_size)):
                flush()
                run[:] = [PAGE, addr, 1, block, start]
            else:
                run[2] += 1
            run[2] += _more(data, src, run[1] + run[2] * page_size, PAGE, page_size,
                            page_size)


def _more(data: Any, src: Source, addr: int, kind: int, size: int, page_size: int,
          fill: int = -1) -> int:
    """How many records right at ``src.pos`` continue the current run (skipped over).

    The hot loop of a RAM section: a record continues the run when its word is
    exactly ``addr | kind | CONTINUE`` for the next page (same block, next
    address) with ``size`` bytes after it (a PAGE's bytes; a ZERO's fill byte,
    equal to ``fill``). Anything else is left to :func:`read_ram`'s checks.
    Whole chunks of :data:`CHUNK` records are compared at once (unpacked and
    compared by C code); the records of a chunk that does not all continue the run,
    and those after the last whole chunk, one by one.
    """
    pos, end, n = src.pos, src.end, 0
    want = addr | kind | CONTINUE
    step = 8 + size
    chunk = _chunk(size)
    span, advance = CHUNK * step, CHUNK * page_size
    while pos + span <= end:
        got = chunk.unpack_from(data, pos)
        words = got if fill < 0 else got[0::2]
        if words != tuple(range(want, want + advance, page_size)) or (
                fill >= 0 and got[1::2].count(fill) != CHUNK):
            break
        pos, want, n = pos + span, want + advance, n + CHUNK
    unpack = _BE64.unpack_from
    while pos + step <= end and unpack(data, pos)[0] == want \
            and (fill < 0 or data[pos + 8] == fill):
        pos += step
        want += page_size
        n += 1
    src.pos = pos
    return n


#: records :func:`_more` compares at once
CHUNK = 64
_CHUNKS: dict[int, struct.Struct] = {}


def _chunk(size: int) -> struct.Struct:
    """:data:`CHUNK` records of ``size`` bytes after their word: the words, and the byte
    after each when ``size`` is 1 (a ZERO's fill), else nothing of the page."""
    found = _CHUNKS.get(size)
    if found is None:
        found = _CHUNKS[size] = struct.Struct(">" + ("QB" if size == 1 else f"Q{size}x") * CHUNK)
    return found


def _mem_size(src: Source, total: int) -> MemSize:
    blocks: list[tuple[str, int]] = []
    left = total
    while left > 0:
        at = src.pos
        name = src.name("ram.mem_size.block")
        length = src.be64("ram.mem_size.length")
        if length > left:
            raise src.fail(f"RAM block {name!r} length {length} exceeds the remaining total "
                           f"{left}", at)
        blocks.append((name, length))
        left -= length
    return MemSize(total, tuple(blocks))


def _write_zero(r: ZeroRun, write: Write, page_size: int) -> None:
    tail = bytes((r.fill,))
    for i in range(r.count):
        addr = r.offset + i * page_size
        if i == 0 and r.block is not None:
            write(_BE64.pack(addr | ZERO) + _name_bytes(r.block) + tail)
        else:
            write(_BE64.pack(addr | ZERO | CONTINUE) + tail)


def _write_pages(r: PageRun, write: Write, page_size: int) -> None:
    for i, page in enumerate(r.pages):
        addr = r.offset + i * page_size
        if i == 0 and r.block is not None:
            write(_BE64.pack(addr | PAGE) + _name_bytes(r.block))
        else:
            write(_BE64.pack(addr | PAGE | CONTINUE))
        write(page)


def _write_mem_size(r: MemSize, write: Write, page_size: int) -> None:
    write(_BE64.pack(r.total | MEM_SIZE))
    for name, length in r.blocks:
        write(_name_bytes(name) + _BE64.pack(length))


def _write_eos(r: Eos, write: Write, page_size: int) -> None:
    write(_BE64.pack(EOS))


#: record type -> its writer
WRITERS: Mapping[type, Callable[[Any, Write, int], None]] = MappingProxyType({
    ZeroRun: _write_zero, PageRun: _write_pages, MemSize: _write_mem_size, Eos: _write_eos})


def write_ram(records: Iterable[RamRecord], write: Write, page_size: int = 4096) -> None:
    """Write records exactly as :func:`read_ram` read them."""
    for r in records:
        WRITERS[type(r)](r, write, page_size)
