"""``junit.xml``: one test case per cell; corrupt and crash cells fail (``<failure type=…>``),
refused ones pass (their reason in ``<system-out>``)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from harness.report._chains import junit_cases
from harness.report._model import Report
from harness.report._text import direction

#: verdicts that fail a test case (type= says which)
_FAILS = {"corrupt": "failure", "crash": "failure"}


def render_junit(report: Report) -> str:
    s = report.summary
    suite = ET.Element("testsuite", {
        "name": "vmcompat-matrix", "tests": str(len(report.cells)),
        "failures": str(s.get("corrupt", 0) + s.get("crash", 0)), "errors": "0",
        "skipped": "0", "time": f"{float(s.get('duration', 0)):.3f}"})
    props = ET.SubElement(suite, "properties")
    for k in ("seed", "max_examples", "features", "profile"):
        ET.SubElement(props, "property", {"name": k, "value": str(s.get(k))})
    for c in report.cells:
        feats = ("+" + ",".join(c["features"])) if c.get("features") else ""
        case = ET.SubElement(suite, "testcase", {
            "classname": f"vmcompat.{c['device']}{feats}.{c['wire']}",
            "name": f"v{c['source']}->v{c['destination']} {direction(c)}",
            "time": f"{float(c.get('duration', 0)):.3f}"})
        kind = _FAILS.get(c["verdict"])
        extra = {k: c[k] for k in ("counterexample", "notes") if k in c}
        body = json.dumps(extra, indent=2) if extra else ""
        if kind:
            el = ET.SubElement(case, kind, {"message": f"{c['verdict']}: {c.get('reason', '')}",
                                            "type": c["verdict"]})
            el.text = body
        elif c.get("reason") or c.get("notes"):
            out = ET.SubElement(case, "system-out")
            out.text = f"{c['verdict']}: {c.get('reason', '')}" + (f"\n{body}" if body else "")
    junit_cases(suite, report)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") \
        + "\n"
