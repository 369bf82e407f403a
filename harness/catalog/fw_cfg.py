"""The firmware configuration device (``fw_cfg``): subsections gated by properties.

QEMU facts (``hw/nvram/fw_cfg.c``; 7.2 dump and vmdesc: ``fw_cfg`` version 2,
minimum 1): ``cur_entry`` (uint16) and ``cur_offset`` (uint32; read through
``VMSTATE_HACK_UINT32`` for v1 streams, a plain field since v2: the same four
bytes either way), then ``fw_cfg/dma`` (``dma_addr`` uint64) when the DMA
interface is enabled and ``fw_cfg/acpi_mr`` (``table_mr_size``,
``linker_mr_size``, ``rsdp_mr_size``: uint64) when the ACPI blob sizes must be
restored. Both are decided by machine properties: immutable fields here
(``dma_enabled``, ``acpi_mr_restore``), the textbook case of a
compatibility property a checker cannot see. Seen in real QEMU 7.2 streams
(``golden/qemu-7.2``): the same binary sends both subsections for
``pc-i440fx-7.2`` and ``pc-q35-7.2`` and neither for ``pc-i440fx-1.4`` …
``2.4``, whose compat properties turn them off (the defaults here, ``False``,
are those of the old machine types).

History: v1 (the two fields) → v2 (minimum 1: + the two subsections).
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.dsl import bool_, device, subsection, uint16, uint32, uint64
from vmcompat.model import DeviceHistory

__all__ = ["FW_CFG"]

_FIELDS = (uint16("cur_entry"), uint32("cur_offset"))
_DMA = device("fw_cfg/dma", 0, uint64("dma_addr"))
_ACPI = device("fw_cfg/acpi_mr", 1, uint64("table_mr_size"), uint64("linker_mr_size"),
               uint64("rsdp_mr_size"))

FW_CFG = register(DeviceHistory(
    "fw_cfg",
    (
        device("fw_cfg", 1, *_FIELDS),
        device("fw_cfg", 2, *_FIELDS,
               bool_("dma_enabled", immutable=True, default=False, doc="property dma_enabled"),
               bool_("acpi_mr_restore", immutable=True, default=False,
                     doc="machine compat property: restore ACPI MR sizes"),
               minimum=1,
               subsections=[
                   subsection(_DMA, needed={"field": "dma_enabled", "op": "nonzero"}),
                   subsection(_ACPI, needed={"field": "acpi_mr_restore", "op": "nonzero"}),
               ]),
    ),
    doc=__doc__ or "",
))
