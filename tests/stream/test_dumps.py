"""QEMU -dump-vmstate and vmdesc JSON as descriptions (vmcompat.dumps), on committed goldens."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vmcompat import dumps
from vmcompat.errors import InputError
from vmcompat.formats.legacy import decode_from
from vmcompat.model import Description
from vmcompat.sources import load_all
from vmcompat.stream.reader import read_stream

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "qemu-7.2"
DUMP = GOLDEN / "dumps" / "pc-i440fx-7.2.json"
VMDESC = GOLDEN / "vmdesc"
SHARED = Path("/work/shared/qemu-7.2")


@pytest.fixture(scope="module")
def raw_dump() -> dict:
    return json.loads(DUMP.read_text())


@pytest.fixture(scope="module")
def dump(raw_dump: dict) -> dict[str, Description]:
    return dumps.from_dump(raw_dump, str(DUMP))


@pytest.fixture(scope="module")
def vmdesc72() -> dict[str, Description]:
    return load_all(str(VMDESC / "pc-i440fx-7.2.json"))


def _field(d: Description, name: str):
    return d.field(name)


# ----------------------------------------------------------------------------- dumps
def test_load_all_reads_a_dump_by_device_type(dump: dict[str, Description]) -> None:
    found = load_all(str(DUMP))
    assert len(found) == 214 and set(found) == set(dump)
    assert found["isa-fdc"].name == "fdc"  # keyed by type, named by VMSD
    assert found["mc146818rtc"].version_id == 3 and found["mc146818rtc"].minimum_version_id == 1


def test_dump_round_trips_through_to_dump(raw_dump: dict, dump: dict[str, Description]) -> None:
    assert dumps.dump_machine(raw_dump) == "pc-i440fx-7.2"
    assert dumps.to_dump(dump, dumps.dump_machine(raw_dump)) == raw_dump


def test_dump_alone_guesses_buffers_and_says_so(dump: dict[str, Description]) -> None:
    fdc = dump["isa-fdc"].field("state").struct
    assert fdc is not None
    fifo = fdc.field("fifo")  # 512 bytes on the wire, the dump says 1
    assert (fifo.type, fifo.size, dumps.is_guess(fifo), dumps.c_size(fifo)) == ("buffer", 1,
                                                                               True, 1)
    rtc = dump["mc146818rtc"]
    assert [f.type for f in rtc.fields if f.name.startswith("unused")] == ["unused_buffer"] * 2
    assert [f.name for f in rtc.fields][:3] == ["cmos_data", "cmos_index", "unused[0]"]
    assert rtc.field("irq_coalesced").version_id == 2


def test_field_exists_is_an_unknown_test(dump: dict[str, Description]) -> None:
    pci = dump["i440FX"].field("parent_obj").struct
    assert pci is not None
    c0, c1 = pci.field("config[0]"), pci.field("config[1]")
    assert dumps.has_unknown_test(c0) and dumps.has_unknown_test(c1)
    assert c0.exists is not None and c0.exists.to_json() == {"field": "__test__config[0]",
                                                             "op": "nonzero"}
    assert not c0.exists({}) and c0.exists({"__test__config[0]": True})
    assert not dumps.has_unknown_test(pci.field("version_id"))


def test_subsection_needed_is_unknown(dump: dict[str, Description]) -> None:
    rtc = dump["mc146818rtc"]
    (sub,) = rtc.subsections
    assert sub.name == "mc146818rtc/irq_reinject_on_ack_count"
    assert dumps.has_unknown_needed(sub) and not sub.is_needed({})


def test_literal_bracket_names_survive(raw_dump: dict, dump: dict[str, Description]) -> None:
    ehci = dump["usb-ehci"].field(
        raw_dump["usb-ehci"]["Description"]["Fields"][1]["field"]).struct
    assert ehci is not None and "portsc[0]" in [f.name for f in ehci.fields]


def test_not_a_dump_is_bad_input() -> None:
    with pytest.raises(InputError):
        dumps.from_dump({"x": 1}, "f.json")
    with pytest.raises(InputError, match="expected 'version_id'"):
        dumps.from_dump({"t": {"Name": "t", "version_id": 1, "Description": {
            "name": "t", "minimum_version_id": 1}}})


# ----------------------------------------------------------------------------- vmdescs
def test_vmdesc_gives_wire_types(vmdesc72: dict[str, Description]) -> None:
    rtc = vmdesc72["mc146818rtc"]
    assert [(f.name, f.type) for f in rtc.fields][:4] == [
        ("cmos_data", "buffer"), ("cmos_index", "uint8"), ("unused[0]", "unused_buffer"),
        ("periodic_timer", "timer")]
    assert rtc.fixed_size() == 128 + 1 + 28 + 8 + 8 + 24 + 4 + 4 + 8 * 5
    assert set(vmdesc72) >= {"dma", "dma#1", "i8259", "i8259#1", "fdc", "cpu"}


def test_vmdesc_index_entries_become_one_array(vmdesc72: dict[str, Description]) -> None:
    state = vmdesc72["fdc"].field("state").struct
    assert state is not None
    drives = state.field("drives")
    assert drives.array_len == 2 and drives.struct is not None
    assert [s.name for s in drives.struct.subsections] == ["fdrive/media_rate"]
    assert state.field("fifo").array_len == 512


def test_vmdesc_special_types(vmdesc72: dict[str, Description]) -> None:
    cpu = vmdesc72["cpu"]
    fp = cpu.field("env.fpregs")
    assert fp.array_len == 8 and fp.struct is not None
    tmp = fp.struct.field("tmp")  # VMSTATE_WITH_TMP: inline fields
    assert tmp.type == "struct" and tmp.struct is not None and tmp.struct.name == "fpreg_tmp"
    pci = vmdesc72["0000:00:00.0/I440FX"].field("parent_obj").struct
    assert pci is not None
    assert (pci.field("config[0]").type, pci.field("config[0]").size) == ("buffer", 256)
    irq = pci.field("irq_state")
    assert (irq.type, irq.array_len) == ("int32", 4)
    assert pci.field("version_id").type == "int32 le"


def test_every_vmdesc_type_in_the_goldens_has_a_table_entry() -> None:
    seen: set[str] = set()

    def walk(node: dict) -> None:
        for f in node.get("fields", []):
            seen.add(f["type"])
            if "struct" in f:
                walk(f["struct"])
            if f["type"] == "tmp":
                walk(f)
        for s in node.get("subsections", []):
            walk(s)

    for p in VMDESC.parent.parent.glob("qemu-*/vmdesc/*.json"):
        for dev in json.loads(p.read_text())["devices"]:
            walk(dev)
    assert seen - set(dumps.VMDESC_TYPES) == set()
    assert {"pci config", "pci irq state", "tmp", "int32 le", "uint8 equal"} <= seen


def _vmdesc(fields: list[dict], subsections: list[dict] | None = None) -> dict:
    dev = {"name": "d", "instance_id": 0, "vmsd_name": "d", "version": 1, "fields": fields}
    if subsections is not None:
        dev["subsections"] = subsections
    return {"page_size": 4096, "devices": [dev]}


def test_unknown_vmdesc_type_becomes_a_buffer_of_its_size() -> None:
    d = dumps.from_vmdesc(_vmdesc([{"name": "q", "type": "qtailq", "size": 7}]))["d"]
    assert (d.field("q").type, d.field("q").size) == ("buffer", 7)
    assert "qtailq" in d.field("q").doc


def test_duplicate_names_and_differing_elements() -> None:
    s1 = {"vmsd_name": "e", "version": 1, "fields": [{"name": "a", "type": "uint8", "size": 1}]}
    s2 = {"vmsd_name": "e", "version": 1, "fields": [{"name": "a", "type": "uint16", "size": 2}]}
    d = dumps.from_vmdesc(_vmdesc([
        {"name": "unused[0]", "type": "unused_buffer", "size": 2},
        {"name": "unused[1]", "type": "unused_buffer", "size": 3},
        {"name": "x", "index": 0, "type": "struct", "struct": s1, "size": 1},
        {"name": "x", "index": 1, "type": "struct", "struct": s2, "size": 2},
    ]))["d"]
    assert [f.name for f in d.fields] == ["unused[0]", "unused[1]", "x#0", "x#1"]
    assert d.fixed_size() == 2 + 3 + 1 + 2


def test_union_of_element_subsections_keeps_order() -> None:
    def elem(subs: list[str]) -> dict:
        return {"vmsd_name": "e", "version": 1, "fields": [],
                "subsections": [{"vmsd_name": s, "version": 1, "fields": []} for s in subs]}

    d = dumps.from_vmdesc(_vmdesc([
        {"name": "x", "index": 0, "type": "struct", "struct": elem(["e/a", "e/c"]), "size": 0},
        {"name": "x", "index": 1, "type": "struct", "struct": elem(["e/b", "e/c"]), "size": 0},
    ]))["d"]
    x = d.field("x")
    assert x.array_len == 2 and x.struct is not None
    assert [s.name for s in x.struct.subsections] == ["e/a", "e/b", "e/c"]


def test_bad_vmdesc_is_bad_input() -> None:
    with pytest.raises(InputError):
        dumps.from_vmdesc({"page_size": 4096, "devices": [{"name": "d"}]})
    with pytest.raises(InputError, match="array_len"):
        dumps.from_vmdesc(_vmdesc([{"name": "a", "type": "uint8", "size": 1, "array_len": -1}]))


# ----------------------------------------------------------------------------- merge
def test_merge_takes_versions_from_the_dump_and_types_from_the_vmdesc(
        raw_dump: dict, dump: dict[str, Description], vmdesc72: dict[str, Description]) -> None:
    merged = dumps.merge_all(dump, vmdesc72)
    rtc = merged["mc146818rtc"]
    assert rtc.minimum_version_id == 1  # the vmdesc alone says 3
    assert rtc.field("irq_coalesced").version_id == 2
    assert rtc.field("cmos_index").type == "uint8"
    assert not dumps.is_guess(rtc.field("cmos_index"))
    assert dumps.to_dump({"mc146818rtc": rtc}) == {"mc146818rtc": raw_dump["mc146818rtc"]}


def test_merged_tests_default_to_what_the_vmdesc_showed(
        dump: dict[str, Description], vmdesc72: dict[str, Description]) -> None:
    pci = dumps.merge_all(dump, vmdesc72)["0000:00:00.0/I440FX"].field("parent_obj").struct
    assert pci is not None
    c0, c1 = pci.field("config[0]"), pci.field("config[1]")
    assert dumps.has_unknown_test(c0) and dumps.has_unknown_test(c1)
    assert c0.exists is not None and c0.exists({})  # sent in this stream
    assert c1.exists is not None and not c1.exists({})  # the pcie variant: not sent
    assert (c0.type, c1.type) == ("buffer", "buffer") and dumps.is_guess(c1)


def test_merged_description_decodes_the_stream_it_came_from(
        dump: dict[str, Description], vmdesc72: dict[str, Description]) -> None:
    data = (GOLDEN / "streams" / "pc-i440fx-7.2.bin").read_bytes()
    plain = read_stream(data)
    merged = read_stream(data, dump=dump)
    assert [s.payload for s in plain.sections] == [s.payload for s in merged.sections]
    rtc = [(a.state, b.state) for a, b in zip(plain.sections, merged.sections)
           if a.idstr == "mc146818rtc"]
    assert rtc and rtc[0][0] == rtc[0][1]
    pm = next(s.state for s in merged.sections if s.idstr.endswith("piix4_pm"))
    hp = pm["__subsections__"]["piix4_pm/memhp"]["acpi_memory_hotplug"]
    assert hp["devs"] == []  # no test, not in the vmdesc: an empty variable array


def test_merge_refuses_different_versions(dump: dict[str, Description]) -> None:
    rtc = dump["mc146818rtc"]
    with pytest.raises(InputError, match="vmdesc version"):
        dumps.merge(rtc, rtc.evolve(version_id=4))


def test_guessed_buffer_decodes_its_c_size(dump: dict[str, Description]) -> None:
    port92 = dump["port92"]
    _state, end = decode_from(port92, bytes(range(16)), port92.version_id)
    assert end == sum(f.size or 0 for f in port92.fields)


# ----------------------------------------------------------------------------- reference data
@pytest.mark.skipif(not SHARED.is_dir(), reason="reference data /work/shared/qemu-7.2 absent")
def test_reference_dump_equals_the_golden_and_round_trips() -> None:
    ref = json.loads((SHARED / "dump-vmstate-pc-7.2.json").read_text())
    assert ref == json.loads(DUMP.read_text())
    assert dumps.to_dump(dumps.from_dump(ref), dumps.dump_machine(ref)) == ref


@pytest.mark.skipif(not SHARED.is_dir(), reason="reference data /work/shared/qemu-7.2 absent")
def test_reference_vmdescs_load_and_merge() -> None:
    d = dumps.from_dump(json.loads((SHARED / "dump-vmstate-pc-7.2.json").read_text()))
    for p in sorted((SHARED / "vmdesc").glob("*.json")):
        v = load_all(str(p))
        assert v, p
        merged = dumps.merge_all(d, v)
        assert set(merged) == set(v)
    assert os.path.exists(SHARED / "vmdesc")


def test_deep_nesting_is_bad_input() -> None:
    node: dict = {"vmsd_name": "d", "version": 1, "fields": []}
    cur = node
    for _ in range(2000):
        nxt: dict = {"vmsd_name": "d", "version": 1, "fields": []}
        cur["fields"] = [{"name": "s", "type": "struct", "size": 0, "struct": nxt}]
        cur = nxt
    with pytest.raises(InputError, match="nested too deeply"):
        dumps.from_vmdesc({"page_size": 4096, "devices": [dict(node, name="d", instance_id=0)]})


def test_huge_array_len_is_refused() -> None:
    with pytest.raises(InputError, match="bad array_len"):
        dumps.from_vmdesc(_vmdesc([{"name": "a", "type": "uint8", "size": 1,
                                    "array_len": 1 << 40}]))


def test_vmdesc_file_works_as_a_desc_argument(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from vmcompat.cli import main

    data = (GOLDEN / "streams" / "pc-i440fx-7.2.bin").read_bytes()
    rtc = next(s for s in read_stream(data).sections if s.idstr == "mc146818rtc")
    payload = tmp_path / "rtc.bin"
    payload.write_bytes(data[rtc.payload[0]:rtc.payload[1]])
    r = CliRunner().invoke(main, ["decode", str(VMDESC / "pc-i440fx-7.2.json"), str(payload),
                                  "--device", "mc146818rtc", "--version-id", "3"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["cmos_data"] == rtc.state["cmos_data"].hex()


def test_provenance_is_compared_and_survives_description_json(
        dump: dict[str, Description]) -> None:
    """A guessed buffer is not the same field as a typed buffer of the same size, and a
    description written as JSON and read back keeps what the import knew."""
    from dataclasses import replace

    from vmcompat import descjson

    rtc = dump["mc146818rtc"]
    guessed = rtc.field("cmos_index")
    assert dumps.is_guess(guessed)
    assert guessed != replace(guessed, provenance=None)
    assert dumps.c_size(replace(guessed, provenance=None)) is None
    assert descjson.from_json(descjson.to_json(rtc)) == rtc
    unused = rtc.field("unused[0]")
    assert unused.provenance is not None and unused.provenance.qemu_name == "unused"
