"""Real QEMU stream goldens (``golden/qemu-<version>/``): decode + re-encode byte identity.

Uses :mod:`vmcompat.stream` (reader and writer). A stream without its own
vmdesc (machine types 2.0–2.2) is decoded with the vmdesc of a sibling stream
in the same folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vmcompat.errors import VmcompatError
from vmcompat.golden._diff import format_bytes_diff
from vmcompat.golden._result import Problem, VerifyResult
from vmcompat.stream.reader import find_vmdesc
from vmcompat.stream.reader import read_stream as read
from vmcompat.stream.writer import to_bytes

if TYPE_CHECKING:
    from vmcompat.golden._store import GoldenStore


def verify_streams(store: GoldenStore, top: str, result: VerifyResult) -> None:
    keys = sorted(k for k in store.keys(top + "/") if k.endswith(".bin"))
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
