"""Safe output for commands: atomic writes, JSON out."""

from __future__ import annotations

import json
from typing import Any

from vmcompat.errors import InputError


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=False) + "\n"


def read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", file=path) from None
