"""Fuzzing sections with Hypothesis against real destinations: replay, explore, shrink.

Per target (one section, one direction), with one seed:

1. **Replay**: the minimal states earlier runs found for this target (kept in the
   project's example database, :func:`vmcompat.database.shared_database`, under one key
   per target) run first; one that now agrees is deleted.
2. **Explore**: Hypothesis draws ``max_examples`` states near the capture
   (:func:`vmcompat.strategies.captured_states`) and every one is judged; nothing fails the
   test, so generation is not cut short by the first finding. The outcome counts and
   the normalised fields come from here.
3. **Shrink**: for each finding (:func:`~vmcompat.qemu.fuzz._outcomes.signature`, worst
   first), the same seeded run again, failing on that finding only: Hypothesis replays
   the same examples (from the cache: no QEMU run) up to its first occurrence, then
   shrinks it. The target's shrinks share ``max_shrinks`` destination loads (each
   finding a fair share of what is left, worst first); past its share, states not seen
   before count as passing, so Hypothesis settles on the smallest it has.

Every destination load is cached by state, so a replayed example gives the same
judgement (QEMU paused is deterministic, and the cache makes the run so).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import hypothesis
from hypothesis import Phase, Verbosity, given
from hypothesis.database import ExampleDatabase

from vmcompat import state as statejson
from vmcompat.compat.directions import DOWNGRADE, SAME, UPGRADE
from vmcompat.errors import InputError
from vmcompat.health import GENERATION_CHECKS
from vmcompat.matrix._cells import version_order
from vmcompat.qemu.fuzz._chain import ChainTarget, chain_target
from vmcompat.qemu.fuzz._outcomes import SEVERITY, Judgement, Outcome, signature
from vmcompat.qemu.fuzz._target import Direction, Key, Target, state_key
from vmcompat.strategies.captured import captured_states
from vmcompat.stream.compare import leaves

#: findings shrunk per target (worst first); more are counted, and kept unshrunk
MAX_FINDINGS = 8
#: destination loads each finding's shrink may start at least (while the budget lasts)
MIN_SHARE = 5
DB_PREFIX = b"vmcompat-qemu-fuzz:"
#: a shrink tries at most this many states per destination load it may start, plus
#: ATTEMPTS (drawing a big section's state costs like a small load)
ATTEMPTS_PER_RUN, ATTEMPTS = 4, 50


@dataclass
class Finding:
    """A shrunk counterexample: its judgement, the minimal state and the stream."""

    judgement: Judgement
    state: Any
    stream: bytes
    #: how it was found: ``shrunk`` (this run), ``replayed`` (an earlier run's minimal
    #: state from the database) or ``unshrunk`` (over the limit of findings)
    how: str = "shrunk"

    def changes(self, captured: Any) -> dict[str, Any]:
        """The minimal state as the leaves where it differs from the capture (JSON form)."""
        before = dict(leaves(captured))
        return {p: statejson.to_json(v) for p, v in leaves(self.state)
                if p not in before or before[p] != v}


@dataclass
class TargetResult:
    """What fuzzing one section in one direction found."""

    section: str
    source: str
    destination: str
    direction: str
    captured: Any
    examples: int = 0
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    normalised: dict[str, None] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    runs: int = 0
    seed: int = 0
    duration: float = 0.0
    blocked: str = ""  # the destination refuses this section whatever its state
    path: tuple[str, ...] = ()  # the releases in order (a chain holds more than two)

    def add(self, j: Judgement) -> None:
        self.examples += 1
        self.outcomes[j.outcome] += 1
        self.note(j)

    def note(self, j: Judgement) -> None:
        for f in j.normalised:
            self.normalised.setdefault(f, None)

    @property
    def fails(self) -> bool:
        return any(o.fails for o, n in self.outcomes.items() if n)


class _Boxed:
    """A drawn state with a short repr (Hypothesis writes the failing example's repr:
    hundreds of kilobytes for a big section)."""

    __slots__ = ("state",)

    def __init__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return "<state>"


class _Enough(BaseException):
    """Stop a shrink run now (not an ``Exception``: Hypothesis lets it through)."""


class _Found(Exception):
    """The shrink run met the finding it shrinks (raised so Hypothesis shrinks it)."""

    def __init__(self, state: Any) -> None:
        super().__init__("finding")
        self.state = state


def _settings(max_examples: int, phases: tuple[Phase, ...]) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=max_examples, database=None, deadline=None, derandomize=False,
        report_multiple_bugs=False, verbosity=Verbosity.quiet, print_blob=False,
        phases=phases, suppress_health_check=GENERATION_CHECKS)


def direction_of(path: Sequence[str]) -> str:
    """``upgrade``, ``downgrade`` or ``same``, from the first release to the last."""
    first, last = version_order(path[0]), version_order(path[-1])
    return SAME if first == last else (UPGRADE if first < last else DOWNGRADE)


def target_seed(seed: int, path: Sequence[str], key: Key) -> int:
    """A stable 32-bit seed per (run seed, section, releases)."""
    text = repr((seed, key, *path))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def database_key(target: Target | ChainTarget) -> bytes:
    machine, devices = target.setup
    ends = {"source": target.path[0], "destination": target.path[-1]}
    if len(target.path) > 2:
        ends["path"] = list(target.path)  # type: ignore[assignment]
    return DB_PREFIX + json.dumps({"machine": machine, "devices": list(devices),
                                   "section": target.name, **ends}, sort_keys=True).encode()


class _Examples:
    """Judged examples of one target, by state (each state meets a destination once)."""

    def __init__(self, target: Target | ChainTarget, result: TargetResult) -> None:
        self.target, self.result = target, result
        self.judged: dict[str, tuple[Judgement, bytes]] = {}

    def seen(self, state: Any) -> tuple[Judgement, bytes] | None:
        return self.judged.get(state_key(state))

    def run(self, state: Any) -> tuple[Judgement, bytes]:
        k = state_key(state)
        found = self.judged.get(k)
        if found is None:
            found = self.judged[k] = self.target.judge(state)
            self.result.note(found[0])
        return found


def _stored(db: ExampleDatabase | None, key: bytes, target: Target | ChainTarget
            ) -> list[tuple[bytes, Any]]:
    """Earlier minimal states of this target that still fit the capture's layout."""
    if db is None:
        return []
    out = []
    shape = {p for p, _ in leaves(target.captured)}
    for raw in sorted(db.fetch(key)):
        try:
            state = statejson.from_json(target.source, json.loads(raw))
        except (ValueError, InputError):
            state = None
        if state is None or {p for p, _ in leaves(state)} != shape:
            db.delete(key, raw)  # the capture changed: it no longer reproduces anything
            continue
        out.append((raw, state))
    return out


def fuzz_target(target: Target | ChainTarget, *, max_examples: int, seed: int, max_shrinks: int,
                db: ExampleDatabase | None = None, states: Sequence[Any] | None = None
                ) -> TargetResult:
    """Replay, explore and shrink one target (see the module doc); with ``states``, run
    just those (each one that does not agree is a finding as it is)."""
    t0 = time.perf_counter()
    path = target.path
    result = TargetResult(target.name, path[0], path[-1], direction_of(path), target.captured,
                          seed=seed, blocked=target.blocked, path=path)
    examples = _Examples(target, result)
    findings: dict[tuple[str, str], Finding] = {}
    key = database_key(target)
    given_states = [(None, s) for s in states] if states is not None else None
    for raw, state in given_states or _stored(db, key, target):
        j, data = examples.run(state)
        result.add(j)
        if j.outcome is not Outcome.AGREE_COMPATIBLE:
            findings.setdefault(signature(j), Finding(j, state, data, "replayed"))
        elif db is not None and raw is not None:
            db.delete(key, raw)
    if given_states is not None:
        return _finish(result, target, findings, t0)

    strategy = captured_states(target.source, target.captured).map(_Boxed)
    first: dict[tuple[str, str], Any] = {}

    def explore(box: _Boxed) -> None:
        state = box.state
        j, _ = examples.run(state)
        result.add(j)
        if j.outcome is not Outcome.AGREE_COMPATIBLE:
            first.setdefault(signature(j), state)

    _seeded(given(strategy)(explore), seed, _settings(max_examples, (Phase.generate,)))()

    todo = sorted((s for s in first if s not in findings),
                  key=lambda s: SEVERITY.index(Outcome(s[0])))
    left = max_shrinks
    for n, sig in enumerate(todo):
        state = first[sig]
        how = "unshrunk"
        share = min(left, max(MIN_SHARE, left // (min(len(todo), MAX_FINDINGS) - n or 1)))
        if n < MAX_FINDINGS and share > 0:
            before = target.runs
            small = _shrink(strategy, examples, sig, seed, max_examples, share)
            left -= target.runs - before
            if small is not None:
                state, how = small, "shrunk"
        j, data = examples.run(state)
        findings[sig] = Finding(j, state, data, how)
        if db is not None and how == "shrunk":
            db.save(key, state_key(state).encode())
    return _finish(result, target, findings, t0)


def _finish(result: TargetResult, target: Target | ChainTarget,
            findings: dict[tuple[str, str], Finding], t0: float) -> TargetResult:
    result.findings = sorted(findings.values(),
                             key=lambda f: SEVERITY.index(f.judgement.outcome))
    result.runs = target.runs
    result.duration = time.perf_counter() - t0
    return result


def _seeded(test: Callable[[], None], seed: int, s: hypothesis.settings) -> Callable[[], None]:
    return hypothesis.seed(seed)(s(test))  # type: ignore[no-any-return]


def _shrink(strategy: Any, examples: _Examples, sig: tuple[str, str], seed: int,
            max_examples: int, budget: int) -> Any:
    """The minimal state of finding ``sig`` (None when the seeded run does not meet it)."""
    left = [budget, ATTEMPTS_PER_RUN * budget + ATTEMPTS]
    best: list[Any] = []

    def failing(box: _Boxed) -> None:
        state = box.state
        left[1] -= 1
        if left[1] < 0 and best:
            raise _Enough  # the shrinker's candidates are all old or over budget: stop
        found = examples.seen(state)
        if found is None:
            if left[0] <= 0:
                return  # over budget: an unseen state passes, the shrink settles
            left[0] -= 1
            found = examples.run(state)
        if signature(found[0]) == sig:
            best[:] = [state]  # the shrinker only tries smaller states: the best so far
            raise _Found(state)

    test = _seeded(given(strategy)(failing), seed,
                   _settings(max_examples, (Phase.generate, Phase.shrink)))
    try:
        test()
    except _Found as e:
        return e.state
    except _Enough:
        return best[0]
    return None


# ----------------------------------------------------------------------------- many targets
#: told of each target's result: (result, results so far, tasks)
Progress = Callable[[TargetResult, int, int], None]
#: the run's directions, inherited by forked workers (descriptions hold compiled plans)
_JOB: dict[str, Any] = {}


def _work(i: int, key: Key) -> TargetResult:
    job = _JOB
    target = chain_target(job["routes"][i], key)
    return fuzz_target(target, max_examples=job["max_examples"],
                       seed=target_seed(job["seed"], target.path, key),
                       max_shrinks=job["max_shrinks"], db=job["db"]())


def run_targets(routes: Sequence[tuple[Direction, ...]], tasks: Sequence[tuple[int, Key]], *,
                max_examples: int, seed: int, max_shrinks: int, jobs: int,
                db: Callable[[], ExampleDatabase | None],
                done: Progress | None = None) -> list[TargetResult]:
    """Fuzz every ``(route index, section)`` task (a route: one direction, or the hops of a
    chain) in ``jobs`` forked workers (no more than there are tasks); ``done`` hears of
    each result as it comes."""
    _JOB.update(routes=list(routes), max_examples=max_examples, seed=seed,
                max_shrinks=max_shrinks, db=db)
    results: list[TargetResult] = []
    try:
        if jobs <= 1 or len(tasks) <= 1:
            for i, key in tasks:
                results.append(_work(i, key))
                if done is not None:
                    done(results[-1], len(results), len(tasks))
        else:
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=ctx) as pool:
                futures = [pool.submit(_work, i, key) for i, key in tasks]
                for fut in as_completed(futures):
                    results.append(fut.result())
                    if done is not None:
                        done(results[-1], len(results), len(tasks))
    finally:
        _JOB.clear()
    order = {(route_path(routes[i]), k): n for n, (i, k) in enumerate(tasks)}
    results.sort(key=lambda r: order[(r.path, r.section)])
    return results


def route_path(route: Sequence[Direction]) -> tuple[str, ...]:
    """The releases a route goes through."""
    return (route[0].source.qemu.name, *(d.destination.qemu.name for d in route))
