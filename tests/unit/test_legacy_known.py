"""Known answers for the legacy wire: bytes <-> state, via the fused plan AND the plain walk.

Facts from QEMU's wire rules (migration/vmstate.c, vmstate-types.c and
tests/unit/test-vmstate.c): big-endian, no names, bool is one byte, NULL
pointer is 0x30, QTAILQ/QLIST 0x01 before each element and 0x00 at the end,
GTree be32 count then 0x01+key+value per node then 0x00, subsections 0x05 +
name length + name + be32 version.
"""

from __future__ import annotations

from typing import Any

import pytest

from vmcompat import errors
from vmcompat.dsl import (
    bitmap,
    bool_,
    buffer,
    device,
    gtree,
    int8,
    int16,
    int32,
    int32_equal,
    int32_le,
    int64,
    int64_equal,
    qlist,
    qtailq,
    struct,
    struct_array,
    subsection,
    timer,
    uint8,
    uint8_equal,
    uint16,
    uint16_equal,
    uint32,
    uint32_equal,
    uint64,
    unused,
)
from vmcompat.formats.legacy import LegacyReader, LegacyWriter, decode, encode
from vmcompat.model import Description, Marker
from vmcompat.walk import Visitor, Walk


class UnfusedWriter(LegacyWriter):
    """The same writer without runs: one scalar call per element."""

    run = Visitor.run


class UnfusedReader(LegacyReader):
    run = Visitor.run


def encode_unfused(d: Description, s: Any) -> bytes:
    w = UnfusedWriter()
    Walk(w).device(d, d.version_id, s)
    return bytes(w.out)


def decode_unfused(d: Description, data: bytes, version: int, into: Any = None) -> Any:
    r = UnfusedReader(data)
    out = Walk(r).device(d, version, into)
    assert r.pos == len(data)
    return out


ELEM = device("elem", 1, uint8("a"), uint32("b"))
KEY = device("key", 1, uint16("k"))

# (id, description, state, hex bytes, prior)
CASES: list[tuple[str, Description, dict[str, Any], str, Any]] = [
    ("int8", device("d", 1, int8("x")), {"x": -1}, "ff", None),
    ("int16", device("d", 1, int16("x")), {"x": -2}, "fffe", None),
    ("int32", device("d", 1, int32("x")), {"x": -(2**31)}, "80000000", None),
    ("int64", device("d", 1, int64("x")), {"x": 2**63 - 1}, "7fffffffffffffff", None),
    ("uint8", device("d", 1, uint8("x")), {"x": 255}, "ff", None),
    ("uint16", device("d", 1, uint16("x")), {"x": 0x1234}, "1234", None),
    ("uint32", device("d", 1, uint32("x")), {"x": 0xDEADBEEF}, "deadbeef", None),
    ("uint64", device("d", 1, uint64("x")), {"x": 1}, "0000000000000001", None),
    ("bool", device("d", 1, bool_("t"), bool_("f")), {"t": True, "f": False}, "0100", None),
    ("timer-armed", device("d", 1, timer("t")), {"t": 1000}, "00000000000003e8", None),
    ("timer-off", device("d", 1, timer("t")), {"t": -1}, "ffffffffffffffff", None),
    ("buffer", device("d", 1, buffer("b", 3)), {"b": b"\x01\x02\x03"}, "010203", None),
    ("unused", device("d", 1, uint8("a"), unused(3), uint8("b")), {"a": 1, "b": 2},
     "0100000002", None),
    ("bitmap-70bits", device("d", 1, bitmap("m", 70)), {"m": [1, 2]},
     "0000000000000001" "0000000000000002", None),
    ("uint8-equal", device("d", 1, uint8_equal("e", default=7)), {"e": 7}, "07", None),
    ("uint16-equal", device("d", 1, uint16_equal("e", default=7)), {"e": 7}, "0007", None),
    ("int32-equal", device("d", 1, int32_equal("e", default=-1)), {"e": -1}, "ffffffff", None),
    ("uint32-equal", device("d", 1, uint32_equal("e", default=9)), {"e": 9}, "00000009", None),
    ("int64-equal", device("d", 1, int64_equal("e", default=1)), {"e": 1},
     "0000000000000001", None),
    ("int32-le", device("d", 1, int32_le("n")), {"n": 3}, "00000003", {"n": 5}),
    ("fixed-array", device("d", 1, uint16("a", array=3)), {"a": [1, 2, 3]},
     "000100020003", None),
    ("varray-uint8", device("d", 1, uint8("n"), uint32("v", varray="n")),
     {"n": 2, "v": [1, 2]}, "02" "00000001" "00000002", None),
    ("varray-int32", device("d", 1, int32("n"), uint8("v", varray="n")),
     {"n": 3, "v": [7, 8, 9]}, "00000003" "070809", None),
    ("varray-empty", device("d", 1, uint16("n"), uint8("v", varray="n")),
     {"n": 0, "v": []}, "0000", None),
    ("struct", device("d", 1, uint8("x"), struct("s", ELEM)),
     {"x": 1, "s": {"a": 2, "b": 3}}, "01" "02" "00000003", None),
    ("struct-array", device("d", 1, struct_array("s", ELEM, 2)),
     {"s": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]}, "0100000002" "0300000004", None),
    ("pointer-null", device("d", 1, struct_array("p", ELEM, 3, pointer=True)),
     {"p": [{"a": 1, "b": 2}, None, {"a": 3, "b": 4}]}, "0100000002" "30" "0300000004",
     {"p": [{}, None, {}]}),
    ("scalar-pointer-null", device("d", 1, uint32("p", array=2, pointer=True)),
     {"p": [None, 5]}, "30" "00000005", {"p": [None, 0]}),
    ("qtailq", device("d", 1, qtailq("q", ELEM)),
     {"q": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]}, "01" "0100000002" "01" "0300000004" "00",
     None),
    ("qtailq-empty", device("d", 1, qtailq("q", ELEM)), {"q": []}, "00", None),
    ("qlist", device("d", 1, qlist("q", ELEM)), {"q": [{"a": 9, "b": 9}]},
     "01" "0900000009" "00", None),
    ("list-marker-42", device("d", 1, qtailq("s", ELEM, marker=Marker(more=(42,), end=0))),
     {"s": [{"a": 1, "b": 1}]}, "2a" "0100000001" "00", None),
    ("list-marker-field",
     device("d", 1, qtailq("r", device("req", 1, uint8("retry", derived=True), uint16("tag")),
                           marker=Marker(more=(1, 2), end=0, field="retry"))),
     {"r": [{"retry": 2, "tag": 5}, {"retry": 1, "tag": 6}]}, "02" "0005" "01" "0006" "00",
     None),
    ("list-sentinel",
     device("d", 1, qtailq("vq", device("q", 1, uint32("num"), uint16("idx")),
                           marker=Marker(sentinel="num"))),
     {"vq": [{"num": 256, "idx": 1}]}, "00000100" "0001" "00000000", None),
    ("gtree-direct-key", device("d", 1, gtree("t", "uint64", ELEM)),
     {"t": [[1, {"a": 1, "b": 2}], [5, {"a": 3, "b": 4}]]},
     "00000002" "01" "0000000000000001" "0100000002" "01" "0000000000000005" "0300000004" "00",
     None),
    ("gtree-struct-key", device("d", 1, gtree("t", KEY, ELEM)),
     {"t": [[{"k": 7}, {"a": 1, "b": 2}]]}, "00000001" "01" "0007" "0100000002" "00", None),
    ("gtree-empty", device("d", 1, gtree("t", "uint64", ELEM)), {"t": []}, "00000000" "00",
     None),
    ("subsection-needed",
     device("d", 1, uint8("a"), subsections=[subsection(device("d/sub", 2, uint16("s")),
                                                      needed={"field": "a", "op": "nonzero"})]),
     {"a": 1, "__subsections__": {"d/sub": {"s": 3}}},
     "01" "05" "05" + b"d/sub".hex() + "00000002" "0003", None),
    ("nested-subsection",
     device("d", 1, uint8("a"), subsections=[subsection(device(
         "d/x", 1, uint8("b"), subsections=[subsection(device("d/x/y", 1, uint8("c")))]))]),
     {"a": 1, "__subsections__": {"d/x": {"b": 2, "__subsections__": {"d/x/y": {"c": 3}}}}},
     "01" "05" "03" + b"d/x".hex() + "00000001" "02" "05" "05" + b"d/x/y".hex() + "00000001"
     "03", None),
    ("exists-true", device("d", 1, bool_("on"), uint8("x", exists={"field": "on",
                                                                   "op": "nonzero"})),
     {"on": True, "x": 5}, "01" "05", None),
]


@pytest.mark.parametrize("name,desc,state,hexbytes,prior", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("fused", [True, False], ids=["plan", "walk"])
def test_known_answer(name: str, desc: Description, state: dict[str, Any], hexbytes: str,
                      prior: Any, fused: bool) -> None:
    enc = encode if fused else encode_unfused
    dec = decode if fused else decode_unfused
    expected = bytes.fromhex(hexbytes)
    assert enc(desc, state) == expected
    assert dec(desc, expected, desc.version_id, prior) == state


@pytest.mark.parametrize("name,desc,state,hexbytes,prior", CASES, ids=[c[0] for c in CASES])
def test_truncated_input_fails_typed(name: str, desc: Description, state: dict[str, Any],
                                     hexbytes: str, prior: Any) -> None:
    data = bytes.fromhex(hexbytes)
    # cutting exactly before a subsection header leaves a valid stream without it
    names: list[bytes] = []
    stack = [desc]
    while stack:
        d = stack.pop()
        for sub in d.subsections:
            names.append(b"\x05" + bytes([len(sub.name)]) + sub.name.encode())
            stack.append(sub.description)
    valid_cuts = {i for i in range(len(data)) if any(data.startswith(n, i) for n in names)}
    for cut in range(len(data)):
        if cut in valid_cuts:
            decode(desc, data[:cut], desc.version_id, prior)  # loads: the subsection is optional
            continue
        with pytest.raises(errors.LoadError) as ei:
            decode(desc, data[:cut], desc.version_id, prior)
        assert isinstance(ei.value, errors.Truncated | errors.TrailingData), ei.value


def test_trailing_data() -> None:
    d = device("d", 1, uint8("a"))
    with pytest.raises(errors.TrailingData, match=r"^d @1: 1 byte left after the last field$"):
        decode(d, b"\x01\x02", 1)


# ---------------------------------------------------------------- versions and tests
V2 = device("d", 2, uint8("a"), uint16("b", version=2), minimum=1)


def test_versioned_load_v1_lacks_new_field() -> None:
    assert decode(V2, b"\x01", 1) == {"a": 1}
    assert decode(V2, b"\x01", 1, into={"b": 9}) == {"a": 1, "b": 9}
    assert decode(V2, b"\x01\x00\x02", 2) == {"a": 1, "b": 2}


def test_versioned_save_uses_own_version() -> None:
    assert encode(V2, {"a": 1, "b": 2}) == b"\x01\x00\x02"


def test_default_fills_absent_field() -> None:
    d = device("d", 2, uint8("a"), uint16("b", version=2, default=7), minimum=1)
    assert decode(d, b"\x01", 1) == {"a": 1, "b": 7}


def test_too_new() -> None:
    with pytest.raises(errors.VersionTooNew,
                       match="incoming version_id 3 is too new for local version_id 2"):
        decode(V2, b"\x01\x00\x02", 3)


def test_too_old() -> None:
    d = device("d", 3, uint8("a"), minimum=2)
    with pytest.raises(errors.VersionTooOld, match="incoming version_id 1 is too old for local "
                                                    "minimum version_id 2") as ei:
        decode(d, b"\x01", 1)
    assert ei.value.device == "d" and ei.value.reason is errors.Reason.TOO_OLD


T = device("d", 1, bool_("on"), uint8("x", exists={"field": "on", "op": "nonzero"}),
           uint8("y"))


def test_field_test_skip_and_noskip() -> None:
    assert encode(T, {"on": False, "x": 5, "y": 6}) == b"\x00\x06"
    assert encode(T, {"on": True, "x": 5, "y": 6}) == b"\x01\x05\x06"
    assert decode(T, b"\x00\x06", 1, into={"x": 9}) == {"on": False, "x": 9, "y": 6}
    assert decode(T, b"\x01\x05\x06", 1) == {"on": True, "x": 5, "y": 6}


def test_field_test_alone_decides_over_version() -> None:
    d = device("d", 2, bool_("on"), uint8("x", version=2, exists={"field": "on", "op": "nonzero"}),
               minimum=1)
    # the test is true: present even in a version-1 stream (QEMU: the test alone decides)
    assert decode(d, b"\x01\x07", 1) == {"on": True, "x": 7}


def test_offwire_fields_never_sent_and_kept_from_prior() -> None:
    d = device("serial", 1, uint8("lsr"), uint8("int_pending", derived=True),
               uint32("chr", immutable=True), uint8("thr", default=0))
    assert encode(d, {"lsr": 1, "int_pending": 1, "chr": 7, "thr": 2}) == b"\x01\x02"
    assert decode(d, b"\x01\x02", 1, into={"int_pending": 0, "chr": 7}) == {
        "lsr": 1, "int_pending": 0, "chr": 7, "thr": 2}


# ---------------------------------------------------------------- load checks
def test_equal_mismatch_message() -> None:
    d = device("d", 1, uint32_equal("n", default=4))
    with pytest.raises(errors.EqualMismatch, match="5 != 4"):
        decode(d, b"\x00\x00\x00\x05", 1)
    with pytest.raises(errors.EqualMismatch, match="4 != 8"):
        decode(d, b"\x00\x00\x00\x04", 1, into={"n": 8})


def test_equal_negative_prints_like_qemu() -> None:
    d = device("d", 1, int32_equal("n", default=0))
    with pytest.raises(errors.EqualMismatch, match="ffffffff != 0"):
        decode(d, b"\xff\xff\xff\xff", 1)


def test_int32_le() -> None:
    d = device("d", 1, int32_le("n"))
    assert decode(d, b"\x00\x00\x00\x02", 1, into={"n": 2}) == {"n": 2}
    with pytest.raises(errors.LeViolation, match="Invalid value 3 expecting positive value <= 2"):
        decode(d, b"\x00\x00\x00\x03", 1, into={"n": 2})
    with pytest.raises(errors.LeViolation):
        decode(d, b"\xff\xff\xff\xff", 1, into={"n": 2})


def test_nullptr_marker_checked() -> None:
    d = device("d", 1, struct_array("p", ELEM, 2, pointer=True))
    with pytest.raises(errors.NullPointerMismatch,
                       match="get_nullptr expected VMS_NULLPTR_MARKER"):
        decode(d, bytes.fromhex("31") + bytes.fromhex("0100000002"), 1, into={"p": [None, {}]})


def test_no_prior_means_no_null_slot() -> None:
    d = device("d", 1, uint8("p", array=2, pointer=True))
    # without a prior every slot is present: 0x30 is data here
    assert decode(d, b"\x30\x01", 1) == {"p": [0x30, 1]}


def test_bad_list_marker() -> None:
    d = device("d", 1, qtailq("q", ELEM))
    with pytest.raises(errors.BadMarker, match="unexpected list marker 0x07"):
        decode(d, b"\x07", 1)


# ---------------------------------------------------------------- subsections
SUB = device("dev/sub", 1, uint8("s"), minimum=1)
WITH_SUB = device("dev", 1, uint8("a"), subsections=[subsection(SUB)])
SUBHDR = bytes([5, 7]) + b"dev/sub" + b"\x00\x00\x00\x01"


def test_unknown_subsection_fails_like_qemu() -> None:
    data = b"\x01" + bytes([5, 7]) + b"dev/zzz" + b"\x00\x00\x00\x01\x02"
    with pytest.raises(errors.UnknownSubsection,
                       match="VM subsection 'dev/zzz' in 'dev' does not exist"):
        decode(WITH_SUB, data, 1)


def test_foreign_subsection_name_ends_loop_quietly() -> None:
    # a name not starting with the parent's: the loop stops; leftovers are the caller's
    data = b"\x01" + bytes([5, 7]) + b"xyz/abc" + b"\x00\x00\x00\x01\x02"
    with pytest.raises(errors.TrailingData):
        decode(WITH_SUB, data, 1)
    from vmcompat.formats.legacy import decode_from

    state, pos = decode_from(WITH_SUB, data, 1)
    assert state == {"a": 1} and pos == 1


def test_short_subsection_name_ends_loop_quietly() -> None:
    data = b"\x01" + bytes([5, 3]) + b"dev" + b"\x00\x00\x00\x01"
    from vmcompat.formats.legacy import decode_from

    assert decode_from(WITH_SUB, data, 1) == ({"a": 1}, 1)


def test_missing_subsection_is_fine_and_keeps_prior() -> None:
    prior = {"__subsections__": {"dev/sub": {"s": 4}}}
    assert decode(WITH_SUB, b"\x01", 1, into=prior) == {"a": 1, **prior}


def test_subsection_version_checks() -> None:
    with pytest.raises(errors.VersionTooNew) as ei:
        decode(WITH_SUB, b"\x01" + bytes([5, 7]) + b"dev/sub" + b"\x00\x00\x00\x02\x00", 1)
    assert ei.value.path == ("dev/sub",)
    with pytest.raises(errors.VersionTooOld):
        decode(WITH_SUB, b"\x01" + bytes([5, 7]) + b"dev/sub" + b"\x00\x00\x00\x00\x00", 1)


def test_subsections_load_in_stream_order() -> None:
    d = device("dev", 1, uint8("a"), subsections=[
        subsection(device("dev/x", 1, uint8("x"))), subsection(device("dev/y", 1, uint8("y")))])
    data = (b"\x01" + bytes([5, 5]) + b"dev/y" + b"\x00\x00\x00\x01\x07"
            + bytes([5, 5]) + b"dev/x" + b"\x00\x00\x00\x01\x08")
    assert decode(d, data, 1) == {"a": 1, "__subsections__": {"dev/y": {"y": 7},
                                                              "dev/x": {"x": 8}}}


def test_hostile_counts_fail_fast() -> None:
    d = device("d", 1, uint32("n"), uint8("v", varray="n"))
    with pytest.raises(errors.Truncated):
        decode(d, b"\x7f\xff\xff\xff", 1)
    t = device("d", 1, gtree("t", "uint64", ELEM))
    with pytest.raises(errors.Truncated):
        decode(t, b"\x80\x00\x00\x00\x01", 1)
    neg = device("d", 1, int32("n"), uint8("v", varray="n"))
    with pytest.raises(errors.BadValue):
        decode(neg, b"\xff\xff\xff\xff", 1)


def test_error_carries_path_and_offset() -> None:
    d = device("dev", 1, uint8("a"), struct("s", ELEM))
    with pytest.raises(errors.Truncated) as ei:
        decode(d, b"\x01\x02\x00", 1)
    e = ei.value
    assert (e.device, e.path, e.offset) == ("dev", ("s", "b"), 2)
    assert str(e).startswith("dev.s.b @2: unexpected end of data")


def test_subsection_loop_runs_without_declared_subsections() -> None:
    # vmstate_load_state always runs the subsection loop: a stray subsection named like
    # the device is unknown ("does not exist"), not trailing data
    plain = device("dev", 1, uint8("a"))
    with pytest.raises(errors.UnknownSubsection, match="VM subsection 'dev/sub' in 'dev'"):
        decode(plain, b"\x01" + SUBHDR + b"\x02", 1)


def test_offwire_field_without_prior_stays_absent() -> None:
    d = device("d", 1, uint8("a"), uint8("pending", derived=True))
    assert decode(d, b"\x01", 1) == {"a": 1}


def test_writer_never_changes_the_state() -> None:
    d = device("d", 1, uint8("a"), uint8("pending", derived=True),
               subsections=[subsection(device("d/s", 1, uint8("s")))])
    s = {"a": 1, "__subsections__": {"d/s": {"s": 2}}}
    before = repr(s)
    encode(d, s)
    encode_unfused(d, s)
    assert repr(s) == before


def test_byte_counts_have_the_right_plural() -> None:
    with pytest.raises(errors.Truncated, match=r"^d\.a @0: unexpected end of data: need 1 "
                                               r"byte, 0 left$"):
        decode(device("d", 1, uint8("a")), b"", 1)
    with pytest.raises(errors.TrailingData, match=r"^d @1: 2 bytes left after the last field$"):
        decode(device("d", 1, uint8("a")), b"\x01\x02\x03", 1)
