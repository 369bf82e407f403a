"""Atomic output: write to a temp file beside the target, fsync, rename (old or new, never torn).

>>> import os, tempfile
>>> p = os.path.join(tempfile.mkdtemp(), "out.bin")
>>> with atomic_output(p) as fh:
...     _ = fh.write(b"abc")
>>> open(p, "rb").read()
b'abc'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from harness.errors import InputError


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces ``path`` only if the block succeeds."""
    d = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(d, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".vmcompat-", dir=d)
    except OSError as e:
        raise InputError(f"cannot write: {e.strerror}", file=path) from None
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: str, data: bytes | str) -> None:
    """Replace ``path`` with ``data`` atomically."""
    with atomic_output(path) as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
