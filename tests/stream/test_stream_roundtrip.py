"""Whole streams decode and re-encode byte for byte (library, CLI); edits touch only their bytes."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from vmcompat.cli import main
from vmcompat.errors import InputError, StreamError, Truncated
from vmcompat.stream.document import from_document, to_document
from vmcompat.stream.layout import LAYOUT_2_0, LAYOUT_2_3, LAYOUT_2_4, for_machine
from vmcompat.stream.model import PageRun, ZeroRun
from vmcompat.stream.reader import read_stream
from vmcompat.stream.source import open_source
from vmcompat.stream.writer import to_bytes


def test_golden_stream_round_trips(golden_path: Path, vmdesc_for) -> None:
    path = golden_path
    data = path.read_bytes()
    s = read_stream(data, vmdesc_from=vmdesc_for(path))
    assert to_bytes(s) == data
    assert all(x.raw is None for x in s.sections)  # every payload is canonical
    doc = json.loads(json.dumps(to_document(s)))  # inline page hex, through real JSON
    assert to_bytes(from_document(doc)) == data


def test_reference_stream_round_trips(shared_path: Path, shared_vmdesc_for) -> None:
    outside = shared_vmdesc_for(shared_path)
    with open_source(str(shared_path)) as data:
        s = read_stream(data, vmdesc_from=outside)
        assert to_bytes(s) == bytes(data)
        del s


def test_layouts_follow_the_machine_type(golden_bytes: dict[str, bytes], golden_dir: Path
                                        ) -> None:
    v23 = json.loads((golden_dir / "vmdesc" / "pc-i440fx-2.3.json").read_text())
    seen = {m: read_stream(b, vmdesc_from=v23 if m.endswith("2.0") else None).layout
            for m, b in golden_bytes.items()}
    assert seen["pc-i440fx-7.2"] == seen["pc-q35-7.2"] == seen["pc-i440fx-2.4"] == LAYOUT_2_4
    assert seen["pc-i440fx-2.3"] == LAYOUT_2_3 and seen["pc-i440fx-2.0"] == LAYOUT_2_0
    for m in ("pc-i440fx-2.4", "pc-i440fx-2.0", "pc-q35-7.2"):
        assert for_machine(m) == seen[m]
    assert (for_machine("pc-i440fx-1.4").vmdesc, for_machine("pc-i440fx-2.2").vmdesc) == (
        True, False)


def test_ram_is_summarised(golden_bytes: dict[str, bytes]) -> None:
    s = read_stream(golden_bytes["pc-i440fx-7.2"])
    ram = [r for x in s.sections if x.ram is not None for r in x.ram]
    zero = sum(r.count for r in ram if isinstance(r, ZeroRun))
    pages = sum(r.count for r in ram if isinstance(r, PageRun))
    assert zero + pages >= 32 * 1024 * 1024 // 4096  # every guest page is accounted for
    assert len(ram) < 200  # runs, not one object per page
    assert s.configuration is not None and s.configuration.machine == "pc-i440fx-7.2"


def _cli(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.output + (r.stderr if r.stderr_bytes is not None else "")


def test_cli_decode_encode_is_identity(golden_path: Path, tmp_path: Path, vmdesc_for,
                                      golden_dir: Path) -> None:
    path = golden_path
    out = tmp_path / "s.json"
    extra = []
    if vmdesc_for(path) is not None:
        extra = ["--vmdesc-from", str(golden_dir / "vmdesc" / "pc-i440fx-2.3.json")]
    code, msg = _cli("stream", "decode", str(path), "-o", str(out), *extra)
    assert code == 0, msg
    assert (tmp_path / "s.pages.bin").exists()
    code, msg = _cli("stream", "encode", str(out), "-o", str(tmp_path / "back.bin"))
    assert code == 0, msg
    assert (tmp_path / "back.bin").read_bytes() == path.read_bytes()


def test_cli_vmdesc_from_a_stream(tmp_path: Path, golden_dir: Path) -> None:
    src = golden_dir / "streams"
    out = tmp_path / "s.json"
    code, msg = _cli("stream", "decode", str(src / "pc-i440fx-2.0.bin"), "-o", str(out),
                     "--vmdesc-from", str(src / "pc-i440fx-2.3.bin"))
    assert code == 0, msg
    code, msg = _cli("stream", "decode", str(src / "pc-i440fx-2.0.bin"), "-o", str(out))
    assert code == 2 and "--vmdesc-from" in msg  # bad input: the stream cannot be decoded alone


def test_edit_cmos_byte_changes_exactly_one_byte(tmp_path: Path, golden_dir: Path) -> None:
    path = golden_dir / "streams" / "pc-i440fx-7.2.bin"
    out = tmp_path / "s.json"
    assert _cli("stream", "decode", str(path), "-o", str(out))[0] == 0
    doc = json.loads(out.read_text())
    rtc = next(s for s in doc["sections"] if s["idstr"] == "mc146818rtc")
    cmos = bytearray.fromhex(rtc["state"]["cmos_data"])
    cmos[0x10] ^= 0x5A
    rtc["state"]["cmos_data"] = cmos.hex()
    out.write_text(json.dumps(doc))
    assert _cli("stream", "encode", str(out), "-o", str(tmp_path / "e.bin"))[0] == 0
    a, b = path.read_bytes(), (tmp_path / "e.bin").read_bytes()
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    assert len(a) == len(b) and len(diff) == 1
    assert b[diff[0]] == a[diff[0]] ^ 0x5A


def test_edit_a_scalar_changes_only_its_bytes(golden_bytes: dict[str, bytes]) -> None:
    data = golden_bytes["pc-q35-7.2"]
    doc = to_document(read_stream(data))
    cpu = next(s for s in doc["sections"] if s["idstr"] == "cpu")
    cpu["state"]["env.eip"] = 0x1122334455667788
    b = to_bytes(from_document(doc))
    diff = [i for i in range(len(data)) if data[i] != b[i]]
    assert len(diff) <= 8 and len(b) == len(data)
    assert b[diff[0]:diff[-1] + 1] in struct.pack(">Q", 0x1122334455667788)


def test_bad_document_is_bad_input(golden_bytes: dict[str, bytes]) -> None:
    doc = to_document(read_stream(golden_bytes["pc-i440fx-7.2"]))
    rtc = next(s for s in doc["sections"] if s["idstr"] == "mc146818rtc")
    rtc["state"]["cmos_index"] = 300
    with pytest.raises(InputError, match="cmos_index"):
        from_document(doc)
    with pytest.raises(InputError, match="format"):
        from_document({"format": "nope"})


# ----------------------------------------------------------------------------- hostile lengths
def test_huge_vmdesc_length_on_a_short_file_fails_fast(golden_bytes: dict[str, bytes]) -> None:
    data = golden_bytes["pc-i440fx-7.2"]
    s = read_stream(data)
    assert s.vmdesc is not None
    at = len(data) - len(s.vmdesc.raw) - 4
    bad = data[:at] + (1 << 31).to_bytes(4, "big") + data[at + 4:]
    with pytest.raises(Truncated, match="need 2147483648 bytes"):
        read_stream(bad, vmdesc_from=s.vmdesc.obj)


def test_huge_configuration_length_fails_fast() -> None:
    bad = bytes.fromhex("5145564d00000003" "07" "80000000") + b"pc"
    with pytest.raises(Truncated, match="configuration"):
        read_stream(bad)


def test_not_a_stream() -> None:
    with pytest.raises(StreamError, match="not a migration stream"):
        read_stream(b"\x00" * 16)
    with pytest.raises(StreamError, match="shorter than its header"):
        read_stream(b"QEV")
