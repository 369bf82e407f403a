"""Matrix reports: ``report.json`` (the public contract), ``report.md`` (a PR comment),
``junit.xml`` (one test case per cell) and ``report.html`` (a matrix per device and
wire, click-through to counterexamples, changes since a previous report).
"""

from vmcompat.report._chains import render_text as render_chain_text
from vmcompat.report._junit import render_junit
from vmcompat.report._model import (
    Change,
    Report,
    build_report,
    changes,
    merge,
    summarize,
    with_chains,
)
from vmcompat.report._text import render_text
from vmcompat.report._writers import (
    WRITERS,
    render_html,
    render_json,
    render_markdown,
    write_reports,
)

__all__ = [
    "WRITERS",
    "Change",
    "Report",
    "build_report",
    "changes",
    "merge",
    "render_html",
    "render_chain_text",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_text",
    "summarize",
    "with_chains",
    "write_reports",
]
