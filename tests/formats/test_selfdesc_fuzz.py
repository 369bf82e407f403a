"""Acceptance on the fuzz engine: ber and json never give CORRUPT on breaking mutations, load
swapped fields by name, and the catalog's filter cells (apic/kvm-apic, virtio-blk-pci split)
are compatible with their filters and refused without them."""

from __future__ import annotations

import pytest

from vmcompat import filters
from vmcompat.catalog import history
from vmcompat.compat.verdict import Cell, Verdict
from vmcompat.dsl import buffer, device, int8, struct, uint8, uint16, uint32
from vmcompat.matrix.engine import run_cell
from vmcompat.strategies.evolutions import all_mutations

WIRES = ("ber", "json")
BASE = device("d", 2, uint8("a"), uint8("c"), uint16("b"), int8("s"), uint32("w", array=2),
              buffer("h", 2), struct("in", device("in", 1, uint8("x"), uint16("y"))), minimum=1)
MUTATIONS = all_mutations(BASE)
CATALOG_MUTATIONS = [(h, m) for h in ("apic", "virtio-blk", "ps2kbd")
                     for m in all_mutations(history(h).latest)]


def _cell(d, wire: str) -> Cell:
    return Cell(d.name, "src", "dst", wire=wire)


def test_mutations_cover_the_breaking_kinds() -> None:
    kinds = {m.kind for m in MUTATIONS}
    assert {"type_widened", "sign_changed", "fields_swapped", "field_removed",
            "field_added_no_bump", "array_length_changed"} <= kinds


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("change", MUTATIONS, ids=lambda c: f"{c.kind}:{c.detail}")
def test_breaking_mutation_never_corrupt(wire: str, change) -> None:
    r = run_cell(change.before or BASE, change.description, _cell(BASE, wire),
                 max_examples=15, seed=7)
    assert r.verdict in (Verdict.COMPATIBLE, Verdict.REFUSED), r.to_json()


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize(("dev", "change"), CATALOG_MUTATIONS,
                         ids=[f"{h}-{m.kind}:{m.detail}" for h, m in CATALOG_MUTATIONS])
def test_catalog_mutation_never_corrupt(wire: str, dev: str, change) -> None:
    before = change.before or history(dev).latest
    r = run_cell(before, change.description, _cell(before, wire), max_examples=5, seed=7)
    assert r.verdict in (Verdict.COMPATIBLE, Verdict.REFUSED), r.to_json()


@pytest.mark.parametrize("wire", ("legacy", *WIRES))
def test_description_against_itself_is_compatible(wire: str) -> None:
    assert run_cell(BASE, BASE, _cell(BASE, wire), max_examples=30, seed=3).verdict \
        is Verdict.COMPATIBLE


def test_swapped_fields_corrupt_on_legacy_load_by_name_elsewhere() -> None:
    old = device("d", 1, uint8("a"), uint16("b"), uint8("c"))
    new = device("d", 1, uint8("c"), uint16("b"), uint8("a"))
    verdicts = {w: run_cell(old, new, _cell(old, w), max_examples=40, seed=5).verdict
                for w in ("legacy", *WIRES)}
    assert verdicts == {"legacy": Verdict.CORRUPT, "ber": Verdict.COMPATIBLE,
                        "json": Verdict.COMPATIBLE}


# ----------------------------------------------------------------------------- filters
# The engine applies a filter by decoding with the source, transforming and re-encoding with
# the destination: a filter maps a state to the *same version* of the other device, so the
# filter cells pair equal versions (across versions, the version checks apply first).
def _apic_pairs() -> list[tuple[str, str, int, int]]:
    return [(a, b, v, v) for a, b in (("kvm-apic", "apic"), ("apic", "kvm-apic"))
            for v in history(a).version_ids]


def _virtio_pairs() -> list[tuple[object, object]]:
    combined = filters.combined_history(history("virtio-pci"), history("virtio-blk"))
    src = history("virtio-blk-pci")
    return [p for v in src.version_ids
            for p in ((src.at(v), combined.at(v)), (combined.at(v), src.at(v)))]


@pytest.mark.parametrize("wire", ("legacy", *WIRES))
@pytest.mark.parametrize(("a", "b", "v", "w"), _apic_pairs())
def test_apic_rename_compatible_with_filter(wire: str, a: str, b: str, v: int, w: int) -> None:
    src, dst = history(a).at(v), history(b).at(w)
    assert filters.chain(src, dst) is not None
    r = run_cell(src, dst, _cell(src, wire), max_examples=15, seed=11)
    assert r.verdict is Verdict.COMPATIBLE, r.to_json()


@pytest.mark.parametrize("wire", ("legacy", *WIRES))
@pytest.mark.parametrize("pair", _virtio_pairs(),
                         ids=lambda p: f"{p[0].name}@{p[0].version_id}->{p[1].name}@"
                                       f"{p[1].version_id}")
def test_virtio_split_and_merge_compatible_with_filter(wire: str, pair) -> None:
    src, dst = pair
    assert filters.chain(src, dst) is not None
    r = run_cell(src, dst, _cell(src, wire), max_examples=10, seed=11)
    assert r.verdict is Verdict.COMPATIBLE, r.to_json()


@pytest.mark.parametrize("wire", WIRES)
def test_without_filters_refused(wire: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Self-describing wires carry the device name: another device refuses the stream."""
    monkeypatch.setattr(filters, "_REGISTRY", {})
    pairs = [(history("kvm-apic").at(3), history("apic").at(3)),
             (history("apic").at(3), history("kvm-apic").at(3)), *_virtio_pairs()]
    for src, dst in pairs:
        assert filters.chain(src, dst) is None
        r = run_cell(src, dst, _cell(src, wire), max_examples=5, seed=11)
        assert r.verdict is Verdict.REFUSED and r.reason == "unknown_section", r.to_json()


def test_filter_registry_names() -> None:
    assert set(filters.FILTERS) == {"kvm-apic->apic", "apic->kvm-apic",
                                    "virtio-blk-pci->virtio-pci+virtio-blk",
                                    "virtio-pci+virtio-blk->virtio-blk-pci"}
