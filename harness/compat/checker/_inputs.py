"""Inputs of ``vmcompat check``: descriptions, and QEMU dumps read leniently."""

from __future__ import annotations

from typing import Any

from vmcompat import dumps
from vmcompat.compat.checker._results import MAX_DEPTH, Input


def load_input(arg: str) -> Input:
    """An input of ``check``: anything :func:`vmcompat.sources.load_all` reads.

    QEMU dumps are read leniently, like QEMU's own checker reads them: a device
    entry without a ``Description`` gets an empty one named after the entry (so
    its fields show as removed), and an entry whose ``version_id`` differs from
    its description's keeps it as the section version (hand-edited test dumps).
    """
    from vmcompat.sources import load_all

    if not arg.startswith("catalog:"):
        from vmcompat.descjson import read_json

        obj = read_json(arg)
        if dumps.is_dump(obj, lenient=True):
            fixed, sections = _normalise_dump(obj)
            return Input(arg, dumps.from_dump(fixed, arg), sections)
    return Input(arg, load_all(arg))


def _normalise_dump(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[int, ...]]]:
    fixed: dict[str, Any] = {}
    sections: dict[str, tuple[int, ...]] = {}
    for key, entry in obj.items():
        if key == dumps.MACHINE_KEY or not isinstance(entry, dict):
            fixed[key] = entry
            continue
        e = dict(entry)
        if "Description" not in e and isinstance(e.get("version_id"), int):
            e["Description"] = {"name": str(e.get("Name", key)), "version_id": e["version_id"],
                                "minimum_version_id": e.get("minimum_version_id", 0)}
        d = e.get("Description")
        v = e.get("version_id")
        if isinstance(d, dict) and isinstance(v, int) and isinstance(d.get("version_id"), int):
            claims = {v, d["version_id"]}
            d = e["Description"] = _normalise_desc(d)
            if claims != {d["version_id"]}:
                sections[key] = tuple(sorted(claims))
            e["version_id"] = d["version_id"]
        fixed[key] = e
    return fixed, sections


def _normalise_desc(d: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Raise a description's version_id to its highest field version_id (recursively)."""
    if depth > MAX_DEPTH:
        return d
    out = dict(d)
    fields = out.get("Fields")
    if isinstance(fields, list):
        out["Fields"] = [dict(f, Description=_normalise_desc(f["Description"], depth + 1))
                         if isinstance(f, dict) and isinstance(f.get("Description"), dict)
                         else f for f in fields]
        top = max((f.get("version_id", 0) for f in fields
                   if isinstance(f, dict) and isinstance(f.get("version_id"), int)), default=0)
        if isinstance(out.get("version_id"), int) and out["version_id"] < top:
            out["version_id"] = top
    subs = out.get("Subsections")
    if isinstance(subs, list):
        out["Subsections"] = [_normalise_desc(x, depth + 1) if isinstance(x, dict) else x
                              for x in subs]
    return out


