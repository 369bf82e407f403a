"""Capability negotiation: best common wire by preference, common features, typed 'none'."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vmcompat.catalog import history
from vmcompat.compat.capabilities import (
    QEMU_WIRES,
    WIRE_PREFERENCE,
    Capabilities,
    negotiate,
    of_history,
    rank,
)
from vmcompat.formats import FORMATS

WIRE_SETS = st.frozensets(st.sampled_from([*FORMATS, "cbor"]))
FEATS = st.frozensets(st.sampled_from(["msix", "64bit", "mq"]))


def test_preference_names_registered_wires() -> None:
    assert set(WIRE_PREFERENCE) == set(FORMATS)


@given(WIRE_SETS, WIRE_SETS, FEATS, FEATS)
def test_negotiate_is_the_best_of_the_intersection(wa, wb, fa, fb) -> None:
    n = negotiate(Capabilities("a", wa, fa), Capabilities("b", wb, fb))
    assert n.features == fa & fb
    assert n == negotiate(Capabilities("a", wa, fa), Capabilities("b", wb, fb))
    if wa & wb:
        assert n.ok and n.wire == rank(wa & wb)[0] and set(n.candidates) == wa & wb
        assert n.wire in wa and n.wire in wb and not n.reason
    else:
        assert not n.ok and n.wire is None and n.reason.startswith("no common wire")
    flipped = negotiate(Capabilities("b", wb, fb), Capabilities("a", wa, fa))
    assert (flipped.wire, flipped.features) == (n.wire, n.features)


def test_examples() -> None:
    full = of_history(history("virtio-net"))
    qemu = Capabilities("qemu", QEMU_WIRES, full.features)
    assert negotiate(full, full).wire == "ber"
    assert negotiate(full, qemu).wire == "legacy"
    assert negotiate(full, Capabilities("old", frozenset({"json", "legacy"}))).wire == "json"
    n = negotiate(Capabilities("x", frozenset({"ber"})), qemu)
    assert n.to_json() == {"wire": None, "features": [], "candidates": [],
                           "reason": "no common wire: x supports ber; qemu supports legacy"}
