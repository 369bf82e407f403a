"""A VMBus-like device: the remaining scalar types and variable-array counts.

Loosely after QEMU's ``hw/hyperv/vmbus.c`` (``vmstate_vmbus``: ``state``,
``version``, ``target_vp``, ``int_page_gpa`` and the GPADLs, each with a
variable array of guest frame numbers, ``VMSTATE_VARRAY_UINT32_ALLOC``).
This is a vmcompat example, not QEMU's exact layout: it gathers the types the
other catalog devices do not use, so that every type of the model appears in
the catalog at least once:

* ``msg_sint`` (int8), ``target_vp`` (int16);
* ``num_sints`` (``uint16 equal``, default 16) and ``page_shift``
  (``int32 equal``, default 12): configuration both sides must share;
* ``gpadls``, a GTree keyed by the ``gpadl_key`` struct (``id``,
  ``child_relid``: uint32) whose values hold ``num_gfns`` (uint16) and the
  ``gfns`` (uint64 variable array counted by the uint16);
* ``num_monitor_pages`` (int32) counting ``monitor_gpa`` (uint64 variable
  array counted by an int32).

History of ``vmbus``:

* v1: the fields above.
* v2 (minimum 1): + ``ref_tsc_base`` (``int64 equal``, field version 2,
  default 0: a v2 destination refuses a stream whose reference TSC base
  differs from its own).
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.dsl import (
    bool_,
    device,
    gtree,
    int8,
    int16,
    int32,
    int32_equal,
    int64_equal,
    uint16,
    uint16_equal,
    uint32,
    uint64,
)
from vmcompat.model import DeviceHistory

__all__ = ["GPADL_KEY", "GPADL", "VMBUS"]

GPADL_KEY = device("gpadl_key", 1, uint32("id"), uint32("child_relid"))
GPADL = device("gpadl", 1, uint16("num_gfns"), uint16("seen_gfns"),
               uint64("gfns", varray="num_gfns"), bool_("alive"))

_V1 = (uint32("state"), uint32("version"), int8("msg_sint"), int16("target_vp"),
       uint16_equal("num_sints", default=16), int32_equal("page_shift", default=12),
       uint64("int_page_gpa"), gtree("gpadls", GPADL_KEY, GPADL),
       int32("num_monitor_pages"), uint64("monitor_gpa", varray="num_monitor_pages"))

VMBUS = register(DeviceHistory(
    "vmbus",
    (
        device("vmbus", 1, *_V1),
        device("vmbus", 2, *_V1, int64_equal("ref_tsc_base", version=2, default=0), minimum=1),
    ),
    doc=__doc__ or "",
))
