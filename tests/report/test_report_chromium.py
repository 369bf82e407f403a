"""report.html rendered by a real browser: headless Chromium shows the matrices."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from vmcompat.compat.verdict import Cell, CellResult, Verdict
from vmcompat.report import build_report, write_reports

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)
pytestmark = [pytest.mark.chromium,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian package "
                                 "'chromium'; .ci/run installs it)")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-dev-shm-usage", "--no-first-run", "--window-size=1200,900"]


def _report(tmp_path):
    results = []
    for dev in ("rtc", "serial"):
        for s in (1, 2):
            for d in (1, 2):
                v = Verdict.COMPATIBLE if s <= d else Verdict.REFUSED
                if dev == "serial" and s == 2 and d == 2:
                    v = Verdict.CORRUPT
                results.append((CellResult(Cell(dev, str(s), str(d), "legacy"), v, 3,
                                           None if v is Verdict.COMPATIBLE else f"{v.value}!",
                                           {"state": {"a": 1}} if v.bad else None), 0.1))
    rep = build_report(results, seed=0, max_examples=3, features="none", wires=["legacy"],
                       duration=0.5)
    write_reports(rep, str(tmp_path))
    return tmp_path / "report.html"


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True,
                          timeout=120)


def test_dom_shows_the_matrices(tmp_path):
    page = _report(tmp_path)
    proc = _chromium("--dump-dom", page.as_uri())
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    tables = re.findall(r'<table class="matrix" data-device="(\w+)" data-wire="legacy">', dom)
    assert tables == ["rtc", "serial"]
    assert dom.count('<td class="corrupt"') == 1 and dom.count('<td class="refused"') == 2
    assert 'id="c-serial-base-legacy-2-2"' in dom


def test_screenshot_is_painted(tmp_path):
    page = _report(tmp_path)
    shot = tmp_path / "shot.png"
    proc = _chromium(f"--screenshot={shot}", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
