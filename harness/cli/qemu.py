"""``vmcompat qemu install|list|describe|dump|capture|load|fuzz``: real QEMU releases in the loop.

Exit codes: 0 done (loaded), 1 QEMU refused the stream (its message on
stderr), 2 bad input (no such QEMU, unknown machine type, unreadable file).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from vmcompat.atomic import write_atomic
from vmcompat.cli import EXIT_FOUND, fail, guarded, main
from vmcompat.cli.options import EXAMPLES, JOBS, RUN_SECONDS, SECONDS, SEED

F = TypeVar("F", bound=Callable[..., Any])


def qemu_options(fn: F) -> F:
    """``--qemu NAME|PATH`` and ``--device SPEC`` (repeatable), shared by every subcommand."""
    fn = click.option("--device", "devices", multiple=True, metavar="SPEC",
                      help="Add '-device SPEC' (repeatable; audio back-ends are added).")(fn)
    return click.option("--qemu", "qemu_spec", metavar="NAME|PATH", default=None,
                        help="A release (7.2, 10.0) or a binary; default $VMCOMPAT_QEMU, "
                             "then the system's qemu-system-x86_64.")(fn)


@main.group()
def qemu() -> None:
    """Drive real QEMU releases (install one beside the system's; dump, capture, load)."""


@qemu.command("install")
@click.argument("release")
@guarded
def install_cmd(release: str) -> None:
    """Install RELEASE (e.g. 10.0) from Debian into a private prefix; print its binary."""
    from vmcompat.qemu.install import install

    q = install(release, log=lambda m: click.echo(f"vmcompat: {m}", err=True))
    click.echo(q.binary)


@qemu.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@guarded
def list_cmd(fmt: str) -> None:
    """Every QEMU known here: name, full version string, path (and its packages in json)."""
    from vmcompat.cli.io import dumps
    from vmcompat.qemu.releases import installed

    found = installed()
    if fmt == "json":
        click.echo(dumps({"qemus": [{"name": q.name, "version": q.version, "binary": q.binary,
                                     "prefix": q.prefix, "packages": q.packages()}
                                    for q in found]}), nl=False)
        return
    for q in found:
        click.echo(f"{q.name}\t{q.version}\t{q.binary}")
    if not found:
        fail("no QEMU found: install qemu-system-x86, or run 'vmcompat qemu install 10.0'")


@qemu.command("describe")
@click.option("--machine", "machines", multiple=True, required=True,
              help="Machine type to capture (repeatable; the first is the default).")
@click.option("--devices", "device_set", type=click.Choice(["default", "broad"]),
              default="broad", show_default=True,
              help="Device set on top of the machine's own (harness/qemu/devices.py).")
@click.option("-o", "--output", "out", required=True,
              help="The bundle to write (gzip when it ends in .gz).")
@qemu_options
@guarded
def describe_cmd(machines: tuple[str, ...], device_set: str, out: str, qemu_spec: str | None,
                 devices: tuple[str, ...]) -> None:
    """Capture and dump a QEMU: a bundle of its sections' descriptions (usable as a DESC)."""
    from vmcompat.qemu import resolve
    from vmcompat.qemu.bundle import make, write
    from vmcompat.qemu.devices import DEVICE_SETS

    write(make(resolve(qemu_spec), machines, DEVICE_SETS[device_set] + devices), out)


@qemu.command("dump")
@click.option("--machine", required=True, help="Machine type, e.g. pc-i440fx-7.2.")
@click.option("-o", "--output", "out", required=True, help="Where to write the JSON.")
@qemu_options
@guarded
def dump_cmd(machine: str, out: str, qemu_spec: str | None, devices: tuple[str, ...]) -> None:
    """Write QEMU's -dump-vmstate JSON for MACHINE (byte-identical to QEMU's own file)."""
    from vmcompat.qemu import dump_text, resolve

    write_atomic(out, dump_text(machine, qemu=resolve(qemu_spec), devices=devices))


@qemu.command("capture")
@click.option("--machine", required=True, help="Machine type, e.g. pc-i440fx-7.2.")
@click.option("-o", "--output", "out", required=True, help="Where to write the stream.")
@click.option("--run", "run", type=RUN_SECONDS, default=0.0, metavar="SECONDS",
              help="Let the guest run this long before saving (the capture is then not "
                   "deterministic).")
@click.option("--timeout", type=SECONDS, default=60.0, show_default=True,
              help="Seconds to wait for QEMU.")
@qemu_options
@guarded
def capture_cmd(machine: str, out: str, run: float, timeout: float, qemu_spec: str | None,
                devices: tuple[str, ...]) -> None:
    """Save a MACHINE guest to a stream file (stopped and deterministic without --run)."""
    from vmcompat.qemu import capture, resolve

    capture(machine, out, qemu=resolve(qemu_spec), devices=devices, run=run, timeout=timeout)


@qemu.command("load")
@click.option("--machine", required=True, help="Machine type, e.g. pc-i440fx-7.2.")
@click.argument("stream")
@click.option("--timeout", type=SECONDS, default=60.0, show_default=True,
              help="Seconds to wait for QEMU.")
@qemu_options
@guarded
def load_cmd(machine: str, stream: str, timeout: float, qemu_spec: str | None,
             devices: tuple[str, ...]) -> None:
    """Load STREAM into MACHINE: exit 0 loaded, 1 refused (QEMU's message on stderr)."""
    from vmcompat.qemu import load, resolve

    ok, message = load(machine, stream, qemu=resolve(qemu_spec), devices=devices,
                       timeout=timeout)
    if not ok:
        fail(f"{stream}: QEMU refused the stream: {message}", EXIT_FOUND)
    click.echo(f"{stream}: loaded by QEMU ({machine})")


@qemu.command("cross")
@click.option("--qemu", "qemu_specs", multiple=True, required=True, metavar="NAME|PATH",
              help="A QEMU (give two: each migrates to the other).")
@click.option("--machine", "machines", multiple=True,
              help="Machine type (repeatable; default: every pc-i440fx/pc-q35 type both "
                   "QEMUs offer).")
@click.option("--device", "devices", multiple=True, metavar="SPEC",
              help="Add '-device SPEC' on both sides (repeatable).")
@click.option("--devices", "device_set", type=click.Choice(["default", "broad"]),
              default="default", show_default=True,
              help="Device set on top of the machine's own (harness/qemu/devices.py).")
@click.option("--run", "run", type=RUN_SECONDS, default=0.0, metavar="SECONDS",
              help="Let the source guest run this long before saving.")
@click.option("--max-examples", type=click.IntRange(min=0), default=10, show_default=True,
              help="Random states per section for the oracle's prediction (0: none).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--timeout", type=SECONDS, default=60.0, show_default=True,
              help="Seconds to wait for QEMU.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--out", "out_dir", required=True, metavar="DIR",
              help="Folder for report.json/md/html and junit.xml.")
@guarded
def cross_cmd(qemu_specs: tuple[str, ...], machines: tuple[str, ...], devices: tuple[str, ...],
              device_set: str, run: float, max_examples: int, seed: int, timeout: float,
              fmt: str, out_dir: str) -> None:
    """Real migrations between QEMUs, each section judged, next to vmcompat's prediction.

    Exit 0 when every section migrates compatibly and as predicted, 1 otherwise.
    """
    import time

    from vmcompat.cli.io import dumps
    from vmcompat.qemu import resolve
    from vmcompat.qemu.cross import Options, cross
    from vmcompat.qemu.devices import DEVICE_SETS
    from vmcompat.qemu.releases import machine_types
    from vmcompat.report import _cross

    qemus = [resolve(s) for s in qemu_specs]
    if not machines:
        common = set(machine_types(qemus[0]))
        for q in qemus[1:]:
            common &= set(machine_types(q))
        machines = tuple(sorted(common))
        if not machines:
            fail("these QEMUs have no pc-i440fx/pc-q35 machine type in common")
    for q in qemus:
        missing = [m for m in machines if m not in machine_types(q)]
        if missing:
            fail(f"QEMU {q.name} has no machine type {', '.join(missing)}")
    specs = DEVICE_SETS[device_set] + devices
    t0 = time.perf_counter()
    say = (lambda m: None) if fmt == "json" else (lambda m: click.echo(m, err=True))
    cells = cross(qemus, machines, Options(specs, run, max_examples, seed, timeout), log=say)
    report = _cross.build(cells, qemus=qemus, machines=machines, devices=specs,
                          duration=time.perf_counter() - t0)
    _cross.write(report, out_dir)
    s = report["summary"]
    if fmt == "json":
        click.echo(dumps(report), nl=False)
    else:
        for c in report["cells"]:
            if c["outcome"] != "compatible" or c["agrees"] is False:
                click.echo(f"{c['machine']} {c['source']} -> {c['destination']} "
                           f"{c['section']}: {c['outcome']} (predicted {c['predicted']})"
                           + (f": {c['qemu_error']}" if c["qemu_error"] else "")
                           + (f" [{', '.join(c['fields'])}]" if c.get("fields") else ""))
        click.echo(f"{s['cells']} sections: " + ", ".join(
            f"{s[o]} {o}" for o in ("compatible", "corrupt", "refused", "not-reached"))
            + f"; prediction agrees {s['agree']}, disagrees {s['disagree']}")
        click.echo(f"reports: {out_dir}/report.{{json,md,html}}, {out_dir}/junit.xml")
    if not s["ok"]:
        raise SystemExit(EXIT_FOUND)


# ----------------------------------------------------------------------------- qemu fuzz
@qemu.command("fuzz")
@click.option("--qemu", "qemu_specs", multiple=True, metavar="NAME|PATH",
              help="The source release A, then the destination B (A alone: A -> A; A and B: "
                   "A -> B and B -> A).")
@click.option("--chain", "chain", metavar="A,B[,C…]",
              help="Instead of --qemu: a round trip, saved on A, loaded and saved again by B, "
                   "loaded by C … (e.g. 7.2,10.0,7.2); each hop judged.")
@click.option("--machine", required=True, help="Machine type, e.g. pc-i440fx-7.2.")
@click.option("--device", "devices", multiple=True, metavar="SPEC",
              help="Add '-device SPEC' (repeatable; audio back-ends are added).")
@click.option("--devices", "device_set", type=click.Choice(["default", "broad"]),
              default="default", show_default=True,
              help="Device set on top of the machine's own (harness/qemu/devices.py).")
@click.option("--section", "sections", multiple=True, metavar="NAME",
              help="Only this section (its idstr or the idstr's last component; repeatable). "
                   "Default: every section of the capture.")
@click.option("--max-examples", type=EXAMPLES, default=20, show_default=True,
              help="Hypothesis examples per section and direction.")
@click.option("--seed", type=SEED, help="Seed for a reproducible run (printed either way).")
@click.option("--jobs", type=JOBS, default=1, show_default=True,
              help="Worker processes (0: one per core).")
@click.option("--max-shrinks", type=click.IntRange(min=0), default=50, show_default=True,
              help="Destination loads the findings of one section and direction share for "
                   "shrinking, worst first (0: keep findings as found).")
@click.option("--timeout", type=SECONDS, default=30.0, show_default=True,
              help="Seconds one load may take before the destination is killed; the first "
                   "try gets 5x the slowest load so far (at least 8 s), the second this "
                   "whole time (two timeouts: a hang).")
@click.option("--replay", metavar="FILE",
              help="Run the state of one finding file (findings/*.json) again, nothing else.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--out", "out", required=True, metavar="DIR",
              help="Folder for report.json/.md/.html, junit.xml and findings/.")
@guarded
def fuzz_cmd(qemu_specs: tuple[str, ...], chain: str | None, machine: str,
             devices: tuple[str, ...], device_set: str, sections: tuple[str, ...],
             max_examples: int, seed: int | None, jobs: int, max_shrinks: int, timeout: float,
             replay: str | None, fmt: str, out: str) -> None:
    """Random states of real sections through real QEMU loads, against vmcompat's prediction.

    Exit 0: every example agrees, or is QEMU's own check or normalisation; 1: a corrupt,
    refused, crash or disagree outcome; 2: bad input.
    """
    import os
    import random
    import sys

    from vmcompat.cli import EXIT_OK
    from vmcompat.database import shared_database
    from vmcompat.qemu import resolve
    from vmcompat.qemu.devices import DEVICE_SETS
    from vmcompat.qemu.fuzz import (
        FuzzOptions,
        TargetResult,
        render_text,
        replay_finding,
        run_fuzz,
        write_report,
    )

    if chain is not None:
        if qemu_specs:
            fail("give --qemu releases or a --chain, not both")
        qemu_specs = tuple(x.strip() for x in chain.split(","))
        if len(qemu_specs) < 2 or not all(qemu_specs):
            fail(f"--chain {chain!r}: give at least two releases, A,B[,C…]")
    elif not 1 <= len(qemu_specs) <= 2:
        fail(f"give one or two --qemu releases (or a --chain), not {len(qemu_specs)}")
    qemus = [resolve(spec) for spec in qemu_specs]
    if seed is None:
        seed = random.getrandbits(32)
    click.echo(f"seed: {seed}", err=True)
    options = FuzzOptions(machine, DEVICE_SETS[device_set] + devices, sections, max_examples,
                          seed, jobs or (os.cpu_count() or 1), max_shrinks, timeout,
                          chain=chain is not None)
    def progress(r: TargetResult, n: int, total: int) -> None:
        counts = ", ".join(f"{k} {o.value}" for o, k in r.outcomes.items() if k)
        click.echo(f"[{n:>{len(str(total))}}/{total}] {r.section} {' -> '.join(r.path)}: "
                   f"{counts}", err=True)

    if replay is not None:
        run = replay_finding(qemus, options, replay)
    else:
        run = run_fuzz(qemus, options, db=shared_database, done=progress)
    report = write_report(run, out)
    if fmt == "json":
        from vmcompat.cli.io import dumps

        click.echo(dumps(report), nl=False)
    else:
        click.echo(render_text(report))
    sys.exit(EXIT_FOUND if run.fails else EXIT_OK)
