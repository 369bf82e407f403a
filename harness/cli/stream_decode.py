"""What ``vmcompat stream decode`` does, without click (see :mod:`vmcompat.cli.plain`).

``decode_file(STREAM, OUT.json)`` writes the stream's document and its page data to
the sidecar ``OUT.pages.bin`` next to it, section by section where it can
(:func:`~vmcompat.stream.document.write_document`), else from the whole document.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

from vmcompat.atomic import atomic_output
from vmcompat.descjson import read_json
from vmcompat.errors import InputError, LoadError
from vmcompat.stream.document import to_document, write_document
from vmcompat.stream.jsontext import Irregular
from vmcompat.stream.layout import MAGIC
from vmcompat.stream.reader import find_vmdesc, read_stream
from vmcompat.stream.source import open_source


def sidecar_name(out: str) -> str:
    """``OUT.json`` → ``OUT.pages.bin`` (beside it)."""
    base = out[:-5] if out.endswith(".json") else out
    return base + ".pages.bin"


def load_vmdesc_arg(path: str) -> Any:
    """A vmdesc from a JSON file or from a stream file's tail."""
    with open_source(path) as data:
        if len(data) >= 4 and int.from_bytes(data[:4], "big") == MAGIC:
            v = find_vmdesc(data)
            if v is None:
                raise InputError("this stream has no parseable vmdesc", file=path)
            return v.obj
    obj = read_json(path)
    if not (isinstance(obj, dict) and isinstance(obj.get("devices"), list)):
        raise InputError("not a vmdesc (expected page_size and a devices list)", file=path)
    return obj


def decode_file(stream_file: str, out: str, vmdesc_from: str | None = None,
                allow_trailing: bool = False) -> None:
    """Decode ``stream_file`` into the JSON document ``out`` and its pages sidecar.

    A stream that does not decode is bad input (:class:`InputError`, exit 2).
    """
    source = load_vmdesc_arg(vmdesc_from) if vmdesc_from else None
    side = sidecar_name(out)
    if source is None and _decode_streamed(stream_file, out, side, allow_trailing):
        return
    with open_source(stream_file) as data:
        try:
            s = read_stream(data, vmdesc_from=source, file=stream_file,
                            allow_trailing=allow_trailing, vmdesc_file=vmdesc_from)
        except LoadError as e:  # a stream that does not decode is bad input here (exit 2)
            raise InputError(e.line(), file=stream_file) from None
        with atomic_output(side) as fh:
            doc = to_document(s, pages=fh.write, pages_file=os.path.basename(side))
        del s
    with atomic_output(out) as fh:  # streamed: no second copy of a large document
        text = io.TextIOWrapper(fh, encoding="utf-8")
        json.dump(doc, text, indent=2)
        text.write("\n")
        text.flush()
        text.detach()


def _decode_streamed(stream_file: str, out: str, side: str, allow_trailing: bool) -> bool:
    """Decode section by section in flat memory (:func:`write_document`); False when that
    path does not apply (nothing written: the whole-document path gives the same bytes,
    errors in the same order)."""
    opened = False
    try:
        with open_source(stream_file) as data, atomic_output(side) as pf, \
                atomic_output(out) as jf:
            opened = True
            try:
                write_document(data, jf.write, pages=pf.write,
                               pages_file=os.path.basename(side), file=stream_file,
                               allow_trailing=allow_trailing)
            except LoadError as e:  # a stream that does not decode is bad input (exit 2)
                raise InputError(e.line(), file=stream_file) from None
    except Irregular:
        return False
    except InputError:
        if opened:
            raise
        return False  # an unreadable stream or output: reported as the whole path does
    return True
