"""Each internal error the hostile-input fuzzer found (issue 10, section 3), from a minimal
reproducer: a typed error now, exit 2 for bad input (exit 1 where ``stream verify`` reports a
stream defect), one line, never "internal error"."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hostile_inputs import GOLDEN, cli, with_vmdesc

from vmcompat import descjson, dumps, schema
from vmcompat.dsl import device, qtailq, struct, uint8, uint32
from vmcompat.errors import InputError, LoadError, StreamError, Truncated
from vmcompat.formats import FORMATS
from vmcompat.limits import MAX_FIELDS, MAX_JSON_DEPTH, MAX_NESTING
from vmcompat.model import Description, Field, Marker
from vmcompat.stream import find_vmdesc, from_document, verify
from vmcompat.stream.document import FORMAT

STREAMS = GOLDEN / "streams"


def vmdesc(*fields: dict[str, Any], name: Any = "d") -> dict[str, Any]:
    return {"page_size": 4096, "devices": [
        {"name": name, "instance_id": 0, "vmsd_name": "d", "version": 1, "fields": list(fields)}]}


def write(tmp_path: Path, name: str, obj: Any) -> str:
    p = tmp_path / name
    p.write_text(json.dumps(obj))
    return str(p)


# ----------------------------------------------------------------------------- vmdesc import
def test_vmdesc_index_not_from_zero_is_bad_input(tmp_path: Path) -> None:
    v = vmdesc({"name": "a", "type": "uint8", "size": 1, "index": 1})
    with pytest.raises(InputError, match=r"d\.a: array element index 1, expected 0"):
        dumps.from_vmdesc(v)
    r = cli("schema", write(tmp_path, "v.json", v))
    assert r.exit_code == 2 and "array element index 1" in r.output


@pytest.mark.parametrize("name", [True, 1.5, -1])
def test_non_string_device_names_render(tmp_path: Path, name: Any) -> None:
    with pytest.raises(InputError, match=f"^{re.escape(str(name))}: "):
        dumps.from_vmdesc(vmdesc(name=name))
    bad = {"name": name, "version_id": 1, "fields": []}
    with pytest.raises(InputError, match="is not of type 'string'"):
        descjson.from_json(bad)
    assert cli("schema", write(tmp_path, "d.json", bad)).exit_code == 2
    assert str(StreamError(device=name, detail="x")).startswith(str(name))  # type: ignore[arg-type]


def test_vmdesc_listing_a_device_twice_is_a_stream_defect(tmp_path: Path) -> None:
    data = (STREAMS / "pc-i440fx-7.2.bin").read_bytes()
    v = find_vmdesc(data)
    assert v is not None
    obj = dict(v.obj)
    obj["devices"] = [*obj["devices"], obj["devices"][-1]]
    bad = with_vmdesc(data, obj)
    assert verify(bad) == ["the vmdesc lists section 'globalstate' instance 0 2 times"]
    p = tmp_path / "twice.bin"
    p.write_bytes(bad)
    assert cli("stream", "verify", str(p)).exit_code == 1


# ----------------------------------------------------------------------------- payloads
def test_asn1tools_faults_are_typed(tmp_path: Path) -> None:
    d = descjson.from_json({"name": "d", "version_id": 1, "fields": []})
    # a primitive UTF8String with the indefinite length form: asn1tools raises TypeError
    with pytest.raises(StreamError, match="not a BER VMState device"):
        FORMATS["ber"].decode(d, bytes.fromhex("30028080"), 1)
    p = tmp_path / "p.ber"
    p.write_bytes(bytes.fromhex("30028080"))
    r = cli("decode", "catalog:scsi-disk@1", str(p), "--version-id", "1", "--wire", "ber")
    assert r.exit_code == 1 and "not a BER VMState device" in r.output


# ----------------------------------------------------------------------------- descriptions
def nested(n: int, kind: str) -> dict[str, Any]:
    d: dict[str, Any] = {"name": "leaf", "version_id": 1,
                         "fields": [{"name": "x", "type": "uint8"}]}
    for i in range(n):
        if kind == "struct":
            d = {"name": f"s{i}", "version_id": 1,
                 "fields": [{"name": "f", "type": "struct", "struct": d}]}
        else:
            d = {"name": f"s{i}", "version_id": 1, "fields": [], "subsections": [d]}
    return d


@pytest.mark.parametrize(("n", "kind"), [(100, "struct"), (300, "subsection")])
def test_deep_nesting_is_refused_with_the_limit(tmp_path: Path, n: int, kind: str) -> None:
    obj = nested(n, kind)
    with pytest.raises(InputError, match=f"nested deeper than {MAX_JSON_DEPTH} JSON levels"):
        descjson.from_json(obj)
    r = cli("schema", write(tmp_path, "deep.json", obj))
    assert r.exit_code == 2 and f"nested deeper than {MAX_JSON_DEPTH}" in r.output


def test_nesting_limit_holds_for_descriptions_made_any_way() -> None:
    d = device("leaf", 1, uint8("x"))
    for i in range(MAX_NESTING - 1):
        d = device(f"s{i}", 1, struct("f", d))
    assert d.nesting == MAX_NESTING
    schema.schema(d)  # the limit itself works everywhere
    with pytest.raises(InputError, match=f"nested deeper than {MAX_NESTING} levels"):
        device("top", 1, struct("f", d))


def test_json_deeper_than_the_parser_is_bad_input(tmp_path: Path) -> None:
    p = tmp_path / "deep.json"
    p.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nested deeper than"):
        descjson.read_json(str(p))


def test_non_integer_marshal_key() -> None:
    with pytest.raises(InputError, match="marshal key 'x' is not a version number"):
        descjson.from_json({"name": "d", "version_id": 1, "marshal": {"x": "f"}})


@pytest.mark.parametrize("n", [2**31, 2**63])
def test_huge_array_len_is_refused(n: int) -> None:
    with pytest.raises(InputError, match=f"array_len {n} is outside"):
        descjson.from_json({"name": "d", "version_id": 1,
                            "fields": [{"name": "a", "type": "uint8", "array_len": n}]})


@pytest.mark.parametrize("default", [300, -1, "x", 1.5, True, [1]])
def test_bad_default_is_refused(tmp_path: Path, default: Any) -> None:
    desc = {"name": "d", "version_id": 1,
            "fields": [{"name": "a", "type": "uint8", "default": default}]}
    with pytest.raises(InputError, match=r"d\.a: default .* is not a uint8 value"):
        descjson.from_json(desc)
    r = cli("encode", write(tmp_path, "d.json", desc), write(tmp_path, "s.json", {}),
            "-o", str(tmp_path / "out.bin"))
    assert r.exit_code == 2 and not (tmp_path / "out.bin").exists()


def test_default_of_an_array_or_struct_is_refused() -> None:
    with pytest.raises(InputError, match="not to an array"):
        Field("a", "uint8", array_len=2, default=[0, 0])
    with pytest.raises(InputError, match="not to type 'struct'"):
        Field("a", "struct", struct=device("e", 1), default={})
    with pytest.raises(InputError, match="must be 2 bytes"):
        Field("b", "buffer", size=2, default=b"\0")


def test_sentinel_naming_a_missing_field(tmp_path: Path) -> None:
    elem = {"name": "e", "version_id": 1, "fields": [{"name": "num", "type": "uint32"}]}
    desc = {"name": "d", "version_id": 1, "fields": [
        {"name": "q", "type": "qtailq", "struct": elem, "marker": {"sentinel": "nope"}}]}
    with pytest.raises(InputError, match=r"d\.q: marker sentinel 'nope' must name"):
        descjson.from_json(desc)
    assert cli("schema", write(tmp_path, "d.json", desc)).exit_code == 2


def test_marker_field_and_bytes_are_checked() -> None:
    elem = device("e", 1, uint32("num"), uint8("flag"))
    with pytest.raises(InputError, match="marker field 'nope' is not a scalar field"):
        qtailq("q", elem, marker=Marker(field="nope"))
    with pytest.raises(InputError, match="marker sentinel 'flag' must name the first field"):
        qtailq("q", elem, marker=Marker(sentinel="flag"))
    with pytest.raises(InputError, match="marker bytes"):
        qtailq("q", elem, marker=Marker(more=(256,)))
    assert qtailq("q", elem, marker=Marker(sentinel="num")).marker is not None


def test_a_field_named_like_the_subsections_key_is_refused() -> None:
    # found by the fuzzer: the state's "__subsections__" key was taken for the field
    with pytest.raises(InputError, match="'__subsections__' is reserved"):
        descjson.from_json({"name": "d", "version_id": 1, "fields": [
            {"name": "__subsections__", "type": "uint32", "array_len": 2}]})


def test_wire_names_and_versions_are_checked() -> None:
    sub = device("d/" + "x" * 300, 1)
    with pytest.raises(InputError, match="subsection name: 302 bytes long, longer than 255"):
        device("d", 1, subsections=[sub])
    with pytest.raises(InputError, match="subsection name: not a latin-1 name"):
        device("d", 1, subsections=[device("d/\u20ac", 1)])
    with pytest.raises(InputError, match="version_id 4294967296 is outside"):
        Description("d", 1 << 32)


def test_too_many_fields_is_refused_and_the_limit_renders(tmp_path: Path) -> None:
    def desc(n: int) -> dict[str, Any]:
        return {"name": "big", "version_id": 1,
                "fields": [{"name": f"f{i}", "type": "uint8"} for i in range(n)]}
    r = cli("schema", write(tmp_path, "huge.json", desc(200_000)))
    assert r.exit_code == 2 and f"over the limit of {MAX_FIELDS}" in r.output
    r = cli("schema", write(tmp_path, "big.json", desc(MAX_FIELDS)))
    assert r.exit_code == 0 and len(json.loads(r.output)["required"]) == MAX_FIELDS
    with pytest.raises(InputError, match=f"over the limit of {MAX_FIELDS}"):
        device("d", 1, *(struct(f"s{i}", device("e", 1, uint8("a"), uint8("b")))
                         for i in range(MAX_FIELDS // 2)))


# ----------------------------------------------------------------------------- stream documents
def document(*blocks: Any, block: Any = "pc.ram", machine: Any = "pc") -> dict[str, Any]:
    return {"format": FORMAT, "header": {"magic": "QEVM", "version": 3}, "layout": "2.4",
            "page_size": 4096, "configuration": {"machine": machine},
            "sections": [{"type": "start", "section_id": 0, "idstr": "ram", "instance_id": 0,
                          "version_id": 4,
                          "ram": [{"mem_size": 4096, "blocks": list(blocks)},
                                  {"zero": 0, "count": 1, "block": block}, {"eos": True}]}],
            "eof": True, "vmdesc": None}


@pytest.mark.parametrize(("doc", "message"), [
    (document(["pc.ram", -1]), "length -1 is out of range"),
    (document(["x" * 256, 4096]), "idstr: 256 bytes long, longer than 255"),
    (document(["pc.ram\u20ac", 4096]), "idstr: not a latin-1 name"),
    (document(["pc.ram", 4096], block="x" * 256), "block: 256 bytes long"),
    (document(["pc.ram", 4096], block="\u20ac"), "block: not a latin-1 name"),
    (document(["pc.ram", 4096], machine="pc-\u20ac"), "machine: not a latin-1 name"),
    ({**document(["pc.ram", 4096]), "vmdesc_text": "{\ud800}"},
     "vmdesc_text: not UTF-8 text: surrogates not allowed at character 1"),
])
def test_stream_encode_of_hostile_documents(tmp_path: Path, doc: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        from_document(doc)
    out = tmp_path / "s.bin"
    r = cli("stream", "encode", write(tmp_path, "doc.json", doc), "-o", str(out))
    assert r.exit_code == 2 and message in r.output and not out.exists()


def test_good_document_still_encodes(tmp_path: Path) -> None:
    r = cli("stream", "encode", write(tmp_path, "doc.json", document(["pc.ram", 4096])),
            "-o", str(tmp_path / "s.bin"))
    assert r.exit_code == 0, r.output


def test_run_past_the_address_space(tmp_path: Path) -> None:
    doc = document(["pc.ram", 4096])
    doc["sections"][0]["ram"][1] = {"zero": (1 << 64) - 4096, "count": 2}
    with pytest.raises(InputError, match="past the 64-bit address space"):
        from_document(doc)


# ----------------------------------------------------------------------------- typed to the end
def test_truncated_fixed_arrays_are_load_errors() -> None:
    d = descjson.from_json({"name": "d", "version_id": 1, "fields": [
        {"name": f"a{i}", "type": "uint8", "array_len": 1 << 20} for i in range(4)]})
    with pytest.raises(Truncated, match=r"d\.a0 @0: .*need 1048576 bytes, 2 left"):
        FORMATS["legacy"].decode(d, b"\0\0", 1)
    assert issubclass(Truncated, LoadError)


# ----------------------------------------------------------------------------- hangs
@pytest.mark.parametrize("wire", ["json", "ber"])
def test_self_describing_arrays_are_read_in_linear_work(monkeypatch: pytest.MonkeyPatch,
                                                        wire: str) -> None:
    # found by the fuzzer: each element asked its array node for its kind again, and the
    # JSON wire formats a repr of the whole node each time: 4000 elements took 18 s
    d = device("d", 1, uint8("a", array=500))
    data = FORMATS[wire].encode(d, {"a": [7] * 500})
    dialect = _selfdesc_dialect(wire)
    asked: list[int] = []
    kind = dialect.kind

    def counting(node: Any) -> Any:
        got = kind(node)
        if got[0] == "list":
            asked.append(len(got[1]))
        return got

    monkeypatch.setattr(dialect, "kind", counting)
    assert FORMATS[wire].decode(d, data, 1, None) == {"a": [7] * 500}
    assert asked.count(500) <= 2  # asked per array (reading, counting), not per element


def _selfdesc_dialect(wire: str) -> Any:
    from vmcompat.formats import ber, jsonwire

    return {"ber": ber.DIALECT, "json": jsonwire.DIALECT}[wire]
