"""The local APIC under two names: ``apic`` and ``kvm-apic``.

QEMU facts (``hw/intc/apic_common.c``; 7.2 vmdesc ``apic`` version 3):
``apicbase`` (uint32), ``id``, ``arb_id``, ``tpr`` (uint8), ``spurious_vec``
(uint32), ``log_dest``, ``dest_mode`` (uint8), ``isr``/``tmr``/``irr`` (8 x
uint32 each), ``lvt`` (6 x uint32), ``esr`` (uint32), ``icr`` (2 x uint32),
``divide_conf`` (uint32), ``count_shift`` (int32), ``initial_count``
(uint32), ``initial_count_load_time``, ``next_time``, ``timer_expiry``
(int64; "open-coded timer state"), and the ``apic/sipi`` subsection
(``sipi_vector``, ``wait_for_sipi``: int32) when a SIPI is awaited.

The emulated APIC (``apic``) and the in-kernel one (``kvm-apic``) share
``vmstate_apic_common``: same state, two device names. A migration filter
(in :mod:`harness.filters`) renames one into the other.

History of each:

* v2 (minimum 1): the fields above; ``timer_expiry`` arrived at v2 (QEMU's
  ``apic_load_old`` read the timer only ``if (version_id >= 2)``).
* v3 (minimum 1): + the ``<name>/sipi`` subsection, needed when the
  off-wire field ``wait_for_sipi`` is nonzero (QEMU's
  ``apic_common_sipi_needed`` reads the device object). QEMU 7.2 raised the
  minimum to 3 when it dropped ``apic_load_old``; the catalog keeps 1 because
  the layout is unchanged.
"""

from __future__ import annotations

from harness.catalog import register
from harness.dsl import device, int32, int64, subsection, uint8, uint32
from harness.model import Description, DeviceHistory

__all__ = ["APIC", "KVM_APIC", "apic_history"]


def _fields() -> tuple:
    return (
        uint32("apicbase"), uint8("id"), uint8("arb_id"), uint8("tpr"), uint32("spurious_vec"),
        uint8("log_dest"), uint8("dest_mode"), uint32("isr", array=8), uint32("tmr", array=8),
        uint32("irr", array=8), uint32("lvt", array=6), uint32("esr"), uint32("icr", array=2),
        uint32("divide_conf"), int32("count_shift"), uint32("initial_count"),
        int64("initial_count_load_time"), int64("next_time"), int64("timer_expiry", version=2),
    )


def _versions(name: str) -> tuple[Description, ...]:
    sipi = device(f"{name}/sipi", 1, int32("sipi_vector"), int32("wait_for_sipi"))
    return (
        device(name, 2, *_fields(), minimum=1),
        device(name, 3, *_fields(),
               int32("wait_for_sipi", derived=True, default=0,
                     doc="mirror of the sipi subsection's flag, read by its needed predicate"),
               minimum=1,
               subsections=[subsection(sipi, needed={"field": "wait_for_sipi", "op": "nonzero"})]),
    )


def apic_history(name: str) -> DeviceHistory:
    """The APIC history under ``name`` (``apic`` or ``kvm-apic``)."""
    return DeviceHistory(name, _versions(name), doc=__doc__ or "")


APIC = register(apic_history("apic"))
KVM_APIC = register(apic_history("kvm-apic"))
