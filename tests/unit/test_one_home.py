"""Each rule has one home: greps that fail when a rule is written again elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for top in ("harness", "strategies") for p in (ROOT / top).rglob("*.py"))


def _hits(pattern: str, *, outside: set[str]) -> list[str]:
    rx = re.compile(pattern)
    return [f"{p.relative_to(ROOT)}:{i}" for p in SOURCES if str(p.relative_to(ROOT)) not in outside
            for i, line in enumerate(p.read_text().splitlines(), 1) if rx.search(line)]


def test_scalar_type_behaviour_lives_in_the_type_table() -> None:
    """No branch on a scalar type's kind (bool, int, timer) or on which load check it has."""
    kinds = r"""\.kind\s*(==|!=)\s*["'](bool|int|timer)["']"""
    checks = r"""\b(\.)?check\s*(==|!=)\s*["'](equal|le)["']"""
    assert _hits(kinds, outside={"harness/types.py"}) == []
    assert _hits(checks, outside={"harness/types.py"}) == []


def test_the_grep_sees_a_branch() -> None:
    assert re.search(r"""\.kind\s*(==|!=)\s*["'](bool|int|timer)["']""", 'if t.kind == "bool":')


def test_present_at_version_is_decided_once() -> None:
    """QEMU's "field present in a stream of version v" lives in Field.present_at."""
    rule = r"(?<!minimum_)version_id\s*(<=|>)\s*version\b"
    assert _hits(rule, outside={"harness/model.py"}) == []


def test_held_subsections_are_decided_once() -> None:
    """Which declared subsections a state holds: Description.held_subsections."""
    rule = r"\b(s|sub)\.name in held\b"
    assert _hits(rule, outside={"harness/model.py"}) == []
