"""The engine keeps a cell's counterexample in a shared example database and replays it."""

from __future__ import annotations

from pathlib import Path

import hypothesis

from harness.compat.verdict import Cell, Verdict
from harness.database import is_shared, shared_database
from harness.dsl import device, int8, uint8
from harness.matrix.engine import cell_database_key, run_cell

OLD = device("d", 1, uint8("a"))
NEW = device("d", 1, int8("a"))  # uint8 -> int8: values >= 128 load negated: corrupt


def test_shared_database_saves_and_replays_per_cell(tmp_path: Path) -> None:
    db = shared_database(url="", directory=str(tmp_path / "db"))
    assert is_shared(db) and not is_shared(hypothesis.settings.default.database)
    cell = Cell("d", "1", "1")
    s = hypothesis.settings(database=db)
    first = run_cell(OLD, NEW, cell, max_examples=200, seed=1, settings=s)
    assert first.verdict is Verdict.CORRUPT
    saved = list(db.fetch(cell_database_key(cell)))
    assert saved, "the shrunk counterexample is in the shared database"
    # the replay finds it again even with a single example to spend
    again = run_cell(OLD, NEW, cell, max_examples=1, seed=2, settings=s)
    assert again.verdict is Verdict.CORRUPT
    assert again.counterexample["state"] == first.counterexample["state"]
    # another cell's key holds nothing
    assert list(db.fetch(cell_database_key(Cell("d", "1", "1", wire="json")))) == []


def test_without_a_shared_database_nothing_is_stored(tmp_path: Path) -> None:
    from hypothesis.database import DirectoryBasedExampleDatabase

    plain = DirectoryBasedExampleDatabase(str(tmp_path / "plain"))
    cell = Cell("d", "1", "1")
    r = run_cell(OLD, NEW, cell, max_examples=200, seed=1,
                 settings=hypothesis.settings(database=plain))
    assert r.verdict is Verdict.CORRUPT
    assert list(plain.fetch(cell_database_key(cell))) == []
