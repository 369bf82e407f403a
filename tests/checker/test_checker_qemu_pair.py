"""QEMU's own static-checker test pair: ``dump1.json`` -> ``dump2.json``.

QEMU's ``scripts/vmstate-static-checker.py`` reports 13 errors on this pair
(its exit code is the error count). The table below lists them with the rule
vmcompat reports for each; the test checks that every one is covered by an
error finding of that rule on that device, and shows what vmcompat finds
beyond them (QEMU's checker stops at the first mismatch of a description and
checks one direction only). The data is read from ``../shared`` when present
(never copied into the repository).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vmcompat.compat import checker as C

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("VMCOMPAT_QEMU_CHECKER_DATA",
                           REPO.parent / "shared" / "qemu-checker-data"))

#: QEMU's 13 errors for dump1 -> dump2 (device, what QEMU prints), and our rule for each
QEMU_ERRORS = [
    # QEMU's checker goes by QOM type; dump2 renamed the type (fw_cfg2) but kept the
    # VMStateDescription 'fw_cfg', under which the section travels: it still migrates.
    # vmcompat matches sections by that wire identity and says so as information.
    ("fw_cfg", 'Section "fw_cfg" does not exist in dest', "QOM_TYPE_RENAMED"),
    ("fusbh200-ehci-usb", "version error: 2 > 1", "VERSION_TOO_NEW"),
    ("fusbh200-ehci-usb", 'expected field "usbsts", got "usbsts_pending"; skipping rest',
     "FIELD_REMOVED"),
    ("pci-serial-4x", 'Entry "Fields" missing', "FIELD_REMOVED"),
    ("intel-hda-generic", 'Field "pci": missing description', "NESTED_DESCRIPTION_MISSING"),
    ("cfi.pflash01", 'Entry "Description" missing', "DESCRIPTION_RENAMED"),
    ("megasas", 'expected field "irq_state", while dest has no further fields', "FIELD_REMOVED"),
    ("PIIX3-xen", "minimum version error: 1 < 2", "MINIMUM_ABOVE_SOURCE"),
    ("PIIX3-xen", 'Subsection "PIIX3/rcr" not found', "SUBSECTION_MISSING"),
    ("tpci200", 'Description "tpci200" missing, got "tpci2002" instead; skipping',
     "DESCRIPTION_RENAMED"),
    ("sun-fdtwo", "version error: 2 > 1", "VERSION_TOO_NEW"),
    ("sun-fdtwo", 'Subsection "fdrive/media_rate" not found', "SUBSECTION_MISSING"),
    ("usb-kbd", 'Field "kbd.keycodes" size mismatch: 4 , 2', "FIELD_SIZE_CHANGED"),
]
QEMU_DEVICES = {"fw_cfg", "fusbh200-ehci-usb", "pci-serial-4x", "intel-hda-generic",
                "cfi.pflash01", "megasas", "PIIX3-xen", "tpci200", "sun-fdtwo", "usb-kbd"}


@pytest.fixture(scope="module")
def pair() -> tuple[C.Input, C.Input]:
    d1, d2 = DATA / "dump1.json", DATA / "dump2.json"
    if not (d1.exists() and d2.exists()):
        pytest.skip(f"QEMU's checker test data not found in {DATA} (it is never copied into the "
                    f"repository; set VMCOMPAT_QEMU_CHECKER_DATA to its folder)")
    return C.load_input(str(d1)), C.load_input(str(d2))


def test_qemu_table_is_the_thirteen_errors() -> None:
    assert len(QEMU_ERRORS) == 13 and {d for d, _, _ in QEMU_ERRORS} == QEMU_DEVICES


def test_every_qemu_error_is_covered(pair: tuple[C.Input, C.Input]) -> None:
    result = C.check(list(pair))
    errors = {(f.device, f.rule) for f in result.findings if f.error}
    rows, missing = [], []
    for device, qemu_says, rule in QEMU_ERRORS:
        ok = (device, rule) in errors or (device, rule) in {
            (f.device, f.rule) for f in result.findings if f.rule == "QOM_TYPE_RENAMED"}
        rows.append(f"{'ok ' if ok else 'MISSING'} {device:20} {rule:28} QEMU: {qemu_says}")
        if not ok:
            missing.append((device, rule))
    extra = sorted({(f.device, f.rule) for f in result.findings}
                   - {(d, r) for d, _, r in QEMU_ERRORS})
    print("\nQEMU's 13 errors vs vmcompat (upgrade):\n" + "\n".join(rows))
    print(f"vmcompat upgrade: {result.counts()}; beyond QEMU's rows: {extra}")
    assert not missing, missing
    assert {f.device for f in result.findings if f.error} == QEMU_DEVICES - {"fw_cfg"}
    assert not result.compatible


def test_what_qemu_misses(pair: tuple[C.Input, C.Input]) -> None:
    """QEMU's checker goes one way; vmcompat's both directions also find the way back."""
    upgrade = C.check(list(pair))
    both = C.check(list(pair), direction="both")
    downgrade = [f for f in both.findings if f.direction == "downgrade"]
    print(f"\ndowngrade (dump2 -> dump1), which QEMU's checker does not check: "
          f"{sorted({(f.device, f.rule) for f in downgrade if f.error})}")
    # fw_cfg2 is fw_cfg under another QOM type (same section), and usb-kbd's hid struct shrank
    assert ("fw_cfg2", "QOM_TYPE_RENAMED") in {(f.device, f.rule) for f in downgrade}
    assert ("usb-kbd", "FIELD_SIZE_CHANGED") in {(f.device, f.rule) for f in downgrade}
    assert len(both.findings) > len(upgrade.findings)
    # fields QEMU leaves out after "skipping rest" or a missing Fields list are listed one by one
    removed = {f.path for f in upgrade.findings if f.rule == "FIELD_REMOVED"
               and f.device == "pci-serial-4x"}
    assert removed == {"pci-serial-4x/pci-serial-multi/dev", "pci-serial-4x/pci-serial-multi/state",
                       "pci-serial-4x/pci-serial-multi/level"}
    # fields moved into the new "hid" struct are noted, not errors
    moved = {f.path for f in upgrade.findings if f.rule == "FIELD_RENAMED"}
    assert "usb-kbd/usb-kbd/head" in moved


def test_cli_exit_code_and_json(pair: tuple[C.Input, C.Input]) -> None:
    from click.testing import CliRunner

    from vmcompat.cli import main

    res = CliRunner().invoke(main, ["check", str(DATA / "dump1.json"), str(DATA / "dump2.json"),
                                    "--format", "json", "--config", str(REPO / "pyproject.toml")])
    assert res.exit_code == 1, res.output
    import json

    out = json.loads(res.stdout)
    assert out["compatible"] is False
    assert {f["device"] for f in out["findings"] if f["severity"] == "error"} == \
        QEMU_DEVICES - {"fw_cfg"}


def test_prove_says_why_piix3_xen_is_static_only(pair: tuple[C.Input, C.Input]) -> None:
    """The findings the dynamic run cannot reach on QEMU's pair say why."""
    result = C.prove(C.check(list(pair), devices=["PIIX3-xen"]), max_examples=5)
    why = {f.rule: f.evidence["why"] for f in result.findings
           if f.evidence and f.evidence.get("static_only")}
    assert set(why) == {"MINIMUM_ABOVE_SOURCE", "SUBSECTION_MISSING"}
    assert "gives this section versions 1 and 3" in why["MINIMUM_ABOVE_SOURCE"]
    assert why["SUBSECTION_MISSING"].startswith(
        "the dynamic run never sends subsection 'PIIX3/rcr': its needed function")
