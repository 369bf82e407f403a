"""A deterministic stand-in for the fuzz engine: verdicts from the version pair alone.

Compatible when source <= destination (upgrade or same), refused when newer
(downgrade), with ``examples`` = max_examples; ``VMCOMPAT_FAKE_CORRUPT=DEVICE``
makes every downgrade cell of DEVICE corrupt (with a counterexample).
"""

from __future__ import annotations

import os
from typing import Any

from vmcompat.compat.verdict import Cell, CellResult, Verdict


def run_cell(src: Any, dst: Any, cell: Cell, *, max_examples: int = 100,
             seed: int | None = None, settings: Any = None, transform: Any = None,
             prior: Any = None) -> CellResult:
    if src.version_id <= dst.version_id:
        return CellResult(cell, Verdict.COMPATIBLE, max_examples, seed=seed)
    if os.environ.get("VMCOMPAT_FAKE_CORRUPT") == cell.device:
        return CellResult(cell, Verdict.CORRUPT, 1, reason="value differs after load",
                          counterexample={"state": {"x": seed}})
    return CellResult(cell, Verdict.REFUSED, 1,
                      reason=f"incoming version_id {src.version_id} is too new for local "
                             f"version_id {dst.version_id}")
