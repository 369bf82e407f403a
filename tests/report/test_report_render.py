"""Reports: JSON contract, markdown, junit, html, changes since a previous report, merge."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from harness.compat.verdict import Cell, CellResult, Verdict
from harness.errors import InputError
from harness.report import (
    Report,
    build_report,
    changes,
    merge,
    render_html,
    render_json,
    render_junit,
    render_markdown,
    render_text,
    write_reports,
)


def res(dev, s, d, verdict, wire="legacy", feats=(), reason=None, ce=None):
    return (CellResult(Cell(dev, str(s), str(d), wire, "same", feats), Verdict(verdict), 4,
                       reason, ce), 0.25)


RESULTS = [
    res("rtc", 1, 1, "compatible"), res("rtc", 1, 2, "compatible"),
    res("rtc", 2, 1, "refused", reason="incoming version_id 2 is too new"),
    res("rtc", 2, 2, "corrupt", reason="loaded state differs at regs[2]",
        ce={"state": {"regs": [0, 0, 1]}, "bytes": "0001"}),
    res("net", 1, 1, "crash", wire="json", feats=("msix",), reason="KeyError: 'x'"),
]


def report(results=RESULTS, **kw):
    args = dict(seed=3, max_examples=4, features="pairwise", wires=["json", "legacy"],
                duration=1.5)
    args.update(kw)
    return build_report(results, **args)


def test_json_contract_round_trip():
    r = report()
    obj = json.loads(render_json(r))
    assert set(obj) == {"cells", "summary"}
    s = obj["summary"]
    assert (s["compatible"], s["refused"], s["corrupt"], s["crash"]) == (2, 1, 1, 1)
    assert s["cells"] == 5 and s["devices"] == 2 and s["seed"] == 3 and s["ok"] is False
    corrupt = next(c for c in obj["cells"] if c["verdict"] == "corrupt")
    assert corrupt["counterexample"]["bytes"] == "0001" and corrupt["examples"] == 4
    assert "reason" not in obj["cells"][0] or obj["cells"][0]["verdict"] != "compatible"
    assert Report.from_json(obj).comparable() == r.comparable()


@pytest.mark.parametrize("bad", [[], {"cells": []}, {"cells": [{"device": "x"}], "summary": {}},
                                 {"cells": [{"device": "x", "source": "1", "destination": "1",
                                             "wire": "legacy", "features": [],
                                             "verdict": "odd"}], "summary": {}}])
def test_bad_report_json_is_input_error(bad):
    with pytest.raises(InputError):
        Report.from_json(bad)


def test_markdown_is_a_compact_table():
    md = render_markdown(report(), None)
    assert md.startswith("### vmcompat matrix ❌ 5 cells")
    assert "| rtc | legacy | – | 2 | 1 | 1 | · |" in md
    assert "| net | json | msix | · | · | · | 1 |" in md
    assert "**Corrupt / crash cells** (2)" in md
    assert md.index("crash") < md.index("| rtc 2→2 [legacy] | **corrupt**")


def test_junit_one_case_per_cell():
    suite = ET.fromstring(render_junit(report()).split("\n", 1)[1])
    cases = suite.findall("testcase")
    assert len(cases) == 5 and suite.get("tests") == "5"
    fails = suite.findall("testcase/failure")
    assert sorted(f.get("type") for f in fails) == ["corrupt", "crash"]
    assert suite.get("failures") == "2" and suite.get("errors") == "0"
    refused = [c for c in cases if c.find("system-out") is not None]
    assert "too new" in refused[0].find("system-out").text


def test_html_has_a_matrix_per_device_and_wire_with_links():
    html = render_html(report(), None)
    assert html.count('<table class="matrix"') == 2
    assert 'href="#c-rtc-base-legacy-2-2"' in html and 'id="c-rtc-base-legacy-2-2"' in html
    assert "&#34;regs&#34;" in html or "&quot;regs&quot;" in html  # counterexample, escaped
    assert "Changes since the previous report" not in html


def test_html_escapes_reasons():
    html = render_html(report([res("d", 1, 1, "refused", reason="<script>x</script>")]), None)
    assert "<script>x" not in html and "&lt;script&gt;" in html


def test_changes_put_new_corrupt_and_crash_first():
    before = report([res("rtc", 1, 1, "compatible"), res("rtc", 2, 2, "compatible"),
                     res("rtc", 1, 2, "refused"), res("old", 1, 1, "compatible")])
    diff = changes(before, report())
    assert [(c.before, c.after) for c in diff] == [
        (None, "crash"), ("compatible", "corrupt"), (None, "refused"),
        ("refused", "compatible"), ("compatible", None)]
    html = render_html(report(), before)
    top = html.index("Changes since the previous report")
    assert top < html.index("Matrices")
    assert "refused → compatible" in render_text(report(), before)


def test_merge_joins_and_checks():
    a = report(RESULTS[:2], shard="1/2", planned=5)
    b = report(RESULTS[2:], shard="2/2", planned=5)
    m = merge([a, b])
    assert m.comparable() == report(planned=5).comparable()
    assert m.summary["shards"] == ["1/2", "2/2"]
    with pytest.raises(InputError, match="is in"):
        merge([a, a])
    with pytest.raises(InputError, match="seed"):
        merge([a, report(RESULTS[2:], seed=4, planned=5)])


def test_write_reports_writes_all_four(tmp_path):
    paths = write_reports(report(), str(tmp_path))
    assert sorted(p.rsplit("/", 1)[1] for p in paths) == [
        "junit.xml", "report.html", "report.json", "report.md"]
