"""Real-QEMU fuzz speed, measured against a bare QEMU load in the same run.

1. Examples per second of ``vmcompat qemu fuzz`` on one section (draw -> write into the
   capture -> the destination loads paused and saves -> decode -> oracle -> compare)
   against a bare load-then-save of the unmodified capture by the same QEMU (the floor:
   one destination start per example). Ratio = bare time per load / fuzz time per
   example (1.0: fuzzing costs nothing beyond QEMU's own load and save).
2. ``--jobs 2`` against ``--jobs 1`` on the same sections (speed-up; 2 cores).

Skipped with a reason without QEMU 7.2. Run:
``python -m pytest bench/test_qemu_fuzz_bench.py --benchmark-only -s``.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from vmcompat.qemu import available, resolve
from vmcompat.qemu.fuzz._fuzz import direction, section_key
from vmcompat.qemu.fuzz._run import fuzz_target, run_targets

pytestmark = pytest.mark.skipif(not available("7.2"), reason="QEMU 7.2 is not installed "
                                "(apt-get install qemu-system-x86)")

MACHINE = "pc-i440fx-7.2"
EXAMPLES = 12
SECTIONS = ("mc146818rtc", "i8254", "ps2mouse", "dma")


def _bare(d: Any, n: int) -> float:
    """Seconds per load-then-save of the unmodified capture."""
    t = time.perf_counter()
    for _ in range(n):
        assert d.destination.load(d.source.data).stream is not None
    return (time.perf_counter() - t) / n


def _fuzz(d: Any, section: str, seed: int) -> tuple[float, int]:
    """Seconds per example of one section (no shrinking), and the examples run."""
    target = d.target(section_key(d, section))
    t = time.perf_counter()
    r = fuzz_target(target, max_examples=EXAMPLES, seed=seed, max_shrinks=0)
    return (time.perf_counter() - t) / r.examples, r.examples


@pytest.mark.parametrize("section", SECTIONS[:2])
def test_bench_examples_per_second(benchmark: Any, section: str) -> None:
    """Bare loads and fuzz rounds alternate (3 rounds) so drift hits both alike."""
    q = resolve("7.2")
    d = direction(q, q, MACHINE)
    bare_t: list[float] = []
    fuzz_t: list[float] = []
    for i in range(3):
        bare_t.append(_bare(d, EXAMPLES))
        fuzz_t.append(_fuzz(d, section, seed=i)[0])
    bare, fuzz = statistics.median(bare_t), statistics.median(fuzz_t)
    ratio = bare / fuzz
    benchmark.extra_info.update(ratio_bare_over_fuzz=ratio, examples_per_s=1 / fuzz,
                                bare_loads_per_s=1 / bare)
    benchmark.pedantic(_fuzz, args=(d, section, 99), rounds=1, iterations=1)
    print(f"\n{section}: {1 / fuzz:.2f} examples/s vs {1 / bare:.2f} bare loads/s: "
          f"ratio {ratio:.2f}")


def test_bench_jobs(benchmark: Any) -> None:
    """Four sections with one worker, then with two."""
    q = resolve("7.2")
    d = direction(q, q, MACHINE)
    tasks = [(0, section_key(d, s)) for s in SECTIONS]
    times = {}
    for jobs in (1, 2):
        t = time.perf_counter()
        results = run_targets([d], tasks, max_examples=EXAMPLES, seed=1, max_shrinks=0,
                              jobs=jobs, db=lambda: None)
        times[jobs] = time.perf_counter() - t
        examples = sum(r.examples for r in results)
    speedup = times[1] / times[2]
    benchmark.extra_info.update(jobs1_examples_per_s=examples / times[1],
                                jobs2_examples_per_s=examples / times[2], speedup=speedup)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    print(f"\n{len(SECTIONS)} sections × {EXAMPLES} examples: --jobs 1 "
          f"{examples / times[1]:.2f} examples/s, --jobs 2 {examples / times[2]:.2f} "
          f"examples/s: speed-up {speedup:.2f}")
