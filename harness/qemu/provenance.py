"""Which QEMU made a golden: its version line and the Debian packages it ran from.

A folder of real-QEMU goldens (``golden/qemu-7.2/``) holds ``QEMU.json``::

    {"qemu": "7.2", "version": "QEMU emulator version 7.2.22 (Debian …)",
     "packages": {"qemu-system-x86": "1:7.2+dfsg-7+deb12u18+b3", "seabios": …}}

Every package matters: module packages decide which device types exist (a
``-dump-vmstate`` lists only the devices of modules that load), and firmware
packages are bytes in the guest's RAM, hence in every stream. A test that
compares a fresh capture with a golden first asks :func:`differences`, and skips
with exactly what differs.

>>> differences({"version": "A", "packages": {"x": "1"}}, {"version": "A", "packages": {}})
['package x 1 is not installed']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vmcompat.qemu.releases import Qemu

FILE = "QEMU.json"


def record(qemu: Qemu) -> dict[str, Any]:
    """What to write into ``QEMU.json`` for goldens made by ``qemu``."""
    return {"qemu": qemu.name, "version": qemu.version, "packages": qemu.packages()}


def load(folder: str | Path) -> dict[str, Any]:
    """The ``QEMU.json`` of a golden folder."""
    return dict(json.loads((Path(folder) / FILE).read_text(encoding="utf-8")))


def differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """How ``current`` (a :func:`record`) differs from ``recorded``; empty when the same."""
    out = []
    if recorded.get("version") != current.get("version"):
        out.append(f"QEMU is {current.get('version')!r}, the goldens were made by "
                   f"{recorded.get('version')!r}")
    have = current.get("packages", {})
    for name, version in sorted(recorded.get("packages", {}).items()):
        if name not in have:
            out.append(f"package {name} {version} is not installed")
        elif have[name] != version:
            out.append(f"package {name} is {have[name]}, the goldens were made with {version}")
    return out


def mismatch(folder: str | Path, qemu: Qemu) -> str | None:
    """Why ``qemu`` cannot reproduce the goldens in ``folder`` (None: it can)."""
    diff = differences(load(folder), record(qemu))
    return "; ".join(diff) if diff else None
