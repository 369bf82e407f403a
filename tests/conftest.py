"""The project's own test infrastructure (not the plugin's: a user's suite has its own).

- ``--run-slow`` (or ``VMCOMPAT_SLOW=1``) runs the tests marked ``slow`` (nightly);
- markers ``slow``, ``qemu``, ``chromium``, ``redis`` (tests that need those binaries skip
  with a reason without them);
- Hypothesis profiles ``dev``, ``ci``, ``nightly``: the plugin's ``vmcompat-dev``,
  ``vmcompat-ci`` and ``vmcompat-nightly`` under the names the README, tox, nox and .ci/run
  use;
- ``--update-goldens``: the golden fixture's ``--vmcompat-update-goldens`` under the name
  the README uses.

Fixtures live in the plugin and in per-folder conftests; ``tree_env`` is here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from vmcompat.pytest_golden import UPDATE_DEST
from vmcompat.pytest_plugin import PROFILES

REPO = Path(__file__).resolve().parents[1]
RUN_SLOW = "--run-slow"
SLOW_ENV = "VMCOMPAT_SLOW"

MARKERS = {
    "slow": f"slow test (nightly): skipped unless {RUN_SLOW} or {SLOW_ENV}=1",
    "qemu": "needs a real qemu-system-x86_64 (skipped with a reason when absent)",
    "chromium": "needs headless chromium (skipped with a reason when absent)",
    "redis": "needs redis-server (skipped with a reason when absent)",
}

for _name in ("dev", "ci", "nightly"):
    settings.register_profile(_name, PROFILES[f"vmcompat-{_name}"])


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(RUN_SLOW, action="store_true", default=False,
                     help="also run tests marked slow (the nightly runs do)")
    parser.addoption("--update-goldens", action="store_true", default=False, dest=UPDATE_DEST,
                     help="alias of --vmcompat-update-goldens")


def pytest_configure(config: pytest.Config) -> None:
    for name, doc in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption(RUN_SLOW) or os.environ.get(SLOW_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=f"slow (nightly): run with {RUN_SLOW} or {SLOW_ENV}=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def tree_env() -> dict[str, str]:
    """The environment for a subprocess that must import this tree's vmcompat (not another
    install's) whatever its working directory."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
