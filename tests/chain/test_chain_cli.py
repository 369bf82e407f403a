"""`vmcompat chain`: DESCs as `check` takes them, JSON keys, text, exit codes, -o."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vmcompat import descjson
from vmcompat.catalog import history
from vmcompat.cli import main

CHAIN_KEYS = {"device", "path", "wires", "verdict", "lost_fields", "direct_verdict",
              "counterexample"}


def chain(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["chain", *args])
    return r.exit_code, r.stdout, r.stderr


def test_the_planted_loss_exits_1_with_field_hop_and_reason() -> None:
    code, out, err = chain("catalog:wdt-gap@*", "--seed", "1", "--format", "json")
    assert code == 1, out
    assert err.strip() == "seed: 1"
    doc = json.loads(out)
    assert list(doc) == ["chains"]
    (c,) = doc["chains"]
    assert set(c) == CHAIN_KEYS
    assert c["device"] == "wdt-gap" and c["verdict"] == "loss"
    assert c["path"] == ["1", "2", "3"] and c["wires"] == ["legacy", "legacy"]
    assert c["lost_fields"] == [{"field": "prescaler", "hop": 1, "reason":
                                 "2 does not hold prescaler: 3 then loads 0 where the direct "
                                 "hop 1 → 3 gives 1"}]
    assert c["direct_verdict"] == "compatible"
    assert c["counterexample"]["state"]["prescaler"] == 1


def test_text_shows_the_chain_and_the_loss_under_it() -> None:
    code, out, _ = chain("catalog:wdt-gap@1", "catalog:wdt-gap@2", "catalog:wdt-gap@3",
                         "--seed", "1")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "seed: 1"
    assert lines[1] == "wdt-gap: LOSS  1 → 2 → 3  [legacy, legacy]"
    assert lines[2].startswith("    prescaler lost at hop 1 (1 → 2): 2 does not hold prescaler")
    assert lines[-1] == "chain: 1 loss"


def test_refusals_are_expected_exit_0(tmp_path: Path) -> None:
    """Description files work like catalog references; downgrades are refused, not lost."""
    files = []
    for d in history("mc146818rtc").versions:
        f = tmp_path / f"rtc{d.version_id}.json"
        f.write_text(json.dumps(descjson.to_json(d)))
        files.append(str(f))
    out_file = tmp_path / "chains.json"
    code, out, err = chain(*files, "--wire", "legacy", "--wire", "ber", "--max-examples", "20",
                           "--seed", "0", "--format", "json", "-o", str(out_file))
    assert code == 0, out + err
    assert out == "" and err.strip() == "seed: 0"
    (c,) = json.loads(out_file.read_text())["chains"]
    assert c["verdict"] == "refused" and c["lost_fields"] == []
    assert set(c["path"]) <= {"rtc1.json@1", "rtc2.json@2", "rtc3.json@3"}


@pytest.mark.parametrize(("args", "word"), [
    (("catalog:wdt-gap@1",), "at least two versions"),
    (("catalog:wdt-gap@1", "catalog:wdt-gap@1"), "twice"),
    (("catalog:wdt-gap@1", "catalog:nosuch@1"), "nosuch"),
    (("catalog:wdt-gap@1", "catalog:wdt-gap@2", "--device", "serial"), "serial"),
    (("catalog:wdt-gap@1", "/nonexistent/v2.json"), "/nonexistent/v2.json"),
    (("catalog:wdt-gap@1", "catalog:wdt-gap@2", "--wire", "nosuch"), "nosuch"),
])
def test_bad_input_exit_2_one_line(args: tuple[str, ...], word: str) -> None:
    code, out, err = chain(*args)
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vmcompat: ") and word in lines[0]


def test_bad_input_from_the_shell_is_one_line() -> None:
    r = subprocess.run([sys.executable, "-m", "vmcompat", "chain", "catalog:wdt-gap@1",
                        "catalog:wdt-gap@9"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and "wdt-gap" in r.stderr
