"""The chain section of the reports (``vmcompat matrix --chains``): rows, junit cases, text.

Per device the worst chain found and its shortest witness. A loss is shown
everywhere and fails its junit test case (``type="loss"``), but it is a
finding about the history, not a codec defect: only a corrupt chain changes
the matrix's exit code (``vmcompat chain`` exits 1 on a loss).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from vmcompat.report._model import CHAIN_VERDICTS, Report

#: chain verdicts that fail a junit test case
FAILS = frozenset({"loss", "corrupt"})


def arrow(chain: dict[str, Any]) -> str:
    return " → ".join(chain.get("path") or ())


def lost_lines(chain: dict[str, Any]) -> list[str]:
    """``FIELD lost at hop K (A → B): reason`` per lost field; the failing hop if corrupt."""
    path = chain.get("path") or []
    out = [f"{x['field']} lost at hop {x['hop']} ({path[x['hop'] - 1]} → {path[x['hop']]}): "
           f"{x['reason']}" for x in chain.get("lost_fields") or ()]
    hop = (chain.get("counterexample") or {}).get("hop")
    if chain["verdict"] == "corrupt" and hop:
        out.append(f"hop {len(path) - 1} ({' → '.join(path[-2:])}): {hop.get('detail', '')}")
    return out


def rows(report: Report) -> list[dict[str, Any]]:
    """What the markdown and HTML templates show per device (worst first)."""
    out = []
    for c in sorted(report.chains or (), key=lambda c: (-CHAIN_VERDICTS.index(c["verdict"]),
                                                        c["device"])):
        ce = c.get("counterexample")
        out.append({"device": c["device"], "verdict": c["verdict"], "arrow": arrow(c),
                    "wires": ", ".join(c.get("wires") or ()), "lost": lost_lines(c),
                    "direct": c.get("direct_verdict") or "",
                    "anchor": f"chain-{c['device']}",
                    "counterexample": json.dumps(ce, indent=2) if ce is not None else None})
    return out


def junit_cases(suite: ET.Element, report: Report) -> None:
    """One test case per device chain (loss and corrupt fail), counted in the suite's totals."""
    failures = 0
    for c in report.chains or ():
        case = ET.SubElement(suite, "testcase", {"classname": f"vmcompat.chain.{c['device']}",
                                                 "name": arrow(c) or c["device"], "time": "0"})
        body = "\n".join(lost_lines(c))
        if c["verdict"] in FAILS:
            failures += 1
            el = ET.SubElement(case, "failure", {"type": c["verdict"],
                                                 "message": f"{c['verdict']}: {arrow(c)}"})
            el.text = body + "\n" + json.dumps(c.get("counterexample"), indent=2)
        else:
            ET.SubElement(case, "system-out").text = f"{c['verdict']}: {arrow(c)}"
    if report.chains:
        suite.set("tests", str(int(suite.get("tests", "0")) + len(report.chains)))
        suite.set("failures", str(int(suite.get("failures", "0")) + failures))


def render_text(report: Report, limit: int = 20) -> str:
    """The lines a matrix run prints about its chains."""
    chains = report.chains or []
    counts = (report.summary.get("chains") or {})
    lines = [f"chains: {len(chains)} devices: "
             + ", ".join(f"{counts.get(v, 0)} {v}" for v in CHAIN_VERDICTS)
             + " (a loss is reported, not counted in the exit code; `vmcompat chain` is)"]
    bad = [c for c in chains if c["verdict"] in FAILS]
    for c in bad[:limit]:
        lines.append(f"  {c['verdict'].upper():8} {c['device']} {arrow(c)}")
        lines += [f"           {x}" for x in lost_lines(c)]
    return "\n".join(lines)
