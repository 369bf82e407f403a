"""The static checker: run the rules of :mod:`vmcompat.compat.rules` over two descriptions.

Four rooms: ``_results`` (findings, inputs, comparisons and their JSON Schemas),
``_align`` (one device in one direction: field alignment and the rules), ``_inputs``
(descriptions and leniently read QEMU dumps), ``_check`` (many inputs, ignores) and
``_prove`` (evidence from the dynamic engine). This package re-exports their API.

For each device the source has, the checker works out what a loader of the
destination would meet, and never stops at the first mismatch:

* the section: is there a destination device of that name, does its version
  accept the source's stream version (``VERSION_TOO_NEW``, ``MINIMUM_ABOVE_SOURCE``);
* the fields: which fields a stream of the source's version carries (fields
  with ``version_id`` <= that version, plus exists-tested ones) against those
  the destination reads for that version; fields are matched by name, in order
  (longest common subsequence), the rest are renames (same place, same wire
  type), removals, additions, reorders, or bytes covered by ``unused_buffer``.
  A struct the other side does not have is opened when its fields match there
  (fields moved into a substruct keep the wire layout, as in QEMU's checker);
* nested structs recursively, with each side's own version (it never travels);
* subsections: one the source may send but the destination lacks fails
  ("does not exist"); one the destination has but the source never sends is fine.

Directions (:mod:`vmcompat.compat.directions`): ``upgrade`` (OLD's data loaded by
NEW), ``downgrade`` (NEW's data loaded by OLD), ``both``; the old words
``backward``, ``forward`` and ``full`` are accepted too. Over inputs ``I0 … In``:
consecutive pairs, or with ``transitive`` every ``Ii`` against ``In``.

>>> from vmcompat.dsl import device, uint8, uint16
>>> old = {"d": device("d", 1, uint8("a"))}
>>> new = {"d": device("d", 1, uint8("a"), uint16("b"))}
>>> [f.rule for f in check([Input("old", old), Input("new", new)]).findings]
['FIELD_ADDED_UNVERSIONED']
"""

from __future__ import annotations

from vmcompat.compat.checker._align import compare
from vmcompat.compat.checker._check import DevicePair, apply_ignores, by_device, check, input_pairs
from vmcompat.compat.checker._inputs import load_input
from vmcompat.compat.checker._prove import NOT_EXERCISABLE, not_reached, prove
from vmcompat.compat.checker._results import (
    FINDING_SCHEMA,
    MAX_DEPTH,
    RESULT_SCHEMA,
    Claims,
    Comparison,
    Finding,
    Input,
    PairKey,
    Result,
    path_segments,
    qemu_path,
    render_path,
)

__all__ = [
    "FINDING_SCHEMA", "MAX_DEPTH", "NOT_EXERCISABLE", "RESULT_SCHEMA", "Claims", "Comparison",
    "DevicePair", "Finding", "Input", "PairKey", "Result", "apply_ignores", "by_device", "check",
    "compare", "input_pairs", "load_input", "not_reached", "path_segments", "prove", "qemu_path",
    "render_path",
]
