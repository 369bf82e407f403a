"""What ``golden verify`` reports: one :class:`Problem` per failed check, and the totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from vmcompat.values import immutable
from typing import Any


@immutable
class Problem:
    """One failed check: where, what, and a readable detail (tree diff, bytes)."""

    kind: str
    where: str
    message: str
    detail: str = ""

    def render(self) -> str:
        head = f"FAIL {self.where}: {self.message}"
        return head + ("\n" + self.detail if self.detail else "")

    def to_json(self) -> dict[str, str]:
        out = {"kind": self.kind, "where": self.where, "message": self.message}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class VerifyResult:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked,
                "problems": [p.to_json() for p in self.problems], "notes": self.notes}
