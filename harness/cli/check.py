"""``vmcompat check``: the static compatibility checker on the command line.

    vmcompat check OLD NEW [MORE…] [--direction upgrade|downgrade|both] [--transitive]
                   [--device NAME]... [--format text|json|junit|github] [--config PYPROJECT]
                   [--prove [--max-examples N] [--seed S]] [-o FILE]
    vmcompat check --list-rules [--format json]

Inputs are QEMU ``-dump-vmstate`` files, stream vmdescs, description JSON
files or ``catalog:DEV@VER`` references, in any mix, ordered old to new
(``catalog:DEV@*`` is every version of DEV, oldest first). Exit
0 when no error finding, 1 otherwise, 2 on bad input. ``--format json`` follows
:data:`vmcompat.compat.checker.RESULT_SCHEMA`; junit has one testcase per device
checked; github prints ``::error file=…,title=RULE::message`` workflow commands.
Ignores: ``[tool.vmcompat.check] ignore = [{rule, device, path, reason}]`` in
``./pyproject.toml`` or ``--config`` (see :mod:`vmcompat.compat.ignores`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

import click

from vmcompat.atomic import write_atomic
from vmcompat.cli import EXIT_FOUND, EXIT_OK, guarded, main
from vmcompat.cli.io import dumps
from vmcompat.cli.options import EXAMPLES, SEED, direction_option
from vmcompat.compat import checker as C
from vmcompat.compat import directions, ignores
from vmcompat.compat.rules import RULES
from vmcompat.errors import InputError
from vmcompat.words import plural

_COLORS = {"error": "red", "warning": "yellow", "info": "cyan"}


def where(f: C.Finding) -> str:
    """Which comparison and where: ``upgrade OLD -> NEW: device/…/field`` (QEMU's names)."""
    path = C.qemu_path(f.path)
    if not f.direction:
        return path
    return f"{f.direction} {f.source} -> {f.destination}: {path}"


def render_text(result: C.Result, color: bool) -> str:
    lines = []
    for f in result.findings:
        sev = click.style(f.severity, fg=_COLORS[f.severity]) if color else f.severity
        lines.append(f"{sev} {f.rule} [{f.category}] {where(f)}: {f.message}")
        if f.evidence is not None:
            lines.append(f"    evidence: {_evidence_text(f.evidence)}")
    c = result.counts()
    verdict = "compatible" if result.compatible else "INCOMPATIBLE"
    if color:
        verdict = click.style(verdict, fg="green" if result.compatible else "red", bold=True)
    lines.append(f"{verdict}: {plural(len(result.devices), 'device')}, "
                 f"{plural(len(result.comparisons), 'comparison')}; "
                 f"{plural(c['error'], 'error')}, {plural(c['warning'], 'warning')}, "
                 f"{c['info']} info, {len(result.ignored)} ignored")
    return "\n".join(lines) + "\n"


def _evidence_text(ev: dict[str, Any]) -> str:
    """``reproduced: refused, <QEMU's error>; 50 examples, seed 0``, or why the dynamic run
    did not reach the finding (``static only, not reproduced: …``)."""
    status = ev.get("status", "?")
    if ev.get("static_only"):
        status = f"static only, {status}"
    if "verdict" not in ev:
        return f"{status}: {ev.get('why') or ev.get('error') or ''}"
    if ev.get("why"):
        out = f"{status}: {ev['why']}; {ev['verdict']} in"
    else:
        notes = ev.get("notes") or []
        why = notes[0] if ev["verdict"] == "refused" and notes else ev.get("reason")
        out = f"{status}: {ev['verdict']}" + (f", {why};" if why else ";")
    out += f" {plural(ev.get('examples', 0), 'example')}, seed {ev.get('seed')}"
    if ev.get("versions_relaxed"):
        out += ", past the version check"
    return out


def render_json(result: C.Result, color: bool) -> str:
    return dumps(result.to_json())


def render_junit(result: C.Result, color: bool) -> str:
    """One testcase per device checked; error findings fail it, the rest go to system-out."""
    by_device = dict(C.by_device(result.findings))
    suite = ET.Element("testsuite", name="vmcompat check", tests=str(len(result.devices)))
    failures = 0
    for device in result.devices:
        case = ET.SubElement(suite, "testcase", classname="vmcompat.check", name=device)
        found = by_device.get(device, [])
        errors = [f for f in found if f.error]
        if errors:
            failures += 1
            fail = ET.SubElement(case, "failure", type=errors[0].rule,
                                 message=f"{plural(len(errors), 'error finding')}; first: "
                                         f"{errors[0].rule}: {errors[0].message}")
            fail.text = "\n".join(f"{f.rule} {where(f)}: {f.message}" for f in errors)
        others = [f for f in found if not f.error]
        if others:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(f"{f.severity} {f.rule} {where(f)}: {f.message}"
                                 for f in others)
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _gh_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


_GH_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def render_github(result: C.Result, color: bool) -> str:
    """GitHub Actions workflow commands: ``::error file=…,title=RULE::message``."""
    lines = []
    for f in result.findings:
        # the newer input of the pair is where the change was made
        file = f.destination if f.direction == directions.UPGRADE else f.source
        if f.rule == "IGNORE_UNUSED":
            file = f.path.split("#", 1)[0]
        props = f"file={_gh_prop(file)},title={_gh_prop(f.rule)}" if file else \
            f"title={_gh_prop(f.rule)}"
        lines.append(f"::{_GH_LEVEL[f.severity]} {props}::" + _gh_data(f"{where(f)}: {f.message}"))
    return "\n".join(lines) + ("\n" if lines else "")


RENDERERS: dict[str, Callable[[C.Result, bool], str]] = {
    "text": render_text, "json": render_json, "junit": render_junit, "github": render_github}


def render_rules(fmt: str) -> str:
    """The rule table: code, severity, category, what it reads, one line of doc."""
    if fmt == "json":
        return dumps([{"rule": r.code, "severity": r.severity, "category": r.category,
                       "site": r.site, "doc": r.doc} for r in RULES.values()])
    return "".join(f"{r.code:28} {r.severity:8} {r.category:10} {r.doc}\n"
                   for r in RULES.values())


def expand(args: tuple[str, ...]) -> list[str]:
    """``catalog:DEV@*`` (optionally ``+features``) is every version of DEV, oldest first."""
    out: list[str] = []
    for a in args:
        body = a.removeprefix("catalog:")
        name, at, rest = body.partition("@")
        if a.startswith("catalog:") and at and (rest == "*" or rest.startswith("*+")):
            from vmcompat.catalog import history

            feats = rest[1:]
            out += [f"catalog:{name}@{v}{feats}" for v in history(name).version_ids]
        else:
            out.append(a)
    return out


def load_inputs(args: tuple[str, ...] | list[str]) -> list[C.Input]:
    out = []
    for a in args:
        i = C.load_input(a)
        if not i.devices:
            raise InputError("no device descriptions here", file=a)
        out.append(i)
    return out


@main.command("check")
@click.argument("inputs", nargs=-1, metavar="OLD NEW [MORE]...")
@direction_option()
@click.option("--transitive", is_flag=True,
              help="Check every earlier input against the newest (default: consecutive pairs).")
@click.option("--device", "devices", multiple=True, metavar="NAME",
              help="Check only this device (repeatable).")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text",
              show_default=True)
@click.option("--config", type=str, default=None,
              help="pyproject.toml with [tool.vmcompat.check] ignores (default: ./pyproject.toml).")
@click.option("--prove", is_flag=True,
              help="Run the dynamic engine on devices with findings and attach the evidence.")
@click.option("--max-examples", type=EXAMPLES, default=50, show_default=True,
              help="Examples per cell for --prove.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for --prove.")
@click.option("-o", "--output", "out", help="Write the report here (atomically) instead.")
@click.option("--list-rules", is_flag=True, help="Print the rule table and exit.")
@guarded
def check_cmd(inputs: tuple[str, ...], direction: str, transitive: bool, devices: tuple[str, ...],
              fmt: str, config: str | None, prove: bool, max_examples: int, seed: int,
              out: str | None, list_rules: bool) -> None:
    """Statically check that OLD's device state loads in NEW (and more, see --direction)."""
    if list_rules:
        click.echo(render_rules(fmt), nl=False)
        return
    args = expand(inputs)
    if len(args) < 2:
        raise InputError("check needs at least two inputs: OLD NEW (or catalog:DEV@*)")
    cfg = ignores.load(config, known_rules=frozenset(RULES))
    result = C.check(load_inputs(args), direction=direction, transitive=transitive,
                     devices=devices, config=cfg)
    if prove:
        C.prove(result, max_examples=max_examples, seed=seed)
    color = fmt == "text" and out is None and sys.stdout.isatty()
    text = RENDERERS[fmt](result, color)
    if out is not None:
        write_atomic(out, text)
    else:
        click.echo(text, nl=False)
    sys.exit(EXIT_OK if result.compatible else EXIT_FOUND)
