"""Committed golden streams of real QEMUs (and, when present, the shared 7.2 reference set).

Tests that take ``golden_path`` run once per committed stream of every release
(``golden/qemu-*/streams``); ``shared_path``
once per reference stream (skipped with a reason when the folder is absent).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "qemu-7.2"
STREAMS = GOLDEN / "streams"
VMDESC = GOLDEN / "vmdesc"
SHARED = Path("/work/shared/qemu-7.2")

#: machine types whose streams have no vmdesc -> the machine whose vmdesc decodes them
VMDESC_FROM = {"pc-i440fx-2.0": "pc-i440fx-2.3"}


def _outside(path: Path, folder: Path, pattern: str) -> Any:
    for machine, other in VMDESC_FROM.items():
        if path.stem.endswith(machine):
            return json.loads((folder / pattern.format(other)).read_text())
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "golden_path" in metafunc.fixturenames:
        paths = sorted(GOLDEN.parent.glob("qemu-*/streams/*.bin"))
        metafunc.parametrize("golden_path", paths,
                             ids=[f"{p.parent.parent.name}/{p.stem}" for p in paths])
    if "shared_path" in metafunc.fixturenames:
        if (SHARED / "streams").is_dir():
            paths = sorted((SHARED / "streams").glob("*.bin"))
            metafunc.parametrize("shared_path", paths, ids=[p.stem for p in paths])
        else:
            metafunc.parametrize("shared_path", [pytest.param(None, marks=pytest.mark.skip(
                reason="reference streams /work/shared/qemu-7.2/streams absent"))])


@pytest.fixture(scope="session")
def vmdesc_for() -> Callable[[Path], Any]:
    """The outside vmdesc a golden stream needs (None: it has its own)."""
    return lambda p: _outside(p, p.parent.parent / "vmdesc", "{}.json")


@pytest.fixture(scope="session")
def shared_vmdesc_for() -> Callable[[Path], Any]:
    return lambda p: _outside(p, SHARED / "vmdesc", "vmdesc-{}.json")


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return GOLDEN


@pytest.fixture(scope="session")
def golden_bytes() -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in sorted(STREAMS.glob("*.bin"))}
