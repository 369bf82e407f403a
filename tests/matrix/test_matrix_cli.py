"""``vmcompat matrix`` and ``matrix merge``: files, exit codes, shards merged = unsharded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from vmcompat.cli import main
from vmcompat.report import Report

FAKE = str(Path(__file__).with_name("fake_runner.py")) + ":run_cell"
FILES = {"report.json", "report.md", "junit.xml", "report.html"}
REPO = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args), env=env)
    return r.exit_code, r.output


def test_fake_engine_run_writes_four_files(tmp_path):
    code, out = run("matrix", "--runner", FAKE, "--jobs", "1", "--out", str(tmp_path))
    assert code == 0, out
    assert FILES <= set(os.listdir(tmp_path))
    rep = Report.load(str(tmp_path / "report.json"))
    assert rep.summary["cells"] == len(rep.cells) == rep.summary["planned"]
    assert {"compatible", "refused"} <= {c["verdict"] for c in rep.cells}
    for c in rep.cells:
        assert {"device", "source", "destination", "wire", "features", "verdict",
                "examples"} <= set(c)


def test_corrupt_cell_exits_1_and_fails_junit(tmp_path):
    code, out = run("matrix", "--runner", FAKE, "--jobs", "1", "--wire", "legacy",
                    "catalog:serial", "--out", str(tmp_path),
                    env={"VMCOMPAT_FAKE_CORRUPT": "serial"})
    assert code == 1
    assert "CORRUPT" in out
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert int(suite.get("failures")) == len(suite.findall("testcase/failure")) == 1


@pytest.mark.parametrize("args", [
    ["--wire", "nope"], ["--shard", "3/2"], [], ["--catalog", "other"],
    ["catalog:no-such-device"], ["--previous", "/nonexistent/report.json"]])
def test_bad_input_exits_2(tmp_path, args):
    out = [] if args == [] else ["--out", str(tmp_path)]
    code, text = run("matrix", "--runner", FAKE, *args, *out)
    assert code == 2, text


def test_dry_run_shows_the_cell_count():
    r = CliRunner().invoke(main, ["matrix", "--dry-run", "--wire", "legacy", "catalog:serial",
                                  "--features", "all"])
    assert r.exit_code == 0
    assert "matrix: 4 cells" in r.output


def test_direction_selects_cells_and_takes_the_old_words(tmp_path):
    """--direction upgrade runs the upgrade and same-version cells only; the summary says
    so, and merge refuses a shard of another direction."""
    up, down = tmp_path / "up", tmp_path / "down"
    for folder, word, direction in ((up, "upgrade", "upgrade"), (down, "forward", "downgrade")):
        code, out = run("matrix", "--runner", FAKE, "--wire", "legacy", "catalog:serial",
                        "--direction", word, "--out", str(folder))
        assert code == 0, out
        rep = Report.load(str(folder / "report.json"))
        assert {c["direction"] for c in rep.cells} == {direction, "same"}
        assert rep.summary["direction"] == direction
    assert all(int(c["source"]) <= int(c["destination"])
               for c in Report.load(str(up / "report.json")).cells)
    code, out = run("matrix", "merge", str(up), str(down), "--out", str(tmp_path / "m"))
    assert code == 2 and "direction" in out


def test_env_selects_the_wire(tmp_path):
    code, _ = run("matrix", "--runner", FAKE, "catalog:serial", "--out", str(tmp_path),
                  env={"VMCOMPAT_WIRE": "legacy"})
    assert code == 0
    assert {c["wire"] for c in Report.load(str(tmp_path / "report.json")).cells} == {"legacy"}


def _shards_vs_whole(tmp_path, *extra: str) -> None:
    whole = tmp_path / "whole"
    code, out = run("matrix", *extra, "--seed", "5", "--out", str(whole))
    assert code in (0, 1), out
    dirs = []
    for i in (1, 2, 3):
        d = tmp_path / f"s{i}"
        assert run("matrix", *extra, "--seed", "5", "--shard", f"{i}/3", "--out", str(d))[0] \
            in (0, 1)
        dirs.append(str(d))
    merged = tmp_path / "merged"
    code2, out2 = run("matrix", "merge", *dirs, "--out", str(merged))
    assert code2 == code, out2
    a = Report.load(str(whole / "report.json")).comparable()
    b = Report.load(str(merged / "report.json")).comparable()
    assert a == b
    assert FILES <= set(os.listdir(merged))


@pytest.mark.parametrize("catalog", ["builtin", "qemu"])
def test_merged_shards_equal_unsharded_fake(tmp_path, catalog):
    """``qemu``: every shipped machine type's sections (histories ``MACHINE:IDSTR``)."""
    _shards_vs_whole(tmp_path, "--runner", FAKE, "--jobs", "1", "--catalog", catalog)


def test_merged_shards_equal_unsharded_real_engine(tmp_path):
    _shards_vs_whole(tmp_path, "catalog:ps2kbd", "catalog:serial", "catalog:mc146818rtc",
                     "--max-examples", "3", "--jobs", "1")


def test_merge_refuses_overlap_and_mismatched_seeds(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run("matrix", "--runner", FAKE, "catalog:serial", "--seed", "1", "--out", str(a))
    run("matrix", "--runner", FAKE, "catalog:serial", "--seed", "2", "--out", str(b))
    assert run("matrix", "merge", str(a), str(a), "--out", str(tmp_path / "m"))[0] == 2
    assert run("matrix", "merge", str(a), str(b), "--out", str(tmp_path / "m"))[0] == 2


def test_previous_report_changes_listed(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run("matrix", "--runner", FAKE, "catalog:serial", "--out", str(a))
    code, out = run("matrix", "--runner", FAKE, "catalog:serial", "--out", str(b),
                    "--previous", str(a), env={"VMCOMPAT_FAKE_CORRUPT": "serial"})
    assert code == 1
    assert "refused → corrupt" in out
    html = (b / "report.html").read_text()
    assert html.index("Changes since the previous report") < html.index("Matrices")


def test_builtin_catalog_real_engine_acceptance(tmp_path):
    """`vmcompat matrix --out DIR` from a shell, on the built-in catalog, every wire.

    A third of it (``--shard 1/3``: every third cell, catalog devices and release-pair
    sections of every machine type alike): the whole run (thousands of cells) is the bench's
    (``bench/test_matrix_bench.py``) and the nightly's."""
    out = tmp_path / "m"
    proc = subprocess.run([sys.executable, "-m", "vmcompat", "matrix", "--max-examples", "3",
                           "--shard", "1/3", "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True,
                          env={**os.environ, "CI": "1"}, timeout=900)
    assert proc.returncode in (0, 1), proc.stderr
    assert FILES <= set(os.listdir(out))
    rep = Report.load(str(out / "report.json"))
    verdicts = [c["verdict"] for c in rep.cells]
    assert "crash" not in verdicts, [c for c in rep.cells if c["verdict"] == "crash"][:3]
    assert {"compatible", "refused"} <= set(verdicts)
    assert rep.summary["devices"] >= 10 and rep.summary["shard"] == "1/3"
    assert {c["device"].split(":")[0] for c in rep.cells} >= {"pc-i440fx-7.2", "pc-q35-2.4"}
    assert set(rep.summary["wires"]) >= {"legacy"}
    assert proc.returncode == (1 if "corrupt" in verdicts else 0)
    assert json.loads((out / "report.json").read_text())["summary"]["ok"] == (
        proc.returncode == 0)
    assert "[" in proc.stderr and "/" in proc.stderr  # plain progress lines in CI
