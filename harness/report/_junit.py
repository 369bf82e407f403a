"""``junit.xml``: one test case per cell; corrupt and crash cells fail (``<failure type=…>``),
refused ones pass (their reason in ``<system-out>``). :func:`render_cases` writes any list
of :class:`Case` s (``vmcompat qemu fuzz`` writes one per section and direction)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence

from vmcompat.report._chains import junit_cases
from vmcompat.report._model import Report
from vmcompat.report._text import direction
from vmcompat.values import immutable

#: verdicts that fail a test case (type= says which)
_FAILS = {"corrupt": "failure", "crash": "failure"}


@immutable
class Case:
    """One ``<testcase>``: ``failure`` is ``(type, message)`` when it fails; ``body`` goes
    under the failure, or into ``<system-out>`` (after ``out``) when it passes."""

    classname: str
    name: str
    time: float = 0.0
    failure: tuple[str, str] | None = None
    out: str = ""
    body: str = ""


def render_cases(suite_name: str, cases: Sequence[Case], *, time: float = 0.0,
                 properties: Mapping[str, object] | None = None,
                 more: Callable[[ET.Element], None] | None = None) -> str:
    fails = [c for c in cases if c.failure is not None]
    suite = ET.Element("testsuite", {
        "name": suite_name, "tests": str(len(cases)), "failures": str(len(fails)),
        "errors": "0", "skipped": "0", "time": f"{float(time):.3f}"})
    props = ET.SubElement(suite, "properties")
    for k, v in (properties or {}).items():
        ET.SubElement(props, "property", {"name": k, "value": str(v)})
    for c in cases:
        case = ET.SubElement(suite, "testcase", {"classname": c.classname, "name": c.name,
                                                 "time": f"{float(c.time):.3f}"})
        if c.failure is not None:
            el = ET.SubElement(case, "failure", {"message": c.failure[1], "type": c.failure[0]})
            el.text = c.body
        elif c.out or c.body:
            out = ET.SubElement(case, "system-out")
            out.text = c.out + (f"\n{c.body}" if c.body else "")
    if more is not None:
        more(suite)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") \
        + "\n"


def render_junit(report: Report) -> str:
    s = report.summary
    cases = []
    for c in report.cells:
        feats = ("+" + ",".join(c["features"])) if c.get("features") else ""
        kind = _FAILS.get(c["verdict"])
        extra = {k: c[k] for k in ("counterexample", "notes") if k in c}
        body = json.dumps(extra, indent=2) if extra else ""
        summary = f"{c['verdict']}: {c.get('reason', '')}"
        cases.append(Case(
            f"vmcompat.{c['device']}{feats}.{c['wire']}",
            f"v{c['source']}->v{c['destination']} {direction(c)}", c.get("duration", 0),
            (c["verdict"], summary) if kind else None,
            summary if not kind and (c.get("reason") or c.get("notes")) else "",
            body if kind or c.get("reason") or c.get("notes") else ""))
    return render_cases("vmcompat-matrix", cases, time=s.get("duration", 0),
                        properties={k: s.get(k) for k in ("seed", "max_examples", "features",
                                                          "profile")},
                        more=lambda suite: junit_cases(suite, report))
