"""What a matrix runs on: the built-in catalog and real release pair, or DESC arguments.

``catalog:DEV`` names a whole catalog history, ``catalog:DEV@V`` one of its
versions; a description file contributes each description it holds. Every
description of one device name becomes a version of that device's history.
``qemu:RELEASE[/MACHINE]`` contributes every section of a real release on one
machine type (the bundle's first, ``pc-i440fx-7.2``, when none is named): its
sections' histories are on a release axis (versions named by release, in release
order), named ``MACHINE:IDSTR``.

The built-in run is the catalog plus the sections QEMU 7.2 and 10.0 share on every
machine type both bundles hold (:func:`vmcompat.qemu.bundle.release_histories`; the
machine types and why those are in ``vmcompat.qemu.bundle``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from vmcompat.errors import InputError
from vmcompat.model import Description, DeviceHistory


def builtin() -> Mapping[str, DeviceHistory]:
    from vmcompat.catalog import load
    from vmcompat.qemu.bundle import release_histories

    cat = load()
    if not cat:
        raise InputError("the built-in catalog is empty")
    return {**cat, **release_histories()}


def _releases(args: Sequence[str]) -> dict[str, DeviceHistory]:
    """Histories of the ``qemu:RELEASE[/MACHINE]`` arguments, grouped by machine type."""
    from vmcompat.matrix._cells import version_order
    from vmcompat.qemu.bundle import builtin as bundle
    from vmcompat.qemu.bundle import history_name

    by: dict[str, dict[str, Description]] = defaultdict(dict)  # name -> release -> desc
    for arg in args:
        release, _, machine = arg.removeprefix("qemu:").partition("/")
        b = bundle(release)
        machine = machine or next(iter(b.machines))
        if any(release in v for n, v in by.items() if n.startswith(machine + ":")):
            raise InputError(f"QEMU {release} named twice for {machine}", file=arg)
        for key, d in b.descriptions(machine).items():
            by[history_name(machine, key)][release] = d
    out = {}
    for name, found in by.items():
        order = sorted(found, key=version_order)
        out[name] = DeviceHistory(name, tuple(found[r] for r in order), releases=tuple(order))
    return out


def from_args(args: Sequence[str]) -> dict[str, DeviceHistory]:
    from vmcompat.catalog import history, parse_ref
    from vmcompat.sources import load_all

    whole: dict[str, DeviceHistory] = _releases([a for a in args if a.startswith("qemu:")])
    parts: dict[str, dict[int, tuple[Description, str]]] = defaultdict(dict)
    for arg in (a for a in args if not a.startswith("qemu:")):
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


#: ``--catalog`` values: the whole built-in run, or one of its two parts
CATALOGS = ("builtin", "catalog", "qemu")


def subjects(catalog: str | None, args: Sequence[str]) -> Mapping[str, DeviceHistory]:
    """``--catalog builtin`` (the default): the catalog and the real release pair on every
    shipped machine type; ``catalog``: the catalog alone; ``qemu``: the release pair alone."""
    if args and catalog:
        raise InputError("give --catalog or DESC arguments, not both")
    if args:
        return from_args(args)
    if catalog in (None, "builtin"):
        return builtin()
    if catalog == "catalog":
        from vmcompat.catalog import load

        return load()
    if catalog == "qemu":
        from vmcompat.qemu.bundle import release_histories

        return release_histories()
    raise InputError(f"--catalog must be one of {', '.join(CATALOGS)}, got {catalog!r}")
