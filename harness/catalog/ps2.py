"""PS/2 keyboard and mouse: a shared common struct, a field version, subsections.

QEMU facts (``hw/input/ps2.c``, 7.2 dump: ``ps2kbd`` version 3, minimum 2):
both devices start with ``parent_obj``, the ``PS2 Common State`` struct
(``write_cmd`` and the 256-byte queue: ``rptr``, ``wptr``, ``count``,
``data``); QEMU spells the queue fields ``queue.rptr`` etc., the catalog nests
them as the ``PS2 Queue`` struct (identical bytes).

History of ``ps2kbd``:

* v2: common state, ``scan_enabled``, ``translate`` (int32).
* v3: ``scancode_set`` (int32, field version 3) appended: a v2 stream loads in
  v3 and the field keeps the destination's value. Subsections (QEMU adds them
  without version bumps; the catalog introduces them at v3):
  ``ps2kbd/ledstate`` (int32 ``ledstate``, version 3, minimum 2) when the LED
  state is nonzero, ``ps2kbd/need_high_bit`` (bool) when set, and
  ``ps2kbd/command_reply_queue`` (int32 ``cwptr``) when a command reply is
  queued. QEMU's ``needed`` functions read the device object; the catalog
  gives the parent the off-wire (derived) fields they read.

History of ``ps2mouse``:

* v1: the common struct, then ``mouse_status``, ``mouse_resolution``,
  ``mouse_sample_rate``, ``mouse_wrap``, ``mouse_type``,
  ``mouse_detect_state`` (uint8), ``mouse_dx``, ``mouse_dy``, ``mouse_dz``
  (int32), ``mouse_buttons`` (uint8).
* v2 (minimum 1): the same layout under QEMU 7.2's version number 2 — a
  version bump that changes no byte (QEMU's own minimum is 2; the catalog
  keeps 1 because a v1 stream reads identically).
* v3 (minimum 1): + ``mouse_dw`` (int32, field version 3; horizontal wheel
  motion — a vmcompat example of a next version, not in QEMU 7.2).
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.dsl import bool_, buffer, device, int32, struct, subsection, uint8
from vmcompat.model import DeviceHistory

__all__ = ["PS2_QUEUE", "PS2_COMMON", "PS2KBD", "PS2MOUSE"]

PS2_QUEUE = device("PS2 Queue", 1, int32("rptr"), int32("wptr"), int32("count"),
                   buffer("data", 256))

#: ``vmstate_ps2_common``: shared by keyboard and mouse.
PS2_COMMON = device("PS2 Common State", 3, int32("write_cmd"), struct("queue", PS2_QUEUE),
                    minimum=2)

_KBD_FIELDS = (struct("parent_obj", PS2_COMMON), int32("scan_enabled"), int32("translate"))

_LEDSTATE = device("ps2kbd/ledstate", 3, int32("ledstate"), minimum=2)
_HIGH_BIT = device("ps2kbd/need_high_bit", 1, bool_("need_high_bit"))
_REPLY = device("ps2kbd/command_reply_queue", 0, int32("cwptr"))

PS2KBD = register(DeviceHistory(
    "ps2kbd",
    (
        device("ps2kbd", 2, *_KBD_FIELDS),
        device("ps2kbd", 3, *_KBD_FIELDS, int32("scancode_set", version=3),
               int32("ledstate", derived=True, default=0),
               bool_("need_high_bit", derived=True, default=False),
               int32("cwptr", derived=True, default=-1),
               minimum=2,
               subsections=[
                   subsection(_LEDSTATE, needed={"field": "ledstate", "op": "nonzero"}),
                   subsection(_HIGH_BIT, needed={"field": "need_high_bit", "op": "nonzero"}),
                   subsection(_REPLY, needed={"field": "cwptr", "op": "ne", "value": -1}),
               ]),
    ),
    doc=__doc__ or "",
))

_MOUSE_FIELDS = (struct("parent_obj", PS2_COMMON), uint8("mouse_status"),
                 uint8("mouse_resolution"), uint8("mouse_sample_rate"), uint8("mouse_wrap"),
                 uint8("mouse_type"), uint8("mouse_detect_state"), int32("mouse_dx"),
                 int32("mouse_dy"), int32("mouse_dz"), uint8("mouse_buttons"))

PS2MOUSE = register(DeviceHistory(
    "ps2mouse",
    (
        device("ps2mouse", 1, *_MOUSE_FIELDS),
        device("ps2mouse", 2, *_MOUSE_FIELDS, minimum=1),
        device("ps2mouse", 3, *_MOUSE_FIELDS, int32("mouse_dw", version=3), minimum=1),
    ),
    doc=__doc__ or "",
))
