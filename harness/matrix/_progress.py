"""Progress of a matrix run: a rich bar on a terminal, plain lines in CI or in a pipe."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from vmcompat.compat.verdict import Cell, CellResult


def interactive(stream: TextIO | None = None) -> bool:
    """A terminal and not CI (``$CI`` set means plain lines)."""
    stream = stream or sys.stderr
    return not os.environ.get("CI") and hasattr(stream, "isatty") and stream.isatty()


def _group(cell: Cell) -> tuple[str, str]:
    return cell.device, cell.wire


class PlainProgress:
    """One line per device and wire, when its last cell is done:
    ``[ 12/324] rtc [legacy]: 7 compatible, 2 refused`` (never a line mixing wires)."""

    def __init__(self, cells: Sequence[Cell], stream: TextIO | None = None) -> None:
        self.total, self.done = len(cells), 0
        self.left: Counter[tuple[str, str]] = Counter(_group(c) for c in cells)
        self.counts: dict[tuple[str, str], Counter[str]] = {}
        self.stream = stream or sys.stderr

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def advance(self, batch: Sequence[tuple[CellResult, float]]) -> None:
        self.done += len(batch)
        finished = []
        for r, _ in batch:
            g = _group(r.cell)
            self.counts.setdefault(g, Counter())[r.verdict.value] += 1
            self.left[g] -= 1
            if self.left[g] == 0:
                finished.append(g)
        width = len(str(self.total))
        for g in finished:
            text = ", ".join(f"{n} {v}" for v, n in sorted(self.counts.pop(g).items()))
            print(f"[{self.done:>{width}}/{self.total}] {g[0]} [{g[1]}]: {text}",
                  file=self.stream, flush=True)


class RichProgress:
    """A rich progress bar with the running verdict counts."""

    def __init__(self, cells: Sequence[Cell], stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.counts: Counter[str] = Counter()
        self.progress = Progress(TextColumn("matrix"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("{task.description}"),
                                 console=Console(file=stream or sys.stderr), transient=True)
        self.task = self.progress.add_task("", total=len(cells))

    def __enter__(self) -> RichProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def advance(self, batch: Sequence[tuple[CellResult, float]]) -> None:
        self.counts.update(r.verdict.value for r, _ in batch)
        desc = " ".join(f"{v}={n}" for v, n in sorted(self.counts.items()))
        self.progress.update(self.task, advance=len(batch), description=desc)


def progress_for(cells: Sequence[Cell], stream: TextIO | None = None
                 ) -> PlainProgress | RichProgress:
    """The progress display of a run of ``cells``."""
    return RichProgress(cells, stream) if interactive(stream) else PlainProgress(cells, stream)
