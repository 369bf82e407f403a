"""Without a QEMU binary the qemu commands are bad input (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vmcompat.cli import main
from vmcompat.errors import InputError
from vmcompat.qemu import find_binary
from vmcompat.qemu.cmdline import DETERMINISTIC, command_line, load_args, save_args


@pytest.mark.parametrize("args", [
    ["qemu", "dump", "--machine", "pc", "-o", "x.json"],
    ["qemu", "capture", "--machine", "pc", "-o", "x.bin"],
    ["qemu", "load", "--machine", "pc", "x.bin"],
])
def test_no_binary_exits_2(args: list[str], monkeypatch: pytest.MonkeyPatch,
                           tmp_path: Path) -> None:
    monkeypatch.setenv("VMCOMPAT_QEMU", str(tmp_path / "no-qemu"))
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2
    assert "no such QEMU binary" in (r.stderr or r.output)
    assert "Traceback" not in r.output
    with pytest.raises(InputError):
        find_binary()


def test_command_lines_are_deterministic() -> None:
    argv = command_line("qemu", "pc-q35-7.2", *save_args("/s"))
    assert argv[:3] == ["qemu", "-machine", "pc-q35-7.2"]
    assert "-S" in argv and "unix:/s,server=on,wait=off" in argv
    assert "base=2020-01-01T00:00:00,clock=vm" in DETERMINISTIC and "tcg" in DETERMINISTIC
    load = command_line("qemu", "pc", *load_args("/s", "/tmp/a b.bin"))
    assert "exec:cat '/tmp/a b.bin'" in load and "-S" not in load
