"""Cells of the matrix: device × source version × destination version × wire × feature set.

Optional features are an axis; :func:`feature_sets` keeps it in check:
``none`` (no optional feature), ``pairwise`` (a covering array: every pair of
features appears in every on/off combination; the default), ``all`` (every
subset).

>>> feature_sets(("a", "b", "c"), "pairwise")
[(), ('a', 'b'), ('a', 'c'), ('b', 'c')]
>>> len(feature_sets(("a", "b", "c"), "all"))
8
>>> shard(list(range(7)), 2, 3)
[1, 4]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import combinations, product
from typing import Any, TypeVar

from vmcompat.compat.directions import BOTH, SAME, of_versions, runs
from vmcompat.compat.verdict import Cell
from vmcompat.errors import InputError
from vmcompat.model import DeviceHistory

T = TypeVar("T")


def _none(names: Sequence[str]) -> list[tuple[str, ...]]:
    return [()]


def _all(names: Sequence[str]) -> list[tuple[str, ...]]:
    return [tuple(n for n, on in zip(names, bits) if on)
            for bits in sorted(product((0, 1), repeat=len(names)), key=lambda b: (sum(b), b[::-1]))]


def _pairwise(names: Sequence[str]) -> list[tuple[str, ...]]:
    """A greedy strength-2 covering array over on/off, starting from "no feature"."""
    if len(names) < 2:
        return _all(names)
    k = len(names)
    todo = {(i, a, j, b) for i, j in combinations(range(k), 2) for a in (0, 1) for b in (0, 1)}
    rows: list[tuple[int, ...]] = []
    candidates = sorted(product((0, 1), repeat=k), key=lambda r: (sum(r), r[::-1]))

    def covers(r: tuple[int, ...]) -> set[tuple[int, int, int, int]]:
        return {(i, r[i], j, r[j]) for i, j in combinations(range(k), 2)} & todo

    row = candidates[0]
    while todo:
        rows.append(row)
        todo -= covers(row)
        if todo:
            row = max(candidates, key=lambda r: len(covers(r)))
    rows.sort(key=lambda r: (sum(r), r[::-1]))
    return [tuple(n for n, on in zip(names, r) if on) for r in rows]


#: ``--features`` modes
FEATURE_MODES: Mapping[str, Callable[[Sequence[str]], list[tuple[str, ...]]]] = {
    "none": _none, "pairwise": _pairwise, "all": _all}


def feature_sets(names: Sequence[str], mode: str = "pairwise") -> list[tuple[str, ...]]:
    if mode not in FEATURE_MODES:
        raise InputError(f"--features must be one of {', '.join(FEATURE_MODES)}, got {mode!r}")
    return FEATURE_MODES[mode](tuple(names))


def build_cells(histories: Mapping[str, DeviceHistory], wires: Iterable[str],
                features: str = "pairwise", direction: str = BOTH) -> list[Cell]:
    """Every cell, in the canonical order of :func:`cell_order`; ``direction`` keeps the
    upgrade or the downgrade cells (``both``: all), and the same-version ones always."""
    wires = list(wires)
    keep = (*runs(direction), SAME)
    out: list[Cell] = []
    for name in sorted(histories):
        h = histories[name]
        labels = h.labels
        # real releases speak QEMU's own wire only
        own = [w for w in wires if w == "legacy"] if h.releases else wires
        for feats in feature_sets([f.name for f in h.features], features):
            for w in own:
                for s, d in product(range(len(labels)), repeat=2):
                    if of_versions(s, d) in keep:
                        out.append(Cell(name, labels[s], labels[d], w, of_versions(s, d), feats))
    out.sort(key=lambda c: cell_order(c.to_json()))
    return out


def version_order(label: str) -> tuple[int, ...]:
    """Version ids and releases (``7.2`` < ``10.0``) in numeric order."""
    parts = label.split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (1 << 31,)


def cell_order(cell: Mapping[str, Any]) -> tuple[Any, ...]:
    """Sort key of a cell (JSON form): device, features, wire, source, destination."""
    feats = tuple(cell.get("features", ()))
    return (cell["device"], len(feats), feats, cell["wire"], version_order(str(cell["source"])),
            version_order(str(cell["destination"])))


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` (1-based) -> (I, N)."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise InputError(f"--shard must be I/N, e.g. 1/4, got {text!r}") from None
    if not 1 <= i <= n:
        raise InputError(f"--shard {text}: need 1 <= I <= N")
    return i, n


def shard(items: Sequence[T], index: int, total: int) -> list[T]:
    """Shard ``index`` of ``total`` (1-based): every ``total``-th item from ``index - 1``."""
    return list(items[index - 1::total])
