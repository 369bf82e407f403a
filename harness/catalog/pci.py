"""PCI: the shared ``PCIDevice`` struct and the PIIX3 ISA bridge.

``PCIDevice`` (QEMU's ``vmstate_pci_device``, version 2, minimum 1) is nested
in every PCI device: ``version_id`` is ``VMSTATE_INT32_POSITIVE_LE`` (the
incoming value must lie in ``[0, local]``: an ``int32 le`` whose local value is
the struct's own version, 2), ``config`` is the 256-byte configuration space
(QEMU picks 256 or 4096 bytes with an exists-test on PCI Express; the catalog
models conventional PCI only), ``irq_state`` is the four INTx pin levels,
added at version 2. Nested versions never travel, so ``irq_state`` is always
on the wire.

History of ``PIIX3`` (QEMU ``hw/isa/piix3.c``, 7.2: version 3, minimum 2):

* v2: just the PCI device.
* v3: ``pci_irq_levels_vmstate`` (4 x int32, field version 3) moved here from
  the i440FX host bridge (see :mod:`vmcompat.catalog.i440fx`); the ``PIIX3/rcr``
  subsection carries the reset control register, sent only when it is
  nonzero (QEMU's ``piix3_rcr_needed``; the parent carries the value as the
  off-wire field ``rcr`` so that ``needed`` can read it).
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.dsl import buffer, device, int32, int32_le, struct, subsection, uint8
from vmcompat.model import DeviceHistory, Field

__all__ = ["PCI_DEVICE", "pci_device", "PIIX3"]

#: QEMU's ``vmstate_pci_device`` (conventional PCI: 256 bytes of config space).
PCI_DEVICE = device(
    "PCIDevice", 2,
    int32_le("version_id", default=2, doc="VMSTATE_INT32_POSITIVE_LE: 0 <= incoming <= 2"),
    buffer("config", 256),
    int32("irq_state", array=4, version=2),
    minimum=1,
)


def pci_device(name: str = "parent_obj") -> Field:
    """The ``VMSTATE_PCI_DEVICE`` field (a nested ``PCIDevice``)."""
    return struct(name, PCI_DEVICE)


_RCR = device("PIIX3/rcr", 1, uint8("rcr"))

PIIX3 = register(DeviceHistory(
    "PIIX3",
    (
        device("PIIX3", 2, pci_device("dev")),
        device("PIIX3", 3, pci_device("dev"),
               int32("pci_irq_levels_vmstate", array=4, version=3),
               uint8("rcr", derived=True, default=0,
                     doc="mirror of PIIX3/rcr's value, read by its needed predicate"),
               minimum=2,
               subsections=[subsection(_RCR, needed={"field": "rcr", "op": "nonzero"})]),
    ),
    doc=__doc__ or "",
))
