"""The registry behind :func:`defines_strategy` (Hypothesis's ``@defines_strategy``).

Every public strategy function of this package is decorated; the package
``__init__`` asserts at import that ``__all__`` equals :data:`STRATEGIES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

#: name -> public strategy function
STRATEGIES: dict[str, Callable[..., object]] = {}


def defines_strategy(fn: F) -> F:
    """Register a public strategy function (its name goes into ``vmcompat.strategies.__all__``)."""
    STRATEGIES[fn.__name__] = fn
    return fn
