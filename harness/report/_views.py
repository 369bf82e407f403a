"""What the markdown and HTML templates show: grids per device, details, changes."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from vmcompat.matrix._cells import cell_order, version_order
from vmcompat.report._chains import rows as chain_rows
from vmcompat.report._model import VERDICTS, Report, changes
from vmcompat.report._text import device_label, direction, label, reason

#: what a matrix cell shows (its class gives the color)
SHORT = {"compatible": "ok", "refused": "ref", "corrupt": "CORR", "crash": "CRASH"}


@dataclass
class Grid:
    """One matrix: rows source versions, columns destination versions."""

    wire: str
    features: tuple[str, ...]
    sources: list[str] = field(default_factory=list)
    destinations: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def at(self, src: str, dst: str) -> dict[str, Any] | None:
        return self.cells.get((src, dst))


def anchor(cell: dict[str, Any]) -> str:
    feats = "-".join(cell.get("features") or ()) or "base"
    return f"c-{cell['device']}-{feats}-{cell['wire']}-{cell['source']}-{cell['destination']}"


def has_detail(cell: dict[str, Any]) -> bool:
    return any(k in cell for k in ("reason", "counterexample", "notes"))


def grids(report: Report) -> dict[str, list[Grid]]:
    """device -> its grids (one per feature set and wire), in report order."""
    found: dict[str, dict[tuple[tuple[str, ...], str], Grid]] = defaultdict(dict)
    for c in sorted(report.cells, key=cell_order):
        feats = tuple(c.get("features") or ())
        g = found[c["device"]].setdefault((feats, c["wire"]), Grid(c["wire"], feats))
        g.cells[(str(c["source"]), str(c["destination"]))] = c
    for by in found.values():
        for g in by.values():
            g.sources = sorted({s for s, _ in g.cells}, key=version_order)
            g.destinations = sorted({d for _, d in g.cells}, key=version_order)
    return {d: list(by.values()) for d, by in sorted(found.items())}


def detail(cell: dict[str, Any]) -> dict[str, Any]:
    ce = cell.get("counterexample")
    return {"anchor": anchor(cell), "label": label(cell), "verdict": cell["verdict"],
            "reason": cell.get("reason", ""), "examples": cell.get("examples", 0),
            "notes": cell.get("notes", []),
            "counterexample": json.dumps(ce, indent=2) if ce is not None else None}


def per_device(report: Report) -> list[dict[str, Any]]:
    rows = []
    for device, gs in grids(report).items():
        for g in gs:
            counts = Counter(c["verdict"] for c in g.cells.values())
            rows.append({"device": device, "wire": g.wire, "features": ",".join(g.features),
                         "counts": [counts.get(v, 0) for v in VERDICTS]})
    return rows


def context(report: Report, previous: Report | None = None) -> dict[str, Any]:
    bad_first = sorted((c for c in report.cells if has_detail(c)),
                       key=lambda c: (-VERDICTS.index(c["verdict"]), cell_order(c)))
    return {"summary": report.summary, "verdicts": VERDICTS, "grids": grids(report),
            "rows": per_device(report), "details": [detail(c) for c in bad_first],
            "detailed": {anchor(c) for c in bad_first},
            "changes": [{"before": ch.before, "after": ch.after, "label": label(ch.cell),
                         "anchor": anchor(ch.cell)} for ch in changes(previous, report)],
            "previous": previous is not None, "anchor": anchor,
            "not_ok": sorted((c for c in report.cells if c["verdict"] != "compatible"),
                             key=lambda c: (-VERDICTS.index(c["verdict"]), cell_order(c))),
            "label": label, "device_label": device_label, "direction": direction,
            "reason": reason, "short": SHORT,
            "chains": None if report.chains is None else chain_rows(report)}
