"""virtio-iommu: GTrees with a direct key and with a struct key, and a QLIST.

QEMU facts (``hw/virtio/virtio-iommu.c``): ``vmstate_virtio_iommu_device``
holds ``domains``, a ``VMSTATE_GTREE_DIRECT_KEY_V`` (the key is the domain id,
sent as be64 by ``put_gtree``) of ``domain`` values: ``id`` (uint32),
``mappings`` — a ``VMSTATE_GTREE_V`` keyed by the ``interval`` struct
(``low``, ``high``: uint64) with ``mapping`` values (``phys_addr`` uint64,
``flags`` uint32) — and ``endpoint_list``, a ``VMSTATE_QLIST_V`` of
``endpoint`` (``id`` uint32). On the wire a GTree is be32 node count, then
``1`` + key + value per node in key order, then ``0``.

QEMU 7.1 added ``bypass`` (bool) to the nested ``domain`` (version 2) and
``config.bypass`` (uint8) to the device, and raised the device's
``minimum_version_id`` to 2: nested versions never travel, so v1 streams
could not be read by the v2 layout. The catalog keeps them loadable with the
versioned marshal function ``virtio-iommu-v1`` (seed 004): its layout is the
v1 wire layout and its ``convert`` sets every domain's ``bypass`` to false.

History (device ``virtio-iommu``): v1 → v2 (minimum 2, marshal for 1).
"""

from __future__ import annotations

from typing import Any

from vmcompat.catalog import register
from vmcompat.dsl import bool_, device, gtree, qlist, uint8, uint32, uint64
from vmcompat.marshal import Marshal
from vmcompat.marshal import register as register_marshal
from vmcompat.model import Description, DeviceHistory

__all__ = ["INTERVAL", "MAPPING", "ENDPOINT", "DOMAIN_V1", "DOMAIN_V2", "VIRTIO_IOMMU"]

INTERVAL = device("interval", 1, uint64("low"), uint64("high"))
MAPPING = device("mapping", 1, uint64("phys_addr"), uint32("flags"))
ENDPOINT = device("endpoint", 1, uint32("id"))

_DOMAIN = (uint32("id"), gtree("mappings", INTERVAL, MAPPING), qlist("endpoint_list", ENDPOINT))
DOMAIN_V1 = device("domain", 1, *_DOMAIN)
DOMAIN_V2 = device("domain", 2, *_DOMAIN, bool_("bypass", version=2), minimum=2)


def _device(version: int, domain: Description, **kw: Any) -> Description:
    fields = [gtree("domains", "uint64", domain)]
    if version >= 2:
        fields.append(uint8("config_bypass", version=2))
    return device("virtio-iommu-device", version, *fields, **kw)


_V1 = _device(1, DOMAIN_V1)


def _convert_v1(old: dict[str, Any], prior: Any) -> dict[str, Any]:
    """v1 state -> v2 state: each domain gains ``bypass = False``."""
    new = dict(prior) if isinstance(prior, dict) else {}
    new["domains"] = [[k, {**v, "bypass": False}] for k, v in old["domains"]]
    new.setdefault("config_bypass", 0)
    return new


VIRTIO_IOMMU_V1_MARSHAL = register_marshal(Marshal(
    "virtio-iommu-v1", _V1, _convert_v1,
    doc="virtio-iommu v1: domains without bypass; QEMU 7.1 refused these streams"))

VIRTIO_IOMMU = register(DeviceHistory(
    "virtio-iommu",
    (_V1, _device(2, DOMAIN_V2, minimum=2, marshal={1: "virtio-iommu-v1"})),
    doc=__doc__ or "",
    aliases=("virtio-iommu-device",),
))
