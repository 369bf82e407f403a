"""The shared example database: a real redis-server on loopback when installed."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from vmcompat.database import KEY_PREFIX, REDIS_ENV, settings_for, shared_database
from vmcompat.errors import InputError

REDIS = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url():
    if REDIS is None:
        pytest.skip("no redis-server on PATH (Debian package 'redis-server'; .ci/run installs it)")
    import redis

    port = _free_port()
    proc = subprocess.Popen([REDIS, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not answer on loopback")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _failing(db, seen):
    @settings(database=db, max_examples=300, deadline=None, derandomize=False,
              phases=(Phase.reuse, Phase.generate, Phase.shrink))
    @given(st.integers(0, 10_000))
    def prop(x):
        seen.append(x)
        assert x < 500

    return prop


@pytest.mark.redis
def test_examples_saved_and_replayed_in_redis(redis_url, monkeypatch):
    import redis

    monkeypatch.setenv(REDIS_ENV, redis_url)
    db = settings_for(shared=True).database
    assert type(db).__name__ == "RedisExampleDatabase"
    seen: list[int] = []
    with pytest.raises(AssertionError):
        _failing(db, seen)()
    keys = redis.Redis.from_url(redis_url).keys(KEY_PREFIX + b"*")
    assert keys, "no example was saved in redis"
    replay: list[int] = []
    with pytest.raises(AssertionError):
        _failing(shared_database(), replay)()  # a new client, as another job would make
    assert replay[0] == 500, "the saved counterexample was not replayed first"


def test_directory_database_without_redis(monkeypatch, tmp_path):
    monkeypatch.delenv(REDIS_ENV, raising=False)
    monkeypatch.setenv("VMCOMPAT_DB_DIR", str(tmp_path))
    db = settings_for(shared=True).database
    assert isinstance(db, DirectoryBasedExampleDatabase)
    seen: list[int] = []
    with pytest.raises(AssertionError):
        _failing(db, seen)()
    assert any(tmp_path.iterdir())


def test_nightly_profile_uses_the_shared_database(monkeypatch, tmp_path):
    monkeypatch.delenv(REDIS_ENV, raising=False)
    monkeypatch.setenv("VMCOMPAT_DB_DIR", str(tmp_path))
    settings.register_profile("nightly-test-base", max_examples=7)
    monkeypatch.setattr("vmcompat.database.SHARED_PROFILES", frozenset({"nightly-test-base"}))
    s = settings_for("nightly-test-base")
    assert s.max_examples == 7 and isinstance(s.database, DirectoryBasedExampleDatabase)
    assert settings_for("nightly-test-base", shared=False).database is not s.database


def test_a_redis_url_without_the_redis_extra_names_the_extra(monkeypatch):
    """redis is an optional extra: without it a Redis URL is bad input naming what to install."""
    monkeypatch.setitem(sys.modules, "redis", None)  # `import redis` raises ImportError
    with pytest.raises(InputError, match=r"pip install 'vmcompat\[redis\]'"):
        shared_database(url="redis://127.0.0.1:1/0")
