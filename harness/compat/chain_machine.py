"""The chain as a Hypothesis ``RuleBasedStateMachine``; :func:`run_chain` runs it.

Rules (each draws its arguments; Hypothesis shrinks the whole program):

- ``start`` (initialize): a version (shrinks toward the oldest) and a state of it;
- ``hop``: to any version (upgrade, downgrade or the same again) on one of the
  wires; ``upgrade``: to the next newer version (a fleet's release-by-release
  path; it keeps refused downgrades from ending most chains early);
- ``guest_write``: a guest-like change of one field the current version holds
  (:func:`vmcompat.compat.chain.writable`), its value drawn from
  :func:`vmcompat.strategies.states`.

The invariant (after every step) fails the example when the chain is
``loss`` or ``corrupt`` (:class:`~vmcompat.compat.chain.ChainRun` judges each
hop); Hypothesis then shrinks to the shortest program with the smallest
state, and :func:`run_chain` returns that chain. When no example fails, the
result is the worst chain seen: a refused one (the shortest), else the
longest lossless one. After a loss or corruption, later steps do nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import hypothesis
from hypothesis import Phase, Verbosity
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from vmcompat.compat.chain import (
    CHAIN_SEVERITY,
    ChainResult,
    ChainRun,
    ChainSpec,
    ChainVerdict,
    writable,
)
from vmcompat.health import GENERATION_CHECKS
from vmcompat.model import Description
from vmcompat.strategies.states import states

#: most steps (hops and guest changes) in one chain
MAX_STEPS = 12


class ChainFailed(Exception):
    """Raised by the invariant: the chain lost or corrupted data."""

    def __init__(self, result: ChainResult) -> None:
        super().__init__(f"{result.verdict.value}: {result.arrow}")
        self.result = result


@dataclass
class _Seen:
    """What the examples that did not fail looked like (for the report)."""

    examples: int = 0
    best: ChainResult | None = None

    def add(self, r: ChainResult) -> None:
        self.examples += 1
        b = self.best
        if b is None or CHAIN_SEVERITY[r.verdict] > CHAIN_SEVERITY[b.verdict]:
            self.best = r
        elif r.verdict is b.verdict:
            shorter = len(r.path) < len(b.path)
            if shorter if r.verdict is ChainVerdict.REFUSED else len(r.path) > len(b.path):
                self.best = r


def _one_field(desc: Description, name: str) -> st.SearchStrategy[Any]:
    """Values of one field, drawn as a state of a description holding only that field."""
    alone = Description(desc.name, desc.version_id, desc.minimum_version_id,
                        (desc.field(name),))
    return states(alone).map(lambda s: s[name])


def chain_machine(spec: ChainSpec, seen: _Seen) -> type[RuleBasedStateMachine]:
    """A state machine class over ``spec`` (one class per spec: rules draw from it)."""
    n = len(spec.versions)
    starts = st.one_of(*(st.tuples(st.just(i), states(d)) for i, d in enumerate(spec.versions)))
    writes = {i: st.sampled_from([(name, _one_field(d, name)) for name in writable(d)])
              for i, d in enumerate(spec.versions) if writable(d)}

    class ChainMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.chain: ChainRun | None = None

        @initialize(start=starts)
        def start(self, start: tuple[int, dict[str, Any]]) -> None:
            self.chain = ChainRun(spec, start[0], start[1])

        @rule(to=st.integers(0, n - 1), wire=st.sampled_from(spec.wires))
        def hop(self, to: int, wire: str) -> None:
            assert self.chain is not None
            self.chain.hop(to, wire)

        @precondition(lambda self: self.chain is not None and not self.chain.over
                      and self.chain.at < n - 1)
        @rule(wire=st.sampled_from(spec.wires))
        def upgrade(self, wire: str) -> None:
            assert self.chain is not None
            self.chain.hop(self.chain.at + 1, wire)

        @precondition(lambda self: self.chain is not None and not self.chain.over
                      and self.chain.at in writes)
        @rule(data=st.data())
        def guest_write(self, data: st.DataObject) -> None:
            assert self.chain is not None
            name, values = data.draw(writes[self.chain.at], label="field")
            self.chain.write(name, data.draw(values, label=name))

        @invariant()
        def no_loss(self) -> None:
            if self.chain is not None and self.chain.verdict.bad:
                raise ChainFailed(self.chain.result())

        def teardown(self) -> None:
            if self.chain is not None and not self.chain.verdict.bad:
                seen.add(self.chain.result())

    ChainMachine.__name__ = ChainMachine.__qualname__ = f"Chain_{spec.device}"
    return ChainMachine


@dataclass
class ChainRunResult:
    """The worst chain of a run, how many examples ran, and the seed."""

    result: ChainResult
    examples: int
    seed: int


def run_chain(spec: ChainSpec, *, max_examples: int = 50, seed: int | None = None,
              settings: hypothesis.settings | None = None,
              steps: int = MAX_STEPS) -> ChainRunResult:
    """Run the chain machine over ``spec``; the worst chain (shrunk when loss or corrupt).

    ``settings`` is the base (profile) settings; ``max_examples`` always
    applies. No example database is used (each run starts fresh).
    """
    if seed is None:
        seed = random.getrandbits(32)
    seen = _Seen()
    machine = chain_machine(spec, seen)
    base = settings if settings is not None else hypothesis.settings.default
    run_settings = hypothesis.settings(
        base, max_examples=max_examples, stateful_step_count=steps, database=None,
        deadline=None, derandomize=False, report_multiple_bugs=False,
        verbosity=Verbosity.quiet, print_blob=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=GENERATION_CHECKS)
    hypothesis.seed(seed)(machine)
    try:
        run_state_machine_as_test(machine, settings=run_settings)
    except ChainFailed as e:
        return ChainRunResult(e.result, seen.examples + 1, seed)
    except Flaky as e:  # a loader that is not deterministic: a loss seen is still a loss
        found = next((x for x in getattr(e, "exceptions", ()) if isinstance(x, ChainFailed)),
                     None)
        if found is None:
            raise
        return ChainRunResult(found.result, seen.examples + 1, seed)
    assert seen.best is not None, "the machine ran no example"
    return ChainRunResult(seen.best, seen.examples, seed)
