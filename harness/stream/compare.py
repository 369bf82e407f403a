"""Comparing decoded device states field by field (by name), and whole streams.

A state is flattened to its leaves, each named by a QEMU-style path: struct
members joined by ``.``, array elements as ``[i]``, a subsection by its own name
(``ps2kbd/keyboard_ledstate.ledstate``). Two states compare by those names, so a
field that moved keeps its identity and one that exists on one side only is
listed as such, not as a difference.

>>> d = diff_states({"a": 1, "s": {"x": [1, 2]}}, {"a": 1, "s": {"x": [1, 3]}, "b": 0})
>>> d.changed, d.only_a, d.only_b
(('s.x[1]',), (), ('b',))
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from vmcompat.model import SUBSECTIONS_KEY
from vmcompat.stream.model import Section, Stream
from vmcompat.stream.source import Buffer
from vmcompat.values import immutable


def leaves(state: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(path, value)`` for every leaf of a decoded state."""
    if isinstance(state, Mapping):
        for key, value in state.items():
            if key == SUBSECTIONS_KEY:
                for name, sub in value.items():
                    yield from leaves(sub, name)
            else:
                yield from leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(state, list):
        for i, value in enumerate(state):
            yield from leaves(value, f"{prefix}[{i}]")
    else:
        yield prefix, state


@immutable
class StateDiff:
    """Leaves that differ, and leaves that only one side has."""

    changed: tuple[str, ...]
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]

    @property
    def same(self) -> bool:
        return not self.changed


def diff_states(a: Any, b: Any, *, ignore: frozenset[str] = frozenset()) -> StateDiff:
    """Compare two states by leaf name; ``ignore`` names leaves (or their prefixes) to skip."""
    la = {p: v for p, v in leaves(a) if not _ignored(p, ignore)}
    lb = {p: v for p, v in leaves(b) if not _ignored(p, ignore)}
    return StateDiff(tuple(p for p in la if p in lb and not same_value(la[p], lb[p])),
                     tuple(p for p in la if p not in lb), tuple(p for p in lb if p not in la))


def same_value(a: Any, b: Any) -> bool:
    """Equal leaves; a buffer that changed size compares without its trailing zeros
    (QEMU's globalstate ``runstate``: a 100-byte buffer in 7.2, 32 bytes plus other
    fields in 10.0, holding the same NUL-terminated name).

    >>> same_value(b"paused" + bytes(26), b"paused" + bytes(94)), same_value(b"a", b"ab")
    (True, False)
    """
    if isinstance(a, bytes) and isinstance(b, bytes) and len(a) != len(b):
        return a.rstrip(b"\0") == b.rstrip(b"\0")
    return bool(a == b)


def _ignored(path: str, ignore: frozenset[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in ignore)


def idstr_matches(idstr: str, pattern: str) -> bool:
    """``pattern`` is a whole idstr or its last component (``pciespscsi``)."""
    return idstr == pattern or idstr.rsplit("/", 1)[-1] == pattern


def stream_differences(a: Stream, data_a: Buffer, b: Stream, data_b: Buffer,
                       volatile: Mapping[str, list[str]]) -> list[str]:
    """How two captures differ, beyond the ``volatile`` fields (idstr pattern → leaves).

    Sections named by ``volatile`` compare by decoded state less those fields; every
    other byte (framing, RAM, other sections, the vmdesc) must be identical.
    """
    sa, sb = a.sections, b.sections
    if [(s.idstr, s.instance_id, s.kind) for s in sa] != \
            [(s.idstr, s.instance_id, s.kind) for s in sb]:
        return ["the streams hold different sections"]
    out = []
    skip_a: list[tuple[int, int]] = []
    skip_b: list[tuple[int, int]] = []
    for x, y in zip(sa, sb, strict=True):
        fields = _volatile_fields(x, volatile)
        if fields is None:
            continue
        d = diff_states(x.state, y.state, ignore=frozenset(fields))
        out += [f"{x.idstr}: {p} differs" for p in d.changed]
        skip_a.append(x.payload)
        skip_b.append(y.payload)
    if cut_spans(data_a, skip_a) != cut_spans(data_b, skip_b):
        out.append("bytes outside the volatile sections differ")
    return out


def _volatile_fields(sec: Section, volatile: Mapping[str, list[str]]) -> list[str] | None:
    for pattern, fields in volatile.items():
        if sec.state is not None and idstr_matches(sec.idstr, pattern):
            return fields
    return None


def cut_spans(data: Buffer, spans: list[tuple[int, int]]) -> bytes:
    """``data`` without the byte spans ``[start, end)`` (e.g. whole sections of a stream)."""
    out, at = bytearray(), 0
    for start, end in sorted(spans):
        out += data[at:start]
        at = end
    out += data[at:]
    return bytes(out)
