"""virtio-net, with an optional MSI-X feature: a feature bit vs a separate device.

QEMU facts (``hw/net/virtio-net.c``, ``vmstate_virtio_net_device``, version
11): ``mac`` (6 bytes), ``tx_waiting`` (int32), ``mergeable_rx_bufs``
(uint32), ``status`` (uint16), ``promisc``/``allmulti`` (uint8), the MAC
filter table (``mac_table.in_use`` entries of 6 bytes), the VLAN filter
bitmap (``MAX_VLAN`` bits; 256 here to keep states small), the vnet-header
check (QEMU validates that both sides agree on ``has_vnet_hdr``: modelled as
``uint8 equal``), then ``curr_guest_offloads`` (uint64).

Seed 004 asks how an optional part should be described; the catalog does it
both ways so the matrix can compare them:

* ``virtio-net`` with the feature ``msix`` (``catalog:virtio-net@11+msix``):
  the feature adds the ``virtio-net/msix`` subsection — ``nvectors``
  (``uint32 equal``, default 4: both sides must agree), the MSI-X table
  (4 vectors x 16 bytes) and the pending-bit array (8 bytes).
* ``virtio-net-msix``: a separate device whose every version already has that
  subsection (``virtio-net-msix/msix``).

History (both):

* v10: everything up to the VLAN bitmap and the vnet-header check.
* v11 (minimum 10): + ``curr_guest_offloads`` (uint64, field version 11).
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.dsl import (
    bitmap,
    buffer,
    device,
    int32,
    struct_array,
    subsection,
    uint8,
    uint8_equal,
    uint16,
    uint32,
    uint32_equal,
    uint64,
)
from vmcompat.model import Description, DeviceHistory, Feature, Field

__all__ = ["VIRTIO_NET", "VIRTIO_NET_MSIX", "MSIX", "with_msix"]

_MAC = device("mac_table_entry", 1, buffer("addr", 6))


def _fields(version: int) -> tuple[Field, ...]:
    fields = (buffer("mac", 6), int32("tx_waiting"), uint32("mergeable_rx_bufs"),
              uint16("status"), uint8("promisc"), uint8("allmulti"),
              uint32("mac_table_in_use"),
              struct_array("mac_table", _MAC, varray="mac_table_in_use"),
              bitmap("vlans", 256), uint8_equal("has_vnet_hdr", default=1))
    if version >= 11:
        fields += (uint64("curr_guest_offloads", version=11),)
    return fields


def with_msix(desc: Description) -> Description:
    """``desc`` plus the ``<name>/msix`` subsection (the ``msix`` feature)."""
    msix = device(f"{desc.name}/msix", 1, uint32_equal("nvectors", default=4),
                  buffer("table", 64), buffer("pba", 8))
    return desc.evolve(subsections=desc.subsections + (subsection(msix),))


def _versions(name: str) -> tuple[Description, ...]:
    return (device(name, 10, *_fields(10)), device(name, 11, *_fields(11), minimum=10))


MSIX = Feature("msix", with_msix, since=10, doc="MSI-X vectors migrated in a subsection")

VIRTIO_NET = register(DeviceHistory("virtio-net", _versions("virtio-net"), features=(MSIX,),
                                    doc=__doc__ or ""))

VIRTIO_NET_MSIX = register(DeviceHistory(
    "virtio-net-msix", tuple(with_msix(d) for d in _versions("virtio-net-msix")),
    doc=__doc__ or ""))
