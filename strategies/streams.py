"""Structural damage to real savevm streams, as a Hypothesis strategy.

:func:`corrupt_streams` draws a :class:`Corruption` (``kind``, the damaged
bytes, a one-line ``detail``) from one stream. Kinds: ``drop_section``,
``duplicate_section``, ``swap_sections``, ``drop_subsection``, ``truncate``,
``trailing_garbage``, ``garbage_vmdesc``, ``wrong_footer_id`` (all structural:
``vmcompat stream verify`` must fail each, see :data:`STRUCTURAL`) and
``mutate_bytes`` (random bytes anywhere: the reader must raise only typed
errors); these are the default. ``data_byte`` is *valid* damage, opt-in: one
byte changed inside an unchecked device field (verify must pass).
The stream is analysed once, when the strategy is built; the builders
(:func:`drop_section` …) are plain functions tests can call directly.

Shrinking: section indexes shrink towards the first section, truncation
towards the shortest cut, garbage towards one byte.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from vmcompat.model import SUBSECTIONS_KEY
from vmcompat.strategies._registry import defines_strategy
from vmcompat.stream.devices import encode_payload
from vmcompat.stream.layout import FULL
from vmcompat.stream.model import Section, Stream
from vmcompat.stream.reader import read_stream
from vmcompat.stream.writer import table_for
from vmcompat.values import immutable

#: damage ``vmcompat stream verify`` always detects
STRUCTURAL = ("drop_section", "duplicate_section", "swap_sections", "drop_subsection",
              "truncate", "trailing_garbage", "garbage_vmdesc", "wrong_footer_id")
#: what :func:`corrupt_streams` draws by default: structural damage and random bytes
DEFAULT_KINDS = (*STRUCTURAL, "mutate_bytes")
KINDS = (*DEFAULT_KINDS, "data_byte")


@immutable
class Corruption:
    kind: str
    data: bytes
    detail: str


@immutable
class Span:
    """A device section: bytes ``start``..``end`` (footer included); payload inside."""

    index: int
    key: tuple[str, int]
    start: int
    end: int
    payload: tuple[int, int]
    section: Section


@immutable
class Analysis:
    data: bytes
    stream: Stream
    devices: tuple[Span, ...]
    vmdesc_at: int | None  # offset of the vmdesc JSON text
    vmdesc_from: Any = None


def analyse(data: bytes, vmdesc_from: Any = None) -> Analysis:
    """Parse once (tolerantly: the stream may be one we corrupted); remember where each
    device section and the vmdesc are."""
    s = read_stream(data, vmdesc_from=vmdesc_from, strict=False)
    foot = 5 if s.layout.footers else 0
    spans = tuple(Span(i, (x.idstr, x.instance_id), x.offset, x.payload[1] + foot, x.payload, x)
                  for i, x in enumerate(y for y in s.sections if y.kind == FULL))
    at = len(data) - len(s.trailing) - len(s.vmdesc.raw) if s.vmdesc is not None else None
    return Analysis(data, s, spans, at, vmdesc_from)


# ----------------------------------------------------------------------------- builders
def drop_section(a: Analysis, i: int) -> Corruption:
    sp = a.devices[i]
    return Corruption("drop_section", a.data[:sp.start] + a.data[sp.end:],
                      f"dropped section {sp.key[0]!r}")


def duplicate_section(a: Analysis, i: int) -> Corruption:
    sp = a.devices[i]
    chunk = a.data[sp.start:sp.end]
    return Corruption("duplicate_section", a.data[:sp.end] + chunk + a.data[sp.end:],
                      f"duplicated section {sp.key[0]!r}")


def swap_sections(a: Analysis, i: int) -> Corruption:
    """Swap device section ``i`` with the next one."""
    x, y = a.devices[i], a.devices[i + 1]
    d = a.data
    out = d[:x.start] + d[y.start:y.end] + d[x.end:y.start] + d[x.start:x.end] + d[y.end:]
    return Corruption("swap_sections", out, f"swapped {x.key[0]!r} and {y.key[0]!r}")


def with_subsections(a: Analysis) -> list[tuple[int, str]]:
    """(device index, subsection name) for every top-level subsection sent."""
    return [(sp.index, name) for sp in a.devices if isinstance(sp.section.state, dict)
            for name in (sp.section.state.get(SUBSECTIONS_KEY) or {})]


def drop_subsection(a: Analysis, i: int, name: str) -> Corruption:
    """Re-encode device section ``i`` without its subsection ``name``."""
    sp = a.devices[i]
    table = table_for(a.stream)
    assert table is not None
    entry = table.lookup(*sp.key)
    assert entry is not None and entry.description is not None
    state = dict(sp.section.state)
    subs = dict(state[SUBSECTIONS_KEY])
    del subs[name]
    state[SUBSECTIONS_KEY] = subs
    payload = encode_payload(entry.description, state)
    p0, p1 = sp.payload
    return Corruption("drop_subsection", a.data[:p0] + payload + a.data[p1:],
                      f"dropped subsection {name!r} of {sp.key[0]!r}")


def truncate(a: Analysis, n: int) -> Corruption:
    return Corruption("truncate", a.data[:n], f"truncated to {n} bytes")


def trailing_garbage(a: Analysis, junk: bytes) -> Corruption:
    return Corruption("trailing_garbage", a.data + junk, f"{len(junk)} bytes appended")


def garbage_vmdesc(a: Analysis, junk: bytes) -> Corruption:
    """Replace the vmdesc text by ``junk`` (its length prefix follows)."""
    assert a.vmdesc_at is not None
    head = a.data[:a.vmdesc_at - 4] + len(junk).to_bytes(4, "big")
    return Corruption("garbage_vmdesc", head + junk, f"vmdesc replaced by {len(junk)} bytes")


def wrong_footer_id(a: Analysis, i: int, delta: int = 1) -> Corruption:
    sp = a.devices[i]
    old = int.from_bytes(a.data[sp.end - 4:sp.end], "big")
    new = (old + delta) & 0xFFFFFFFF
    out = a.data[:sp.end - 4] + new.to_bytes(4, "big") + a.data[sp.end:]
    return Corruption("wrong_footer_id", out, f"footer of {sp.key[0]!r} says {new}, not {old}")


def mutate_bytes(a: Analysis, changes: list[tuple[int, int]]) -> Corruption:
    out = bytearray(a.data)
    for pos, value in changes:
        out[pos % len(out)] = value
    return Corruption("mutate_bytes", bytes(out), f"{len(changes)} byte(s) changed")


def plain_devices(a: Analysis) -> list[Span]:
    """Device sections where every payload byte is unchecked field data: no subsections
    anywhere and no ``equal``/``le`` field (whose values a load checks)."""
    table = table_for(a.stream)
    out = []
    for sp in a.devices:
        entry = table.lookup(*sp.key) if table is not None else None
        if entry is None or entry.description is None or sp.payload[1] <= sp.payload[0]:
            continue
        checked = any(f.wire_type is not None and f.wire_type.check is not None
                      for _, f in entry.description.walk_fields())
        if not checked and SUBSECTIONS_KEY not in repr(sp.section.state):
            out.append(sp)
    return out


def data_byte(a: Analysis, i: int, k: int, value: int) -> Corruption:
    """Change byte ``k`` of the payload of the ``i``-th :func:`plain_devices` section."""
    sp = plain_devices(a)[i]
    p0, p1 = sp.payload
    pos = p0 + k % (p1 - p0)
    out = bytearray(a.data)
    out[pos] = value if value != out[pos] else (value + 1) & 0xFF
    return Corruption("data_byte", bytes(out), f"byte {pos} of {sp.key[0]!r} changed")


# ----------------------------------------------------------------------------- strategy
@defines_strategy
def corrupt_streams(stream_bytes: bytes, *, vmdesc_from: Any = None,
                    kinds: tuple[str, ...] = DEFAULT_KINDS) -> st.SearchStrategy[Corruption]:
    """Damaged copies of ``stream_bytes``, each labelled by its ``kind``.

    ``kind in STRUCTURAL`` must fail ``verify``; ``mutate_bytes`` may land in
    data (then it passes) but must only ever raise typed errors; ``data_byte``
    (opt-in) must pass. Kinds a stream cannot have (``wrong_footer_id`` before
    2.4, ``garbage_vmdesc`` without a vmdesc) are left out quietly.
    ``vmdesc_from`` decodes streams without a vmdesc (2.0–2.2).
    """
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown corruption kinds {sorted(unknown)} (known: {KINDS})")
    a = analyse(bytes(stream_bytes), vmdesc_from)
    n = len(a.devices)
    footers = a.stream.layout.footers
    subs = with_subsections(a)
    plain = plain_devices(a)
    junk = st.binary(min_size=1, max_size=64)
    table: dict[str, st.SearchStrategy[Corruption]] = {
        "drop_section": st.builds(drop_section, st.just(a), st.integers(0, n - 1)),
        "duplicate_section": st.builds(duplicate_section, st.just(a), st.integers(0, n - 1)),
        "swap_sections": st.builds(swap_sections, st.just(a), st.integers(0, n - 2)).filter(
            lambda c: c.data != a.data),
        "truncate": st.builds(truncate, st.just(a), st.integers(0, len(a.data) - 1)),
        "trailing_garbage": st.builds(trailing_garbage, st.just(a), junk),
        "mutate_bytes": st.builds(mutate_bytes, st.just(a), st.lists(
            st.tuples(st.integers(0, len(a.data) - 1), st.integers(0, 255)),
            min_size=1, max_size=8)),
    }
    if subs:
        table["drop_subsection"] = st.sampled_from(subs).map(
            lambda x: drop_subsection(a, *x))
    if a.vmdesc_at is not None:
        table["garbage_vmdesc"] = st.builds(garbage_vmdesc, st.just(a), junk)
    if footers:
        table["wrong_footer_id"] = st.builds(wrong_footer_id, st.just(a),
                                             st.integers(0, n - 1), st.integers(1, 255))
    if plain:
        table["data_byte"] = st.builds(data_byte, st.just(a), st.integers(0, len(plain) - 1),
                                       st.integers(0, 1 << 16), st.integers(0, 255))
    chosen = [table[k] for k in kinds if k in table]
    if not chosen:
        raise ValueError(f"this stream allows none of {kinds}")
    return st.one_of(chosen)
