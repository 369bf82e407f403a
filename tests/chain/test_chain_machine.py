"""The chain state machine: it finds and shrinks the planted loss; gap-free histories pass."""

from __future__ import annotations

import pytest

from vmcompat.catalog import history
from vmcompat.compat.chain import ChainSpec, ChainVerdict
from vmcompat.compat.chain_machine import run_chain
from vmcompat.dsl import device, uint8, uint16

GAP = ChainSpec.of_history(history("wdt-gap"), ("legacy", "ber", "json"))


def test_finds_and_shrinks_the_planted_loss() -> None:
    """A chain test that cannot find the planted loss is a failing test."""
    run = run_chain(GAP, max_examples=100, seed=1)
    r = run.result
    assert r.verdict is ChainVerdict.LOSS, r
    assert r.path == ("1", "2", "3") and r.wires == ("legacy", "legacy"), "the shortest chain"
    assert [(x.field, x.hop) for x in r.lost_fields] == [("prescaler", 1)]
    assert r.direct_verdict == "compatible"
    ce = r.counterexample
    assert ce is not None and ce["start"] == "1"
    assert ce["state"] == {"enabled": False, "reload": 0, "counter": 0, "prescaler": 1,
                           "stage": 0}, "the smallest state"
    assert [s.get("write") for s in ce["steps"]] == [None, None], "no guest change needed"


def test_same_seed_same_chain() -> None:
    spec = ChainSpec.of_history(history("mc146818rtc"), ("legacy", "ber"))
    a, b = (run_chain(spec, max_examples=10, seed=7) for _ in range(2))
    assert a.result == b.result and a.seed == b.seed == 7


@pytest.mark.parametrize("name", ["mc146818rtc", "apic", "serial"])
def test_gap_free_histories_lose_nothing(name: str) -> None:
    """Old -> new adds fields with field versions (a marshal function for apic, configuration
    and subsections for serial), new -> old is refused: no chain loses."""
    spec = ChainSpec.of_history(history(name), ("legacy", "ber", "json"))
    r = run_chain(spec, max_examples=30, seed=3).result
    assert not r.verdict.bad, r
    assert r.verdict is ChainVerdict.REFUSED and r.lost_fields == ()


def test_a_history_every_hop_accepts_is_lossless() -> None:
    a = device("d", 1, uint8("x"), uint16("b"))
    b = device("d", 1, uint8("x"), uint16("bee"))
    run = run_chain(ChainSpec("d", (a, b), ("a", "b")), max_examples=30, seed=0)
    assert run.result.verdict is ChainVerdict.LOSSLESS and run.result.counterexample is None
    assert len(run.result.path) > 2, "the longest lossless chain seen is reported"
    assert run.examples >= 30


def test_only_the_upgrade_path_loses_on_the_legacy_wire() -> None:
    """On ber alone v1 -> v2 refuses the dropped field: the worst chain is refused."""
    spec = ChainSpec.of_history(history("wdt-gap"), ("ber",))
    assert run_chain(spec, max_examples=30, seed=0).result.verdict is ChainVerdict.REFUSED
