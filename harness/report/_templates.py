"""Jinja2 environment over ``harness/report/templates`` (package data)."""

from __future__ import annotations

from functools import cache

import jinja2


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("vmcompat.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)


def render(name: str, **context: object) -> str:
    return environment().get_template(name).render(**context)
