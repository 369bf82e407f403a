"""The matrix report: cells and summary (``report.json``; keys are a public contract).

``{"cells": [{"device", "source", "destination", "wire", "direction",
"features", "verdict", "reason"?, "examples", "counterexample"?, "notes"?,
"duration"}], "summary": {"cells", "planned", "devices", "wires", "features",
"direction", "compatible", "refused", "corrupt", "crash", "examples", "seed",
"max_examples", "profile", "shard", "shards", "duration", "generated", "ok"}}``;
with ``--chains`` also ``"chains": [chain, …]`` (per device the worst chain,
:meth:`vmcompat.compat.chain.ChainResult.to_json`) and ``summary["chains"]``
(chains per chain verdict). A corrupt chain fails the report like a corrupt cell.

A cell's ``"direction"`` is ``upgrade``, ``downgrade`` or ``same``
(:mod:`vmcompat.compat.directions`). Reports written before said ``backward``
(for upgrades and same-version cells) and ``forward`` (for downgrades): the key is
the same, only its values were re-labelled, and reading a report relabels them.

>>> from vmcompat.compat.verdict import Cell, CellResult, Verdict
>>> r = build_report([(CellResult(Cell("d", "1", "2"), Verdict.REFUSED, 5, "too new"), 0.1)],
...                  seed=0, max_examples=5, features="none", wires=["legacy"], duration=0.1)
>>> r.summary["refused"], r.ok
(1, True)
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vmcompat.compat.directions import BOTH, relabel
from vmcompat.compat.verdict import SEVERITY, CellResult, ChainVerdict, Verdict
from vmcompat.errors import InputError
from vmcompat.values import immutable

VERDICTS = tuple(v.value for v in Verdict)
CHAIN_VERDICTS = tuple(v.value for v in ChainVerdict)
#: fields of a cell that identify it (everything else is its outcome)
IDENTITY = ("device", "source", "destination", "wire", "features")
#: values that differ between identical runs: ignored when comparing reports
VOLATILE_CELL = frozenset({"duration"})
VOLATILE_SUMMARY = frozenset({"duration", "generated", "shard", "shards"})


def cell_id(cell: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(tuple(cell[k]) if k == "features" else str(cell[k]) for k in IDENTITY)


def _order(cell: Mapping[str, Any]) -> tuple[Any, ...]:
    from vmcompat.matrix._cells import cell_order

    return cell_order(cell)


@dataclass
class Report:
    cells: list[dict[str, Any]]
    summary: dict[str, Any]
    #: ``--chains``: per device the worst chain (None: chains were not run)
    chains: list[dict[str, Any]] | None = None

    @property
    def ok(self) -> bool:
        """No corrupt or crash cell, no corrupt chain."""
        return not any(Verdict(c["verdict"]).bad for c in self.cells) and \
            not any(c["verdict"] == "corrupt" for c in self.chains or ())

    def to_json(self) -> dict[str, Any]:
        out = {"cells": self.cells, "summary": self.summary}
        if self.chains is not None:
            out["chains"] = self.chains
        return out

    def results(self) -> list[CellResult]:
        return [CellResult.from_json(c) for c in self.cells]

    def comparable(self) -> dict[str, Any]:
        """The report without what differs between identical runs (durations, times)."""
        return {"cells": [{k: v for k, v in c.items() if k not in VOLATILE_CELL}
                          for c in self.cells],
                "summary": {k: v for k, v in self.summary.items() if k not in VOLATILE_SUMMARY},
                "chains": self.chains}

    @classmethod
    def from_json(cls, obj: Any, *, file: str | None = None) -> Report:
        if not isinstance(obj, dict) or not isinstance(obj.get("cells"), list) \
                or not isinstance(obj.get("summary"), dict):
            raise InputError('not a matrix report: expected {"cells": [...], "summary": {...}}',
                             file=file)
        for i, c in enumerate(obj["cells"]):
            missing = [k for k in (*IDENTITY, "verdict") if not isinstance(c, dict) or k not in c]
            if missing:
                raise InputError(f"cell without {missing[0]!r}", file=file, path=("cells", i))
            if c["verdict"] not in VERDICTS:
                raise InputError(f"unknown verdict {c['verdict']!r}", file=file,
                                 path=("cells", i, "verdict"))
        cells = [dict(c, direction=relabel(c.get("direction"), c["source"], c["destination"]))
                 for c in obj["cells"]]  # reports of older versions say backward/forward
        return cls(cells, dict(obj["summary"]), _chains_of(obj, file))

    @classmethod
    def load(cls, path: str) -> Report:
        try:
            with open(path, encoding="utf-8") as fh:
                obj = json.load(fh)
        except OSError as e:
            raise InputError(f"cannot read: {e.strerror}", file=path) from None
        except ValueError as e:
            raise InputError(f"not JSON: {e}", file=path) from None
        return cls.from_json(obj, file=path)


def cell_json(result: CellResult, duration: float | None = None) -> dict[str, Any]:
    out = result.to_json()
    if duration is not None:
        out["duration"] = round(duration, 4)
    return out


def summarize(cells: Sequence[Mapping[str, Any]], **meta: Any) -> dict[str, Any]:
    counts = Counter(c["verdict"] for c in cells)
    out: dict[str, Any] = {
        "cells": len(cells),
        "planned": meta.pop("planned", len(cells)),
        "devices": len({c["device"] for c in cells}),
        "wires": meta.pop("wires", sorted({c["wire"] for c in cells})),
        **{v: counts.get(v, 0) for v in VERDICTS},
        "examples": sum(int(c.get("examples", 0)) for c in cells),
    }
    out.update(meta)
    out.setdefault("generated", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    out["ok"] = not (out["corrupt"] or out["crash"])
    return out


def build_report(results: Iterable[tuple[CellResult, float]], *, seed: int, max_examples: int,
                 features: str, wires: Sequence[str], duration: float,
                 shard: str | None = None, planned: int | None = None,
                 profile: str | None = None, direction: str = BOTH) -> Report:
    cells = sorted((cell_json(r, d) for r, d in results), key=_order)
    summary = summarize(cells, planned=len(cells) if planned is None else planned,
                        wires=list(wires), features=features, direction=direction, seed=seed,
                        max_examples=max_examples, profile=profile, shard=shard,
                        duration=round(duration, 3))
    return Report(cells, summary)


def merge(reports: Sequence[Report], *, files: Sequence[str] | None = None) -> Report:
    """Join sharded runs: same seed, examples, features and wires; no cell twice."""
    if not reports:
        raise InputError("nothing to merge")
    files = list(files or [f"#{i}" for i in range(len(reports))])
    first = reports[0].summary
    for rep, f in zip(reports[1:], files[1:]):
        for k in ("seed", "max_examples", "features", "wires", "planned", "direction"):
            default = BOTH if k == "direction" else None  # reports before --direction
            if rep.summary.get(k, default) != first.get(k, default):
                raise InputError(f"cannot merge: {k} is {rep.summary.get(k, default)!r} here "
                                 f"but {first.get(k, default)!r} in {files[0]}", file=f)
    seen: dict[tuple[Any, ...], str] = {}
    cells: list[dict[str, Any]] = []
    for rep, f in zip(reports, files):
        for c in rep.cells:
            k = cell_id(c)
            if k in seen:
                raise InputError(f"cell {'/'.join(map(str, k))} is in {seen[k]} too", file=f)
            seen[k] = f
            cells.append(c)
    cells.sort(key=_order)
    chains = _merged_chains(reports, files)
    shards = sorted(str(r.summary.get("shard")) for r in reports if r.summary.get("shard"))
    summary = summarize(cells, planned=first.get("planned", len(cells)),
                        wires=first.get("wires"), features=first.get("features"),
                        direction=first.get("direction", BOTH), seed=first.get("seed"),
                        max_examples=first.get("max_examples"),
                        profile=first.get("profile"), shard=None, shards=shards,
                        duration=round(sum(float(r.summary.get("duration", 0))
                                           for r in reports), 3))
    return with_chains(Report(cells, summary), chains)


# -- chains (``--chains``) -----------------------------------------------------------------------
def _chains_of(obj: Mapping[str, Any], file: str | None) -> list[dict[str, Any]] | None:
    chains = obj.get("chains")
    if chains is None:
        return None
    if not isinstance(chains, list):
        raise InputError("chains must be a list", file=file, path=("chains",))
    for i, c in enumerate(chains):
        if not isinstance(c, dict) or not isinstance(c.get("device"), str) \
                or c.get("verdict") not in CHAIN_VERDICTS:
            raise InputError("a chain needs a device and a chain verdict", file=file,
                             path=("chains", i))
    return list(chains)


def _merged_chains(reports: Sequence[Report], files: Sequence[str]
                   ) -> list[dict[str, Any]] | None:
    """The chains of sharded runs (each device in one shard), or None when none ran them."""
    if all(r.chains is None for r in reports):
        return None
    seen: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for rep, f in zip(reports, files):
        for c in rep.chains or ():
            if c["device"] in seen:
                raise InputError(f"the chain of {c['device']} is in {seen[c['device']]} too",
                                 file=f)
            seen[c["device"]] = f
            out.append(c)
    return sorted(out, key=lambda c: c["device"])


def with_chains(report: Report, chains: list[dict[str, Any]] | None) -> Report:
    """The report with its chain section (``summary["chains"]``: chains per verdict)."""
    if chains is None:
        return report
    summary = dict(report.summary)
    summary["chains"] = {v: sum(c["verdict"] == v for c in chains) for v in CHAIN_VERDICTS}
    out = Report(report.cells, summary, chains)
    out.summary["ok"] = out.ok
    return out


@immutable
class Change:
    """A cell whose verdict differs from the previous report (``before`` None: new cell)."""

    cell: dict[str, Any]
    before: str | None
    after: str | None

    @property
    def rank(self) -> tuple[int, int]:
        after = SEVERITY[Verdict(self.after)] if self.after else -1
        return (-after, 0 if self.before is None else 1)


def changes(previous: Report | None, current: Report) -> list[Change]:
    """What changed since ``previous``: new corrupt/crash cells first, then refused, …"""
    if previous is None:
        return []
    old = {cell_id(c): c for c in previous.cells}
    new = {cell_id(c): c for c in current.cells}
    out = [Change(c, old[k]["verdict"] if k in old else None, c["verdict"])
           for k, c in new.items() if k not in old or old[k]["verdict"] != c["verdict"]]
    out += [Change(c, c["verdict"], None) for k, c in old.items() if k not in new]
    out.sort(key=lambda ch: (ch.rank, _order(ch.cell)))
    return out
