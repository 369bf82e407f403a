"""vmcompat's pytest plugin (entry point ``pytest11``): markers, options, profiles, fixtures.

Every name it adds is vmcompat's (options ``--vmcompat-…``, markers ``vmcompat_…``,
profiles ``vmcompat-…``), so it never clashes with a suite's own ``--run-slow``, ``slow``
marker or ``ci`` profile. Hypothesis profiles, registered when the plugin loads and
selected with Hypothesis's own ``--hypothesis-profile NAME``:

- ``vmcompat-dev`` — 25 examples, no deadline (quick local runs);
- ``vmcompat-ci`` — ``derandomize=True`` (the same examples every run), no deadline,
  50 examples;
- ``vmcompat-nightly`` — 1000 examples, no deadline.

Fuzzing your own device histories::

    import pytest
    from vmcompat.pytest_plugin import parametrize_cells

    @parametrize_cells("catalog:mc146818rtc", my_rtc_history)   # names or DeviceHistory
    def test_rtc(compat_cell):
        compat_cell.check()            # AssertionError with the counterexample if corrupt/crash

Migration chains (any path through the last N releases loses nothing)::

    from vmcompat.pytest_plugin import chain_test

    def test_any_path_through_our_last_three_releases() -> None:
        chain_test(my_rtc_history, last=3)   # AssertionError with the shrunk chain if lossy

The marker ``vmcompat_histories(*histories, wire="legacy", features=())`` (what
:func:`parametrize_cells` applies) or the option ``--vmcompat-catalog DEV,DEV``
(``all`` for the whole catalog) makes one test per ordered version pair
(directions ``same``, ``upgrade`` old→new, ``downgrade`` new→old).
``compat_cell.check("refused")`` asserts an exact verdict instead. The
verdict of each example is a Hypothesis ``event``, and
``--hypothesis-show-statistics`` shows the verdict mix per cell.

Fuzzing real sections against real QEMU releases (``vmcompat qemu fuzz``)::

    @pytest.mark.vmcompat_qemu_fuzz("ps2kbd", "i8259", releases=("7.2", "10.0"),
                                    max_examples=20)
    def test_ps2(vmcompat_qemu_fuzz):
        vmcompat_qemu_fuzz.check()     # AssertionError naming each finding

one test per section and direction (one release: A → A; two: A → B and B → A),
skipped with a reason when a release is not installed. ``check("agree-refused")``
allows outcomes that would otherwise fail the test.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from vmcompat.values import immutable

#: every marker, option and profile the plugin adds is in vmcompat's namespace: the plugin
#: loads in every pytest session where vmcompat is installed, next to the user's own
#: suite (its ``--run-slow``, ``slow`` marker or ``ci`` profile are the user's)
MARKERS = {
    "vmcompat_histories": "vmcompat_histories(*histories, wire='legacy', features=()): "
                          "parametrize the compat_cell fixture over every version pair",
    "vmcompat_qemu_fuzz": "vmcompat_qemu_fuzz(*sections, releases=('7.2',), "
                          "machine='pc-i440fx-7.2', devices=(), max_examples=10, "
                          "max_shrinks=20, seed=0): parametrize the vmcompat_qemu_fuzz fixture "
                          "over each section and direction between real QEMU releases (one "
                          "release: A -> A; two: A -> B and B -> A)",
}

OPTION_CATALOG = "--vmcompat-catalog"

#: ``vmcompat-ci`` and ``vmcompat-nightly`` suppress ``too_slow`` alone: on shared CI
#: machines generation time follows the machine's load, not the strategy
PROFILES = {
    "vmcompat-dev": settings(max_examples=25, deadline=None),
    "vmcompat-ci": settings(derandomize=True, deadline=None, max_examples=50,
                            suppress_health_check=[HealthCheck.too_slow]),
    "vmcompat-nightly": settings(max_examples=1000, deadline=None,
                                 suppress_health_check=[HealthCheck.too_slow]),
}
for _name, _s in PROFILES.items():
    settings.register_profile(_name, _s)


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("vmcompat", "vmcompat compatibility fuzzing")
    group.addoption(OPTION_CATALOG, action="store", default=None, metavar="DEV[,DEV...]",
                    help="parametrize compat_cell tests over these catalog devices ('all')")


def pytest_configure(config: Any) -> None:
    for name, doc in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")


#: ``user_properties`` key of a ``compat_cell`` test's verdict counts
STATISTICS_KEY = "vmcompat_verdicts"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """With ``--hypothesis-show-statistics``: each ``compat_cell`` test's verdict mix."""
    if not config.getoption("hypothesis_show_statistics", default=False):
        return
    lines = [f"{r.nodeid}: " + ", ".join(f"verdict: {v}: {n} examples"
                                         for v, n in sorted(counts.items()))
             for reports in terminalreporter.stats.values() for r in reports
             if getattr(r, "when", None) == "call"
             for key, counts in getattr(r, "user_properties", ()) if key == STATISTICS_KEY]
    if lines:
        terminalreporter.write_sep("=", "vmcompat verdict statistics")
        for line in lines:
            terminalreporter.write_line(line)


def parametrize_cells(*histories: Any, wire: str = "legacy",
                      features: tuple[str, ...] = ()) -> Any:
    """The ``vmcompat_histories`` marker: ``@parametrize_cells("catalog:ps2kbd", hist)``."""
    return pytest.mark.vmcompat_histories(*histories, wire=wire, features=features)


@immutable
class CellSpec:
    """One cell to fuzz (the parameter behind ``compat_cell``)."""

    src: Any
    dst: Any
    wire: str = "legacy"
    features: tuple[str, ...] = ()

    @property
    def direction(self) -> str:
        from vmcompat.compat.directions import of_versions

        return of_versions(self.src.version_id, self.dst.version_id)

    @property
    def id(self) -> str:
        return f"{self.dst.name}-{self.src.version_id}-{self.dst.version_id}-{self.wire}"


@dataclass
class CompatCell:
    """The ``compat_cell`` fixture: run the cell, then assert on its verdict."""

    spec: CellSpec
    node: Any = None
    seed: int | None = None
    result: Any = field(default=None)
    #: how many examples got each verdict (shown by ``--hypothesis-show-statistics``)
    verdicts: Counter[str] = field(default_factory=Counter)

    @property
    def cell(self) -> Any:
        from vmcompat.compat.verdict import Cell

        s = self.spec
        return Cell(s.dst.name, str(s.src.version_id), str(s.dst.version_id), s.wire,
                    s.direction, s.features)

    def run(self, max_examples: int | None = None) -> Any:
        """Fuzz the cell once (cached); ``max_examples`` defaults to the active profile's."""
        if self.result is None:
            from vmcompat.matrix.engine import run_cell

            n = max_examples or settings.default.max_examples
            self.result = run_cell(self.spec.src, self.spec.dst, self.cell,
                                   max_examples=n, seed=self.seed,
                                   observe=lambda o: self.verdicts.update([o.verdict.value]))
            if self.node is not None:  # reaches the controller under pytest-xdist too
                self.node.user_properties.append((STATISTICS_KEY, dict(self.verdicts)))
        return self.result

    def check(self, expected: Any = None, *, max_examples: int | None = None) -> Any:
        """Assert the cell is not corrupt/crash (or has exactly the ``expected`` verdict)."""
        from vmcompat.compat.verdict import Verdict

        r = self.run(max_examples)
        detail = json.dumps(r.to_json(), indent=2, default=str)
        if expected is not None:
            want = Verdict(expected)
            assert r.verdict is want, f"expected {want.value}, got {r.verdict.value} " \
                                      f"(seed {r.seed}):\n{detail}"
        else:
            assert not r.verdict.bad, f"{r.cell.device} {r.cell.source} -> " \
                                      f"{r.cell.destination}: {r.verdict.value} " \
                                      f"(seed {r.seed}):\n{detail}"
        return r


def chain_test(history: Any, *, last: int | None = None, wires: tuple[str, ...] = ("legacy",),
               max_examples: int | None = None, seed: int | None = None) -> Any:
    """Assert that no migration chain through ``history`` loses or corrupts data.

    ``history`` is a ``DeviceHistory``, a catalog name (``"catalog:DEV"``) or
    descriptions in release order; ``last`` keeps the newest N versions. The
    chain machine (:mod:`vmcompat.compat.chain_machine`) runs ``max_examples``
    chains (default: the active profile's), seeded by ``seed`` (default: 0
    under a derandomized profile such as ``ci``, else random). Refused hops pass.
    Returns the worst chain (``ChainResult``); on a loss or a corrupt hop,
    raises ``AssertionError`` with the shrunk chain.
    """
    from vmcompat.catalog import history as catalog_history
    from vmcompat.compat.chain import ChainSpec
    from vmcompat.compat.chain_machine import run_chain
    from vmcompat.model import DeviceHistory

    if isinstance(history, str):
        history = catalog_history(history.removeprefix("catalog:").split("@")[0])
    elif not isinstance(history, DeviceHistory):
        versions = tuple(history)
        history = DeviceHistory(versions[0].name, versions)
    spec = ChainSpec.of_history(history, wires, last)
    base = settings.default
    if seed is None and base.derandomize:
        seed = 0
    run = run_chain(spec, max_examples=max_examples or base.max_examples, seed=seed)
    r = run.result
    assert not r.verdict.bad, (
        f"{r.device}: {r.verdict.value} {r.arrow} (seed {run.seed}):\n"
        + "".join(f"  {x.field} lost at hop {x.hop}: {x.reason}\n" for x in r.lost_fields)
        + json.dumps(r.counterexample, indent=2))
    return r


def _histories(config: Any, marker: Any) -> tuple[list[Any], str, tuple[str, ...]]:
    from vmcompat.catalog import history, load

    if marker is not None:
        items, wire = list(marker.args), marker.kwargs.get("wire", "legacy")
        features = tuple(marker.kwargs.get("features", ()))
    else:
        raw = config.getoption(OPTION_CATALOG) or ""
        items = sorted(load()) if raw == "all" else [x for x in raw.split(",") if x]
        wire, features = "legacy", ()
    out = []
    for h in items:
        out.append(history(h.removeprefix("catalog:").split("@")[0]) if isinstance(h, str)
                   else h)
    return out, wire, features


def pytest_generate_tests(metafunc: Any) -> None:
    if "vmcompat_qemu_fuzz" in metafunc.fixturenames:
        _qemu_fuzz_params(metafunc)
    if "compat_cell" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("vmcompat_histories")
    if marker is None and not metafunc.config.getoption(OPTION_CATALOG):
        return
    from vmcompat.strategies.versions import pairs

    histories, wire, features = _histories(metafunc.config, marker)
    specs = [CellSpec(s, d, wire, features) for h in histories for s, d in pairs(h, features)]
    metafunc.parametrize("compat_cell", specs, ids=[s.id for s in specs], indirect=True)


@pytest.fixture
def compat_cell(request: Any) -> CompatCell:
    """One (source, destination) cell; parametrized by ``vmcompat_histories``."""
    spec = getattr(request, "param", None)
    if spec is None:
        pytest.skip(f"compat_cell needs @parametrize_cells(...) or {OPTION_CATALOG}")
    return CompatCell(spec, request.node)


# ----------------------------------------------------------------------------- real QEMU
#: how many examples a ``vmcompat_qemu_fuzz`` test runs unless its marker says
QEMU_FUZZ_EXAMPLES = 10


@immutable
class QemuFuzzSpec:
    """One section in one direction between real releases (the parameter behind
    ``vmcompat_qemu_fuzz``)."""

    section: str
    source: str
    destination: str
    machine: str = "pc-i440fx-7.2"
    devices: tuple[str, ...] = ()
    max_examples: int = QEMU_FUZZ_EXAMPLES
    max_shrinks: int = 20
    seed: int = 0

    @property
    def id(self) -> str:
        return f"{self.section}-{self.source}-{self.destination}"


@dataclass
class QemuFuzzCase:
    """The ``vmcompat_qemu_fuzz`` fixture: fuzz the section, then assert on its outcomes."""

    spec: QemuFuzzSpec
    result: Any = field(default=None)

    def run(self) -> Any:
        """Fuzz the section once (cached): a :class:`vmcompat.qemu.fuzz.TargetResult`."""
        if self.result is None:
            from vmcompat.database import is_shared
            from vmcompat.qemu import resolve
            from vmcompat.qemu.fuzz._fuzz import direction, section_key
            from vmcompat.qemu.fuzz._run import fuzz_target, target_seed

            s = self.spec
            d = direction(resolve(s.source), resolve(s.destination), s.machine, s.devices)
            key = section_key(d, s.section)
            db = settings.default.database
            self.result = fuzz_target(d.target(key), max_examples=s.max_examples,
                                      seed=target_seed(s.seed, (s.source, s.destination), key),
                                      max_shrinks=s.max_shrinks,
                                      db=db if is_shared(db) else None)
        return self.result

    def check(self, *allowed: str) -> Any:
        """Assert no outcome fails the run (``agree-corrupt``, ``agree-refused``,
        ``qemu-crash``, ``disagree``) but the ``allowed`` ones; return the result."""
        r = self.run()
        bad = {o.value: n for o, n in r.outcomes.items() if n and o.fails
               and o.value not in allowed}
        lines = [f"{f.judgement.outcome.value}: {', '.join(f.judgement.fields) or '-'} "
                 f"{f.changes(r.captured)} {f.judgement.error or f.judgement.detail}"
                 for f in r.findings if f.judgement.outcome.value in bad]
        assert not bad, (f"{r.section} {r.source} -> {r.destination}: {bad} in "
                         f"{r.examples} examples (seed {r.seed}):\n" + "\n".join(lines))
        return r


def qemu_fuzz_specs(marker: Any) -> list[QemuFuzzSpec]:
    """The specs a ``vmcompat_qemu_fuzz`` marker asks for."""
    kw = dict(marker.kwargs)
    releases = tuple(kw.pop("releases", ("7.2",)))
    if not 1 <= len(releases) <= 2:
        raise pytest.UsageError(f"vmcompat_qemu_fuzz: one or two releases, not {releases!r}")
    pairs = [(releases[0], releases[0])] if len(set(releases)) == 1 else \
        [(releases[0], releases[1]), (releases[1], releases[0])]
    kw["devices"] = tuple(kw.get("devices", ()))
    return [QemuFuzzSpec(section, a, b, **kw) for section in marker.args for a, b in pairs]


def _qemu_fuzz_params(metafunc: Any) -> None:
    marker = metafunc.definition.get_closest_marker("vmcompat_qemu_fuzz")
    if marker is None:
        return
    specs = qemu_fuzz_specs(marker)
    metafunc.parametrize("vmcompat_qemu_fuzz", specs, ids=[s.id for s in specs], indirect=True)


@pytest.fixture
def vmcompat_qemu_fuzz(request: Any) -> QemuFuzzCase:
    """One section in one direction between real QEMU releases; parametrized by the
    ``vmcompat_qemu_fuzz`` marker; skipped with a reason when a release is not installed."""
    from vmcompat.qemu import available

    spec = getattr(request, "param", None)
    if spec is None:
        pytest.skip("vmcompat_qemu_fuzz needs @pytest.mark.vmcompat_qemu_fuzz(SECTION, ...)")
    for name in dict.fromkeys((spec.source, spec.destination)):
        if not available(name):
            pytest.skip(f"QEMU {name} is not installed (vmcompat qemu install {name}; the "
                        "system's qemu-system-x86 package gives its own release)")
    return QemuFuzzCase(spec)
