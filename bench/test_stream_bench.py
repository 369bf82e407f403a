"""Whole-stream decode speed and memory, against a plain stdlib read of the same file.

Run: ``python -m pytest bench/test_stream_bench.py --benchmark-only -s``.

* ``test_cli_decode_whole_process[read|decode]``: ``vmcompat stream decode`` of the
  golden pc-i440fx-7.2 stream as a whole process, and ``python -c`` reading the same
  file with ``open().read()``; the ratio (decode / read) is printed and kept in
  ``extra_info``.
* ``test_synthetic_decode``: a synthetic stream of >= 50 MB (pages plus thousands of
  device sections) is decoded in-process (mmap + :func:`read_stream` +
  :func:`to_document` with the page sidecar) and as a whole process; MB/s, the
  Python heap peak (tracemalloc) and the process peak RSS (``ru_maxrss``) are
  printed and kept in ``extra_info``, beside the stdlib read baseline and the
  CLI's own start-up (``vmcompat --help``: time and peak RSS of its imports).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from vmcompat.atomic import atomic_output
from vmcompat.stream.document import to_document
from vmcompat.stream.layout import FULL, LAYOUT_2_4, PART, START
from vmcompat.stream.model import (
    Configuration,
    Eos,
    MemSize,
    PageRun,
    Pages,
    Section,
    Stream,
    Vmdesc,
    ZeroRun,
)
from vmcompat.stream.reader import read_stream
from vmcompat.stream.source import open_source
from vmcompat.stream.writer import write_stream

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden" / "qemu-7.2" / "streams" / "pc-i440fx-7.2.bin"
PAGE = 4096
DEVICES = 5000
PAGES = 13 * 1024  # 52 MiB of page data
_times: dict[str, float] = {}


def _run(*argv: str) -> float:
    t = time.perf_counter()
    subprocess.run(argv, check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - t


@pytest.mark.parametrize("what", ["read", "decode"])
def test_cli_decode_whole_process(benchmark: Any, what: str, tmp_path: Path) -> None:
    if what == "read":
        argv = (sys.executable, "-c", f"open({str(GOLDEN)!r}, 'rb').read()")
    else:
        argv = (sys.executable, "-m", "vmcompat", "stream", "decode", str(GOLDEN), "-o",
                str(tmp_path / "out.json"))
    benchmark.pedantic(_run, args=argv, rounds=5, iterations=1, warmup_rounds=1)
    _times[what] = benchmark.stats.stats.median
    benchmark.extra_info["median_s"] = _times[what]
    if "read" in _times and "decode" in _times:
        ratio = _times["decode"] / _times["read"]
        benchmark.extra_info["decode_over_read"] = ratio
        print(f"\nstream decode (whole process) / stdlib read: {ratio:.2f}x "
              f"({_times['decode']:.3f} s vs {_times['read']:.3f} s, "
              f"{GOLDEN.stat().st_size / 1e6:.2f} MB)")


@pytest.mark.parametrize("what", ["read", "decode"])
def test_golden_decode_in_process(benchmark: Any, what: str, tmp_path: Path) -> None:
    """The same comparison without interpreter start-up and imports."""
    def read() -> int:
        with open(GOLDEN, "rb") as fh:
            return len(fh.read())

    fn = read if what == "read" else lambda: _decode_in_process(GOLDEN, tmp_path / "g")
    benchmark.pedantic(fn, rounds=10, iterations=1, warmup_rounds=1)
    key = f"inproc-{what}"
    _times[key] = benchmark.stats.stats.median
    benchmark.extra_info["median_s"] = _times[key]
    if "inproc-read" in _times and "inproc-decode" in _times:
        ratio = _times["inproc-decode"] / _times["inproc-read"]
        benchmark.extra_info["decode_over_read"] = ratio
        print(f"\nstream decode (in process) / stdlib read: {ratio:.1f}x "
              f"({_times['inproc-decode'] * 1e3:.1f} ms vs {_times['inproc-read'] * 1e3:.2f} ms)")


# ----------------------------------------------------------------------------- synthetic stream
def _vmdesc() -> dict[str, Any]:
    fields = [{"name": "regs", "array_len": 64, "type": "uint32", "size": 4},
              {"name": "cmos", "type": "buffer", "size": 128},
              {"name": "flag", "type": "bool", "size": 1},
              {"name": "t", "type": "timer", "size": 8}]
    sub = {"vmsd_name": "synth/extra", "version": 1,
           "fields": [{"name": "x", "type": "uint64", "size": 8}]}
    return {"page_size": PAGE, "devices": [
        {"name": f"dev{i}", "instance_id": 0, "vmsd_name": "synth", "version": 1,
         "fields": fields, **({"subsections": [sub]} if i % 2 else {})}
        for i in range(DEVICES)]}


def build_synthetic(path: Path) -> int:
    """Write a >= 50 MB stream: RAM runs (pages and zero pages) then DEVICES sections."""
    rng = random.Random(1)
    blob = rng.randbytes(PAGES * PAGE)
    ram: list[Any] = []
    offset, done = 0, 0
    while done < PAGES:
        n = min(96, PAGES - done)
        ram.append(PageRun(offset, n, "pc.ram" if not ram else None,
                           Pages(blob, done * PAGE, PAGE, PAGE, n)))
        offset += n * PAGE
        done += n
        ram.append(ZeroRun(offset, 32, None))
        offset += 32 * PAGE
    ram.append(Eos())
    total = offset
    items: list[Any] = [
        Section(START, 2, "ram", 0, 4, ram=(MemSize(total, (("pc.ram", total),)), Eos())),
        Section(PART, 2, "ram", 0, 4, ram=tuple(ram)),
    ]
    for i in range(DEVICES):
        state: dict[str, Any] = {"regs": [rng.getrandbits(32) for _ in range(64)],
                                 "cmos": rng.randbytes(128), "flag": bool(i & 1), "t": -1}
        if i % 2:
            state["__subsections__"] = {"synth/extra": {"x": i}}
        items.append(Section(FULL, 3 + i, f"dev{i}", 0, 1, state=state))
    vmdesc = json.dumps(_vmdesc()).encode()
    stream = Stream(LAYOUT_2_4, Configuration("pc-i440fx-7.2"), tuple(items), True,
                    Vmdesc(vmdesc, json.loads(vmdesc)), b"", PAGE)
    with atomic_output(str(path)) as fh:
        write_stream(stream, fh.write)
    return path.stat().st_size


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "big.bin"
    size = build_synthetic(path)
    assert size >= 50 * 1000 * 1000
    return path


def _decode_in_process(path: Path, out: Path) -> int:
    with open_source(str(path)) as data:
        s = read_stream(data)
        with atomic_output(str(out) + ".pages.bin") as fh:
            doc = to_document(s, pages=fh.write, pages_file="big.pages.bin")
        n = len(doc["sections"])
        del s, doc
    return n


def test_synthetic_decode(benchmark: Any, synthetic: Path, tmp_path: Path) -> None:
    size = synthetic.stat().st_size
    t = time.perf_counter()
    with open(synthetic, "rb") as fh:
        fh.read()
    read_s = time.perf_counter() - t

    n = benchmark.pedantic(_decode_in_process, args=(synthetic, tmp_path / "o"), rounds=3,
                           iterations=1)
    assert n == DEVICES + 2
    decode_s = benchmark.stats.stats.median

    tracemalloc.start()
    _decode_in_process(synthetic, tmp_path / "o2")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    code = ("import resource, sys\nfrom vmcompat.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")
    def whole(*args: str) -> tuple[float, int]:
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                           text=True, check=True)
        return time.perf_counter() - t, int(r.stderr.strip().splitlines()[-1])

    startup_s, startup_kb = whole("--help")  # the CLI's imports alone: the baseline
    cli_s, rss_kb = whole("stream", "decode", str(synthetic), "-o", str(tmp_path / "cli.json"))
    info = {"stream_mb": size / 1e6, "devices": DEVICES, "pages": PAGES,
            "stdlib_read_s": read_s, "decode_s": decode_s,
            "decode_mb_per_s": size / 1e6 / decode_s, "read_mb_per_s": size / 1e6 / read_s,
            "decode_over_read": decode_s / read_s, "python_heap_peak_mb": peak / 1e6,
            "cli_whole_process_s": cli_s, "cli_peak_rss_mb": rss_kb / 1024,
            "cli_startup_s": startup_s, "cli_startup_rss_mb": startup_kb / 1024,
            "json_mb": os.path.getsize(tmp_path / "cli.json") / 1e6}
    benchmark.extra_info.update(info)
    print("\nsynthetic stream: " + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else
                                             f"{k}={v}" for k, v in info.items()))
