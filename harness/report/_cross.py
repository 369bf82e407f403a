"""Reports of ``vmcompat qemu cross``: report.json, report.md, report.html, junit.xml.

``report.json`` is ``{"cells": [cell…], "summary": {…}, "measures": {…}}``: a cell per
machine, source, destination and section (:meth:`vmcompat.qemu.cross.Cell.to_json`:
``machine``, ``source``, ``destination``, ``direction``, ``section``, ``outcome``,
``qemu_error``, ``predicted``, ``predicted_random``, ``checker``, ``checker_warnings``,
``agrees``, and where they apply ``fields``, ``only_source``, ``only_destination``,
``normalised``, ``reason``, ``limit``); ``measures`` scores each predictor against the
real outcomes per direction (:func:`vmcompat.qemu.cross.measures`).
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from typing import Any

from vmcompat.report._templates import render


def build(cells: Sequence[Any], *, qemus: Sequence[Any], machines: Sequence[str],
          devices: Sequence[str], duration: float) -> dict[str, Any]:
    from vmcompat.qemu.cross import OUTCOMES, measures

    rows = [c.to_json() for c in cells]
    outcomes = Counter(c.outcome for c in cells)
    summary = {
        "cells": len(rows), "machines": list(machines), "devices": list(devices),
        "qemus": [{"name": q.name, "version": q.version, "binary": q.binary} for q in qemus],
        **{o: outcomes.get(o, 0) for o in OUTCOMES},
        "agree": sum(c.agrees is True for c in cells),
        "disagree": sum(c.agrees is False for c in cells),
        "explained": sum(c.agrees is False and bool(c.limit) for c in cells),
        "duration": round(duration, 3)}
    summary["ok"] = summary["cells"] == outcomes.get("compatible", 0) == summary["agree"]
    return {"cells": rows, "summary": summary, "measures": measures(cells)}


def _context(report: dict[str, Any]) -> dict[str, Any]:
    cells = report["cells"]
    notable = [c for c in cells if c["outcome"] != "compatible" or c["agrees"] is False]
    return {"summary": report["summary"], "measures": report["measures"], "cells": cells,
            "notable": notable, "outcomes": ("compatible", "corrupt", "refused", "not-reached")}


def render_markdown(report: dict[str, Any]) -> str:
    return render("cross.md.j2", **_context(report))


def render_html(report: dict[str, Any]) -> str:
    return render("cross.html.j2", **_context(report))


def render_junit(report: dict[str, Any]) -> str:
    """One test case per cell: a corrupt, refused or unpredicted outcome fails it."""
    s = report["summary"]
    failing = [c for c in report["cells"] if c["outcome"] in ("corrupt", "refused")
               or c["agrees"] is False]
    suite = ET.Element("testsuite", {"name": "vmcompat-qemu-cross",
                                     "tests": str(len(report["cells"])),
                                     "failures": str(len(failing)), "errors": "0",
                                     "skipped": str(s.get("not-reached", 0)),
                                     "time": f"{float(s.get('duration', 0)):.3f}"})
    for c in report["cells"]:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"vmcompat.qemu.{c['machine']}.{c['section']}",
            "name": f"{c['source']}->{c['destination']} {c['direction']}"})
        if c["outcome"] == "not-reached":
            ET.SubElement(case, "skipped", {"message": c["qemu_error"] or "not reached"})
        elif c in failing:
            what = c["outcome"] if c["outcome"] != "compatible" else "prediction"
            el = ET.SubElement(case, "failure", {
                "type": what, "message": f"{c['outcome']} (predicted {c['predicted']})"
                + (f": {c['qemu_error']}" if c["qemu_error"] else "")})
            el.text = json.dumps(c, indent=2)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") \
        + "\n"


WRITERS = {"report.json": lambda r: json.dumps(r, indent=2) + "\n",
           "report.md": render_markdown, "report.html": render_html, "junit.xml": render_junit}


def write(report: dict[str, Any], out_dir: str) -> list[str]:
    """Every report file into ``out_dir`` (created), atomically."""
    from vmcompat.atomic import write_atomic

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, fn in WRITERS.items():
        path = os.path.join(out_dir, name)
        write_atomic(path, fn(report))
        paths.append(path)
    return paths
