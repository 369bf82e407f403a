"""The sPAPR machine's pending RTAS events: a QTAILQ of event log entries.

QEMU facts (``hw/ppc/spapr.c``): ``vmstate_spapr`` (version 3, minimum 1)
holds ``rtc_offset`` (int32 in the catalog's v1 shape), then the subsection
``spapr_pending_events`` (its name starts with the parent's ``spapr``, which
is all the subsection loader checks), needed when the queue is not empty,
with ``VMSTATE_QTAILQ_V(pending_events, ...)`` of
``vmstate_spapr_event_entry``: ``summary`` (uint32), ``extended_length``
(uint32) and the extended log, a buffer of that many bytes
(``VMSTATE_VBUFFER_ALLOC_UINT32``; here a uint8 variable array counted by
``extended_length``). On the wire: byte 1 before each entry, 0 at the end.

History of ``spapr``:

* v1: ``rtc_offset`` (int32).
* v2 (minimum 1): + ``tb_offset`` (int64, field version 2) and the
  ``spapr_pending_events`` subsection, needed when the off-wire count
  ``n_pending_events`` is nonzero (QEMU: ``!QTAILQ_EMPTY``).
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.dsl import device, int32, int64, qtailq, subsection, uint8, uint32
from vmcompat.model import DeviceHistory

__all__ = ["EVENT_LOG_ENTRY", "SPAPR"]

EVENT_LOG_ENTRY = device("spapr_event_log_entry", 1, uint32("summary"),
                         uint32("extended_length"),
                         uint8("extended_log", varray="extended_length"))

_PENDING = device("spapr_pending_events", 1, qtailq("pending_events", EVENT_LOG_ENTRY))

SPAPR = register(DeviceHistory(
    "spapr",
    (
        device("spapr", 1, int32("rtc_offset")),
        device("spapr", 2, int32("rtc_offset"), int64("tb_offset", version=2),
               uint32("n_pending_events", derived=True, default=0,
                      doc="length of the queue, read by the subsection's needed predicate"),
               minimum=1,
               subsections=[subsection(_PENDING, needed={"field": "n_pending_events",
                                                         "op": "nonzero"})]),
    ),
    doc=__doc__ or "",
))
