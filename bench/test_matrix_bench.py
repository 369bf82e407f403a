"""Wall time of the matrix: the full built-in catalog on 2 cores, and growth with versions.

Run: ``python -m pytest bench/test_matrix_bench.py --benchmark-only -s``.

* ``test_builtin_matrix[jobs=1|2]``: every catalog device × version pair × 3 wires ×
  pairwise feature sets, the matrix's default examples per cell, real fuzz engine,
  1 then 2 worker processes. The speedup (jobs=1 time / jobs=2 time) is printed and
  kept in ``extra_info``; the target for jobs=2 is about 60 s on a 2-core machine.
* ``test_catalog_matrix[qemu|builtin-jobs=1|2]``: ``vmcompat matrix run --catalog C --jobs N``
  as a whole process (the real release descriptions with ``qemu``): cells per second with 1
  and 2 jobs, and the same run as two shards (``--shard 1/2``, ``2/2``, one after the other)
  merged with ``matrix merge``: the wall time each CI job of a 2-job matrix would take.
  That the merged report equals the unsharded one is a test
  (``tests/matrix/test_matrix_cli.py::test_merged_shards_equal_unsharded_*``).
* ``test_growth_with_versions[N]``: a synthetic device with N = 2, 4, 8 versions (each
  adds a field), legacy wire; the time ratio against N=2 (measured in the same run)
  and the cell ratio (N²/4) are printed: growth should follow the cell count.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vmcompat.catalog import load
from vmcompat.dsl import device, uint8, uint16, uint32
from vmcompat.formats import FORMATS
from vmcompat.matrix import DEFAULT_MAX_EXAMPLES, build_cells, default_runner, run_cells
from vmcompat.model import DeviceHistory

_times: dict[str, float] = {}


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (the worker processes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _run(histories, wires, jobs: int) -> tuple[int, float, float]:
    """(cells, wall seconds, CPU seconds): CPU / 2 is the wall time on 2 idle cores."""
    cells = build_cells(histories, wires, "pairwise")
    t0, c0 = time.perf_counter(), _cpu()
    run_cells(histories, cells, default_runner(), max_examples=DEFAULT_MAX_EXAMPLES, seed=0,
              jobs=jobs)
    return len(cells), time.perf_counter() - t0, _cpu() - c0


@pytest.mark.parametrize("jobs", [1, 2], ids=lambda j: f"jobs={j}")
def test_builtin_matrix(benchmark, jobs):
    hs = load()
    wires = sorted(FORMATS)
    n, secs, cpu = benchmark.pedantic(_run, args=(hs, wires, jobs), rounds=1, iterations=1)
    _times[f"builtin-{jobs}"] = secs
    loadavg = os.getloadavg()[0]
    benchmark.extra_info.update(cells=n, seconds=round(secs, 2), cpu_seconds=round(cpu, 2),
                                jobs=jobs, max_examples=DEFAULT_MAX_EXAMPLES, wires=wires,
                                loadavg_1min=loadavg)
    line = (f"\nbuiltin matrix: {n} cells, {len(hs)} devices, jobs={jobs}: {secs:.1f} s wall, "
            f"{cpu:.1f} s CPU (load average {loadavg:.1f})")
    if "builtin-1" in _times and jobs == 2:
        speedup = _times["builtin-1"] / secs
        benchmark.extra_info["speedup_vs_jobs1"] = round(speedup, 2)
        line += f" (speedup vs 1 job: {speedup:.2f}x)"
    print(line)


ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> float:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "vmcompat", *args], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode in (0, 1), r.stderr[-500:]  # 1: the matrix found something
    return time.perf_counter() - t


@pytest.mark.parametrize("jobs", [1, 2], ids=lambda j: f"jobs={j}")
@pytest.mark.parametrize("catalog", ["qemu", "builtin"])
def test_catalog_matrix(benchmark, catalog, jobs, tmp_path):
    out = tmp_path / "all"
    secs = benchmark.pedantic(_cli, args=("matrix", "run", "--catalog", catalog, "--jobs",
                                          str(jobs), "--out", str(out)), rounds=1, iterations=1)
    cells = len(json.loads((out / "report.json").read_text())["cells"])
    shards = [_cli("matrix", "run", "--catalog", catalog, "--jobs", "1", "--shard",
                   f"{i}/2", "--out", str(tmp_path / f"s{i}")) for i in (1, 2)]
    merge = _cli("matrix", "merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out",
                 str(tmp_path / "m"))
    loadavg = os.getloadavg()[0]
    benchmark.extra_info.update(cells=cells, seconds=round(secs, 1), jobs=jobs,
                                cells_per_s=round(cells / secs, 2), shard_s=shards,
                                merge_s=round(merge, 2), loadavg_1min=loadavg)
    print(f"\nmatrix --catalog {catalog}: {cells} cells, jobs={jobs}: {secs:.1f} s wall, "
          f"{cells / secs:.1f} cells/s; as 2 shards of 1 job: {shards[0]:.1f} s + "
          f"{shards[1]:.1f} s, merge {merge:.1f} s (load average {loadavg:.1f})")


def synthetic(n: int) -> DeviceHistory:
    """N versions of one device; version v adds field f<v>."""
    ctors = [uint8, uint16, uint32]
    versions = []
    for v in range(1, n + 1):
        fields = [uint32("base")] + [ctors[i % 3](f"f{i}", version=i) for i in range(2, v + 1)]
        versions.append(device("synthetic", v, *fields, minimum=1))
    return DeviceHistory("synthetic", tuple(versions))


@pytest.mark.parametrize("n", [2, 4, 8])
def test_growth_with_versions(benchmark, n):
    hs = {"synthetic": synthetic(n)}
    cells, secs, cpu = benchmark.pedantic(_run, args=(hs, ["legacy"], 2), rounds=1,
                                          iterations=1)
    _times[f"growth-{n}"] = secs
    benchmark.extra_info.update(versions=n, cells=cells, seconds=round(secs, 2),
                                cpu_seconds=round(cpu, 2), seconds_per_cell=secs / cells)
    line = (f"\n{n} versions: {cells} cells, {secs:.2f} s wall ({secs / cells:.3f} s/cell), "
            f"{cpu:.2f} s CPU ({cpu / cells:.3f} s/cell)")
    if "growth-2" in _times:
        ratio = secs / _times["growth-2"]
        benchmark.extra_info.update(time_ratio_vs_2=round(ratio, 2), cell_ratio_vs_2=cells / 4)
        line += f" (time ×{ratio:.2f}, cells ×{cells / 4:.0f} vs 2 versions)"
    print(line)
