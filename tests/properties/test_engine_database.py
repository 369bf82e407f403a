"""The engine keeps a cell's counterexample in a shared example database and replays it."""

from __future__ import annotations

from pathlib import Path

import hypothesis
from hypothesis.database import InMemoryExampleDatabase

from vmcompat.compat.verdict import Cell, Verdict
from vmcompat.database import SHARED_MARK, is_shared, shared_database
from vmcompat.dsl import device, int8, uint8
from vmcompat.matrix.engine import cell_database_key, run_cell

OLD = device("d", 1, uint8("a"))
NEW = device("d", 1, int8("a"))  # uint8 -> int8: values >= 128 load negated: corrupt


class _KeySpy(InMemoryExampleDatabase):
    """A shared in-memory database that remembers every key written."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[bytes] = set()
        setattr(self, SHARED_MARK, True)

    def save(self, key: bytes, value: bytes) -> None:
        self.keys.add(key)
        super().save(key, value)


def test_shared_database_saves_and_replays_per_cell(tmp_path: Path) -> None:
    db = shared_database(url="", directory=str(tmp_path / "db"))
    assert is_shared(db) and not is_shared(hypothesis.settings.default.database)
    cell = Cell("d", "1", "1")
    s = hypothesis.settings(database=db)
    first = run_cell(OLD, NEW, cell, max_examples=200, seed=1, settings=s)
    assert first.verdict is Verdict.CORRUPT
    assert any((tmp_path / "db").iterdir()), "the shrunk counterexample is in the database"
    # the replay finds it again even with a single example to spend
    again = run_cell(OLD, NEW, cell, max_examples=1, seed=2, settings=s)
    assert again.verdict is Verdict.CORRUPT
    assert again.counterexample["state"] == first.counterexample["state"]


def test_each_cell_keeps_its_examples_under_its_own_key() -> None:
    db = _KeySpy()
    cell, other = Cell("d", "1", "1"), Cell("d", "1", "1", features=("other",))
    s = hypothesis.settings(database=db)
    assert run_cell(OLD, NEW, cell, max_examples=200, seed=1, settings=s).verdict \
        is Verdict.CORRUPT
    assert db.keys and all(k.startswith(cell_database_key(cell) + b"/") for k in db.keys)
    assert not any(k.startswith(cell_database_key(other)) for k in db.keys)
    # the same cell replays its counterexample with one example to spend; another cell
    # (same descriptions, same test body, another key) does not see it
    assert run_cell(OLD, NEW, cell, max_examples=1, seed=2, settings=s).verdict \
        is Verdict.CORRUPT
    assert run_cell(OLD, NEW, other, max_examples=1, seed=2, settings=s).verdict \
        is Verdict.COMPATIBLE


def test_without_a_shared_database_nothing_is_stored(tmp_path: Path) -> None:
    from hypothesis.database import DirectoryBasedExampleDatabase

    plain = DirectoryBasedExampleDatabase(str(tmp_path / "plain"))
    cell = Cell("d", "1", "1")
    r = run_cell(OLD, NEW, cell, max_examples=200, seed=1,
                 settings=hypothesis.settings(database=plain))
    assert r.verdict is Verdict.CORRUPT
    assert not (tmp_path / "plain").exists() or not any((tmp_path / "plain").iterdir())
