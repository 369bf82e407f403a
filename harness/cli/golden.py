"""``vmcompat golden verify|update|freeze``: the committed golden payloads.

Exit codes: verify 0 all verified, 1 a mismatch (a readable diff is printed),
2 bad input; update 0 written (or nothing to do), 1 refused (frozen goldens
would change without ``--force``), 2 bad input or a partial run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import click

from vmcompat.cli import EXIT_BAD_INPUT, EXIT_FOUND, fail, guarded, main
from vmcompat.errors import InputError
from vmcompat.words import plural

if TYPE_CHECKING:
    from vmcompat.golden import DirectoryGoldenStore
    from vmcompat.model import DeviceHistory

#: where goldens live unless ``--golden-dir`` or this variable says otherwise
GOLDEN_DIR_ENV = "VMCOMPAT_GOLDEN_DIR"


def _store(golden_dir: str | None, *, must_exist: bool = True) -> DirectoryGoldenStore:
    from vmcompat.golden import DirectoryGoldenStore

    root = golden_dir or os.environ.get(GOLDEN_DIR_ENV) or "golden"
    if must_exist and not os.path.isdir(root):
        raise InputError("no golden directory (give --golden-dir DIR)", file=root)
    return DirectoryGoldenStore(root)


def _histories() -> Mapping[str, DeviceHistory]:
    from vmcompat.catalog import load

    return load()


golden_dir_option = click.option(
    "--golden-dir", metavar="DIR",
    help=f"Golden directory (default: ${GOLDEN_DIR_ENV} or ./golden).")


@main.group()
def golden() -> None:
    """Golden payloads: golden/<device>/v<N>/<wire>/<case>.{bin,json}."""


@golden.command("verify")
@golden_dir_option
@click.option("--device", "devices", multiple=True, help="Only this device (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@guarded
def verify_cmd(golden_dir: str | None, devices: tuple[str, ...], fmt: str) -> None:
    """Every golden decodes to its state and re-encodes to its bytes; earlier versions load
    in the newest; no golden is unused."""
    from vmcompat.golden import require_golden_store, verify

    store = _store(golden_dir)
    histories = _histories()
    require_golden_store(store, histories, file=store.root)
    result = verify(store, histories, devices=devices or None)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        for p in result.problems:
            click.echo(p.render())
        for n in result.notes:
            click.echo(f"note: {n}")
        word = "verified" if result.ok else plural(len(result.problems), "problem")
        click.echo(f"golden verify: {plural(result.checked, 'golden')} checked, {word}")
    if not result.ok:
        raise SystemExit(EXIT_FOUND)


@golden.command("update")
@golden_dir_option
@click.option("--device", "devices", multiple=True, help="Only this device (repeatable).")
@click.option("--force", is_flag=True, help="Allow changing goldens of frozen (released) versions.")
@click.option("--reason", help="Why frozen goldens change (required with --force; recorded).")
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@guarded
def update_cmd(golden_dir: str | None, devices: tuple[str, ...], force: bool,
               reason: str | None, dry_run: bool) -> None:
    """Rewrite the goldens that changed (atomically; refuses a partial run)."""
    from vmcompat.golden import FrozenGoldens, PartialRun, apply_update, plan_update

    if reason and not force:
        raise InputError("--reason goes with --force")
    store = _store(golden_dir, must_exist=False)
    try:
        plan = plan_update(store, _histories(), devices=devices or None)
    except PartialRun as e:
        fail(f"golden update refused: {e}", EXIT_BAD_INPUT)
        return
    for key in sorted(plan.writes):
        click.echo(f"{'would write' if dry_run else 'write'} {key}")
    for key in plan.deletes:
        click.echo(f"{'would remove' if dry_run else 'remove'} {key} (unused)")
    if dry_run:
        click.echo(f"golden update (dry run): {len(plan.writes)} to write, "
                   f"{len(plan.deletes)} to remove, {plan.unchanged} unchanged")
        return
    try:
        apply_update(store, plan, force=force, reason=reason)
    except FrozenGoldens as e:
        fail(f"golden update refused: {e}", EXIT_FOUND)
        return
    extra = (f"; {plural(len(plan.frozen), 'frozen golden')} changed, recorded"
             if plan.frozen else "")
    click.echo(f"golden update: {len(plan.writes)} written, {len(plan.deletes)} removed, "
               f"{plan.unchanged} unchanged{extra}")


@golden.command("freeze")
@golden_dir_option
@click.argument("refs", nargs=-1, metavar="[DEVICE@VERSION]...")
@click.option("--released", is_flag=True,
              help="Freeze every version but the newest of every catalog device.")
@guarded
def freeze_cmd(golden_dir: str | None, refs: tuple[str, ...], released: bool) -> None:
    """Mark device versions as released: their goldens then change only with --force."""
    from vmcompat.catalog import parse_ref
    from vmcompat.golden import load_frozen, save_frozen

    store = _store(golden_dir, must_exist=False)
    frozen = load_frozen(store)
    hs = _histories()
    if released:
        for name, h in hs.items():
            frozen = frozen.with_versions(name, h.version_ids[:-1])
    for ref in refs:
        name, version, _ = parse_ref(ref)
        if name not in hs:
            raise InputError(f"no device {name!r} in the catalog")
        if version is None or version not in hs[name].version_ids:
            raise InputError(f"give one of the versions {list(hs[name].version_ids)}",
                             device=name)
        frozen = frozen.with_versions(name, [version])
    if not refs and not released:
        raise InputError("name DEVICE@VERSION or use --released")
    save_frozen(store, frozen)
    click.echo(f"frozen: {plural(sum(len(v) for v in frozen.versions.values()), 'device version')}")
