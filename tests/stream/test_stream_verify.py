"""``stream verify``: clean goldens pass, each structural corruption fails, field data changes pass;
typed load errors with QEMU's wording; hostile mutations raise only typed errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from vmcompat import dumps
from vmcompat.cli import main
from vmcompat.errors import InputError, LoadError, UnknownSubsection, VersionTooNew, VersionTooOld
from vmcompat.strategies import streams as corrupt
from vmcompat.strategies.streams import KINDS, STRUCTURAL, analyse, corrupt_streams
from vmcompat.stream.reader import read_stream
from vmcompat.stream.verify import verify

FOOTERED = ("pc-i440fx-7.2", "pc-q35-7.2", "pc-i440fx-2.4")
UNFOOTERED = ("pc-i440fx-2.3", "pc-i440fx-1.4")


@pytest.fixture(scope="module")
def analyses(golden_bytes: dict[str, bytes]) -> dict[str, corrupt.Analysis]:
    return {m: analyse(golden_bytes[m]) for m in FOOTERED + UNFOOTERED}


@pytest.fixture(scope="module")
def damage(golden_bytes: dict[str, bytes]) -> dict[tuple[str, str], st.SearchStrategy]:
    """One strategy per (machine, group): the stream is analysed once, not per example."""
    groups = {"structural": STRUCTURAL, "data": ("data_byte",),
              "hostile": ("mutate_bytes", "truncate")}
    return {(m, g): corrupt_streams(golden_bytes[m], kinds=kinds)
            for m in FOOTERED + UNFOOTERED for g, kinds in groups.items()}


def test_every_golden_verifies_clean(golden_path: Path, vmdesc_for) -> None:
    assert verify(golden_path.read_bytes(), vmdesc_from=vmdesc_for(golden_path)) == []


def test_reference_streams_verify_clean(shared_path: Path, shared_vmdesc_for) -> None:
    assert verify(shared_path.read_bytes(), vmdesc_from=shared_vmdesc_for(shared_path)) == []


def _fails(data: bytes, *words: str) -> list[str]:
    defects = verify(data)
    assert defects, "verify passed a corrupted stream"
    text = "\n".join(defects)
    for w in words:
        assert w in text, text
    return defects


@pytest.mark.parametrize("machine", FOOTERED + UNFOOTERED)
def test_dropped_section_fails(analyses: dict[str, corrupt.Analysis], machine: str) -> None:
    a = analyses[machine]
    i = next(sp.index for sp in a.devices if sp.key[0] == "mc146818rtc")
    _fails(corrupt.drop_section(a, i).data, "'mc146818rtc' instance 0", "missing")


@pytest.mark.parametrize("machine", FOOTERED + UNFOOTERED)
def test_duplicated_section_fails(analyses: dict[str, corrupt.Analysis], machine: str) -> None:
    a = analyses[machine]
    _fails(corrupt.duplicate_section(a, 3).data, "appears 2 times")


@pytest.mark.parametrize("machine", FOOTERED + UNFOOTERED)
def test_swapped_sections_fail(analyses: dict[str, corrupt.Analysis], machine: str) -> None:
    _fails(corrupt.swap_sections(analyses[machine], 4).data, "out of order")


@pytest.mark.parametrize("machine", FOOTERED + UNFOOTERED)
def test_dropped_subsection_fails(analyses: dict[str, corrupt.Analysis], machine: str) -> None:
    a = analyses[machine]
    subs = corrupt.with_subsections(a)
    assert subs, f"{machine} sends no top-level subsection"
    for i, name in subs[:3]:
        _fails(corrupt.drop_subsection(a, i, name).data, f"subsection '{name}'",
               "was not sent")


@pytest.mark.parametrize("machine", FOOTERED + UNFOOTERED)
def test_trailing_garbage_fails(analyses: dict[str, corrupt.Analysis], machine: str) -> None:
    _fails(corrupt.trailing_garbage(analyses[machine], b"\x00junk").data, "5 bytes after")


@pytest.mark.parametrize("machine", FOOTERED + UNFOOTERED)
def test_garbage_vmdesc_fails(analyses: dict[str, corrupt.Analysis], machine: str) -> None:
    _fails(corrupt.garbage_vmdesc(analyses[machine], b"{not json").data, "vmdesc")


@pytest.mark.parametrize("machine", FOOTERED + UNFOOTERED)
def test_truncated_stream_fails(analyses: dict[str, corrupt.Analysis], machine: str) -> None:
    a = analyses[machine]
    for cut in (len(a.data) - 1, a.devices[-1].start + 3, a.devices[0].start, 100, 9):
        assert verify(corrupt.truncate(a, cut).data), cut


@pytest.mark.parametrize("machine", FOOTERED)
def test_wrong_footer_id_fails(analyses: dict[str, corrupt.Analysis], machine: str) -> None:
    _fails(corrupt.wrong_footer_id(analyses[machine], 2).data,
           "Mismatched section id in footer for")


@pytest.mark.parametrize("machine", FOOTERED + UNFOOTERED)
def test_data_byte_changes_pass(analyses: dict[str, corrupt.Analysis], machine: str) -> None:
    a = analyses[machine]
    plain = corrupt.plain_devices(a)
    assert plain
    for i in range(0, len(plain), max(1, len(plain) // 4)):
        for k, value in ((0, 0x00), (7, 0xFF), (1 << 10, 0x05), (3, 0x7E)):
            c = corrupt.data_byte(a, i, k, value)
            assert verify(c.data) == [], c.detail
    rtc = next(sp for sp in a.devices if sp.key[0] == "mc146818rtc")
    out = bytearray(a.data)
    out[rtc.payload[0] + 0x10] ^= 0xFF  # cmos_data[0x10]
    assert verify(bytes(out)) == []


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_strategy_structural_damage_always_fails_verify(damage: dict, data: st.DataObject
                                                         ) -> None:
    machine = data.draw(st.sampled_from(FOOTERED + UNFOOTERED))
    c = data.draw(damage[machine, "structural"])
    assert c.kind in STRUCTURAL
    assert verify(c.data), f"{machine}: {c.detail}"


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_strategy_data_bytes_always_pass(damage: dict, data: st.DataObject) -> None:
    machine = data.draw(st.sampled_from(FOOTERED + UNFOOTERED))
    c = data.draw(damage[machine, "data"])
    assert verify(c.data) == [], c.detail


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_mutations_raise_only_typed_errors(damage: dict, data: st.DataObject) -> None:
    machine = data.draw(st.sampled_from(FOOTERED + UNFOOTERED))
    c = data.draw(damage[machine, "hostile"])
    try:
        read_stream(c.data)
    except (LoadError, InputError):
        pass
    verify(c.data)  # never raises: every problem is a defect line


def test_unknown_kind_is_refused(golden_bytes: dict[str, bytes]) -> None:
    with pytest.raises(ValueError, match="unknown corruption kinds"):
        corrupt_streams(golden_bytes["pc-i440fx-7.2"], kinds=("nope",))
    assert set(STRUCTURAL) < set(KINDS)


# ----------------------------------------------------------------------------- typed errors
def _version_at(a: corrupt.Analysis, idstr: str) -> int:
    sp = next(sp for sp in a.devices if sp.key[0] == idstr)
    return sp.start + 1 + 4 + 1 + len(idstr) + 4


def _set_version(data: bytes, at: int, v: int) -> bytes:
    return data[:at] + v.to_bytes(4, "big") + data[at + 4:]


def test_section_version_too_new(analyses: dict[str, corrupt.Analysis]) -> None:
    a = analyses["pc-i440fx-7.2"]
    bad = _set_version(a.data, _version_at(a, "mc146818rtc"), 4)
    with pytest.raises(VersionTooNew, match="incoming version_id 4 is too new for local "
                                            "version_id 3"):
        read_stream(bad)


def test_section_version_too_old(analyses: dict[str, corrupt.Analysis], golden_dir: Path
                                 ) -> None:
    a = analyses["pc-i440fx-7.2"]
    bad = _set_version(a.data, _version_at(a, "mc146818rtc"), 0)
    dump = dumps.from_dump(json.loads((golden_dir / "dumps" / "pc-i440fx-7.2.json").read_text()))
    with pytest.raises(VersionTooOld, match="incoming version_id 0 is too old for local "
                                            "minimum version_id 1"):
        read_stream(bad, dump=dump)
    with pytest.raises(VersionTooOld, match="too old for local minimum version_id 3"):
        read_stream(_set_version(a.data, _version_at(a, "mc146818rtc"), 2))


def test_unknown_subsection(analyses: dict[str, corrupt.Analysis]) -> None:
    a = analyses["pc-i440fx-7.2"]
    i, name = corrupt.with_subsections(a)[0]
    sp = a.devices[i]
    raw = name.encode()
    at = a.data.index(raw, sp.payload[0], sp.payload[1])
    other = name[:-1] + ("x" if name[-1] != "x" else "y")
    bad = a.data[:at] + other.encode() + a.data[at + len(raw):]
    with pytest.raises(UnknownSubsection,
                       match=f"VM subsection '{other}' in '{sp.section.vmsd_name}' "
                             "does not exist"):
        read_stream(bad)
    assert any("does not exist" in d for d in verify(bad))


def test_verify_with_a_dump(golden_path: Path, vmdesc_for, golden_dir: Path) -> None:
    dump = dumps.from_dump(json.loads((golden_dir / "dumps" / "pc-i440fx-7.2.json").read_text()))
    assert verify(golden_path.read_bytes(), dump=dump, vmdesc_from=vmdesc_for(golden_path)) == []


# ----------------------------------------------------------------------------- CLI
def test_cli_verify_exit_codes(tmp_path: Path, golden_dir: Path,
                               analyses: dict[str, corrupt.Analysis]) -> None:
    runner = CliRunner()
    good = golden_dir / "streams" / "pc-i440fx-7.2.bin"
    r = runner.invoke(main, ["stream", "verify", str(good), "--desc",
                             str(golden_dir / "dumps" / "pc-i440fx-7.2.json")])
    assert r.exit_code == 0 and r.stdout == ""
    bad = tmp_path / "bad.bin"
    a = analyses["pc-i440fx-7.2"]
    swapped = analyse(corrupt.swap_sections(a, 4).data)
    bad.write_bytes(corrupt.trailing_garbage(swapped, b"zz").data)
    r = runner.invoke(main, ["stream", "verify", str(bad)])
    assert r.exit_code == 1
    lines = r.output.strip().splitlines()
    assert len(lines) == 2 and all(ln.startswith(str(bad)) for ln in lines)
    r = runner.invoke(main, ["stream", "verify", str(tmp_path / "missing.bin")])
    assert r.exit_code == 2
    r2 = runner.invoke(main, ["stream", "verify", str(good), "--vmdesc-from",
                              str(tmp_path / "missing.json")])
    assert r2.exit_code == 2


def test_unusable_own_vmdesc_is_a_stream_defect(golden_bytes: dict[str, bytes]) -> None:
    data = golden_bytes["pc-i440fx-7.2"]
    bad = data.replace(b'"name": "cmos_index"', b'"name": "cmos_data" ', 1)
    assert verify(bad) == ["stream: the stream's vmdesc is unusable: "
                           "mc146818rtc.cmos_data: duplicate field name"]


def test_deeply_nested_vmdesc_is_a_typed_error(golden_bytes: dict[str, bytes]) -> None:
    data = golden_bytes["pc-i440fx-7.2"]
    v = read_stream(data).vmdesc
    assert v is not None
    deep = b'{"page_size": 4096, "devices": [' + b"[" * 100000 + b"]" * 100000 + b"]}"
    bad = data[:len(data) - len(v.raw) - 4] + len(deep).to_bytes(4, "big") + deep
    with pytest.raises(LoadError):
        read_stream(bad)
    assert verify(bad)


def test_cli_verify_says_what_was_checked_against_desc(golden_dir: Path) -> None:
    """Before, nothing said which sections a --desc file was used for."""
    good = golden_dir / "streams" / "pc-i440fx-7.2.bin"
    dump = golden_dir / "dumps" / "pc-i440fx-7.2.json"
    r = CliRunner().invoke(main, ["stream", "verify", str(good), "--desc", str(dump)])
    assert r.exit_code == 0 and r.stdout == ""
    assert r.stderr.startswith(f"vmcompat: 21 of 30 sections checked against the descriptions "
                               f"in {dump}: I440FX, PCIHost, PIIX3, ")
    r = CliRunner().invoke(main, ["stream", "verify", str(good), "--desc", "catalog:ps2kbd@3"])
    assert r.exit_code == 0
    assert r.stderr == ("vmcompat: 1 of 30 sections checked against the descriptions in "
                        "catalog:ps2kbd@3: ps2kbd\n")


def test_cli_verify_with_an_unrelated_desc_exits_2(tmp_path: Path, golden_dir: Path) -> None:
    """Before: exit 0, silently checking nothing."""
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"name": "nosuchdevice", "version_id": 1,
                                 "minimum_version_id": 1,
                                 "fields": [{"name": "a", "type": "uint8"}]}))
    good = golden_dir / "streams" / "pc-i440fx-7.2.bin"
    r = CliRunner().invoke(main, ["stream", "verify", str(good), "--desc", str(other)])
    assert r.exit_code == 2
    assert r.stderr == (f"vmcompat: {other}: describes none of the 30 sections of {good}, by "
                        f"VMSD name: nothing would be checked against it\n")


@pytest.mark.parametrize("edit,needle", [
    (lambda e: e["Description"]["Fields"][1].update(version_id=7),
     "mc146818rtc.cmos_index: field version_id 7 > description version_id 3"),
    (lambda e: (e.update(version_id=4), e["Description"].update(version_id=4)),
     "mc146818rtc: does not fit the stream's vmdesc: vmdesc version 3 != dump version 4"),
])
def test_cli_verify_names_the_desc_file_on_a_dump_problem(tmp_path: Path, golden_dir: Path,
                                                         edit, needle: str) -> None:
    """A field or version problem of the dump names the dump file (before: no file, or a
    stream defect blaming the stream)."""
    obj = json.loads((golden_dir / "dumps" / "pc-i440fx-7.2.json").read_text())
    edit(obj["mc146818rtc"])
    bad = tmp_path / "dump.json"
    bad.write_text(json.dumps(obj))
    good = golden_dir / "streams" / "pc-i440fx-7.2.bin"
    r = CliRunner().invoke(main, ["stream", "verify", str(good), "--desc", str(bad)])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"vmcompat: {bad}: {needle}\n"
