"""Real release descriptions (``qemu:7.2``, ``qemu:10.0``) are what the goldens hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vmcompat.errors import InputError
from vmcompat.matrix._cells import build_cells
from vmcompat.matrix._subjects import from_args, subjects
from vmcompat.qemu import available, capture, resolve
from vmcompat.qemu.bundle import BUILTIN, PAIR, builtin, release_histories, shared_machines
from vmcompat.qemu.devices import DEVICE_SETS
from vmcompat.sources import load_one
from vmcompat.stream.reader import find_vmdesc

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


@pytest.mark.parametrize("release", sorted(BUILTIN))
def test_builtin_bundle_is_the_goldens(release: str) -> None:
    """Made by `vmcompat qemu describe` with the same QEMU and devices as the goldens."""
    b = builtin(release)
    folder = GOLDEN / f"qemu-{release}"
    assert b.version == json.loads((folder / "QEMU.json").read_text())["version"]
    goldens = sorted(folder.glob("vmdesc/broad-*.json"))
    assert list(b.machines)[:len(goldens)] == ["pc-i440fx-7.2", "pc-q35-7.2"]
    for path in goldens:
        assert b.machines[path.stem.removeprefix("broad-")] == json.loads(path.read_text())
    assert b.dump == json.loads((folder / "dumps" / "pc-i440fx-7.2.json").read_text())
    assert b.devices == DEVICE_SETS["broad"]


@pytest.mark.qemu
@pytest.mark.parametrize("release", sorted(BUILTIN))
def test_builtin_bundle_machine_types_are_captured_again(release: str) -> None:
    """The machine types without a golden: a capture today writes the same vmdesc."""
    if not available(release):
        pytest.skip(f"QEMU {release} is not installed (vmcompat qemu install {release})")
    b, qemu = builtin(release), resolve(release)
    if qemu.version != b.version:
        pytest.skip(f"this is not the QEMU that made the bundle: {qemu.version!r}")
    for machine in list(b.machines)[2:]:
        v = find_vmdesc(capture(machine, qemu=qemu, devices=b.devices))
        assert v is not None and v.obj == b.machines[machine], machine


def test_the_qemu_matrix_spans_every_shipped_machine_type() -> None:
    """`--catalog qemu` (and the default run) holds each section of every machine type both
    releases ship, and each machine type adds a section layout no other one has."""
    machines = shared_machines()
    assert len(machines) > 2 and machines[0] == "pc-i440fx-7.2"
    assert all(list(builtin(r).machines) == list(machines) for r in PAIR)
    qemu = subjects("qemu", [])
    assert {name.split(":", 1)[0] for name in qemu} == set(machines)
    assert set(qemu) <= set(subjects(None, []))
    layouts: dict[str, set] = {}
    for m in machines:
        one = release_histories(machine=m)
        assert one and all(qemu[n] == h for n, h in one.items())
        layouts[m] = {(n.split(":", 1)[1], h.versions) for n, h in one.items()}
    assert sum(map(len, layouts.values())) == len(qemu)
    for m, mine in layouts.items():
        others = set().union(*(v for k, v in layouts.items() if k != m))
        assert mine - others, f"{m} adds no section layout the others lack"


def test_release_refs_resolve_wherever_a_desc_is_taken() -> None:
    e = load_one("qemu:10.0", "0000:00:02.0/e1000e")
    assert (e.name, e.version_id) == ("e1000e", 1)
    q35 = load_one("qemu:7.2/pc-q35-7.2", "0000:00:01.0/e1000e")
    assert q35.name == "e1000e"
    with pytest.raises(InputError, match=r"no built-in descriptions of QEMU 9\.9"):
        load_one("qemu:9.9", "x")
    with pytest.raises(InputError, match=r"no machine type .pc-q35-6\.2."):
        load_one("qemu:7.2/pc-q35-6.2", "x")


def test_versions_on_a_release_axis_are_releases() -> None:
    """e1000e is version_id 1 in both releases, with two layouts: two versions, not one."""
    hs = from_args(["qemu:7.2", "qemu:10.0"])
    h = hs["pc-i440fx-7.2:0000:00:02.0/e1000e"]
    assert h.labels == ("7.2", "10.0") and h.version_ids == (1, 1)
    assert h.version("7.2") != h.version("10.0")
    assert set(hs) == set(release_histories(machine="pc-i440fx-7.2"))
    cells = build_cells({"e": h}, ["legacy", "ber"], "none")
    assert [(c.source, c.destination, c.wire, c.direction) for c in cells] == [
        ("7.2", "7.2", "legacy", "same"), ("7.2", "10.0", "legacy", "upgrade"),
        ("10.0", "7.2", "legacy", "downgrade"), ("10.0", "10.0", "legacy", "same")]


def test_matrix_cells_on_the_release_pair() -> None:
    """Two sections through the matrix: a corrupt downgrade (sb16) and a clean one (rtc)."""
    from vmcompat.matrix._run import default_runner, run_cells
    from vmcompat.report import build_report

    hs = {k: v for k, v in release_histories().items()
          if k.endswith((":sb16", ":mc146818rtc"))}
    cells = build_cells(hs, ["legacy", "json"], "none")
    results = run_cells(hs, cells, default_runner(), max_examples=3, seed=0)
    report = build_report(results, seed=0, max_examples=3, features="none", wires=["legacy"],
                          duration=0.0)
    by = {(c["device"].rsplit(":", 1)[1], c["source"], c["destination"]): c
          for c in report.cells}
    assert len(by) == 8 and {c["wire"] for c in report.cells} == {"legacy"}
    sb16 = by[("sb16", "10.0", "7.2")]
    assert sb16["verdict"] == "corrupt" and sb16["direction"] == "downgrade"
    assert by[("sb16", "7.2", "10.0")]["verdict"] == "compatible"
    assert {c["verdict"] for k, c in by.items() if k[0] == "mc146818rtc"} == {"compatible"}
    assert not report.ok


def test_a_written_bundle_keeps_its_machine_order(tmp_path: Path) -> None:
    """JSON keys are sorted on write; ``order`` keeps the first machine type the default."""
    import gzip

    from vmcompat.qemu.bundle import Bundle, from_json, write

    b = builtin("7.2")
    mine = Bundle(b.release, b.version, {m: b.machines[m] for m in ("pc-q35-2.4", "pc-i440fx-7.2")},
                  b.dump, b.devices)
    out = tmp_path / "b.json.gz"
    write(mine, str(out))
    obj = json.loads(gzip.decompress(out.read_bytes()))
    assert list(obj["machines"]) == ["pc-i440fx-7.2", "pc-q35-2.4"]
    assert list(from_json(obj).machines) == ["pc-q35-2.4", "pc-i440fx-7.2"]
    del obj["order"]  # a bundle written before ``order``: its JSON order
    assert list(from_json(obj).machines) == ["pc-i440fx-7.2", "pc-q35-2.4"]
    for bad in (["pc-q35-2.4"], ["pc-q35-2.4", 1], "pc-q35-2.4"):
        with pytest.raises(InputError, match="order must list each of its machine types once"):
            from_json({**obj, "order": bad}, "b.json")
