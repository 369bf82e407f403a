"""`vmcompat encode` / `vmcompat decode`: exit codes, one-line errors, atomic output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vmcompat import descjson
from vmcompat.dsl import buffer, device, subsection, uint8, uint16

DESC = device("dev", 2, uint8("a"), buffer("b", 2), uint16("c", version=2), minimum=1,
              subsections=[subsection(device("dev/sub", 1, uint8("s")),
                                      needed={"field": "a", "op": "nonzero"})])


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vmcompat", *args], cwd=cwd,
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


PARTIAL = device("dev", 2, uint8("a"), uint8("b", version=2), uint8("c", immutable=True),
                 uint8("t", exists={"field": "a", "op": "nonzero"}), minimum=1)


@pytest.mark.parametrize("payload,prior,loaded", [
    ("0507", {"b": 1, "c": 3}, {"a": 5, "b": 1, "c": 3, "t": 7}),
    ("00", {"b": 1, "c": 3, "t": 4}, {"a": 0, "b": 1, "c": 3, "t": 4}),
])
def test_decode_into_a_partial_prior(tmp_path: Path, payload: str, prior: dict,
                                     loaded: dict) -> None:
    """Fields read from the wire need no prior value (before: "missing field" for a)."""
    (tmp_path / "desc.json").write_text(json.dumps(descjson.to_json(PARTIAL)))
    (tmp_path / "p.bin").write_bytes(bytes.fromhex(payload))
    (tmp_path / "prior.json").write_text(json.dumps(prior))
    r = run("decode", "desc.json", "p.bin", "--version-id", "1", "--into", "prior.json",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == loaded


@pytest.mark.parametrize("payload,prior,named", [
    ("0507", {"c": 3}, "dev.b: missing field: a version 1 stream does not carry it, so the "
                       "load keeps the destination's value; give it here"),
    ("0507", {"b": 1}, "dev.c: missing field: a version 1 stream does not carry it"),
    ("00", {"b": 1, "c": 3}, "dev.t: missing field: a version 1 stream does not carry it"),
    ("00", {}, "dev.b: missing field: a version 1 stream does not carry it, so the load keeps "
               "the destination's value; give it here; also c, t"),
])
def test_partial_prior_must_give_what_the_load_leaves(tmp_path: Path, payload: str,
                                                      prior: dict, named: str) -> None:
    """A field newer than the stream, off the wire, or skipped by its test keeps the prior's
    value: a prior without it is bad input naming it."""
    (tmp_path / "desc.json").write_text(json.dumps(descjson.to_json(PARTIAL)))
    (tmp_path / "p.bin").write_bytes(bytes.fromhex(payload))
    (tmp_path / "prior.json").write_text(json.dumps(prior))
    r = run("decode", "desc.json", "p.bin", "--version-id", "1", "--into", "prior.json",
            cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(f"vmcompat: prior.json: {named}"), r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_partial_prior_gives_the_null_slots(tmp_path: Path) -> None:
    ptr = device("dev", 1, uint8("a"), uint8("p", array=2, pointer=True))
    (tmp_path / "desc.json").write_text(json.dumps(descjson.to_json(ptr)))
    (tmp_path / "p.bin").write_bytes(bytes.fromhex("013007"))
    (tmp_path / "prior.json").write_text(json.dumps({"p": [None, 0]}))
    r = run("decode", "desc.json", "p.bin", "--version-id", "1", "--into", "prior.json",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"a": 1, "p": [None, 7]}


def test_partial_prior_is_still_checked(tmp_path: Path) -> None:
    (tmp_path / "desc.json").write_text(json.dumps(descjson.to_json(PARTIAL)))
    (tmp_path / "p.bin").write_bytes(b"\x05\x07")
    (tmp_path / "prior.json").write_text(json.dumps({"b": 300, "c": 3}))
    r = run("decode", "desc.json", "p.bin", "--version-id", "1", "--into", "prior.json",
            cwd=tmp_path)
    assert r.returncode == 2 and "prior.json: dev.b: uint8 must be an integer" in r.stderr


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
        "vmcompat: Missing option '--version-id'. (see 'python -m vmcompat decode --help')"]
    r = run("encode", "desc.json", "state.json", "-o", "x", "--wire", "nope", cwd=files)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "Invalid value for '--wire'" in r.stderr


def test_truncated_payload_is_refused(files: Path) -> None:
    (files / "short.bin").write_bytes(b"\x01\xab")
    r = run("decode", "desc.json", "short.bin", "--version-id", "2", cwd=files)
    assert r.returncode == 1
    assert "dev.b @1: unexpected end of data: need 2 bytes, 1 left" in r.stderr


def test_absent_field_with_default_is_filled_and_written() -> None:
    from vmcompat.formats.legacy import encode
    from vmcompat.state import from_json

    d = device("d", 1, uint8("a"), uint16("b", default=7))
    s = from_json(d, {"a": 1})
    assert s == {"a": 1, "b": 7} and encode(d, s) == b"\x01\x00\x07"
