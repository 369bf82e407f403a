"""A whole ``vmcompat qemu fuzz`` run: captures, directions, the sections to fuzz, the results.

``--qemu A`` alone (or ``--qemu A --qemu A``) fuzzes A → A; ``--qemu A --qemu B`` fuzzes
A → B and B → A. Each release captures the machine once (with its dump); each
direction first finds the sections its destination refuses outright
(:meth:`~harness.qemu.fuzz._target.Direction.find_blockers`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis.database import ExampleDatabase

from harness import state as statejson
from harness.errors import InputError
from harness.qemu.fuzz._run import (
    Progress,
    TargetResult,
    fuzz_target,
    run_targets,
    target_seed,
)
from harness.qemu.fuzz._target import Direction, Key, ReleaseCapture, wire_name
from harness.qemu.releases import Qemu
from harness.stream.compare import idstr_matches


@dataclass(frozen=True)
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


def directions_of(qemus: Sequence[Qemu], options: FuzzOptions) -> list[Direction]:
    """Capture each release once; A → A for one release, A → B and B → A for two."""
    distinct: list[Qemu] = []
    for q in qemus:
        if q not in distinct:
            distinct.append(q)
    if not 1 <= len(distinct) <= 2:
        raise InputError(f"give one or two QEMU releases (--qemu), not {len(distinct)}")
    caps = [ReleaseCapture.take(q, options.machine, options.devices, timeout=options.timeout)
            for q in distinct]
    pairs = [(caps[0], caps[0])] if len(caps) == 1 else [(caps[0], caps[1]), (caps[1], caps[0])]
    out = []
    for a, b in pairs:
        d = Direction(a, b)
        d.find_blockers()
        out.append(d)
    return out


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
    for key in d.source.sections():
        if idstr_matches(key[0], pattern) or wire_name(key) == pattern:
            return key
    known = ", ".join(wire_name(k) for k in d.source.sections())
    raise InputError(f"no section {pattern!r} in QEMU {d.source.qemu.name}'s "
                     f"{d.source.machine} capture (sections: {known})")


def tasks_of(directions: Sequence[Direction], patterns: Sequence[str]) -> list[tuple[int, Key]]:
    """Every selected section of every direction (a pattern that matches nothing: bad input)."""
    tasks = []
    used = set()
    for i, d in enumerate(directions):
        for key in d.source.sections():
            hits = [p for p in patterns if idstr_matches(key[0], p) or wire_name(key) == p]
            if patterns and not hits:
                continue
            used.update(hits)
            tasks.append((i, key))
    missing = [p for p in patterns if p not in used]
    if missing:
        known = sorted({wire_name(k) for d in directions for k in d.source.sections()})
        raise InputError(f"no section {missing[0]!r} in the {directions[0].source.machine} "
                         f"capture (sections: {', '.join(known)})")
    return tasks


def run_fuzz(qemus: Sequence[Qemu], options: FuzzOptions, *,
             db: Callable[[], ExampleDatabase | None] = lambda: None,
             done: Progress | None = None) -> FuzzRun:
    """Fuzz every selected section in every direction."""
    t0 = time.perf_counter()
    directions = directions_of(qemus, options)
    tasks = tasks_of(directions, options.sections)
    results = run_targets(directions, tasks, max_examples=options.max_examples,
                          seed=options.seed, max_shrinks=options.max_shrinks, jobs=options.jobs,
                          db=db, done=done)
    return FuzzRun(options, _releases(directions), results, time.perf_counter() - t0,
                   _blockers(directions))


def _releases(directions: Sequence[Direction]) -> dict[str, str]:
    return {c.qemu.name: c.qemu.version for d in directions for c in (d.source, d.destination)}


def _blockers(directions: Sequence[Direction]) -> dict[str, dict[str, str]]:
    return {f"{d.source.qemu.name}->{d.destination.qemu.name}":
            {wire_name(k): e for k, e in d.blockers.items()} for d in directions if d.blockers}


# ----------------------------------------------------------------------------- replay
#: a finding file: what ``--replay`` reads
FINDING_KIND = "vmcompat-qemu-fuzz-finding"


def finding_file(result: TargetResult, options: FuzzOptions, state: Any) -> dict[str, Any]:
    """The JSON that replays one finding (``vmcompat qemu fuzz ... --replay FILE``)."""
    return {"kind": FINDING_KIND, "machine": options.machine, "devices": list(options.devices),
            "section": result.section, "source": result.source,
            "destination": result.destination, "state": statejson.to_json(state)}


def read_finding(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            obj = json.load(fh)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", file=path) from None
    except ValueError as e:
        raise InputError(f"not JSON: {e}", file=path) from None
    if not isinstance(obj, dict) or obj.get("kind") != FINDING_KIND:
        raise InputError(f"not a vmcompat qemu fuzz finding (kind {FINDING_KIND!r})", file=path)
    for k in ("section", "source", "destination", "state"):
        if k not in obj:
            raise InputError(f"a finding needs {k!r}", file=path)
    return obj


def replay(qemus: Sequence[Qemu], options: FuzzOptions, path: str) -> FuzzRun:
    """Run the one state of a finding file through its direction: the same outcome."""
    t0 = time.perf_counter()
    found = read_finding(path)
    by_name = {q.name: q for q in qemus}
    ends = [by_name.get(str(found[k])) for k in ("source", "destination")]
    if None in ends:
        raise InputError(f"the finding is {found['source']} -> {found['destination']}: give "
                         f"--qemu {found['source']} --qemu {found['destination']}", file=path)
    pair = [q for q in ends if q is not None]
    directions = [d for d in directions_of(pair, options)
                  if (d.source.qemu, d.destination.qemu) == (pair[0], pair[1])]
    d = directions[0]
    keys = [k for k in d.source.sections() if wire_name(k) == found["section"]]
    if not keys:
        raise InputError(f"no section {found['section']!r} in QEMU {d.source.qemu.name}'s "
                         f"capture", file=path)
    target = d.target(keys[0])
    state = statejson.from_json(target.source, found["state"], file=path)
    result = fuzz_target(target, max_examples=1, seed=target_seed(options.seed, d, keys[0]),
                         max_shrinks=0, states=[state])
    return FuzzRun(options, _releases([d]), [result], time.perf_counter() - t0, _blockers([d]))
