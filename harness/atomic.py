"""Atomic output: write to a temp file beside the target, fsync, rename (old or new, never torn).

The result has the mode a plain ``open(path, "w")`` would give it: a new file
``0o666`` less the umask, a replaced file its old permissions. The target's
folder must exist (a missing one is bad input): only a command that owns a
folder, such as a report's ``--out DIR``, creates it, and does so itself.

>>> import os, tempfile
>>> p = os.path.join(tempfile.mkdtemp(), "out.bin")
>>> with atomic_output(p) as fh:
...     _ = fh.write(b"abc")
>>> open(p, "rb").read()
b'abc'
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from typing import BinaryIO

from vmcompat.errors import InputError

#: prefix of temp files (hidden; never a finished output)
TEMP_PREFIX = ".vmcompat-"


def create_temp(path: str) -> tuple[int, str]:
    """A new empty file beside ``path`` (descriptor, name) with the mode ``path`` will need.

    Created with ``0o666`` so the kernel applies the umask (and any default ACL)
    exactly as for ``open(path, "w")``; if ``path`` exists its permissions are kept.
    """
    folder = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        keep = None
    else:
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        keep = stat.S_IMODE(mode) & 0o777
    while True:
        tmp = os.path.join(folder, TEMP_PREFIX + os.urandom(6).hex())  # not secrets: its
        # import (hmac, hashlib) costs start-up time
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
        if keep is not None:
            os.fchmod(fd, keep)
        return fd, tmp


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces ``path`` only if the block succeeds."""
    try:
        fd, tmp = create_temp(path)
    except (FileNotFoundError, NotADirectoryError):
        folder = os.path.dirname(path) or "."
        raise InputError(f"cannot write: no directory {folder}", file=path) from None
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
