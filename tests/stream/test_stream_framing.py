"""Framing edge cases: commands, unknown section types, PART of an unknown section,
RAM records, layouts; each error typed and located."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vmcompat.errors import StreamError, Truncated, UnknownSection
from vmcompat.stream import Command, from_document, read_stream, to_bytes, to_document
from vmcompat.stream.layout import LAYOUT_1_4, LAYOUT_2_0, LAYOUT_2_3, LAYOUT_2_4, LAYOUTS
from vmcompat.stream.ram import CHUNK, CONTINUE, PAGE, ZERO, read_ram, write_ram
from vmcompat.stream.source import Source

HEADER = bytes.fromhex("5145564d00000003")


def test_layouts_are_derived_from_the_next_newer() -> None:
    assert replace(LAYOUT_2_4, name="2.3", configuration=False, footers=False) == LAYOUT_2_3
    assert replace(LAYOUT_2_3, name="2.0", vmdesc=False) == LAYOUT_2_0
    assert replace(LAYOUT_2_0, name="1.4", vmdesc=True) == LAYOUT_1_4
    assert list(LAYOUTS) == ["1.4", "2.0", "2.3", "2.4"]


def test_command_sections_round_trip(golden_bytes: dict[str, bytes]) -> None:
    s = read_stream(golden_bytes["pc-i440fx-7.2"])
    items = list(s.items)
    items.insert(3, Command(5, b"\x01\x02"))
    edited = replace(s, items=tuple(items))
    data = to_bytes(edited)
    again = read_stream(data)
    assert [type(x).__name__ for x in again.items][3] == "Command"
    assert to_bytes(again) == data
    assert to_bytes(from_document(to_document(again))) == data


@pytest.mark.parametrize("tail, error, words", [
    (b"\x09", StreamError, "unknown savevm section type 9"),
    (b"\x02\x00\x00\x00\x07", StreamError, "Unknown savevm section 7"),
    (b"\x04\x00\x00\x00\x01\x03abc\x00\x00\x00\x00\x00\x00\x00\x01", StreamError, "no vmdesc"),
    (b"\x01\x00\x00\x00\x01\x03abc\x00\x00\x00\x00\x00\x00\x00\x01", StreamError,
     "iterative section 'abc'"),
    (b"\x01\x00\x00\x00\x01\x03ram\x00\x00\x00\x00\x00\x00\x00\x03", StreamError,
     "ram: unsupported version 3"),
    (b"\x01\x00\x00\x00", Truncated, "section_id"),
    (b"", StreamError, "ends without EOF"),
])
def test_framing_errors(tail: bytes, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        read_stream(HEADER + tail)


def test_unknown_section_uses_qemus_words(golden_bytes: dict[str, bytes]) -> None:
    data = golden_bytes["pc-i440fx-7.2"]
    bad = data.replace(b"\x0bmc146818rtc", b"\x0bmc146818rtX", 1)
    with pytest.raises(UnknownSection, match="Unknown savevm section or instance "
                                             "'mc146818rtX' 0"):
        read_stream(bad)


def test_ram_records() -> None:
    page = bytes(range(256)) * 16
    raw = (bytes.fromhex("0000000000003004") + b"\x03abc" + (0x3000).to_bytes(8, "big")
           + bytes.fromhex("0000000000000008") + b"\x03abc" + page
           + bytes.fromhex("0000000000001028") + page
           + bytes.fromhex("0000000000002022") + b"\x07"
           + bytes.fromhex("0000000000000010"))
    recs = read_ram(Source(raw), 4096)
    assert [type(r).__name__ for r in recs] == ["MemSize", "PageRun", "ZeroRun", "Eos"]
    assert recs[1].count == 2 and recs[2].fill == 7  # type: ignore[union-attr]
    out = bytearray()
    write_ram(recs, out.extend)
    assert bytes(out) == raw


@pytest.mark.parametrize("raw, words", [
    (bytes.fromhex("0000000000001004") + b"\x01a" + (0x2000).to_bytes(8, "big"), "exceeds"),
    (bytes.fromhex("0000000000000041"), "unsupported RAM record flags 0x41"),
    (bytes.fromhex("0000000000000030"), "unsupported RAM record flags 0x30"),
    (bytes.fromhex("0000000000000008") + b"\x01a" + b"\x00" * 10, "ram.page"),
])
def test_bad_ram_records(raw: bytes, words: str) -> None:
    with pytest.raises((StreamError, Truncated), match=words):
        read_ram(Source(raw), 4096)


@st.composite
def _ram_runs(draw: st.DrawFn) -> tuple[bytes, int, int | None]:
    """RAM records in runs whose lengths straddle the chunks the reader compares at once,
    each run set apart from the last by a new block, a gap, another kind or another fill:
    the bytes, how many runs they are, and maybe the offset of one record made unreadable
    (a flag no reader takes)."""
    ps, out, addr, last, starts = 512, bytearray(), 0, None, []
    runs = draw(st.integers(1, 4))
    for i in range(runs):
        kind = draw(st.sampled_from((ZERO, PAGE)))
        fill = draw(st.sampled_from((0, 7))) if kind == ZERO else -1
        n = draw(st.sampled_from((1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3)))
        apart = "block" if i == 0 else draw(st.sampled_from(
            ("block", "gap") if last == (kind, fill) else ("block", "gap", "none")))
        addr += ps if apart == "gap" else 0
        for j in range(n):
            starts.append(len(out))
            if j == 0 and apart == "block":
                out += (addr | kind).to_bytes(8, "big") + b"\x03abc"
            else:
                out += (addr | kind | CONTINUE).to_bytes(8, "big")
            out += bytes((fill,)) if kind == ZERO else bytes((j % 256,)) * ps
            addr += ps
        last = (kind, fill)
    bad = draw(st.none() | st.sampled_from(starts))
    if bad is not None:
        out[bad + 7] |= 0x40
    return bytes(out + bytes.fromhex("0000000000000010")), runs, bad


@settings(max_examples=80, deadline=None)
@given(_ram_runs())
def test_ram_runs_are_read_whole_across_chunks(case: tuple[bytes, int, int | None]) -> None:
    raw, runs, bad = case
    if bad is not None:  # never skipped over, however deep in a run
        with pytest.raises(StreamError, match=f"@{bad}: unsupported RAM record flags"):
            read_ram(Source(raw), 512)
        return
    recs = read_ram(Source(raw), 512)
    out = bytearray()
    write_ram(recs, out.extend, 512)
    assert bytes(out) == raw
    assert len(recs) - 1 == runs
