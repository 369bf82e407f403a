"""Golden-file fixtures for pytest (entry point ``pytest11``: ``vmcompat_golden``).

Follows syrupy / pytest-regressions: a test compares a value with a file kept
beside it (``<test dir>/goldens/<module>/<test>/<name>``); a missing or
different file fails with a readable diff; ``pytest --vmcompat-update-goldens`` writes
the files instead (atomically) and the run passes, listing what it wrote.

    def test_encoding(golden):
        golden.check("rtc.bin", FORMATS["legacy"].encode(desc, state))
        golden.check("rtc.json", state_json)       # JSON: diffed as a tree

``--vmcompat-wire`` (repeatable) or ``$VMCOMPAT_WIRE`` (comma-separated)
selects wire formats; the ``vmcompat_wires`` fixture returns them (default:
every registered format).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

UPDATE_OPTION = "--vmcompat-update-goldens"
#: where the option lands (tests/conftest.py adds the project's ``--update-goldens`` alias)
UPDATE_DEST = "vmcompat_update_goldens"
WIRE_OPTION = "--vmcompat-wire"
WIRE_ENV = "VMCOMPAT_WIRE"
_UPDATED = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vmcompat-golden", "vmcompat golden files")
    group.addoption(UPDATE_OPTION, action="store_true", default=False, dest=UPDATE_DEST,
                    help="Write golden files instead of comparing with them.")
    group.addoption(WIRE_OPTION, action="append", default=None, metavar="WIRE",
                    help=f"Wire format(s) to test (repeatable; default ${WIRE_ENV} or all).")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_UPDATED] = []


def _serialize(value: Any) -> tuple[bytes, Any]:
    """(bytes to store, JSON tree or None)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), None
    if isinstance(value, str):
        return value.encode(), None
    return (json.dumps(value, indent=2) + "\n").encode(), value


class GoldenFixture:
    """Compare values with golden files; update them with ``--vmcompat-update-goldens``."""

    def __init__(self, directory: Path, update: bool, updated: list[str]) -> None:
        self.directory, self.update, self._updated = directory, update, updated

    def path(self, name: str) -> Path:
        return self.directory / name

    def check(self, name: str, value: Any) -> None:
        from vmcompat.golden import diff_trees, format_bytes_diff, format_changes

        path = self.path(name)
        raw, tree = _serialize(value)
        old = path.read_bytes() if path.exists() else None
        if old == raw:
            return
        if self.update:
            from vmcompat.atomic import write_atomic

            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(str(path), raw)
            self._updated.append(str(path))
            return
        if old is None:
            pytest.fail(f"no golden file {path} (run pytest {UPDATE_OPTION} to create it)",
                        pytrace=False)
        if tree is not None:
            try:
                detail = format_changes(diff_trees(json.loads(old), tree))
            except ValueError:
                detail = format_bytes_diff(old, raw)
        else:
            detail = format_bytes_diff(old, raw)
        pytest.fail(f"golden mismatch {path} (stored → now; run pytest {UPDATE_OPTION} if "
                    f"intended):\n{detail}", pytrace=False)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", text).strip("_") or "_"


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> GoldenFixture:
    """Golden files of this test: ``<test dir>/goldens/<module>/<test name>/``."""
    path = Path(str(request.node.path))
    directory = path.parent / "goldens" / path.stem / _slug(request.node.name)
    return GoldenFixture(directory, bool(request.config.getoption(UPDATE_DEST)),
                         request.config.stash[_UPDATED])


@pytest.fixture
def vmcompat_wires(request: pytest.FixtureRequest) -> list[str]:
    """Wires selected by ``--vmcompat-wire`` or ``$VMCOMPAT_WIRE`` (default: all registered)."""
    from vmcompat.formats import FORMATS

    given = request.config.getoption(WIRE_OPTION) or [
        w.strip() for w in os.environ.get(WIRE_ENV, "").split(",") if w.strip()]
    unknown = [w for w in given if w not in FORMATS]
    if unknown:
        raise pytest.UsageError(f"unknown wire {unknown[0]!r} (registered: "
                                f"{', '.join(sorted(FORMATS))})")
    return sorted(dict.fromkeys(given)) or sorted(FORMATS)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config
                            ) -> None:
    updated = config.stash.get(_UPDATED, [])
    if updated:
        from vmcompat.words import plural

        terminalreporter.write_sep("-", f"{plural(len(updated), 'golden file')} written")
        for p in updated:
            terminalreporter.write_line(f"  {p}")
