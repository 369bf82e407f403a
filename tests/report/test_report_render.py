"""Reports: JSON contract, markdown, junit, html, changes since a previous report, merge."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from vmcompat.compat.verdict import Cell, CellResult, Verdict
from vmcompat.errors import InputError
from vmcompat.report import (
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
    assert "**Cells that are not compatible** (3)" in md


def test_markdown_lists_every_cell_that_is_not_compatible():
    """Under the summary table, one row per non-compatible cell (refused ones too, with
    QEMU's message), worst first: what a reviewer pastes."""
    cells = [res("rtc", s, d, "compatible") for s, d in ((1, 1), (1, 2), (2, 2))]
    cells += [(CellResult(Cell("rtc", str(s), "1", "legacy", "downgrade"), Verdict.REFUSED, 4,
                          "too_new", notes=(f"rtc @0: incoming version_id {s} is too new for "
                                            "local version_id 1",)), 0.1) for s in (2, 3)]
    cells.append(res("net", 1, 2, "corrupt", wire="json", reason="a|b\nc"))
    md = render_markdown(report(cells), None)
    summary = md.index("| device | wire | features |")
    listed = md.index("**Cells that are not compatible** (3):")
    assert summary < listed
    rows = md[listed:].split("\n\n")[1].splitlines()
    assert rows[:2] == ["| device | versions | wire | direction | verdict | reason |",
                        "|---|---|---|---|---|---|"]
    assert rows[2:] == [
        "| net | 1 → 2 | json | same | **corrupt** | a\\|b c |",
        "| rtc | 2 → 1 | legacy | downgrade | **refused** | rtc @0: incoming version_id 2 is "
        "too new for local version_id 1 |",
        "| rtc | 3 → 1 | legacy | downgrade | **refused** | rtc @0: incoming version_id 3 is "
        "too new for local version_id 1 |"]
    assert "not compatible" not in render_markdown(report(cells[:3]), None)


def test_junit_one_case_per_cell():
    suite = ET.fromstring(render_junit(report()).split("\n", 1)[1])
    cases = suite.findall("testcase")
    assert len(cases) == 5 and suite.get("tests") == "5"
    fails = suite.findall("testcase/failure")
    assert sorted(f.get("type") for f in fails) == ["corrupt", "crash"]
    assert suite.get("failures") == "2" and suite.get("errors") == "0"
    refused = [c for c in cases if c.find("system-out") is not None]
    assert "too new" in refused[0].find("system-out").text


def test_reports_name_directions_and_read_the_old_words():
    """A report.json written with the schema-registry words reads in today's: its 2 -> 2
    "backward" cell is a same-version cell, its 3 -> 2 "forward" cell a downgrade."""
    old = {"cells": [{"device": "rtc", "source": s, "destination": d, "wire": "legacy",
                      "direction": w, "features": [], "verdict": v, "examples": 1}
                     for s, d, w, v in (("2", "2", "backward", "compatible"),
                                        ("2", "3", "backward", "compatible"),
                                        ("3", "2", "forward", "refused"))],
           "summary": {"seed": 0}}
    rep = Report.from_json(old)
    assert [r.cell.direction for r in rep.results()] == ["same", "upgrade", "downgrade"]
    assert [c["direction"] for c in merge([rep]).cells] == ["same", "upgrade", "downgrade"]
    text = render_text(report([]), rep)
    assert "rtc 3→2 [legacy, downgrade]" in text and "rtc 2→2 [legacy, same]" in text
    names = {c.get("name") for c in ET.fromstring(render_junit(rep).split("\n", 1)[1])
             .findall("testcase")}
    assert names == {"v2->v2 same", "v2->v3 upgrade", "v3->v2 downgrade"}
    assert "upgrades above the diagonal, downgrades below" in render_html(rep, None)


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
