"""A whole ``vmcompat qemu fuzz`` run: captures, directions, the sections to fuzz, the results.

``--qemu A`` alone (or ``--qemu A --qemu A``) fuzzes A → A; ``--qemu A --qemu B`` fuzzes
A → B and B → A; ``--chain A,B,C`` fuzzes the round trip A → B → C
(:mod:`vmcompat.qemu.fuzz._chain`). Each release captures the machine once (with its
dump); each direction first finds the sections its destination refuses outright
(:meth:`~vmcompat.qemu.fuzz._target.Direction.find_blockers`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from hypothesis.database import ExampleDatabase

from vmcompat import state as statejson
from vmcompat.descjson import read_json
from vmcompat.errors import InputError
from vmcompat.qemu.fuzz._chain import chain_target
from vmcompat.qemu.fuzz._run import (
    Progress,
    TargetResult,
    fuzz_target,
    run_targets,
    target_seed,
)
from vmcompat.qemu.fuzz._target import Direction, Key, ReleaseCapture
from vmcompat.qemu.releases import Qemu
from vmcompat.stream.compare import idstr_matches
from vmcompat.values import immutable


@immutable
class FuzzOptions:
    """What to fuzz and how much."""

    machine: str
    devices: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()  # idstr or its last component; empty: every section
    max_examples: int = 20
    seed: int = 0
    jobs: int = 1
    max_shrinks: int = 50
    timeout: float = 30.0
    #: the releases are a chain (``--chain A,B,C``): A → B → C, each hop judged
    chain: bool = False


@dataclass
class FuzzRun:
    """The results of a run, one per (section, direction), in stream order."""

    options: FuzzOptions
    releases: dict[str, str]  # name -> QEMU's version line
    results: list[TargetResult]
    duration: float = 0.0
    blockers: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def fails(self) -> bool:
        return any(r.fails for r in self.results)


def routes_of(qemus: Sequence[Qemu], options: FuzzOptions) -> list[tuple[Direction, ...]]:
    """What the run fuzzes: A → A for one release, A → B and B → A for two, or with
    ``options.chain`` the one chain of hops through ``qemus`` in order."""
    if options.chain:
        if len(qemus) < 2:
            raise InputError("a --chain goes through at least two releases (A,B[,C…])")
        return [tuple(direction(a, b, options.machine, options.devices,
                                timeout=options.timeout) for a, b in pairwise(qemus))]
    distinct = list(dict.fromkeys(qemus))
    if not 1 <= len(distinct) <= 2:
        raise InputError(f"give one or two QEMU releases (--qemu), not {len(distinct)}")
    pairs = [(distinct[0], distinct[0])] if len(distinct) == 1 else \
        [(distinct[0], distinct[1]), (distinct[1], distinct[0])]
    return [(direction(a, b, options.machine, options.devices, timeout=options.timeout),)
            for a, b in pairs]


_CAPTURES: dict[tuple[Any, ...], ReleaseCapture] = {}
_DIRECTIONS: dict[tuple[Any, ...], Direction] = {}


def direction(source: Qemu, destination: Qemu, machine: str, devices: tuple[str, ...] = (),
              *, timeout: float = 30.0) -> Direction:
    """One direction, its captures and blocking sections made once per process (the pytest
    face runs many tests over the same captures)."""
    def take(q: Qemu) -> ReleaseCapture:
        k = (q, machine, devices)
        if k not in _CAPTURES:
            _CAPTURES[k] = ReleaseCapture.take(q, machine, devices, timeout=timeout)
        return _CAPTURES[k]

    key = (source, destination, machine, devices)
    if key not in _DIRECTIONS:
        d = Direction(take(source), take(destination))
        d.find_blockers()
        _DIRECTIONS[key] = d
    return _DIRECTIONS[key]


def section_key(d: Direction, pattern: str) -> Key:
    """The section of the source's capture that ``pattern`` names (an idstr, its last
    component, or ``idstr#N``)."""
    sections = d.source.sections()
    for key in sections:
        if key == pattern or idstr_matches(sections[key].idstr, pattern):
            return key
    known = ", ".join(sections)
    raise InputError(f"no section {pattern!r} in QEMU {d.source.qemu.name}'s "
                     f"{d.source.machine} capture (sections: {known})")


def tasks_of(routes: Sequence[tuple[Direction, ...]], patterns: Sequence[str]
             ) -> list[tuple[int, Key]]:
    """Every selected section of every route (a pattern that matches nothing: bad input)."""
    tasks = []
    used = set()
    for i, route in enumerate(routes):
        sections = route[0].source.sections()
        for key, sec in sections.items():
            hits = [p for p in patterns if key == p or idstr_matches(sec.idstr, p)]
            if patterns and not hits:
                continue
            used.update(hits)
            tasks.append((i, key))
    missing = [p for p in patterns if p not in used]
    if missing:
        first = routes[0][0].source
        known = sorted({k for r in routes for k in r[0].source.sections()})
        raise InputError(f"no section {missing[0]!r} in the {first.machine} capture "
                         f"(sections: {', '.join(known)})")
    return tasks


def run_fuzz(qemus: Sequence[Qemu], options: FuzzOptions, *,
             db: Callable[[], ExampleDatabase | None] = lambda: None,
             done: Progress | None = None) -> FuzzRun:
    """Fuzz every selected section along every route."""
    t0 = time.perf_counter()
    routes = routes_of(qemus, options)
    tasks = tasks_of(routes, options.sections)
    results = run_targets(routes, tasks, max_examples=options.max_examples,
                          seed=options.seed, max_shrinks=options.max_shrinks, jobs=options.jobs,
                          db=db, done=done)
    return FuzzRun(options, _releases(routes), results, time.perf_counter() - t0,
                   _blockers(routes))


def _releases(routes: Sequence[tuple[Direction, ...]]) -> dict[str, str]:
    return {c.qemu.name: c.qemu.version for r in routes for d in r
            for c in (d.source, d.destination)}


def _blockers(routes: Sequence[tuple[Direction, ...]]) -> dict[str, dict[str, str]]:
    return {f"{d.source.qemu.name}->{d.destination.qemu.name}":
            dict(d.blockers)
            for r in routes for d in r if d.blockers}


# ----------------------------------------------------------------------------- replay
#: a finding file: what ``--replay`` reads
FINDING_KIND = "vmcompat-qemu-fuzz-finding"


def finding_file(result: TargetResult, options: FuzzOptions, state: Any) -> dict[str, Any]:
    """The JSON that replays one finding (``vmcompat qemu fuzz ... --replay FILE``)."""
    return {"kind": FINDING_KIND, "machine": options.machine, "devices": list(options.devices),
            "section": result.section, "source": result.source,
            "destination": result.destination, "path": list(result.path),
            "state": statejson.to_json(state)}


def read_finding(path: str) -> dict[str, Any]:
    obj = read_json(path)
    if not isinstance(obj, dict) or obj.get("kind") != FINDING_KIND:
        raise InputError(f"not a vmcompat qemu fuzz finding (kind {FINDING_KIND!r})", file=path)
    for k in ("section", "source", "destination", "state"):
        if k not in obj:
            raise InputError(f"a finding needs {k!r}", file=path)
    return obj


def replay(qemus: Sequence[Qemu], options: FuzzOptions, path: str) -> FuzzRun:
    """Run the one state of a finding file along its releases: the same outcome."""
    t0 = time.perf_counter()
    found = read_finding(path)
    names = [str(x) for x in found.get("path") or (found["source"], found["destination"])]
    by_name = {q.name: q for q in qemus}
    if any(n not in by_name for n in names):
        give = f"--chain {','.join(names)}" if len(names) > 2 else \
            f"--qemu {names[0]} --qemu {names[1]}"
        raise InputError(f"the finding goes {' -> '.join(names)}: give {give}", file=path)
    route = tuple(direction(by_name[a], by_name[b], options.machine, options.devices,
                            timeout=options.timeout) for a, b in pairwise(names))
    key = section_key(route[0], str(found["section"]))
    target = chain_target(route, key)
    state = statejson.from_json(target.source, found["state"], file=path)
    result = fuzz_target(target, max_examples=1, seed=target_seed(options.seed, names, key),
                         max_shrinks=0, states=[state])
    return FuzzRun(options, _releases([route]), [result], time.perf_counter() - t0,
                   _blockers([route]))
