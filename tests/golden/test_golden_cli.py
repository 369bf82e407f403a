"""``vmcompat golden`` on the committed goldens and on copies of them."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from vmcompat.catalog import load
from vmcompat.cli import main
from vmcompat.formats import FORMATS
from vmcompat.golden import DirectoryGoldenStore, cases
from vmcompat.golden._store import SLOW_ENV
from vmcompat.golden._verify import check_golden

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "golden"
DIFF_LINE = re.compile(r"^\s+\S+: .+ → .+$", re.M)


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.output


@pytest.fixture
def golden_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "golden"
    shutil.copytree(GOLDEN, dst)
    return dst


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes())
                                       .hexdigest())
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_verify_passes_on_the_checkout(request):
    """With ``pytest --update-goldens`` the committed goldens are rewritten first
    (``vmcompat golden update``: frozen ones still need ``--force --reason``)."""
    if request.config.getoption("--update-goldens"):
        code, out = run("golden", "update", "--golden-dir", str(GOLDEN))
        assert code == 0, out
    code, out = run("golden", "verify", "--golden-dir", str(GOLDEN))
    assert code == 0, out
    assert "verified" in out


def test_every_golden_with_one_byte_flipped_fails_readably():
    """Every committed payload, its middle byte flipped: a problem with a diff or a reason."""
    hs = load()
    checked = 0
    store = DirectoryGoldenStore(str(GOLDEN))
    for h in hs.values():
        for case in cases(h):
            for w in FORMATS:
                payload = store.fetch(case.key(w).path)
                state = store.fetch(case.key(w, "json").path)
                if not payload:
                    continue
                flipped = bytearray(payload)
                flipped[len(flipped) // 2] ^= 0x01
                msgs = check_golden(case, w, bytes(flipped), state)
                assert msgs, f"{case.key(w).label()}: a flipped byte went unnoticed"
                text = "\n".join(msgs)
                assert DIFF_LINE.search(text) or "bytes differ at offset" in text, text
                checked += 1
    assert checked >= 10 * 2


def test_cli_flip_prints_field_path_old_new(golden_copy: Path):
    name = sorted(load())[0]
    h = load()[name]
    key = cases(h)[0].key("legacy").path
    p = golden_copy / key
    data = bytearray(p.read_bytes())
    data[0] ^= 0x01
    p.write_bytes(bytes(data))
    code, out = run("golden", "verify", "--golden-dir", str(golden_copy))
    assert code == 1
    assert f"FAIL {name}@{h.versions[0].version_id} legacy sample" in out
    assert DIFF_LINE.search(out) or "payload no longer loads" in out, out
    assert "bytes differ at offset" in out


def test_update_on_an_unchanged_tree_changes_no_file(golden_copy: Path):
    before = snapshot(golden_copy)
    code, out = run("golden", "update", "--golden-dir", str(golden_copy))
    assert code == 0, out
    assert re.search(r"0 written, 0 removed, \d+ unchanged", out), out
    assert snapshot(golden_copy) == before


def test_unused_golden_fails_verify(golden_copy: Path):
    extra = golden_copy / "no-such-device" / "v1" / "legacy" / "sample.bin"
    extra.parent.mkdir(parents=True)
    extra.write_bytes(b"\x00")
    code, out = run("golden", "verify", "--golden-dir", str(golden_copy))
    assert code == 1 and "unused golden" in out and "no-such-device" in out


def test_frozen_golden_refused_without_force(golden_copy: Path):
    name = sorted(load())[0]
    h = load()[name]
    v = h.versions[0].version_id
    assert run("golden", "freeze", "--golden-dir", str(golden_copy), f"{name}@{v}")[0] == 0
    p = golden_copy / cases(h, v)[0].key("legacy").path
    p.write_bytes(b"\x00" + p.read_bytes())
    touched = p.read_bytes()
    code, out = run("golden", "update", "--golden-dir", str(golden_copy))
    assert code == 1 and "refusing to change 1 golden" in out
    assert p.read_bytes() == touched
    code, out = run("golden", "update", "--golden-dir", str(golden_copy), "--force")
    assert code == 2 and "--reason" in out
    code, out = run("golden", "update", "--golden-dir", str(golden_copy), "--force",
                    "--reason", "legacy codec fix")
    assert code == 0, out
    changes = json.loads((golden_copy / "CHANGES.json").read_text())["changes"]
    assert changes[-1]["reason"] == "legacy codec fix"
    assert changes[-1]["files"] == [str(p.relative_to(golden_copy))]
    assert run("golden", "verify", "--golden-dir", str(golden_copy), "--device", name)[0] == 0


def test_released_freeze_lists_all_but_newest(golden_copy: Path):
    code, _ = run("golden", "freeze", "--golden-dir", str(golden_copy), "--released")
    assert code == 0
    frozen = json.loads((golden_copy / "FROZEN.json").read_text())["frozen"]
    for name, h in load().items():
        assert frozen.get(name, []) == sorted(set(frozen.get(name, [])))
        assert h.latest.version_id not in frozen.get(name, [])


def test_bad_input_exits_2(tmp_path: Path):
    assert run("golden", "verify", "--golden-dir", str(tmp_path / "none"))[0] == 2
    assert run("golden", "verify", "--golden-dir", str(GOLDEN), "--device", "nope")[0] == 2
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "FROZEN.json").write_text("[1]")
    assert run("golden", "update", "--golden-dir", str(tmp_path / "g"))[0] == 2


def test_kill_during_update_leaves_no_torn_file(golden_copy: Path):
    """Every payload changed, the writer slowed down and killed mid-way: old or new, never torn."""
    old: dict[str, bytes] = {}
    for p in golden_copy.rglob("*.bin"):
        if p.relative_to(golden_copy).parts[0].startswith("qemu-"):
            continue
        new = p.read_bytes()
        old[str(p)] = new + b"\xee"
        p.write_bytes(old[str(p)])
    env = {**os.environ, SLOW_ENV: "0.01", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "vmcompat", "golden", "update",
                             "--golden-dir", str(golden_copy), "--force", "--reason", "test"],
                            env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    # kill as soon as the rename phase has started (some payloads are new, some old)
    while time.monotonic() < deadline and proc.poll() is None:
        if any(Path(p).read_bytes() != b for p, b in old.items()):
            break
        time.sleep(0.005)
    finished = proc.poll()
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert finished is None, f"update ended before the kill: {err.decode()[-500:]}"
    fresh = {}
    for p, b in old.items():
        fresh[p] = Path(p).read_bytes()
        assert fresh[p] in (b, b[:-1]), f"torn file {p}"
    n_new = sum(fresh[p] != b for p, b in old.items())
    assert 0 < n_new < len(old), "the kill did not land mid-way; the test proves nothing"
    code, out = run("golden", "update", "--golden-dir", str(golden_copy), "--force",
                    "--reason", "test")
    assert code == 0, out
    assert DirectoryGoldenStore(str(golden_copy)).temp_files() == []
    assert run("golden", "verify", "--golden-dir", str(golden_copy))[0] == 0


def test_schema_goldens_verified_when_present(golden_copy: Path):
    from vmcompat import schema

    schema.write_goldens(str(golden_copy / "schemas"))
    code, out = run("golden", "verify", "--golden-dir", str(golden_copy))
    assert code == 0, out
    first = sorted((golden_copy / "schemas").rglob("*.schema.json"))[0]
    obj = json.loads(first.read_text())
    obj["title"] = "edited by hand"
    first.write_text(json.dumps(obj))
    code, out = run("golden", "verify", "--golden-dir", str(golden_copy))
    assert code == 1
    assert "schema golden differs" in out and "title: 'edited by hand' → " in out
    code, out = run("golden", "update", "--golden-dir", str(golden_copy))
    assert code == 0 and first.read_text() == json.dumps(obj)  # not ours to rewrite


def test_verify_json_output(golden_copy: Path):
    name = sorted(load())[0]
    code, out = run("golden", "verify", "--golden-dir", str(golden_copy), "--device", name,
                    "--format", "json")
    assert code == 0
    obj = json.loads(out)
    assert obj["ok"] is True and obj["checked"] > 0 and obj["problems"] == []
    (golden_copy / cases(load()[name])[0].key("legacy", "json").path).unlink()
    code, out = run("golden", "verify", "--golden-dir", str(golden_copy), "--device", name,
                    "--format", "json")
    assert code == 1 and json.loads(out)["problems"][0]["kind"] == "missing"


def test_verify_of_a_folder_that_is_not_a_golden_store_is_bad_input(tmp_path: Path):
    """`golden verify --golden-dir /tmp`: one line naming what is missing, not a problem per file."""
    (tmp_path / "notes.txt").write_text("not a golden")
    (tmp_path / "build" / "v1").mkdir(parents=True)
    (tmp_path / "build" / "v1" / "out.bin").write_bytes(b"\x00")
    code, out = run("golden", "verify", "--golden-dir", str(tmp_path))
    assert code == 2
    assert out == (f"vmcompat: {tmp_path}: not a golden store: no FROZEN.json and no "
                   "<device>/v<N>/<wire>/<case>.bin of a catalog device; `vmcompat golden "
                   "update` creates one\n")


def test_a_store_without_frozen_json_is_still_a_golden_store(golden_copy: Path):
    (golden_copy / "FROZEN.json").unlink()
    code, out = run("golden", "verify", "--golden-dir", str(golden_copy), "--device", "ps2kbd")
    assert code == 0, out


def test_goldens_get_the_mode_the_umask_gives(tmp_path: Path):
    old = os.umask(0o027)
    try:
        DirectoryGoldenStore(str(tmp_path)).save("d/v1/legacy/sample.bin", b"\x01")
    finally:
        os.umask(old)
    assert (tmp_path / "d" / "v1" / "legacy" / "sample.bin").stat().st_mode & 0o777 == 0o640
