"""The built-in catalog of device histories (``catalog:DEVICE@VERSION``).

Each module in this package defines one or more :class:`DeviceHistory` and
registers it; :data:`CATALOG` maps device name -> history. A history's
``aliases`` (e.g. QEMU's vmsd name ``I440FX`` for ``i440fx``) resolve too.
:func:`sample_state` gives a deterministic valid state of any description.

==================  =======  ===================================================
device              versions what it models (module)
==================  =======  ===================================================
ps2kbd, ps2mouse    2-3/1-3  shared common struct, field version, subsections (ps2)
i440fx              2, 3     old layout loadable by a marshal function (i440fx)
PIIX3               2, 3     ``PCIDevice`` (``int32 le``), moved IRQ levels (pci)
serial              2, 3     QIDL: ``thr`` default, derived, immutable (serial)
pci-serial-multi    1, 2     ``uint32 equal`` port count, nested serial (serial)
mc146818rtc         1, 2, 3  unused buffers, timers, counted subsection (rtc)
apic, kvm-apic      2, 3     same state, two names; interleaved v2 (apic)
virtio              1, 2     queue list ended by a zero ``vring.num`` (virtio)
virtio-blk-pci      1, 2     one device = virtio-pci + virtio-blk (virtio_blk)
virtio-net(-msix)   10, 11   optional MSI-X: feature vs device (virtio_net)
spapr               1, 2     pending events, a QTAILQ (spapr)
scsi-disk           1, 2     requests framed by 1/2 (retry) and 0 (scsi)
slirp               3, 4     sockets framed by 42 and 0; socket marshal (slirp)
hpet                1, 2     fixed array -> counted by a uint8 (hpet)
usb-hub             1, 2     array of pointers to structs (usb)
fw_cfg              1, 2     subsections gated by properties (fw_cfg)
virtio-iommu        1, 2     GTrees (direct and struct keys), QLIST (virtio_iommu)
vmbus               1, 2     int8/int16, equal types, uint16/int32 counts (vmbus)
wdt-gap             1, 2, 3  a field dropped to unused bytes and back: chain loss (wdt_gap)
==================  =======  ===================================================

>>> resolve("catalog:mc146818rtc@2").version_id
2
>>> history("I440FX").name
'i440fx'
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType

from vmcompat.catalog._sample import sample_state
from vmcompat.errors import InputError
from vmcompat.model import Description, DeviceHistory

__all__ = ["CATALOG", "MODULES", "register", "load", "history", "parse_ref", "resolve",
           "sample_state"]

_REGISTRY: dict[str, DeviceHistory] = {}
CATALOG: Mapping[str, DeviceHistory] = MappingProxyType(_REGISTRY)
_ALIASES: dict[str, str] = {}

#: the modules that make up the catalog, imported on first use
MODULES: tuple[str, ...] = (
    "pci", "i440fx", "ps2", "serial", "rtc", "apic", "virtio", "virtio_blk", "virtio_net",
    "spapr", "scsi", "slirp", "hpet", "usb", "fw_cfg", "virtio_iommu", "vmbus", "wdt_gap",
)


def register(history: DeviceHistory) -> DeviceHistory:
    """Add a history (and its aliases) to the catalog; return it."""
    for name in (history.name, *history.aliases):
        owner = _REGISTRY.get(name) or _REGISTRY.get(_ALIASES.get(name, ""))
        if owner is not None and owner is not history:
            raise InputError("device registered twice in the catalog", device=name)
    _REGISTRY[history.name] = history
    for alias in history.aliases:
        _ALIASES[alias] = history.name
    return history


_loaded = False


def load() -> Mapping[str, DeviceHistory]:
    """Import every catalog module once; return the catalog."""
    global _loaded
    if not _loaded:
        for m in MODULES:
            importlib.import_module(f"vmcompat.catalog.{m}")
        _loaded = True
    return CATALOG


def history(name: str) -> DeviceHistory:
    cat = load()
    name = _ALIASES.get(name, name) if name not in cat else name
    if name not in cat:
        raise InputError(f"no device {name!r} in the catalog (has: {', '.join(sorted(cat))})")
    return cat[name]


def parse_ref(ref: str) -> tuple[str, int | None, tuple[str, ...]]:
    """``catalog:DEV@VER[+feat,feat]`` -> (device, version or None, features)."""
    body = ref.removeprefix("catalog:")
    features: tuple[str, ...] = ()
    if "+" in body:
        body, feats = body.split("+", 1)
        features = tuple(x for x in feats.split(",") if x)
    name, _, ver = body.partition("@")
    if not name:
        raise InputError(f"bad catalog reference {ref!r}: expected catalog:DEVICE@VERSION")
    if ver:
        try:
            return name, int(ver), features
        except ValueError:
            raise InputError(f"bad catalog reference {ref!r}: version must be an integer") \
                from None
    return name, None, features


def resolve(ref: str) -> Description:
    """The description a catalog reference names."""
    name, version, features = parse_ref(ref)
    h = history(name)
    return h.at(h.latest.version_id if version is None else version, features)
