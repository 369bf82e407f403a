"""The MC146818 RTC (``mc146818rtc``), v1 → v2 → v3 exactly as QEMU 7.2 sends it.

QEMU facts (``hw/rtc/mc146818rtc.c``; 7.2 dump and vmdesc: version 3,
minimum 1): ``cmos_data`` (128-byte buffer), ``cmos_index`` (uint8), 28
unused bytes (``VMSTATE_UNUSED``, once the broken-down time), the
``periodic_timer`` (timer) and ``next_periodic_time`` (int64), 24 more unused
bytes (the old second timers), then ``irq_coalesced`` and ``period`` (uint32,
field version 2), and ``base_rtc``, ``last_update`` (uint64), ``offset``
(int64), ``update_timer`` (timer), ``next_alarm_time`` (uint64), all field
version 3. The ``mc146818rtc/irq_reinject_on_ack_count`` subsection (uint16)
is sent when the count is nonzero (``rtc_irq_reinject_on_ack_count_needed``);
the parent carries the count as an off-wire field for the predicate.

History: v1 (fields up to the second unused block), v2 (+ coalesced IRQ
accounting), v3 (+ the clock base and update timer, + the subsection).
Every version has minimum 1: a v1 stream loads everywhere.
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.dsl import (
       buffer,
       device,
       int64,
       subsection,
       timer,
       uint8,
       uint16,
       uint32,
       uint64,
       unused,
)
from vmcompat.model import DeviceHistory

__all__ = ["MC146818RTC"]

_V1 = (buffer("cmos_data", 128), uint8("cmos_index"), unused(28),
       timer("periodic_timer"), int64("next_periodic_time"), unused(24))
_V2 = (*_V1, uint32("irq_coalesced", version=2), uint32("period", version=2))
_V3 = (*_V2, uint64("base_rtc", version=3), uint64("last_update", version=3),
       int64("offset", version=3), timer("update_timer", version=3),
       uint64("next_alarm_time", version=3))

_REINJECT = device("mc146818rtc/irq_reinject_on_ack_count", 1,
                   uint16("irq_reinject_on_ack_count"))

MC146818RTC = register(DeviceHistory(
    "mc146818rtc",
    (
        device("mc146818rtc", 1, *_V1),
        device("mc146818rtc", 2, *_V2, minimum=1),
        device("mc146818rtc", 3, *_V3,
               uint16("irq_reinject_on_ack_count", derived=True, default=0,
                      doc="mirror of the subsection's count, read by its needed predicate"),
               minimum=1,
               subsections=[subsection(_REINJECT, needed={"field": "irq_reinject_on_ack_count",
                                                          "op": "nonzero"})]),
    ),
    doc=__doc__ or "",
))
