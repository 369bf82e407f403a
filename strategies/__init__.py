"""Hypothesis strategies for vmcompat: states (random, or near a capture), descriptions,
versions, evolutions, streams.

Plain functions returning strategies, composable with Hypothesis's own. Each
public function is registered by :func:`~vmcompat.strategies._registry.defines_strategy`;
``__all__`` is asserted at import to equal that registry (as Hypothesis's
``_check_exports`` does).

>>> from vmcompat.strategies import states                       # doctest: +SKIP
>>> from vmcompat.catalog import resolve                 # doctest: +SKIP
>>> states(resolve("catalog:ps2kbd@3")).example()       # doctest: +SKIP
"""

from __future__ import annotations

from vmcompat.strategies._registry import STRATEGIES, defines_strategy
from vmcompat.strategies.captured import captured_states
from vmcompat.strategies.descriptions import descriptions
from vmcompat.strategies.evolutions import Change, evolutions, mutations
from vmcompat.strategies.states import states
from vmcompat.strategies.streams import corrupt_streams
from vmcompat.strategies.versions import version_pairs

__all__ = ["captured_states", "corrupt_streams", "descriptions", "evolutions", "mutations",
           "states", "version_pairs"]


def _check_exports(names: list[str]) -> None:
    assert set(names) == set(STRATEGIES), (
        f"vmcompat.strategies.__all__ and the @defines_strategy registry differ: "
        f"{sorted(set(names) ^ set(STRATEGIES))}")
    assert all(n in globals() for n in names), "every name in __all__ is defined"


_check_exports(__all__)

#: not strategies, but part of the package's public surface
EXTRAS = ("Change", "defines_strategy")
_ = (Change, defines_strategy)
