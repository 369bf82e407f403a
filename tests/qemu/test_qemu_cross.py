"""``vmcompat qemu cross``: real outcomes between two QEMU releases, and predictions."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from vmcompat.cli import main
from vmcompat.model import Description, Field
from vmcompat.qemu import available
from vmcompat.qemu.cross import Cell, blamed, explain, measures
from vmcompat.report import _cross


def test_blame_reads_qemus_words() -> None:
    keys = ["dma", "dma#1", "0000:00:0f.0/pciespscsi", "ram"]
    assert blamed("q: Missing section footer for 0000:00:0f.0/pciespscsi; q: load of "
                  "migration failed: Invalid argument", keys) == "0000:00:0f.0/pciespscsi"
    assert blamed("error while loading state for instance 0x1 of device 'dma'", keys) == "dma#1"
    assert blamed("Unknown savevm section or instance 'dma' 1", keys) == "dma#1"
    assert blamed("savevm: unsupported version 4 for 'dma' v3", keys) == "dma"
    assert blamed("load of migration failed: Invalid argument", keys) is None


def test_measures_count_per_direction_and_leave_out_not_reached() -> None:
    cells = [Cell("m", "7.2", "10.0", "a", "refused", predicted="refused", checker=("X",)),
             Cell("m", "7.2", "10.0", "b", "compatible", predicted="corrupt"),
             Cell("m", "10.0", "7.2", "a", "corrupt", predicted="compatible"),
             Cell("m", "10.0", "7.2", "b", "not-reached", predicted="corrupt")]
    m = measures(cells)
    up, down = m["oracle (captured state)"]["upgrade"], m["oracle (captured state)"]["downgrade"]
    assert (up["tp"], up["fp"], up["fn"], up["tn"], up["precision"]) == (1, 1, 0, 0, 0.5)
    assert (down["tp"], down["fn"], down["recall"]) == (0, 1, 0.0)
    assert m["checker (errors)"]["upgrade"]["tp"] == 1
    assert [c.agrees for c in cells] == [True, False, False, None]


def test_a_size_change_of_a_name_buffer_is_a_known_limit() -> None:
    src = Description("globalstate", 1, 1, (Field("runstate", "buffer", size=100),))
    dst = Description("globalstate", 1, 1, (Field("runstate", "buffer", size=32),
                                             Field("unused", "unused_buffer", size=68)))
    c = Cell("m", "7.2", "10.0", "globalstate", "compatible", predicted="corrupt")
    assert "runstate changed size" in explain(c, src, dst, None, None)
    agreeing = Cell("m", "7.2", "10.0", "globalstate", "compatible", predicted="compatible")
    assert explain(agreeing, src, dst, None, None) == ""


@pytest.mark.qemu
@pytest.mark.skipif(not (available("7.2") and available("10.0")),
                    reason="needs QEMU 7.2 and 10.0 (apt-get install qemu-system-x86; "
                           "vmcompat qemu install 10.0)")
def test_real_cross_finds_a_corruption_and_a_refusal(tmp_path: Path) -> None:
    out = tmp_path / "cross"
    r = CliRunner().invoke(main, ["qemu", "cross", "--qemu", "7.2", "--qemu", "10.0",
                                  "--machine", "pc-i440fx-7.2", "--device", "sb16",
                                  "--device", "am53c974", "--max-examples", "0",
                                  "--out", str(out)])
    assert r.exit_code == 1, r.output
    report = json.loads((out / "report.json").read_text())
    cells = {(c["source"], c["section"]): c for c in report["cells"]}
    # 10.0 turned sb16's configuration into unused bytes: 7.2 loads zeros into it
    sb16 = cells[("10.0", "sb16")]
    assert sb16["outcome"] == "corrupt" and sb16["predicted"] == "corrupt" and sb16["agrees"]
    assert {"irq", "dma", "port"} <= set(sb16["fields"])
    assert "the source has no such field" in sb16["reason"]
    # 10.0 refuses 7.2's ESP state; every other section is still judged
    (idstr,) = [k for s, k in cells if s == "7.2" and k.endswith("/pciespscsi")]
    esp = cells[("7.2", idstr)]
    assert esp["outcome"] == "refused" and esp["direction"] == "upgrade"
    assert f"Missing section footer for {idstr}" in esp["qemu_error"]
    assert "load of migration failed" not in esp["qemu_error"]
    assert esp["limit"].startswith("the layout QEMU reads depends on field_exists tests")
    assert cells[("7.2", "mc146818rtc")]["outcome"] == "compatible"
    # 7.2's ESP pre_save writes its own VMSD version: a known limit, not a silent miss
    back = cells[("10.0", idstr)]
    assert back["fields"] == ["esp.mig_version_id"] and back["agrees"] is False
    assert back["limit"].startswith("the destination's save writes its own value")
    assert not [c for c in report["cells"] if c["outcome"] == "not-reached"]
    assert set(report["measures"]) >= {"oracle (captured state)", "checker (errors)"}
    md = (out / "report.md").read_text()
    assert "| pc-i440fx-7.2 | 10.0 → 7.2 (downgrade) | `sb16` | **corrupt** |" in md
    suite = ET.fromstring((out / "junit.xml").read_text())
    assert int(suite.get("failures", "0")) >= 2
    assert "<table id=\"measures\">" in (out / "report.html").read_text()


def test_report_of_no_cells_renders() -> None:
    report = _cross.build([], qemus=[], machines=["m"], devices=[], duration=0.0)
    assert report["summary"]["ok"] and "| compatible | 0 |" in _cross.render_markdown(report)
