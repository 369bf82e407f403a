"""Counts in messages: ``1 byte``, ``2 bytes``, never ``1 byte(s)``.

>>> plural(1, "byte"), plural(2, "byte"), plural(0, "entry", "entries")
('1 byte', '2 bytes', '0 entries')
>>> WORDS.format("{n:byte} left, {m:x}", n=1, m=255)
'1 byte left, ff'
"""

from __future__ import annotations

import string
from typing import Any


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``n`` and the noun, singular for exactly one (``nouns`` when adding "s" is wrong)."""
    return f"{n} {noun if n == 1 else (nouns or noun + 's')}"


class Words(string.Formatter):
    """``str.format`` where a noun as the format spec counts: ``{n:byte}`` -> ``2 bytes``."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        if (len(format_spec) > 1 and format_spec.isalpha() and isinstance(value, int)
                and not isinstance(value, bool)):
            return plural(value, format_spec)
        return super().format_field(value, format_spec)


WORDS = Words()
