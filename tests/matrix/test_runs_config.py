"""tox.ini and noxfile.py offer the same runs: Python × wire factors, quick/nightly/qemu."""

from __future__ import annotations

import configparser
import importlib
import importlib.util
from pathlib import Path

import pytest

from vmcompat.formats import FORMATS

REPO = Path(__file__).resolve().parents[2]


def tox() -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(REPO / "tox.ini")
    return cp


def test_tox_factors_and_labels():
    cp = tox()
    envs = cp["tox"]["env_list"]
    assert "py3{11,12}-wire-{legacy,ber,json}" in envs
    labels = dict(line.split(" = ", 1) for line in cp["tox"]["labels"].strip().splitlines())
    assert set(labels) == {"quick", "nightly", "qemu"}
    assert "nightly" in labels["nightly"] and "wire-{legacy,ber,json}" in labels["nightly"]
    assert "slow" in labels["nightly"] and "--run-slow -m slow" in cp["testenv:slow"]["commands"]
    set_env = cp["testenv"]["set_env"]
    for wire in ("legacy", "ber", "json"):
        assert f"wire-{wire}: VMCOMPAT_WIRE = {wire}" in set_env
    assert set(FORMATS) <= {"legacy", "ber", "json"}, "a new wire needs a tox factor"
    assert "-n {env:VMCOMPAT_JOBS:2}" in cp["testenv"]["commands"]  # pytest-xdist
    assert "VMCOMPAT_REDIS_URL" in cp["testenv"]["pass_env"]


def test_nox_has_the_same_sessions():
    pytest.importorskip("nox", reason="nox is a dev extra: pip install -e '.[dev]'")
    registry = importlib.import_module("nox.registry")

    spec = importlib.util.spec_from_file_location("vmcompat_noxfile", REPO / "noxfile.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    reg = registry.get()
    assert {"tests", "matrix", "nightly", "golden", "qemu", "slow"} <= set(reg)
    for name in ("matrix", "nightly"):
        wires = [p.arg_names and p.call_spec["wire"] for p in reg[name].parametrize]
        assert wires == ["legacy", "ber", "json"]
        assert reg[name].python == ["3.11", "3.12"]


def test_only_the_nightly_runs_chains():
    commands = tox()["testenv"]["commands"].splitlines()
    nightly = [c for c in commands if c.strip().startswith("wire-nightly:")]
    quick = [c for c in commands if c.strip().startswith("wire-!nightly:")]
    assert len(nightly) == len(quick) == 1
    assert "--chains" in nightly[0] and "--chains" not in quick[0]
    nox_text = (REPO / "noxfile.py").read_text()
    body = nox_text.split("def nightly(", 1)[1].split("@nox.session", 1)[0]
    assert '"--chains"' in body and '"--chains"' not in nox_text.split("def nightly(", 1)[0]
