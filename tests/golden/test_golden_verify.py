"""verify/update on small histories: tree diffs, unused, missing, newest loads, frozen, partial."""

from __future__ import annotations

import json

import pytest

import vmcompat.golden._generate as generate
from vmcompat.dsl import buffer, device, uint8, uint8_equal, uint16, uint32
from vmcompat.errors import InputError
from vmcompat.golden import (
    Frozen,
    FrozenGoldens,
    MemoryGoldenStore,
    PartialRun,
    apply_update,
    diff_trees,
    format_changes,
    load_changes,
    plan_update,
    verify,
)
from vmcompat.model import DeviceHistory, Feature

V1 = device("toy", 1, uint8("a"), uint16("b", array=2), buffer("c", 3))
V2 = device("toy", 2, uint8("a"), uint16("b", array=2), buffer("c", 3), uint32("d", version=2),
            minimum=1)
TOY = DeviceHistory("toy", (V1, V2), features=(
    Feature("extra", lambda d: d.evolve(fields=(*d.fields, uint8("x")))),))
HS = {"toy": TOY}
W = ["legacy"]


def fresh() -> MemoryGoldenStore:
    s = MemoryGoldenStore()
    apply_update(s, plan_update(s, HS, wires=W))
    return s


def test_update_writes_every_case_and_verify_passes():
    s = fresh()
    assert sorted(s.keys()) == sorted(
        f"toy/v{v}/legacy/{c}.{e}" for v in (1, 2) for c in ("sample", "feature-extra")
        for e in ("bin", "json"))
    r = verify(s, HS, wires=W)
    assert r.ok and r.checked == 4


def test_states_are_deterministic_and_readable_json():
    a, b = fresh(), fresh()
    assert a.data == b.data
    state = json.loads(a.fetch("toy/v1/legacy/sample.json"))
    assert set(state) == {"a", "b", "c"} and isinstance(state["c"], str)


def test_update_on_unchanged_store_plans_nothing():
    s = fresh()
    plan = plan_update(s, HS, wires=W)
    assert plan.empty and plan.unchanged == 8


def test_flipped_byte_gives_a_field_diff():
    s = fresh()
    key = "toy/v2/legacy/sample.bin"
    data = bytearray(s.fetch(key))
    data[0] ^= 0xFF  # field a
    s.save(key, bytes(data))
    r = verify(s, HS, wires=W)
    assert not r.ok
    text = "\n".join(p.render() for p in r.problems)
    assert "toy@2 legacy sample" in text
    assert "\n  a: " in text and " → " in text
    assert "bytes differ at offset 0" in text


def test_changed_state_file_is_a_mismatch():
    s = fresh()
    key = "toy/v1/legacy/sample.json"
    state = json.loads(s.fetch(key))
    state["b"][1] += 1
    s.save(key, json.dumps(state).encode())
    text = "\n".join(p.render() for p in verify(s, HS, wires=W).problems)
    assert "b[1]: " in text


def test_unused_and_missing_goldens():
    s = fresh()
    s.save("toy/v9/legacy/sample.bin", b"")
    s.save("gone/v1/legacy/sample.bin", b"")
    s.delete("toy/v1/legacy/sample.json")
    r = verify(s, HS, wires=W)
    kinds = sorted((p.kind, p.where) for p in r.problems)
    assert ("unused", "gone/v1/legacy/sample.bin") in kinds
    assert ("unused", "toy/v9/legacy/sample.bin") in kinds
    assert any(k == "missing" for k, _ in kinds)


def test_update_removes_unused_goldens():
    s = fresh()
    s.save("toy/v9/legacy/sample.bin", b"")
    plan = plan_update(s, HS, wires=W)
    assert plan.deletes == ["toy/v9/legacy/sample.bin"]
    apply_update(s, plan)
    assert verify(s, HS, wires=W).ok


def test_earlier_versions_must_load_in_the_newest():
    v2 = device("toy", 2, uint8_equal("a", default=0), uint16("b", array=2), buffer("c", 3),
                minimum=1)
    hs = {"toy": DeviceHistory("toy", (V1, v2))}
    s = MemoryGoldenStore()
    apply_update(s, plan_update(s, hs, wires=W))
    problems = [p for p in verify(s, hs, wires=W).problems]
    assert [p.kind for p in problems] == ["newest"]
    assert "v1 golden no longer loads in v2" in problems[0].message


def test_declared_too_old_is_not_a_problem():
    v2 = device("toy", 2, uint8("a"), uint16("b", array=2), buffer("c", 3), minimum=2)
    hs = {"toy": DeviceHistory("toy", (V1, v2))}
    s = MemoryGoldenStore()
    apply_update(s, plan_update(s, hs, wires=W))
    assert verify(s, hs, wires=W).ok


def test_frozen_goldens_need_force_and_reason():
    s = fresh()
    frozen = Frozen({"toy": frozenset({1})})
    s.save("toy/v1/legacy/sample.bin", b"\x00")
    plan = plan_update(s, HS, wires=W, frozen=frozen)
    assert plan.frozen == ["toy/v1/legacy/sample.bin"]
    with pytest.raises(FrozenGoldens, match="refusing to change 1 golden"):
        apply_update(s, plan)
    assert s.fetch("toy/v1/legacy/sample.bin") == b"\x00"
    with pytest.raises(InputError, match="--reason"):
        apply_update(s, plan, force=True)
    apply_update(s, plan, force=True, reason="codec fix")
    assert verify(s, HS, wires=W).ok
    [entry] = load_changes(s)
    assert entry["reason"] == "codec fix" and entry["files"] == ["toy/v1/legacy/sample.bin"]


def test_partial_run_writes_nothing(monkeypatch):
    real = generate.golden_state

    def flaky(desc):
        if desc.name == "bad":
            raise RuntimeError("cannot sample")
        return real(desc)

    monkeypatch.setattr(generate, "golden_state", flaky)
    hs = {**HS, "bad": DeviceHistory("bad", (device("bad", 1, uint8("a")),))}
    s = MemoryGoldenStore()
    with pytest.raises(PartialRun, match="bad: RuntimeError"):
        plan_update(s, hs, wires=W)
    assert list(s.keys()) == []


def test_unknown_device_is_bad_input():
    with pytest.raises(InputError):
        verify(MemoryGoldenStore(), HS, devices=["nope"])


def test_tree_diff_paths():
    old = {"a": 1, "__subsections__": {"dev/sub": {"x": [1, 2]}}}
    new = {"a": 1, "__subsections__": {"dev/sub": {"x": [1, 3, 4]}}}
    assert format_changes(diff_trees(old, new)).splitlines() == [
        "  dev/sub.x[1]: 2 → 3", "  dev/sub.x[2]: (absent) → 4"]


def test_a_crashing_codec_is_a_problem_not_a_crash(monkeypatch):
    import vmcompat.formats as formats
    from vmcompat.formats import FORMATS, Format

    s = fresh()
    legacy = FORMATS["legacy"]

    def boom(desc, state):
        raise RuntimeError("writer bug")

    monkeypatch.setitem(formats._REGISTRY, "legacy", Format("legacy", boom, legacy.decode))
    r = verify(s, HS, wires=W)
    assert {p.kind for p in r.problems} == {"crash"}
    assert "RuntimeError: writer bug" in r.problems[0].message
