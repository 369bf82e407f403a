"""The golden store: the directory store's atomic writes, keys, read-only wrapper."""

from __future__ import annotations

import os

import pytest

from vmcompat.errors import InputError
from vmcompat.golden import DirectoryGoldenStore, MemoryGoldenStore, ReadOnlyGoldenStore
from vmcompat.golden._keys import GoldenKey
from vmcompat.golden._store import TEMP_PREFIX


@pytest.fixture(params=["memory", "directory"])
def store(request, tmp_path):
    return MemoryGoldenStore() if request.param == "memory" else DirectoryGoldenStore(tmp_path)


def test_save_fetch_delete_keys(store):
    store.save_many({"d/v1/legacy/sample.bin": b"\x01", "d/v1/legacy/sample.json": b"{}"})
    assert store.fetch("d/v1/legacy/sample.bin") == b"\x01"
    assert sorted(store.keys()) == ["d/v1/legacy/sample.bin", "d/v1/legacy/sample.json"]
    store.delete("d/v1/legacy/sample.bin")
    store.delete("d/v1/legacy/absent.bin")
    assert store.fetch("d/v1/legacy/sample.bin") is None
    assert sorted(store.keys("d/")) == ["d/v1/legacy/sample.json"]


def test_move_default(store):
    store.save("a/v1/legacy/x.bin", b"x")
    store.move("a/v1/legacy/x.bin", "a/v1/legacy/y.bin")
    assert store.fetch("a/v1/legacy/x.bin") is None
    assert store.fetch("a/v1/legacy/y.bin") == b"x"


def test_directory_store_leaves_no_temp_and_prunes_empty_dirs(tmp_path):
    s = DirectoryGoldenStore(tmp_path)
    s.save("d/v1/legacy/sample.bin", b"abc")
    assert s.temp_files() == []
    s.delete("d/v1/legacy/sample.bin")
    assert not (tmp_path / "d").exists()


def test_directory_store_ignores_and_cleans_temp_files(tmp_path):
    s = DirectoryGoldenStore(tmp_path)
    s.save("d/v1/legacy/sample.bin", b"abc")
    leftover = tmp_path / "d" / "v1" / "legacy" / f"{TEMP_PREFIX}abc"
    leftover.write_bytes(b"half")
    assert list(s.keys()) == ["d/v1/legacy/sample.bin"]
    assert s.clean() == [str(leftover)]
    assert not leftover.exists()


def test_failed_batch_removes_its_temp_files(tmp_path, monkeypatch):
    s = DirectoryGoldenStore(tmp_path)
    s.save("d/v1/legacy/a.bin", b"old")
    calls = []

    def boom(src, dst):
        calls.append(dst)
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        s.save_many({"d/v1/legacy/a.bin": b"new", "d/v1/legacy/b.bin": b"new"})
    monkeypatch.undo()
    assert s.fetch("d/v1/legacy/a.bin") == b"old"
    assert s.temp_files() == [] and calls


def test_keys_cannot_escape(tmp_path):
    with pytest.raises(InputError):
        DirectoryGoldenStore(tmp_path).fetch("../x")


def test_read_only_wrapper(tmp_path):
    inner = MemoryGoldenStore({"k": b"v"})
    ro = ReadOnlyGoldenStore(inner)
    assert ro.fetch("k") == b"v" and list(ro.keys()) == ["k"]
    with pytest.raises(InputError):
        ro.save("k", b"w")
    with pytest.raises(InputError):
        ro.delete("k")


@pytest.mark.parametrize("path", ["rtc/v3/legacy/sample.bin", "a%2Fb/v1/json/feature-msix.json"])
def test_key_round_trip(path):
    k = GoldenKey.parse(path)
    assert k is not None and k.path == path


@pytest.mark.parametrize("path", ["FROZEN.json", "rtc/3/legacy/sample.bin", "rtc/v3/x.bin",
                                  "rtc/v3/legacy/sample.txt"])
def test_not_golden_keys(path):
    assert GoldenKey.parse(path) is None
