"""Running cells: seeds per cell, parallel = serial, engine errors are crash verdicts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from vmcompat.compat.verdict import Cell, Verdict
from vmcompat.dsl import device, uint8
from vmcompat.matrix import build_cells, cell_seed, run_cells
from vmcompat.model import DeviceHistory

_spec = importlib.util.spec_from_file_location("fake_runner", Path(__file__).with_name(
    "fake_runner.py"))
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)

HS = {n: DeviceHistory(n, tuple(device(n, v, uint8("a")) for v in (1, 2, 3)))
      for n in ("a", "b", "c")}


def test_cell_seeds_are_stable_and_distinct():
    cells = build_cells(HS, ["legacy"], "none")
    seeds = [cell_seed(7, c) for c in cells]
    assert seeds == [cell_seed(7, c) for c in cells]
    assert len(set(seeds)) == len(seeds)
    assert cell_seed(8, cells[0]) != seeds[0]


def test_parallel_equals_serial():
    cells = build_cells(HS, ["legacy"], "none")
    one = run_cells(HS, cells, fake.run_cell, max_examples=3, seed=1, jobs=1)
    two = run_cells(HS, cells, fake.run_cell, max_examples=3, seed=1, jobs=2)
    assert [r for r, _ in one] == [r for r, _ in two]
    assert [r.cell for r, _ in one] == cells
    assert {r.verdict for r, _ in one} == {Verdict.COMPATIBLE, Verdict.REFUSED}


def test_engine_exception_is_a_crash_cell_and_progress_sees_every_cell():
    def broken(src, dst, cell, **kw):
        raise ZeroDivisionError("oops")

    seen = []
    cells = build_cells({"a": HS["a"]}, ["legacy"], "none")
    out = run_cells({"a": HS["a"]}, cells, broken, max_examples=1, on_done=seen.extend)
    assert {r.verdict for r, _ in out} == {Verdict.CRASH}
    assert "ZeroDivisionError: oops" in out[0][0].reason
    assert len(seen) == len(cells)


def test_result_cell_is_the_matrix_cell():
    def other(src, dst, cell, **kw):
        return fake.run_cell(src, dst, Cell("x", "9", "9"), **kw)

    cells = build_cells({"a": HS["a"]}, ["legacy"], "none")[:1]
    [(res, _)] = run_cells({"a": HS["a"]}, cells, other, max_examples=1)
    assert res.cell == cells[0]


def test_progress_plain_in_ci_rich_on_a_terminal(monkeypatch):
    import io

    from vmcompat.matrix import PlainProgress, RichProgress, progress_for

    class Tty(io.StringIO):
        def isatty(self):
            return True

    cells = build_cells({"a": HS["a"]}, ["legacy"], "none")
    monkeypatch.setenv("CI", "true")
    assert isinstance(progress_for(cells, Tty()), PlainProgress)
    monkeypatch.delenv("CI")
    assert isinstance(progress_for(cells, io.StringIO()), PlainProgress)
    assert isinstance(progress_for(cells, Tty()), RichProgress)
    out = io.StringIO()
    with PlainProgress(cells, out) as bar:
        run_cells({"a": HS["a"]}, cells, fake.run_cell, max_examples=1, on_done=bar.advance)
    assert out.getvalue().splitlines() == ["[9/9] a [legacy]: 6 compatible, 3 refused"]
    with RichProgress(cells, Tty()) as bar:
        run_cells({"a": HS["a"]}, cells, fake.run_cell, max_examples=1, on_done=bar.advance)
    assert bar.counts == {"compatible": 6, "refused": 3}


def test_plain_progress_is_one_line_per_device_and_wire():
    """Before, a chunk of six cells could straddle two wires: the same device printed
    several lines whose counts seemed to change."""
    import io

    from vmcompat.matrix import PlainProgress

    hs = {"a": HS["a"], "b": HS["b"]}
    cells = build_cells(hs, ["legacy", "json"], "none")
    for jobs in (1, 2):
        out = io.StringIO()
        with PlainProgress(cells, out) as bar:
            run_cells(hs, cells, fake.run_cell, max_examples=1, jobs=jobs, on_done=bar.advance)
        lines = out.getvalue().splitlines()
        assert sorted(x.split("] ", 1)[1] for x in lines) == [
            f"{d} [{w}]: 6 compatible, 3 refused" for d in "ab" for w in ("json", "legacy")]
        assert lines[-1].startswith("[36/36] ")
