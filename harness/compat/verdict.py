"""Cells and verdicts: the contract between the fuzz engine, the matrix and reports.

A cell is (device, source version, destination version, wire, direction,
feature set). Its verdict is one of :class:`Verdict`: compatible, refused
(a clean refusal), corrupt (a wrong value loaded) or crash; a migration chain's is
one of :class:`ChainVerdict` (:mod:`vmcompat.compat.chain`). JSON keys here are
public: extend, never rename.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from vmcompat.compat.directions import UPGRADE, relabel
from vmcompat.values import field, immutable


class Verdict(str, Enum):
    COMPATIBLE = "compatible"
    REFUSED = "refused"
    CORRUPT = "corrupt"
    CRASH = "crash"

    @property
    def bad(self) -> bool:
        """Corrupt and crash are defects; refused is a clean, correct outcome."""
        return self in (Verdict.CORRUPT, Verdict.CRASH)


#: how verdicts combine over many examples: the worst wins
SEVERITY = {Verdict.COMPATIBLE: 0, Verdict.REFUSED: 1, Verdict.CORRUPT: 2, Verdict.CRASH: 3}


class ChainVerdict(str, Enum):
    """The verdict of a migration chain (A → B → C …)."""

    LOSSLESS = "lossless"
    REFUSED = "refused"
    LOSS = "loss"
    CORRUPT = "corrupt"

    @property
    def bad(self) -> bool:
        """Loss and corrupt are defects; a refused hop is a clean, expected outcome."""
        return self in (ChainVerdict.LOSS, ChainVerdict.CORRUPT)


#: how chain verdicts combine: the worst wins
CHAIN_SEVERITY = {ChainVerdict.LOSSLESS: 0, ChainVerdict.REFUSED: 1, ChainVerdict.LOSS: 2,
                  ChainVerdict.CORRUPT: 3}


@immutable
class Cell:
    device: str
    source: str        # source version label ("3", "pc-i440fx-2.4", a file name)
    destination: str
    wire: str = "legacy"
    direction: str = UPGRADE  # upgrade, downgrade or same (vmcompat.compat.directions)
    features: tuple[str, ...] = ()

    def key(self) -> tuple[str, str, str, str, str, tuple[str, ...]]:
        return (self.device, self.source, self.destination, self.wire, self.direction,
                self.features)

    def to_json(self) -> dict[str, Any]:
        return {"device": self.device, "source": self.source, "destination": self.destination,
                "wire": self.wire, "direction": self.direction, "features": list(self.features)}


@immutable
class CellResult:
    cell: Cell
    verdict: Verdict
    examples: int
    reason: str | None = None
    counterexample: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default=())
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        out = self.cell.to_json()
        out["verdict"] = self.verdict.value
        if self.reason is not None:
            out["reason"] = self.reason
        out["examples"] = self.examples
        if self.counterexample is not None:
            out["counterexample"] = self.counterexample
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> CellResult:
        cell = Cell(obj["device"], str(obj["source"]), str(obj["destination"]),
                    obj.get("wire", "legacy"),
                    relabel(obj.get("direction"), obj["source"], obj["destination"]),
                    tuple(obj.get("features", ())))
        return cls(cell, Verdict(obj["verdict"]), int(obj.get("examples", 0)),
                   obj.get("reason"), obj.get("counterexample"), tuple(obj.get("notes", ())))
