"""The 16550A UART (``serial``), with QIDL markers from the seeds.

QEMU facts (``hw/char/serial.c``, 7.2 dump: ``serial`` version 3, minimum 2):
``divider`` (uint16, field version 2), the eight byte registers ``rbr`` ...
``scr``, ``fcr_vmstate`` (field version 3), then subsections
``serial/thr_ipending``, ``serial/tsr`` (``tsr_retry``, ``thr``, ``tsr``),
the FIFOs, ``serial/fifo_timeout_timer``, ``serial/timeout_ipending`` and
``serial/poll``.

QIDL (the seeds' annotated ``SerialState``) marks what is not migrated:
``chr`` (the character backend) is *immutable* — configuration, identical on
both sides; ``int_pending`` is *derived* — recomputed from ``iir``/``ier``
after load. Both live in the state (predicates may read them) and never go on
the wire. ``thr`` carries ``default=0``: a stream without it leaves the
transmit holding register empty, as QEMU's ``serial_reset`` does.

History:

* v2 (minimum 2): divider + registers.
* v3 (minimum 2): ``fcr_vmstate`` and ``thr`` (field version 3); subsections
  ``serial/thr_ipending`` (when ``int_pending``), ``serial/tsr`` (when
  ``tsr_retry`` is nonzero: QEMU's ``serial_tsr_needed``),
  ``serial/fifo_timeout_timer`` (a timer) and ``serial/poll`` (when
  ``poll_msl`` is nonzero).

``pci-serial-multi`` (QEMU ``hw/char/serial-pci-multi.c``) nests the same
``serial`` description in an array of four ports behind a PCI device; its
``ports`` count is ``VMSTATE_UINT32_EQUAL``: source and destination must agree
on the number of ports (default 4 here). Nested versions never travel, so
both versions nest ``serial`` v3; v2 appends the per-port IRQ ``level``
(4 x uint32, field version 2; a vmcompat example).
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.catalog.pci import pci_device
from vmcompat.dsl import (
    bool_,
    device,
    int32,
    int64,
    struct_array,
    subsection,
    timer,
    uint8,
    uint16,
    uint32,
    uint32_equal,
)
from vmcompat.model import DeviceHistory

__all__ = ["SERIAL", "SERIAL_V3", "PCI_SERIAL_MULTI"]

_REGS = tuple(uint8(r) for r in ("rbr", "ier", "iir", "lcr", "mcr", "lsr", "msr", "scr"))
_QIDL = (
    uint32("chr", immutable=True, default=0, doc="QIDL immutable: the chardev (configuration)"),
    bool_("int_pending", derived=True, default=False,
          doc="QIDL derived: recomputed from iir/ier after load"),
)

_THR_IPENDING = device("serial/thr_ipending", 1, int32("thr_ipending"))
_TSR = device("serial/tsr", 1, int32("tsr_retry"), uint8("thr"), uint8("tsr"))
_FIFO_TIMER = device("serial/fifo_timeout_timer", 1, timer("fifo_timeout_timer"))
_POLL = device("serial/poll", 1, int32("poll_msl"), int64("modem_status_poll"))

SERIAL_V2 = device("serial", 2, uint16("divider", version=2), *_REGS, *_QIDL)
SERIAL_V3 = device(
    "serial", 3, uint16("divider", version=2), *_REGS, *_QIDL,
    uint8("fcr_vmstate", version=3),
    uint8("thr", version=3, default=0, doc="QIDL default: empty THR when a stream lacks it"),
    int32("tsr_retry", derived=True, default=0),
    bool_("fifo_timer_pending", derived=True, default=False),
    int32("poll_msl", derived=True, default=0),
    minimum=2,
    subsections=[
        subsection(_THR_IPENDING, needed={"field": "int_pending", "op": "nonzero"}),
        subsection(_TSR, needed={"field": "tsr_retry", "op": "nonzero"}),
        subsection(_FIFO_TIMER, needed={"field": "fifo_timer_pending", "op": "nonzero"}),
        subsection(_POLL, needed={"field": "poll_msl", "op": "nonzero"}),
    ],
)

SERIAL = register(DeviceHistory("serial", (SERIAL_V2, SERIAL_V3), doc=__doc__ or ""))

PCI_SERIAL_MULTI = register(DeviceHistory(
    "pci-serial-multi",
    (
        device("pci-serial-multi", 1, pci_device("dev"),
               uint32_equal("ports", default=4), struct_array("state", SERIAL_V3, 4)),
        device("pci-serial-multi", 2, pci_device("dev"),
               uint32_equal("ports", default=4), struct_array("state", SERIAL_V3, 4),
               uint32("level", array=4, version=2), minimum=1),
    ),
    doc=__doc__ or "",
))
