"""``@immutable`` behaves as ``@dataclass(frozen=True)`` does (vmcompat.values)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmcompat import values
from vmcompat.values import immutable


def _body(field: Any = dataclasses.field) -> dict[str, Any]:
    return {"__annotations__": {"a": "int", "b": "tuple[int, ...]", "c": "dict[str, int]",
                                "d": "str"},
            "__doc__": "A value.", "__module__": __name__,
            "b": (), "c": field(default_factory=dict, compare=False, repr=False),
            "d": field(default="x", hash=False)}


#: the same class made by ``@immutable`` and by ``@dataclass(frozen=True)``, with and
#: without slots (module level: pickle finds them by name)
Fast = immutable(type("Fast", (), _body()))
Ref = dataclasses.dataclass(frozen=True)(type("Ref", (), _body()))
FastSlots = immutable(slots=True)(type("FastSlots", (), _body()))
RefSlots = dataclasses.dataclass(frozen=True, slots=True)(type("RefSlots", (), _body()))
#: the same, its fields' options given with vmcompat.values.field
Own = immutable(type("Own", (), _body(values.field)))
OwnSlots = immutable(slots=True)(type("OwnSlots", (), _body(values.field)))
PAIRS = {False: [(Fast, Ref), (Own, Ref)], True: [(FastSlots, RefSlots), (OwnSlots, RefSlots)]}


def _pair(slots: bool) -> tuple[type, type]:
    return (FastSlots, RefSlots) if slots else (Fast, Ref)


_args = st.tuples(st.integers(-3, 3), st.lists(st.integers(0, 2), max_size=2).map(tuple),
                  st.dictionaries(st.sampled_from("pq"), st.integers(0, 1), max_size=1),
                  st.sampled_from(["x", "y"]))


@pytest.mark.parametrize("slots", [False, True])
@pytest.mark.parametrize("own", [False, True], ids=["dataclasses.field", "values.field"])
@given(x=_args, y=_args)
def test_same_as_frozen_dataclass(slots: bool, own: bool, x: tuple[Any, ...],
                                  y: tuple[Any, ...]) -> None:
    fast, ref = PAIRS[slots][own]
    fx, fy, rx, ry = fast(*x), fast(*y), ref(*x), ref(*y)
    assert (fx == fy) is (rx == ry)
    assert fx != fy or hash(fx) == hash(fy)
    assert repr(fx).partition("(")[2] == repr(rx).partition("(")[2]
    assert dataclasses.astuple(fx) == dataclasses.astuple(rx)
    assert [f.name for f in dataclasses.fields(fx)] == [f.name for f in dataclasses.fields(rx)]
    assert fast.__match_args__ == ref.__match_args__
    assert dataclasses.astuple(dataclasses.replace(fx, a=9)) == dataclasses.astuple(
        dataclasses.replace(rx, a=9))
    assert values.replace(fx, a=9, d="y") == dataclasses.replace(fx, a=9, d="y")
    assert dataclasses.is_dataclass(fast) and dataclasses.is_dataclass(fx)
    assert {f.name: (f.default, f.default_factory, f.init, f.repr, f.hash, f.compare)
            for f in dataclasses.fields(fast)} == {
        f.name: (f.default, f.default_factory, f.init, f.repr, f.hash, f.compare)
        for f in dataclasses.fields(ref)}
    if not slots:  # class attributes: the defaults
        assert [getattr(fast, n, None) for n in "abcd"] == [getattr(ref, n, None) for n in "abcd"]
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


def test_no_field_may_follow_a_default_or_be_mutable_as_in_dataclasses() -> None:
    for decorate in (immutable, dataclasses.dataclass(frozen=True)):
        with pytest.raises(TypeError, match="non-default argument"):
            decorate(type("A", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 1}))
        with pytest.raises(ValueError, match="mutable default"):
            decorate(type("B", (), {"__annotations__": {"a": "list[int]"}, "a": []}))
    with pytest.raises(ValueError, match="init=False"):
        values.replace(immutable(type("C", (), {"__annotations__": {"a": "int"}, "a": values.field(
            default=1, init=False)}))(), a=2)


def test_a_subclass_adds_its_fields_after_its_bases() -> None:
    @immutable(slots=True)
    class Base:
        a: int
        b: int = 2

    @immutable(slots=True)
    class Sub(Base):
        c: int = 3

    s = Sub(1)
    assert (s.a, s.b, s.c, Sub.__match_args__) == (1, 2, 3, ("a", "b", "c"))
    assert values.replace(s, c=4) == Sub(1, 2, 4) and not hasattr(s, "__dict__")
    assert [f.name for f in dataclasses.fields(s)] == ["a", "b", "c"]


def test_values_and_the_model_do_not_import_dataclasses() -> None:
    """dataclasses imports inspect (ast, dis, tokenize): more start-up than it is worth."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", "import sys, vmcompat.model, vmcompat.values\n"
                        "print(sorted({'dataclasses', 'inspect'} & set(sys.modules)))"],
                       capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
