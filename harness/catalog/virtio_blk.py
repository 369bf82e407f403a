"""virtio-blk-pci as one device, and as virtio-pci + virtio-blk.

Old QEMU saved a virtio PCI device as one section: the PCI transport's part
(``virtio_pci_save_config``: the PCI device, then the config MSI-X vector)
followed by the device part (``virtio_save``/``virtio_blk_save``: common virtio
state and the in-flight requests). Newer QEMU splits the model into a proxy
(``virtio-pci``) and a backend (``virtio-blk``) device. vmcompat keeps both
shapes so that a filter (in :mod:`vmcompat.filters`) can split one into the
other:

=====================  ===================================================
virtio-blk-pci field    belongs to
=====================  ===================================================
``pci_dev``             virtio-pci (``pci_dev``)
``config_vector``       virtio-pci (``config_vector``)
``modern``              virtio-pci (``modern``, immutable property)
subsection              virtio-pci ``virtio-pci/modern_state``
``.../modern_state``    (``virtio-blk-pci/modern_state`` in the combined one)
``status``              virtio-blk (``status``)
``isr``                 virtio-blk (``isr``)
``queue_sel``           virtio-blk (``queue_sel``)
``guest_features``      virtio-blk (``guest_features``)
``config``              virtio-blk (``config``)
``requests``            virtio-blk (``requests``)
``guest_features_hi``   virtio-blk (``guest_features_hi``), v2
=====================  ===================================================

Requests (QEMU ``virtio_blk_save_device``): byte 1 before each request, 0 at
the end — a QLIST here. Each request is a ``VirtQueueElement``: ``index``,
``in_num``, ``out_num`` (uint32) and the ``in_addr``/``out_addr`` guest
addresses (uint64 variable arrays counted by ``in_num``/``out_num``).

History of all three:

* v1: as above.
* v2 (minimum 1): virtio-pci gains the ``modern_state`` subsection
  (``dfselect``, ``gfselect``, ``guest_features`` 2 x uint32; QEMU's
  ``vmstate_virtio_pci_modern_state``), needed when the immutable property
  ``modern`` is true; virtio-blk gains ``guest_features_hi`` (uint32, field
  version 2; QEMU sends it in ``virtio/64bit_features``). virtio-blk-pci gains
  both.
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.catalog.pci import pci_device
from vmcompat.dsl import bool_, buffer, device, qlist, subsection, uint8, uint16, uint32, uint64
from vmcompat.model import Description, DeviceHistory, Field, Subsection

__all__ = ["VIRTQUEUE_ELEMENT", "VIRTIO_PCI", "VIRTIO_BLK", "VIRTIO_BLK_PCI",
           "PCI_PART", "BLK_PART"]

VIRTQUEUE_ELEMENT = device("VirtQueueElement", 1, uint32("index"), uint32("in_num"),
                           uint32("out_num"), uint64("in_addr", varray="in_num"),
                           uint64("out_addr", varray="out_num"))

#: field names of virtio-blk-pci that belong to virtio-pci / to virtio-blk
PCI_PART = ("pci_dev", "config_vector", "modern")
BLK_PART = ("status", "isr", "queue_sel", "guest_features", "config", "requests",
            "guest_features_hi")


def _pci_fields() -> tuple[Field, ...]:
    return (pci_device("pci_dev"), uint16("config_vector"),
            bool_("modern", immutable=True, default=False,
                  doc="property: modern (virtio 1.0) interface enabled"))


def _blk_fields(version: int) -> tuple[Field, ...]:
    fields = (uint8("status"), uint8("isr"), uint16("queue_sel"), uint32("guest_features"),
              buffer("config", 60), qlist("requests", VIRTQUEUE_ELEMENT))
    if version >= 2:
        fields += (uint32("guest_features_hi", version=2),)
    return fields


def _modern(parent: str) -> list[Subsection]:
    d = device(f"{parent}/modern_state", 1, uint32("dfselect"), uint32("gfselect"),
               uint32("guest_features", array=2))
    return [subsection(d, needed={"field": "modern", "op": "nonzero"})]


def _desc(name: str, version: int, fields: tuple[Field, ...], subs: list[Subsection]
          ) -> Description:
    return device(name, version, *fields, minimum=1, subsections=subs if version >= 2 else [])


VIRTIO_PCI = register(DeviceHistory(
    "virtio-pci",
    tuple(_desc("virtio-pci", v, _pci_fields(), _modern("virtio-pci")) for v in (1, 2)),
    doc=__doc__ or ""))

VIRTIO_BLK = register(DeviceHistory(
    "virtio-blk",
    tuple(_desc("virtio-blk", v, _blk_fields(v), []) for v in (1, 2)),
    doc=__doc__ or ""))

VIRTIO_BLK_PCI = register(DeviceHistory(
    "virtio-blk-pci",
    tuple(_desc("virtio-blk-pci", v, _pci_fields() + _blk_fields(v), _modern("virtio-blk-pci"))
          for v in (1, 2)),
    doc=__doc__ or ""))
