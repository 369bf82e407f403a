"""The chain machine's cost per step against a one-hop ``run_cell``, measured in the same run.

For each device: ``run_chain`` over all its versions (legacy wire, no example
fails, so nothing shrinks) counts its hops and guest changes; ``run_cell``
from the oldest to the newest version (legacy wire, same number of examples)
is the baseline. Ratio = (chain seconds per hop) / (run_cell seconds per
example): what one hop of a chain costs — the hop itself, its direct-hop
references, completing the loaded state, the machine's own steps — in units
of one fuzzed example of a cell. Both alternate for 3 rounds; medians.

Run: ``python -m pytest bench/test_chain_bench.py --benchmark-only -s``.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from vmcompat.catalog import history
from vmcompat.compat import chain as chain_module
from vmcompat.compat.chain import ChainSpec
from vmcompat.compat.chain_machine import run_chain
from vmcompat.compat.verdict import Cell
from vmcompat.matrix.engine import run_cell

EXAMPLES = 50
SEED = 12345
DEVICES = ("mc146818rtc", "ps2kbd", "serial", "hpet")


class _Counted:
    """Counts ChainRun hops and guest changes (the machine's steps that do work)."""

    def __init__(self) -> None:
        self.hops = self.writes = 0

    def __enter__(self) -> _Counted:
        run = chain_module.ChainRun
        self.saved = run.hop, run.write
        hop, write = self.saved

        def counted_hop(me: Any, to: int, wire: str) -> Any:
            self.hops += 1
            return hop(me, to, wire)

        def counted_write(me: Any, name: str, value: Any) -> None:
            self.writes += 1
            write(me, name, value)

        run.hop, run.write = counted_hop, counted_write  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        chain_module.ChainRun.hop, chain_module.ChainRun.write = self.saved  # type: ignore


def _chain(name: str) -> tuple[float, int, int]:
    spec = ChainSpec.of_history(history(name))
    with _Counted() as c:
        t = time.perf_counter()
        r = run_chain(spec, max_examples=EXAMPLES, seed=SEED).result
        secs = time.perf_counter() - t
    assert not r.verdict.bad, r
    return secs, c.hops, c.writes


def _cell(name: str) -> tuple[float, int]:
    h = history(name)
    t = time.perf_counter()
    r = run_cell(h.versions[0], h.latest, Cell(name, "old", "new"), max_examples=EXAMPLES,
                 seed=SEED)
    return time.perf_counter() - t, r.examples


@pytest.mark.parametrize("device", DEVICES)
def test_bench_chain_step_vs_run_cell(benchmark: Any, device: str) -> None:
    per_hop: list[float] = []
    per_example: list[float] = []
    steps: list[tuple[int, int]] = []
    for _ in range(3):
        secs, hops, writes = _chain(device)
        per_hop.append(secs / hops)
        steps.append((hops, writes))
        secs, examples = _cell(device)
        per_example.append(secs / examples)
    hop, example = statistics.median(per_hop), statistics.median(per_example)
    ratio = hop / example
    benchmark.extra_info.update(ratio_chain_hop_over_cell_example=ratio,
                                chain_hop_ms=hop * 1000, cell_example_ms=example * 1000,
                                hops=steps[0][0], guest_writes=steps[0][1], examples=EXAMPLES)
    benchmark.pedantic(_chain, args=(device,), rounds=1, iterations=1)
    print(f"\n{device}: a chain hop {hop * 1000:.2f} ms ({steps[0][0]} hops, {steps[0][1]} "
          f"guest changes in {EXAMPLES} chains) vs a run_cell example {example * 1000:.2f} ms: "
          f"ratio {ratio:.2f}")
