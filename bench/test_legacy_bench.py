"""Legacy codec vs raw ``struct.pack``/``unpack`` of the same values, same run.

Run: ``python -m pytest bench/test_legacy_bench.py --benchmark-only``.
The ratio (raw time / codec time; 1.0 = as fast as raw struct) is printed and
stored in the benchmark's ``extra_info``; the target is >= 0.5.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest

from vmcompat.dsl import device, int32, int64, uint8, uint16, uint32, uint64
from vmcompat.formats.legacy import decode, encode

CTORS = [uint8, uint16, uint32, uint64, int32, int64]
#: a scalar-dense device: 256 scalar fields of mixed widths plus two arrays
DENSE = device("dense", 1, *(CTORS[i % len(CTORS)](f"f{i}") for i in range(256)),
               uint32("regs", array=64), uint64("wide", array=32))
STATE: dict[str, Any] = {f"f{i}": i for i in range(256)}
STATE["regs"] = list(range(64))
STATE["wide"] = list(range(32))
FMT = struct.Struct(">" + "".join("BHIQiq"[i % 6] for i in range(256)) + "64I32Q")
VALUES = [STATE[f"f{i}"] for i in range(256)] + STATE["regs"] + STATE["wide"]
DATA = encode(DENSE, STATE)
_times: dict[str, float] = {}


def _roundtrip_codec() -> Any:
    return decode(DENSE, encode(DENSE, STATE), 1)


def _roundtrip_raw() -> Any:
    vals = FMT.unpack(FMT.pack(*VALUES))
    out = {f"f{i}": vals[i] for i in range(256)}
    out["regs"] = list(vals[256:320])
    out["wide"] = list(vals[320:352])
    return out


def test_same_bytes() -> None:
    assert DATA == FMT.pack(*VALUES)
    assert _roundtrip_codec() == _roundtrip_raw() == STATE


@pytest.mark.parametrize("which", ["raw_struct", "legacy_codec"])
def test_bench_roundtrip(benchmark: Any, which: str) -> None:
    fn = _roundtrip_raw if which == "raw_struct" else _roundtrip_codec
    benchmark(fn)
    _times[which] = benchmark.stats.stats.median
    if len(_times) == 2:
        ratio = _times["raw_struct"] / _times["legacy_codec"]
        benchmark.extra_info["ratio_raw_over_codec"] = ratio
        print(f"\nlegacy codec speed ratio (raw struct time / codec time): {ratio:.2f}"
              " (target >= 0.5)")
