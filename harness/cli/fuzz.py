"""``vmcompat fuzz OLD NEW``: property-based cross-version check of every shared device.

OLD and NEW are description files (vmcompat JSON, QEMU ``-dump-vmstate`` or
vmdesc JSON, or ``DUMP.json+VMDESC.json`` to merge the two) or catalog
references (``catalog:ps2kbd@2``). ``--direction upgrade`` (default) loads
OLD's data with NEW; ``downgrade`` loads NEW's data with OLD; ``both`` does
both (``backward``, ``forward`` and ``full`` are accepted too, see
:mod:`vmcompat.compat.directions`).

Output: one short line per cell (text), or ``{"seed", "cells": [...]}``
(``--format json``; each cell is :meth:`CellResult.to_json`). The seed is
always printed (on stderr with ``--format json``). Exit 0 when every cell is
compatible, 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import json
import os
import random
import sys

import click

from vmcompat.cli import EXIT_FOUND, EXIT_OK, guarded, main
from vmcompat.cli.io import dumps
from vmcompat.cli.options import EXAMPLES, SEED, direction_option
from vmcompat.compat import directions
from vmcompat.compat.verdict import Cell, CellResult, Verdict
from vmcompat.errors import InputError
from vmcompat.formats import FORMATS
from vmcompat.matrix.engine import run_cell
from vmcompat.model import Description
from vmcompat.sources import load_all
from vmcompat.words import plural

_COLORS = {Verdict.COMPATIBLE: "green", Verdict.REFUSED: "yellow", Verdict.CORRUPT: "red",
           Verdict.CRASH: "magenta"}


def _load(arg: str) -> dict[str, Description]:
    """Descriptions of one side; ``DUMP+VMDESC`` merges a QEMU dump with a vmdesc."""
    if not arg.startswith("catalog:") and "+" in arg and not os.path.exists(arg):
        dump_file, vmdesc_file = arg.split("+", 1)
        from vmcompat.dumps import merge_all

        return dict(merge_all(load_all(dump_file), load_all(vmdesc_file)))
    return load_all(arg)


def _label(arg: str, d: Description) -> str:
    if arg.startswith("catalog:"):
        return str(d.version_id)
    return f"{os.path.basename(arg)}@{d.version_id}"


def _line(r: CellResult, color: bool) -> str:
    c = r.cell
    verdict = r.verdict.value
    if color:
        verdict = click.style(verdict, fg=_COLORS[r.verdict], bold=r.verdict.bad)
    out = (f"{c.device} {c.source} -> {c.destination} [{c.wire}, {c.direction}]: {verdict} "
           f"({plural(r.examples, 'example')})")
    if r.verdict is Verdict.REFUSED and r.notes:
        out += f": {r.notes[0]}"  # the first refusal, in QEMU's words
    elif r.reason and not r.verdict.bad:
        out += f": {r.reason}"
    for n in r.notes[1:] if r.verdict is Verdict.REFUSED else r.notes:
        out += f"\n  note: {n}"
    if r.counterexample:
        ce = r.counterexample
        out += f"\n  {ce.get('detail', '')}"
        out += f"\n  minimal state: {json.dumps(ce.get('state'), sort_keys=True)}"
        out += f"\n  written: {ce.get('written') or '(empty)'}"
        if ce.get("error"):
            out += f"\n  error: {ce['error']}"
        else:
            out += f"\n  loaded:   {json.dumps(ce.get('loaded'), sort_keys=True)}"
        out += f"\n  expected: {json.dumps(ce.get('expected'), sort_keys=True)}"
        if ce.get("first_difference"):
            out += f"\n  first difference: {ce['first_difference']}"
    return out


@main.command()
@click.argument("old")
@click.argument("new")
@click.option("--device", help="Only this device (default: every device on both sides).")
@direction_option()
@click.option("--wire", type=click.Choice(sorted(FORMATS)), default="legacy", show_default=True,
              help="Serialization format.")
@click.option("--max-examples", type=EXAMPLES, default=100, show_default=True,
              help="Hypothesis examples per cell.")
@click.option("--seed", type=SEED, help="Seed for a reproducible run (printed either way).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@guarded
def fuzz(old: str, new: str, device: str | None, direction: str, wire: str, max_examples: int,
         seed: int | None, fmt: str) -> None:
    """Save states with OLD, load them with NEW (and/or back); judge each cell."""
    olds, news = _load(old), _load(new)
    shared = sorted(set(olds) & set(news))
    if device is not None:
        if device not in shared:
            missing = old if device not in olds else new
            raise InputError(f"device {device!r} is not described here", file=missing)
        shared = [device]
    if not shared:
        raise InputError(f"no device is described in both {old} and {new}")
    if seed is None:
        seed = random.getrandbits(32)
    click.echo(f"seed: {seed}", err=fmt == "json")
    results: list[CellResult] = []
    for name in shared:
        for d in directions.runs(direction):
            (sarg, src), (darg, dst) = (old, olds[name]), (new, news[name])
            if d == directions.DOWNGRADE:
                (sarg, src), (darg, dst) = (darg, dst), (sarg, src)
            cell = Cell(name, _label(sarg, src), _label(darg, dst), wire, d)
            results.append(run_cell(src, dst, cell, max_examples=max_examples, seed=seed))
    if fmt == "json":
        click.echo(dumps({"seed": seed, "cells": [r.to_json() for r in results]}), nl=False)
    else:
        color = sys.stdout.isatty()
        for r in results:
            click.echo(_line(r, color))
    ok = all(r.verdict is Verdict.COMPATIBLE for r in results)
    sys.exit(EXIT_OK if ok else EXIT_FOUND)
