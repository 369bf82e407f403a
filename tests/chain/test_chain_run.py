"""Known answers of one chain (ChainRun): hops, guest changes, chain loss and its provenance."""

from __future__ import annotations

from typing import Any

from vmcompat.catalog import history, sample_state
from vmcompat.compat.chain import (
    ChainRun,
    ChainSpec,
    ChainVerdict,
    Loss,
    engine_hop,
    reset_filled,
    writable,
)
from vmcompat.compat.verdict import Verdict
from vmcompat.dsl import device, int8, uint8, uint16
from vmcompat.model import SUBSECTIONS_KEY, Description

GAP = ChainSpec.of_history(history("wdt-gap"))
WDT: dict[str, Any] = {"enabled": True, "reload": 9, "counter": 3, "prescaler": 7, "stage": 1}


def test_the_gap_loses_the_field_every_direct_hop_keeps() -> None:
    for a, b in ((0, 1), (1, 2), (0, 2)):
        src = GAP.versions[a]
        state = WDT if a == 0 else reset_filled(src, {k: v for k, v in WDT.items()
                                                      if k != "prescaler"})
        assert engine_hop(src, GAP.versions[b], state, "legacy").verdict is Verdict.COMPATIBLE
    run = ChainRun(GAP, 0, WDT)
    assert run.hop(1, "legacy") is ChainVerdict.LOSSLESS
    assert run.hop(2, "legacy") is ChainVerdict.LOSS
    assert run.lost == [Loss("prescaler", 1, "2 does not hold prescaler: 3 then loads 0 where "
                                             "the direct hop 1 → 3 gives 7")]
    r = run.result()
    assert r.path == ("1", "2", "3") and r.wires == ("legacy", "legacy")
    assert r.direct_verdict == "compatible" and r.counterexample is not None
    assert r.counterexample["state"] == WDT and r.counterexample["loaded"]["prescaler"] == 0
    assert set(r.to_json()) == {"device", "path", "wires", "verdict", "lost_fields",
                                "direct_verdict", "counterexample"}


def test_a_loss_before_a_guest_change_is_still_found() -> None:
    """Not "the direct hop of the state as last changed": v2 holds no prescaler to compare."""
    run = ChainRun(GAP, 0, WDT)
    run.hop(1, "legacy")
    run.write("reload", 1234)
    assert run.hop(2, "legacy") is ChainVerdict.LOSS
    assert [x.field for x in run.lost] == ["prescaler"]
    assert run.result().counterexample["steps"][1] == {"write": "reload", "value": 1234,
                                                         "at": "2"}


def test_a_guest_change_is_the_reference_of_what_it_moves() -> None:
    run = ChainRun(GAP, 0, WDT)
    run.write("prescaler", 5)
    run.hop(1, "legacy")
    run.hop(2, "legacy")
    assert run.lost[0].reason.endswith("gives 5")
    lossless = ChainRun(GAP, 1, reset_filled(GAP.versions[1], {}))
    lossless.write("reload", 77)
    assert lossless.hop(2, "legacy") is ChainVerdict.LOSSLESS and lossless.state["reload"] == 77


def test_provenance_follows_the_value_not_the_name() -> None:
    """apic v2 -> v3 converts ``timer`` into ``timer_expiry`` (a marshal function): a guest
    change of ``timer`` is what ``timer_expiry`` must carry, not the first state's timer."""
    spec = ChainSpec.of_history(history("apic"))
    first = dict(sample_state(spec.versions[0]), timer=1)
    run = ChainRun(spec, 0, first)
    run.write("timer", 0)
    assert run.hop(1, "legacy") is ChainVerdict.LOSSLESS, run.lost
    assert run.state["timer_expiry"] == 0


def test_a_refused_hop_leaves_the_guest_on_the_source() -> None:
    run = ChainRun(GAP, 0, WDT)
    run.hop(2, "legacy")
    assert run.hop(0, "legacy") is ChainVerdict.REFUSED
    assert run.at == 2 and not run.over and run.path == [0, 2]
    assert run.hop(2, "legacy") is ChainVerdict.REFUSED, "the chain goes on, refused"
    r = run.result()
    assert r.path == ("1", "3", "1") and r.wires == ("legacy", "legacy"), "up to the refusal"
    assert not r.verdict.bad and "too new" in r.counterexample["steps"][-1]["reason"]


def test_a_chain_that_was_refused_once_can_still_lose() -> None:
    run = ChainRun(GAP, 0, WDT)
    assert run.hop(1, "ber") is ChainVerdict.REFUSED
    run.hop(1, "legacy")
    assert run.hop(2, "legacy") is ChainVerdict.LOSS
    r = run.result()
    assert r.path == ("1", "2", "3") and r.wires == ("legacy", "legacy")
    assert [s["verdict"] for s in r.counterexample["steps"]] == ["refused", "compatible",
                                                                  "compatible"]


def test_self_describing_wires_refuse_the_dropped_field() -> None:
    """On ber/json the v1 -> v2 hop refuses the field v2 lacks, so nothing is lost there."""
    for wire in ("ber", "json"):
        run = ChainRun(GAP, 0, WDT)
        assert run.hop(1, wire) is ChainVerdict.REFUSED


def test_a_corrupt_hop_makes_a_corrupt_chain() -> None:
    old = device("d", 1, uint8("a"), uint16("b"))
    signed = device("d", 1, int8("a"), uint16("b"))
    spec = ChainSpec("d", (old, signed), ("u", "s"))
    run = ChainRun(spec, 0, {"a": 200, "b": 0})
    assert run.hop(1, "legacy") is ChainVerdict.CORRUPT
    ce = run.result().counterexample
    assert ce["hop"]["first_difference"] == "a" and "differs" in ce["hop"]["detail"]


def test_a_same_version_rename_round_trip_is_lossless() -> None:
    a = device("d", 1, uint8("x"), uint16("b"))
    b = device("d", 1, uint8("x"), uint16("bee"))
    run = ChainRun(ChainSpec("d", (a, b), ("a", "b")), 0, {"x": 1, "b": 513})
    for to in (1, 0, 1, 1, 0):
        assert run.hop(to, "legacy") is ChainVerdict.LOSSLESS
    assert run.state == {"x": 1, "b": 513} and run.result().counterexample is None


def test_loaded_states_are_completed_for_the_next_save() -> None:
    """serial v2 -> v3: ``int_pending`` (configuration) needs the thr_ipending subsection,
    which no v2 stream carries: the device holds it at its reset value, and v3 saves it."""
    spec = ChainSpec.of_history(history("serial"))
    first = dict(reset_filled(spec.versions[0], {}), int_pending=True)
    run = ChainRun(spec, 0, first)
    assert run.hop(1, "legacy") is ChainVerdict.LOSSLESS
    assert run.state[SUBSECTIONS_KEY]["serial/thr_ipending"] == {"thr_ipending": 0}
    assert run.hop(1, "ber") is ChainVerdict.LOSSLESS


def test_configuration_is_kept_along_the_chain() -> None:
    """Off-wire fields are the device's configuration: a version without one does not reset
    it for the next."""
    v1 = device("d", 1, uint8("a"), uint8("mode", immutable=True, default=0))
    v2 = device("d", 2, uint8("a"), minimum=1)
    v3 = device("d", 3, uint8("a"), uint8("mode", immutable=True, default=0), minimum=1)
    run = ChainRun(ChainSpec("d", (v1, v2, v3), ("1", "2", "3")), 0, {"a": 1, "mode": 4})
    run.hop(1, "legacy")
    run.hop(2, "legacy")
    assert run.state["mode"] == 4


def test_guest_changes_leave_what_other_loads_depend_on() -> None:
    hpet = history("hpet").versions[1]
    assert "num_timers" not in writable(hpet) and "timer" not in writable(hpet)
    assert "config" in writable(hpet)
    ps2kbd: Description = history("ps2kbd").versions[1]
    assert "ledstate" not in writable(ps2kbd)   # derived: configuration, not guest state
    pci_multi = history("pci-serial-multi").versions[0]
    assert "ports" not in writable(pci_multi)    # uint32 equal: fixed by the machine
