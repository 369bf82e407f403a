"""Every real-QEMU golden is what its QEMU makes today (golden/qemu-*/QEMU.json).

Each folder's ``QEMU.json`` names the QEMU (version line, Debian packages) and, per
file, the command that made it. A deterministic capture or dump is made again with
that command's arguments and must be byte-identical. Before comparing, the test
checks that the QEMU at hand is the one recorded, and skips with exactly what
differs otherwise (another build's firmware is other bytes in every stream).
Fields a device migrates uninitialised (``volatile`` in the manifest) are the only
bytes allowed to differ, and only inside their sections.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vmcompat.qemu import available, capture, dump_text, resolve
from vmcompat.qemu.devices import DEVICE_SETS
from vmcompat.qemu.provenance import FILE, mismatch
from vmcompat.stream.compare import stream_differences
from vmcompat.stream.reader import read_stream

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
FOLDERS = sorted(p.parent for p in GOLDEN.glob(f"qemu-*/{FILE}"))


def _cases() -> list[Any]:
    cases = []
    for folder in FOLDERS:
        manifest = json.loads((folder / FILE).read_text())
        for name, how in sorted(manifest["captures"].items()):
            if how["deterministic"]:
                cases.append(pytest.param(folder, manifest["qemu"], name, how,
                                          id=f"{folder.name}/{name}"))
    return cases


def test_every_golden_file_is_in_its_manifest() -> None:
    for folder in FOLDERS:
        listed = set(json.loads((folder / FILE).read_text())["captures"])
        made = {str(p.relative_to(folder)) for p in folder.glob("*/*")
                if p.parent.name in ("streams", "dumps")}
        assert made == listed, folder.name
    assert {f.name for f in FOLDERS} >= {"qemu-7.2", "qemu-10.0"}


@pytest.mark.qemu
@pytest.mark.parametrize(("folder", "release", "name", "how"), _cases())
def test_golden_is_made_again_byte_for_byte(folder: Path, release: str, name: str,
                                            how: dict[str, Any], tmp_path: Path) -> None:
    if not available(release):
        pytest.skip(f"QEMU {release} is not installed (vmcompat qemu install {release})")
    qemu = resolve(release)
    why = mismatch(folder, qemu)
    if why:
        pytest.skip(f"this is not the QEMU that made {folder.name}'s goldens: {why}")
    devices = DEVICE_SETS[how["devices"]]
    golden = (folder / name).read_bytes()
    if name.startswith("dumps/"):
        assert dump_text(how["machine"], qemu=qemu, devices=devices).encode() == golden
        return
    again = capture(how["machine"], qemu=qemu, devices=devices)
    volatile = how.get("volatile", {})
    if not volatile:
        assert again == golden
        return
    assert stream_differences(read_stream(golden), golden, read_stream(again), again,
                              volatile) == []
