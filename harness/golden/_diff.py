"""Readable differences: decoded trees (field path, old → new) and bytes.

>>> diff_trees({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 3]})
[Change(path=('b', 1), old=2, new=3)]
>>> print(format_changes(diff_trees({"a": 1}, {"a": 2, "c": 3})))
  a: 1 → 2
  c: (absent) → 3
"""

from __future__ import annotations


from vmcompat.values import immutable
from typing import Any

from vmcompat.errors import Path, dotted
from vmcompat.model import SUBSECTIONS_KEY


class _Absent:
    __slots__ = ()

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


@immutable
class Change:
    path: Path
    old: Any
    new: Any


def diff_trees(old: Any, new: Any, path: Path = ()) -> list[Change]:
    """Leaf differences between two JSON trees, in document order."""
    out: list[Change] = []
    stack: list[tuple[Path, Any, Any]] = [(path, old, new)]
    while stack:
        p, a, b = stack.pop()
        if isinstance(a, dict) and isinstance(b, dict):
            keys = list(a) + [k for k in b if k not in a]
            stack.extend((p + (k,), a.get(k, ABSENT), b.get(k, ABSENT)) for k in reversed(keys))
        elif isinstance(a, list) and isinstance(b, list):
            n = max(len(a), len(b))
            stack.extend((p + (i,), a[i] if i < len(a) else ABSENT, b[i] if i < len(b) else ABSENT)
                         for i in reversed(range(n)))
        elif a != b or type(a) is not type(b):
            out.append(Change(p, a, b))
    return out


def _show(v: Any) -> str:
    if v is ABSENT:
        return "(absent)"
    if isinstance(v, (dict, list)):
        import json

        text = json.dumps(v, separators=(",", ":"))
        return text if len(text) <= 60 else text[:57] + "..."
    return repr(v) if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)


def field_path(path: Path) -> str:
    """Dotted path with the ``__subsections__`` level left out."""
    return dotted(tuple(p for p in path if p != SUBSECTIONS_KEY)) or "(root)"


def format_changes(changes: list[Change], limit: int = 20, indent: str = "  ") -> str:
    lines = [f"{indent}{field_path(c.path)}: {_show(c.old)} → {_show(c.new)}"
             for c in changes[:limit]]
    if len(changes) > limit:
        lines.append(f"{indent}… {len(changes) - limit} more")
    return "\n".join(lines)


def first_difference(old: bytes, new: bytes) -> int | None:
    """Offset of the first differing byte (or of the shorter end), None when equal."""
    for i, (a, b) in enumerate(zip(old, new)):
        if a != b:
            return i
    return None if len(old) == len(new) else min(len(old), len(new))


def format_bytes_diff(old: bytes, new: bytes, context: int = 8, indent: str = "  ") -> str:
    """One line per side around the first difference: ``@12 old: 01 02 [03] 04``."""
    at = first_difference(old, new)
    if at is None:
        return f"{indent}bytes equal"
    lo = max(0, at - context)

    def row(data: bytes) -> str:
        cells = [f"{b:02x}" for b in data[lo:at + context + 1]]
        if at - lo < len(cells):
            cells[at - lo] = f"[{cells[at - lo]}]"
        return " ".join(cells) or "(end)"

    return (f"{indent}bytes differ at offset {at} (sizes {len(old)} / {len(new)}):\n"
            f"{indent}  old: {row(old)}\n{indent}  new: {row(new)}")
