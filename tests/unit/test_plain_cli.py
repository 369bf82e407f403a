"""Plain command lines (vmcompat.cli.plain) run without click exactly as click would run them:
each entry matches its click command, the parse matches click's, and the run gives the same
files, exit code and message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from vmcompat.cli import main, run
from vmcompat.cli.plain import PLAIN, Plain, parse

ROOT = Path(__file__).resolve().parents[2]
STREAM = ROOT / "golden" / "qemu-7.2" / "streams" / "pc-i440fx-7.2.bin"


def _click_command(words: tuple[str, ...]) -> click.Command:
    cmd: click.Command = main
    ctx = click.Context(main)
    for w in words:
        assert isinstance(cmd, click.Group)
        found = cmd.get_command(ctx, w)
        assert found is not None, w
        cmd = found
    return cmd


@pytest.mark.parametrize("plain", PLAIN, ids=lambda p: " ".join(p.words))
def test_each_plain_command_declares_its_click_commands_parameters(plain: Plain) -> None:
    cmd = _click_command(plain.words)
    args = tuple(p.name for p in cmd.params if isinstance(p, click.Argument))
    options = {o: p.name for p in cmd.params if isinstance(p, click.Option) and not p.is_flag
               for o in p.opts + p.secondary_opts}
    flags = {o: p.name for p in cmd.params if isinstance(p, click.Option) and p.is_flag
             for o in p.opts}
    assert (plain.arguments, dict(plain.options), dict(plain.flags)) == (args, options, flags)
    assert plain.required == {p.name for p in cmd.params if p.required}
    # what an absent option or flag is in click, it is here: the shortest command line
    shortest = [f"a{i}" for i in range(len(args))] + [
        a for o, name in plain.options.items() if name in plain.required
        and o == min(o2 for o2, n2 in plain.options.items() if n2 == name) for a in (o, "v")]
    found = parse([*plain.words, *shortest])
    assert found is not None
    assert cmd.make_context("x", shortest).params == found[1]
    callback = cmd.callback
    assert callback is not None
    assert callback.__wrapped__.__code__.co_names.count(plain.target.split(":")[1]) == 1, \
        "the click command calls the plain command's function"


#: words a command line for ``stream decode`` is made of, near misses included
_TOKENS = ("s.bin", "d.json", "x", "", "-o", "--output", "--output=d.json", "--output=",
           "-o=d.json", "-od.json", "--vmdesc-from", "--vmdesc-from=v.json",
           "--allow-trailing", "--allow-trailing=1", "--", "-", "-h", "--help", "--out",
           "--bogus", "-x")


_OUT = (["-o", "d.json"], ["--output", "d.json"], ["--output=d.json"], ["--output="],
        ["-o=d.json"], ["-od.json"], ["-o", "-x"], ["-o"])
_VMDESC = ([], ["--vmdesc-from", "v.json"], ["--vmdesc-from=v.json"], ["--vmdesc-from"])


@st.composite
def _command_lines(draw: st.DrawFn) -> list[str]:
    """Nearly plain ``stream decode`` lines: the parts in any order, then maybe one token
    more anywhere (a near miss: help, a repeat, an unknown option, "--", a second file)."""
    parts = [["s.bin"], draw(st.sampled_from(_OUT)), draw(st.sampled_from(_VMDESC)),
             draw(st.sampled_from(([], ["--allow-trailing"], ["--allow-trailing=1"])))]
    tail = [t for part in draw(st.permutations(parts)) for t in part]
    for token in draw(st.lists(st.sampled_from(_TOKENS), max_size=2)):
        tail.insert(draw(st.integers(0, len(tail))), token)
    return tail


@given(st.one_of(_command_lines(), st.lists(st.sampled_from(_TOKENS), max_size=7)))
def test_a_plain_parse_is_clicks_parse(tail: list[str]) -> None:
    """Where the plain parse takes a command line, click takes it too, with the same values."""
    argv = ["stream", "decode", *tail]
    found = parse(argv)
    if found is None:
        return
    command, params = found
    cmd = _click_command(command.words)
    ctx = cmd.make_context(" ".join(command.words), list(tail))
    assert ctx.params == params


@pytest.mark.parametrize("tail", [
    ["s.bin", "-o", "d.json"], ["-o", "d.json", "s.bin"], ["s.bin", "--output=d.json"],
    ["--allow-trailing", "s.bin", "--output", "d.json", "--vmdesc-from", "v.json"]])
def test_everyday_command_lines_are_plain(tail: list[str]) -> None:
    assert parse(["stream", "decode", *tail]) is not None


def _run_plain(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as e:
        run(argv)
    return int(e.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize("case", ["good", "not-a-stream", "no-directory"])
def test_plain_and_click_runs_agree(case: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    stream = str(STREAM) if case != "not-a-stream" else str(ROOT / "pyproject.toml")
    folder = tmp_path / ("missing" if case == "no-directory" else "")
    argv = ["stream", "decode", stream, "-o", str(folder / "plain.json")]
    assert parse(argv) is not None
    code, err = _run_plain(argv, capsys)
    r = CliRunner().invoke(main, ["stream", "decode", stream, "--output",
                                  str(folder / "click.json"), "--"])  # "--": never plain
    assert (code, err.replace("plain.", "X.")) == (r.exit_code, r.stderr.replace("click.", "X."))
    if case == "good":
        assert code == 0
        assert (tmp_path / "plain.pages.bin").read_bytes() \
            == (tmp_path / "click.pages.bin").read_bytes()
        doc = json.loads((tmp_path / "plain.json").read_text())
        assert doc["pages"]["file"] == "plain.pages.bin"
        doc["pages"]["file"] = "click.pages.bin"
        assert doc == json.loads((tmp_path / "click.json").read_text())
    else:
        assert code == 2 and err.count("\n") == 1


def test_a_plain_command_line_never_imports_click(tmp_path: Path) -> None:
    probe = ("import runpy, sys\nsys.argv = ['vmcompat', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('vmcompat', run_name='__main__')\n"
             "except SystemExit as e:\n    print(e.code, 'click' in sys.modules)\n")
    argv: list[Any] = ["stream", "decode", str(STREAM), "-o", str(tmp_path / "d.json")]
    r = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True,
                       check=True)
    assert r.stdout.split() == ["0", "False"]
    r = subprocess.run([sys.executable, "-c", probe, *argv, "--"], capture_output=True,
                       text=True, check=True)
    assert r.stdout.split() == ["0", "True"]
