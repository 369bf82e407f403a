"""``vmcompat stream decode|encode|verify|vmdesc``: whole savevm streams.

``decode STREAM -o OUT.json`` writes the stream document (see
:mod:`vmcompat.stream.document`) and its page data to the sidecar
``OUT.pages.bin`` next to it; ``encode OUT.json -o STREAM`` is the exact
inverse. ``verify`` prints one line per defect (exit 1), nothing when clean
(exit 0); unreadable input exits 2. A stream that does not decode, a truncated
one ("truncated at byte N") included, is bad input to ``decode`` (exit 2) and a
defect to ``verify`` (exit 1); the README's table lists every case.
"""

from __future__ import annotations

import os
from contextlib import ExitStack

import click

from vmcompat.atomic import atomic_output
from vmcompat.cli import EXIT_FOUND, guarded, main
from vmcompat.cli.stream_decode import decode_file, load_vmdesc_arg
from vmcompat.descjson import read_json
from vmcompat.errors import InputError
from vmcompat.model import Description
from vmcompat.stream.document import (
    from_document,
    write_from_document,
)
from vmcompat.stream.jsontext import Irregular
from vmcompat.stream.reader import find_vmdesc
from vmcompat.stream.source import open_source
from vmcompat.stream.verify import checked_against, verify
from vmcompat.stream.writer import write_stream
from vmcompat.words import plural

VMDESC_FROM_HELP = ("A vmdesc JSON file, or another stream whose trailing vmdesc describes "
                    "this stream's devices (for 2.0-2.2 streams, which have none).")


def load_dump_arg(path: str) -> dict[str, Description]:
    from vmcompat.sources import load_all

    return load_all(path)


@main.group()
def stream() -> None:
    """Whole savevm streams: decode, encode, verify, extract the vmdesc."""


@stream.command("decode")
@click.argument("stream_file", metavar="STREAM")
@click.option("-o", "--output", "out", required=True, help="The JSON document to write.")
@click.option("--vmdesc-from", help=VMDESC_FROM_HELP)
@click.option("--allow-trailing", is_flag=True,
              help="Keep bytes after the end of the stream (under \"trailing\") instead of "
                   "refusing the stream.")
@guarded
def decode_cmd(stream_file: str, out: str, vmdesc_from: str | None,
               allow_trailing: bool) -> None:
    """Decode STREAM into a JSON document (page bytes go to OUT.pages.bin).

    Every device section must decode exactly under its description and be the one
    the vmdesc lists at that place; anything else is bad input (exit 2).
    """
    decode_file(stream_file, out, vmdesc_from, allow_trailing)


@stream.command("encode")
@click.argument("doc_file", metavar="DOC")
@click.option("-o", "--output", "out", required=True, help="The stream file to write.")
@guarded
def encode_cmd(doc_file: str, out: str) -> None:
    """Write the stream a JSON document describes (the inverse of decode)."""
    if _encode_streamed(doc_file, out):
        return
    doc = read_json(doc_file)
    with ExitStack() as stack:
        pages = None
        ref = doc.get("pages") if isinstance(doc, dict) else None
        if isinstance(ref, dict) and isinstance(ref.get("file"), str):
            side = os.path.join(os.path.dirname(os.path.abspath(doc_file)), ref["file"])
            pages = stack.enter_context(open_source(side))
        s = from_document(doc, pages=pages, file=doc_file)
        with atomic_output(out) as fh:
            write_stream(s, fh.write)
        del s


def _encode_streamed(doc_file: str, out: str) -> bool:
    """Encode section by section in flat memory (:func:`write_from_document`); False
    when that path does not apply or meets a problem (nothing written: the whole path
    then writes the same bytes, or says what is wrong)."""
    folder = os.path.dirname(os.path.abspath(doc_file))
    try:
        with ExitStack() as stack:
            def sidecar(name: str) -> memoryview:
                return stack.enter_context(open_source(os.path.join(folder, name)))

            with atomic_output(out) as fh:
                write_from_document(doc_file, fh.write, sidecar=sidecar, file=doc_file)
    except (Irregular, InputError, OSError, UnicodeDecodeError):
        return False
    return True


@stream.command("verify")
@click.argument("stream_file", metavar="STREAM")
@click.option("--vmdesc-from", help=VMDESC_FROM_HELP)
@click.option("--desc", "dump", help="A -dump-vmstate dump (or any description file) whose "
              "versions and subsections the sections must respect.")
@guarded
def verify_cmd(stream_file: str, vmdesc_from: str | None, dump: str | None) -> None:
    """Strict structure checks QEMU does not make: exit 0 clean, 1 one line per defect."""
    source = load_vmdesc_arg(vmdesc_from) if vmdesc_from else None
    descs = load_dump_arg(dump) if dump else None
    with open_source(stream_file) as data:
        cover = None
        if dump and descs is not None:
            cover = checked_against(data, descs, vmdesc_from=source, dump_file=dump)
            if cover is not None and not cover.checked:
                raise InputError(f"describes none of the {plural(cover.sections, 'section')} "
                                 f"of {stream_file}, by VMSD name: nothing would be checked "
                                 f"against it", file=dump)
        defects = verify(data, vmdesc_from=source, dump=descs, file=stream_file)
    for d in defects:
        click.echo(f"{stream_file}: {d}")
    if cover is not None:
        click.echo(f"vmcompat: {len(cover.checked)} of {plural(cover.sections, 'section')} "
                   f"checked against the descriptions in {dump}: "
                   f"{_names(sorted({vmsd for _, vmsd in cover.checked}))}", err=True)
    if defects:
        raise SystemExit(EXIT_FOUND)


def _names(names: list[str], most: int = 12) -> str:
    """``a, b, c`` or ``a, b, … and 3 more``."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


@stream.command("vmdesc")
@click.argument("stream_file", metavar="STREAM")
@click.option("-o", "--output", "out", required=True, help="Where to write the vmdesc JSON.")
@guarded
def vmdesc_cmd(stream_file: str, out: str) -> None:
    """Extract the vmdesc JSON at the end of STREAM (exactly as QEMU wrote it)."""
    with open_source(stream_file) as data:
        v = find_vmdesc(data)
        if v is None:
            raise InputError("no parseable vmdesc at the end of this stream", file=stream_file)
    with atomic_output(out) as fh:
        fh.write(v.raw)
