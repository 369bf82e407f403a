"""The fast paths agree with the walks they stand for.

1. Fused runs: ``SourceTokens``, ``TokenReader`` and ``PriorBuilder`` handle a plan's
:class:`~vmcompat.plan.Run` at once (the reader takes the values of a source run of
the same layout as they are); :meth:`Visitor.run <vmcompat.walk.Visitor.run>` splits
it into one ``scalar`` call per element. Both must give the same prior, the same
expectation (kind, state with its key order and value types, reason, detail, notes)
and the same outcome of a check (verdict, detail, counterexample), on every catalog
device's version pairs and mutations and on generated descriptions.

2. The oracle's same-wire shortcut (:mod:`vmcompat.compat.aligned`) answers what the full
walks answer, wherever it answers. Compared: :func:`~vmcompat.compat.oracle.expect`
(shortcut first) against :func:`~vmcompat.compat.oracle.walked` (the walks alone): kind,
state with its key order and value types, reason, detail and notes, or the same exception,
on catalog version pairs and mutations, generated evolutions, and states with one leaf
replaced by a value chosen to trip a rule (out of range, a bool for an integer, None, a
0x05 first byte, a short buffer).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vmcompat.catalog import load
from vmcompat.compat import aligned, oracle
from vmcompat.dsl import (
    buffer,
    device,
    scalar,
    struct,
    struct_array,
    subsection,
    uint8,
    uint8_equal,
    uint16,
    uint32,
)
from vmcompat.errors import LoadError
from vmcompat.formats import FORMATS
from vmcompat.health import GENERATION_CHECKS
from vmcompat.loadrules import check_version
from vmcompat.marshal import MARSHALS
from vmcompat.matrix import engine
from vmcompat.model import SUBSECTIONS_KEY, Description
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
    # against the walks below) would answer for both
    with mock.patch.object(oracle, "overlay", lambda *a: None):
        fused = _seen(src, dst, state)
        with _per_scalar():
            walked = _seen(src, dst, state)
    assert fused == walked


#: leaves that trip a rule: 0x05 first bytes, out of range, wrong types (small, as an
#: element count may be one of them)
TRIPS = (5, 0x05FF, -1, 256, 1 << 16, True, False, None, b"\x05" * 4, b"", "x")
#: and, where the pair has no element counts (same-wire pairs), the wide 0x05 first bytes
WIDE = (0x0500_0000, 0x0500_0000_0000_0000, 1 << 64, -(1 << 63) - 1)


def _outcome(fn: Any, src: Description, dst: Description, state: Any, prior: Any) -> str:
    try:
        e = fn(src, dst, state, prior)
    except Exception as x:  # the walks may raise on a broken state: so must the shortcut
        return f"raises {type(x).__name__}: {x}"
    return repr((e.kind, e.state, e.reason, e.detail, e.notes))


def _same_as_walks(src: Description, dst: Description, state: Any, prior: Any = None
                   ) -> bool:
    """Whether the shortcut answered, after checking it answered what the walks do."""
    got = aligned.overlay(src, dst, src.version_id, state, prior)
    assert (_outcome(oracle.expect, src, dst, state, prior)
            == _outcome(oracle.walked, src, dst, state, prior))
    return got is not None


def _shortcut_agrees(src: Description, dst: Description, state: Any) -> None:
    try:
        prior = engine.prior_for(src, dst, state)
    except Exception:
        prior = None
    _same_as_walks(src, dst, state, prior)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _paths(v, path + (k,))] or [path]
    if isinstance(value, list) and value:
        return [p for i, v in enumerate(value) for p in _paths(v, path + (i,))]
    return [path]


def _replaced(value: Any, path: tuple[Any, ...], leaf: Any) -> Any:
    if not path:
        return leaf
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, leaf)}
    out = list(value)
    out[head] = _replaced(out[head], rest, leaf)
    return out


@st.composite
def _tripped(draw: st.DrawFn, src: Description, trips: tuple[Any, ...] = TRIPS) -> Any:
    """A state of ``src``, sometimes with one leaf replaced by a trip value."""
    state = draw(states(src))
    if draw(st.booleans()):
        path = draw(st.sampled_from(_paths(state)))
        if path:
            state = _replaced(state, path, draw(st.sampled_from(trips)))
    return state


def _catalog_pairs() -> list[tuple[Description, Description]]:
    out = []
    for h in load().values():
        for a in h.versions:
            out.extend((a, b) for b in h.versions)
            out.extend((a, c.description) for c in all_mutations(a))
    return out


PAIRS = _catalog_pairs()


def _read_as(src: Description, dst: Description) -> Description | None:
    """What the destination reads a ``src`` stream as: itself, or its marshal's layout."""
    try:
        name = check_version(dst, src.version_id)
    except LoadError:
        return None
    return dst if name is None else MARSHALS[name].layout


#: the pairs the shortcut may answer for (i440fx's marshal function among them)
SAME = [(a, b) for a, b in PAIRS
        if (t := _read_as(a, b)) is not None and aligned.same_wire(a, t, a.version_id)]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=GENERATION_CHECKS)


@SETTINGS
@given(st.data())
def test_catalog_same_wire_pairs_agree(data: st.DataObject) -> None:
    src, dst = data.draw(st.sampled_from(SAME))
    _shortcut_agrees(src, dst, data.draw(_tripped(src, TRIPS + WIDE)))


@SETTINGS
@given(st.data())
def test_catalog_pairs_and_mutations_agree(data: st.DataObject) -> None:
    src, dst = data.draw(st.sampled_from(PAIRS))
    _agree(src, dst, data.draw(states(src)))
    _shortcut_agrees(src, dst, data.draw(_tripped(src)))


@SETTINGS
@given(st.data())
def test_generated_evolutions_and_mutations_agree(data: st.DataObject) -> None:
    src = data.draw(descriptions())
    dst = data.draw(st.one_of(st.just(src), evolutions(src).map(lambda c: c.description),
                              mutations(src).map(lambda c: c.description)))
    for a, b in ((src, dst), (dst, src)):
        _agree(a, b, data.draw(states(a)))
        _shortcut_agrees(a, b, data.draw(_tripped(a)))


def test_the_shortcut_answers_for_the_catalog() -> None:
    """Not a shortcut in name only: most catalog devices have same-wire pairs, and it
    answers for their ordinary states."""
    devices = {a.name for a, _ in SAME}
    assert len(devices) >= 10, sorted(devices)
    assert any(_read_as(a, b) is not b for a, b in SAME)  # through a marshal function
    src, dst = next((a, b) for a, b in SAME if a.name == "serial" and a is not b)
    answered: list[bool] = []

    @settings(max_examples=20, database=None, suppress_health_check=GENERATION_CHECKS)
    @given(states(src))
    def draw(state: Any) -> None:
        answered.append(aligned.overlay(src, dst, src.version_id, state,
                                        engine.prior_for(src, dst, state)) is not None)

    draw()
    assert sum(answered) >= len(answered) // 2, answered


INNER = device("inner", 1, uint8("x"))


@pytest.mark.parametrize(("after", "answers"), [(4, True), (5, True), (0x0504, False),
                                                (0x0405, True), (0x05FF, False)])
def test_a_0x05_after_a_struct_goes_to_the_walks(after: int, answers: bool) -> None:
    """QEMU's subsection loop reads the byte after every struct: a 0x05 there is the walks'
    to judge (here it misaligns: 'either'), anything else the shortcut's. A uint16 of 5
    starts with 0x00; one of 0x0504 with 0x05."""
    d = device("d", 1, struct("s", INNER), uint16("y"), uint32("z"))
    state = {"s": {"x": 1}, "y": after, "z": 7}
    got = aligned.overlay(d, d, 1, state, None)
    assert (got is not None) is answers
    assert oracle.expect(d, d, state).kind == oracle.walked(d, d, state).kind
    if answers:
        assert got == {"s": {"x": 1}, "y": after, "z": 7}


def test_a_refusing_check_and_a_short_buffer_go_to_the_walks() -> None:
    d = device("d", 1, uint8_equal("m", default=3), buffer("b", 4))
    assert aligned.overlay(d, d, 1, {"m": 3, "b": b"abcd"}, {"m": 3}) is not None
    assert aligned.overlay(d, d, 1, {"m": 4, "b": b"abcd"}, {"m": 3}) is None
    assert oracle.expect(d, d, {"m": 4, "b": b"abcd"}, {"m": 3}).kind == oracle.REFUSE
    assert aligned.overlay(d, d, 1, {"m": 3, "b": b"abc"}, {"m": 3}) is None


@pytest.mark.parametrize(("after", "answers"), [(b"\x00\x05", True), (b"\x05\x00", False)])
def test_a_buffer_starting_with_0x05_after_a_struct_goes_to_the_walks(after: bytes,
                                                                        answers: bool) -> None:
    d = device("d", 1, struct("s", INNER), buffer("b", 2))
    state = {"s": {"x": 1}, "b": after}
    assert (aligned.overlay(d, d, 1, state, None) is not None) is answers
    assert oracle.expect(d, d, state).kind == oracle.walked(d, d, state).kind


def test_a_needed_subsection_the_destination_loads_is_the_shortcuts() -> None:
    sub = subsection(device("d/sub", 1, uint16("s")), {"field": "a", "op": "ne", "value": 0})
    src = device("d", 1, uint8("a"), subsections=[sub])
    dst = device("d", 1, uint8("a"), subsections=[sub])
    sent = {"a": 1, SUBSECTIONS_KEY: {"d/sub": {"s": 0x0500}}}
    assert _same_as_walks(src, dst, sent)
    assert oracle.expect(src, dst, sent).state == sent
    assert _same_as_walks(src, dst, {"a": 0})  # not needed: not sent, prior kept
    # the destination lacks it: QEMU refuses, which is the walks' to say
    assert not _same_as_walks(src, device("d", 1, uint8("a")), sent)
    assert oracle.expect(src, device("d", 1, uint8("a")), sent).kind == oracle.REFUSE


def test_a_header_another_struct_could_claim_goes_to_the_walks() -> None:
    """"d/s" then "d/s/x": the first subsection's own loop would claim the second header."""
    one = subsection(device("d/s", 1, uint8("p")))
    two = subsection(device("d/s/x", 1, uint8("q")))
    d = device("d", 1, uint8("a"), subsections=[one, two])
    state = {"a": 1, SUBSECTIONS_KEY: {"d/s": {"p": 2}, "d/s/x": {"q": 3}}}
    assert not _same_as_walks(d, d, state)
    assert _same_as_walks(device("d", 1, uint8("a"), subsections=[one]), d,
                          {"a": 1, SUBSECTIONS_KEY: {"d/s": {"p": 2}}})


@pytest.mark.parametrize("n", [0, 1, 3, -1, 5])
def test_counted_struct_arrays(n: int) -> None:
    item = device("item", 1, uint8("x"), uint16("y"))
    d = device("d", 1, scalar("int32", "n"), struct_array("items", item, varray="n"),
               uint8("z"))
    state = {"n": n, "items": [{"x": i, "y": 5 << 8} for i in range(max(n, 0))], "z": 7}
    prior = {"items": [{"x": 9, "y": 9, "w": 1}]}
    answered = _same_as_walks(d, d, state, prior)
    assert answered is (n >= 0)  # a negative count (and below, a short list): the walks'
    if n == 5:
        state["items"] = state["items"][:4]
        assert not _same_as_walks(d, d, state, prior)


def test_a_subsection_header_after_a_struct_is_not_a_stray_0x05() -> None:
    """The header after a struct is QEMU's subsection loop's own: the subsection's first
    byte (0x05 here) is not read by any loop."""
    sub = subsection(device("d/sub", 1, uint16("s")))
    d = device("d", 1, struct("in", INNER), subsections=[sub])
    assert _same_as_walks(d, d, {"in": {"x": 1}, SUBSECTIONS_KEY: {"d/sub": {"s": 0x0500}}})


def test_a_subsection_too_new_for_the_destination_goes_to_the_walks() -> None:
    src = device("d", 1, uint8("a"), subsections=[subsection(device("d/sub", 2, uint16("s")))])
    dst = device("d", 1, uint8("a"), subsections=[subsection(device("d/sub", 1, uint16("s")))])
    state = {"a": 1, SUBSECTIONS_KEY: {"d/sub": {"s": 1}}}
    assert not _same_as_walks(src, dst, state)
    assert oracle.expect(src, dst, state).kind == oracle.REFUSE
