"""``vmcompat schema``: the JSON Schema (draft 2020-12) of a description version's state JSON.

``vmcompat schema catalog:apic@3`` prints it; ``-o FILE`` writes it atomically;
``vmcompat schema --goldens golden/schemas`` regenerates the committed golden
of every catalog version (``golden/schemas/<device>/v<N>.schema.json``).
"""

from __future__ import annotations

import click

from vmcompat import schema as schemas
from vmcompat.atomic import write_atomic
from vmcompat.catalog import history, parse_ref
from vmcompat.cli import guarded, main
from vmcompat.cli.options import VERSION_ID
from vmcompat.errors import InputError
from vmcompat.model import Description
from vmcompat.sources import load_one


def _description(desc: str, device: str | None, version: int | None) -> Description:
    if desc.startswith("catalog:"):
        name, ref_version, features = parse_ref(desc)
        if ref_version is None and version is not None:
            return history(name).at(version, features)
    return load_one(desc, device)


@main.command("schema")
@click.argument("desc", required=False)
@click.option("--device", help="Device to use when DESC holds several.")
@click.option("--version", "version", type=VERSION_ID,
              help="Version of the state (catalog:DEVICE: that version of the history; "
                   "a file: the description's fields as saved at that version).")
@click.option("-o", "--output", "out", help="Write the schema here instead of stdout.")
@click.option("--goldens", metavar="DIR",
              help="Regenerate the schema golden of every catalog version under DIR.")
@guarded
def schema_cmd(desc: str | None, device: str | None, version: int | None, out: str | None,
               goldens: str | None) -> None:
    """Print the JSON Schema of DESC's state JSON (catalog:DEVICE@VERSION or a file)."""
    if goldens is not None:
        if desc is not None:
            raise InputError("--goldens takes no DESC: it writes every catalog version")
        for path in schemas.write_goldens(goldens):
            click.echo(path)
        return
    if desc is None:
        raise InputError("missing DESC (catalog:DEVICE@VERSION or a description file)")
    d = _description(desc, device, version)
    if version is not None and not d.minimum_version_id <= version <= d.version_id:
        raise InputError(f"--version {version} is outside {d.minimum_version_id}.."
                         f"{d.version_id}", device=d.name)
    v = None if version is None or version == d.version_id else version
    text = schemas.render(d, v)
    if out is None:
        click.echo(text, nl=False)
    else:
        write_atomic(out, text)
