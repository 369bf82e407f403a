"""``vmcompat qemu fuzz`` without QEMU: the outcome of an example, pinned descriptions,
states near a capture, and the replay/explore/shrink driver over a fake destination."""

from __future__ import annotations

from random import Random
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis.database import InMemoryExampleDatabase

from vmcompat.compat.oracle import EITHER, EXACT, REFUSE, Expectation, expect
from vmcompat.dsl import device, uint8, uint16_equal, uint32
from vmcompat.dumps import unknown_needed, unknown_test
from vmcompat.errors import LoadError
from vmcompat.formats import FORMATS
from vmcompat.model import Description, Field, Subsection
from vmcompat.predicates import field_nonzero
from vmcompat.qemu.fuzz import Judgement, Observed, Outcome, fuzz_target, judge
from vmcompat.qemu.fuzz._outcomes import error_kind, signature
from vmcompat.qemu.fuzz._pin import Holds, pin
from vmcompat.qemu.fuzz._target import state_key
from vmcompat.strategies.captured import MAX_EDITS, SMALL_ARRAY, SMALL_BUFFER, captured_states
from vmcompat.stream.compare import leaves

SOME = settings(max_examples=60, database=None, deadline=None)


# ----------------------------------------------------------------------------- judge
def exact(state: Any) -> Expectation:
    return Expectation(EXACT, state=state)


def test_every_outcome_of_one_release() -> None:
    assert judge(exact({"a": 1}), Observed({"a": 1})).outcome is Outcome.AGREE_COMPATIBLE
    j = judge(exact({"a": 1, "b": 2}), Observed({"a": 1, "b": 3}))
    assert (j.outcome, j.fields, j.normalised) == (Outcome.QEMU_NORMALIZES, ("b",), ("b",))
    j = judge(exact({"a": 1}), Observed(None, "q: 4 != 0"), mutated=("a",))
    assert (j.outcome, j.fields, j.error) == (Outcome.QEMU_REJECTS, ("a",), "q: 4 != 0")
    assert judge(Expectation(EITHER, state={"a": 1}, detail="x"), Observed({"a": 2})).outcome \
        is Outcome.AGREE_CORRUPT
    assert judge(Expectation(EITHER, state={"a": 1}), Observed(None, "no")).outcome \
        is Outcome.AGREE_REFUSED
    j = judge(Expectation(REFUSE, detail="too new"), Observed({"a": 1}))
    assert j.outcome is Outcome.DISAGREE and "too new" in j.detail
    j = judge(exact({"a": 1}), Observed(None, "Aborted (killed by signal 6)", crashed=True))
    assert j.outcome is Outcome.QEMU_CRASH and "signal 6" in j.error
    j = judge(exact({"a": 1}), Observed(None, "vmcompat cannot decode", undecodable=True))
    assert j.outcome is Outcome.DISAGREE


def test_between_releases_a_deviation_is_qemus_only_when_the_control_does_the_same() -> None:
    calls = []

    def control(seen: Observed) -> Any:
        def run() -> Observed:
            calls.append(1)
            return seen
        return run

    # normalised the same way when the destination saves the predicted state itself
    j = judge(exact({"a": 1}), Observed({"a": 9}), control(Observed({"a": 9})))
    assert j.outcome is Outcome.QEMU_NORMALIZES and j.normalised == ("a",)
    # the cross-release load holds something the destination's own save does not give
    j = judge(exact({"a": 1}), Observed({"a": 9}), control(Observed({"a": 1})))
    assert (j.outcome, j.fields) == (Outcome.DISAGREE, ("a",))
    j = judge(Expectation(EITHER, state={"a": 1}), Observed({"a": 9}), control(Observed({"a": 1})))
    assert j.outcome is Outcome.AGREE_CORRUPT
    # refused across releases, loaded when saved by the destination: vmcompat missed it
    j = judge(exact({"a": 1}), Observed(None, "q: bad"), control(Observed({"a": 1})))
    assert j.outcome is Outcome.DISAGREE
    j = judge(exact({"a": 1}), Observed(None, "q: bad"), control(Observed(None, "q: bad")))
    assert j.outcome is Outcome.QEMU_REJECTS
    # no control when nothing deviates
    calls.clear()
    judge(exact({"a": 1}), Observed({"a": 1}), control(Observed({"a": 5})))
    assert calls == []


def test_failing_outcomes_are_the_issues_exit_1_list() -> None:
    assert {o.value for o in Outcome if o.fails} == {
        "agree-corrupt", "agree-refused", "qemu-crash", "disagree"}


def test_one_finding_per_check_not_per_value() -> None:
    e1 = ("qemu-system-x86_64: get_pci_config_device: Bad config data: i=0x8 read: c4 device: 2 "
          "cmask: ff wmask: 0 w1cmask:0; qemu-system-x86_64: Failed to load PCIDevice:config; "
          "qemu-system-x86_64: error while loading state for instance 0x0 of device 'x'")
    e2 = e1.replace("i=0x8 read: c4 device: 2 cmask: ff", "i=0x0 read: 0 device: 86 cmask: 10")
    assert error_kind(e1) == error_kind(e2) == (
        "get_pci_config_device: Bad config data: i=N read: N device: N cmask: N wmask: N "
        "w1cmask:N; Failed to load PCIDevice:config")
    assert error_kind("qemu-system-x86_64: irq state -1: must be 0 or 1.") == \
        "irq state N: must be N or N."
    a = Judgement(Outcome.QEMU_REJECTS, ("x",), error=e1)
    b = Judgement(Outcome.QEMU_REJECTS, ("y",), error=e2)
    assert signature(a) == signature(b)
    assert signature(Judgement(Outcome.QEMU_NORMALIZES, ("a",))) == \
        signature(Judgement(Outcome.QEMU_NORMALIZES, ("b",)))
    assert signature(Judgement(Outcome.DISAGREE, ("a",))) != \
        signature(Judgement(Outcome.DISAGREE, ("b",)))


# ----------------------------------------------------------------------------- pin
def test_pin_decides_unknown_tests_by_what_each_state_holds() -> None:
    inner = Description("s", 1, 1, (Field("x", "uint8", exists=unknown_test("x", default=True)),),
                        (Subsection(Description("s/sub", 1, 1, (Field("y", "uint8"),)),
                                    unknown_needed("s/sub")),))
    d = pin(Description("d", 1, 1, (
        Field("a", "uint8", exists=unknown_test("a")),
        Field("b", "uint8", exists=field_nonzero("a")),  # a known predicate stays
        Field("s", "struct", struct=inner, array_len=2))))
    assert d.fields[0].exists == Holds("a") and d.fields[1].exists == field_nonzero("a")
    # elements of one array differ: each is saved as it holds (as the capture sent it)
    state = {"a": 1, "b": 2, "s": [{"x": 1, "__subsections__": {"s/sub": {"y": 5}}}, {}]}
    payload = bytes([1, 2, 1, 0x05, 5]) + b"s/sub" + bytes([0, 0, 0, 1, 5])
    assert FORMATS["legacy"].encode(d, state) == payload  # the writer asks ``needed``
    e = expect(d, d, state, state)  # and so does the oracle
    assert e.kind == EXACT and e.state == state


# ----------------------------------------------------------------------------- states
CAPTURED_DESC = device(
    "dev", 1, uint8("a"), uint32("big", array=80), uint16_equal("magic"),
    Field("le", "int32 le"), Field("buf", "buffer", size=600),
    Field("els", "struct", array_len=10, struct=device("el", 1, uint8("x"), uint8("y"))),
    subsections=[Subsection(device("dev/sub", 1, uint8("z")), unknown_needed("dev/sub"))])
CAPTURED = {"a": 3, "big": list(range(80)), "magic": 0x1234, "le": 2, "buf": bytes(600),
            "els": [{"x": i, "y": 0} for i in range(10)],
            "__subsections__": {"dev/sub": {"z": 5}}}


def shape(state: Any) -> set[str]:
    return {p for p, _ in leaves(state)}


@given(captured_states(pin(CAPTURED_DESC), CAPTURED))
@SOME
def test_states_keep_the_captured_layout(state: Any) -> None:
    assert shape(state) == shape(CAPTURED)
    assert state["magic"] == 0x1234  # equal: the destination compares it with its own
    assert 0 <= state["le"] <= 2
    assert len(state["buf"]) == 600
    changed = sum(a != b for a, b in zip(state["els"], CAPTURED["els"]))
    assert changed <= MAX_EDITS  # a long array of structs gets a few edits


def test_states_shrink_toward_the_capture() -> None:
    d = device("d", 1, uint8("a"), uint32("big", array=SMALL_ARRAY + 1),
               Field("buf", "buffer", size=SMALL_BUFFER + 1))
    cap = {"a": 5, "big": list(range(SMALL_ARRAY + 1)), "buf": bytes(SMALL_BUFFER + 1)}
    many = settings(SOME, max_examples=300)
    s = find(captured_states(d, cap), lambda s: s["big"][7] != 7, settings=many,
             random=Random(1))
    assert s == {**cap, "big": [*range(7), 0, *range(8, SMALL_ARRAY + 1)]}
    s = find(captured_states(d, cap), lambda s: s["buf"] != cap["buf"], settings=many,
             random=Random(1))
    assert s == {**cap, "buf": b"\x01" + bytes(SMALL_BUFFER)}  # one patch, the smallest byte


def test_a_huge_section_draws_within_hypothesis_budget() -> None:
    d = device("e1000e-like", 1, uint32("mac", array=32768), Field("tx", "buffer", size=65536),
               Field("q", "struct", array_len=64,
                     struct=device("q", 1, *(uint32(f"f{i}") for i in range(20)))))
    cap = {"mac": [0] * 32768, "tx": bytes(65536),
           "q": [{f"f{i}": 0 for i in range(20)} for _ in range(64)]}
    seen = []

    @given(captured_states(d, cap))
    @settings(SOME, max_examples=20)
    def draw(state: Any) -> None:
        seen.append(state_key(state))

    draw()
    assert len(set(seen)) > 5


# ----------------------------------------------------------------------------- the driver
class FakeTarget:
    """A destination that rejects ``a > 100`` and recomputes ``b`` (no QEMU)."""

    def __init__(self) -> None:
        self.source = device("fake", 1, uint8("a"), uint8("b"), uint8("c"))
        self.captured = {"a": 1, "b": 2, "c": 3}
        self.key = ("fake", 0)
        self.name = "fake"
        self.path = ("7.2", "7.2")
        self.blocked = ""
        self.setup = ("pc", ())
        self.runs = 0
        self.judged: list[Any] = []

    def judge(self, state: Any) -> tuple[Judgement, bytes]:
        self.runs += 1
        self.judged.append(state)
        if state["a"] > 100:
            return Judgement(Outcome.QEMU_REJECTS, ("a",), error="q: a out of range"), b"x"
        if state["b"] != 2:
            return Judgement(Outcome.QEMU_NORMALIZES, ("b",), normalised=("b",)), b"y"
        return Judgement(Outcome.AGREE_COMPATIBLE), b"z"


def test_findings_are_shrunk_counted_and_replayed_first() -> None:
    db = InMemoryExampleDatabase()
    t = FakeTarget()
    r = fuzz_target(t, max_examples=40, seed=3, max_shrinks=60, db=db)  # type: ignore[arg-type]
    assert r.examples == 40 and sum(r.outcomes.values()) == 40
    assert r.outcomes[Outcome.QEMU_REJECTS] and r.outcomes[Outcome.QEMU_NORMALIZES]
    assert list(r.normalised) == ["b"]
    rej = next(f for f in r.findings if f.judgement.outcome is Outcome.QEMU_REJECTS)
    assert rej.how == "shrunk" and rej.state == {"a": 101, "b": 2, "c": 3}
    assert rej.changes(t.captured) == {"a": 101}
    assert r.runs <= 40 + 60  # every state meets the destination once; shrinks share 60
    # the next run replays the minimal states first, before any new example
    t2 = FakeTarget()
    r2 = fuzz_target(t2, max_examples=5, seed=4, max_shrinks=30, db=db)  # type: ignore[arg-type]
    stored = {state_key(f.state) for f in r.findings if f.how == "shrunk"}
    assert {state_key(s) for s in t2.judged[:len(stored)]} == stored
    assert {f.how for f in r2.findings} == {"replayed"}


def test_a_replayed_state_that_now_agrees_leaves_the_database() -> None:
    db = InMemoryExampleDatabase()
    t = FakeTarget()
    fuzz_target(t, max_examples=30, seed=3, max_shrinks=30, db=db)  # type: ignore[arg-type]
    keys = list(db.data)  # type: ignore[attr-defined]
    assert keys and db.data[keys[0]]  # type: ignore[attr-defined]
    fixed = FakeTarget()
    fixed.judge = lambda state: (Judgement(Outcome.AGREE_COMPATIBLE), b"")  # type: ignore
    fuzz_target(fixed, max_examples=1, seed=5, max_shrinks=0, db=db)  # type: ignore[arg-type]
    assert not any(db.data.values())  # type: ignore[attr-defined]


def test_the_shrink_budget_bounds_destination_loads() -> None:
    t = FakeTarget()
    r = fuzz_target(t, max_examples=30, seed=3, max_shrinks=0)  # type: ignore[arg-type]
    assert t.runs <= 30 and all(f.how == "unshrunk" for f in r.findings)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_seed_makes_a_run_repeatable(seed: int) -> None:
    a, b = FakeTarget(), FakeTarget()
    ra = fuzz_target(a, max_examples=25, seed=seed, max_shrinks=10)  # type: ignore[arg-type]
    rb = fuzz_target(b, max_examples=25, seed=seed, max_shrinks=10)  # type: ignore[arg-type]
    assert a.judged == b.judged and ra.outcomes == rb.outcomes




# ----------------------------------------------------------------------------- found by fuzzing
def test_a_0x05_after_a_struct_is_a_subsection_only_if_it_names_one() -> None:
    """intel-hda 7.2 -> 7.2: ``st[3].ctl`` drawn as 5 right after the struct ``st[2]`` made
    the oracle expect "refuse or exact", where QEMU's subsection loop only peeks: a name
    that does not start with the struct's ends it quietly (found as agree-refused)."""
    inner = device("inner", 1, uint8("a"))
    d = device("d", 1, Field("s", "struct", struct=inner), uint8("x"), uint8("y"),
               Field("name", "buffer", size=7))
    legacy = FORMATS["legacy"]
    quiet = {"s": {"a": 0}, "x": 5, "y": 1, "name": b"inner/z"}  # length 1: not a name
    e = expect(d, d, quiet, quiet)
    assert e.kind == EXACT and e.state == quiet
    assert legacy.decode(d, legacy.encode(d, quiet), 1, quiet) == quiet
    named = {**quiet, "y": 7}  # 0x05, 7, "inner/z": QEMU reads a subsection header
    e = expect(d, d, named, named)
    assert e.kind == EITHER
    with pytest.raises(LoadError, match="VM subsection 'inner/z' in 'inner' does not exist"):
        legacy.decode(d, legacy.encode(d, named), 1, named)


def test_a_ram_block_of_length_zero_decodes() -> None:
    """fw_cfg 7.2 -> 7.2 with ``table_mr_size`` 0: QEMU saves the ACPI tables' RAM block
    with length 0 (and loads that stream again); vmcompat refused it as a bad stream."""
    from vmcompat.stream.ram import read_ram, write_ram
    from vmcompat.stream.source import Source

    raw = ((4096 | 0x04).to_bytes(8, "big")  # MEM_SIZE, 4096 bytes in all
           + b"\x04rom0" + bytes(8) + b"\x06pc.ram" + (4096).to_bytes(8, "big")
           + (0x10).to_bytes(8, "big"))  # EOS
    records = read_ram(Source(raw), 4096)
    assert records[0].blocks == (("rom0", 0), ("pc.ram", 4096))
    out = bytearray()
    write_ram(records, out.extend)
    assert bytes(out) == raw


def test_a_hang_is_a_crash_but_a_qemu_that_cannot_start_stops_the_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A QEMU binary that vanished mid-run (a package upgrade) once came out as
    ``qemu-crash`` findings; only a load that times out twice is a hang."""
    from vmcompat.qemu import QemuError, QemuTimeout
    from vmcompat.qemu.fuzz import _target
    from vmcompat.qemu.releases import Qemu

    release = _target.ReleaseCapture(Qemu("7.2", "/no/such/qemu"), "pc", (), b"", None,
                                     {}, None, timeout=1.0)  # type: ignore[arg-type]
    with pytest.raises(QemuError, match="cannot start /no/such/qemu"):
        release.load(b"QEVM")
    timeouts = []

    def hangs(*args: Any, timeout: float, **kw: Any) -> Any:
        timeouts.append(timeout)
        raise QemuTimeout(f"incoming migration did not complete within {timeout:g} s")

    monkeypatch.setattr(_target, "load_then_save", hangs)
    saved = release.load(b"QEVM")
    assert saved.crashed and saved.stream is None and timeouts == [1.0, 1.0]
    assert saved.error == "hang: incoming migration did not complete within 1 s (twice)"


def test_a_hang_costs_a_short_first_try_once_loads_are_known(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """After a completed load, the first try of the next is bounded by SLOWER times it (at
    least FIRST_TRY); the second try, which decides a hang, still gets the whole timeout."""
    from vmcompat.qemu import QemuTimeout, ops
    from vmcompat.qemu.fuzz import _target
    from vmcompat.qemu.releases import Qemu

    release = _target.ReleaseCapture(Qemu("7.2", "/no/such/qemu"), "pc", (), b"", None,
                                     {}, None, timeout=60.0)  # type: ignore[arg-type]
    timeouts: list[float] = []
    clock = iter([100.0, 102.0])  # the completed load took 2 s

    def completes(*args: Any, timeout: float, **kw: Any) -> Any:
        timeouts.append(timeout)
        return ops.Reloaded(b"QEVM")

    monkeypatch.setattr(_target.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(_target, "load_then_save", completes)
    assert release.load(b"QEVM").stream == b"QEVM"

    def hangs(*args: Any, timeout: float, **kw: Any) -> Any:
        timeouts.append(timeout)
        raise QemuTimeout(f"incoming migration did not complete within {timeout:g} s")

    monkeypatch.setattr(_target.time, "monotonic", lambda: 0.0)
    monkeypatch.setattr(_target, "load_then_save", hangs)
    saved = release.load(b"QEVM")
    assert timeouts == [60.0, _target.SLOWER * 2.0, 60.0]
    assert saved.crashed and saved.error.endswith("within 60 s (twice)")
