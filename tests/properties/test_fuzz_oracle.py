"""Known answers of the oracle and of run_cell on small hand-written pairs (their verdicts)."""

from __future__ import annotations

import pytest

from vmcompat.compat.oracle import EITHER, EXACT, REFUSE, expect
from vmcompat.compat.verdict import Cell, Verdict
from vmcompat.dsl import (
    device,
    int8,
    subsection,
    uint8,
    uint8_equal,
    uint16,
    uint32,
    unused,
)
from vmcompat.errors import Reason
from vmcompat.formats import FORMATS
from vmcompat.matrix.engine import prior_for, run_cell

OLD = device("d", 1, uint8("a"), uint16("b"), uint8("c"))
CELL = Cell("d", "old", "new")


def _run(src, dst, n: int = 60):
    return run_cell(src, dst, CELL, max_examples=n, seed=1234)


def test_identical_is_compatible() -> None:
    r = _run(OLD, OLD)
    assert r.verdict is Verdict.COMPATIBLE and r.examples == 60 and r.seed == 1234


def test_sign_change_is_corrupt_with_a_value_past_the_sign_bit() -> None:
    r = _run(OLD, device("d", 1, int8("a"), uint16("b"), uint8("c")))
    assert r.verdict is Verdict.CORRUPT
    ce = r.counterexample
    assert ce["state"]["a"] >= 128 and ce["first_difference"] == "a"
    assert ce["loaded"]["a"] == ce["state"]["a"] - 256
    assert ce["written"].startswith(f"{ce['state']['a']:02x}")
    assert ce["state"]["b"] == 0 and ce["state"]["c"] == 0, "shrunk: other fields are zero"


def test_swapped_same_size_fields_are_corrupt() -> None:
    r = _run(OLD, device("d", 1, uint8("c"), uint16("b"), uint8("a")))
    assert r.verdict is Verdict.CORRUPT
    s = r.counterexample["state"]
    assert s["a"] != s["c"] and s["b"] == 0 and sorted((s["a"], s["c"])) == [0, 1]


def test_rename_with_identical_layout_is_compatible_with_a_note() -> None:
    r = _run(OLD, device("d", 1, uint8("a"), uint16("bee"), uint8("c")))
    assert r.verdict is Verdict.COMPATIBLE
    assert "bee is loaded from the bytes of b, at the same place: taken as a rename" in r.notes


def test_field_replaced_by_unused_is_dropped_not_corrupt() -> None:
    e = expect(OLD, device("d", 1, uint8("a"), unused(2), uint8("c")), {"a": 1, "b": 2, "c": 3})
    assert e.kind == EXACT and e.state == {"a": 1, "c": 3}


def test_field_restored_over_unused_reads_its_zeros() -> None:
    """A field back where the source keeps VMSTATE_UNUSED reads the zero bytes (not a rename)."""
    gap = device("d", 2, uint8("a"), unused(2), uint8("c"), minimum=1)
    back = device("d", 3, uint8("a"), uint16("b"), uint8("c"), minimum=1)
    e = expect(gap, back, {"a": 1, "c": 3})
    assert e.kind == EXACT and e.state == {"a": 1, "b": 0, "c": 3}
    assert e.notes == ("b reads the unused bytes of unused",)
    assert _run(gap, back).verdict is Verdict.COMPATIBLE


def test_version_checks() -> None:
    new = device("d", 2, uint8("a"), uint16("b"), uint8("c"), uint32("x", version=2, default=9),
                 minimum=1)
    assert _run(OLD, new).verdict is Verdict.COMPATIBLE
    assert expect(OLD, new, {"a": 1, "b": 2, "c": 3}).state["x"] == 9
    back = _run(new, OLD)
    assert back.verdict is Verdict.REFUSED and back.reason == Reason.TOO_NEW.value
    too_old = device("d", 3, uint8("a"), uint16("b"), uint8("c"), minimum=3)
    assert expect(OLD, too_old, {"a": 1, "b": 2, "c": 3}).reason is Reason.TOO_OLD


def test_misaligned_layouts_must_refuse_or_project() -> None:
    wider = device("d", 1, uint8("a"), uint16("b"), uint16("c"))
    e = expect(OLD, wider, {"a": 1, "b": 2, "c": 3})
    assert e.kind == EITHER and e.state == {"a": 1, "b": 2, "c": 3}
    r = _run(OLD, wider)
    assert r.verdict is Verdict.REFUSED and r.reason == Reason.TRUNCATED.value


def test_equal_field_mismatch_is_refused() -> None:
    src = device("d", 1, uint8_equal("n", default=4))
    dst = device("d", 1, uint8_equal("n", default=5))
    e = expect(src, dst, {"n": 4}, prior_for(src, dst, {"n": 4}))
    assert e.kind == REFUSE and e.reason is Reason.EQUAL
    assert _run(src, dst).verdict is Verdict.REFUSED


def test_unknown_subsection_is_refused_and_missing_one_is_fine() -> None:
    sub = device("d/extra", 1, uint8("z"))
    with_sub = device("d", 1, uint8("a"), subsections=[subsection(sub)])
    without = device("d", 1, uint8("a"))
    e = expect(with_sub, without, {"a": 1, "__subsections__": {"d/extra": {"z": 2}}})
    assert e.kind == REFUSE and e.reason is Reason.UNKNOWN_SUBSECTION
    assert _run(without, with_sub).verdict is Verdict.COMPATIBLE
    assert _run(with_sub, without).verdict is Verdict.REFUSED


def test_subsection_sent_only_when_needed() -> None:
    sub = device("d/extra", 1, uint8("z"))
    src = device("d", 1, uint8("a"), subsections=[subsection(sub, {"field": "a", "op": "eq",
                                                                   "value": 7})])
    dst = device("d", 1, uint8("a"))
    r = _run(src, dst)
    # the state a == 7 is found; QEMU says "does not exist", the walk (no subsections declared)
    # leaves the bytes as trailing data: both are refusals
    assert r.verdict is Verdict.REFUSED
    assert r.reason in (Reason.UNKNOWN_SUBSECTION.value, Reason.TRAILING.value)


def test_null_pointer_slots_follow_the_source() -> None:
    d = device("d", 1, uint8("p", array=3, pointer=True))
    prior = prior_for(d, d, {"p": [None, 1, None]})
    assert prior == {"p": [None, 0, None]}
    assert expect(d, d, {"p": [None, 1, None]}, prior).state == {"p": [None, 1, None]}
    assert _run(d, d).verdict is Verdict.COMPATIBLE


def test_run_cell_works_inside_a_running_given_test() -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    seen = []

    # run_cell runs a @given test of its own: Hypothesis's documented opt-in for nesting
    # is this suppression on the outer test (vmcompat uses no private API to bypass it)
    @settings(max_examples=2, database=None, suppress_health_check=[HealthCheck.nested_given])
    @given(st.integers(0, 1))
    def outer(_: int) -> None:
        seen.append(run_cell(OLD, OLD, CELL, max_examples=5, seed=1).verdict)

    outer()
    assert seen and all(v is Verdict.COMPATIBLE for v in seen)


@pytest.mark.parametrize("seed", [1, 2])
def test_same_seed_same_result(seed: int) -> None:
    dst = device("d", 1, uint8("c"), uint16("b"), uint8("a"))
    a, b = _run(OLD, dst), _run(OLD, dst)
    assert a.to_json() == b.to_json()


SELF_DESCRIBING = sorted(n for n, f in FORMATS.items() if f.self_describing)


@pytest.mark.parametrize("wire", SELF_DESCRIBING or ["(none registered)"])
def test_self_describing_wires_match_by_name(wire: str) -> None:
    assert wire in FORMATS, "ber and json are registered self-describing wires"
    swapped = device("d", 1, uint8("c"), uint16("b"), uint8("a"))
    signed = device("d", 1, int8("a"), uint16("b"), uint8("c"))
    cell = Cell("d", "old", "new", wire)
    assert run_cell(OLD, swapped, cell, max_examples=30, seed=1).verdict is Verdict.COMPATIBLE
    r = run_cell(OLD, signed, cell, max_examples=30, seed=1)
    assert r.verdict is not Verdict.COMPATIBLE and not r.verdict.bad
