"""The README cannot drift: its worked example runs, its type names are the type table's,
and docstrings cite only documents that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from vmcompat.cli import main
from vmcompat.report import WRITERS
from vmcompat.sources import load_all
from vmcompat.types import ALL_TYPE_NAMES

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def example(name: str) -> str:
    """The JSON block under the line `` `name` `` in the README."""
    m = re.search(rf"^`{re.escape(name)}`\n```json\n(.*?)```$", README, re.M | re.S)
    assert m is not None, name
    return m.group(1)


def test_worked_example_is_a_version_adding_a_field(tmp_path: Path) -> None:
    for name in ("timer-v1.json", "timer-v2.json"):
        (tmp_path / name).write_text(example(name))
    v1 = load_all(str(tmp_path / "timer-v1.json"))["mytimer"]
    v2 = load_all(str(tmp_path / "timer-v2.json"))["mytimer"]
    assert (v1.version_id, v2.version_id, v2.minimum_version_id) == (1, 2, 1)
    added = [f for f in v2.fields if f.name not in {g.name for g in v1.fields}]
    assert [(f.name, f.version_id) for f in added] == [("period", 2)]

    def run(*args: str) -> tuple[int, str]:
        r = CliRunner().invoke(main, [a.replace("{}", str(tmp_path)) for a in args])
        return r.exit_code, r.output

    assert run("check", "{}/timer-v1.json", "{}/timer-v2.json")[0] == 0
    code, out = run("check", "{}/timer-v1.json", "{}/timer-v2.json", "--direction", "full")
    assert code == 1 and "too new" in out
    state = re.search(r"A state is\s+JSON too: `(\{.*?\})`", README, re.S)
    assert state is not None
    (tmp_path / "s1.json").write_text(state.group(1))
    assert run("encode", "{}/timer-v1.json", "{}/s1.json", "-o", "{}/p1.bin")[0] == 0
    code, out = run("decode", "{}/timer-v2.json", "{}/p1.bin", "--version-id", "1")
    assert code == 0 and json.loads(out) == {**json.loads(state.group(1)), "period": 1000}


def test_type_names_are_the_type_table() -> None:
    table = section("Descriptions").split("\n| type | what it is |", 1)[1].split("\n\n", 1)[0]
    listed = [n for row in table.splitlines()[2:] for n in
              re.findall(r"`([^`]+)`", row.split("|")[1])]
    assert sorted(listed) == sorted(ALL_TYPE_NAMES)


def test_docstrings_cite_only_documents_that_exist() -> None:
    """A ``*.md`` named in the code is a file of the repository or a report the tool writes."""
    exists = {p.name for p in REPO.rglob("*.md") if ".git" not in p.parts}
    exists |= {p.name.removesuffix(".j2") for p in REPO.rglob("*.md.j2")}  # report templates
    cited = {}
    for top in ("harness", "strategies", "tests", "bench"):
        for py in (REPO / top).rglob("*.py"):
            for name in re.findall(r"\b[\w-]+\.md\b", py.read_text()):
                cited.setdefault(name, py.relative_to(REPO))
    missing = {n: str(p) for n, p in cited.items() if n not in exists | set(WRITERS)}
    assert missing == {}
