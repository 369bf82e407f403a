"""Bounded reading of stream bytes: every length is checked before it is used.

A :class:`Source` reads big-endian integers and byte spans from a buffer
(``bytes`` or a ``memoryview`` of an ``mmap``); running past the end raises
:class:`~vmcompat.errors.Truncated` at the exact offset, so a 4-byte length of
2^31 on a short file fails at once instead of allocating.

>>> s = Source(b"\\x00\\x00\\x00\\x05ab")
>>> s.be32("len"), bytes(s.take(2, "name"))
(5, b'ab')
>>> s.take(1, "more")
Traceback (most recent call last):
...
vmcompat.errors.Truncated: stream.more @6: unexpected end of data: need 1 byte, 0 left
"""

from __future__ import annotations

import contextlib
import io
import mmap
import struct
from collections.abc import Iterator
from typing import Any, TextIO

from vmcompat.errors import InputError, LoadError, StreamError, Truncated

_BE16 = struct.Struct(">H")
_BE32 = struct.Struct(">I")
_BE64 = struct.Struct(">Q")

Buffer = bytes | bytearray | memoryview


class Source:
    """A cursor over stream bytes; offsets are absolute in the stream."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: Buffer, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    @property
    def left(self) -> int:
        return self.end - self.pos

    def need(self, n: int, what: str) -> int:
        """Reserve ``n`` bytes; return their offset."""
        p = self.pos
        if n < 0 or p + n > self.end:
            raise Truncated(device="stream", path=(what,), offset=p, need=n, have=self.end - p)
        self.pos = p + n
        return p

    def u8(self, what: str) -> int:
        return self.data[self.need(1, what)]

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < self.end else None

    def be16(self, what: str) -> int:
        return _BE16.unpack_from(self.data, self.need(2, what))[0]

    def be32(self, what: str) -> int:
        return _BE32.unpack_from(self.data, self.need(4, what))[0]

    def be64(self, what: str) -> int:
        return _BE64.unpack_from(self.data, self.need(8, what))[0]

    def take(self, n: int, what: str) -> memoryview:
        """``n`` bytes as a view (no copy); the length is checked first."""
        p = self.need(n, what)
        return memoryview(self.data)[p:p + n]

    def name(self, what: str) -> str:
        """A u8-length-prefixed idstr."""
        n = self.u8(what)
        return bytes(self.take(n, what)).decode("latin-1")

    def fail(self, detail: str, offset: int | None = None) -> StreamError:
        return StreamError(device="stream", offset=self.pos if offset is None else offset,
                           detail=detail)


def note_cut(e: LoadError, data: Buffer) -> None:
    """Say where the stream ends when a read ran off the end of all of ``data``."""
    if isinstance(e, Truncated) and e.offset is not None \
            and e.params.get("have") == len(data) - e.offset:
        e.add_note(f"the stream is truncated at byte {len(data)}")


def release(data: Buffer, upto: int) -> None:
    """Drop the mapped pages of ``data`` before ``upto`` from this process's resident set.

    A read-only file mapping reads them back from the page cache if they are touched
    again; so reading a stream front to back keeps the process's memory flat however
    long the file is. Anything but an ``mmap`` view is left alone.
    """
    mm = data.obj if isinstance(data, memoryview) else None
    upto -= upto % mmap.PAGESIZE
    if isinstance(mm, mmap.mmap) and upto > 0:
        with contextlib.suppress(OSError, ValueError):
            mm.madvise(mmap.MADV_DONTNEED, 0, min(upto, len(mm)))


class _ViewReader(io.RawIOBase):
    """A read-only file over ``data[start:end]``: nothing is copied but what is read,
    and what was read of a mapped file is dropped from memory (:func:`release`)."""

    def __init__(self, data: Buffer, start: int, end: int) -> None:
        super().__init__()
        self.data, self.pos, self.end = data, start, end

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), self.end - self.pos)
        b[:n] = memoryview(self.data)[self.pos:self.pos + n]
        self.pos += n
        release(self.data, self.pos)
        return n


def text_reader(data: Buffer, start: int, end: int) -> TextIO:
    """The UTF-8 text of ``data[start:end]``, read a piece at a time (see
    :class:`_ViewReader`: everything before what is read may be dropped)."""
    return io.TextIOWrapper(io.BufferedReader(_ViewReader(data, start, end)), encoding="utf-8")


@contextlib.contextmanager
def open_source(path: str) -> Iterator[memoryview]:
    """The bytes of a file as a read-only view of an ``mmap`` (empty files too)."""
    try:
        fh = open(path, "rb")
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", file=path) from None
    with fh:
        try:
            size = fh.seek(0, 2)
            if size == 0:
                yield memoryview(b"")
                return
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:
            raise InputError(f"cannot map: {e}", file=path) from None
        view = memoryview(mm)
        try:
            yield view
        finally:
            view.release()
            with contextlib.suppress(BufferError):
                mm.close()
