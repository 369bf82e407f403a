"""A stream decodes exactly under its vmdesc, or it is bad input (never a silent mis-decode).

QEMU lists every device section it saves in the vmdesc, in save order; decoding checks
the sections it read against that list, and refuses bytes after the end of the stream
unless ``--allow-trailing`` is given.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vmcompat.cli import main
from vmcompat.dumps import from_vmdesc
from vmcompat.errors import StreamError
from vmcompat.stream.reader import find_vmdesc, read_stream
from vmcompat.stream.verify import verify
from vmcompat.stream.writer import to_bytes

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "qemu-7.2"


def test_wrong_vmdesc_is_bad_input_naming_section_offset_and_vmdesc(tmp_path: Path) -> None:
    stream = GOLDEN / "streams" / "pc-i440fx-2.0.bin"
    wrong = GOLDEN / "vmdesc" / "pc-i440fx-1.4.json"
    out = tmp_path / "out.json"
    r = CliRunner().invoke(main, ["stream", "decode", str(stream), "--vmdesc-from", str(wrong),
                                  "-o", str(out)])
    assert r.exit_code == 2, r.output
    line = (r.stderr or r.output).strip()
    assert len(line.splitlines()) == 1
    assert "piix4_pm' at byte 281352" in line and str(wrong) in line
    assert "Traceback" not in line and not out.exists()


def test_right_vmdesc_still_decodes(tmp_path: Path) -> None:
    stream = GOLDEN / "streams" / "pc-i440fx-2.0.bin"
    right = GOLDEN / "vmdesc" / "pc-i440fx-2.3.json"
    r = CliRunner().invoke(main, ["stream", "decode", str(stream), "--vmdesc-from", str(right),
                                  "-o", str(tmp_path / "out.json")])
    assert r.exit_code == 0, r.output
    assert "trailing" not in json.loads((tmp_path / "out.json").read_text())


def test_missing_section_under_own_vmdesc_is_refused() -> None:
    data = (GOLDEN / "streams" / "pc-i440fx-7.2.bin").read_bytes()
    s = read_stream(data)
    rtc = next(x for x in s.sections if x.idstr == "mc146818rtc")
    start = rtc.offset
    end = next(x for x in s.sections if x.offset > start).offset
    cut = data[:start] + data[end:]
    with pytest.raises(StreamError, match="does not match the stream's own vmdesc, which "
                                          "lists 'mc146818rtc' there"):
        read_stream(cut)
    assert read_stream(cut, strict=False).sections  # verify's tolerant read still works
    assert any("mc146818rtc" in d for d in verify(cut))


def test_trailing_bytes_refused_unless_allowed(tmp_path: Path) -> None:
    data = (GOLDEN / "streams" / "pc-q35-7.2.bin").read_bytes() + b"\x00garbage"
    with pytest.raises(StreamError, match=r"^stream @\d+: 8 bytes after its vmdesc at byte"):
        read_stream(data)
    kept = read_stream(data, allow_trailing=True)
    assert kept.trailing == b"\x00garbage" and bytes(to_bytes(kept)) == data
    path = tmp_path / "t.bin"
    path.write_bytes(data)
    runner = CliRunner()
    r = runner.invoke(main, ["stream", "decode", str(path), "-o", str(tmp_path / "a.json")])
    assert r.exit_code == 2 and "--allow-trailing" in (r.stderr or r.output)
    r = runner.invoke(main, ["stream", "decode", str(path), "--allow-trailing",
                             "-o", str(tmp_path / "b.json")])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "b.json").read_text())
    assert doc["trailing"] == b"\x00garbage".hex()
    r = runner.invoke(main, ["stream", "encode", str(tmp_path / "b.json"),
                             "-o", str(tmp_path / "again.bin")])
    assert r.exit_code == 0 and (tmp_path / "again.bin").read_bytes() == data


# ----------------------------------------------------------------------------- QEMU 10.0 forms
def _device(fields: list[dict[str, object]]) -> dict[str, object]:
    return {"name": "d", "instance_id": 0, "vmsd_name": "d", "version": 1, "fields": fields}


def test_unindexed_last_element_joins_its_array() -> None:
    """QEMU 9.1+ writes elements 0..n-2 of a struct array with "index", the last without."""
    elem = {"vmsd_name": "e", "version": 1, "fields": [{"name": "x", "type": "uint8",
                                                          "size": 1}],
            "subsections": [{"vmsd_name": "e/s", "version": 1, "fields": []}]}
    fields = [{"name": "a", "index": 0, "type": "struct", "struct": elem, "size": 1},
              {"name": "a", "index": 1, "type": "struct", "struct": elem, "size": 1},
              {"name": "a", "type": "struct", "struct": elem, "size": 1},
              {"name": "b", "type": "uint8", "size": 1}]
    desc = from_vmdesc({"page_size": 4096, "devices": [_device(fields)]})["d"]
    assert [(f.name, f.array_len) for f in desc.fields] == [("a", 3), ("b", None)]


def test_vmdesc_with_configuration_first_is_found() -> None:
    vmdesc = {"configuration": {"vmsd_name": "configuration", "version": 1, "fields": []},
              "page_size": 4096, "devices": []}
    raw = json.dumps(vmdesc).encode()
    tail = b"\x00\x06" + len(raw).to_bytes(4, "big") + raw
    found = find_vmdesc(b"QEVM" + b"\x00" * 20 + tail)
    assert found is not None and found.obj == vmdesc
