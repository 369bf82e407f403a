"""The i440FX host bridge: an old layout kept loadable by a marshal function.

QEMU facts (``hw/pci-host/i440fx.c``): ``vmstate_i440fx`` is version 3 with
``minimum_version_id`` 3. Versions 1 and 2 were saved by hand
(``i440fx_save``): the PCI device, the ``smm_enabled`` byte and, in version 2
only, the four PIRQ levels as be32 (``pci_irq_levels``). QEMU loaded them with
``load_state_old = i440fx_load_old``, which read and *discarded* the four
levels ("dummy load for compatibility": they moved to PIIX3 at v3, see
:mod:`vmcompat.catalog.pci`). QEMU 7.2 turned ``smm_enabled`` into
``VMSTATE_UNUSED(1)`` without a version bump (same bytes).

History in the catalog (device ``i440fx``, description name ``I440FX``):

* v2 (minimum 1): ``parent_obj`` (PCIDevice), ``smm_enabled`` (uint8),
  ``pci_irq_levels`` (4 x int32, field version 2).
* v3 (minimum 3): ``parent_obj``, ``smm_enabled``. Streams of version 1 and 2
  are below the minimum; instead of QEMU's untyped old load function, the
  versioned marshal function ``i440fx-v2`` (seed 004) loads them: its layout is
  the v2 wire layout, and its ``convert`` keeps the PCI device and
  ``smm_enabled`` and drops the PIRQ levels, exactly what ``i440fx_load_old``
  did.
"""

from __future__ import annotations

from typing import Any

from vmcompat.catalog import register
from vmcompat.catalog.pci import pci_device
from vmcompat.dsl import device, int32, uint8
from vmcompat.marshal import Marshal
from vmcompat.marshal import register as register_marshal
from vmcompat.model import DeviceHistory

__all__ = ["I440FX", "I440FX_V2_MARSHAL"]

_V2 = device("I440FX", 2, pci_device(), uint8("smm_enabled"),
             int32("pci_irq_levels", array=4, version=2), minimum=1)


def _convert_v2(old: dict[str, Any], prior: Any) -> dict[str, Any]:
    """v1/v2 state -> v3 state: keep the PCI device and SMM flag, drop the PIRQ levels."""
    new = dict(prior) if isinstance(prior, dict) else {}
    new["parent_obj"] = old["parent_obj"]
    new["smm_enabled"] = old["smm_enabled"]
    return new


I440FX_V2_MARSHAL = register_marshal(Marshal(
    "i440fx-v2", _V2, _convert_v2,
    doc="i440FX v1/v2 (hand-written save): PCI device, smm_enabled, [v2] 4 x be32 PIRQ levels "
        "(discarded: PIIX3 owns them since v3)"))

I440FX = register(DeviceHistory(
    "i440fx",
    (
        _V2,
        device("I440FX", 3, pci_device(), uint8("smm_enabled"),
               minimum=3, marshal={1: "i440fx-v2", 2: "i440fx-v2"}),
    ),
    doc=__doc__ or "",
    aliases=("I440FX",),
))
