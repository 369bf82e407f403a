"""A watchdog whose prescaler skipped a version: the classic chain loss (a vmcompat example).

Not a QEMU device: a small history built to show what a migration *chain*
loses that every direct hop keeps (``vmcompat chain``, :mod:`vmcompat.compat.chain`).
QEMU's practice when a field stops being migrated is to leave
``VMSTATE_UNUSED`` of its size in its place, so that streams of older and newer
versions keep their layout; when a later version migrates the field again at
the same place, older streams load it again — but streams of the middle
version carry zeros there.

History of ``wdt-gap``:

* v1: ``enabled`` (bool), ``reload``, ``counter`` (uint32), ``prescaler``
  (uint16), ``stage`` (uint8).
* v2 (minimum 1): ``prescaler`` dropped to two unused bytes (v2 recomputed it
  from ``reload``); a v1 stream loads, its prescaler bytes are skipped.
* v3 (minimum 1): ``prescaler`` migrated again at the same place (no field
  version: v1 and v2 streams both carry the two bytes).

Every direct hop keeps every field both ends hold: v1 → v3 keeps the
prescaler, v1 → v2 and v2 → v3 have no prescaler on one side. The chain
v1 → v2 → v3 loses it: v3 reads the zeros v2 wrote. Downgrades are refused
(too new).
"""

from __future__ import annotations

from vmcompat.catalog import register
from vmcompat.dsl import bool_, device, uint8, uint16, uint32, unused
from vmcompat.model import DeviceHistory

__all__ = ["WDT_GAP"]

_HEAD = (bool_("enabled"), uint32("reload"), uint32("counter"))

WDT_GAP = register(DeviceHistory(
    "wdt-gap",
    (
        device("wdt-gap", 1, *_HEAD, uint16("prescaler"), uint8("stage")),
        device("wdt-gap", 2, *_HEAD, unused(2, "prescaler_unused"), uint8("stage"), minimum=1),
        device("wdt-gap", 3, *_HEAD, uint16("prescaler"), uint8("stage"), minimum=1),
    ),
    doc=__doc__ or "",
))
