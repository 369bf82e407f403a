"""``vmcompat encode`` and ``vmcompat decode``: one device payload."""

from __future__ import annotations

import click

from vmcompat import state as statejson
from vmcompat.atomic import write_atomic
from vmcompat.cli import guarded, main
from vmcompat.cli.io import dumps, read_bytes
from vmcompat.cli.options import VERSION_ID
from vmcompat.descjson import read_json
from vmcompat.errors import InputError, dotted
from vmcompat.formats import FORMATS
from vmcompat.sources import load_one
from vmcompat.walk import kept_absent


@main.command()
@click.argument("desc")
@click.argument("state_file", metavar="STATE")
@click.option("--device", help="Device to use when DESC holds several.")
@click.option("--wire", type=click.Choice(sorted(FORMATS)), default="legacy", show_default=True,
              help="Serialization format.")
@click.option("-o", "--output", "out", required=True, help="Where to write the payload.")
@guarded
def encode(desc: str, state_file: str, device: str | None, wire: str, out: str) -> None:
    """Write the VMState payload of STATE (fields then subsections; no section header)."""
    d = load_one(desc, device)
    s = statejson.from_json(d, read_json(state_file), file=state_file)
    write_atomic(out, FORMATS[wire].encode(d, s))


@main.command()
@click.argument("desc")
@click.argument("payload")
@click.option("--version-id", type=VERSION_ID, required=True,
              help="Version the payload was saved at (its section header's be32).")
@click.option("--device", help="Device to use when DESC holds several.")
@click.option("--wire", type=click.Choice(sorted(FORMATS)), default="legacy", show_default=True)
@click.option("--into", "prior",
              help="State JSON of the destination before the load; fields the payload "
                   "carries may be left out.")
@guarded
def decode(desc: str, payload: str, version_id: int, device: str | None, wire: str,
           prior: str | None) -> None:
    """Load PAYLOAD with DESC and print the state JSON (exit 1 if the load is refused)."""
    d = load_one(desc, device)
    into = None
    if prior is not None:
        into = statejson.from_json(d, read_json(prior), file=prior, partial=True)
    s = FORMATS[wire].decode(d, read_bytes(payload), version_id, into)
    if prior is not None:
        kept = kept_absent(d, version_id, s)
        if kept:
            more = "; also " + ", ".join(map(dotted, kept[1:])) if len(kept) > 1 else ""
            raise InputError(f"missing field: a version {version_id} stream does not carry "
                             f"it, so the load keeps the destination's value; give it here"
                             f"{more}", file=prior, device=d.name, path=kept[0])
    click.echo(dumps(statejson.to_json(s)), nl=False)
