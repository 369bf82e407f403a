"""vmcompat's pytest plugin (entry point ``pytest11``): markers, options, profiles, fixtures.

Hypothesis profiles, registered when the plugin loads and selected with
Hypothesis's own ``--hypothesis-profile NAME``:

- ``dev`` — 25 examples, no deadline (quick local runs);
- ``ci`` — ``derandomize=True`` (the same examples every run), no deadline, 50 examples;
- ``nightly`` — 1000 examples, no deadline.

Fuzzing your own device histories::

    import pytest
    from harness.pytest_plugin import parametrize_cells

    @parametrize_cells("catalog:mc146818rtc", my_rtc_history)   # names or DeviceHistory
    def test_rtc(compat_cell):
        compat_cell.check()            # AssertionError with the counterexample if corrupt/crash

Migration chains (any path through the last N releases loses nothing)::

    from harness.pytest_plugin import chain_test

    def test_any_path_through_our_last_three_releases() -> None:
        chain_test(my_rtc_history, last=3)   # AssertionError with the shrunk chain if lossy

The marker ``vmcompat_histories(*histories, wire="legacy", features=())`` (what
:func:`parametrize_cells` applies) or the option ``--vmcompat-catalog DEV,DEV``
(``all`` for the whole catalog) makes one test per ordered version pair
(directions ``same``, ``upgrade`` old→new, ``downgrade`` new→old).
``compat_cell.check("refused")`` asserts an exact verdict instead. The
verdict of each example is a Hypothesis ``event``, so
``--hypothesis-show-statistics`` shows the verdict mix per cell.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

MARKERS = {
    "qemu": "needs a real qemu-system-x86_64 (skipped with a reason when absent)",
    "slow": "slow test (nightly): skipped unless --run-slow or VMCOMPAT_SLOW=1",
    "chromium": "needs headless chromium (skipped with a reason when absent)",
    "redis": "needs redis-server (skipped with a reason when absent)",
    "vmcompat_histories": "vmcompat_histories(*histories, wire='legacy', features=()): "
                          "parametrize the compat_cell fixture over every version pair",
}

OPTION_CATALOG = "--vmcompat-catalog"
OPTION_SLOW = "--run-slow"

PROFILES = {
    "dev": settings(max_examples=25, deadline=None),
    "ci": settings(derandomize=True, deadline=None, max_examples=50,
                   suppress_health_check=[HealthCheck.too_slow]),
    "nightly": settings(max_examples=1000, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow]),
}
for _name, _s in PROFILES.items():
    settings.register_profile(_name, _s)


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("vmcompat", "vmcompat compatibility fuzzing")
    group.addoption(OPTION_CATALOG, action="store", default=None, metavar="DEV[,DEV...]",
                    help="parametrize compat_cell tests over these catalog devices ('all')")
    group.addoption(OPTION_SLOW, action="store_true", default=False,
                    help="also run tests marked slow (the nightly runs do)")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    import os

    if config.getoption(OPTION_SLOW) or os.environ.get("VMCOMPAT_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow (nightly): run with --run-slow or VMCOMPAT_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config: Any) -> None:
    for name, doc in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")


def parametrize_cells(*histories: Any, wire: str = "legacy",
                      features: tuple[str, ...] = ()) -> Any:
    """The ``vmcompat_histories`` marker: ``@parametrize_cells("catalog:ps2kbd", hist)``."""
    return pytest.mark.vmcompat_histories(*histories, wire=wire, features=features)


@dataclass(frozen=True)
class CellSpec:
    """One cell to fuzz (the parameter behind ``compat_cell``)."""

    src: Any
    dst: Any
    wire: str = "legacy"
    features: tuple[str, ...] = ()

    @property
    def direction(self) -> str:
        from harness.compat.directions import of_versions

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

    @property
    def cell(self) -> Any:
        from harness.compat.verdict import Cell

        s = self.spec
        return Cell(s.dst.name, str(s.src.version_id), str(s.dst.version_id), s.wire,
                    s.direction, s.features)

    def run(self, max_examples: int | None = None) -> Any:
        """Fuzz the cell once (cached); ``max_examples`` defaults to the active profile's."""
        if self.result is None:
            from hypothesis.statistics import collector, describe_statistics

            from harness.compat.engine import run_cell

            n = max_examples or settings.default.max_examples
            node = self.node

            def note(stats: dict[str, Any]) -> None:
                if node is not None:
                    stats["nodeid"] = node.nodeid
                    node.hypothesis_statistics = describe_statistics(stats)

            with collector.with_value(note):
                self.result = run_cell(self.spec.src, self.spec.dst, self.cell,
                                       max_examples=n, seed=self.seed)
        return self.result

    def check(self, expected: Any = None, *, max_examples: int | None = None) -> Any:
        """Assert the cell is not corrupt/crash (or has exactly the ``expected`` verdict)."""
        from harness.compat.verdict import Verdict

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
    chain machine (:mod:`harness.compat.chain_machine`) runs ``max_examples``
    chains (default: the active profile's), seeded by ``seed`` (default: 0
    under a derandomized profile such as ``ci``, else random). Refused hops pass.
    Returns the worst chain (``ChainResult``); on a loss or a corrupt hop,
    raises ``AssertionError`` with the shrunk chain.
    """
    from harness.catalog import history as catalog_history
    from harness.compat.chain import ChainSpec
    from harness.compat.chain_machine import run_chain
    from harness.model import DeviceHistory

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
    from harness.catalog import history, load

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
    if "compat_cell" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("vmcompat_histories")
    if marker is None and not metafunc.config.getoption(OPTION_CATALOG):
        return
    from strategies.versions import pairs

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
