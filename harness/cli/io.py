"""Safe output for commands: atomic writes, JSON out."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from harness.errors import InputError


def write_atomic(path: str, data: bytes | str) -> None:
    """Write to a temp file beside ``path``, fsync, rename: old or new, never torn."""
    raw = data.encode() if isinstance(data, str) else data
    d = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(d, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".vmcompat-", dir=d)
    except OSError as e:
        raise InputError(f"cannot write: {e.strerror}", file=path) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=False) + "\n"


def read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", file=path) from None
