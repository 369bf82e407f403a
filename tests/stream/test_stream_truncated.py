"""A truncated stream says "truncated at byte N" in `stream decode` (exit 2) and `stream verify`
(exit 1), wherever the cut is: in RAM, in a device section, before or inside the vmdesc."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vmcompat.errors import LoadError
from vmcompat.strategies import streams as corrupt
from vmcompat.stream import read_stream

STREAMS = Path(__file__).resolve().parents[2] / "golden" / "qemu-7.2" / "streams"


def cuts(data: bytes) -> dict[str, int]:
    """Where to cut a stream with a vmdesc, by what the cut hits."""
    a = corrupt.analyse(data)
    assert a.vmdesc_at is not None
    return {"ram": a.devices[0].start // 2,
            "device section": (a.devices[2].payload[0] + a.devices[2].payload[1]) // 2,
            "before the vmdesc": a.vmdesc_at - 5,
            "vmdesc length": a.vmdesc_at - 2,
            "vmdesc": a.vmdesc_at + 100,
            "last byte": len(data) - 1}


@pytest.mark.parametrize("machine", ["pc-i440fx-7.2", "pc-q35-7.2", "pc-i440fx-2.4"])
def test_every_cut_of_a_stream_names_the_byte(machine: str) -> None:
    data = (STREAMS / f"{machine}.bin").read_bytes()
    for where, n in cuts(data).items():
        with pytest.raises(LoadError) as e:
            read_stream(data[:n])
        assert f"truncated at byte {n}" in e.value.line(), (where, e.value.line())


def test_a_cut_off_vmdesc_is_not_a_stream_without_one() -> None:
    """2.3 streams carry no machine type: the vmdesc's own length shows the cut."""
    data = (STREAMS / "pc-i440fx-2.3.bin").read_bytes()
    n = cuts(data)["vmdesc"]
    with pytest.raises(LoadError) as e:
        read_stream(data[:n])
    line = e.value.line()
    assert line.startswith("stream.vmdesc @") and f"truncated at byte {n}" in line, line
    assert "--vmdesc-from" not in line


def test_a_cut_with_an_outside_vmdesc_names_the_byte() -> None:
    data = (STREAMS / "pc-i440fx-7.2.bin").read_bytes()
    vmdesc = read_stream(data).vmdesc
    assert vmdesc is not None
    n = cuts(data)["device section"]
    with pytest.raises(LoadError) as e:
        read_stream(data[:n], vmdesc_from=vmdesc.obj)
    assert f"in section 5 'cpu' instance 0; the stream is truncated at byte {n}" \
        in e.value.line()


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vmcompat", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("where", ["device section", "vmdesc"])
def test_decode_exits_2_and_verify_exits_1_both_saying_truncated(tmp_path: Path,
                                                                 where: str) -> None:
    data = (STREAMS / "pc-i440fx-7.2.bin").read_bytes()
    n = cuts(data)[where]
    (tmp_path / "cut.bin").write_bytes(data[:n])
    r = run("stream", "decode", "cut.bin", "-o", "out.json", cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vmcompat: cut.bin: "), lines
    assert f"truncated at byte {n}" in lines[0] and "has none" not in lines[0]
    assert not (tmp_path / "out.json").exists()
    r = run("stream", "verify", "cut.bin", cwd=tmp_path)
    assert r.returncode == 1 and r.stderr == ""
    first = r.stdout.splitlines()[0]
    assert first.startswith("cut.bin: ") and f"truncated at byte {n}" in first, r.stdout
