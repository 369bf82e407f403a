"""``vmcompat chain``: migration chains through a device's versions (A → B → C).

    vmcompat chain DESC DESC [DESC]... [--device D] [--wire W]... [--max-examples N]
                   [--seed S] [--format text|json] [-o FILE]

DESCs are the versions of one device history in release order, resolved as
``vmcompat check OLD NEW MORE…`` resolves them (catalog references,
``catalog:DEV@*``, description files, QEMU dumps and vmdescs). For each device
every DESC describes (or ``--device``), the chain machine
(:mod:`vmcompat.compat.chain_machine`) carries one state through random hops
(upgrades, downgrades, repeats; each on one of the ``--wire`` s, default
legacy) with guest-like changes between them, and reports the worst chain:
``lossless``, ``refused``, ``loss`` (the fields lost, at which hop, why) or
``corrupt``, shrunk to the shortest chain and smallest state.

``--format json``: ``{"chains": [ChainResult.to_json(), …]}`` (the seed goes
to stderr). Exit 0 when no chain loses or corrupts data (refused hops are
expected wherever downgrades are refused), 1 when one does, 2 on bad input.
"""

from __future__ import annotations

import json
import random
import sys

import click

from vmcompat.atomic import write_atomic
from vmcompat.cli import EXIT_FOUND, EXIT_OK, guarded, main
from vmcompat.cli.check import expand, load_inputs
from vmcompat.cli.fuzz import _label
from vmcompat.cli.io import dumps
from vmcompat.compat.chain import ChainResult, ChainSpec, ChainVerdict, counts
from vmcompat.compat.chain_machine import run_chain
from vmcompat.compat.checker import Input
from vmcompat.errors import InputError
from vmcompat.formats import FORMATS

_COLORS = {ChainVerdict.LOSSLESS: "green", ChainVerdict.REFUSED: "yellow",
           ChainVerdict.LOSS: "red", ChainVerdict.CORRUPT: "red"}


def specs(args: list[str], inputs: list[Input], device: str | None,
          wires: tuple[str, ...]) -> list[ChainSpec]:
    """One chain spec per device every input describes (single-device inputs: one device)."""
    if all(len(i.devices) == 1 for i in inputs):
        name = next(iter(inputs[0].devices))
        if device is not None and device not in {next(iter(i.devices)) for i in inputs}:
            raise InputError(f"no device {device!r} in any input")
        per = {name: [next(iter(i.devices.values())) for i in inputs]}
    else:
        names = [n for n in inputs[0].devices if all(n in i.devices for i in inputs)]
        if device is not None:
            lacking = next((i for i in inputs if device not in i.devices), None)
            if lacking is not None:
                raise InputError(f"device {device!r} is not described here", file=lacking.label)
            names = [device]
        if not names:
            raise InputError("no device is described in every input")
        per = {n: [i.devices[n] for i in inputs] for n in names}
    out = []
    for name, versions in per.items():
        labels = [_label(a, d) for a, d in zip(args, versions)]
        if len(set(labels)) < len(labels):
            labels = list(args)
        out.append(ChainSpec(name, tuple(versions), tuple(labels), wires))
    return out


def render_text(results: list[ChainResult], color: bool) -> str:
    lines = []
    for r in results:
        verdict = r.verdict.value if not r.verdict.bad else r.verdict.value.upper()
        if color:
            verdict = click.style(verdict, fg=_COLORS[r.verdict], bold=r.verdict.bad)
        lines.append(f"{r.device}: {verdict}  {r.arrow}" +
                     (f"  [{', '.join(r.wires)}]" if r.wires else ""))
        for x in r.lost_fields:
            lines.append(f"    {x.field} lost at hop {x.hop} ({r.path[x.hop - 1]} → "
                         f"{r.path[x.hop]}): {x.reason}")
        ce = r.counterexample or {}
        if r.verdict is ChainVerdict.CORRUPT and "hop" in ce:
            lines.append(f"    hop {len(r.wires)} ({r.path[-2]} → {r.path[-1]}): "
                         f"{ce['hop'].get('detail', '')}")
        if r.verdict is ChainVerdict.REFUSED:
            last = ce.get("steps", [{}])[-1]
            lines.append(f"    hop {len(r.wires)} ({r.path[-2]} → {r.path[-1]}) refused: "
                         f"{last.get('reason', '')}")
        elif ce:
            lines.append(f"    first state: {json.dumps(ce.get('state'), sort_keys=True)}")
            for step in ce.get("steps", ()):
                if "write" in step:
                    lines.append(f"    guest writes {step['write']} = "
                                 f"{json.dumps(step['value'])} on {step['at']}")
                elif step["verdict"] == "refused":
                    lines.append(f"    {step['from']} → {step['to']} [{step['wire']}] refused "
                                 f"(the guest stays on {step['from']}): {step['reason']}")
        if r.direct_verdict and r.wires:
            lines.append(f"    direct hop {r.path[0]} → {r.path[-1]}: {r.direct_verdict}")
    c = counts(results)
    lines.append("chain: " + ", ".join(f"{n} {v}" for v, n in c.items() if n))
    return "\n".join(lines) + "\n"


@main.command("chain")
@click.argument("descs", nargs=-1, metavar="DESC DESC [DESC]...")
@click.option("--device", help="Only this device (default: every device all DESCs describe).")
@click.option("--wire", "wires", multiple=True, type=click.Choice(sorted(FORMATS)),
              help="Wire of the hops (repeatable; each hop takes one; default legacy).")
@click.option("--max-examples", type=click.IntRange(min=1), default=100, show_default=True,
              help="Chains drawn per device.")
@click.option("--seed", type=int, help="Seed for a reproducible run (printed either way).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("-o", "--output", "out", help="Write the report here (atomically) instead.")
@guarded
def chain_cmd(descs: tuple[str, ...], device: str | None, wires: tuple[str, ...],
              max_examples: int, seed: int | None, fmt: str, out: str | None) -> None:
    """Carry one device state through random hops between DESC versions; find chain loss."""
    args = expand(descs)
    if len(args) < 2:
        raise InputError("chain needs at least two versions: DESC DESC [DESC]...")
    twice = next((a for i, a in enumerate(args) if a in args[:i]), None)
    if twice is not None:
        raise InputError("the same version is given twice", file=twice)
    chain_specs = specs(args, load_inputs(args), device,
                        tuple(dict.fromkeys(wires)) or ("legacy",))
    if seed is None:
        seed = random.getrandbits(32)
    click.echo(f"seed: {seed}", err=fmt == "json" or out is not None)
    results = [run_chain(s, max_examples=max_examples, seed=seed).result for s in chain_specs]
    if fmt == "json":
        text = dumps({"chains": [r.to_json() for r in results]})
    else:
        text = render_text(results, color=out is None and sys.stdout.isatty())
    if out is not None:
        write_atomic(out, text)
    else:
        click.echo(text, nl=False)
    sys.exit(EXIT_FOUND if any(r.verdict.bad for r in results) else EXIT_OK)
