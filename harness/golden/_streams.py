"""Real QEMU stream goldens (``golden/qemu-<version>/``): decode + re-encode byte identity.

Uses :mod:`harness.stream` when it exists (the stream engineer's package);
otherwise the folder is listed as not verified, with the reason.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from harness.golden._diff import format_bytes_diff

if TYPE_CHECKING:
    from harness.golden._store import GoldenStore
    from harness.golden._verify import VerifyResult


def _codec() -> tuple[Any, Any] | None:
    try:
        stream = importlib.import_module("harness.stream")
    except ModuleNotFoundError as e:
        if e.name not in ("harness.stream",):
            raise
        return None
    dec = getattr(stream, "decode", None) or getattr(stream, "parse", None)
    enc = getattr(stream, "encode", None)
    return (dec, enc) if callable(dec) and callable(enc) else None


def verify_streams(store: GoldenStore, top: str, result: VerifyResult) -> None:
    from harness.golden._verify import Problem

    keys = sorted(k for k in store.keys(top + "/") if k.endswith(".bin"))
    codec = _codec()
    if codec is None:
        result.notes.append(f"{top}/: {len(keys)} stream(s) not verified "
                            "(no stream codec: harness.stream.decode/encode)")
        return
    dec, enc = codec
    for key in keys:
        data = store.fetch(key) or b""
        result.checked += 1
        try:
            again = enc(dec(data))
        except Exception as e:
            result.problems.append(Problem("stream", key, f"stream does not decode: "
                                           f"{type(e).__name__}: {e}"))
            continue
        if bytes(again) != data:
            result.problems.append(Problem("stream", key, "decode + re-encode changes the bytes",
                                           format_bytes_diff(data, bytes(again))))
