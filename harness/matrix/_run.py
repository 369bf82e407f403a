"""Running cells: one call of the fuzz engine per cell, optionally in worker processes.

Every cell gets its own seed, derived from the run's seed and the cell's key,
so a cell's result does not depend on sharding, order or the number of
workers: a merged sharded run equals the unsharded run.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol

from vmcompat.compat.verdict import Cell, CellResult, Verdict
from vmcompat.errors import InputError, VmcompatError
from vmcompat.filters import chain
from vmcompat.model import DeviceHistory
from vmcompat.values import replace
from vmcompat.words import plural

#: examples per cell by default: the built-in catalog (3 wires) runs in about a minute on 2 cores
DEFAULT_MAX_EXAMPLES = 10
#: most cells handed to a worker at once (one device per chunk keeps its caches warm)
CHUNK = 6


class Runner(Protocol):
    """The fuzz engine's ``run_cell`` (:mod:`vmcompat.matrix.engine`)."""

    def __call__(self, src: Any, dst: Any, cell: Cell, *, max_examples: int = ...,
                 seed: int | None = ..., settings: Any = ..., transform: Any = ...,
                 prior: Any = ...) -> CellResult: ...


Done = Callable[[Sequence[tuple[CellResult, float]]], None]


def default_runner() -> Runner:
    from vmcompat.matrix.engine import run_cell

    return run_cell


def stable_seed(*key: Any) -> int:
    """A stable 32-bit seed for a key (its repr, hashed)."""
    return int.from_bytes(hashlib.sha256(repr(key).encode()).digest()[:4], "big")


def cell_seed(seed: int, cell: Cell) -> int:
    """A stable 32-bit seed per (run seed, cell)."""
    return stable_seed(seed, cell.device, cell.source, cell.destination, cell.wire,
                       cell.features)


def run_one(histories: Mapping[str, DeviceHistory], cell: Cell, runner: Runner, *,
            max_examples: int, seed: int, settings: Any = None) -> tuple[CellResult, float]:
    """Run one cell; an exception of the engine itself is a ``crash`` verdict, not ours."""
    h = histories[cell.device]
    src = h.version(cell.source, cell.features)
    dst = h.version(cell.destination, cell.features)
    t0 = time.perf_counter()
    try:
        res = runner(src, dst, cell, max_examples=max_examples, seed=cell_seed(seed, cell),
                     settings=settings, transform=chain(src, dst))
    except (InputError, KeyboardInterrupt):
        raise
    except Exception as e:
        res = CellResult(cell, Verdict.CRASH, 0,
                         reason=f"engine error: {type(e).__name__}: {e}")
    if res.cell != cell:
        res = replace(res, cell=cell)
    return res, time.perf_counter() - t0


# state of a run, inherited by forked workers (descriptions hold compiled plans,
# which do not pickle; forking shares them instead)
_JOB: dict[str, Any] = {}


def _work(indices: list[int]) -> list[tuple[int, CellResult, float]]:
    j = _JOB
    out = []
    for i in indices:
        res, dt = run_one(j["histories"], j["cells"][i], j["runner"],
                          max_examples=j["max_examples"], seed=j["seed"], settings=j["settings"])
        out.append((i, res, dt))
    return out


def _chunks(cells: Sequence[Cell]) -> list[list[int]]:
    out: list[list[int]] = []
    for i, c in enumerate(cells):
        if out and len(out[-1]) < CHUNK and cells[out[-1][0]].device == c.device:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def run_cells(histories: Mapping[str, DeviceHistory], cells: Sequence[Cell], runner: Runner,
              *, max_examples: int = DEFAULT_MAX_EXAMPLES, seed: int = 0, settings: Any = None,
              jobs: int = 1, on_done: Done | None = None) -> list[tuple[CellResult, float]]:
    """Results (with seconds taken) in the order of ``cells``."""
    if max_examples < 1:
        raise InputError("--max-examples must be >= 1")
    results: list[tuple[CellResult, float] | None] = [None] * len(cells)
    chunks = _chunks(cells)
    _JOB.update(histories=histories, cells=list(cells), runner=runner,
                max_examples=max_examples, seed=seed, settings=settings)
    try:
        if jobs <= 1 or len(chunks) <= 1:
            for chunk in chunks:
                done = _work(chunk)
                for i, res, dt in done:
                    results[i] = (res, dt)
                if on_done:
                    on_done([(r, d) for _, r, d in done])
        else:
            ctx = multiprocessing.get_context("fork")
            # never more workers than chunks: a huge -j must not fork that many processes
            with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), mp_context=ctx) as pool:
                futures = [pool.submit(_work, chunk) for chunk in chunks]
                for fut in as_completed(futures):
                    done = fut.result()
                    for i, res, dt in done:
                        results[i] = (res, dt)
                    if on_done:
                        on_done([(r, d) for _, r, d in done])
    finally:
        _JOB.clear()
    missing = [cells[i] for i, r in enumerate(results) if r is None]
    if missing:  # pragma: no cover - a worker died
        raise VmcompatError(f"{plural(len(missing), 'cell')} produced no result")
    return [r for r in results if r is not None]
