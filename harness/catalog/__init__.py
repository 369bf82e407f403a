"""The built-in catalog of device histories (``catalog:DEVICE@VERSION``).

Each module in this package defines one or more :class:`DeviceHistory` and
registers it; :data:`CATALOG` maps device name -> history.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType

from harness.errors import InputError
from harness.model import Description, DeviceHistory

_REGISTRY: dict[str, DeviceHistory] = {}
CATALOG: Mapping[str, DeviceHistory] = MappingProxyType(_REGISTRY)

#: the modules that make up the catalog, imported on first use
MODULES: tuple[str, ...] = (
    "pci", "i440fx", "ps2", "serial", "rtc", "apic", "virtio", "virtio_blk", "virtio_net",
    "spapr", "scsi", "slirp",
)


def register(history: DeviceHistory) -> DeviceHistory:
    if history.name in _REGISTRY and _REGISTRY[history.name] is not history:
        raise InputError("device registered twice in the catalog", device=history.name)
    _REGISTRY[history.name] = history
    return history


_loaded = False


def load() -> Mapping[str, DeviceHistory]:
    """Import every catalog module once; return the catalog."""
    global _loaded
    if not _loaded:
        for m in MODULES:
            importlib.import_module(f"harness.catalog.{m}")
        _loaded = True
    return CATALOG


def history(name: str) -> DeviceHistory:
    cat = load()
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
