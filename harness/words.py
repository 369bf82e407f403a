"""Counts in messages: ``1 byte``, ``2 bytes``, never ``1 byte(s)``.

>>> plural(1, "byte"), plural(2, "byte"), plural(0, "entry", "entries")
('1 byte', '2 bytes', '0 entries')
>>> WORDS.format("{n:byte} left, {m:x}", n=1, m=255)
'1 byte left, ff'
"""

from __future__ import annotations

from typing import Any


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``n`` and the noun, singular for exactly one (``nouns`` when adding "s" is wrong)."""
    return f"{n} {noun if n == 1 else (nouns or noun + 's')}"


class _Count(int):
    """An integer whose format spec may be a noun: ``{n:byte}`` -> ``2 bytes``."""

    def __format__(self, spec: str) -> str:
        if len(spec) > 1 and spec.isalpha():
            return plural(self, spec)
        return int.__format__(self, spec)


class Words:
    """``str.format`` where a noun as the format spec counts: ``{n:byte}`` -> ``2 bytes``."""

    def format(self, text: str, /, *args: Any, **kwargs: Any) -> str:
        return text.format(*map(_counted, args),
                           **{k: _counted(v) for k, v in kwargs.items()})


def _counted(value: Any) -> Any:
    return _Count(value) if type(value) is int else value


WORDS = Words()
