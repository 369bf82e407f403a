"""The report of a ``vmcompat qemu fuzz`` run: ``report.json`` (a public contract),
``report.md``, ``report.html`` and ``junit.xml`` (in the matrix report's style), and each
finding's stream and replay file under ``findings/``.

``report.json``::

    {"sections": [{"section", "source", "destination", "direction", "examples",
                   "outcomes": {OUTCOME: count}, "normalised_fields": [...],
                   "findings": [{"outcome", "fields", "state", "qemu_error", "reproduce",
                                 "detail", "how", "stream", "replay", "load"}],
                   "seed", "qemu_runs", "duration", "path"?, "blocked"?}],
     "summary": {"machine", "devices", "releases", "entries", "examples", "outcomes",
                 "seed", "max_examples", "max_shrinks", "duration", "examples_per_second",
                 "blockers", "generated", "ok"}}

A chain (``--chain A,B,C``) has its releases in ``path`` (``source`` the first,
``destination`` the last; the hop of a finding leads its ``detail``). A finding's
``state`` is the minimal state as the leaves where it differs from the capture (the whole
state is in its ``replay`` file); ``reproduce`` is the command that runs that state again
and reports the same outcome, ``load`` the plain QEMU load of its ``stream``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from collections import Counter
from typing import Any

from vmcompat.atomic import write_atomic
from vmcompat.qemu.devices import DEVICE_SETS
from vmcompat.qemu.fuzz._fuzz import FuzzRun, finding_file
from vmcompat.qemu.fuzz._outcomes import OUTCOMES, SEVERITY, Outcome
from vmcompat.qemu.fuzz._run import Finding, TargetResult
from vmcompat.report._junit import Case, render_cases
from vmcompat.report._templates import render
from vmcompat.words import plural

FINDINGS_DIR = "findings"
#: what a grid cell of the HTML report shows for each outcome
SHORT = {"agree-compatible": "ok", "agree-corrupt": "CORR", "agree-refused": "ref",
         "qemu-rejects": "rej", "qemu-normalizes": "norm", "qemu-crash": "CRASH",
         "disagree": "DIS"}


def device_flags(devices: tuple[str, ...]) -> list[str]:
    """The command-line options that give ``devices`` (a named set, then the rest)."""
    for name, members in DEVICE_SETS.items():
        if members and devices[:len(members)] == members:
            rest = devices[len(members):]
            return ["--devices", name, *(a for d in rest for a in ("--device", d))]
    return [a for d in devices for a in ("--device", d)]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", text).strip("_")


def counts(outcomes: dict[str, int]) -> str:
    """``3 agree-compatible, 2 qemu-rejects`` (the outcomes seen, in report order)."""
    return ", ".join(f"{n} {o}" for o, n in outcomes.items() if n) or "no example"


def route(entry: dict[str, Any]) -> str:
    """``7.2 → 10.0``, or a chain's whole path ``7.2 → 10.0 → 7.2``."""
    return " → ".join(entry.get("path") or (entry["source"], entry["destination"]))


def worst(entry: dict[str, Any]) -> str:
    """The worst outcome an entry saw (what its grid cell shows)."""
    seen = [Outcome(o) for o, n in entry["outcomes"].items() if n]
    return min(seen, key=SEVERITY.index).value if seen else Outcome.AGREE_COMPATIBLE.value


class ReportBuilder:
    """Turns a run into report entries, writing each finding's files under ``out``."""

    def __init__(self, run: FuzzRun, out: str) -> None:
        self.run, self.out = run, out
        self.count = 0

    def command(self, *args: str) -> str:
        return shlex.join(["vmcompat", "qemu", *args])

    def finding(self, r: TargetResult, f: Finding) -> dict[str, Any]:
        o = self.run.options
        self.count += 1
        base = os.path.join(self.out, FINDINGS_DIR,
                            f"{self.count:03d}-{'-'.join(r.path)}-{_slug(r.section)}")
        stream, replay_file = base + ".bin", base + ".json"
        write_atomic(stream, f.stream)
        write_atomic(replay_file, json.dumps(finding_file(r, o, f.state), indent=1) + "\n")
        j = f.judgement
        releases = ["--chain", ",".join(r.path)] if len(r.path) > 2 else \
            ["--qemu", r.source, "--qemu", r.destination]
        return {
            "outcome": j.outcome.value, "fields": list(j.fields), "state": f.changes(r.captured),
            "qemu_error": j.error, "reproduce": self.command(
                "fuzz", *releases, "--machine", o.machine,
                *device_flags(o.devices), "--section", r.section, "--replay", replay_file,
                "--out", os.path.join(self.out, "replay", os.path.basename(base))),
            "detail": j.detail, "how": f.how, "stream": stream, "replay": replay_file,
            "load": self.command("load", "--qemu", r.destination, "--machine", o.machine,
                                 *(a for d in o.devices for a in ("--device", d)), stream)}

    def entry(self, r: TargetResult) -> dict[str, Any]:
        out: dict[str, Any] = {
            "section": r.section, "source": r.source, "destination": r.destination,
            "direction": r.direction, "examples": r.examples,
            "outcomes": {o: r.outcomes.get(Outcome(o), 0) for o in OUTCOMES},
            "normalised_fields": sorted(r.normalised),
            "findings": [self.finding(r, f) for f in r.findings],
            "seed": r.seed, "qemu_runs": r.runs, "duration": round(r.duration, 3)}
        if len(r.path) > 2:
            out["path"] = list(r.path)
        if r.blocked:
            out["blocked"] = r.blocked
        return out

    def build(self) -> dict[str, Any]:
        run, o = self.run, self.run.options
        if any(r.findings for r in run.results):
            os.makedirs(os.path.join(self.out, FINDINGS_DIR), exist_ok=True)
        entries = [self.entry(r) for r in run.results]
        total: Counter[str] = Counter()
        for e in entries:
            total.update(e["outcomes"])
        examples = sum(e["examples"] for e in entries)
        summary = {
            "machine": o.machine, "devices": list(o.devices), "releases": run.releases,
            "entries": len(entries), "examples": examples,
            "outcomes": {k: total.get(k, 0) for k in OUTCOMES}, "seed": o.seed,
            "max_examples": o.max_examples, "max_shrinks": o.max_shrinks, "jobs": o.jobs,
            "qemu_runs": sum(e["qemu_runs"] for e in entries),
            "duration": round(run.duration, 3),
            "examples_per_second": round(examples / run.duration, 3) if run.duration else 0,
            "blockers": run.blockers,
            "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "ok": not run.fails}
        return {"sections": entries, "summary": summary}


def build_report(run: FuzzRun, out: str) -> dict[str, Any]:
    """``report.json``'s content; writes the findings' files under ``out/findings``."""
    return ReportBuilder(run, out).build()


def _context(report: dict[str, Any]) -> dict[str, Any]:
    entries = report["sections"]
    grids: dict[str, dict[str, Any]] = {}
    for e in entries:
        g = grids.setdefault(e["section"], {"sources": [], "destinations": [], "cells": {}})
        for k, side in (("sources", "source"), ("destinations", "destination")):
            if e[side] not in g[k]:
                g[k].append(e[side])
        g["cells"][(e["source"], e["destination"])] = e
    findings = [(e, f) for e in entries for f in e["findings"]]
    findings.sort(key=lambda ef: SEVERITY.index(Outcome(ef[1]["outcome"])))
    return {"summary": report["summary"], "entries": entries, "outcomes": OUTCOMES,
            "counts": counts, "route": route,
            "grids": grids, "findings": findings, "worst": worst, "short": SHORT,
            "anchor": anchor, "not_clean": [e for e in entries if worst(e) !=
                                            Outcome.AGREE_COMPATIBLE.value]}


def anchor(entry: dict[str, Any]) -> str:
    releases = entry.get("path") or (entry["source"], entry["destination"])
    return f"s-{_slug(entry['section'])}-{'-'.join(releases)}"


def render_markdown(report: dict[str, Any]) -> str:
    return render("qemu-fuzz.markdown.j2", **_context(report))


def render_html(report: dict[str, Any]) -> str:
    return render("qemu-fuzz.html.j2", **_context(report))


def render_junit(report: dict[str, Any]) -> str:
    cases = []
    for e in report["sections"]:
        failing = [o for o, n in e["outcomes"].items() if n and Outcome(o).fails]
        seen = counts(e["outcomes"])
        body = json.dumps({k: e[k] for k in ("normalised_fields", "findings") if e[k]},
                          indent=2) if e["findings"] or e["normalised_fields"] else ""
        cases.append(Case(
            f"vmcompat.qemu.{e['section']}", f"{route(e)} {e['direction']}",
            e.get("duration", 0),
            (failing[0], f"{seen} ({plural(e['examples'], 'example')})") if failing else None,
            seen, body))
    s = report["summary"]
    return render_cases("vmcompat-qemu-fuzz", cases, time=s.get("duration", 0),
                        properties={k: s.get(k) for k in ("machine", "seed", "max_examples",
                                                          "releases")})


def render_text(report: dict[str, Any], limit: int = 30) -> str:
    """What the command prints: a summary line, then every entry that is not clean."""
    s = report["summary"]
    lines = [f"qemu fuzz {s['machine']}: {plural(s['entries'], 'section')} × direction, "
             f"{plural(s['examples'], 'example')} ({counts(s['outcomes'])}) in "
             f"{s['duration']} s, seed {s['seed']}"]
    shown = 0
    for e in report["sections"]:
        if worst(e) == Outcome.AGREE_COMPATIBLE.value:
            continue
        shown += 1
        if shown > limit:
            lines.append("  … more in report.md / report.html")
            break
        lines.append(f"  {e['section']} {route(e)} [{e['direction']}]: "
                     f"{counts(e['outcomes'])}")
        if e["normalised_fields"]:
            lines.append(f"    normalised by QEMU: {', '.join(e['normalised_fields'][:8])}"
                         + (" …" if len(e["normalised_fields"]) > 8 else ""))
        for f in e["findings"]:
            if f["outcome"] == Outcome.QEMU_NORMALIZES.value:
                continue
            what = ", ".join(f["fields"][:4]) or "(the captured state)"
            lines.append(f"    {f['outcome']}: {what}"
                         + (f": {f['qemu_error']}" if f["qemu_error"] else
                            f": {f['detail']}" if f["detail"] else ""))
            lines.append(f"      reproduce: {f['reproduce']}")
    return "\n".join(lines)


#: file name -> renderer; every run writes all of them
WRITERS = {"report.json": lambda r: json.dumps(r, indent=2) + "\n",
           "report.md": render_markdown, "report.html": render_html,
           "junit.xml": render_junit}


def write_report(run: FuzzRun, out: str) -> dict[str, Any]:
    """Write every report file into ``out`` (created); return ``report.json``'s content."""
    os.makedirs(out, exist_ok=True)
    report = build_report(run, out)
    for name, fn in WRITERS.items():
        write_atomic(os.path.join(out, name), fn(report))
    return report

