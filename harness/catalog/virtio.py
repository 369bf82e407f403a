"""A virtio device whose queue list ends with a zero ``vring.num``.

QEMU facts (``hw/virtio/virtio.c``, ``virtio_save``): after the transport's
config, the common state is ``status``, ``isr`` (uint8), ``queue_sel``
(uint16), ``guest_features`` (uint32), ``config_len`` (uint32) and that many
config bytes, then the queues: per queue ``vring.num`` (uint32), the ring
address (uint64), ``last_avail_idx`` (uint16) and the MSI-X ``vector``
(uint16). Only queues with a nonzero ``vring.num`` exist, so the seeds frame
the list with a *sentinel*: elements back to back, each starting with its
nonzero ``num``, and a zero ``num`` (4 bytes) ends the list
(``Marker(sentinel="num")``). QEMU 7.2 then appends ``vmstate_virtio`` with
subsections such as ``virtio/device_endian`` and ``virtio/broken``.

The config space is a variable array of uint8 counted by ``config_len``
(a count from a uint32 field).

History of ``virtio``:

* v1: the common state and the queue list.
* v2 (minimum 1): + ``device_endian`` (uint8, field version 2) and the
  ``virtio/broken`` subsection (bool), needed when the off-wire flag
  ``is_broken`` is set (QEMU: ``virtio_broken_needed``).
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.dsl import bool_, device, qtailq, subsection, uint8, uint16, uint32, uint64
from vmcompat.model import DeviceHistory, Marker

__all__ = ["VIRTQUEUE", "QUEUE_MARKER", "VIRTIO"]

#: one virtqueue; ``num`` first: a zero ``num`` ends the list on the wire.
VIRTQUEUE = device("VirtQueue", 1, uint32("num", doc="vring.num, nonzero in every element"),
                   uint64("pa"), uint16("last_avail_idx"), uint16("vector"))

QUEUE_MARKER = Marker(sentinel="num")

_COMMON = (uint8("status"), uint8("isr"), uint16("queue_sel"), uint32("guest_features"),
           uint32("config_len"), uint8("config", varray="config_len"),
           qtailq("vqs", VIRTQUEUE, marker=QUEUE_MARKER))

_BROKEN = device("virtio/broken", 1, bool_("broken"))

VIRTIO = register(DeviceHistory(
    "virtio",
    (
        device("virtio", 1, *_COMMON),
        device("virtio", 2, *_COMMON, uint8("device_endian", version=2),
               bool_("is_broken", derived=True, default=False,
                     doc="mirror of virtio/broken, read by its needed predicate"),
               minimum=1,
               subsections=[subsection(_BROKEN, needed={"field": "is_broken", "op": "nonzero"})]),
    ),
    doc=__doc__ or "",
))
