"""Self-describing wires (ber, json): round trips, known answers and by-name load semantics."""

from __future__ import annotations

import json

import pytest
from selfdesc_samples import RICH, RICH_STATE

from vmcompat.catalog import load
from vmcompat.catalog._sample import sample_state
from vmcompat.compat.oracle import normalize
from vmcompat.dsl import (
    bool_,
    buffer,
    device,
    int8,
    struct,
    subsection,
    uint8,
    uint16,
    uint16_equal,
)
from vmcompat.errors import (
    EqualMismatch,
    LoadError,
    Reason,
    StreamError,
    TrailingData,
    TypeMismatch,
    UnknownField,
    UnknownSection,
    UnknownSubsection,
    VersionTooNew,
    VersionTooOld,
)
from vmcompat.formats import FORMATS
from vmcompat.formats._selfdesc import must_parse
from vmcompat.formats.ber import encode as ber_encode
from vmcompat.matrix.engine import prior_for
from vmcompat.state import from_json, to_json

WIRES = ("ber", "json")
ALL_WIRES = ("legacy", "ber", "json")
CATALOG = [d for h in load().values() for d in h.versions]


def _enc(w: str, d, s) -> bytes:
    return FORMATS[w].encode(d, s)


def _dec(w: str, d, data: bytes, version: int | None = None, into=None):
    return FORMATS[w].decode(d, data, d.version_id if version is None else version, into)


def test_registered_as_self_describing() -> None:
    assert FORMATS["ber"].self_describing and FORMATS["json"].self_describing
    assert not FORMATS["legacy"].self_describing


@pytest.mark.parametrize("wire", ALL_WIRES)
def test_rich_round_trip(wire: str) -> None:
    s = from_json(RICH, to_json(RICH_STATE))
    # legacy: the destination's prior decides NULL slots (QEMU); off-wire fields keep the prior
    out = _dec(wire, RICH, _enc(wire, RICH, s), into={"ptrs": [0, None, 0], "hidden": 4})
    assert out == s


@pytest.mark.parametrize("wire", ALL_WIRES)
@pytest.mark.parametrize("desc", CATALOG, ids=lambda d: f"{d.name}@{d.version_id}")
def test_catalog_self_round_trip(wire: str, desc) -> None:
    """A description against itself: every catalog version, every wire."""
    s = sample_state(desc)
    out = _dec(wire, desc, _enc(wire, desc, s), into=prior_for(desc, desc, s))
    assert normalize(out) == normalize(s)


def test_ber_known_answer() -> None:
    d = device("d", 2, uint8("a"), bool_("b", default=False), minimum=1)
    assert ber_encode(d, {"a": 5, "b": True}).hex() == (
        "3022" "800164" "810102" "a21a"            # Device: name "d", version 2, attributes
        "300b" "800161" "8101ff" "a203" "800105"   # "a", must-parse, integer 5
        "300b" "800162" "810100" "a203" "8101ff")  # "b", skippable (default), boolean TRUE


def test_json_known_answer_and_determinism() -> None:
    d = device("d", 1, uint8("a"), buffer("b", 2), uint8("p", array=2, pointer=True))
    s = {"a": 1, "b": b"\x00\xff", "p": [None, 3]}
    data = _enc("json", d, s)
    assert data == _enc("json", d, dict(reversed(list(s.items()))))
    assert json.loads(data) == {"device": "d", "version": 1, "attributes": [
        {"name": "a", "must": True, "value": {"integer": 1}},
        {"name": "b", "must": True, "value": {"octets": "00ff"}},
        {"name": "p", "must": True, "value": {"list": [{"null": None}, {"integer": 3}]}}]}


# ----------------------------------------------------------------------------- by name
OLD = device("d", 1, uint8("a"), uint8("c"), uint16("b"))


@pytest.mark.parametrize("wire", WIRES)
def test_swapped_same_size_fields_load_by_name(wire: str) -> None:
    new = device("d", 1, uint8("c"), uint8("a"), uint16("b"))
    assert _dec(wire, new, _enc(wire, OLD, {"a": 1, "c": 2, "b": 3})) == {"c": 2, "a": 1, "b": 3}


@pytest.mark.parametrize("wire", WIRES)
def test_widened_type_loads_exactly(wire: str) -> None:
    new = device("d", 1, uint16("a"), uint8("c"), uint16("b"))
    assert _dec(wire, new, _enc(wire, OLD, {"a": 200, "c": 2, "b": 3}))["a"] == 200


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize(("new", "state", "detail"), [
    (device("d", 1, int8("a"), uint8("c"), uint16("b")), {"a": 200, "c": 0, "b": 0},
     "200 is out of range of int8"),
    (device("d", 1, bool_("a"), uint8("c"), uint16("b")), {"a": 1, "c": 0, "b": 0},
     "bool expected, the stream has integer"),
    (device("d", 1, buffer("a", 1), uint8("c"), uint16("b")), {"a": 1, "c": 0, "b": 0},
     "a 1-byte buffer expected, the stream has integer"),
    (device("d", 1, uint8("a", array=1), uint8("c"), uint16("b")), {"a": 1, "c": 0, "b": 0},
     "an array expected, the stream has integer"),
    (device("d", 1, struct("a", device("s", 1, uint8("x"))), uint8("c"), uint16("b")),
     {"a": 1, "c": 0, "b": 0}, "a struct expected, the stream has integer"),
], ids=["range", "bool", "buffer", "array", "struct"])
def test_type_mismatch_is_refused(wire: str, new, state, detail: str) -> None:
    with pytest.raises(TypeMismatch) as e:
        _dec(wire, new, _enc(wire, OLD, state))
    assert detail in str(e.value) and e.value.path == ("a",) and e.value.device == "d"


@pytest.mark.parametrize("wire", WIRES)
def test_buffer_and_array_lengths_are_checked(wire: str) -> None:
    a = device("d", 1, buffer("x", 2), uint8("y", array=2))
    with pytest.raises(TypeMismatch, match="4-byte buffer expected, the stream has 2 bytes"):
        _dec(wire, device("d", 1, buffer("x", 4), uint8("y", array=2)),
             _enc(wire, a, {"x": b"ab", "y": [1, 2]}))
    with pytest.raises(TypeMismatch, match="an array of 3 expected, the stream has 2"):
        _dec(wire, device("d", 1, buffer("x", 2), uint8("y", array=3)),
             _enc(wire, a, {"x": b"ab", "y": [1, 2]}))


@pytest.mark.parametrize("wire", WIRES)
def test_unknown_must_parse_field_refused_skippable_skipped(wire: str) -> None:
    small = device("d", 1, uint8("a"))
    with pytest.raises(UnknownField) as e:
        _dec(wire, small, _enc(wire, device("d", 1, uint8("a"), uint8("x")), {"a": 1, "x": 2}))
    assert e.value.reason is Reason.UNKNOWN_FIELD and e.value.path == ("x",)
    with_default = device("d", 1, uint8("a"), uint8("x", default=0))
    assert _dec(wire, small, _enc(wire, with_default, {"a": 1, "x": 2})) == {"a": 1}


@pytest.mark.parametrize("wire", WIRES)
def test_absent_field_keeps_prior_then_default(wire: str) -> None:
    new = device("d", 1, uint8("a"), uint8("c"), uint16("b"), uint8("z"), uint8("w", default=9))
    data = _enc(wire, OLD, {"a": 1, "c": 2, "b": 3})
    assert _dec(wire, new, data, into={"z": 7}) == {"a": 1, "c": 2, "b": 3, "z": 7, "w": 9}
    assert _dec(wire, new, data, into={"w": 4})["w"] == 4


@pytest.mark.parametrize("wire", WIRES)
def test_versions_checked_as_on_the_legacy_wire(wire: str) -> None:
    v2 = device("d", 2, uint8("a"), minimum=2)
    v3 = device("d", 3, uint8("a"), minimum=3)
    with pytest.raises(VersionTooNew):
        _dec(wire, device("d", 1, uint8("a")), _enc(wire, v2, {"a": 1}), version=2)
    with pytest.raises(VersionTooOld):
        _dec(wire, v3, _enc(wire, v2, {"a": 1}), version=2)
    with pytest.raises(StreamError, match="the stream says version 2, the caller 3"):
        _dec(wire, v3, _enc(wire, v2, {"a": 1}), version=3)


@pytest.mark.parametrize("wire", WIRES)
def test_equal_checked(wire: str) -> None:
    d = device("d", 1, uint16_equal("m", default=0xBEEF))
    with pytest.raises(EqualMismatch, match="1 != beef"):
        _dec(wire, d, _enc(wire, d, {"m": 1}))


@pytest.mark.parametrize("wire", WIRES)
def test_device_name_and_subsections(wire: str) -> None:
    sub = device("d/s", 2, uint8("x"), uint8("y", version=2))
    with_sub = device("d", 1, uint8("a"), subsections=[subsection(sub)])
    plain = device("d", 1, uint8("a"))
    data = _enc(wire, with_sub, {"a": 1, "__subsections__": {"d/s": {"x": 1, "y": 2}}})
    with pytest.raises(UnknownSection):
        _dec(wire, device("e", 1, uint8("a")), data)
    with pytest.raises(UnknownSubsection, match="VM subsection 'd/s' in 'd' does not exist"):
        _dec(wire, plain, data)
    old_sub = device("d", 1, uint8("a"), subsections=[subsection(device("d/s", 1, uint8("x")))])
    with pytest.raises(VersionTooNew):
        _dec(wire, old_sub, data)
    # a needed subsection's fields are skippable: an older subsection skips a newer field
    newer = device("d", 1, uint8("a"), subsections=[subsection(sub, needed=True)])
    older = device("d", 1, uint8("a"), subsections=[
        subsection(device("d/s", 2, uint8("x")), needed=True)])
    data = _enc(wire, newer, {"a": 1, "__subsections__": {"d/s": {"x": 1, "y": 2}}})
    got = _dec(wire, older, data)
    assert got == {"a": 1, "__subsections__": {"d/s": {"x": 1}}}


def test_must_parse_rule() -> None:
    assert must_parse(uint8("a"), False)
    assert not must_parse(uint8("a", default=1), False)
    assert not must_parse(uint8("a"), True)


@pytest.mark.parametrize("wire", WIRES)
def test_null_pointers_come_from_the_stream(wire: str) -> None:
    d = device("d", 1, uint8("p", array=3, pointer=True))
    assert _dec(wire, d, _enc(wire, d, {"p": [None, 2, None]}), into={"p": [1, 1, 1]}) == {
        "p": [None, 2, None]}
    with pytest.raises(TypeMismatch, match="uint8 expected, the stream has null"):
        _dec(wire, device("d", 1, uint8("p", array=3)), _enc(wire, d, {"p": [None, 2, None]}))


@pytest.mark.parametrize("wire", WIRES)
def test_garbage_and_trailing_bytes(wire: str) -> None:
    d = device("d", 1, uint8("a"))
    data = _enc(wire, d, {"a": 1})
    with pytest.raises(TrailingData if wire == "ber" else StreamError):
        _dec(wire, d, data + b"\x00")
    for bad in (b"", b"\xff\x00", data[:-1]):
        with pytest.raises(LoadError):
            _dec(wire, d, bad)


@pytest.mark.parametrize("text", [
    '{"attributes":[{"must":true,"name":"a","value":{"integer":1.0}}],"device":"d","version":1}',
    '{"attributes":[],"device":"d","version":1,"version":1}',
    '{"attributes":[{"must":true,"name":"a","value":{"integer":true}}],"device":"d","version":1}',
    '{"attributes":[{"must":true,"name":"a","value":{"octets":"zz"}}],"device":"d","version":1}',
    '{"attributes":[{"must":true,"name":"a","value":{"integer":1,"boolean":true}}],'
    '"device":"d","version":1}',
])
def test_json_wire_refuses_malformed(text: str) -> None:
    with pytest.raises((StreamError, TypeMismatch)):
        _dec("json", device("d", 1, uint8("a"), buffer("b", 1, default=b"\0")), text.encode())


def test_json_integers_are_exact() -> None:
    d = device("d", 1, *(f for f in RICH.fields if f.name == "big"))
    assert b"18446744073709551615" in _enc("json", d, {"big": 2**64 - 1})
