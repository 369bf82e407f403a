"""Memory is bounded whatever a length field claims (issue 10, section 3).

Each case runs ``vmcompat`` in a child process whose address space is capped with
``RLIMIT_AS`` at 256 MiB (plus the size of a stream it maps): going past the cap is a
``MemoryError`` there, so an unbounded allocation fails the test instead of eating the
machine. The child also reports its peak RSS, which must stay under 256 MiB (a bound,
not a timing). :func:`peak` is the measuring tool, also for one-off runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hostile_inputs import GOLDEN, with_vmdesc

from vmcompat.stream import find_vmdesc

ROOT = Path(__file__).resolve().parents[2]
STREAM = GOLDEN / "streams" / "pc-i440fx-7.2.bin"
BOUND = 256 << 20

_CHILD = """
import json, resource, sys
cap, report = int(sys.argv[1]), sys.argv[2]
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
code = 0
try:
    from vmcompat.cli import main
    main(sys.argv[3:], prog_name="vmcompat")
except SystemExit as e:
    code = e.code if isinstance(e.code, int) else 1
finally:
    # VmHWM: this process's own peak RSS (ru_maxrss survives exec and starts at the
    # parent's RSS: a pytest worker that ran QEMU-sized tests first would be counted)
    with open("/proc/self/status") as st:
        hwm = next(int(ln.split()[1]) for ln in st if ln.startswith("VmHWM:"))
    with open(report, "w") as fh:
        json.dump({"exit": code, "peak": hwm * 1024}, fh)
"""


def peak(tmp_path: Path, *args: str, mapped: int = 0) -> tuple[int, int, str]:
    """Run ``vmcompat ARGS`` capped at 256 MiB of address space (+ ``mapped`` bytes of an
    mmapped input): (exit code, peak RSS in bytes, stdout and stderr)."""
    report = tmp_path / "peak.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    r = subprocess.run([sys.executable, "-c", _CHILD, str(BOUND + mapped), str(report), *args],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    got = json.loads(report.read_text())
    return got["exit"], got["peak"], r.stdout + r.stderr


def bounded(tmp_path: Path, *args: str, exit_code: int, mapped: int = 0) -> str:
    code, rss, out = peak(tmp_path, *args, mapped=mapped)
    assert "internal error" not in out and "Traceback" not in out, out
    assert code == exit_code, out
    assert rss < BOUND, f"peak RSS {rss >> 20} MiB"
    return out


def write(tmp_path: Path, name: str, obj: Any) -> str:
    (tmp_path / name).write_text(json.dumps(obj))
    return name


def desc(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"name": "d", "version_id": 1, "fields": list(fields)}


def stream_with_fields(tmp_path: Path, *fields: dict[str, Any]) -> str:
    """The 7.2 golden stream, its vmdesc describing ``timer`` by ``fields`` instead."""
    data = STREAM.read_bytes()
    v = find_vmdesc(data)
    assert v is not None
    obj = dict(v.obj)
    obj["devices"] = [dict(d, fields=list(fields)) if d["name"] == "timer" else d
                      for d in obj["devices"]]
    (tmp_path / "s.bin").write_bytes(with_vmdesc(data, obj))
    return "s.bin"


# ----------------------------------------------------------------------------- descriptions
def test_array_len_2_31_is_refused(tmp_path: Path) -> None:
    d = write(tmp_path, "d.json", desc({"name": "a", "type": "uint8", "array_len": 1 << 31}))
    (tmp_path / "p.bin").write_bytes(b"\0\0")
    err = bounded(tmp_path, "decode", d, "p.bin", "--version-id", "1", exit_code=2)
    assert "array_len 2147483648 is outside" in err


def test_64_arrays_of_2_20_cost_their_data_only(tmp_path: Path) -> None:
    d = write(tmp_path, "d.json", desc(*({"name": f"a{i}", "type": "uint8", "array_len": 1 << 20}
                                         for i in range(64))))
    (tmp_path / "p.bin").write_bytes(b"\0\0")
    err = bounded(tmp_path, "decode", d, "p.bin", "--version-id", "1", exit_code=1)
    assert "need 1048576 bytes, 2 left" in err


def test_encode_of_a_2_gb_unused_buffer_is_refused(tmp_path: Path) -> None:
    d = write(tmp_path, "d.json", desc({"name": "u", "type": "unused_buffer", "size": 1 << 31}))
    s = write(tmp_path, "s.json", {})
    err = bounded(tmp_path, "encode", d, s, "-o", "out.bin", exit_code=2)
    assert "over the limit of 16777216 bytes per field" in err
    assert not (tmp_path / "out.bin").exists()


def test_padding_multiplied_by_elements_is_refused(tmp_path: Path) -> None:
    elem = desc({"name": "u", "type": "unused_buffer", "size": 1 << 20})
    d = write(tmp_path, "d.json", desc({"name": "s", "type": "struct", "array_len": 4096,
                                        "struct": elem}))
    s = write(tmp_path, "s.json", {"s": [{}] * 4096})
    err = bounded(tmp_path, "encode", d, s, "-o", "out.bin", exit_code=2)
    assert "unused_buffer padding" in err


# ----------------------------------------------------------------------------- streams
@pytest.mark.parametrize(("command", "exit_code"), [("verify", 1), ("decode", 2)])
def test_vmdesc_bitmap_of_2_31_bytes(tmp_path: Path, command: str, exit_code: int) -> None:
    s = stream_with_fields(tmp_path, {"name": "b", "type": "bitmap", "size": 1 << 31})
    out = ["-o", "out.json"] if command == "decode" else []
    err = bounded(tmp_path, "stream", command, s, *out, exit_code=exit_code)
    assert "over the limit of 16777216 bytes per field" in err


@pytest.mark.parametrize(("command", "exit_code"), [("verify", 1), ("decode", 2)])
def test_vmdesc_64_arrays_of_2_20(tmp_path: Path, command: str, exit_code: int) -> None:
    s = stream_with_fields(tmp_path, *({"name": f"a{i}", "type": "uint8", "size": 1,
                                        "array_len": 1 << 20} for i in range(64)))
    out = ["-o", "out.json"] if command == "decode" else []
    bounded(tmp_path, "stream", command, s, *out, exit_code=exit_code)


@pytest.mark.parametrize(("command", "exit_code"),
                         [("verify", 1), ("decode", 2), ("vmdesc", 2)])
def test_1_gib_sparse_stream(tmp_path: Path, command: str, exit_code: int) -> None:
    p = tmp_path / "sparse.bin"
    p.write_bytes(STREAM.read_bytes())
    with open(p, "r+b") as fh:
        fh.truncate(1 << 30)  # a hole: no disk space, 1 GiB to scan
    out = [] if command == "verify" else ["-o", "out.json"]
    bounded(tmp_path, "stream", command, p.name, *out, exit_code=exit_code, mapped=1 << 30)
