"""Start-up and big streams against QEMU's ``scripts/analyze-migration.py`` (issue 15).

Run (one command, every figure)::

    VMCOMPAT_ANALYZE_MIGRATION=/path/to/analyze-migration.py \\
        python -m pytest bench/test_against_analyze_bench.py --benchmark-only -s

``analyze-migration.py`` is QEMU's (``scripts/`` in the QEMU tree), never part of this
repository; without ``VMCOMPAT_ANALYZE_MIGRATION`` the comparisons with it are skipped
(with that reason) and vmcompat's own figures are still measured. Every process runs
with the same interpreter, bytecode caches warm (a private ``PYTHONPYCACHEPREFIX``, one
warm-up run); times are medians of ``VMCOMPAT_BENCH_ROUNDS`` (default 5) runs that
alternate between the tools, so load drift hits both alike; peak RSS is each child's own
``ru_maxrss`` (``os.wait4`` in a small launcher: see :data:`LAUNCHER`).

* ``test_startup``: ``vmcompat --version`` and ``vmcompat stream decode`` of the real
  387 KB ``pc-i440fx-7.2`` stream, each over ``analyze-migration.py -f`` of the same
  stream (goal: ratio <= 1.0), with ``python -c pass`` for scale.
* ``test_big_decode``: the synthetic stream of :mod:`bigstream` (800 sections x 200
  scalars + 64 KiB; 59.5 MB, 6.5 MB vmdesc) at 1x, 2x and 4x the sections: decode time,
  peak RSS (goal: <= 150 MiB) and its slope in MiB per 100 sections (goal: about 0); at
  1x analyze-migration's time over vmcompat's (goal: >= 8).
* ``test_big_verify_encode``: ``stream verify`` and ``stream encode`` (of the decoded
  document) at the same sizes: time, peak RSS and slope.
"""

from __future__ import annotations

import filecmp
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from bigstream import build

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden" / "qemu-7.2" / "streams" / "pc-i440fx-7.2.bin"
ANALYZE = os.environ.get("VMCOMPAT_ANALYZE_MIGRATION")
ROUNDS = int(os.environ.get("VMCOMPAT_BENCH_ROUNDS", "5"))
SCALES = (1, 2, 4)
SECTIONS = 800
MiB = 1024 * 1024
_need_analyze = pytest.mark.skipif(
    not ANALYZE, reason="set VMCOMPAT_ANALYZE_MIGRATION to QEMU's scripts/analyze-migration.py "
    "to compare with it (it is never part of this repository)")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    e = dict(os.environ, PYTHONPYCACHEPREFIX=str(tmp_path_factory.mktemp("pyc")))
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    return e


#: runs ``argv`` and reports its wall time and peak RSS on its last stderr line. Linux
#: counts a parent's peak RSS at fork into a child's ``ru_maxrss`` (kept across exec), so
#: children forked by this (big) pytest process would all report at least its size: they
#: are forked by this small launcher instead, and timed by it (its start-up not counted)
LAUNCHER = """import os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
wall, cpu = time.perf_counter() - t, usage.ru_utime + usage.ru_stime
sys.stderr.write(f"\\n{wall} {usage.ru_maxrss * 1024} {cpu}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


class Took(NamedTuple):
    """What a child process took: wall seconds, peak RSS bytes, CPU seconds (user +
    system: other jobs on the machine move it less than the wall time)."""

    wall: float
    rss: int
    cpu: float


def run(argv: list[str], env: dict[str, str]) -> Took:
    """What one child process took; its output is discarded."""
    p = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], cwd=ROOT, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    err = p.stderr.decode()
    assert p.returncode == 0, f"{argv}: exit {p.returncode}: {err[-500:]}"
    wall, rss, cpu = err.rsplit("\n", 2)[-2].split()
    return Took(float(wall), int(rss), float(cpu))


def medians(cmds: dict[str, list[str]], env: dict[str, str], rounds: int = ROUNDS
            ) -> dict[str, Took]:
    """Median wall and CPU time and max peak RSS of each command, rounds alternating, one
    warm-up each."""
    for argv in cmds.values():
        run(argv, env)
    took: dict[str, list[Took]] = {k: [] for k in cmds}
    for _ in range(rounds):
        for k, argv in cmds.items():
            took[k].append(run(argv, env))
    return {k: Took(statistics.median(x.wall for x in v), max(x.rss for x in v),
                    statistics.median(x.cpu for x in v)) for k, v in took.items()}


def vmcompat(*args: str) -> list[str]:
    return [sys.executable, "-m", "vmcompat", *args]


def analyze(stream: Path) -> list[str]:
    assert ANALYZE is not None
    return [sys.executable, ANALYZE, "-f", str(stream)]


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


@_need_analyze
def test_startup(benchmark: Any, env: dict[str, str], tmp_path: Path) -> None:
    cmds = {"analyze": analyze(GOLDEN), "pass": [sys.executable, "-c", "pass"],
            "version": vmcompat("--version"),
            "decode": vmcompat("stream", "decode", str(GOLDEN), "-o", str(tmp_path / "d.json"))}
    m = medians(cmds, env)
    base = m["analyze"][0]
    info = {f"{k}_s": round(x.wall, 4) for k, x in m.items()}
    cpu = {k: x.cpu for k, x in m.items()}
    info.update(version_over_analyze=m["version"][0] / base,
                decode_over_analyze=m["decode"][0] / base, load=_load(),
                cpu_decode_over_analyze=cpu["decode"] / cpu["analyze"],
                cpu_version_over_analyze=cpu["version"] / cpu["analyze"])
    benchmark.extra_info.update(info)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    print(f"\nstart-up ({_load()}): analyze-migration {base:.3f} s, python -c pass "
          f"{m['pass'][0]:.3f} s; vmcompat --version {m['version'][0]:.3f} s "
          f"(ratio {info['version_over_analyze']:.2f}), stream decode {m['decode'][0]:.3f} s "
          f"(ratio {info['decode_over_analyze']:.2f}); goal <= 1.0. CPU time (user + system, "
          f"less moved by other jobs): analyze-migration {cpu['analyze']:.3f} s, --version "
          f"{info['cpu_version_over_analyze']:.2f}, stream decode "
          f"{info['cpu_decode_over_analyze']:.2f}")


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("big")
    out = {}
    for k in SCALES:
        out[k] = folder / f"big{k}x.bin"
        build(out[k], sections=SECTIONS * k)
    return out


def _slope(rss: dict[int, int]) -> float:
    """Least-squares MiB of peak RSS per 100 sections over the scales."""
    xs = [SECTIONS * k / 100 for k in rss]
    ys = [rss[k] / MiB for k in rss]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def _report(benchmark: Any, what: str, m: dict[int, Took], size: dict[int, int]) -> None:
    rss = {k: x.rss for k, x in m.items()}
    slope = _slope(rss)
    for k, (t, r, _) in m.items():
        benchmark.extra_info[f"{what}_{k}x"] = {"seconds": round(t, 3), "peak_rss_mib":
                                                round(r / MiB, 1), "mb": size[k] / 1e6}
    benchmark.extra_info[f"{what}_rss_slope_mib_per_100_sections"] = round(slope, 2)
    print(f"\n{what} ({_load()}): " + "; ".join(
        f"{k}x {size[k] / 1e6:.0f} MB: {t:.2f} s, {r / MiB:.0f} MiB" for k, (t, r, _) in m.items())
        + f"; peak RSS slope {slope:+.2f} MiB per 100 sections (goal <= 150 MiB, flat)")


def test_big_decode(benchmark: Any, env: dict[str, str], streams: dict[int, Path],
                    tmp_path: Path) -> None:
    m = {k: medians({"d": vmcompat("stream", "decode", str(p), "-o", str(tmp_path / "o.json"))},
                    env)["d"] for k, p in streams.items()}
    _report(benchmark, "decode", m, {k: p.stat().st_size for k, p in streams.items()})
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    if ANALYZE:
        rounds = int(os.environ.get("VMCOMPAT_BENCH_ANALYZE_ROUNDS", str(ROUNDS)))
        both = medians({"analyze": analyze(streams[1]),
                        "decode": vmcompat("stream", "decode", str(streams[1]), "-o",
                                           str(tmp_path / "o.json"))}, env, rounds)
        ratio = both["analyze"][0] / both["decode"][0]
        benchmark.extra_info.update(analyze_1x_s=both["analyze"][0],
                                    analyze_1x_rss_mib=both["analyze"][1] / MiB,
                                    analyze_over_decode_1x=ratio)
        print(f"1x: analyze-migration {both['analyze'][0]:.1f} s, "
              f"{both['analyze'][1] / MiB:.0f} MiB; vmcompat {both['decode'][0]:.2f} s, "
              f"{both['decode'][1] / MiB:.0f} MiB: {ratio:.1f}x faster (goal >= 8), "
              f"median of {rounds}")
    else:
        print("analyze-migration comparison skipped: VMCOMPAT_ANALYZE_MIGRATION is not set")


def test_big_verify_encode(benchmark: Any, env: dict[str, str], streams: dict[int, Path],
                           tmp_path: Path) -> None:
    size = {k: p.stat().st_size for k, p in streams.items()}
    verify = {k: medians({"v": vmcompat("stream", "verify", str(p))}, env)["v"]
              for k, p in streams.items()}
    encode = {}
    for k, p in streams.items():
        doc = tmp_path / f"d{k}.json"
        run(vmcompat("stream", "decode", str(p), "-o", str(doc)), env)
        encode[k] = medians({"e": vmcompat("stream", "encode", str(doc), "-o",
                                           str(tmp_path / "e.bin"))}, env)["e"]
        assert filecmp.cmp(tmp_path / "e.bin", p, shallow=False)
        doc.unlink()
    _report(benchmark, "verify", verify, size)
    _report(benchmark, "encode", encode, size)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
