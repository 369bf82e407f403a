"""Two QEMU releases side by side: install, list, pick with --qemu, devices, running guests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from vmcompat.cli import main
from vmcompat.errors import InputError
from vmcompat.qemu import available, capture, load, resolve
from vmcompat.qemu.cmdline import command_line, device_args
from vmcompat.qemu.releases import MODULE_DIR, Qemu
from vmcompat.stream.reader import read_stream

needs_10 = pytest.mark.skipif(not available("10.0"), reason="QEMU 10.0 is not installed "
                              "(vmcompat qemu install 10.0, as root: .ci/run does)")
needs_72 = pytest.mark.skipif(not available("7.2"), reason="QEMU 7.2 is not installed "
                              "(apt-get install qemu-system-x86)")


def test_unknown_release_and_missing_install_are_bad_input(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(InputError, match=r"QEMU 10\.0 is not installed: run 'vmcompat qemu "
                                         r"install 10\.0'"):
        resolve("10.0")
    r = CliRunner().invoke(main, ["qemu", "install", "3.1"])
    assert r.exit_code == 2 and "unknown QEMU release '3.1'" in (r.stderr or r.output)
    r = CliRunner().invoke(main, ["qemu", "capture", "--qemu", "9.9", "--machine", "pc",
                                  "-o", str(tmp_path / "x.bin")])
    assert r.exit_code == 2 and "QEMU 9.9 is not installed" in (r.stderr or r.output)


def test_a_prefixed_release_runs_with_its_own_modules_and_firmware(tmp_path: Path) -> None:
    prefix = tmp_path / "root"
    for d in ("usr/share/qemu", "usr/share/seabios", MODULE_DIR.lstrip("/")):
        (prefix / d).mkdir(parents=True)
    binary = str(prefix / "usr/bin/qemu-system-x86_64")
    argv = command_line(Qemu("10.0", binary, str(prefix)), "pc-q35-7.2", "-S")
    at = argv.index(binary)
    assert argv[at + 1:at + 5] == ["-L", f"{prefix}/usr/share/qemu",
                                   "-L", f"{prefix}/usr/share/seabios"]
    assert argv[at + 5:at + 7] == ["-machine", "pc-q35-7.2"] and argv[-1] == "-S"
    if os.path.isdir(MODULE_DIR):  # the system's modules would abort it: bind its own over
        assert argv[:2] == ["unshare", "--mount"]
        assert argv[at - 2:at] == [str(prefix / MODULE_DIR.lstrip("/")), MODULE_DIR]
    else:
        assert at == 0
    plain = command_line(Qemu("7.2", "/usr/bin/qemu-system-x86_64"), "pc", "-S")
    assert plain[:3] == ["/usr/bin/qemu-system-x86_64", "-machine", "pc"]


def test_audio_devices_get_a_backend() -> None:
    args = device_args(["intel-hda", "hda-duplex", "sb16,audiodev=mine", "e1000"])
    assert args[:2] == ["-audiodev", "none,id=vmcompat-audio"]
    assert "hda-duplex,audiodev=vmcompat-audio" in args and "sb16,audiodev=mine" in args
    assert device_args(["e1000"]) == ["-device", "e1000"]


@needs_10
@needs_72
@pytest.mark.qemu
def test_list_shows_both_releases() -> None:
    r = CliRunner().invoke(main, ["qemu", "list"])
    assert r.exit_code == 0
    names = [line.split("\t")[0] for line in r.output.splitlines()]
    assert {"7.2", "10.0"} <= set(names)
    assert "QEMU emulator version 10.0.2" in r.output
    doc = json.loads(CliRunner().invoke(main, ["qemu", "list", "--format", "json"]).output)
    ten = next(q for q in doc["qemus"] if q["name"] == "10.0")
    assert ten["packages"]["qemu-system-x86"] == "1:10.0.2+ds-2+deb13u1~bpo12+1"
    r = CliRunner().invoke(main, ["qemu", "install", "10.0"])  # already there: exit 0
    assert r.exit_code == 0 and r.output.strip() == ten["binary"]


@needs_10
@pytest.mark.qemu
def test_dump_of_10_0_loads_every_module(tmp_path: Path) -> None:
    """Without its own module directory 10.0 aborts on the system's 7.2 modules."""
    out = tmp_path / "d.json"
    r = CliRunner().invoke(main, ["qemu", "dump", "--qemu", "10.0", "--machine", "pc-q35-7.2",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    dump = json.loads(out.read_text())
    assert "virtio-gpu-gl-device" in dump  # a module device (qemu-system-modules-opengl)


@needs_10
@needs_72
@pytest.mark.qemu
def test_devices_and_a_running_guest(tmp_path: Path) -> None:
    out = tmp_path / "s.bin"
    r = CliRunner().invoke(main, ["qemu", "capture", "--qemu", "10.0", "--machine",
                                  "pc-i440fx-7.2", "--device", "e1000", "--device",
                                  "intel-hda", "--device", "hda-duplex", "--run", "0.5",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    s = read_stream(out.read_bytes())
    idstrs = {x.idstr for x in s.sections}
    assert any(i.endswith("/e1000") for i in idstrs)
    assert "hda-audio" in idstrs
    ok, message = load("pc-i440fx-7.2", str(out), qemu=resolve("7.2"),
                       devices=["e1000", "intel-hda", "hda-duplex"])
    assert (ok, message) == (True, "")
    # without the devices the destination lacks their RAM blocks (option ROMs): refused
    ok, message = load("pc-i440fx-7.2", str(out), qemu=resolve("7.2"))
    assert not ok and 'Unknown ramblock "0000:00:02.0/e1000.rom"' in message
    assert "warning" not in message


@needs_10
@pytest.mark.qemu
def test_paused_captures_are_deterministic_running_ones_are_not() -> None:
    ten = resolve("10.0")
    a = capture("pc-q35-7.2", qemu=ten)
    assert a == capture("pc-q35-7.2", qemu=ten)
    assert read_stream(capture("pc-q35-7.2", qemu=ten, run=0.5)).sections
