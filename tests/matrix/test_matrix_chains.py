"""``vmcompat matrix --chains``: the chain section in every report, shards, merge, exit code."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vmcompat.catalog import history
from vmcompat.cli import main
from vmcompat.errors import InputError
from vmcompat.matrix import run_chains
from vmcompat.report import (
    Report,
    build_report,
    merge,
    render_html,
    render_json,
    render_junit,
    render_markdown,
    with_chains,
)

FAKE = str(Path(__file__).with_name("fake_runner.py")) + ":run_cell"
HISTORIES = {n: history(n) for n in ("wdt-gap", "mc146818rtc")}


@pytest.fixture(scope="module")
def chains() -> list[dict[str, Any]]:
    return run_chains(HISTORIES, ["legacy"], max_examples=10, seed=0)


def _report(chains: list[dict[str, Any]] | None) -> Report:
    return with_chains(build_report([], seed=0, max_examples=10, features="none",
                                    wires=["legacy"], duration=0.0), chains)


def test_worst_chain_per_device(chains: list[dict[str, Any]]) -> None:
    by = {c["device"]: c for c in chains}
    assert list(by) == ["mc146818rtc", "wdt-gap"]
    assert by["wdt-gap"]["verdict"] == "loss" and by["wdt-gap"]["path"] == ["1", "2", "3"]
    assert by["mc146818rtc"]["verdict"] == "refused"


def test_shards_split_the_devices_and_merge_back() -> None:
    cheap = {n: history(n) for n in ("spapr", "vmbus", "virtio-pci")}
    whole = run_chains(cheap, ["legacy"], max_examples=10, seed=0, jobs=2)
    parts = [run_chains(cheap, ["legacy"], max_examples=10, seed=0, shard=(i, 2))
             for i in (1, 2)]
    assert [[c["device"] for c in p] for p in parts] == [["spapr", "vmbus"], ["virtio-pci"]]
    merged = merge([_report(p) for p in parts])
    assert merged.chains == whole and merged.summary["chains"]["refused"] == 3
    with pytest.raises(InputError, match="is in"):
        merge([_report(whole), _report(whole)])
    assert merge([_report(None), _report(None)]).chains is None


def test_every_report_shows_the_chains(chains: list[dict[str, Any]]) -> None:
    rep = _report(chains)
    doc = json.loads(render_json(rep))
    assert doc["chains"] == chains and doc["summary"]["chains"] == {
        "lossless": 0, "refused": 1, "loss": 1, "corrupt": 0}
    assert Report.from_json(doc).chains == chains
    md = render_markdown(rep)
    assert "**Migration chains**" in md
    assert "| wdt-gap | 1 → 2 → 3 | legacy, legacy | **loss** | prescaler lost at hop 1" in md
    html = render_html(rep)
    assert 'id="chains"' in html and 'id="chain-wdt-gap"' in html
    suite = ET.fromstring(render_junit(rep).split("\n", 1)[1])
    failed = suite.findall("testcase[@classname='vmcompat.chain.wdt-gap']/failure")
    assert [f.get("type") for f in failed] == ["loss"]
    assert suite.get("tests") == "2" and suite.get("failures") == "1"


def test_without_chains_the_reports_are_unchanged() -> None:
    rep = _report(None)
    assert "chains" not in json.loads(render_json(rep)) and "chains" not in rep.summary
    assert "Migration chains" not in render_markdown(rep) + render_html(rep)


def test_a_loss_is_reported_a_corrupt_chain_fails(chains: list[dict[str, Any]]) -> None:
    assert _report(chains).ok and _report(chains).summary["ok"]
    corrupt = [dict(chains[0], verdict="corrupt")]
    assert not _report(corrupt).ok and not _report(corrupt).summary["ok"]
    with pytest.raises(InputError, match="chain verdict"):
        Report.from_json({"cells": [], "summary": {}, "chains": [{"device": "d",
                                                                   "verdict": "bad"}]})


def test_cli_chains_flag(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["matrix", "--runner", FAKE, "--jobs", "1", "--wire", "legacy",
                                  "catalog:spapr", "--chains", "--max-examples", "5",
                                  "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "chains: 1 devices: 0 lossless, 1 refused, 0 loss, 0 corrupt" in r.stdout
    rep = Report.load(str(tmp_path / "report.json"))
    assert [c["verdict"] for c in rep.chains or ()] == ["refused"]
    r = CliRunner().invoke(main, ["matrix", "merge", str(tmp_path), "--out",
                                  str(tmp_path / "m")])
    assert r.exit_code == 0 and Report.load(str(tmp_path / "m" / "report.json")).chains
