"""Strict checks of a stream that QEMU itself does not make.

QEMU loads a stream with a changed data byte, a dropped subsection, a
dropped, duplicated or swapped device section, or a garbage or missing
trailing vmdesc without a word. :func:`verify` finds each of these:

* the stream parses: every device section decodes exactly up to its footer
  (or to the next section), footers name their section, nothing is truncated;
* the vmdesc is there (when the layout has one) and parses; nothing follows it;
* the device sections are those of the stream's own vmdesc: none missing,
  none duplicated, none extra, same order;
* the subsections sent are those the vmdesc lists, at every level;
* with a dump (``dump=``): section versions are within the dump's
  [minimum_version_id, version_id] and every subsection sent exists there.

Changed bytes inside fields are data, not structure: they pass (bytes of
``equal``/``le`` fields are checked by a load, as QEMU does). Each defect is
one line. Streams without a vmdesc of their own (machine types 2.0–2.2) have
no list to compare sections and subsections with: ``vmdesc_from`` decodes
them, but it describes another machine type, so those two checks are skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, NamedTuple

from vmcompat.errors import MSG, LoadError, Reason
from vmcompat.model import SUBSECTIONS_KEY, Description
from vmcompat.stream.layout import FULL, for_machine
from vmcompat.stream.model import Stream
from vmcompat.stream.reader import find_vmdesc, read_stream
from vmcompat.stream.source import Buffer
from vmcompat.words import plural


def verify(data: Buffer, *, vmdesc_from: Any = None,
           dump: Mapping[str, Description] | None = None, file: str | None = None
           ) -> list[str]:
    """Defects of a stream, one line each (empty: the stream is clean)."""
    try:
        stream = read_stream(data, vmdesc_from=vmdesc_from, dump=dump, file=file,
                             canonical=False, strict=False)
    except LoadError as e:
        out = [e.line()]
        if vmdesc_from is None and find_vmdesc(data) is None:
            out.append("no parseable vmdesc at the end of the stream")
        return out
    return list(_defects(stream, dump))


def _defects(stream: Stream, dump: Mapping[str, Description] | None) -> Any:
    v = stream.vmdesc
    if v is None:
        machine = stream.configuration.machine if stream.configuration else None
        if machine is not None and for_machine(machine).vmdesc:
            yield f"no vmdesc at the end of the stream ({machine} streams have one)"
    elif not v.ok:
        yield v.error or "vmdesc does not parse"
    if stream.trailing:
        where = "the vmdesc" if v is not None else "EOF"
        yield f"{plural(len(stream.trailing), 'byte')} after {where}"
    if v is not None and v.ok:
        yield from _section_defects(stream, v.obj)
    if dump:
        yield from _dump_defects(stream, dump)


def _key(name: str, instance: int) -> str:
    return f"'{name}' instance {instance}"


def _section_defects(stream: Stream, vmdesc: Any) -> Any:
    devices = [d for d in vmdesc.get("devices", []) if isinstance(d, dict)]
    expected = [(d.get("name"), d.get("instance_id")) for d in devices]
    fulls = [s for s in stream.sections if s.kind == FULL]
    got = [(s.idstr, s.instance_id) for s in fulls]
    have, want = Counter(got), Counter(expected)
    ok = True
    for k, n in have.items():
        if n > 1:
            ok = False
            yield f"section {_key(*k)} appears {n} times"
        if k not in want:
            ok = False
            yield f"section {_key(*k)} is not in the vmdesc"
    for k, n in want.items():
        if k not in have:
            ok = False
            yield f"section {_key(*k)} is in the vmdesc but missing from the stream"
        elif n > 1:
            ok = False
            yield f"the vmdesc lists section {_key(*k)} {n} times"
    if ok and got != expected:
        i = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
        yield (f"sections out of order: position {i} holds {_key(*got[i])}, "
               f"the vmdesc has {_key(*expected[i])}")
    raw_by_key = {(d.get("name"), d.get("instance_id")): d for d in devices}
    for s in fulls:
        raw = raw_by_key.get((s.idstr, s.instance_id))
        if raw is not None and isinstance(s.state, dict):
            yield from _subsections(raw, s.state, s.idstr)


def _subsections(raw: Mapping[str, Any], state: Mapping[str, Any], where: str) -> Any:
    """Compare the subsections sent (in ``state``) with those a vmdesc node lists."""
    listed = [x.get("vmsd_name") for x in raw.get("subsections", []) if isinstance(x, dict)]
    held = state.get(SUBSECTIONS_KEY) or {}
    sent = list(held)
    for name in listed:
        if name not in held:
            yield f"{where}: subsection '{name}' is in the vmdesc but was not sent"
    for name in sent:
        if name not in listed:
            yield f"{where}: subsection '{name}' was sent but is not in the vmdesc"
    if set(sent) == set(listed) and sent != listed:
        yield f"{where}: subsections sent in the order {sent}, the vmdesc lists {listed}"
    for x in raw.get("subsections", []):
        if isinstance(x, dict) and x.get("vmsd_name") in held \
                and isinstance(held[x["vmsd_name"]], dict):
            yield from _subsections(x, held[x["vmsd_name"]], f"{where}/{x['vmsd_name']}")
    for f in raw.get("fields", []):
        if not isinstance(f, dict):
            continue
        node = f.get("struct") if f.get("type") == "struct" else f if f.get("type") == "tmp" \
            else None
        if not isinstance(node, dict) or "array_len" in f:
            continue  # compressed arrays have no subsections (vmsd_can_compress)
        value = _element(state, f)
        if isinstance(value, dict):
            idx = f"[{f['index']}]" if "index" in f else ""
            yield from _subsections(node, value, f"{where}.{f.get('name')}{idx}")


def _element(state: Mapping[str, Any], f: Mapping[str, Any]) -> Any:
    name = f.get("name")
    if "index" not in f:
        return state.get(name)
    i = f["index"]
    value = state.get(name)
    if isinstance(value, list) and isinstance(i, int) and 0 <= i < len(value):
        return value[i]
    return state.get(f"{name}#{i}")


def _dump_defects(stream: Stream, dump: Mapping[str, Description]) -> Any:
    by_vmsd: dict[str, Description] = {}
    for d in dump.values():
        by_vmsd.setdefault(d.name, d)
    for s in stream.sections:
        if s.kind != FULL or s.vmsd_name not in by_vmsd:
            continue
        d = by_vmsd[s.vmsd_name]
        held = (s.state or {}).get(SUBSECTIONS_KEY) or {}
        for name in held:
            if d.subsection(name) is None:
                yield f"{s.idstr}: " + MSG[Reason.UNKNOWN_SUBSECTION].format(sub=name,
                                                                           name=d.name)


class Coverage(NamedTuple):
    """Which sections ``verify(dump=…)`` checks against the dump's descriptions."""

    checked: list[tuple[str, str]]  # (section idstr, VMSD name), in stream order
    sections: int                   # sections the vmdesc lists


def checked_against(data: Buffer, dump: Mapping[str, Description], *,
                    vmdesc_from: Any = None, dump_file: str | None = None) -> Coverage | None:
    """The sections ``verify(dump=…)`` checks against ``dump``: those whose VMSD name
    the dump describes. None when the stream has no usable vmdesc to tell (``verify``
    reports that).

    A dump description that cannot be merged with the stream's (another version, a
    field that does not fit) is bad input naming ``dump_file``.
    """
    from vmcompat.dumps import merge, vmdesc_entries
    from vmcompat.errors import InputError

    if vmdesc_from is None:
        own = find_vmdesc(data)
        if own is None:
            return None
        vmdesc_from = own.obj
    try:
        entries = vmdesc_entries(vmdesc_from)
    except InputError:
        return None
    by_vmsd = {d.name: d for d in reversed(list(dump.values()))}
    out = []
    for e in entries:
        d = e.description
        if d is None or d.name not in by_vmsd:
            continue
        try:
            merge(by_vmsd[d.name], d)
        except InputError as err:
            raise InputError(f"does not fit the stream's vmdesc: {err.bare}", file=dump_file,
                             device=err.device or e.name, path=err.path) from None
        out.append((e.name, d.name))
    return Coverage(out, len(entries))
