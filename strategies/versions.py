"""``version_pairs(history)``: ordered (source, destination) pairs of a device history.

Every ordered pair is possible: old→new (an upgrade: what QEMU guarantees),
new→old (a downgrade, usually refused as too new), the same version, and
non-adjacent (transitive) pairs such as v1→v3.

Example::

    >>> version_pairs(history("ps2kbd")).example()          # doctest: +SKIP
    (Description(name='ps2kbd', version_id=2, ...), Description(..., version_id=3, ...))

Shrinks toward the oldest version loaded by itself, then toward old→new pairs.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from vmcompat.model import Description, DeviceHistory
from vmcompat.strategies._registry import defines_strategy


def pairs(history: DeviceHistory, features: tuple[str, ...] = ()
          ) -> list[tuple[Description, Description]]:
    """Every ordered pair, same-version first, then old→new, then new→old."""
    versions = [history.at(v, features) for v in history.version_ids]
    same = [(d, d) for d in versions]
    up = [(a, b) for i, a in enumerate(versions) for b in versions[i + 1:]]
    down = [(b, a) for a, b in up]
    return same + up + down


@defines_strategy
def version_pairs(history: DeviceHistory, features: tuple[str, ...] = ()
                  ) -> SearchStrategy[tuple[Description, Description]]:
    """An ordered (source, destination) pair of ``history``'s versions."""
    return st.sampled_from(pairs(history, features))
