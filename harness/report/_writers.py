"""The four files of a matrix report, written atomically into one folder."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from types import MappingProxyType

from vmcompat.report._junit import render_junit
from vmcompat.report._model import Report
from vmcompat.report._templates import render
from vmcompat.report._views import context


def render_json(report: Report, previous: Report | None = None) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"


def render_markdown(report: Report, previous: Report | None = None) -> str:
    return render("report.md.j2", **context(report, previous))


def render_html(report: Report, previous: Report | None = None) -> str:
    return render("report.html.j2", **context(report, previous))


#: file name -> renderer; every matrix run and merge writes all of them
WRITERS: Mapping[str, Callable[[Report, Report | None], str]] = MappingProxyType({
    "report.json": render_json,
    "report.md": render_markdown,
    "junit.xml": lambda report, previous=None: render_junit(report),
    "report.html": render_html,
})


def write_reports(report: Report, out_dir: str, previous: Report | None = None) -> list[str]:
    """Write every file of :data:`WRITERS` into ``out_dir``; return their paths."""
    from vmcompat.atomic import write_atomic

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, fn in WRITERS.items():
        path = os.path.join(out_dir, name)
        write_atomic(path, fn(report, previous))
        paths.append(path)
    return paths
