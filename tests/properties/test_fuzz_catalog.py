"""The seed catalog's real histories give the verdicts a QEMU developer expects."""

from __future__ import annotations

import pytest

from vmcompat.catalog import load
from vmcompat.compat.verdict import Cell, Verdict
from vmcompat.errors import Reason
from vmcompat.filters import chain
from vmcompat.matrix.engine import no_filter, run_cell
from vmcompat.strategies.versions import pairs

N = 25


def _history(name: str):
    cat = load()
    assert name in cat, f"catalog device {name!r} is missing"
    return cat[name]


def _cell(src, dst, **kw):
    cell = Cell(dst.name, str(src.version_id), str(dst.version_id))
    return run_cell(src, dst, cell, max_examples=N, seed=7, **kw)


def test_ps2kbd_v2_to_v3_compatible_and_v3_to_v2_too_new() -> None:
    h = _history("ps2kbd")
    assert _cell(h.at(2), h.at(3)).verdict is Verdict.COMPATIBLE
    back = _cell(h.at(3), h.at(2))
    assert back.verdict is Verdict.REFUSED and back.reason == Reason.TOO_NEW.value


def test_i440fx_v2_streams_load_in_v3_through_the_marshal_function() -> None:
    h = _history("i440fx")
    v2, v3 = h.at(2), h.at(3)
    assert v3.marshal_for(2) is not None, "v3 keeps v2 loadable with a marshal function"
    r = _cell(v2, v3)
    assert r.verdict is Verdict.COMPATIBLE
    assert any("marshal" in n for n in r.notes)


def test_kvm_apic_loads_as_apic_only_through_the_filter() -> None:
    kvm, apic = _history("kvm-apic"), _history("apic")
    src, dst = kvm.latest, apic.at(kvm.latest.version_id)
    assert chain(src, dst) is not None, "the kvm-apic -> apic filter is registered"
    assert _cell(src, dst).verdict is Verdict.COMPATIBLE
    without = _cell(src, dst, transform=no_filter)
    assert without.verdict is Verdict.REFUSED, without.to_json()


@pytest.mark.parametrize("device", sorted(load()))
def test_every_catalog_history_old_to_new_is_never_corrupt(device: str) -> None:
    """Every ordered pair: old→new loads (compatible), nothing is ever corrupt or a crash."""
    h = load()[device]
    for src, dst in pairs(h):
        r = run_cell(src, dst, Cell(device, str(src.version_id), str(dst.version_id)),
                     max_examples=5, seed=3)
        assert not r.verdict.bad, r.to_json()
        if src.version_id <= dst.version_id:
            assert r.verdict is Verdict.COMPATIBLE, r.to_json()
        else:
            assert r.verdict is Verdict.REFUSED and r.reason == Reason.TOO_NEW.value
