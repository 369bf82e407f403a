"""The command line's contract: a closed stdout, option ranges, and the README's command table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from vmcompat.cli import EXIT_PIPE, main
from vmcompat.cli.options import SECONDS

REPO = Path(__file__).resolve().parents[2]


def commands() -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command and group under ``vmcompat`` (lazy ones imported), with its path."""

    def walk(path: tuple[str, ...], cmd: click.Command, ctx: click.Context
             ) -> Iterator[tuple[tuple[str, ...], click.Command]]:
        yield path, cmd
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None, name
                yield from walk((*path, name), sub, click.Context(sub, ctx, info_name=name))

    yield from walk((), main, click.Context(main, info_name="vmcompat"))


def options(cmd: click.Command) -> list[click.Option]:
    return [p for p in cmd.params if isinstance(p, click.Option) and not p.hidden]


# ----------------------------------------------------------------------------- closed stdout
@pytest.mark.parametrize("args", [
    ["golden", "verify", "--device", "ps2kbd"],
    ["check", "--list-rules"],
    ["schema", "catalog:apic@3"],
    ["--help"],
    ["stream", "--help"],
])
def test_closed_stdout_stops_quietly(args: list[str]) -> None:
    """`vmcompat golden verify | head -1`: the reader has gone before anything is written."""
    read, write = os.pipe()
    os.close(read)
    try:
        r = subprocess.run([sys.executable, "-m", "vmcompat", *args], cwd=REPO, stdout=write,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert (r.returncode, r.stderr) == (EXIT_PIPE, "")


def test_a_broken_pipe_elsewhere_is_still_an_internal_error(capsys) -> None:
    """Only stdout's reader going away is quiet: a dead QMP socket or subprocess is reported."""
    from vmcompat.cli import guarded

    @guarded
    def talk_to_qemu() -> None:
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(SystemExit) as e:
        talk_to_qemu()
    assert e.value.code == 3
    assert "internal error: BrokenPipeError" in capsys.readouterr().err


# ----------------------------------------------------------------------------- option ranges
def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.output


def test_every_number_option_has_its_range() -> None:
    """No bare int or float: each number option says its range (seeds are any integer)."""
    loose = []
    for path, cmd in commands():
        for o in options(cmd):
            t = o.type
            if t is click.INT and o.name != "seed":
                loose.append(f"{' '.join(path)} {o.opts[-1]}")
            if isinstance(t, click.types.FloatParamType) or (
                    isinstance(t, click.IntRange) and t.min is None):
                loose.append(f"{' '.join(path)} {o.opts[-1]}")
    assert loose == []


@pytest.mark.parametrize("args", [
    ["decode", "catalog:ps2kbd@3", "x.bin", "--version-id", "99999999999999999999"],
    ["decode", "catalog:ps2kbd@3", "x.bin", "--version-id", str(1 << 32)],
    ["decode", "catalog:ps2kbd@3", "x.bin", "--version-id", "-1"],
    ["schema", "catalog:ps2kbd", "--version", str(1 << 32)],
    ["check", "catalog:ps2kbd@2", "catalog:ps2kbd@3", "--prove", "--max-examples", "0"],
    ["fuzz", "catalog:ps2kbd@2", "catalog:ps2kbd@3", "--max-examples", "0"],
    ["matrix", "--dry-run", "--max-examples", "0"],
    ["matrix", "--dry-run", "-j", "-1"],
    ["qemu", "capture", "--machine", "pc", "-o", "x.bin", "--timeout", "nan"],
    ["qemu", "capture", "--machine", "pc", "-o", "x.bin", "--timeout", "inf"],
    ["qemu", "load", "--machine", "pc", "x.bin", "--timeout", "0"],
])
def test_number_outside_its_range_is_bad_input(args: list[str]) -> None:
    code, out = run(*args)
    assert code == 2, out
    assert out.count("\n") == 1 and "Invalid value for" in out, out


def test_largest_version_id_is_a_version_too_new(tmp_path: Path) -> None:
    """A be32 version id is in range: the load is refused (exit 1), not bad input."""
    payload = tmp_path / "p.bin"
    payload.write_bytes(b"")
    code, out = run("decode", "catalog:ps2kbd@3", str(payload), "--version-id",
                    str((1 << 32) - 1))
    assert code == 1 and "incoming version_id 4294967295 is too new" in out, out


def test_seconds_are_positive_and_finite() -> None:
    assert SECONDS.convert("0.5", None, None) == 0.5
    for bad in ("-1", "0", "nan", "inf", "soon"):
        with pytest.raises(click.BadParameter):
            SECONDS.convert(bad, None, None)


def test_huge_jobs_start_no_more_workers_than_there_is_work(monkeypatch) -> None:
    import vmcompat.matrix._run as run_module
    from vmcompat.compat.verdict import CellResult, Verdict
    from vmcompat.dsl import device, uint8
    from vmcompat.matrix import build_cells, run_cells
    from vmcompat.model import DeviceHistory

    started = []

    class Pool:  # records the size asked for instead of forking
        def __init__(self, max_workers: int, mp_context: object) -> None:
            started.append(max_workers)

        def __enter__(self) -> Pool:
            raise RuntimeError("stop here")

        def __exit__(self, *exc: object) -> None:
            pass

    monkeypatch.setattr(run_module, "ProcessPoolExecutor", Pool)
    hs = {n: DeviceHistory(n, tuple(device(n, v, uint8("a")) for v in (1, 2)))
          for n in ("a", "b")}
    cells = build_cells(hs, ["legacy"], "none")

    def runner(src, dst, cell, **kw):  # pragma: no cover - never reached
        return CellResult(cell, Verdict.COMPATIBLE, 1)

    with pytest.raises(RuntimeError, match="stop here"):
        run_cells(hs, cells, runner, jobs=10**9)
    assert started == [2]  # two devices: two chunks of cells


# ----------------------------------------------------------------------------- the README's table
def _table_rows() -> dict[str, str]:
    """README "Commands" table: command (``vmcompat stream decode``) -> its whole row."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if \
            line.startswith("| `vmcompat") else []
        if cells:
            rows[re.sub(r"[`\[\]]", "", cells[0]).strip()] = line
    return rows


def test_readme_table_has_every_command_and_option() -> None:
    """Every command `--help` shows has a row naming each of its options."""
    rows = _table_rows()
    missing = []
    for path, cmd in commands():
        if isinstance(cmd, click.Group) and not options(cmd) and path:
            continue  # a group of commands: its commands have the rows
        name = " ".join(("vmcompat", *path))
        row = rows.get(name)
        if row is None:
            missing.append(name)
            continue
        for o in options(cmd):
            for opt in (*o.opts, *o.secondary_opts):
                if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", row):
                    missing.append(f"{name} {opt}")
    assert missing == []


def test_help_lists_the_commands_of_the_readme_table() -> None:
    code, out = run("--help")
    assert code == 0
    listed = re.findall(r"^  (\w+)  ", out.split("Commands:", 1)[1], re.M)
    in_table = {name.split()[1] for name in _table_rows() if len(name.split()) > 1}
    assert set(listed) == in_table
