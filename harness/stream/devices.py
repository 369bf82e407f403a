"""Device sections: which description decodes which section, and the payload codec.

Descriptions come from a vmdesc (the stream's own, or another stream's for
2.0–2.2 streams that have none), via :mod:`vmcompat.dumps`; optionally merged
with a ``-dump-vmstate`` dump so the dump's versions and minimum versions
apply. A section is matched by ``(idstr, instance_id)``.

The payload is the legacy wire of :mod:`vmcompat.formats.legacy`, with one
difference on the writing side: a stream's subsections are those the state
holds (a vmdesc says what was sent, not when), see :class:`HeldWriter`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from vmcompat.dumps import VmdescEntry, device_entries, merge, vmdesc_entries
from vmcompat.errors import InputError, LoadError
from vmcompat.formats.legacy import SUBSECTION, LegacyWriter, decode_from
from vmcompat.model import SUBSECTIONS_KEY, Description, Subsection
from vmcompat.stream.source import Buffer
from vmcompat.values import immutable
from vmcompat.walk import Frame, Walk


class HeldWriter(LegacyWriter):
    """The legacy writer, sending exactly the subsections the state holds (in order)."""

    __slots__ = ()

    def subsections(self, at: Frame, state: Any) -> Iterator[tuple[Subsection, int]]:
        for s in at.desc.held_subsections(state.get(SUBSECTIONS_KEY)):
            name = s.name.encode("latin-1")
            v = s.description.version_id
            self.out += bytes((SUBSECTION, len(name))) + name + v.to_bytes(4, "big")
            yield s, v


def encode_payload(desc: Description, state: Any) -> bytes:
    w = HeldWriter()
    Walk(w).device(desc, desc.version_id, state)
    return bytes(w.out)


def decode_payload(desc: Description, data: Buffer, version: int, offset: int
                   ) -> tuple[Any, int]:
    """Decode one device payload at ``offset``: (state, end offset)."""
    return decode_from(desc, data, version, None, offset)


@immutable
class DeviceTable:
    """``(idstr, instance_id)`` → vmdesc entry (and its description)."""

    entries: tuple[VmdescEntry, ...]
    by_key: Mapping[tuple[str, int], VmdescEntry]
    page_size: int

    def lookup(self, idstr: str, instance_id: int) -> VmdescEntry | None:
        return self.by_key.get((idstr, instance_id))


def device_table(vmdesc: Any, *, file: str | None = None,
                 dump: Mapping[str, Description] | None = None) -> DeviceTable:
    """Build the table from a parsed vmdesc; ``dump`` (by type) merges in versions/tests."""
    try:
        entries = vmdesc_entries(vmdesc, file)
    except LoadError as e:  # pragma: no cover - vmdesc import raises InputError only
        raise InputError(str(e), file=file) from None
    if dump:
        entries = _merged(entries, dump, file)
    ps = vmdesc.get("page_size", 4096) if isinstance(vmdesc, dict) else 4096
    return _table(entries, ps, file)


def _merged(entries: Iterable[VmdescEntry], dump: Mapping[str, Description],
            file: str | None) -> list[VmdescEntry]:
    """The entries with a dump's versions and tests merged into their descriptions."""
    by_vmsd: dict[str, Description] = {}
    for d in dump.values():
        by_vmsd.setdefault(d.name, d)
    merged = []
    for e in entries:
        d = e.description
        if d is not None and d.name in by_vmsd:
            try:
                d = merge(by_vmsd[d.name], d)
            except InputError as err:
                raise err.located(file=file) from None
        merged.append(VmdescEntry(e.name, e.instance_id, d, e.raw))
    return merged


def compact_table(members: Iterable[tuple[str, Any]], *, file: str | None = None,
                  dump: Mapping[str, Description] | None = None,
                  see: Callable[[Any], object] | None = None) -> DeviceTable:
    """The table of a vmdesc read member by member (``devices`` an iterator of devices),
    keeping only what decoding needs: never the whole vmdesc as Python objects.

    ``dump`` merges in as for :func:`device_table`; ``see`` is shown each device
    as it is read (to keep what else a caller needs of it).
    """
    entries: list[VmdescEntry] | None = None
    ps: Any = None
    for key, value in members:
        if key == "devices" and isinstance(value, Iterator):
            devices = value if see is None else shown(value, see)
            entries = list(device_entries(devices, file, keep_raw=False))
            if dump:
                entries = _merged(entries, dump, file)
        elif key == "page_size":
            ps = value
    if entries is None or ps is None:
        raise InputError("not a vmdesc (expected page_size and a devices list)", file=file)
    return _table(entries, ps, file)


def shown(items: Iterator[Any], see: Callable[[Any], object]) -> Iterator[Any]:
    """``items``, each shown to ``see`` as it goes by."""
    for x in items:
        see(x)
        yield x


def _table(entries: Iterable[VmdescEntry], ps: Any, file: str | None) -> DeviceTable:
    by_key: dict[tuple[str, int], VmdescEntry] = {}
    entries = tuple(entries)
    for e in entries:
        by_key.setdefault((e.name, e.instance_id), e)
    if not isinstance(ps, int) or isinstance(ps, bool) or ps < 512 or ps > 1 << 16 \
            or ps & (ps - 1):
        raise InputError(f"vmdesc page_size {ps!r} is not a power of two in [512, 65536]",
                         file=file)
    return DeviceTable(entries, by_key, ps)
