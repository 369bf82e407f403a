"""``vmcompat matrix``: run the feature/version matrix; ``vmcompat matrix merge``: join shards.

Writes ``report.json``, ``report.md``, ``junit.xml`` and ``report.html`` into
``--out``. Exit 0 when no cell is corrupt or crash, 1 otherwise, 2 bad input.
``--chains`` adds a chain section to every report (:mod:`vmcompat.matrix._chains`):
a corrupt chain fails the run, a loss is reported (``vmcompat chain`` exits 1 on it).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import time
from typing import Any

import click

from vmcompat.cli import EXIT_FOUND, guarded, main
from vmcompat.cli.options import EXAMPLES, JOBS, SEED, direction_option
from vmcompat.compat.directions import BOTH
from vmcompat.errors import InputError
from vmcompat.formats import FORMATS
from vmcompat.words import plural

#: default wires when no --wire is given: comma-separated names (tox's wire factors set it)
WIRE_ENV = "VMCOMPAT_WIRE"


class DefaultGroup(click.Group):
    """A group that runs its ``run`` command when the first word is not a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            if not any(a in ("-h", "--help") for a in args[:1]):
                args = ["run", *args]
        return super().parse_args(ctx, args)


@main.group(cls=DefaultGroup)
def matrix() -> None:
    """The compatibility matrix: device × source × destination × wire × features.

    `vmcompat matrix [run] [DESC…] --out DIR` runs it; `vmcompat matrix merge
    SHARD_DIR… --out DIR` joins sharded runs.
    """


def _wires(given: tuple[str, ...]) -> list[str]:
    names = list(given)
    if not names and os.environ.get(WIRE_ENV):
        names = [w.strip() for w in os.environ[WIRE_ENV].split(",") if w.strip()]
    for w in names:
        if w not in FORMATS:
            raise InputError(f"unknown wire {w!r} (registered: {', '.join(sorted(FORMATS))})")
    return sorted(dict.fromkeys(names)) if names else sorted(FORMATS)


def _runner(spec: str | None) -> Any:
    from vmcompat.matrix import default_runner

    if not spec:
        return default_runner()
    mod, _, fn = spec.rpartition(":")
    try:
        if mod.endswith(".py"):  # a file: tests hand in stand-in engines this way
            name = "_vmcompat_runner_" + os.path.basename(mod)[:-3]
            loc = importlib.util.spec_from_file_location(name, mod)
            if loc is None or loc.loader is None:
                raise ImportError(f"cannot load {mod}")
            module = importlib.util.module_from_spec(loc)
            sys.modules[name] = module
            loc.loader.exec_module(module)
        else:
            module = importlib.import_module(mod)
        return getattr(module, fn)
    except (ImportError, AttributeError, OSError) as e:
        raise InputError(f"--runner {spec}: {e}") from None


def _previous(path: str | None) -> Any:
    from vmcompat.report import Report

    if path is None:
        return None
    if os.path.isdir(path):
        path = os.path.join(path, "report.json")
    return Report.load(path)


def _with_chains(report: Any, histories: Any, wires: list[str], max_examples: int, seed: int,
                 settings: Any, jobs: int, shard: tuple[int, int] | None) -> Any:
    """The report with each device's worst migration chain (``--chains``)."""
    from vmcompat.matrix import run_chains
    from vmcompat.report import with_chains

    click.echo("chains: the chain machine over each device's versions", err=True)
    return with_chains(report, run_chains(histories, wires, max_examples=max_examples,
                                          seed=seed, settings=settings, jobs=jobs,
                                          shard=shard))


@matrix.command("run")
@click.argument("descs", nargs=-1, metavar="[DESC]...")
@click.option("--catalog", metavar="builtin|catalog|qemu",
              help="'builtin' (the default when no DESC is given): the catalog and the "
                   "sections QEMU 7.2 and 10.0 share on every machine type both bundles "
                   "hold; 'catalog' or 'qemu': one part.")
@click.option("--wire", "wires", multiple=True, metavar="WIRE",
              help=f"Wire format (repeatable; default ${WIRE_ENV} or every registered: "
                   f"{', '.join(sorted(FORMATS))}).")
@click.option("--features", type=click.Choice(["pairwise", "all", "none"]), default="pairwise",
              show_default=True, help="Optional-feature combinations per device.")
@direction_option(default=BOTH, what="Cells to run; same-version cells always run.")
@click.option("--shard", help="Run shard I of N (1-based), e.g. 2/4.")
@click.option("--max-examples", type=EXAMPLES, default=None,
              help="Examples per cell (default: the matrix default, 10).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Run seed.")
@click.option("--jobs", "-j", type=JOBS, default=0,
              help="Worker processes (0: one per core).")
@click.option("--profile", envvar="VMCOMPAT_PROFILE",
              help="Hypothesis profile (nightly: shared example database); $VMCOMPAT_PROFILE.")
@click.option("--previous", metavar="REPORT", help="report.json (or its folder) to diff against.")
@click.option("--chains", is_flag=True,
              help="Also run migration chains per device (worst chain in every report).")
@click.option("--dry-run", is_flag=True, help="Print the cell count and exit.")
@click.option("--runner", hidden=True, help="module:function instead of the fuzz engine.")
@click.option("--out", "out_dir", metavar="DIR", help="Folder for the four report files.")
@guarded
def run_cmd(descs: tuple[str, ...], catalog: str | None, wires: tuple[str, ...],
            features: str, direction: str, shard: str | None, max_examples: int | None,
            seed: int, jobs: int, profile: str | None, previous: str | None, chains: bool,
            dry_run: bool, runner: str | None, out_dir: str | None) -> None:
    """Run the matrix on the built-in catalog or on DESC (catalog:DEV[@V], description files)."""
    from vmcompat.database import settings_for
    from vmcompat.matrix import (
        DEFAULT_MAX_EXAMPLES,
        build_cells,
        parse_shard,
        progress_for,
        run_cells,
    )
    from vmcompat.matrix import shard as take_shard
    from vmcompat.matrix import subjects as load_subjects
    from vmcompat.report import build_report, render_chain_text, render_text, write_reports

    if not out_dir and not dry_run:
        raise InputError("--out DIR is required")
    histories = load_subjects(catalog, descs)
    wire_list = _wires(wires)
    cells = build_cells(histories, wire_list, features, direction)
    planned = len(cells)
    where = ""
    shard_of: tuple[int, int] | None = None
    if shard:
        i, n = shard_of = parse_shard(shard)
        cells = take_shard(cells, i, n)
        where = f"; shard {i}/{n}: {plural(len(cells), 'cell')}"
    click.echo(f"matrix: {plural(planned, 'cell')} = {plural(len(histories), 'device')} × "
               f"versions² × {plural(len(wire_list), 'wire')} {', '.join(wire_list)} × "
               f"feature sets {features}; directions: {direction}{where}", err=True)
    if dry_run:
        return
    assert out_dir is not None
    prev = _previous(previous)
    run = _runner(runner)
    settings = settings_for(profile) if profile else settings_for()
    n = max_examples or DEFAULT_MAX_EXAMPLES
    jobs = jobs or (os.cpu_count() or 1)
    t0 = time.perf_counter()
    with progress_for(cells) as bar:
        results = run_cells(histories, cells, run, max_examples=n, seed=seed, settings=settings,
                            jobs=jobs, on_done=bar.advance)
    report = build_report(results, seed=seed, max_examples=n, features=features,
                          wires=wire_list, duration=time.perf_counter() - t0, shard=shard,
                          planned=planned, profile=profile, direction=direction)
    if chains:
        report = _with_chains(report, histories, wire_list, n, seed, settings, jobs, shard_of)
    write_reports(report, out_dir, prev)
    click.echo(render_text(report, prev))
    if report.chains is not None:
        click.echo(render_chain_text(report))
    click.echo(f"reports: {out_dir}/report.{{json,md,html}}, {out_dir}/junit.xml")
    if not report.ok:
        sys.exit(EXIT_FOUND)


@matrix.command("merge")
@click.argument("shards", nargs=-1, required=True, metavar="SHARD_DIR...")
@click.option("--previous", metavar="REPORT", help="report.json (or its folder) to diff against.")
@click.option("--out", "out_dir", required=True, metavar="DIR")
@guarded
def merge_cmd(shards: tuple[str, ...], previous: str | None, out_dir: str) -> None:
    """Join the reports of sharded runs (same seed and settings) into one."""
    from vmcompat.report import Report, merge, render_chain_text, render_text, write_reports

    files = [os.path.join(s, "report.json") if os.path.isdir(s) else s for s in shards]
    report = merge([Report.load(f) for f in files], files=files)
    planned = report.summary.get("planned")
    if planned is not None and planned != len(report.cells):
        click.echo(f"vmcompat: warning: {len(report.cells)} of {planned} planned cells "
                   "(a shard is missing?)", err=True)
    prev = _previous(previous)
    write_reports(report, out_dir, prev)
    click.echo(render_text(report, prev))
    if report.chains is not None:
        click.echo(render_chain_text(report))
    if not report.ok:
        sys.exit(EXIT_FOUND)
