"""Sections are matched by wire identity (their VMStateDescription), not QOM type names."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from vmcompat.cli import main
from vmcompat.compat import checker as C
from vmcompat.model import Description, Field

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


OTHER = Description("other", 1, 1, (Field("x", "uint8"),))


def _input(label: str, **devices: Description) -> C.Input:
    """An input of several devices (two single-device inputs always pair with each other)."""
    return C.Input(label, {"other": OTHER, **devices})


def test_a_renamed_qom_type_is_information_not_a_missing_section() -> None:
    piix = Description("PIIX3", 3, 2, (Field("pci_irq_levels", "int32", array_len=4),))
    old = _input("old", **{"pci-piix3": piix})
    new = _input("new", PIIX3=piix)
    result = C.check([old, new], direction="both")
    assert [(f.rule, f.severity, f.direction) for f in result.findings] == [
        ("QOM_TYPE_RENAMED", "info", "upgrade"), ("QOM_TYPE_RENAMED", "info", "downgrade")]
    up = result.findings[0]
    assert "QOM type 'pci-piix3' is 'PIIX3' in the destination" in up.message
    assert result.compatible


def test_the_matched_pair_is_still_compared() -> None:
    old = _input("old", a=Description("X", 1, 1, (Field("f", "uint8"),)))
    new = _input("new", b=Description("X", 2, 1, (Field("f", "uint8"),
                                                   Field("g", "uint8", version_id=2))))
    rules = {f.rule for f in C.check([old, new], direction="upgrade").findings}
    assert rules == {"QOM_TYPE_RENAMED"}  # g is versioned: an upgrade is fine
    down = {f.rule for f in C.check([old, new], direction="downgrade").findings}
    assert "VERSION_TOO_NEW" in down and "SECTION_MISSING" not in down


def test_another_description_is_still_a_missing_section() -> None:
    old = _input("old", a=Description("X", 1, 1))
    new = _input("new", b=Description("Y", 1, 1))
    rules = [f.rule for f in C.check([old, new], direction="upgrade").findings]
    assert rules == ["SECTION_MISSING"]


def test_real_7_2_and_10_0_dumps_match_piix3_by_wire_identity() -> None:
    a = str(GOLDEN / "qemu-7.2" / "dumps" / "pc-i440fx-7.2.json")
    b = str(GOLDEN / "qemu-10.0" / "dumps" / "pc-i440fx-7.2.json")
    r = CliRunner().invoke(main, ["check", a, b, "--direction", "both", "--format", "json"])
    assert r.exit_code == 1, r.output  # real errors remain (e1000e, esp): found, exit 1
    findings = json.loads(r.output)["findings"]
    piix = [f for f in findings if f["device"] == "pci-piix3"]
    assert [f["rule"] for f in piix] == ["QOM_TYPE_RENAMED"]
    assert not [f for f in findings if f["rule"] == "SECTION_MISSING"
                and f["device"] in ("pci-piix3", "PIIX3-xen", "acpi-ged-x86", "qxl")]
