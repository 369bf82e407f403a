"""A real QEMU in the loop: recapture the goldens byte for byte, load harness-edited streams.

Marked ``qemu``; skipped with a reason when no ``qemu-system-x86_64`` is installed
(``.ci/run`` installs Debian's qemu-system-x86 so these run in CI).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from vmcompat.cli import main
from vmcompat.qemu import available, capture, load
from vmcompat.stream.document import from_document, to_document
from vmcompat.stream.reader import read_stream
from vmcompat.stream.writer import to_bytes

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "qemu-7.2"

pytestmark = [pytest.mark.qemu,
              pytest.mark.skipif(not available(), reason="qemu-system-x86_64 is not installed "
                                 "(apt-get install qemu-system-x86, or set $VMCOMPAT_QEMU)")]


def test_golden_loads() -> None:
    assert load("pc-q35-7.2", str(GOLDEN / "streams" / "pc-q35-7.2.bin")) == (True, "")


def test_edited_cmos_byte_loads(tmp_path: Path) -> None:
    src = (GOLDEN / "streams" / "pc-i440fx-7.2.bin").read_bytes()
    doc = json.loads(json.dumps(to_document(read_stream(src))))
    rtc = next(s for s in doc["sections"] if s["idstr"] == "mc146818rtc")
    cmos = bytearray.fromhex(rtc["state"]["cmos_data"])
    cmos[0x10] ^= 0x01
    rtc["state"]["cmos_data"] = cmos.hex()
    edited = to_bytes(from_document(doc))
    assert len(edited) == len(src)
    assert sum(a != b for a, b in zip(src, edited)) == 1
    path = tmp_path / "edited.bin"
    path.write_bytes(edited)
    assert load("pc-i440fx-7.2", str(path)) == (True, "")


def test_qemu_refuses_a_harness_made_bad_stream(tmp_path: Path) -> None:
    src = (GOLDEN / "streams" / "pc-i440fx-7.2.bin").read_bytes()
    s = read_stream(src)
    doc = to_document(s)
    rtc = next(x for x in doc["sections"] if x["idstr"] == "mc146818rtc")
    rtc["version_id"] = 4  # newer than QEMU 7.2's mc146818rtc (3)
    path = tmp_path / "bad.bin"
    path.write_bytes(to_bytes(from_document(doc)))
    ok, message = load("pc-i440fx-7.2", str(path))
    assert not ok
    assert "savevm: unsupported version 4 for 'mc146818rtc' v3" in message
    r = CliRunner().invoke(main, ["qemu", "load", "--machine", "pc-i440fx-7.2", str(path)])
    assert r.exit_code == 1 and "unsupported version 4" in (r.stderr or r.output)


def test_machine_type_mismatch_is_refused() -> None:
    ok, message = load("pc-i440fx-2.4", str(GOLDEN / "streams" / "pc-i440fx-7.2.bin"))
    assert not ok and "Machine type received is 'pc-i440fx-7.2'" in message


def test_cli_capture_and_bad_machine(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "s.bin"
    r = runner.invoke(main, ["qemu", "capture", "--machine", "no-such-machine", "-o", str(out)])
    assert r.exit_code == 2 and "unsupported machine type" in (r.stderr or r.output)


def test_timeouts_clean_up_process_and_socket(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import glob
    import tempfile

    from vmcompat.qemu import QemuError

    private = tmp_path / "tmp"  # other tests' sessions do not share it
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    pattern = f"{private}/vmcompat-qemu-*"
    before = set(glob.glob(pattern))
    with pytest.raises(QemuError, match="within"):
        capture("pc-i440fx-7.2", str(tmp_path / "x.bin"), timeout=0.0)
    fifo = tmp_path / "never.bin"
    os.mkfifo(fifo)  # cat blocks on a FIFO nobody writes: the load can only time out
    with pytest.raises(QemuError, match="within"):
        load("pc-i440fx-7.2", str(fifo), timeout=0.5)
    assert set(glob.glob(pattern)) <= before
    assert not (tmp_path / "x.bin").exists()
