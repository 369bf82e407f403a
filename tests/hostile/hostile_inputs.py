"""Hostile inputs for the fuzzer (``test_fuzz.py``): Hypothesis strategies that damage bytes
and JSON, the real inputs they start from, and the targets that must answer with a typed
error (or a clean result), never anything else.

Byte damage (:func:`damaged`): bit flips, bytes set, truncation, inserted and deleted bytes,
and big-endian length/count fields overwritten with huge values; positions fall anywhere or,
more often, inside the spans a parser cares about (headers, device sections, the vmdesc).
JSON damage (:func:`hostile_json`): a node replaced by a hostile value (huge and negative
integers, wrong types, long and non-latin-1 strings), a key deleted or set to one, a list
element dropped or duplicated, a node buried under deep nesting. Everything shrinks towards
fewer, earlier edits.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import strategies as st

from vmcompat import descjson
from vmcompat.catalog import load
from vmcompat.catalog._sample import sample_state
from vmcompat.cli import main
from vmcompat.errors import VmcompatError
from vmcompat.formats import FORMATS
from vmcompat.model import Description
from vmcompat.strategies.streams import analyse
from vmcompat.stream import find_vmdesc, read_stream
from vmcompat.types import ALL_TYPE_NAMES

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "qemu-7.2"
#: machine types whose streams have no vmdesc -> the vmdesc that decodes them
VMDESC_FROM = {"pc-i440fx-2.0": "pc-i440fx-2.3"}

HUGE = (0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
        (1 << 63) - 1, 1 << 63, (1 << 64) - 1)
HOSTILE_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 255, 256, 65536, 1 << 31, 1 << 32, 1 << 63, 1 << 64,
    -(1 << 63) - 1, 0.5, 1e308, "", "x", "\u20ac", "\x00", "a" * 300, [], {}, [[]], {"": {}})
#: integers a length, count, index or version field should not take
INTS = (0, -1, 1, 2, 255, 256, 4096, 65535, 65536, 1 << 20, (1 << 20) + 1, 1 << 24, 1 << 31,
        (1 << 31) - 1, 1 << 32, (1 << 32) - 1, 1 << 63, 1 << 64, -(1 << 63))
#: strings a name or type should not be (besides the other names of the same document)
STRINGS = ("", "x" * 300, "\u20ac", "a/b", "__subsections__", "uint33", *sorted(ALL_TYPE_NAMES))
#: keys whose values are integers, and keys whose values are names
INT_KEYS = ("size", "array_len", "index", "version", "version_id", "minimum_version_id",
            "instance_id", "page_size", "count", "zero", "pages", "mem_size", "section_id", "end",
            "at", "fill", "default")
NAME_KEYS = ("name", "type", "field", "sentinel", "varray", "vmsd_name", "idstr", "block", "key")
KEYS = (*INT_KEYS, *NAME_KEYS, "struct", "fields", "subsections", "marker", "more", "exists",
        "needed", "marshal", "devices", "immutable", "derived", "pointer", "blocks", "raw",
        "state", "__subsections__")


# ----------------------------------------------------------------------------- bytes
@dataclass(frozen=True)
class Base:
    """Real bytes to damage, the spans worth aiming at, and what decodes them."""

    name: str
    data: bytes = field(repr=False)
    hot: tuple[tuple[int, int], ...] = field(repr=False)
    context: Any = field(default=None, repr=False)


def _edit(draw: st.DrawFn, data: bytearray, hot: Sequence[tuple[int, int]]) -> str:
    n = len(data)
    lo, hi = draw(st.sampled_from([(0, n), *hot]))
    lo, hi = min(lo, n - 1), min(hi, n) - 1  # earlier edits may have cut the data short
    pos = draw(st.integers(max(lo, 0), max(lo, hi, 0)))
    kind = draw(st.sampled_from(("flip", "byte", "truncate", "insert", "delete", "huge")))
    if kind == "truncate":
        del data[pos:]
    elif kind == "insert":
        data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
    elif kind == "delete":
        del data[pos:pos + draw(st.integers(1, 16))]
    elif not data:
        return "empty"
    elif kind == "flip":
        data[pos] ^= 1 << draw(st.integers(0, 7))
    elif kind == "byte":
        data[pos] = draw(st.integers(0, 255))
    else:
        width = draw(st.sampled_from((1, 2, 4, 8)))
        value = draw(st.sampled_from(HUGE)) & ((1 << 8 * width) - 1)
        data[pos:pos + width] = value.to_bytes(width, "big")
    return kind


@st.composite
def damaged(draw: st.DrawFn, bases: Sequence[Base]) -> tuple[Base, bytes, list[str]]:
    """(base, damaged bytes, edit kinds): one to three edits of one base."""
    base = draw(st.sampled_from(bases))
    data = bytearray(base.data)
    kinds = [_edit(draw, data, base.hot) for _ in range(draw(st.integers(1, 3)))]
    return base, bytes(data), kinds


@cache
def stream_bases() -> tuple[Base, ...]:
    """The committed real QEMU 7.2 streams, aimed at their header, sections and vmdesc."""
    out = []
    for p in sorted((GOLDEN / "streams").glob("*.bin")):
        other = VMDESC_FROM.get(p.stem)
        vmdesc_from = json.loads((GOLDEN / "vmdesc" / f"{other}.json").read_text()) \
            if other else None
        data = p.read_bytes()
        a = analyse(data, vmdesc_from)
        hot = [(0, 64), *((s.start, s.end) for s in a.devices)]
        ram = [s for s in a.stream.sections if s.ram is not None]
        hot += [(s.offset, s.offset + 512) for s in ram]
        if a.vmdesc_at is not None:
            hot.append((a.vmdesc_at - 5, len(data)))
        out.append(Base(p.stem, data, tuple(hot), vmdesc_from))
    return tuple(out)


@cache
def payload_bases() -> tuple[Base, ...]:
    """A sample payload of every catalog device, version and wire; the context is the
    device's history (every version of it loads the damaged payload)."""
    out = []
    for name, h in sorted(load().items()):
        for d in h.versions:
            for wire, fmt in sorted(FORMATS.items()):
                data = fmt.encode(d, sample_state(d))
                out.append(Base(f"{name}@{d.version_id}/{wire}", data, (), (h, d, wire)))
    return tuple(out)


# ----------------------------------------------------------------------------- JSON
@cache
def _shape(text: str) -> tuple[tuple[tuple[Any, ...], ...], tuple[str, ...]]:
    """Every node's path (keys and indexes, the root included) and every string in a JSON."""
    paths: list[tuple[Any, ...]] = []
    names: set[str] = set()
    stack: list[tuple[tuple[Any, ...], Any]] = [((), json.loads(text))]
    while stack:
        path, node = stack.pop()
        paths.append(path)
        if isinstance(node, dict):
            stack.extend((path + (k,), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((path + (i,), v) for i, v in enumerate(node))
        elif isinstance(node, str):
            names.add(node)
    paths.sort(key=lambda p: (len(p), str(p)))
    return tuple(paths), tuple(sorted(names)) or ("x",)


def _at(obj: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        obj = obj[k]
    return obj


def _like(draw: st.DrawFn, node: Any, names: Sequence[str]) -> Any:
    """A hostile value of ``node``'s own JSON type (so it passes type checks and goes deeper)."""
    if isinstance(node, bool):
        return not node
    if isinstance(node, int):
        return draw(st.sampled_from(INTS) | st.integers())
    if isinstance(node, str):
        return draw(st.sampled_from(names) | st.sampled_from(STRINGS) | st.text(max_size=4))
    if isinstance(node, list):
        return node[::-1] + node[:1]
    return copy.deepcopy(draw(st.sampled_from(HOSTILE_VALUES)))


def _json_edit(draw: st.DrawFn, obj: Any, paths: Sequence[tuple[Any, ...]],
               names: Sequence[str]) -> Any:
    path = draw(st.sampled_from(paths))
    try:
        parent, node = (_at(obj, path[:-1]), _at(obj, path)) if path else (None, obj)
    except (KeyError, IndexError, TypeError):
        return obj  # an earlier edit removed it
    kind = draw(st.sampled_from(("like", "like", "like", "set", "set", "retype", "delete",
                                 "duplicate", "bury")))
    if kind == "set" and isinstance(node, dict):
        key = draw(st.sampled_from(KEYS))
        node[key] = _like(draw, 0 if key in INT_KEYS else "" if key in NAME_KEYS else None, names)
        return obj
    if kind == "duplicate" and isinstance(node, list) and node:
        i = draw(st.integers(0, len(node) - 1))
        node.insert(i, copy.deepcopy(node[i]))
        return obj
    if kind == "delete" and parent is not None:
        del parent[path[-1]]
        return obj
    if kind == "bury":
        value: Any = node
        for _ in range(draw(st.sampled_from((1, 40, 200)))):
            value = [value]
    elif kind == "retype":
        value = copy.deepcopy(draw(st.sampled_from(HOSTILE_VALUES)))
    else:
        value = _like(draw, node, names)
    if parent is None:
        return value
    parent[path[-1]] = value
    return obj


@st.composite
def hostile_json(draw: st.DrawFn, bases: Sequence[tuple[str, Any]]) -> tuple[str, Any]:
    """(base name, damaged copy): one to three JSON edits of one of ``bases``."""
    name, base = draw(st.sampled_from(bases))
    text = json.dumps(base)
    paths, names = _shape(text)
    obj = json.loads(text)
    for _ in range(draw(st.integers(1, 3))):
        obj = _json_edit(draw, obj, paths, names)
    return name, obj


@cache
def description_bases() -> tuple[tuple[str, Any], ...]:
    """Every catalog description version as JSON."""
    return tuple((f"{name}@{d.version_id}", descjson.to_json(d))
                 for name, h in sorted(load().items()) for d in h.versions)


@cache
def vmdesc_bases() -> tuple[tuple[str, Any], ...]:
    """The committed real vmdescs."""
    return tuple((p.stem, json.loads(p.read_text()))
                 for p in sorted((GOLDEN / "vmdesc").glob("*.json")))


def with_vmdesc(data: bytes, obj: Any) -> bytes:
    """A stream with its trailing vmdesc replaced by ``obj``."""
    v = find_vmdesc(data)
    assert v is not None
    raw = json.dumps(obj).encode()
    return data[:len(data) - len(v.raw) - 4] + len(raw).to_bytes(4, "big") + raw


# ----------------------------------------------------------------------------- targets
def typed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(...)``, or None when it raised a typed error; anything else propagates."""
    try:
        return fn(*args, **kwargs)
    except VmcompatError:
        return None


def cli(*args: str) -> Result:
    """``vmcompat ARGS`` in-process; its exit code must be 0, 1 or 2, its output one of ours."""
    r = CliRunner().invoke(main, list(args))
    assert r.exit_code in (0, 1, 2), f"exit {r.exit_code}: {r.output}"
    assert "internal error" not in r.output and "Traceback" not in r.output, r.output
    return r


def roundtrip(d: Description, state: Any) -> None:
    """Every wire writes ``state`` and reads it back with ``d`` (typed errors aside)."""
    for fmt in FORMATS.values():
        data = typed(fmt.encode, d, state)
        if data is not None:
            typed(fmt.decode, d, data, d.version_id, None)
            typed(fmt.decode, d, data[:-1], d.version_id, state)


def decodes(data: bytes, vmdesc_from: Any) -> Any:
    return typed(read_stream, data, vmdesc_from=vmdesc_from)
