"""Ignores for ``vmcompat check``: ``[tool.vmcompat.check]`` in a ``pyproject.toml``.

Each ignore matches findings by ``rule`` (a code or a glob), ``device`` (a
name or glob) and ``path`` (a glob over the finding's path), and REQUIRES a
``reason``. An ignore that matches nothing is reported by the checker
(``IGNORE_UNUSED``), so ignores cannot go stale silently.

>>> ig = Ignore(0, rule="FIELD_RENAMED", device="apic", path="apic/*", reason="known")
>>> ig.matches("FIELD_RENAMED", "apic", "apic/apic/timer")
True
>>> ig.matches("FIELD_REMOVED", "apic", "apic/apic/timer")
False
"""

from __future__ import annotations

import os
import tomllib
from fnmatch import fnmatchcase
from typing import Any

from vmcompat.errors import InputError
from vmcompat.values import immutable

KEYS = ("rule", "device", "path", "reason")
SECTION = "[tool.vmcompat.check]"


def _keys(names: set[str]) -> str:
    """``key x`` or ``keys x, y``."""
    return f"{'key' if len(names) == 1 else 'keys'} {', '.join(sorted(names))}"


@immutable
class Ignore:
    """One ignore entry (``index`` is its position in the list, for messages)."""

    index: int
    rule: str | None = None
    device: str | None = None
    path: str | None = None
    reason: str = ""

    def matches(self, rule: str, device: str, path: str) -> bool:
        return all(pat is None or fnmatchcase(value, pat)
                   for pat, value in ((self.rule, rule), (self.device, device),
                                      (self.path, path)))

    def could_match_device(self, devices: set[str]) -> bool:
        """Whether this ignore concerns one of ``devices`` (others are not stale, just idle)."""
        return self.device is None or any(fnmatchcase(d, self.device) for d in devices)


@immutable
class Config:
    """The ignores of one configuration file (``file`` is None when there is none)."""

    file: str | None
    ignores: tuple[Ignore, ...] = ()


def load(config: str | None = None, *, known_rules: frozenset[str] | None = None) -> Config:
    """Read the ignores of ``config``, or of ``./pyproject.toml`` when it exists."""
    explicit = config is not None
    path = config if explicit else os.path.join(os.getcwd(), "pyproject.toml")
    assert path is not None
    if not explicit and not os.path.exists(path):
        return Config(None)
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", file=path) from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"not valid TOML: {e}", file=path) from None
    section = doc.get("tool", {}).get("vmcompat", {}).get("check", {})
    if not isinstance(section, dict):
        raise InputError(f"{SECTION} must be a table", file=path)
    unknown = set(section) - {"ignore"}
    if unknown:
        raise InputError(f"{SECTION}: unknown {_keys(unknown)} "
                         f"(known: ignore)", file=path)
    raw = section.get("ignore", [])
    if not isinstance(raw, list):
        raise InputError(f"{SECTION} ignore must be a list of tables", file=path)
    return Config(path, tuple(_entry(i, e, path, known_rules) for i, e in enumerate(raw)))


def _entry(i: int, e: Any, path: str, known_rules: frozenset[str] | None) -> Ignore:
    where = f"{SECTION} ignore #{i}"
    if not isinstance(e, dict):
        raise InputError(f"{where} must be a table like {{rule = \"…\", reason = \"…\"}}",
                         file=path)
    unknown = set(e) - set(KEYS)
    if unknown:
        raise InputError(f"{where}: unknown {_keys(unknown)} "
                         f"(known: {', '.join(KEYS)})", file=path)
    for k in KEYS:
        if k in e and not isinstance(e[k], str):
            raise InputError(f"{where}: {k} must be a string", file=path)
    reason = e.get("reason", "").strip()
    if not reason:
        raise InputError(f"{where} needs a reason string (why is this finding acceptable?)",
                         file=path)
    if not any(k in e for k in ("rule", "device", "path")):
        raise InputError(f"{where} matches everything: give a rule, device or path", file=path)
    rule = e.get("rule")
    if (rule is not None and known_rules is not None and not any(c in rule for c in "*?[")
            and rule not in known_rules):
        raise InputError(f"{where}: unknown rule {rule!r}", file=path)
    return Ignore(i, rule, e.get("device"), e.get("path"), reason)
