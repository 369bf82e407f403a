"""The pytest11 plugin adds only vmcompat's names: a user's own suite starts beside it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import vmcompat.pytest_golden as golden_plugin
import vmcompat.pytest_plugin as plugin

#: pytest's documented conftest example ("Control skipping of tests according to command
#: line option"), with the option spelt as in many suites, plus other everyday names
USER_CONFTEST = '''
import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=5)


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="run slow tests")
    parser.addoption("--update-goldens", action="store_true", default=False)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: mark test as slow to run")
    config.addinivalue_line("markers", "qemu: needs qemu")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip_slow = pytest.mark.skip(reason="need --run-slow option to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)
'''

USER_TESTS = '''
import pytest


def test_vmcompat_plugin_is_loaded(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("vmcompat")
    assert pytestconfig.getoption("--vmcompat-catalog") is None


@pytest.mark.slow
def test_slow(pytestconfig):
    assert pytestconfig.getoption("--run-slow")


@pytest.mark.qemu
def test_marked():
    pass
'''


def test_a_user_suite_with_its_own_run_slow_starts_and_passes(
        tmp_path: Path, tree_env: dict[str, str]) -> None:
    (tmp_path / "conftest.py").write_text(USER_CONFTEST)
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    env = dict(tree_env)
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)  # vmcompat loads as any user's would
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "--strict-markers", "--run-slow", "--hypothesis-profile", "ci", "-rs"],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "3 passed" in r.stdout, r.stdout[-3000:]


class _Recorder:
    """Records the names a plugin's ``pytest_addoption`` adds."""

    def __init__(self) -> None:
        self.options: list[str] = []

    def getgroup(self, *_: Any) -> _Recorder:
        return self

    def addoption(self, *names: str, **_: Any) -> None:
        self.options.extend(names)


def test_every_option_marker_and_profile_is_namespaced() -> None:
    rec = _Recorder()
    for module in (plugin, golden_plugin):
        module.pytest_addoption(rec)
    assert rec.options and all(o.startswith("--vmcompat-") for o in rec.options), rec.options
    assert all(m.startswith("vmcompat_") for m in plugin.MARKERS), plugin.MARKERS
    assert all(p.startswith("vmcompat-") for p in plugin.PROFILES), plugin.PROFILES
