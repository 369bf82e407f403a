"""SCSI disks and their in-flight requests, framed by a 0/1/2 marker byte.

QEMU facts (``hw/scsi/scsi-bus.c``): ``vmstate_scsi_device`` (``SCSIDevice``,
version 1) holds the unit attention (``key``, ``asc``, ``ascq``: uint8),
``sense_is_ua`` (bool), the sense buffer (``SCSI_SENSE_BUF_SIZE_OLD`` = 96
bytes), ``sense_len`` (uint32) and the requests, written by ``put_scsi_requests``:
before each request one byte, **1 if the request must be retried, 2 if not**,
then the 16-byte CDB, ``tag`` and ``lun`` (uint32) and the disk's part
(``scsi_disk_save_request``: ``sector`` uint64, ``sector_count`` and
``buflen`` uint32); a byte **0** ends the list. The marker byte *is* the
element's ``retry`` value: ``Marker(more=(1, 2), end=0, field="retry")`` with
an off-wire (derived) ``retry`` field in the element.

The sense buffer is marked *broken* (QIDL): only ``SCSI_SENSE_BUF_SIZE_OLD``
of the 252 sense bytes travel (QEMU later sends the rest in a
``SCSIDevice/sense`` subsection); the checker reports it.

History of ``scsi-disk`` (QEMU ``vmstate_scsi_disk_state``, version 1):

* v1: ``qdev`` (SCSIDevice), ``media_changed``, ``media_event``,
  ``eject_request`` (bool).
* v2 (minimum 1): + ``tray_open``, ``tray_locked`` (bool, field version 2).
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.dsl import bool_, buffer, device, qtailq, struct, uint8, uint32, uint64
from vmcompat.model import DeviceHistory, Marker

__all__ = ["REQUEST_MARKER", "SCSI_REQUEST", "SCSI_DEVICE", "SCSI_DISK"]

#: 1 = retry, 2 = no retry, 0 = end; the byte is stored in the element's ``retry``.
REQUEST_MARKER = Marker(more=(1, 2), end=0, field="retry")

SCSI_REQUEST = device(
    "SCSIRequest", 1,
    uint8("retry", derived=True, doc="the marker byte: 1 = retry, 2 = no retry"),
    buffer("cmd", 16), uint32("tag"), uint32("lun"),
    uint64("sector"), uint32("sector_count"), uint32("buflen"))

SCSI_DEVICE = device(
    "SCSIDevice", 1,
    uint8("unit_attention_key"), uint8("unit_attention_asc"), uint8("unit_attention_ascq"),
    bool_("sense_is_ua"),
    buffer("sense", 96, broken=True,
           doc="QIDL broken: only the first 96 of 252 sense bytes migrate"),
    uint32("sense_len"),
    qtailq("requests", SCSI_REQUEST, marker=REQUEST_MARKER))

_V1 = (struct("qdev", SCSI_DEVICE), bool_("media_changed"), bool_("media_event"),
       bool_("eject_request"))

SCSI_DISK = register(DeviceHistory(
    "scsi-disk",
    (
        device("scsi-disk", 1, *_V1),
        device("scsi-disk", 2, *_V1, bool_("tray_open", version=2),
               bool_("tray_locked", version=2), minimum=1),
    ),
    doc=__doc__ or "",
))
