"""`vmcompat fuzz`: exit codes, JSON keys, the seed, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vmcompat import descjson
from vmcompat.cli import main
from vmcompat.dsl import device, int8, uint8, uint16

OLD = device("dev", 1, uint8("a"), uint16("b"))
SIGNED = device("dev", 1, int8("a"), uint16("b"))
CELL_KEYS = {"device", "source", "destination", "wire", "direction", "verdict", "examples"}


def fuzz(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["fuzz", *args])
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "old.json").write_text(json.dumps(descjson.to_json(OLD)))
    (tmp_path / "signed.json").write_text(json.dumps(descjson.to_json(SIGNED)))
    return tmp_path


def test_compatible_exit_0_and_seed_printed() -> None:
    code, out, _ = fuzz("catalog:ps2kbd@2", "catalog:ps2kbd@3", "--max-examples", "10",
                        "--seed", "42")
    assert code == 0, out
    assert out.splitlines()[0] == "seed: 42"
    assert "ps2kbd 2 -> 3 [legacy, upgrade]: compatible (10 examples)" in out


def test_downgrade_is_named_so_and_old_words_are_aliases() -> None:
    code, out, _ = fuzz("catalog:ps2kbd@2", "catalog:ps2kbd@3", "--direction", "forward",
                        "--max-examples", "3", "--seed", "1")
    assert code == 1
    assert "ps2kbd 3 -> 2 [legacy, downgrade]: refused" in out


def test_json_cells_and_refusal_exit_1() -> None:
    code, out, err = fuzz("catalog:ps2kbd@2", "catalog:ps2kbd@3", "--direction", "both",
                          "--max-examples", "5", "--format", "json", "--seed", "9")
    assert code == 1, "the downgrade (v3 into v2) is refused: not every cell is compatible"
    assert err.strip() == "seed: 9"
    doc = json.loads(out)
    assert doc["seed"] == 9
    cells = doc["cells"]
    assert [c["direction"] for c in cells] == ["upgrade", "downgrade"]
    assert all(CELL_KEYS <= set(c) for c in cells)
    assert cells[0]["verdict"] == "compatible" and "reason" not in cells[0]
    assert cells[1]["verdict"] == "refused" and cells[1]["reason"] == "too_new"
    assert (cells[1]["source"], cells[1]["destination"]) == ("3", "2")


def test_corrupt_cell_shows_the_counterexample(files: Path) -> None:
    code, out, _ = fuzz(str(files / "old.json"), str(files / "signed.json"), "--seed", "1",
                        "--format", "json")
    assert code == 1
    cell = json.loads(out)["cells"][0]
    assert cell["verdict"] == "corrupt"
    ce = cell["counterexample"]
    assert {"state", "written", "loaded", "expected", "first_difference"} <= set(ce)
    assert ce["state"]["a"] >= 128 and ce["first_difference"] == "a"
    code, text, _ = fuzz(str(files / "old.json"), str(files / "signed.json"), "--seed", "1")
    assert code == 1 and "corrupt" in text and "minimal state:" in text


def test_same_seed_same_output(files: Path) -> None:
    args = (str(files / "old.json"), str(files / "signed.json"), "--seed", "5", "--format",
            "json")
    assert fuzz(*args)[1] == fuzz(*args)[1]


@pytest.mark.parametrize("args", [
    ("catalog:nosuchdevice@1", "catalog:ps2kbd@3"),
    ("catalog:ps2kbd@2", "catalog:ps2kbd@3", "--device", "serial"),
    ("catalog:ps2kbd@2", "catalog:serial@3"),
    ("/nonexistent/old.json", "catalog:ps2kbd@3"),
])
def test_bad_input_exit_2_one_line(args: tuple[str, ...]) -> None:
    r = subprocess.run([sys.executable, "-m", "vmcompat", "fuzz", *args],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vmcompat: ")
    assert "Traceback" not in r.stderr


JARGON = ("projection", "by-name", "either", "oracle", "(s)")


def test_corrupt_cell_says_what_qemu_does(tmp_path: Path) -> None:
    """Two same-size fields swapped: the message says which bytes QEMU reads, in plain
    words (before: "loaded state differs from the projection at b (b: reads 0 from a where
    the by-name value is 1)")."""
    (tmp_path / "old.json").write_text(json.dumps(descjson.to_json(
        device("dev", 1, uint8("a"), uint8("b")))))
    (tmp_path / "new.json").write_text(json.dumps(descjson.to_json(
        device("dev", 1, uint8("b"), uint8("a")))))
    code, text, _ = fuzz(str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--seed", "1")
    assert code == 1
    detail = text.splitlines()[2].strip()
    assert detail.startswith("the loaded state differs at ")
    assert "QEMU reads " in detail and " from the bytes of " in detail
    assert "where the source saved" in detail
    assert not any(w in text for w in JARGON), text
    code, out, _ = fuzz(str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--seed", "1",
                        "--format", "json")
    ce = json.loads(out)["cells"][0]["counterexample"]
    assert ce["expected_outcome"] == ("QEMU refuses the load, or loads exactly the expected "
                                      "state")


def test_refused_cell_prints_qemus_message(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(descjson.to_json(
        device("dev", 1, uint8("a"), uint8("b")))))
    (tmp_path / "c.json").write_text(json.dumps(descjson.to_json(
        device("dev", 2, uint8("a"), uint8("b", version=2), minimum=1))))
    code, text, _ = fuzz(str(tmp_path / "a.json"), str(tmp_path / "c.json"), "--seed", "1",
                         "--max-examples", "1", "--direction", "downgrade")
    assert code == 1
    assert text.splitlines()[1] == ("dev c.json@2 -> a.json@1 [legacy, downgrade]: refused "
                                    "(1 example): dev: incoming version_id 2 is too new for "
                                    "local version_id 1")
