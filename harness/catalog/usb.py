"""The USB hub: ports as an array of pointers to structs.

QEMU facts (``hw/usb/dev-hub.c``; 7.2 dump: ``usb-hub`` version 1): ``dev``
(``USBDevice``: ``addr`` uint8, ``state``, ``remote_wakeup``,
``setup_state``, ``setup_len``, ``setup_index`` int32, ``setup_buf`` 8
bytes), then ``ports`` (8 x ``usb-hub-port``: ``wPortStatus``,
``wPortChange`` uint16), and the ``usb-hub/port-timer`` subsection (a
timer) when the port timer is pending.

The catalog stores the ports as an *array of pointers*
(``VMSTATE_ARRAY_OF_POINTER_TO_STRUCT``): a port without a device is NULL,
sent as the single byte 0x30. As in QEMU, the destination's prior state decides
which slots are NULL (load with ``into``).

History of ``usb-hub``:

* v1: ``dev`` and the 8 port pointers.
* v2 (minimum 1): + ``num_ports`` (``uint8 equal``, field version 2, default 8:
  both sides must have the same port count) and the ``usb-hub/port-timer``
  subsection, needed when the off-wire flag ``port_timer_pending`` is set.
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.dsl import (
    bool_,
    buffer,
    device,
    int32,
    struct,
    struct_array,
    subsection,
    timer,
    uint8,
    uint8_equal,
    uint16,
)
from vmcompat.model import DeviceHistory

__all__ = ["USB_DEVICE", "USB_HUB_PORT", "USB_HUB"]

USB_DEVICE = device("USBDevice", 1, uint8("addr"), int32("state"), int32("remote_wakeup"),
                    int32("setup_state"), int32("setup_len"), int32("setup_index"),
                    buffer("setup_buf", 8))

USB_HUB_PORT = device("usb-hub-port", 1, uint16("wPortStatus"), uint16("wPortChange"))

_V1 = (struct("dev", USB_DEVICE), struct_array("ports", USB_HUB_PORT, 8, pointer=True))
_PORT_TIMER = device("usb-hub/port-timer", 1, timer("port_timer"))

USB_HUB = register(DeviceHistory(
    "usb-hub",
    (
        device("usb-hub", 1, *_V1),
        device("usb-hub", 2, *_V1, uint8_equal("num_ports", version=2, default=8),
               bool_("port_timer_pending", derived=True, default=False),
               minimum=1,
               subsections=[subsection(_PORT_TIMER,
                                       needed={"field": "port_timer_pending", "op": "nonzero"})]),
    ),
    doc=__doc__ or "",
))
