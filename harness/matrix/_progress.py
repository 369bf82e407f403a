"""Progress of a matrix run: a rich bar on a terminal, plain lines in CI or in a pipe."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from harness.compat.verdict import CellResult


def interactive(stream: TextIO | None = None) -> bool:
    """A terminal and not CI (``$CI`` set means plain lines)."""
    stream = stream or sys.stderr
    return not os.environ.get("CI") and hasattr(stream, "isatty") and stream.isatty()


class PlainProgress:
    """One line per finished chunk of cells (one device each): ``[ 12/324] rtc: …``."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def advance(self, batch: Sequence[tuple[CellResult, float]]) -> None:
        self.done += len(batch)
        counts = Counter(r.verdict.value for r, _ in batch)
        device = batch[0][0].cell.device if batch else "?"
        width = len(str(self.total))
        text = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
        print(f"[{self.done:>{width}}/{self.total}] {device}: {text}", file=self.stream,
              flush=True)


class RichProgress:
    """A rich progress bar with the running verdict counts."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
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
        self.task = self.progress.add_task("", total=total)

    def __enter__(self) -> RichProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def advance(self, batch: Sequence[tuple[CellResult, float]]) -> None:
        self.counts.update(r.verdict.value for r, _ in batch)
        desc = " ".join(f"{v}={n}" for v, n in sorted(self.counts.items()))
        self.progress.update(self.task, advance=len(batch), description=desc)


def progress_for(total: int, stream: TextIO | None = None) -> PlainProgress | RichProgress:
    return RichProgress(total, stream) if interactive(stream) else PlainProgress(total, stream)
