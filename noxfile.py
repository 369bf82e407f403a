"""nox sessions, the same as tox.ini's environments (see README, "Runs").

    nox -t quick              test suite on 3.11 + legacy-wire matrix + golden verify
    nox -t nightly            every wire, nightly profile, shared example database
    nox -s "matrix(wire='ber')"
    nox -t qemu

Reports go to ``.nox/reports/<session>/``.
"""

from __future__ import annotations

import os

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

PYTHONS = ["3.11", "3.12"]
WIRES = ["legacy", "ber", "json"]
JOBS = os.environ.get("VMCOMPAT_JOBS", "2")


#: CI's exact versions (pyproject.toml declares compatible ranges only)
CONSTRAINTS = os.path.join(".ci", "constraints.txt")


def _install(session: nox.Session) -> None:
    session.install("-c", CONSTRAINTS, "-e", ".[test]")


def _reports(session: nox.Session) -> str:
    return os.path.join(".nox", "reports", session.name.replace("(", "-").replace(")", "")
                        .replace("'", "").replace("=", "-").replace(", ", "-"))


@nox.session(python=PYTHONS, tags=["quick"])
def tests(session: nox.Session) -> None:
    """pytest suite (pytest-xdist, 2 workers, ci profile)."""
    _install(session)
    session.run("python", "-m", "pytest", "-n", JOBS, "--hypothesis-profile=ci", *session.posargs)


@nox.session(python=PYTHONS)
@nox.parametrize("wire", [nox.param("legacy", tags=["quick"]), *WIRES[1:]])
def matrix(session: nox.Session, wire: str) -> None:
    """Compatibility matrix on one wire (the quick tag runs the legacy wire)."""
    _install(session)
    session.run("vmcompat", "matrix", "--catalog", "catalog", "--wire", wire, "--jobs", JOBS,
                "--out", _reports(session), *session.posargs, env={"VMCOMPAT_WIRE": wire})


@nox.session(python=PYTHONS, tags=["nightly"])
@nox.parametrize("wire", WIRES)
def nightly(session: nox.Session, wire: str) -> None:
    """Nightly matrix: all feature sets, many examples, shared example database, chains."""
    _install(session)
    session.run("vmcompat", "matrix", "--wire", wire, "--profile", "nightly", "--features",
                "all", "--chains", "--max-examples",
                os.environ.get("VMCOMPAT_NIGHTLY_EXAMPLES", "200"),
                "--jobs", JOBS, "--out", _reports(session), *session.posargs,
                env={"VMCOMPAT_WIRE": wire, "VMCOMPAT_PROFILE": "nightly"})


@nox.session(tags=["quick", "nightly"])
def golden(session: nox.Session) -> None:
    """Every golden decodes, re-encodes, loads in the newest version; none unused."""
    _install(session)
    session.run("vmcompat", "golden", "verify", *session.posargs)


@nox.session(tags=["qemu"])
def qemu(session: nox.Session) -> None:
    """Tests that drive a real qemu-system-x86_64."""
    _install(session)
    session.run("python", "-m", "pytest", "-m", "qemu", "-n", JOBS, "--hypothesis-profile=ci",
                *session.posargs)


@nox.session(tags=["nightly"])
def slow(session: nox.Session) -> None:
    """The slow tests (full-catalog mutation quality: kill and false-positive rates)."""
    _install(session)
    session.run("python", "-m", "pytest", "--run-slow", "-m", "slow", "-s",
                "--hypothesis-profile=ci", *session.posargs)


#: the real-QEMU fuzz of the nightly run: same-release runs (QEMU's normalisations) and
#: both cross-release directions, every section of the broad device set
QEMU_FUZZ_RUNS = {"7.2": ["--qemu", "7.2"], "10.0": ["--qemu", "10.0"],
                  "cross": ["--qemu", "7.2", "--qemu", "10.0"]}


@nox.session(tags=["nightly"])
def qemu_fuzz(session: nox.Session) -> None:
    """vmcompat qemu fuzz over the broad device set, QEMU 7.2 and 10.0 (exit 1 is a finding:
    the run goes on, junit.xml fails its test cases)."""
    _install(session)
    for name, qemus in QEMU_FUZZ_RUNS.items():
        session.run("vmcompat", "qemu", "fuzz", *qemus, "--machine", "pc-i440fx-7.2",
                    "--devices", "broad", "--max-examples",
                    os.environ.get("VMCOMPAT_QEMU_FUZZ_EXAMPLES", "20"), "--jobs", JOBS,
                    "--out", os.path.join(_reports(session), name), *session.posargs,
                    success_codes=[0, 1])
