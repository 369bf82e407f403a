"""The short text summary a matrix run prints."""

from __future__ import annotations

from harness.compat.verdict import Verdict
from harness.report._model import VERDICTS, Report, changes


def label(cell: dict) -> str:
    feats = "+" + ",".join(cell["features"]) if cell.get("features") else ""
    return (f"{cell['device']}{feats} {cell['source']}→{cell['destination']} "
            f"[{cell['wire']}]")


def render_text(report: Report, previous: Report | None = None, limit: int = 20) -> str:
    s = report.summary
    counts = ", ".join(f"{s.get(v, 0)} {v}" for v in VERDICTS)
    lines = [f"matrix: {s['cells']} cells ({s['devices']} devices, wires "
             f"{'/'.join(s.get('wires') or [])}, features {s.get('features')}): {counts}; "
             f"{s.get('examples', 0)} examples in {s.get('duration', 0)} s"]
    bad = [c for c in report.cells if Verdict(c["verdict"]).bad]
    for c in bad[:limit]:
        lines.append(f"  {c['verdict'].upper():8} {label(c)}: {c.get('reason', '')}")
    if len(bad) > limit:
        lines.append(f"  … {len(bad) - limit} more in report.md / report.html")
    diff = changes(previous, report)
    if previous is not None:
        lines.append(f"since the previous report: {len(diff)} change(s)")
        for ch in diff[:limit]:
            lines.append(f"  {ch.before or 'new'} → {ch.after or 'gone'}: {label(ch.cell)}")
    return "\n".join(lines)
