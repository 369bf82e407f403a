"""QEMU's load rules (``vmstate_load_state``), in one module.

Decision (issue 14): what QEMU's loader reads, in what order, and what it refuses with
which of its messages is written once, here and in the tables it names; the legacy and
self-describing codecs *and* the oracle apply these rules, and the real-QEMU goldens and
the real-QEMU fuzz (``vmcompat qemu fuzz``) pin them against QEMU itself. The oracle's
own, independent job is the *projection*: which value each destination field should
hold, by name (:mod:`vmcompat.compat.oracle`). It does not re-derive QEMU's checks.

The rules, in the order QEMU applies them:

1. **Version** (:func:`check_version`): a stream version above the description's
   ``version_id`` is refused (``TOO_NEW``); one below ``minimum_version_id`` is refused
   (``TOO_OLD``) unless a versioned marshal function loads it (:func:`load_versioned`;
   registry in :mod:`vmcompat.marshal`). Subsections check their own versions the same
   way, without marshal functions; nested structs' versions never travel.
2. **Fields**, in declaration order: a field is read iff :meth:`Field.present_at
   <vmcompat.model.Field.present_at>` the stream version (its exists-test, else its
   ``version_id``); each scalar's load check (``equal``, ``le``) is
   :meth:`WireType.refusal <vmcompat.types.WireType.refusal>` (``EQUAL``, ``LE``);
   a struct starts from :func:`vmcompat.walk.load_base`; a list's marker bytes are
   :meth:`Marker.after <vmcompat.model.Marker.after>`, a tree's :data:`TREE_NODE` and
   :data:`TREE_END`; any other byte is refused (``BAD_MARKER``).
3. **Subsections**, after the fields: while the next byte is :data:`SUBSECTION`, a
   header whose name the parent claims (:func:`claims_subsection`) is read; a claimed
   name the description does not declare is refused (``UNKNOWN_SUBSECTION``); any
   other header ends the loop quietly, for the caller's loop.

QEMU's words for every refusal are one table, :data:`vmcompat.errors.MSG`.

>>> from vmcompat.model import Description
>>> check_version(Description("d", 3, 2), 4)
Traceback (most recent call last):
...
vmcompat.errors.VersionTooNew: incoming version_id 4 is too new for local version_id 3
>>> claims_subsection(b"dev", b"dev/sub"), claims_subsection(b"dev", b"other")
(True, False)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vmcompat.errors import InputError, Path, VersionTooNew, VersionTooOld

if TYPE_CHECKING:
    from vmcompat.model import Description
    from vmcompat.walk import Walk

#: the byte that opens a subsection header (QEMU_VM_SUBSECTION)
SUBSECTION = 0x05
#: a GTree's bytes: before each node, and after the last (``put_gtree``/``get_gtree``)
TREE_NODE, TREE_END = 1, 0


def check_version(desc: Description, version: int, *, path: Path = (), offset: int | None = None,
                  marshal: bool = True) -> str | None:
    """Raise if ``version`` cannot be loaded by ``desc``; return a marshal name if one loads it."""
    if version > desc.version_id:
        raise VersionTooNew(path=path, offset=offset, name=desc.name, got=version,
                            local=desc.version_id)
    if version < desc.minimum_version_id:
        name = desc.marshal_for(version) if marshal else None
        if name is None:
            raise VersionTooOld(path=path, offset=offset, name=desc.name, got=version,
                                local=desc.minimum_version_id)
        return name
    return None


def load_versioned(walk: Walk, desc: Description, version: int, into: Any) -> Any:
    """Load ``desc`` at stream ``version`` with any reader walk (version checks included)."""
    name = check_version(desc, version)
    if name is None:
        return walk.device(desc, version, into)
    from vmcompat.marshal import MARSHALS  # an old version's own loader: rare

    m = MARSHALS.get(name)
    if m is None:
        raise InputError(f"marshal function {name!r} is not registered", device=desc.name)
    old = walk.device(m.layout, version, None)
    return m.convert(old, into)


def claims_subsection(parent: bytes, name: bytes) -> bool:
    """Whether a subsection header named ``name`` belongs to ``parent``'s loop: QEMU reads
    it only when the name is longer than the parent's and starts with it."""
    return len(name) >= len(parent) + 1 and name.startswith(parent)
