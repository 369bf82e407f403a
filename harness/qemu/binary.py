"""Which ``qemu-system`` binary to drive.

``$VMCOMPAT_QEMU`` names it explicitly; otherwise ``qemu-system-x86_64`` on
``$PATH``. A missing binary is bad input (exit 2), never a traceback.

>>> import os; os.environ["VMCOMPAT_QEMU"] = "/nonexistent/qemu"
>>> find_binary()
Traceback (most recent call last):
...
harness.errors.InputError: /nonexistent/qemu: no such QEMU binary (from $VMCOMPAT_QEMU)
>>> del os.environ["VMCOMPAT_QEMU"]
"""

from __future__ import annotations

import os
import shutil

from harness.errors import InputError

ENV = "VMCOMPAT_QEMU"
DEFAULT = "qemu-system-x86_64"


def find_binary() -> str:
    """The path of the QEMU binary, or :class:`InputError`."""
    named = os.environ.get(ENV)
    if named:
        path = shutil.which(named)
        if path is None:
            raise InputError(f"no such QEMU binary (from ${ENV})", file=named)
        return path
    path = shutil.which(DEFAULT)
    if path is None:
        raise InputError(f"{DEFAULT} not found on PATH (install qemu-system-x86, or set ${ENV})")
    return path


def available() -> bool:
    """True when a QEMU binary can be found (tests skip otherwise)."""
    try:
        find_binary()
    except InputError:
        return False
    return True
