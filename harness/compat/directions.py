"""Directions of a migration, named by what happens.

- ``upgrade``: state saved by the older version is loaded by the newer one
  (QEMU calls it forward migration);
- ``downgrade``: saved by the newer version, loaded by the older one (QEMU's
  backward migration);
- ``same``: a matrix cell whose two sides are the same version, neither an
  upgrade nor a downgrade;
- ``both`` is an option value only: upgrade and downgrade.

``check`` and ``fuzz`` take OLD and NEW in that order, so their upgrade is
OLD's data loaded by NEW even where a device kept its version number. Matrix
cells compare version numbers.

The words of schema registries stay accepted as aliases of ``--direction``:
``backward`` (the new version reads the old one's data) is upgrade,
``forward`` (the old version reads the new one's data) is downgrade, ``full``
is both. Reports and JSON written before this vocabulary carry those words in
their ``"direction"`` values: :func:`relabel` reads them.

>>> runs("backward"), runs("both")
(('upgrade',), ('upgrade', 'downgrade'))
>>> of_versions(2, 3), of_versions(3, 2), of_versions(2, 2)
('upgrade', 'downgrade', 'same')
>>> relabel("backward", "2", "2"), relabel("forward", "3", "2")
('same', 'downgrade')
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from vmcompat.errors import InputError

UPGRADE, DOWNGRADE, SAME, BOTH = "upgrade", "downgrade", "same", "both"

#: what each ``--direction`` value runs
RUNS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    UPGRADE: (UPGRADE,), DOWNGRADE: (DOWNGRADE,), BOTH: (UPGRADE, DOWNGRADE)})

#: the schema-registry words, accepted by ``--direction``
ALIASES: Mapping[str, str] = MappingProxyType({
    "backward": UPGRADE, "forward": DOWNGRADE, "full": BOTH})

#: every ``"direction"`` value vmcompat writes (``same`` for matrix cells only)
VALUES = (UPGRADE, DOWNGRADE, SAME)

HELP = ("upgrade: the older version saves, the newer loads; downgrade: the newer saves, "
        "the older loads; both. Also accepted: backward (= upgrade), forward (= downgrade), "
        "full (= both).")


def option(word: str) -> str:
    """The ``--direction`` value ``word`` names (aliases resolved)."""
    found = ALIASES.get(word, word)
    if found not in RUNS:
        raise InputError(f"unknown direction {word!r} (known: {', '.join(RUNS)}; "
                         f"aliases: {', '.join(ALIASES)})")
    return found


def runs(word: str) -> tuple[str, ...]:
    """The directions ``--direction word`` runs, in order."""
    return RUNS[option(word)]


def of_versions(source: int, destination: int) -> str:
    """A matrix cell's direction from its two version numbers."""
    if source == destination:
        return SAME
    return UPGRADE if source < destination else DOWNGRADE


def relabel(word: object, source: object, destination: object) -> str:
    """A ``"direction"`` value read from JSON, in today's words (older files say
    backward/forward, and called a same-version cell backward)."""
    if word in VALUES:
        return str(word)
    s, d = str(source), str(destination)
    if word is None and s.isdigit() and d.isdigit():
        return of_versions(int(s), int(d))
    if s == d:
        return SAME
    return DOWNGRADE if word == "forward" else UPGRADE
