"""Where goldens live: a small key/value store modelled on Hypothesis's ``database.py``.

Three abstract methods (:meth:`GoldenStore.fetch`, :meth:`GoldenStore.save`,
:meth:`GoldenStore.delete`) plus :meth:`GoldenStore.keys`; :meth:`save_many`
has a default. Keys are relative POSIX paths (``"rtc/v3/legacy/sample.bin"``).
:class:`DirectoryGoldenStore` writes every file to a temp name beside it,
fsyncs, then renames, so a kill leaves the old or the new file, never a torn
one. :class:`ReadOnlyGoldenStore` wraps any store for ``verify``.

>>> s = MemoryGoldenStore()
>>> s.save("d/v1/legacy/sample.bin", b"\\x01")
>>> s.fetch("d/v1/legacy/sample.bin"), sorted(s.keys())
(b'\\x01', ['d/v1/legacy/sample.bin'])
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping

from vmcompat.atomic import TEMP_PREFIX, create_temp
from vmcompat.errors import InputError

#: test hook: seconds to sleep before each file operation of a write (kill tests)
SLOW_ENV = "VMCOMPAT_GOLDEN_SLOW_WRITES"


class GoldenStore(ABC):
    """An abstract store of golden files."""

    @abstractmethod
    def fetch(self, key: str) -> bytes | None:
        """The stored bytes, or None when absent."""

    @abstractmethod
    def save(self, key: str, value: bytes) -> None:
        """Store ``value`` under ``key`` (atomically where the store can)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; absent keys are fine."""

    @abstractmethod
    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key (under ``prefix``), in no particular order."""

    def save_many(self, items: Mapping[str, bytes]) -> None:
        """Store several values; subclasses may make the batch closer to atomic."""
        for k, v in items.items():
            self.save(k, v)

    def move(self, src: str, dst: str) -> None:
        """Default: save then delete (``database.py``'s default ``move``)."""
        value = self.fetch(src)
        if value is not None:
            self.save(dst, value)
            self.delete(src)


class MemoryGoldenStore(GoldenStore):
    """A dict: for tests."""

    def __init__(self, data: Mapping[str, bytes] | None = None) -> None:
        self.data: dict[str, bytes] = dict(data or {})

    def fetch(self, key: str) -> bytes | None:
        return self.data.get(key)

    def save(self, key: str, value: bytes) -> None:
        self.data[key] = bytes(value)

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    def keys(self, prefix: str = "") -> Iterator[str]:
        return iter([k for k in self.data if k.startswith(prefix)])


class ReadOnlyGoldenStore(GoldenStore):
    """Reads through to ``wrapped``; writes raise (``database.py``'s ``ReadOnlyDatabase``)."""

    def __init__(self, wrapped: GoldenStore) -> None:
        self.wrapped = wrapped

    def fetch(self, key: str) -> bytes | None:
        return self.wrapped.fetch(key)

    def save(self, key: str, value: bytes) -> None:
        raise InputError("golden store is read-only", file=key)

    def delete(self, key: str) -> None:
        raise InputError("golden store is read-only", file=key)

    def keys(self, prefix: str = "") -> Iterator[str]:
        return self.wrapped.keys(prefix)


def _pause() -> None:
    delay = os.environ.get(SLOW_ENV)
    if delay:
        time.sleep(float(delay))


class DirectoryGoldenStore(GoldenStore):
    """Files under ``root``; keys are paths relative to it."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def path(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise InputError("golden key escapes the golden directory", file=key)
        return os.path.join(self.root, *key.split("/"))

    def fetch(self, key: str) -> bytes | None:
        try:
            with open(self.path(key), "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise InputError(f"cannot read: {e.strerror}", file=self.path(key)) from None

    def _temp(self, key: str, value: bytes) -> str:
        """Write ``value`` to a synced temp file beside ``key``'s path; return its name."""
        dest = self.path(key)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        fd, tmp = create_temp(dest)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(value)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            _unlink(tmp)
            raise
        return tmp

    def save(self, key: str, value: bytes) -> None:
        self.save_many({key: value})

    def save_many(self, items: Mapping[str, bytes]) -> None:
        """Two phases: every temp file written and synced, then every rename.

        A kill in phase one leaves only temp files (removed by :meth:`clean`);
        a kill in phase two leaves each file old or new, never torn.
        """
        temps: list[tuple[str, str]] = []
        try:
            for key, value in items.items():
                _pause()
                temps.append((self._temp(key, value), self.path(key)))
            for tmp, dest in temps:
                _pause()
                os.replace(tmp, dest)
        except BaseException:
            for tmp, _ in temps:
                _unlink(tmp)
            raise
        for d in {os.path.dirname(dest) for _, dest in temps}:
            _fsync_dir(d)

    def delete(self, key: str) -> None:
        _pause()
        _unlink(self.path(key))
        d = os.path.dirname(self.path(key))
        while d != self.root and d.startswith(self.root):
            try:
                os.rmdir(d)  # only when empty
            except OSError:
                break
            d = os.path.dirname(d)

    def keys(self, prefix: str = "") -> Iterator[str]:
        top = self.path(prefix) if prefix else self.root
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel = os.path.relpath(dirpath, self.root)
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                yield name if rel == "." else f"{rel.replace(os.sep, '/')}/{name}"

    def temp_files(self) -> list[str]:
        """Leftover temp files of an interrupted write."""
        out = []
        for dirpath, _, filenames in os.walk(self.root):
            out += [os.path.join(dirpath, n) for n in filenames if n.startswith(TEMP_PREFIX)]
        return sorted(out)

    def clean(self) -> list[str]:
        """Remove leftover temp files; return their paths."""
        found = self.temp_files()
        for p in found:
            _unlink(p)
        return found


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_dir(d: str) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def all_keys(store: GoldenStore, prefixes: Iterable[str] = ("",)) -> list[str]:
    """Sorted keys under any of ``prefixes``."""
    return sorted({k for p in prefixes for k in store.keys(p)})


def dumps(obj: object) -> str:
    """JSON as goldens store it: two-space indent, key order kept, final newline."""
    import json

    return json.dumps(obj, indent=2) + "\n"
