"""A real QEMU release's device descriptions: a bundle of what that QEMU wrote.

A bundle holds, for one release, the vmdesc of a capture per machine type (wire
types, sizes and array lengths of what was sent, with the broad device set) and
its ``-dump-vmstate`` (versions, minimum versions, field versions, tests). The
typed description of each section is the two merged (:func:`vmcompat.dumps.merge`).
``vmcompat qemu describe`` makes a bundle; vmcompat ships one per release it
installs (``harness/qemu/bundles/``), named ``qemu:RELEASE`` wherever a DESC is taken:

* ``qemu:7.2`` — every section of the release's first machine type (``pc-i440fx-7.2``),
  keyed by wire identity: the idstr, ``idstr#N`` for instance N > 0;
* ``qemu:10.0/pc-q35-7.2`` — those of another machine type.

The shipped bundles hold nine machine types, in this order: ``pc-i440fx-7.2``,
``pc-q35-7.2``, ``pc-i440fx-5.0``, ``pc-i440fx-2.7``, ``pc-q35-2.7``, ``pc-i440fx-2.5``,
``pc-q35-2.5``, ``pc-i440fx-2.4``, ``pc-q35-2.4``. Older machine types' compat properties
change what devices send: e1000 without ``e1000/full_mac_state`` before 2.5 and without
``e1000/tx_tso_state`` before 2.12; fw_cfg without ``fw_cfg/dma`` before 2.5 and
``fw_cfg/acpi_mr`` before 5.0; vmxnet3 with 256 bytes of PCI config (not 4096) before 2.6;
each virtio device's ``virtio`` part changes size at some of 2.5, 2.7, 2.8, 4.1, 5.1, 6.0
and 7.2 (which depends on the device); piix4_pm and ich9_smb without SMBus state before
4.0, piix4_pm without ``acpi_index`` before 7.0; pckbd without ``pckbd/extended_state``
and q35's ICH9LPC without ``ich9_pm/pcihp`` before 6.1; hda-audio without its stream
buffers before 3.0; no ``PCIHost`` section before 5.1. Captures of every pc-i440fx and
pc-q35 type from 2.4 (the oldest both releases offer) to 7.2, broad device set, on both
releases, hold 75 (i440fx) and 74 (q35) distinct (section, 7.2 layout, 10.0 layout)
triples; these nine hold all of them, and each holds one the others lack (a test checks
the latter). So the matrix on these nine judges every section layout any of those 46
machine types migrates between the two releases; the others (``pc-q35-6.2``,
``pc-i440fx-5.2`` …) repeat chosen ones' layouts section by section. Each bundle has one
``-dump-vmstate`` (``pc-i440fx-7.2``'s: the same for every machine type) and keeps its
machine types' order in ``order`` (JSON keys are sorted).

On a release axis a version is a release, not a ``version_id``: QEMU often changes a
layout without bumping it (e1000e, ide, ich9_ahci between 7.2 and 10.0), so
:func:`release_histories` labels each version by its release and keeps the
``version_id`` as a property of its description.

>>> sorted(BUILTIN)
['10.0', '7.2']
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vmcompat.dumps import from_dump, from_vmdesc, merge_all
from vmcompat.errors import InputError
from vmcompat.loaders import Loader, register_loader
from vmcompat.model import Description, DeviceHistory
from vmcompat.values import immutable

KIND = "vmcompat-qemu-release"
PREFIX = "qemu:"
BUNDLES = Path(__file__).with_name("bundles")
#: releases whose bundle ships with vmcompat
BUILTIN = {"7.2": BUNDLES / "qemu-7.2.json.gz", "10.0": BUNDLES / "qemu-10.0.json.gz"}
#: the release pair the default matrix and ``qemu cross`` compare
PAIR = ("7.2", "10.0")


@immutable
class Bundle:
    """One release's vmdescs (by machine type, first = default) and its dump."""

    release: str
    version: str
    machines: Mapping[str, Any]
    dump: Any
    devices: tuple[str, ...] = ()

    def descriptions(self, machine: str | None = None) -> dict[str, Description]:
        """Typed descriptions of every section of ``machine``, by wire identity."""
        machine = machine or next(iter(self.machines))
        if machine not in self.machines:
            raise InputError(f"QEMU {self.release} bundle has no machine type {machine!r} "
                             f"(has: {', '.join(self.machines)})")
        if machine not in self._merged:
            where = f"qemu:{self.release}/{machine}"
            self._merged[machine] = merge_all(from_dump(self.dump, where),
                                              from_vmdesc(self.machines[machine], where))
        return dict(self._merged[machine])

    @functools.cached_property
    def _merged(self) -> dict[str, dict[str, Description]]:
        return {}

    def to_json(self) -> dict[str, Any]:
        """The bundle as JSON; ``order`` keeps the machine types' order (keys are sorted)."""
        return {"bundle": KIND, "release": self.release, "version": self.version,
                "devices": list(self.devices), "machines": dict(self.machines),
                "order": list(self.machines), "dump": self.dump}


def is_bundle(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("bundle") == KIND


def from_json(obj: Any, file: str | None = None) -> Bundle:
    if not is_bundle(obj):
        raise InputError("not a vmcompat QEMU release bundle", file=file)
    machines = obj.get("machines")
    if not isinstance(machines, dict) or not machines:
        raise InputError("a bundle needs at least one machine type's vmdesc", file=file)
    order = obj.get("order", list(machines))
    if not isinstance(order, list) or not all(isinstance(m, str) for m in order) \
            or sorted(order) != sorted(machines):
        raise InputError("a bundle's order must list each of its machine types once", file=file)
    machines = {m: machines[m] for m in order}
    return Bundle(str(obj.get("release", "")), str(obj.get("version", "")), machines,
                  obj.get("dump"), tuple(obj.get("devices", ())))


@functools.cache
def builtin(release: str) -> Bundle:
    """The bundle vmcompat ships for ``release``."""
    path = BUILTIN.get(release)
    if path is None:
        raise InputError(f"no built-in descriptions of QEMU {release} "
                         f"(built in: {', '.join(sorted(BUILTIN))})")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return from_json(json.load(fh), str(path))


def resolve(ref: str) -> dict[str, Description]:
    """``qemu:RELEASE[/MACHINE]`` → descriptions by wire identity."""
    release, _, machine = ref.removeprefix(PREFIX).partition("/")
    return builtin(release).descriptions(machine or None)


def _load_file(obj: Any, file: str) -> dict[str, Description]:
    return from_json(obj, file).descriptions()


register_loader(Loader("qemu-release-bundle", is_bundle, _load_file))


def write(bundle: Bundle, out: str) -> None:
    """Write a bundle (gzip when ``out`` ends in ``.gz``), atomically."""
    from vmcompat.atomic import write_atomic

    text = json.dumps(bundle.to_json(), sort_keys=True, separators=(",", ":")) + "\n"
    data = text.encode()
    write_atomic(out, gzip.compress(data, mtime=0) if out.endswith(".gz") else data)


def make(qemu: Any, machines: Sequence[str], devices: Sequence[str]) -> Bundle:
    """Capture ``machines`` with ``devices`` on ``qemu`` and dump it: a new bundle."""
    from vmcompat.qemu.ops import capture, dump
    from vmcompat.stream.reader import find_vmdesc

    vmdescs = {}
    for machine in machines:
        data = capture(machine, qemu=qemu, devices=devices)
        v = find_vmdesc(data)
        if v is None:
            raise InputError(f"a {machine} capture has no vmdesc (machine types before 2.3 "
                             "write none)", device=machine)
        vmdescs[machine] = v.obj
    return Bundle(qemu.name, qemu.version, vmdescs, dump(machines[0], qemu=qemu,
                                                          devices=devices), tuple(devices))


def history_name(machine: str, key: str) -> str:
    """A section's name in a matrix of releases: ``pc-i440fx-7.2:0000:00:02.0/e1000e``."""
    return f"{machine}:{key}"


def shared_machines(releases: Sequence[str] = PAIR) -> tuple[str, ...]:
    """The machine types every release's bundle holds, in the first bundle's order."""
    bundles = [builtin(r) for r in releases]
    return tuple(m for m in bundles[0].machines if all(m in b.machines for b in bundles[1:]))


def release_histories(releases: Sequence[str] = PAIR, machine: str | None = None
                      ) -> dict[str, DeviceHistory]:
    """One history per section the releases share on each machine type they share
    (only ``machine`` when given), its versions labelled by release."""
    out = {}
    for m in (machine,) if machine else shared_machines(releases):
        descs = [builtin(r).descriptions(m) for r in releases]
        for key in descs[0]:
            if all(key in d for d in descs[1:]):
                name = history_name(m, key)
                out[name] = DeviceHistory(name, tuple(d[key] for d in descs),
                                          releases=tuple(releases),
                                          doc=f"section {key} of {m}, QEMU "
                                              f"{' and '.join(releases)}")
    return out
