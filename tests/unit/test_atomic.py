"""Outputs: the mode a plain open() gives (umask honoured), atomic, and no folder made up."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from vmcompat.atomic import TEMP_PREFIX, atomic_output, write_atomic
from vmcompat.errors import InputError

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / "golden" / "ps2kbd" / "v3" / "legacy" / "sample.json"
STREAM = REPO / "golden" / "qemu-7.2" / "streams" / "pc-i440fx-7.2.bin"


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(p: Path) -> int:
    return p.stat().st_mode & 0o777


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_new_file_gets_the_mode_open_would_give(tmp_path: Path, mask: int) -> None:
    with umask(mask):
        write_atomic(str(tmp_path / "atomic.bin"), b"x")
        with open(tmp_path / "plain.bin", "w") as fh:
            fh.write("x")
    assert mode(tmp_path / "atomic.bin") == mode(tmp_path / "plain.bin") == 0o666 & ~mask


def test_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    p = tmp_path / "out.json"
    p.write_text("old")
    p.chmod(0o640)
    with umask(0o077):
        write_atomic(str(p), "new")
    assert p.read_text() == "new" and mode(p) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    p = tmp_path / "out.bin"
    p.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(str(p)) as fh:
        fh.write(b"half")
        raise RuntimeError
    assert p.read_bytes() == b"old"
    assert [x.name for x in tmp_path.iterdir()] == ["out.bin"]
    assert not any(x.name.startswith(TEMP_PREFIX) for x in tmp_path.iterdir())


def test_missing_folder_is_bad_input_and_not_created(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "out.bin"
    with pytest.raises(InputError, match=r"out\.bin: cannot write: no directory .*no/such$"):
        write_atomic(str(target), b"x")
    assert not (tmp_path / "no").exists()


def test_a_folder_is_not_a_file_to_write(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write: Is a directory"):
        write_atomic(str(tmp_path), b"x")


# ----------------------------------------------------------------------------- on the command line
def run(*args: str, cwd: Path, mask: int = 0o022) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vmcompat", *args], cwd=cwd, umask=mask,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [
    ["encode", "catalog:ps2kbd@3", str(STATE), "-o", "missing/q.bin"],
    ["schema", "catalog:ps2kbd@3", "-o", "missing/s.json"],
    ["check", "catalog:ps2kbd@2", "catalog:ps2kbd@3", "-o", "missing/c.txt"],
    ["stream", "decode", str(STREAM), "-o", "missing/s.json"],
    ["stream", "vmdesc", str(STREAM), "-o", "missing/v.json"],
])
def test_missing_parent_of_output_is_bad_input_everywhere(tmp_path: Path,
                                                          args: list[str]) -> None:
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    line, = r.stderr.splitlines()
    written = args[-1].removesuffix(".json")  # stream decode writes its OUT.pages.bin first
    assert line.startswith(f"vmcompat: {written}") and \
        line.endswith(": cannot write: no directory missing"), line
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_stream_json_and_pages_get_the_umask_mode(tmp_path: Path, mask: int) -> None:
    r = run("stream", "decode", str(STREAM), "-o", "s.json", cwd=tmp_path, mask=mask)
    assert r.returncode == 0, r.stderr
    assert mode(tmp_path / "s.json") == mode(tmp_path / "s.pages.bin") == 0o666 & ~mask


def test_report_out_dir_may_be_created(tmp_path: Path) -> None:
    runner = str(REPO / "tests" / "matrix" / "fake_runner.py") + ":run_cell"
    r = run("matrix", "catalog:ps2kbd", "--wire", "legacy", "--features", "none", "-j", "1",
            "--runner", runner, "--out", "reports/today", cwd=tmp_path, mask=0o027)
    assert r.returncode == 0, r.stderr
    assert mode(tmp_path / "reports" / "today" / "report.json") == 0o640
