"""JSON text piece by piece: written as ``json.dump(indent=2)`` would, read member by member.

:func:`indented` gives exactly the text ``json.dumps(obj, indent=2)`` gives for
the value at one place in a larger document (its nesting as the newline and
indentation before it), about five times faster than the standard library's
pure-Python indenting encoder; anything it does not know raises
:class:`Irregular` so the caller can fall back to :mod:`json`.

:func:`members` reads the top-level object of a JSON text one member at a time,
and the elements of one array member one at a time, so a large vmdesc is never
held whole as Python objects. It accepts only what :func:`json.loads` accepts
with the same result; what it does not handle (a duplicated key) is
:class:`Irregular` too. :class:`Pull` does the same from a file, a piece of it at a
time, and one level deeper where the caller asks; it reads a long string a piece at a
time too (:meth:`Pull.string`), and :func:`pieces_reader` reads JSON text held in
such pieces (a document's ``vmdesc_text``) as a file.

>>> indented({"a": [1, 2], "b": {}}, "\\n")
'{\\n  "a": [\\n    1,\\n    2\\n  ],\\n  "b": {}\\n}'
>>> [(k, v if k != "xs" else list(v)) for k, v in members('{"n": 1, "xs": [{"a": 1}, 2]}', "xs")]
[('n', 1), ('xs', [{'a': 1}, 2])]
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator
from json.decoder import scanstring
from json.encoder import encode_basestring_ascii
from typing import Any, TextIO

from vmcompat.limits import MAX_JSON_DEPTH, too_deep

_int = int.__repr__
_esc = encode_basestring_ascii
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
#: what follows a whole number in JSON text (its end is the text's end: "")
_AFTER_NUMBER = frozenset(", ]}\t\n\r")


class Irregular(ValueError):
    """Outside what the fast path handles: use :mod:`json` on the whole value instead."""


def indented(obj: Any, nl: str) -> str:
    """``json.dumps(obj, indent=2)`` for a value whose line starts with ``nl``'s indentation.

    ``nl`` is a newline followed by the indentation of the line the value is on
    (``"\\n"`` at top level); nested lines get two more spaces per level.
    """
    t = type(obj)
    if t is dict:  # containers first: scalars in them are written inline
        if not obj:
            return "{}"
        inner = nl + "  "
        parts = []
        add = parts.append
        for k, v in obj.items():
            if type(k) is not str:
                raise Irregular(f"a {type(k).__name__} key")
            tv = type(v)  # scalars inline: most values of a state or a vmdesc are
            if tv is str:
                add(f"{_esc(k)}: {_esc(v)}")
            elif tv is int:
                add(f"{_esc(k)}: {_int(v)}")
            else:
                add(f"{_esc(k)}: {indented(v, inner)}")
        return f"{{{inner}{(',' + inner).join(parts)}{nl}}}"
    if t is list or t is tuple:
        if not obj:
            return "[]"
        inner = nl + "  "
        sep = "," + inner
        if all(type(x) is int for x in obj):
            return "[" + inner + sep.join(map(_int, obj)) + nl + "]"
        return "[" + inner + sep.join([indented(x, inner) for x in obj]) + nl + "]"
    if t is str:
        return _esc(obj)
    if t is int:
        return _int(obj)
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    raise Irregular(f"a {t.__name__} value")


def _skip(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]  # always matches


def members(text: str, array_key: str) -> Iterator[tuple[str, Any]]:
    """The members of the top-level JSON object in ``text``, in order.

    The value of member ``array_key``, when it is an array, is an iterator over
    its elements (read as it is consumed; what the caller leaves unread is read
    when the next member is asked for). Malformed text, a top level that is not
    an object and a duplicated key raise :class:`Irregular`.
    """
    p = Pull(text)
    yield from p.members(array_key)
    p.end()


class Pull:
    """A JSON text read from a file (or a str) as the caller walks it: objects key by
    key, arrays element by element, any other value whole.

    Only a bounded piece of the file is held (what is not yet read of it, at least
    ``chunk`` characters, or one whole value). It accepts what :func:`json.load`
    accepts with the same values, nesting at most ``MAX_JSON_DEPTH`` levels as
    :func:`vmcompat.descjson.read_json` requires; anything else (malformed text, a
    duplicated key of an object walked key by key, too deep) is :class:`Irregular`.

    >>> import io
    >>> p = Pull(io.StringIO('{"a": [1, {"b": 2}], "c": 3} '))
    >>> [(k, [p.value(3) for _ in p.elements()] if k == "a" else p.value(2))
    ...  for k in p.object()], p.end()
    ([('a', [1, {'b': 2}]), ('c', 3)], None)
    """

    def __init__(self, source: TextIO | str, chunk: int = 1 << 20) -> None:
        if isinstance(source, str):  # all there already: never cut
            self.fh, self.chunk, self.buf, self.eof = None, len(source) + 1, source, True
        else:
            self.fh, self.chunk, self.buf, self.eof = source, chunk, "", False
        self.i = 0

    def _more(self) -> bool:
        """Read on (dropping what was read); False at the end of the file."""
        if self.eof or self.fh is None:
            return False
        piece = self.fh.read(max(self.chunk, len(self.buf) - self.i))
        if not piece:
            self.eof = True
            return False
        self.buf, self.i = self.buf[self.i:] + piece, 0
        return True


    def peek(self) -> str:
        """The next character after whitespace ("" at the end)."""
        while True:
            self.i = _skip(self.buf, self.i)
            if self.i < len(self.buf):
                return self.buf[self.i]
            if not self._more():
                return ""

    def _step(self) -> str:
        """The next character after whitespace, read past."""
        c = self.peek()
        self.i += 1
        return c

    def _expect(self, char: str) -> None:
        if self._step() != char:
            raise Irregular(f"expected {char!r}")

    def value(self, depth: int | None) -> Any:
        """The whole value here; ``depth`` is its level in the document (the top is 1),
        None to leave its nesting unchecked."""
        return self._read(None if depth is None else MAX_JSON_DEPTH - depth + 1)

    def skip(self) -> None:
        """Read past the value here (well-formed, its depth unchecked)."""
        self._read(None)

    def _read(self, levels: int | None) -> Any:
        """The value here, nesting at most ``levels`` levels (None: unchecked)."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.i)
            except (ValueError, RecursionError) as e:
                if self._more():
                    continue  # the value may go on in the rest of the file
                raise Irregular(str(e)) from None
            if type(value) in (int, float) and self.buf[end:end + 1] not in _AFTER_NUMBER \
                    and self._more():
                continue  # a number cut short ("1", "0.", "1e") may go on
            break
        # a value has no more levels than opening brackets: most need no walk
        if levels is not None and self.buf.count("[", self.i, end) \
                + self.buf.count("{", self.i, end) > levels and too_deep(value, levels):
            raise Irregular("nested too deeply")
        self.i = end
        if end > self.chunk:  # a big value was read: keep no copy of its text
            self.buf, self.i = self.buf[end:], 0
        return value

    def object(self) -> Iterator[str]:
        """The keys of the object here; read each one's value before asking for the next."""
        self._expect("{")
        if self.peek() == "}":
            self._step()
            return
        seen: set[str] = set()
        while True:
            if self.peek() != '"':
                raise Irregular("expected a key")
            key = self.value(1)
            if key in seen:
                raise Irregular(f"key {key!r} twice")
            seen.add(key)
            self._expect(":")
            yield key
            c = self._step()
            if c == "}":
                return
            if c != ",":
                raise Irregular("expected ',' or '}'")

    def elements(self) -> Iterator[None]:
        """Once per element of the array here; read the element before asking for the next."""
        self._expect("[")
        if self.peek() == "]":
            self._step()
            return
        while True:
            yield None
            c = self._step()
            if c == "]":
                return
            if c != ",":
                raise Irregular("expected ',' or ']'")

    def string(self) -> Iterator[str]:
        """The string here, a piece at a time (about ``chunk`` characters each), so a long
        one is never held whole; the same characters :func:`json.load` gives."""
        self._expect('"')
        while True:
            buf, i = self.buf, self.i
            cut = _cut(buf, i)
            try:
                piece, end = scanstring(buf[i:cut] + '"', 0)  # stops at the string's end
            except ValueError as e:
                raise Irregular(str(e)) from None
            if end < cut - i + 1:  # the string ends in this piece
                self.i = i + end
                if piece:
                    yield piece
                return
            self.i = cut
            if piece and "\ud800" <= piece[-1] <= "\udbff":  # an escaped high surrogate:
                piece, self.i = piece[:-1], cut - 6  # decoded with the low one after it
            if piece:
                yield piece
            if not self._more():
                raise Irregular("unterminated string")

    def members(self, array_key: str) -> Iterator[tuple[str, Any]]:
        """:func:`members` of the object here (nesting unchecked)."""
        for key in self.object():
            if key != array_key or self.peek() != "[":
                yield key, self.value(None)
                continue
            elements = (self.value(None) for _ in self.elements())
            yield key, elements
            for _ in elements:  # what the caller left unread
                pass

    def end(self) -> None:
        """Nothing but whitespace may follow the document."""
        if self.peek() != "":
            raise Irregular("extra data after the document")


def _cut(buf: str, i: int) -> int:
    """Where the JSON string content ``buf[i:]`` (``i`` between two characters of it) may
    be cut without splitting an escape: its end, or before an escape it may end inside."""
    cut = len(buf)
    b = buf.rfind("\\", max(i, cut - 6), cut)  # an escape is at most 6 characters long
    if b < 0:
        return cut
    run = b + 1 - i - len(buf[i:b + 1].rstrip("\\"))  # backslashes ending at b
    return cut if run % 2 == 0 else b  # b ends a ``\\`` pair, or starts an escape


class _Pieces(io.TextIOBase):
    """A text file whose content is the concatenation of some pieces of text."""

    def __init__(self, pieces: Iterable[str]) -> None:
        super().__init__()
        self.pieces = iter(pieces)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        """The next piece, whatever ``size`` ("" at the end): :class:`Pull` takes any."""
        return next(self.pieces, "")


def pieces_reader(pieces: Iterable[str]) -> TextIO:
    """The text of ``pieces`` (as :meth:`Pull.string` gives them) as a file to :class:`Pull`.

    >>> p = Pull(pieces_reader(['{"a": [1', ', 2]}']))
    >>> [(k, p.value(2)) for k in p.object()], p.end()
    ([('a', [1, 2])], None)
    """
    return _Pieces(pieces)
