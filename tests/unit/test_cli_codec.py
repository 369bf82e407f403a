"""`vmcompat encode` / `vmcompat decode`: exit codes, one-line errors, atomic output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness import descjson
from harness.dsl import buffer, device, subsection, uint8, uint16

DESC = device("dev", 2, uint8("a"), buffer("b", 2), uint16("c", version=2), minimum=1,
              subsections=[subsection(device("dev/sub", 1, uint8("s")),
                                      needed={"field": "a", "op": "nonzero"})])


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "desc.json").write_text(json.dumps(descjson.to_json(DESC)))
    (tmp_path / "state.json").write_text(json.dumps(
        {"a": 1, "b": "abcd", "c": 515, "__subsections__": {"dev/sub": {"s": 9}}}))
    return tmp_path


def test_encode_decode_roundtrip(files: Path) -> None:
    r = run("encode", "desc.json", "state.json", "-o", "out.bin", cwd=files)
    assert r.returncode == 0, r.stderr
    raw = (files / "out.bin").read_bytes()
    assert raw == bytes.fromhex("01abcd0203") + b"\x05\x07dev/sub\x00\x00\x00\x01\x09"
    r = run("decode", "desc.json", "out.bin", "--version-id", "2", cwd=files)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads((files / "state.json").read_text())


def test_decode_refused_is_exit_1_one_line(files: Path) -> None:
    assert run("encode", "desc.json", "state.json", "-o", "out.bin", cwd=files).returncode == 0
    r = run("decode", "desc.json", "out.bin", "--version-id", "3", cwd=files)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "vmcompat: dev: incoming version_id 3 is too new for local version_id 2"]
    assert "Traceback" not in r.stderr


def test_decode_with_prior(files: Path) -> None:
    (files / "v1.bin").write_bytes(bytes.fromhex("00abcd"))
    (files / "prior.json").write_text(json.dumps({"a": 0, "b": "0000", "c": 7}))
    r = run("decode", "desc.json", "v1.bin", "--version-id", "1", "--into", "prior.json",
            cwd=files)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"a": 0, "b": "abcd", "c": 7}


def test_catalog_reference_unknown_is_bad_input(files: Path) -> None:
    r = run("decode", "catalog:no-such-device@1", "state.json", "--version-id", "1", cwd=files)
    assert r.returncode == 2
    assert "no device 'no-such-device' in the catalog" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("state,needle", [
    ({"a": 300, "b": "abcd", "c": 1}, "dev.a: uint8 must be an integer in [0, 255], got 300"),
    ({"a": 0, "b": "abc", "c": 1}, "dev.b: buffer must be a hex string"),
    ({"a": 0, "b": "abcd", "c": 1, "zz": 1}, "dev.zz: unknown field"),
    ({"a": 0, "b": "abcd"}, "dev.c: missing field"),
    ({"a": 1, "b": "abcd", "c": 1}, "dev.dev/sub: subsection is needed by this state"),
])
def test_bad_state_is_exit_2_naming_file_device_field(files: Path, state: dict[str, object],
                                                      needle: str) -> None:
    (files / "bad.json").write_text(json.dumps(state))
    r = run("encode", "desc.json", "bad.json", "-o", "out.bin", cwd=files)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.json" in lines[0] and needle in lines[0], lines
    assert not (files / "out.bin").exists()


def test_bad_description_is_exit_2(files: Path) -> None:
    obj = descjson.to_json(DESC)
    obj["fields"][1]["type"] = "uint7"
    (files / "bad-desc.json").write_text(json.dumps(obj))
    r = run("encode", "bad-desc.json", "state.json", "-o", "out.bin", cwd=files)
    assert r.returncode == 2
    assert r.stderr.strip() == ("vmcompat: bad-desc.json: dev.b: unknown field type 'uint7' "
                                "(did you mean 'uint8', 'uint64' or 'uint32'?)")


def test_malformed_json_is_exit_2(files: Path) -> None:
    (files / "broken.json").write_text("{not json")
    r = run("encode", "broken.json", "state.json", "-o", "out.bin", cwd=files)
    assert r.returncode == 2 and "broken.json: not valid JSON" in r.stderr


def test_missing_required_option_is_usage_error(files: Path) -> None:
    r = run("decode", "desc.json", "x.bin", cwd=files)
    assert r.returncode == 2 and "--version-id" in r.stderr
    assert r.stderr.strip().splitlines() == [
        "vmcompat: Missing option '--version-id'. (see 'python -m harness decode --help')"]
    r = run("encode", "desc.json", "state.json", "-o", "x", "--wire", "nope", cwd=files)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "Invalid value for '--wire'" in r.stderr


def test_truncated_payload_is_refused(files: Path) -> None:
    (files / "short.bin").write_bytes(b"\x01\xab")
    r = run("decode", "desc.json", "short.bin", "--version-id", "2", cwd=files)
    assert r.returncode == 1
    assert "dev.b @1: unexpected end of data: need 2 bytes, 1 left" in r.stderr


def test_absent_field_with_default_is_filled_and_written() -> None:
    from harness.formats.legacy import encode
    from harness.state import from_json

    d = device("d", 1, uint8("a"), uint16("b", default=7))
    s = from_json(d, {"a": 1})
    assert s == {"a": 1, "b": 7} and encode(d, s) == b"\x01\x00\x07"
