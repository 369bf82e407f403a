"""``vmcompat qemu dump|capture|load``: a real QEMU in the loop.

Exit codes: 0 done (loaded), 1 QEMU refused the stream (its message on
stderr), 2 bad input (no QEMU binary, unknown machine type, unreadable file).
"""

from __future__ import annotations

import click

from harness.atomic import write_atomic
from harness.cli import EXIT_FOUND, fail, guarded, main
from harness.cli.options import SECONDS


@main.group()
def qemu() -> None:
    """Drive qemu-system-x86_64 (set $VMCOMPAT_QEMU to use another binary)."""


@qemu.command("dump")
@click.option("--machine", required=True, help="Machine type, e.g. pc-i440fx-7.2.")
@click.option("-o", "--output", "out", required=True, help="Where to write the JSON.")
@guarded
def dump_cmd(machine: str, out: str) -> None:
    """Write QEMU's -dump-vmstate JSON for MACHINE (byte-identical to QEMU's own file)."""
    from harness.qemu import dump_text

    write_atomic(out, dump_text(machine))


@qemu.command("capture")
@click.option("--machine", required=True, help="Machine type, e.g. pc-i440fx-7.2.")
@click.option("-o", "--output", "out", required=True, help="Where to write the stream.")
@click.option("--timeout", type=SECONDS, default=60.0, show_default=True,
              help="Seconds to wait for QEMU.")
@guarded
def capture_cmd(machine: str, out: str, timeout: float) -> None:
    """Save a stopped, deterministic MACHINE guest to a stream file."""
    from harness.qemu import capture

    capture(machine, out, timeout=timeout)


@qemu.command("load")
@click.option("--machine", required=True, help="Machine type, e.g. pc-i440fx-7.2.")
@click.argument("stream")
@click.option("--timeout", type=SECONDS, default=60.0, show_default=True,
              help="Seconds to wait for QEMU.")
@guarded
def load_cmd(machine: str, stream: str, timeout: float) -> None:
    """Load STREAM into MACHINE: exit 0 loaded, 1 refused (QEMU's message on stderr)."""
    from harness.qemu import load

    ok, message = load(machine, stream, timeout=timeout)
    if not ok:
        fail(f"{stream}: QEMU refused the stream: {message}", EXIT_FOUND)
    click.echo(f"{stream}: loaded by QEMU ({machine})")
