"""Wall time of the matrix: the built-in catalog, the real releases at scale, the nightly run.

Run: ``python -m pytest bench/test_matrix_bench.py --benchmark-only -s`` (about an hour on
2 cores; ``-k`` picks parts). Every line printed carries the load average: other work
sharing the cores shows there.

* ``test_builtin_matrix[jobs=1|2]``: every catalog device × version pair × 3 wires ×
  pairwise feature sets, the matrix's default examples per cell, real fuzz engine,
  1 then 2 worker processes. The speedup (jobs=1 time / jobs=2 time) is printed and
  kept in ``extra_info``; the target for jobs=2 is about 60 s on a 2-core machine.
* ``test_catalog_matrix[jobs=1|2]``: ``vmcompat matrix run --catalog qemu --jobs N`` as a
  whole process: every section of every machine type both shipped releases hold, 4 release
  pairs each, legacy wire; cells per second with 1 and 2 jobs.
* ``test_growth_with_machines[machines=1|2|4]``: the same on the first 1, 2, 4 machine types
  (``qemu:7.2/M qemu:10.0/M`` DESC arguments), 2 jobs: the time ratio against one machine
  type beside the cell ratio (sections × machine types × release pairs).
* ``test_sharded_matrix``: two machine types as two shards of 1 job (one after the other)
  + ``matrix merge`` against the unsharded run: what each CI job of a 2-job matrix takes,
  and whether the merged cells equal the unsharded ones (a test checks that too:
  ``tests/matrix/test_matrix_cli.py::test_merged_shards_equal_unsharded_*``).
* ``test_nightly_sample``: every N-th cell of the nightly run (``--catalog builtin --profile
  nightly --features all --max-examples 200``), 2 jobs: seconds per cell and the whole run
  extrapolated to one 2-core job (divide by the shard count for a CI job matrix).
* ``test_growth_with_versions[N]``: a synthetic device with N = 2, 4, 8 versions (each
  adds a field), legacy wire; the time ratio against N=2 (measured in the same run)
  and the cell ratio (N²/4) are printed: growth should follow the cell count.
"""

from __future__ import annotations

import json
import os
import re
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
from vmcompat.qemu.bundle import PAIR, shared_machines
from vmcompat.report import Report

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


def _cells(*args: str) -> int:
    """The cell count ``matrix run --dry-run`` prints for these arguments."""
    r = subprocess.run([sys.executable, "-m", "vmcompat", "matrix", "run", *args, "--dry-run"],
                       cwd=ROOT, capture_output=True, text=True, check=True)
    return int(re.search(r"(\d+) cells", r.stdout + r.stderr).group(1))


def _machine_args(k: int) -> list[str]:
    """DESC arguments for the first ``k`` machine types both shipped releases hold."""
    return [f"qemu:{r}/{m}" for m in shared_machines()[:k] for r in PAIR]


@pytest.mark.parametrize("jobs", [1, 2], ids=lambda j: f"jobs={j}")
def test_catalog_matrix(benchmark, jobs, tmp_path):
    """``matrix run --catalog qemu``: every shipped machine type, cells per second."""
    out = tmp_path / "all"
    secs = benchmark.pedantic(_cli, args=("matrix", "run", "--catalog", "qemu", "--jobs",
                                          str(jobs), "--out", str(out)), rounds=1, iterations=1)
    cells = len(json.loads((out / "report.json").read_text())["cells"])
    loadavg = os.getloadavg()
    benchmark.extra_info.update(cells=cells, seconds=round(secs, 1), jobs=jobs,
                                machines=len(shared_machines()),
                                cells_per_s=round(cells / secs, 2), loadavg=loadavg)
    print(f"\nmatrix --catalog qemu: {cells} cells ({len(shared_machines())} machine types), "
          f"jobs={jobs}: {secs:.1f} s wall, {cells / secs:.2f} cells/s "
          f"(load average {loadavg[0]:.1f} {loadavg[1]:.1f} {loadavg[2]:.1f})")


@pytest.mark.parametrize("k", [1, 2, 4], ids=lambda k: f"machines={k}")
def test_growth_with_machines(benchmark, k, tmp_path):
    """Wall time against machine types (sections × machine types × release pairs), 2 jobs."""
    args = _machine_args(k)
    cells = _cells(*args)
    secs = benchmark.pedantic(_cli, args=("matrix", "run", *args, "--jobs", "2", "--out",
                                          str(tmp_path / "m")), rounds=1, iterations=1)
    _times[f"machines-{k}"], _times[f"machines-{k}-cells"] = secs, cells
    loadavg = os.getloadavg()
    benchmark.extra_info.update(machines=k, cells=cells, seconds=round(secs, 1),
                                seconds_per_cell=round(secs / cells, 4), loadavg=loadavg)
    line = (f"\n{k} machine type(s): {cells} cells, {secs:.1f} s wall ({secs / cells:.3f} s/cell, "
            f"load average {loadavg[0]:.1f})")
    if "machines-1" in _times and k > 1:
        ratio, cell_ratio = secs / _times["machines-1"], cells / _times["machines-1-cells"]
        benchmark.extra_info.update(time_ratio_vs_1=round(ratio, 2),
                                    cell_ratio_vs_1=round(cell_ratio, 2))
        line += f" (time ×{ratio:.2f}, cells ×{cell_ratio:.2f} vs 1 machine type)"
    print(line)


def test_sharded_matrix(benchmark, tmp_path):
    """Two machine types as 2 shards of 1 job (one after the other) + ``matrix merge``,
    against the unsharded run with 2 jobs: what each CI job of a 2-job matrix takes."""
    args = _machine_args(2)
    whole = _cli("matrix", "run", *args, "--jobs", "2", "--out", str(tmp_path / "all"))
    shards = benchmark.pedantic(lambda: [_cli("matrix", "run", *args, "--jobs", "1", "--shard",
                                              f"{i}/2", "--out", str(tmp_path / f"s{i}"))
                                         for i in (1, 2)], rounds=1, iterations=1)
    merge = _cli("matrix", "merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out",
                 str(tmp_path / "m"))

    def comparable(d: str) -> dict:
        return Report.load(str(tmp_path / d / "report.json")).comparable()

    same = comparable("m") == comparable("all")
    loadavg = os.getloadavg()
    benchmark.extra_info.update(whole_s=round(whole, 1), shard_s=[round(s, 1) for s in shards],
                                merge_s=round(merge, 2), merged_equals_whole=same,
                                loadavg=loadavg)
    print(f"\n2 machine types: unsharded (2 jobs) {whole:.1f} s; 2 shards of 1 job: "
          f"{shards[0]:.1f} s + {shards[1]:.1f} s, merge {merge:.1f} s; merged report equals the "
          f"unsharded one (but for durations): {same} (load average {loadavg[0]:.1f})")


#: the nightly run's arguments (tox ``wire-nightly``, nox ``nightly``, the README's CI example)
NIGHTLY = ("--catalog", "builtin", "--profile", "nightly", "--features", "all",
           "--max-examples", "200")


def test_nightly_sample(benchmark, tmp_path, monkeypatch):
    """A sample of the nightly run (every N-th cell: ``--shard 1/N``, 2 jobs, a fresh
    example database): seconds per cell, and the whole run extrapolated to 2 cores.

    N is ``$VMCOMPAT_BENCH_NIGHTLY_SAMPLE`` (default 61, prime: a stride that divides by 4
    would sample only one of the 4 cells of each release-pair section)."""
    n = int(os.environ.get("VMCOMPAT_BENCH_NIGHTLY_SAMPLE", "61"))
    monkeypatch.setenv("VMCOMPAT_DB_DIR", str(tmp_path / "db"))
    monkeypatch.delenv("VMCOMPAT_REDIS_URL", raising=False)
    total = _cells(*NIGHTLY)
    out = tmp_path / "sample"
    secs = benchmark.pedantic(_cli, args=("matrix", "run", *NIGHTLY, "--jobs", "2", "--shard",
                                          f"1/{n}", "--out", str(out)), rounds=1, iterations=1)
    cells = json.loads((out / "report.json").read_text())["cells"]
    per_cell = secs / len(cells)
    whole_h = per_cell * total / 3600
    loadavg = os.getloadavg()
    benchmark.extra_info.update(sample_cells=len(cells), total_cells=total,
                                seconds=round(secs, 1), seconds_per_cell=round(per_cell, 2),
                                extrapolated_hours=round(whole_h, 2), loadavg=loadavg)
    print(f"\nnightly sample (shard 1/{n}): {len(cells)} of {total} cells in {secs:.1f} s "
          f"with 2 jobs, {per_cell:.2f} s/cell; whole run extrapolated: {whole_h:.2f} h on 2 "
          f"cores (load average {loadavg[0]:.1f} {loadavg[1]:.1f} {loadavg[2]:.1f})")


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
