"""The oracle and the prior on fused runs agree with the walk's per-scalar path.

``SourceTokens``, ``TokenReader`` and ``PriorBuilder`` handle a plan's
:class:`~vmcompat.plan.Run` at once (the reader takes the values of a source run of
the same layout as they are); :meth:`Visitor.run <vmcompat.walk.Visitor.run>` splits
it into one ``scalar`` call per element. Both must give the same prior, the same
expectation (kind, state with its key order and value types, reason, detail, notes)
and the same outcome of a check (verdict, detail, counterexample), on every catalog
device's version pairs and mutations and on generated descriptions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from vmcompat.catalog import load
from vmcompat.compat import oracle
from vmcompat.formats import FORMATS
from vmcompat.health import GENERATION_CHECKS
from vmcompat.matrix import engine
from vmcompat.model import Description
from vmcompat.strategies import descriptions, evolutions, mutations, states
from vmcompat.strategies.evolutions import all_mutations
from vmcompat.walk import Visitor


@contextmanager
def _per_scalar() -> Iterator[None]:
    """The walk's own path: every run split into ``scalar`` calls."""
    with mock.patch.object(oracle.SourceTokens, "run", Visitor.run), \
            mock.patch.object(oracle.TokenReader, "run", Visitor.run), \
            mock.patch.object(engine.PriorBuilder, "run", Visitor.run):
        yield


def _seen(src: Description, dst: Description, state: Any) -> list[str]:
    prior = engine.prior_for(src, dst, state)
    out = [repr(prior)]
    for self_describing in (False, True):
        e = oracle.expect(src, dst, state, prior, self_describing=self_describing)
        out.append(repr((e.kind, e.state, e.reason, e.detail, e.notes)))
    o = engine.check_state(src, dst, state, FORMATS["legacy"])
    out.append(repr((o.verdict, o.reason, o.detail, o.notes, o.counterexample, o.loaded)))
    return out


def _agree(src: Description, dst: Description, state: Any) -> None:
    # the walks on both sides: the same-wire shortcut (vmcompat.compat.aligned, checked
    # against the walks in test_aligned_shortcut.py) would answer for both
    with mock.patch.object(oracle, "same_wire", lambda *a: False):
        fused = _seen(src, dst, state)
        with _per_scalar():
            walked = _seen(src, dst, state)
    assert fused == walked


def _catalog_pairs() -> list[tuple[Description, Description]]:
    out = []
    for h in load().values():
        for a in h.versions:
            out.extend((a, b) for b in h.versions)
            out.extend((a, c.description) for c in all_mutations(a))
    return out


PAIRS = _catalog_pairs()
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=GENERATION_CHECKS)


@SETTINGS
@given(st.data())
def test_catalog_pairs_and_mutations_agree(data: st.DataObject) -> None:
    src, dst = data.draw(st.sampled_from(PAIRS))
    _agree(src, dst, data.draw(states(src)))


@SETTINGS
@given(st.data())
def test_generated_evolutions_and_mutations_agree(data: st.DataObject) -> None:
    src = data.draw(descriptions())
    dst = data.draw(st.one_of(st.just(src), evolutions(src).map(lambda c: c.description),
                              mutations(src).map(lambda c: c.description)))
    _agree(src, dst, data.draw(states(src)))
    _agree(dst, src, data.draw(states(dst)))
