"""The matrix's chains (``vmcompat matrix --chains``): the chain machine over every history.

One chain run per device (its versions without optional features, every wire
of the run), seeded from the run's seed and the device name, so a device's
chain does not depend on sharding or workers; with ``--shard I/N`` a shard
runs the chains of every N-th device (sorted by name), so merged shards hold
each device's chain once. The result per device is its worst chain and the
shortest witness (:class:`vmcompat.compat.chain.ChainResult` JSON).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from vmcompat.compat.chain import ChainSpec
from vmcompat.compat.chain_machine import run_chain
from vmcompat.matrix._cells import shard as take_shard
from vmcompat.matrix._run import stable_seed
from vmcompat.model import DeviceHistory

#: fewest chains per device: the matrix's default of 10 examples per cell finds the
#: catalog's planted gap (wdt-gap) in 19 seeds of 20, 20 examples in every one tried
MIN_CHAIN_EXAMPLES = 20


# a run's specs, inherited by forked workers (descriptions hold compiled plans, which do not
# pickle; forking shares them instead)
_JOB: dict[str, Any] = {}


def _one(name: str) -> dict[str, Any]:
    j = _JOB
    run = run_chain(j["specs"][name], max_examples=j["max_examples"],
                    seed=stable_seed(j["seed"], name, "chain"), settings=j["settings"])
    return run.result.to_json()


def run_chains(histories: Mapping[str, DeviceHistory], wires: list[str], *, max_examples: int,
               seed: int = 0, settings: Any = None, jobs: int = 1,
               shard: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """Each device's worst chain (JSON), in device order."""
    names = sorted(histories)
    if shard is not None:
        names = take_shard(names, *shard)
    _JOB.update(specs={n: ChainSpec.of_history(histories[n], wires) for n in names},
                max_examples=max(max_examples, MIN_CHAIN_EXAMPLES), seed=seed,
                settings=settings)
    try:
        if jobs <= 1 or len(names) <= 1:
            return [_one(n) for n in names]
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            return list(pool.map(_one, names))
    finally:
        _JOB.clear()
