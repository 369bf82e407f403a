"""``@immutable`` behaves as ``@dataclass(frozen=True)`` does (vmcompat.values)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmcompat.values import immutable


def _body() -> dict[str, Any]:
    return {"__annotations__": {"a": "int", "b": "tuple[int, ...]", "c": "dict[str, int]",
                                "d": "str"},
            "__doc__": "A value.", "__module__": __name__,
            "b": (), "c": dataclasses.field(default_factory=dict, compare=False, repr=False),
            "d": dataclasses.field(default="x", hash=False)}


#: the same class made by ``@immutable`` and by ``@dataclass(frozen=True)``, with and
#: without slots (module level: pickle finds them by name)
Fast = immutable(type("Fast", (), _body()))
Ref = dataclasses.dataclass(frozen=True)(type("Ref", (), _body()))
FastSlots = immutable(slots=True)(type("FastSlots", (), _body()))
RefSlots = dataclasses.dataclass(frozen=True, slots=True)(type("RefSlots", (), _body()))


def _pair(slots: bool) -> tuple[type, type]:
    return (FastSlots, RefSlots) if slots else (Fast, Ref)


_args = st.tuples(st.integers(-3, 3), st.lists(st.integers(0, 2), max_size=2).map(tuple),
                  st.dictionaries(st.sampled_from("pq"), st.integers(0, 1), max_size=1),
                  st.sampled_from(["x", "y"]))


@pytest.mark.parametrize("slots", [False, True])
@given(x=_args, y=_args)
def test_same_as_frozen_dataclass(slots: bool, x: tuple[Any, ...], y: tuple[Any, ...]) -> None:
    fast, ref = _pair(slots)
    fx, fy, rx, ry = fast(*x), fast(*y), ref(*x), ref(*y)
    assert (fx == fy) is (rx == ry)
    assert fx != fy or hash(fx) == hash(fy)
    assert repr(fx).partition("(")[2] == repr(rx).partition("(")[2]
    assert dataclasses.astuple(fx) == dataclasses.astuple(rx)
    assert [f.name for f in dataclasses.fields(fx)] == [f.name for f in dataclasses.fields(rx)]
    assert fast.__match_args__ == ref.__match_args__
    assert dataclasses.astuple(dataclasses.replace(fx, a=9)) == dataclasses.astuple(
        dataclasses.replace(rx, a=9))
    assert fast(x[0], b=x[1], d=x[3]) == fast(*x[:2], d=x[3])
    for clone in (pickle.loads(pickle.dumps(fx)), copy.copy(fx), copy.deepcopy(fx)):
        assert clone == fx and dataclasses.astuple(clone) == dataclasses.astuple(fx)
    assert hasattr(fx, "__dict__") is hasattr(rx, "__dict__")


@pytest.mark.parametrize("slots", [False, True])
def test_frozen_and_bad_arguments_fail_alike(slots: bool) -> None:
    fast, ref = _pair(slots)
    for cls in (fast, ref):
        v = cls(1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            v.a = 2  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            del v.a
        for bad in ((), (1, (), {}, "x", 5)):
            with pytest.raises(TypeError):
                cls(*bad)
        with pytest.raises(TypeError):
            cls(1, e=2)
        with pytest.raises(TypeError):
            cls(1, a=2)
    assert fast(1).c is not fast(1).c  # default_factory: a new one each time


def test_post_init_and_own_methods_are_kept() -> None:
    seen = []

    @immutable
    class P:
        x: list[int]

        def __post_init__(self) -> None:
            object.__setattr__(self, "x", tuple(self.x))
            seen.append(self.x)

        def __repr__(self) -> str:
            return "P!"

    assert P([1, 2]).x == (1, 2) and seen == [(1, 2)] and repr(P([])) == "P!"
    assert hash(P([1])) == hash(P([1]))


def test_an_own_eq_still_gets_the_fields_hash() -> None:
    """As a frozen dataclass does: an ``__eq__`` of its own does not leave it unhashable."""

    @immutable
    class Q:
        x: int

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Q) and self.x % 2 == other.x % 2

    assert hash(Q(1)) == hash(Q(1)) and Q(1) == Q(3)


def test_own_setattr_is_refused() -> None:
    with pytest.raises(TypeError, match="__setattr__"):
        @immutable
        class R:
            x: int

            def __setattr__(self, name: str, value: Any) -> None: ...
