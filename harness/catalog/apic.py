"""The local APIC under two names: ``apic`` and ``kvm-apic``.

QEMU facts (``hw/intc/apic_common.c``; 7.2 vmdesc ``apic`` version 3):
``vmstate_apic_common`` (version 3, minimum 3) holds ``apicbase`` (uint32),
``id``, ``arb_id``, ``tpr`` (uint8), ``spurious_vec`` (uint32), ``log_dest``,
``dest_mode`` (uint8), ``isr``/``tmr``/``irr`` (8 x uint32 each), ``lvt`` (6 x
uint32), ``esr`` (uint32), ``icr`` (2 x uint32), ``divide_conf`` (uint32),
``count_shift`` (int32), ``initial_count`` (uint32),
``initial_count_load_time``, ``next_time``, ``timer_expiry`` (int64;
"open-coded timer state"), and the ``apic/sipi`` subsection (``sipi_vector``,
``wait_for_sipi``: int32) when a SIPI is awaited.

Versions 1 and 2 were saved by hand and loaded by ``apic_load_old`` (through
``load_state_old``, removed from QEMU long after): the same registers, but
``isr``, ``tmr`` and ``irr`` *interleaved* per index (``for i in 0..7: isr[i],
tmr[i], irr[i]``), and the timer (``timer_get``) only from version 2.
That layout differs from v3, hence the minimum of 3.

The emulated APIC (``apic``) and the in-kernel one (``kvm-apic``) share
``vmstate_apic_common``: same state, two device names. A migration filter
(in :mod:`vmcompat.filters`) renames one into the other.

History of each (``NAME`` = ``apic`` or ``kvm-apic``):

* v2 (minimum 1): the hand-written layout: ``irq_regs`` is a struct array of
  8 x (``isr``, ``tmr``, ``irr``); ``timer`` (a timer) has field version 2.
* v3 (minimum 3): QEMU's vmstate layout plus the ``NAME/sipi`` subsection,
  needed when the off-wire field ``wait_for_sipi`` is nonzero (QEMU's
  ``apic_common_sipi_needed`` reads the device object). v1/v2 streams load
  through the versioned marshal function ``NAME-v2`` (seed 004), whose
  ``convert`` de-interleaves the registers and turns ``timer`` into
  ``timer_expiry`` — what ``apic_load_old`` did, typed.
"""

from __future__ import annotations

from typing import Any

from vmcompat.catalog import register
from vmcompat.dsl import device, int32, int64, struct_array, subsection, timer, uint8, uint32
from vmcompat.marshal import MARSHALS, Marshal
from vmcompat.marshal import register as register_marshal
from vmcompat.model import Description, DeviceHistory, Field

__all__ = ["APIC", "KVM_APIC", "IRQ_REGS", "apic_history"]

#: one index of the interleaved ISR/TMR/IRR registers of the v1/v2 layout
IRQ_REGS = device("apic_irq_regs", 1, uint32("isr"), uint32("tmr"), uint32("irr"))

_HEAD = (uint32("apicbase"), uint8("id"), uint8("arb_id"), uint8("tpr"), uint32("spurious_vec"),
         uint8("log_dest"), uint8("dest_mode"))
_TAIL = (uint32("lvt", array=6), uint32("esr"), uint32("icr", array=2), uint32("divide_conf"),
         int32("count_shift"), uint32("initial_count"), int64("initial_count_load_time"),
         int64("next_time"))
_V2: tuple[Field, ...] = (*_HEAD, struct_array("irq_regs", IRQ_REGS, 8), *_TAIL,
                          timer("timer", version=2))
_V3: tuple[Field, ...] = (*_HEAD, uint32("isr", array=8), uint32("tmr", array=8),
                          uint32("irr", array=8), *_TAIL, int64("timer_expiry"))
_REGS = ("isr", "tmr", "irr")


def _convert_v2(old: dict[str, Any], prior: Any) -> dict[str, Any]:
    """v1/v2 state -> v3 state: de-interleave ISR/TMR/IRR, ``timer`` -> ``timer_expiry``."""
    new = dict(prior) if isinstance(prior, dict) else {}
    for k, v in old.items():
        if k not in ("irq_regs", "timer"):
            new[k] = v
    for r in _REGS:
        new[r] = [regs[r] for regs in old["irq_regs"]]
    if "timer" in old:  # version 2 streams only
        new["timer_expiry"] = old["timer"]
    return new


def _versions(name: str) -> tuple[Description, ...]:
    sipi = device(f"{name}/sipi", 1, int32("sipi_vector"), int32("wait_for_sipi"))
    v2 = device(name, 2, *_V2, minimum=1)
    if f"{name}-v2" not in MARSHALS:
        register_marshal(Marshal(f"{name}-v2", v2, _convert_v2,
                                 doc=f"{name} v1/v2 (apic_load_old): interleaved ISR/TMR/IRR"))
    return (
        v2,
        device(name, 3, *_V3,
               int32("wait_for_sipi", derived=True, default=0,
                     doc="mirror of the sipi subsection's flag, read by its needed predicate"),
               minimum=3, marshal={1: f"{name}-v2", 2: f"{name}-v2"},
               subsections=[subsection(sipi, needed={"field": "wait_for_sipi", "op": "nonzero"})]),
    )


def apic_history(name: str) -> DeviceHistory:
    """The APIC history under ``name`` (``apic`` or ``kvm-apic``)."""
    return DeviceHistory(name, _versions(name), doc=__doc__ or "")


APIC = register(apic_history("apic"))
KVM_APIC = register(apic_history("kvm-apic"))
