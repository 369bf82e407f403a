"""Every rule of the static checker fires on a breaking change and is silent on its twin.

Each case is (old, changed, twin): ``changed`` must make the rule fire when
``old``'s data is loaded into it; ``twin`` is the compatible way to make the
same kind of change and must not fire the rule (nor any error).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from vmcompat.compat import checker as C
from vmcompat.compat.rules import BY_SITE, RULES, SEVERITIES
from vmcompat.dsl import (
    buffer,
    device,
    gtree,
    int32_le,
    qtailq,
    struct,
    subsection,
    uint8,
    uint16,
    uint32,
    uint32_equal,
    uint64,
    unused,
)
from vmcompat.dumps import unknown_test
from vmcompat.model import Description, Marker

Devices = dict[str, Description]


def dev(*fields, v: int = 1, minimum: int | None = None, name: str = "dev", **kw) -> Devices:
    return {"dev": device(name, v, *fields, minimum=minimum, **kw)}


def run(old: Devices, new: Devices, direction: str = "upgrade") -> C.Result:
    return C.check([C.Input("old", old), C.Input("new", new)], direction=direction)


A, B = uint8("a"), uint32("b")
INNER = device("inner", 1, uint32("x"), uint8("y"))
ELEM = device("elem", 1, uint16("id"))
SUB = device("dev/sub", 1, uint16("s"))
AUX = {"aux": device("aux", 1, uint8("z"))}
TESTED = {"field": "a", "op": "nonzero"}


@dataclass(frozen=True)
class Case:
    rule: str
    old: Devices
    changed: Devices
    twin: Devices
    twin_old: Devices | None = None  # when the twin starts elsewhere


CASES = [
    Case("SECTION_MISSING", {**dev(A), **AUX}, dev(A), {**dev(A), **AUX}),
    Case("VERSION_TOO_NEW", dev(A, v=2), dev(A, v=1), dev(A, v=3, minimum=1)),
    Case("MINIMUM_ABOVE_SOURCE", dev(A), dev(A, v=2, minimum=2), dev(A, v=2, minimum=1)),
    Case("LEGACY_LOADER", dev(A), dev(A, v=2, minimum=2, marshal={1: "dev-v1"}),
         dev(A, v=2, minimum=1)),
    Case("DESCRIPTION_RENAMED", dev(A), dev(A, name="device"), dev(A)),
    Case("STRUCT_RENAMED", dev(struct("s", INNER)), dev(struct("s", INNER.evolve(name="in2"))),
         dev(struct("s", INNER))),
    Case("FIELD_SIZE_CHANGED", dev(uint16("a")), dev(uint32("a")),
         dev(uint16("a"), uint32("a32", version=2), v=2, minimum=1)),
    Case("FIELD_TYPE_CHANGED", dev(B), dev(buffer("b", 4)), dev(B)),
    Case("ARRAY_LENGTH_CHANGED", dev(uint8("a", array=4)), dev(uint8("a", array=8)),
         dev(uint8("a", array=4), uint8("a_hi", array=4, version=2), v=2, minimum=1)),
    Case("VARRAY_COUNT_CHANGED", dev(uint8("n"), uint16("xs", varray="n")),
         dev(uint8("n"), uint16("xs", array=4)), dev(uint8("n"), uint16("xs", varray="n"))),
    Case("VARRAY_COUNT_TYPE_CHANGED", dev(uint8("n"), uint16("xs", varray="n")),
         dev(uint32("n"), uint16("xs", varray="n")), dev(uint8("n"), uint16("xs", varray="n"))),
    Case("POINTER_CHANGED", dev(uint32("p", array=2)), dev(uint32("p", array=2, pointer=True)),
         dev(uint32("p", array=2))),
    Case("MARKER_CHANGED", dev(qtailq("q", ELEM)), dev(qtailq("q", ELEM, Marker(more=(42,)))),
         dev(qtailq("q", ELEM))),
    Case("GTREE_KEY_CHANGED", dev(gtree("t", "uint32", ELEM)), dev(gtree("t", "uint64", ELEM)),
         dev(gtree("t", "uint32", ELEM))),
    Case("NESTED_DESCRIPTION_MISSING", dev(struct("s", INNER)), dev(buffer("s", 5)),
         dev(struct("s", INNER))),
    Case("FIELD_TEST_CHANGED", dev(A, B), dev(A, uint32("b", exists=TESTED)), dev(A, B)),
    Case("FIELD_TEST_UNKNOWN", dev(A, B), dev(A, uint32("b[0]", exists=unknown_test("b[0]")),
                                              uint16("b[1]", exists=unknown_test("b[1]"))),
         dev(A, B)),
    Case("FIELD_VERSION_MOVED", dev(A, uint8("c", version=2), v=3, minimum=1),
         dev(A, uint8("c", version=1), v=3, minimum=1),
         dev(A, uint8("c", version=2), v=3, minimum=1)),
    Case("FIELD_VERSION_CHANGED", dev(A, uint8("c", version=2), v=2),
         dev(A, uint8("c", version=3), v=3, minimum=1),
         dev(A, uint8("c", version=2), v=3, minimum=1)),
    Case("DEFAULT_CHANGED", dev(uint8("a", default=0)), dev(uint8("a", default=5)),
         dev(uint8("a", default=0))),
    Case("EQUAL_FIELD", dev(B), dev(uint32_equal("b")), dev(B)),
    Case("EQUAL_VALUE_CHANGED", dev(uint32_equal("b", default=4)),
         dev(uint32_equal("b", default=5)), dev(uint32_equal("b", default=4))),
    Case("BROKEN_FIELD", dev(A), dev(uint8("a", broken=True)), dev(A)),
    Case("ON_WIRE_CHANGED", dev(A, B), dev(A, uint32("b", immutable=True)), dev(A, B)),
    Case("FIELD_REMOVED", dev(A, B), dev(A), dev(A, unused(4))),
    Case("FIELD_ADDED_UNVERSIONED", dev(A), dev(A, B), dev(A, uint32("b", version=2), v=2,
                                                         minimum=1)),
    Case("FIELD_ADDED_TESTED", dev(A), dev(A, uint32("b", exists=TESTED)),
         dev(A, uint32("b", version=2), v=2, minimum=1)),
    Case("FIELD_RENAMED", dev(A, B), dev(A, uint32("b2")), dev(A, B)),
    Case("FIELD_REORDERED", dev(A, uint8("c"), B), dev(uint8("c"), A, B), dev(A, uint8("c"), B)),
    Case("FIELD_DROPPED", dev(A, B), dev(A, unused(4)), dev(A, B)),
    Case("FIELD_FROM_UNUSED", dev(A, unused(4)), dev(A, B), dev(A, unused(4))),
    Case("UNUSED_SIZE_CHANGED", dev(A, B), dev(A, unused(2)), dev(A, unused(4))),
    Case("SUBSECTION_MISSING", dev(A, subsections=[subsection(SUB, TESTED)]), dev(A),
         dev(A, subsections=[subsection(SUB)])),
    Case("SUBSECTION_RENAMED", dev(A, subsections=[subsection(SUB)]),
         dev(A, subsections=[subsection(SUB.evolve(name="dev/sub2"))]),
         dev(A, subsections=[subsection(SUB)])),
    Case("SUBSECTION_PREFIX", dev(A, subsections=[subsection(SUB.evolve(name="other/sub"))]),
         dev(A, subsections=[subsection(SUB.evolve(name="other/sub"))]),
         dev(A, subsections=[subsection(SUB)]), dev(A, subsections=[subsection(SUB)])),
]

#: rules not about two descriptions (tested in test_checker_cli.py, and in
#: test_checker_wire_identity.py: which devices pair up)
ELSEWHERE = {"IGNORE_UNUSED", "QOM_TYPE_RENAMED"}


def rules_of(result: C.Result) -> set[str]:
    return {f.rule for f in result.findings}


def test_every_rule_has_a_case() -> None:
    assert {c.rule for c in CASES} | ELSEWHERE == set(RULES)
    assert len({c.rule for c in CASES}) == len(CASES)


def test_rule_table_is_well_formed() -> None:
    for r in RULES.values():
        assert r.severity in SEVERITIES and r.code.isupper() and r.doc, r.code
        assert r in BY_SITE[r.site]
    assert RULES["FIELD_RENAMED"].severity == "warning"


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fires(case: Case) -> None:
    result = run(case.old, case.changed)
    hits = [f for f in result.findings if f.rule == case.rule]
    assert hits, f"{case.rule} did not fire: {rules_of(result)}"
    rule = RULES[case.rule]
    for f in hits:
        assert (f.severity, f.category, f.direction) == (rule.severity, rule.category, "upgrade")
        assert f.device in case.old and f.path.startswith(f.device + "/") and f.message
    assert result.compatible == (not any(f.error for f in result.findings))
    if rule.severity == "error":
        assert not result.compatible


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_silent_on_twin(case: Case) -> None:
    result = run(case.twin_old or case.old, case.twin)
    assert case.rule not in rules_of(result)
    assert result.compatible, [f.message for f in result.findings if f.error]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_identity_is_silent(case: Case) -> None:
    """A description against itself: nothing, except what is wrong in every migration."""
    for d in (case.old, case.changed):
        rules = rules_of(run(d, d, "both"))
        assert rules <= {"BROKEN_FIELD", "SUBSECTION_PREFIX"}, rules


# -- behaviour beyond single rules -------------------------------------------------------------
def test_reports_everything_not_just_the_first_mismatch() -> None:
    old = dev(uint8("a"), uint16("b"), uint32("c"), uint64("d"))
    new = dev(uint16("a"), uint16("b"), uint8("c"))
    got = [(f.rule, f.path) for f in run(old, new).findings]
    assert got == [("FIELD_SIZE_CHANGED", "dev/dev/a"), ("FIELD_SIZE_CHANGED", "dev/dev/c"),
                   ("FIELD_REMOVED", "dev/dev/d")]


def test_versions_decide_which_fields_a_stream_carries() -> None:
    v1 = dev(A, v=1)
    v2 = dev(A, uint8("c", version=2), v=2, minimum=1)
    v3 = dev(A, uint8("c", version=2), uint8("e", version=3), v=3, minimum=1)
    assert run(v1, v3).compatible and run(v2, v3).compatible
    # a v3 destination that forgot to version "e" reads it from v2 streams
    bad = dev(A, uint8("c", version=2), uint8("e"), v=3, minimum=1)
    f = [x for x in run(v2, bad).findings if x.error]
    assert [(x.rule, x.path) for x in f] == [("FIELD_ADDED_UNVERSIONED", "dev/dev/e")]


def test_nested_struct_fields_are_compared_with_paths() -> None:
    old = dev(A, struct("s", INNER))
    new = dev(A, struct("s", device("inner", 1, uint32("x"))))
    f = run(old, new).findings
    assert [(x.rule, x.path) for x in f] == [("FIELD_REMOVED", "dev/dev/s/inner/y")]


def test_fields_moved_into_a_struct_keep_the_wire() -> None:
    old = dev(A, uint32("x"), uint8("y"))
    new = dev(A, struct("s", INNER))
    result = run(old, new)
    assert result.compatible
    assert {(f.rule, f.severity) for f in result.findings} == {("FIELD_RENAMED", "warning")}


def test_subsection_fields_and_versions() -> None:
    old = dev(A, subsections=[subsection(device("dev/sub", 2, uint16("s"), uint8("t", version=2),
                                                minimum=1))])
    new = dev(A, subsections=[subsection(device("dev/sub", 1, uint32("s")))])
    got = {(f.rule, f.path) for f in run(old, new).findings}
    assert got == {("VERSION_TOO_NEW", "dev/dev/dev~1sub"),
                   ("FIELD_SIZE_CHANGED", "dev/dev/dev~1sub/s"),
                   ("FIELD_REMOVED", "dev/dev/dev~1sub/t")}


def test_subsection_only_the_destination_has_is_fine() -> None:
    assert run(dev(A), dev(A, subsections=[subsection(SUB, TESTED)])).findings == []


def test_subsection_never_sent_needs_no_destination() -> None:
    old = dev(A, subsections=[subsection(SUB, False)])
    assert run(old, dev(A)).findings == []


def test_tested_field_removed_is_reported_with_its_test() -> None:
    f = run(dev(A, uint32("b", exists=TESTED)), dev(A)).findings
    assert [x.rule for x in f] == ["FIELD_REMOVED"] and "a != 0" in f[0].message


def test_swapped_same_size_fields_are_reordered_not_renamed() -> None:
    f = run(dev(uint8("a"), uint8("c")), dev(uint8("c"), uint8("a"))).findings
    assert [x.rule for x in f] == ["FIELD_REORDERED"]


def test_tested_alternatives_of_a_dump() -> None:
    """QEMU 2.1 sent PCI config (256 bytes) always; 7.2 has two ``config`` fields with
    field_exists tests (PCI 256, PCIe 4096): a dump imports them as config[0], config[1]."""
    old = dev(A, buffer("config", 256), B)
    new = dev(A, buffer("config[0]", 256, exists=unknown_test("config[0]")),
              buffer("config[1]", 4096, exists=unknown_test("config[1]")), B)
    r = run(old, new)
    assert r.compatible
    assert [(f.rule, f.path) for f in r.findings] == [
        ("FIELD_TEST_UNKNOWN", "dev/dev/config"), ("FIELD_ADDED_TESTED", "dev/dev/config[1]")]
    # the same field (same name) gaining a test it may fail is an error
    same = dev(A, buffer("config", 256, exists=unknown_test("config")), B)
    assert [f.rule for f in run(old, same).findings] == ["FIELD_TEST_CHANGED"]


def test_le_bound_lowered() -> None:
    old = dev(int32_le("n", default=8))
    assert [f.rule for f in run(old, dev(int32_le("n", default=4))).findings] == [
        "EQUAL_VALUE_CHANGED"]
    assert run(old, dev(int32_le("n", default=16))).findings == []


def test_struct_version_bump_does_not_make_a_new_struct_field_safe() -> None:
    """Nested struct versions never travel: the loader reads every field of its own struct."""
    old = dev(A, struct("s", device("in", 1, uint8("x"))))
    new = dev(A, struct("s", device("in", 2, uint8("x"), uint8("y", version=2), minimum=1)))
    f = run(old, new).findings
    assert [(x.rule, x.path) for x in f] == [("FIELD_ADDED_UNVERSIONED", "dev/dev/s/in/y")]
    assert "never travel" in f[0].message
