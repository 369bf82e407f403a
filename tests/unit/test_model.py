"""The model: validation of descriptions, predicates, JSON (lossless), DSL, registries."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmcompat import descjson, dsl, predicates
from vmcompat.errors import ERRORS, InputError, LoadError, Reason
from vmcompat.model import Description, DeviceHistory, Feature, Field, Marker, Subsection
from vmcompat.types import COMPOSITE_TYPES, TYPES


def test_types_table_is_complete() -> None:
    assert set(TYPES) == {
        "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool",
        "timer", "uint8 equal", "uint16 equal", "int32 equal", "uint32 equal", "int64 equal",
        "int32 le"}
    assert TYPES["uint16 equal"].check == "equal" and TYPES["int32 le"].check == "le"
    assert all(t.size == {"b": 1, "h": 2, "i": 4, "q": 8, "?": 1}[t.fmt.lower()]
               for t in TYPES.values())
    assert TYPES["int8"].lo == -128 and TYPES["uint64"].hi == 2**64 - 1


def test_every_reason_has_an_error_class() -> None:
    assert set(ERRORS) == set(Reason)
    assert all(issubclass(c, LoadError) for c in ERRORS.values())


@pytest.mark.parametrize("kwargs,msg", [
    ({"type": "uint7"}, "unknown field type"),
    ({"type": "buffer"}, "needs a non-negative size"),
    ({"type": "struct"}, "needs a nested description"),
    ({"type": "uint8", "array_len": 2, "varray": "n"}, "either array_len or varray"),
    ({"type": "uint8", "pointer": True}, "pointer marks an array"),
    ({"type": "uint8", "marker": Marker()}, "marker applies to qtailq/qlist"),
])
def test_field_validation(kwargs: dict[str, object], msg: str) -> None:
    with pytest.raises(InputError, match=msg):
        Field("f", **kwargs)  # type: ignore[arg-type]


def test_description_validation() -> None:
    with pytest.raises(InputError, match="minimum_version_id 3 > version_id 2"):
        Description("d", 2, 3)
    with pytest.raises(InputError, match="duplicate field name"):
        dsl.device("d", 1, dsl.uint8("a"), dsl.uint8("a"))
    with pytest.raises(InputError, match="varray count field 'n'"):
        dsl.device("d", 1, dsl.uint8("v", varray="n"), dsl.uint8("n"))
    with pytest.raises(InputError, match="field version_id 3 > description version_id 2"):
        dsl.device("d", 2, dsl.uint8("a", version=3))
    # several unused buffers are fine (QEMU names them all "unused")
    dsl.device("d", 1, dsl.unused(2), dsl.unused(4))


def test_descriptions_are_immutable_values() -> None:
    d = dsl.device("d", 1, dsl.uint8("a"))
    with pytest.raises(AttributeError):
        d.version_id = 2  # type: ignore[misc]
    assert d == dsl.device("d", 1, dsl.uint8("a")) and hash(d) == hash(
        dsl.device("d", 1, dsl.uint8("a")))
    assert d.evolve(version_id=2).version_id == 2 and d.version_id == 1


def test_predicates() -> None:
    p = predicates.parse({"all": [{"field": "a", "op": "nonzero"},
                                  {"not": {"field": "b", "op": "eq", "value": 3}}]})
    assert p({"a": 1, "b": 2}) and not p({"a": 0, "b": 2}) and not p({"a": 1, "b": 3})
    assert p.reads() == {"a", "b"}
    assert predicates.parse(p.to_json()) == p
    assert predicates.parse({"any": [False, True]})({})
    with pytest.raises(InputError, match="malformed predicate"):
        predicates.parse({"field": "a", "op": "gt"})


FULL = dsl.device(
    "full", 3,
    dsl.uint8("n"), dsl.uint32("v", varray="n", version=2),
    dsl.struct_array("p", dsl.device("e", 1, dsl.uint8("x")), 2, pointer=True),
    dsl.qtailq("q", dsl.device("r", 1, dsl.uint8("retry", derived=True), dsl.uint8("t")),
               marker=Marker(more=(1, 2), end=0, field="retry")),
    dsl.gtree("g", dsl.device("k", 1, dsl.uint16("k")), dsl.device("v", 1, dsl.uint8("v"))),
    dsl.buffer("b", 2, default=b"\x00\x01"), dsl.unused(4), dsl.bitmap("m", 65),
    dsl.uint8("t", exists={"field": "n", "op": "zero"}), dsl.uint32_equal("e", default=4),
    dsl.uint8("c", immutable=True, broken=True),
    minimum=1, marshal={0: "nope"},
    subsections=[dsl.subsection(dsl.device("full/s", 1, dsl.int32_le("le")),
                                needed={"field": "n", "op": "eq", "value": 1})])


def test_description_json_is_lossless() -> None:
    obj = descjson.to_json(FULL)
    assert descjson.from_json(json.loads(json.dumps(obj))) == FULL
    assert descjson.to_json(descjson.from_json(obj)) == obj


def test_description_json_errors_name_device_and_field() -> None:
    obj = descjson.to_json(FULL)
    obj["fields"][0]["version_id"] = -1
    with pytest.raises(InputError) as ei:
        descjson.from_json(obj, file="x.json")
    assert str(ei.value).startswith("x.json: full.n: invalid description at fields/0/version_id")


def test_history_and_features() -> None:
    v1 = dsl.device("net", 1, dsl.uint8("a"))
    v2 = dsl.device("net", 2, dsl.uint8("a"), dsl.uint8("b", version=2), minimum=1)
    msix = Feature("msix", lambda d: d.evolve(subsections=(Subsection(
        dsl.device("net/msix", 1, dsl.uint16("vectors"))),)), since=2)
    h = DeviceHistory("net", (v1, v2), (msix,))
    assert h.version_ids == (1, 2) and h.latest is v2
    assert h.at(1, ("msix",)) == v1
    assert h.at(2, ("msix",)).subsection("net/msix") is not None
    with pytest.raises(InputError, match="no version 3"):
        h.at(3)
    with pytest.raises(InputError, match="strictly increasing"):
        DeviceHistory("net", (v2, v1))


def test_dsl_has_one_constructor_per_scalar_type() -> None:
    for name in TYPES:
        ctor = getattr(dsl, name.replace(" ", "_") if name != "bool" else "bool_")
        assert ctor("x").type == name
    assert {"buffer", "unused_buffer", "bitmap", "struct", "qtailq", "qlist", "gtree"} == set(
        COMPOSITE_TYPES)


def test_misspelt_type_name_suggests_the_nearest() -> None:
    with pytest.raises(InputError, match=r"unknown field type 'uint33' \(did you mean "
                                         r"'uint32', 'uint8' or 'int32'\?\)"):
        Field("f", "uint33")
    with pytest.raises(InputError, match=r"gtree key type 'uint3' is not a scalar type "
                                         r"\(did you mean 'uint32', 'uint8'"):
        Field("t", "gtree", struct=Description("e", 1), key="uint3")
    with pytest.raises(InputError, match=r"^f: unknown field type 'zzz'$"):
        Field("f", "zzz")


@given(st.sampled_from(sorted(TYPES)), st.integers(-(1 << 65), 1 << 65) | st.booleans())
def test_reads_back_only_when_the_bytes_give_the_same_value(name: str, value: Any) -> None:
    """The oracle's shortcut (a value read back as its own type, without its bytes) agrees
    with packing and unpacking wherever it is taken."""
    t = TYPES[name]
    if t.reads_back(value):
        fmt = struct.Struct(">" + t.fmt)
        assert t.from_int(fmt.unpack(fmt.pack(value))[0]) == value
        assert type(value) is int and t.integer


def test_reads_back_examples() -> None:
    u8, timer = TYPES["uint8"], TYPES["timer"]
    assert u8.reads_back(255) and not u8.reads_back(256) and not u8.reads_back(-1)
    assert not u8.reads_back(True) and not TYPES["bool"].reads_back(1)
    assert not timer.reads_back(0)
