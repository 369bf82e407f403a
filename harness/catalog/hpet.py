"""The HPET: a fixed array that became a variable array counted by a uint8.

QEMU facts (``hw/timer/hpet.c``; 7.2 dump and vmdesc: ``hpet`` version 2,
minimum 1): ``config``, ``isr``, ``hpet_counter`` (uint64), ``num_timers``
(uint8, field version 2), then ``timer``: ``VMSTATE_STRUCT_VARRAY_UINT8`` of
``hpet_timer`` (``tn`` uint8, ``config``, ``cmp``, ``fsb``, ``period``
uint64, ``wrap_flag`` uint8, ``qemu_timer`` timer). Version 1 had exactly
three timers (``HPET_MIN_TIMERS``). A v1 stream lacks ``num_timers``; QEMU
still reads it with minimum 1 because ``hpet_pre_load`` sets
``num_timers = 3`` before *every* load — an untyped side effect that a
description cannot see (with vmcompat's load semantics the destination's
prior ``num_timers`` would be used, and a hpet configured with 4 timers would
misread a v1 stream). The catalog makes that step explicit: v2 has minimum 2
and a versioned marshal function ``hpet-v1`` (seed 004) reads v1 streams with
the v1 layout and sets ``num_timers`` to 3.

Subsections ``hpet/rtc_irq_level`` (uint8) and ``hpet/offset``
(``hpet_offset`` uint64) are sent when their off-wire flags say so.

History: v1 (three timers, fixed array) → v2 (minimum 2, marshal for 1:
``num_timers`` and the variable array, + the two subsections).
"""

from __future__ import annotations

from typing import Any

from vmcompat.catalog import register
from vmcompat.dsl import bool_, device, struct_array, subsection, timer, uint8, uint64
from vmcompat.marshal import Marshal
from vmcompat.marshal import register as register_marshal
from vmcompat.model import DeviceHistory

__all__ = ["HPET_TIMER", "HPET_MIN_TIMERS", "HPET"]

HPET_MIN_TIMERS = 3

HPET_TIMER = device("hpet_timer", 1, uint8("tn"), uint64("config"), uint64("cmp"),
                    uint64("fsb"), uint64("period"), uint8("wrap_flag"), timer("qemu_timer"))

_REGS = (uint64("config"), uint64("isr"), uint64("hpet_counter"))
_RTC_IRQ = device("hpet/rtc_irq_level", 1, uint8("rtc_irq_level"))
_OFFSET = device("hpet/offset", 1, uint64("hpet_offset"))

_V1 = device("hpet", 1, *_REGS, struct_array("timer", HPET_TIMER, HPET_MIN_TIMERS))


def _convert_v1(old: dict[str, Any], prior: Any) -> dict[str, Any]:
    """v1 state -> v2 state: ``num_timers`` is 3 (``hpet_pre_load``)."""
    new = dict(prior) if isinstance(prior, dict) else {}
    new.update(old)
    new["num_timers"] = HPET_MIN_TIMERS
    return new


HPET_V1_MARSHAL = register_marshal(Marshal(
    "hpet-v1", _V1, _convert_v1, doc="hpet v1: three timers; num_timers = 3 (hpet_pre_load)"))

HPET = register(DeviceHistory(
    "hpet",
    (
        _V1,
        device("hpet", 2, *_REGS,
               uint8("num_timers", version=2, default=HPET_MIN_TIMERS,
                     doc="hpet_pre_load sets 3 before every load"),
               struct_array("timer", HPET_TIMER, varray="num_timers"),
               bool_("rtc_irq_level_set", derived=True, default=False),
               bool_("hpet_offset_saved", derived=True, default=False),
               minimum=2, marshal={1: "hpet-v1"},
               subsections=[
                   subsection(_RTC_IRQ, needed={"field": "rtc_irq_level_set", "op": "nonzero"}),
                   subsection(_OFFSET, needed={"field": "hpet_offset_saved", "op": "nonzero"}),
               ]),
    ),
    doc=__doc__ or "",
))
