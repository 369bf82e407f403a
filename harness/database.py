"""Where Hypothesis keeps examples: a shared database for nightly runs.

``VMCOMPAT_REDIS_URL`` set: a :class:`~hypothesis.extra.redis.RedisExampleDatabase`
on that server (every nightly job, shard and machine replays what the others
found); otherwise a directory database (``VMCOMPAT_DB_DIR``, default
``.hypothesis/examples``). :func:`settings_for` returns the settings of a
Hypothesis profile with the shared database when the profile is ``nightly``
(or ``shared=True``).

>>> from hypothesis.database import DirectoryBasedExampleDatabase
>>> isinstance(shared_database(url="", directory="/tmp/x"), DirectoryBasedExampleDatabase)
True
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

from vmcompat.errors import InputError

REDIS_ENV = "VMCOMPAT_REDIS_URL"
DIR_ENV = "VMCOMPAT_DB_DIR"
DEFAULT_DIR = os.path.join(".hypothesis", "examples")
#: keys in Redis start with this, so one server can serve other projects too
KEY_PREFIX = b"vmcompat-examples:"
#: profiles that use the shared database by default
SHARED_PROFILES = frozenset({"nightly", "vmcompat-nightly"})
#: ``nightly`` when no plugin registered one: many examples, no deadline
NIGHTLY = settings(max_examples=500, deadline=None)


#: attribute set on databases made by :func:`shared_database` (the engine uses only those)
SHARED_MARK = "_vmcompat_shared"


def is_shared(db: ExampleDatabase | None) -> bool:
    """Whether ``db`` is a shared database made by :func:`shared_database`."""
    return db is not None and bool(getattr(db, SHARED_MARK, False))


class NamespacedDatabase(ExampleDatabase):
    """``db`` with every key put under ``namespace``: the examples of one cell (or target)
    never replay in another, whatever key Hypothesis derives for the test function.

    Public API only (an ``ExampleDatabase`` subclass, as Hypothesis's own
    ``ReadOnlyDatabase`` wraps one); changes are not broadcast to listeners.

    >>> from hypothesis.database import InMemoryExampleDatabase
    >>> inner = InMemoryExampleDatabase()
    >>> NamespacedDatabase(inner, b"cell-a").save(b"k", b"v")
    >>> list(NamespacedDatabase(inner, b"cell-a").fetch(b"k")), list(inner.fetch(b"k"))
    ([b'v'], [])
    """

    def __init__(self, db: ExampleDatabase, namespace: bytes) -> None:
        super().__init__()
        self.db, self.namespace = db, namespace

    def __repr__(self) -> str:
        return f"NamespacedDatabase({self.db!r}, {self.namespace!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, NamespacedDatabase) and self.db == other.db
                and self.namespace == other.namespace)

    def key(self, key: bytes) -> bytes:
        """Where ``key`` lives in the wrapped database."""
        return self.namespace + b"/" + key

    def fetch(self, key: bytes) -> Iterable[bytes]:
        yield from self.db.fetch(self.key(key))

    def save(self, key: bytes, value: bytes) -> None:
        self.db.save(self.key(key), value)

    def delete(self, key: bytes, value: bytes) -> None:
        self.db.delete(self.key(key), value)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        self.db.move(self.key(src), self.key(dest), value)

    def _start_listening(self) -> None:  # no change events to broadcast
        pass

    def _stop_listening(self) -> None:
        pass


def shared_database(url: str | None = None, directory: str | None = None) -> ExampleDatabase:
    """Redis when a URL is given (or ``$VMCOMPAT_REDIS_URL``), else a directory."""
    db = _make(url, directory)
    setattr(db, SHARED_MARK, True)
    return db


def _make(url: str | None, directory: str | None) -> ExampleDatabase:
    url = os.environ.get(REDIS_ENV, "") if url is None else url
    if url:
        try:
            import redis
            from hypothesis.extra.redis import RedisExampleDatabase
        except ImportError:
            raise InputError(f"${REDIS_ENV} is set but the Redis client is not installed: "
                             "pip install 'vmcompat[redis]'") from None

        try:
            client = redis.Redis.from_url(url)
        except ValueError as e:
            raise InputError(f"${REDIS_ENV}: {e}") from None
        return RedisExampleDatabase(client, key_prefix=KEY_PREFIX)
    return DirectoryBasedExampleDatabase(directory or os.environ.get(DIR_ENV) or DEFAULT_DIR)


def settings_for(profile: str | None = None, *, shared: bool | None = None) -> settings:
    """The settings of ``profile`` (default: the active one), with the shared database
    when ``shared`` (default: when the profile is a nightly one)."""
    if profile is not None:
        try:
            base = settings.get_profile(profile)
        except Exception:
            if profile not in SHARED_PROFILES:
                raise InputError(f"no Hypothesis profile {profile!r}") from None
            base = NIGHTLY  # not registered by a plugin here: the built-in nightly defaults
    else:
        base = settings()
    if shared is None:
        shared = (profile or settings.get_current_profile_name()) in SHARED_PROFILES
    return settings(base, database=shared_database()) if shared else base
