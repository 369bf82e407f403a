"""Real QEMU stream goldens (``golden/qemu-<version>/``): decode + re-encode byte identity.

Uses :mod:`harness.stream` (reader and writer). A stream without its own
vmdesc (machine types 2.0–2.2) is decoded with the vmdesc of a sibling stream
in the same folder. Without the stream package the folder is listed as not
verified, with the reason.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from harness.errors import VmcompatError
from harness.golden._diff import format_bytes_diff
from harness.words import plural

if TYPE_CHECKING:
    from harness.golden._store import GoldenStore
    from harness.golden._verify import VerifyResult


def _codec() -> tuple[Any, Any, Any] | None:
    try:
        reader = importlib.import_module("harness.stream.reader")
        writer = importlib.import_module("harness.stream.writer")
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith("harness.stream"):
            raise
        return None
    return reader.read_stream, reader.find_vmdesc, writer.to_bytes


def verify_streams(store: GoldenStore, top: str, result: VerifyResult) -> None:
    from harness.golden._verify import Problem

    keys = sorted(k for k in store.keys(top + "/") if k.endswith(".bin"))
    codec = _codec()
    if codec is None:
        result.notes.append(f"{top}/: {plural(len(keys), 'stream')} not verified: "
                            "no stream codec, harness.stream")
        return
    read, find_vmdesc, to_bytes = codec
    data = {k: store.fetch(k) or b"" for k in keys}
    descs = {k: v for k, v in ((k, find_vmdesc(d)) for k, d in data.items()) if v is not None}
    for key in keys:
        raw = data[key]
        result.checked += 1
        sources: list[Any] = [None] if key in descs else [
            v.obj for k, v in sorted(descs.items()) if k.rsplit("/", 1)[0] == key.rsplit("/", 1)[0]]
        error = "no vmdesc in the stream or beside it"
        for src in sources:
            try:
                again = to_bytes(read(raw, vmdesc_from=src, file=key))
            except (VmcompatError, ValueError) as e:
                error = str(e)
                continue
            if bytes(again) != raw:
                result.problems.append(Problem("stream", key,
                                               "decode + re-encode changes the bytes",
                                               format_bytes_diff(raw, bytes(again))))
            break
        else:
            result.problems.append(Problem("stream", key, f"stream does not decode: {error}"))
