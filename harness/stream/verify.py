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

import contextlib
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any, NamedTuple

from vmcompat.errors import MSG, LoadError, Reason
from vmcompat.model import SUBSECTIONS_KEY, Description
from vmcompat.stream.jsontext import Irregular
from vmcompat.stream.layout import FULL, for_machine
from vmcompat.stream.model import Section, Stream
from vmcompat.stream.reader import compact_reader, find_vmdesc, located_errors, read_stream
from vmcompat.stream.source import Buffer, release
from vmcompat.words import plural


def verify(data: Buffer, *, vmdesc_from: Any = None,
           dump: Mapping[str, Description] | None = None, file: str | None = None
           ) -> list[str]:
    """Defects of a stream, one line each (empty: the stream is clean).

    A stream with its own vmdesc is checked section by section in flat memory
    (:func:`_verify_streamed`); the rest, and what that path declines, whole.
    """
    if vmdesc_from is None:
        with contextlib.suppress(Irregular):
            return _verify_streamed(data, dump, file)
    return _verify_whole(data, vmdesc_from, dump, file)


def _verify_whole(data: Buffer, vmdesc_from: Any, dump: Mapping[str, Description] | None,
                  file: str | None) -> list[str]:
    """:func:`verify` from the whole stream read at once."""
    try:
        stream = read_stream(data, vmdesc_from=vmdesc_from, dump=dump, file=file,
                             canonical=False, strict=False)
    except LoadError as e:
        out = [e.line()]
        if vmdesc_from is None and find_vmdesc(data) is None:
            out.append("no parseable vmdesc at the end of the stream")
        return out
    return list(_defects(stream, dump))


def _verify_streamed(data: Buffer, dump: Mapping[str, Description] | None,
                     file: str | None) -> list[str]:
    """:func:`verify` of a stream with its own vmdesc, one section at a time: each
    section's own defects are found as it is read and only its identity is kept, and
    of the vmdesc only each device's identity and the nodes subsections can hang on
    (:func:`_skeleton`). Raises :class:`Irregular` (nothing reported) for what
    :func:`verify`'s whole path must decide."""
    listed = _Listed()
    reader = compact_reader(data, file=file, canonical=False, strict=False, dump=dump,
                            see=listed.see)
    by_vmsd = _by_vmsd(dump) if dump else {}
    got: list[tuple[str, int]] = []
    subsections: list[str] = []
    dumped: list[str] = []
    try:
        with located_errors(data, file):
            config = reader.begin()
            for x in reader.items():
                if isinstance(x, Section) and x.kind == FULL:
                    got.append((x.idstr, x.instance_id))
                    node = listed.nodes.get((x.idstr, x.instance_id))
                    if node is not None and isinstance(x.state, dict):
                        subsections.extend(_subsections(node, x.state, x.idstr))
                    dumped.extend(_section_dump_defects(x, by_vmsd))
                release(data, reader.src.pos)
            stream = reader.finish(config)
    except LoadError as e:
        return [e.line()]  # the vmdesc parsed: it is there
    if stream.vmdesc is not reader.known:
        raise Irregular("the vmdesc after EOF is not the one found from the end")
    out = []
    if stream.trailing:
        out.append(f"{plural(len(stream.trailing), 'byte')} after the vmdesc")
    return out + list(_listing_defects(got, listed.keys)) + subsections + dumped


class _Listed:
    """What :func:`_verify_streamed` keeps of each vmdesc device: its identity and its
    :func:`_skeleton` (equal skeletons shared)."""

    def __init__(self) -> None:
        self.keys: list[tuple[Any, Any]] = []
        self.nodes: dict[tuple[Any, Any], Any] = {}
        self._shared: dict[str, Any] = {}

    def see(self, device: Any) -> None:
        if not isinstance(device, dict):
            raise Irregular("a vmdesc device that is not an object")
        key = (device.get("name"), device.get("instance_id"))
        self.keys.append(key)
        try:
            skeleton = _skeleton(device)
        except RecursionError:
            raise Irregular("a vmdesc device nested too deeply") from None
        self.nodes[key] = self._shared.setdefault(json.dumps(skeleton, sort_keys=True),
                                                  skeleton)


def _skeleton(node: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a vmdesc node :func:`_subsections` reads: its subsections and the
    struct fields that can hold some (their names, indexes, types, nested skeletons)."""
    out: dict[str, Any] = {}
    subs = node.get("subsections", [])
    if isinstance(subs, list):
        out["subsections"] = [{**_skeleton(x), "vmsd_name": x.get("vmsd_name")}
                              for x in subs if isinstance(x, dict)]
    fields = node.get("fields", [])
    if isinstance(fields, list):
        kept = []
        for f in fields:
            if not isinstance(f, dict) or "array_len" in f:
                continue
            inner = f.get("struct") if f.get("type") == "struct" else f \
                if f.get("type") == "tmp" else None
            if not isinstance(inner, dict):
                continue
            g = {k: f[k] for k in ("name", "type", "index") if k in f}
            skeleton = _skeleton(inner)
            kept.append({**g, "struct": skeleton} if f.get("type") == "struct"
                        else {**g, **skeleton})
        out["fields"] = kept
    return out


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
    yield from _listing_defects(got, expected)
    raw_by_key = {(d.get("name"), d.get("instance_id")): d for d in devices}
    for s in fulls:
        raw = raw_by_key.get((s.idstr, s.instance_id))
        if raw is not None and isinstance(s.state, dict):
            yield from _subsections(raw, s.state, s.idstr)


def _listing_defects(got: list[tuple[str, int]], expected: list[tuple[Any, Any]]) -> Any:
    """The device sections read against those the vmdesc lists: missing, extra,
    repeated, out of order."""
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


def _by_vmsd(dump: Mapping[str, Description]) -> dict[str, Description]:
    by_vmsd: dict[str, Description] = {}
    for d in dump.values():
        by_vmsd.setdefault(d.name, d)
    return by_vmsd


def _dump_defects(stream: Stream, dump: Mapping[str, Description]) -> Any:
    by_vmsd = _by_vmsd(dump)
    for s in stream.sections:
        yield from _section_dump_defects(s, by_vmsd)


def _section_dump_defects(s: Section, by_vmsd: Mapping[str, Description]) -> Any:
    """Subsections a device section sent that the dump's description lacks."""
    if s.kind != FULL or s.vmsd_name not in by_vmsd:
        return
    d = by_vmsd[s.vmsd_name]
    held = (s.state or {}).get(SUBSECTIONS_KEY) or {}
    for name in held:
        if d.subsection(name) is None:
            yield f"{s.idstr}: " + MSG[Reason.UNKNOWN_SUBSECTION].format(sub=name, name=d.name)


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
