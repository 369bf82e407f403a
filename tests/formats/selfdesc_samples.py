"""Hand-made descriptions and states covering every field kind (shared by the wire tests)."""

from __future__ import annotations

from vmcompat.dsl import (
    bitmap,
    bool_,
    buffer,
    device,
    gtree,
    int8,
    int32_le,
    qtailq,
    struct,
    struct_array,
    subsection,
    timer,
    uint8,
    uint16,
    uint16_equal,
    uint32,
    uint64,
    unused,
)

ELEM = device("elem", 1, uint16("x"), bool_("on"))
KEY = device("key", 1, uint32("k"))
SUBD = device("rich/extra", 2, uint32("e"), uint8("late", version=2))
SUBA = device("rich/always", 1, int8("z"))

RICH = device(
    "rich", 3,
    uint8("a"), int8("b"), uint16("c", array=3), uint64("big"), timer("t"),
    bool_("flag"), buffer("buf", 4), unused(2), bitmap("bits", 70),
    uint16_equal("magic", default=0xBEEF), int32_le("lim", default=100),
    uint8("n"), uint32("vals", varray="n"),
    uint8("ptrs", array=3, pointer=True),
    struct("inner", ELEM), struct_array("elems", ELEM, 2),
    qtailq("queue", ELEM), gtree("tree", "uint32", ELEM), gtree("stree", KEY, ELEM),
    uint8("opt", exists={"field": "flag", "op": "nonzero"}),
    uint8("newer", version=3),
    uint8("hidden", immutable=True),
    minimum=2,
    subsections=[subsection(SUBD, needed={"field": "a", "op": "nonzero"}), subsection(SUBA)],
)

RICH_STATE = {
    "a": 1, "b": -3, "c": [1, 2, 65535], "big": 2**64 - 1, "t": -1, "flag": True,
    "buf": bytes.fromhex("deadbeef"), "bits": [2**64 - 1, 5], "magic": 0xBEEF, "lim": 7,
    "n": 2, "vals": [0, 2**32 - 1], "ptrs": [1, None, 3],
    "inner": {"x": 9, "on": False}, "elems": [{"x": 1, "on": True}, {"x": 2, "on": False}],
    "queue": [{"x": 5, "on": True}],
    "tree": [[1, {"x": 3, "on": True}], [7, {"x": 4, "on": False}]],
    "stree": [[{"k": 4}, {"x": 8, "on": True}]], "opt": 6, "newer": 11, "hidden": 4,
    "__subsections__": {"rich/extra": {"e": 77, "late": 1}, "rich/always": {"z": -128}},
}
