"""The pytest plugin: profiles, the compat_cell fixture and its parametrizer, statistics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import settings

import vmcompat.pytest_plugin as plugin

USER_TEST = '''
from vmcompat.dsl import device, int8, uint8
from vmcompat.model import DeviceHistory
from vmcompat.pytest_plugin import parametrize_cells

GOOD = DeviceHistory("mine", (device("mine", 1, uint8("a")),
                              device("mine", 2, uint8("a"), uint8("b", version=2), minimum=1)))
BAD = DeviceHistory("bad", (device("bad", 1, uint8("a")), device("bad", 2, int8("a"), minimum=1)))

@parametrize_cells("catalog:ps2kbd", GOOD)
def test_histories(compat_cell):
    compat_cell.check()

@parametrize_cells(BAD)
def test_bad(compat_cell):
    compat_cell.check()
'''


def _pytest(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_user.py").write_text(USER_TEST)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                           "-p", "no:cacheprovider", str(tmp_path / "test_user.py"), *args],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)


def test_profiles_registered() -> None:
    assert set(plugin.PROFILES) == {"vmcompat-dev", "vmcompat-ci", "vmcompat-nightly"}
    ci = settings.get_profile("vmcompat-ci")
    assert ci.derandomize and ci.deadline is None
    assert settings.get_profile("vmcompat-nightly").max_examples > ci.max_examples
    # the project's own names (tests/conftest.py) are the same settings
    assert settings.get_profile("ci").max_examples == ci.max_examples


def test_compat_cell_over_user_histories(tmp_path: Path, tree_env: dict[str, str]) -> None:
    r = _pytest(tmp_path, tree_env, "--hypothesis-profile", "vmcompat-dev",
                "--hypothesis-show-statistics")
    out = r.stdout
    # ps2kbd (2 versions) and GOOD: 4 pairs each pass; BAD 1->2 is corrupt (uint8 -> int8)
    assert "1 failed, 11 passed" in out, out[-3000:]
    assert "test_bad[bad-1-2-legacy]" in out
    assert "corrupt" in out and '"first_difference": "a"' in out
    assert "verdict: compatible" in out, "events reach --hypothesis-show-statistics"


def test_catalog_option(tmp_path: Path, tree_env: dict[str, str]) -> None:
    (tmp_path / "test_opt.py").write_text(
        "def test_cells(compat_cell):\n    compat_cell.check()\n")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                        "-p", "no:cacheprovider", str(tmp_path / "test_opt.py"),
                        "--vmcompat-catalog", "ps2kbd", "--hypothesis-profile", "vmcompat-ci"],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path, env=tree_env)
    assert "4 passed" in r.stdout, r.stdout[-2000:]
