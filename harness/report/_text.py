"""The short text summary a matrix run prints."""

from __future__ import annotations

from vmcompat.compat.directions import relabel
from vmcompat.compat.verdict import Verdict
from vmcompat.report._model import VERDICTS, Report, changes
from vmcompat.words import plural


def device_label(cell: dict) -> str:
    """The device with its feature set: ``virtio-net+mq,rss``."""
    feats = "+" + ",".join(cell["features"]) if cell.get("features") else ""
    return f"{cell['device']}{feats}"


def direction(cell: dict) -> str:
    return relabel(cell.get("direction"), cell["source"], cell["destination"])


def label(cell: dict) -> str:
    """``rtc 2→1 [legacy, downgrade]``."""
    return (f"{device_label(cell)} {cell['source']}→{cell['destination']} "
            f"[{cell['wire']}, {direction(cell)}]")


def reason(cell: dict) -> str:
    """Why a cell is not compatible, in QEMU's words where the load was refused."""
    notes = cell.get("notes") or []
    if cell["verdict"] == "refused" and notes:
        return str(notes[0])
    return str(cell.get("reason") or "")


def render_text(report: Report, previous: Report | None = None, limit: int = 20) -> str:
    s = report.summary
    counts = ", ".join(f"{s.get(v, 0)} {v}" for v in VERDICTS)
    lines = [f"matrix: {plural(s['cells'], 'cell')}, {plural(s['devices'], 'device')}, wires "
             f"{'/'.join(s.get('wires') or [])}, features {s.get('features')}: {counts}; "
             f"{plural(s.get('examples', 0), 'example')} in {s.get('duration', 0)} s"]
    bad = [c for c in report.cells if Verdict(c["verdict"]).bad]
    for c in bad[:limit]:
        lines.append(f"  {c['verdict'].upper():8} {label(c)}: {c.get('reason', '')}")
    if len(bad) > limit:
        lines.append(f"  … {len(bad) - limit} more in report.md / report.html")
    diff = changes(previous, report)
    if previous is not None:
        lines.append(f"since the previous report: {plural(len(diff), 'change')}")
        for ch in diff[:limit]:
            lines.append(f"  {ch.before or 'new'} → {ch.after or 'gone'}: {label(ch.cell)}")
    return "\n".join(lines)
