"""The HPET: a fixed array that became a variable array counted by a uint8.

QEMU facts (``hw/timer/hpet.c``; 7.2 dump and vmdesc: ``hpet`` version 2,
minimum 1): ``config``, ``isr``, ``hpet_counter`` (uint64), ``num_timers``
(uint8, field version 2), then ``timer``: ``VMSTATE_STRUCT_VARRAY_UINT8`` of
``hpet_timer`` (``tn`` uint8, ``config``, ``cmp``, ``fsb``, ``period``
uint64, ``wrap_flag`` uint8, ``qemu_timer`` timer). Version 1 had exactly
three timers (``HPET_MIN_TIMERS``); ``hpet_pre_load`` sets ``num_timers = 3``
before every load, so a v1 stream (which lacks ``num_timers``) reads three
timers: modelled as ``default=3``. Subsections ``hpet/rtc_irq_level`` (uint8)
and ``hpet/offset`` (``hpet_offset`` uint64) are sent when their off-wire
flags say so.

History: v1 (three timers, fixed array) → v2 (minimum 1: ``num_timers`` and
the variable array, + the two subsections).
"""

from __future__ import annotations

from harness.catalog import register
from harness.dsl import bool_, device, struct_array, subsection, timer, uint8, uint64
from harness.model import DeviceHistory

__all__ = ["HPET_TIMER", "HPET"]

HPET_TIMER = device("hpet_timer", 1, uint8("tn"), uint64("config"), uint64("cmp"),
                    uint64("fsb"), uint64("period"), uint8("wrap_flag"), timer("qemu_timer"))

_REGS = (uint64("config"), uint64("isr"), uint64("hpet_counter"))
_RTC_IRQ = device("hpet/rtc_irq_level", 1, uint8("rtc_irq_level"))
_OFFSET = device("hpet/offset", 1, uint64("hpet_offset"))

HPET = register(DeviceHistory(
    "hpet",
    (
        device("hpet", 1, *_REGS, struct_array("timer", HPET_TIMER, 3)),
        device("hpet", 2, *_REGS,
               uint8("num_timers", version=2, default=3,
                     doc="hpet_pre_load sets 3 before every load (v1 streams lack it)"),
               struct_array("timer", HPET_TIMER, varray="num_timers"),
               bool_("rtc_irq_level_set", derived=True, default=False),
               bool_("hpet_offset_saved", derived=True, default=False),
               minimum=1,
               subsections=[
                   subsection(_RTC_IRQ, needed={"field": "rtc_irq_level_set", "op": "nonzero"}),
                   subsection(_OFFSET, needed={"field": "hpet_offset_saved", "op": "nonzero"}),
               ]),
    ),
    doc=__doc__ or "",
))
