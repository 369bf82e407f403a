"""What a matrix runs on: the built-in catalog, or DESC arguments grouped into histories.

``catalog:DEV`` names a whole catalog history, ``catalog:DEV@V`` one of its
versions; a description file contributes each description it holds. Every
description of one device name becomes a version of that device's history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from harness.errors import InputError
from harness.model import Description, DeviceHistory


def builtin() -> Mapping[str, DeviceHistory]:
    from harness.catalog import load

    cat = load()
    if not cat:
        raise InputError("the built-in catalog is empty")
    return cat


def from_args(args: Sequence[str]) -> dict[str, DeviceHistory]:
    from harness.catalog import history, parse_ref
    from harness.sources import load_all

    whole: dict[str, DeviceHistory] = {}
    parts: dict[str, dict[int, tuple[Description, str]]] = defaultdict(dict)
    for arg in args:
        if arg.startswith("catalog:"):
            name, version, feats = parse_ref(arg)
            h = history(name)
            if version is None and not feats:
                whole[name] = h
                continue
            found = {name: h.at(h.latest.version_id if version is None else version, feats)}
        else:
            found = load_all(arg)
        for name, d in found.items():
            prev = parts[name].get(d.version_id)
            if prev is not None and prev[0] != d:
                raise InputError(f"two different descriptions of version {d.version_id} "
                                 f"(the other from {prev[1]})", file=arg, device=name)
            parts[name][d.version_id] = (d, arg)
    out = dict(whole)
    for name, by in parts.items():
        if name in out:
            raise InputError("named both as a whole history and by version", device=name)
        out[name] = DeviceHistory(name, tuple(by[v][0] for v in sorted(by)))
    return out


def subjects(catalog: str | None, args: Sequence[str]) -> Mapping[str, DeviceHistory]:
    if args and catalog:
        raise InputError("give --catalog or DESC arguments, not both")
    if args:
        return from_args(args)
    if catalog in (None, "builtin"):
        return builtin()
    raise InputError(f"--catalog must be 'builtin', got {catalog!r}")
