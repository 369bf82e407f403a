"""Capabilities: what each side of a cell supports, and what they agree on.

Seed proposal: negotiate migration capabilities as the intersection of what
both sides support. Each side declares the wires (``FORMATS`` names) it can
read/write and the optional features it has; :func:`negotiate` picks the best
common wire by :data:`WIRE_PREFERENCE` and the common feature set, or says
why there is none (a typed :class:`Negotiation`, never an exception).

Preference (best first): ``ber`` then ``json`` -- self-describing wires match
fields by name and refuse what they do not understand instead of loading it
at the wrong place (see :mod:`vmcompat.formats._selfdesc`); BER before JSON as
the smaller and faster encoding (``bench/test_wires_bench.py``); ``legacy``
last: the only wire a real QEMU reads, so always a fallback when both sides
have it. Wires not in the list rank after it, by name.

>>> a = Capabilities("src", frozenset({"legacy", "json"}), frozenset({"msix", "64bit"}))
>>> b = Capabilities("dst", frozenset({"legacy", "json", "ber"}), frozenset({"msix"}))
>>> n = negotiate(a, b)
>>> n.ok, n.wire, sorted(n.features)
(True, 'json', ['msix'])
>>> negotiate(a, Capabilities("qemu-7.2", frozenset({"ber"}))).reason
'no common wire: src supports json, legacy; qemu-7.2 supports ber'
"""

from __future__ import annotations

from collections.abc import Iterable

from vmcompat.model import DeviceHistory
from vmcompat.values import field, immutable

#: wires in order of preference, best first
WIRE_PREFERENCE: tuple[str, ...] = ("ber", "json", "legacy")


@immutable
class Capabilities:
    """One side of a cell: a name (for reports), its wires and its optional features."""

    name: str
    wires: frozenset[str]
    features: frozenset[str] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "wires": sorted(self.wires), "features": sorted(self.features)}


@immutable
class Negotiation:
    """The outcome: ``wire`` is None when the sides share no wire (``reason`` says why)."""

    wire: str | None
    features: frozenset[str] = field(default_factory=frozenset)
    reason: str = ""
    candidates: tuple[str, ...] = ()  # every common wire, best first

    @property
    def ok(self) -> bool:
        return self.wire is not None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"wire": self.wire, "features": sorted(self.features),
                                  "candidates": list(self.candidates)}
        if self.reason:
            out["reason"] = self.reason
        return out


def rank(wires: Iterable[str], preference: tuple[str, ...] = WIRE_PREFERENCE) -> tuple[str, ...]:
    """``wires`` best first: by ``preference``, then the others by name.

    >>> rank({"legacy", "cbor", "ber"})
    ('ber', 'legacy', 'cbor')
    """
    order = {w: i for i, w in enumerate(preference)}
    return tuple(sorted(set(wires), key=lambda w: (order.get(w, len(order)), w)))


def negotiate(a: Capabilities, b: Capabilities,
              preference: tuple[str, ...] = WIRE_PREFERENCE) -> Negotiation:
    """The best common wire and the common features of ``a`` and ``b``."""
    common = rank(a.wires & b.wires, preference)
    features = a.features & b.features
    if not common:
        return Negotiation(None, features,
                           f"no common wire: {a.name} supports {', '.join(rank(a.wires)) or '-'}"
                           f"; {b.name} supports {', '.join(rank(b.wires)) or '-'}")
    return Negotiation(common[0], features, "", common)


def of_history(h: DeviceHistory, wires: Iterable[str] | None = None,
               features: Iterable[str] | None = None, name: str | None = None) -> Capabilities:
    """A side running a catalog history: every registered wire unless told, the history's
    features unless told (a subset: the features enabled on that side)."""
    from vmcompat.formats import FORMATS

    feats = frozenset(f.name for f in h.features) if features is None else frozenset(features)
    return Capabilities(name or h.name, frozenset(FORMATS if wires is None else wires), feats)


#: a real QEMU reads only its own wire and has every feature of its machine type
QEMU_WIRES = frozenset({"legacy"})
