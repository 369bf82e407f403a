"""vmcompat's own description JSON: read (validated) and written, losslessly.

The JSON is checked against ``schemas/description.schema.json`` first (the
jsonschema ``check_schema`` lesson), then built into the model; every error
is one line naming the file, device and field.

>>> d = from_json({"name": "d", "version_id": 2, "minimum_version_id": 1,
...                "fields": [{"name": "a", "type": "uint8", "version_id": 2}]})
>>> to_json(d)["fields"]
[{'name': 'a', 'type': 'uint8', 'version_id': 2}]
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from vmcompat.errors import InputError, Path
from vmcompat.limits import MAX_FIELDS, MAX_JSON_DEPTH, too_deep
from vmcompat.model import Description, Field, Marker, Provenance, Subsection
from vmcompat.predicates import parse

if TYPE_CHECKING:
    import jsonschema

TOO_DEEP = f"nested deeper than {MAX_JSON_DEPTH} JSON levels"


@cache
def _validator() -> jsonschema.protocols.Validator:
    import jsonschema  # only where a description JSON is validated: not on stream paths

    text = resources.files("vmcompat.schemas").joinpath("description.schema.json").read_text()
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _where(obj: Any, path: list[Any]) -> tuple[str | None, Path]:
    """Device name and field path of a JSON location inside a description."""
    device: str | None = obj.get("name") if isinstance(obj, dict) else None
    fields: list[str | int] = []
    node = obj
    for k in path:
        try:
            node = node[k]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and "name" in node and isinstance(k, int):
            fields.append(str(node["name"]))
    return device, tuple(fields)


def _too_big(obj: Any) -> str | None:
    """Why ``obj`` is too deep or has too many fields to validate (None: it is not).

    Checked before the schema validator, whose time and recursion grow with both
    (the model checks the same limits on descriptions made any other way).
    """
    if too_deep(obj):
        return TOO_DEEP
    fields, stack = 0, [obj]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        raw = node.get("fields")
        if isinstance(raw, list):
            fields += len(raw)
            stack.extend(raw)
        for key in ("struct", "key"):
            stack.append(node.get(key))
        subs = node.get("subsections")
        if isinstance(subs, list):
            stack.extend(subs)
    if fields > MAX_FIELDS:
        return f"{fields} fields (nested ones included), over the limit of {MAX_FIELDS}"
    return None


def check(obj: Any, *, file: str | None = None) -> None:
    """Raise :class:`InputError` if ``obj`` is not a description JSON."""
    problem = _too_big(obj)
    if problem:
        raise InputError(f"invalid description: {problem}", file=file,
                         device=obj.get("name") if isinstance(obj, dict) else None)
    from jsonschema.exceptions import best_match

    try:
        err = best_match(_validator().iter_errors(obj))
    except RecursionError:  # within the limits, only on a caller's very deep stack
        raise InputError("invalid description: nested too deeply to validate",
                         file=file) from None
    if err is not None:
        device, path = _where(obj, list(err.absolute_path))
        loc = "/".join(map(str, err.absolute_path)) or "(top)"
        raise InputError(f"invalid description at {loc}: {err.message}", file=file,
                         device=device, path=path)


def from_json(obj: Any, *, file: str | None = None) -> Description:
    check(obj, file=file)
    try:
        return _description(obj)
    except InputError as e:
        raise e.located(file=file, device=obj.get("name")) from None


def _description(o: dict[str, Any]) -> Description:
    try:
        fields = tuple(_field(f) for f in o.get("fields", ()))
    except InputError as e:
        raise e.located(device=o["name"]) from None
    subs = tuple(Subsection(_description(s), parse(s["needed"]) if "needed" in s else None)
                 for s in o.get("subsections", ()))
    marshal = tuple(sorted((_version(k, "marshal"), v) for k, v in o.get("marshal", {}).items()))
    return Description(o["name"], o["version_id"], o.get("minimum_version_id", 0), fields,
                       subs, marshal, o.get("doc", ""))


def _version(key: str, where: str) -> int:
    """A stream version given as a JSON key ("3")."""
    if not key.isdigit() or not key.isascii():
        raise InputError(f"{where} key {key!r} is not a version number")
    return int(key)


def _field(o: dict[str, Any]) -> Field:
    key = o.get("key")
    default = o.get("default")
    if o["type"] == "buffer" and isinstance(default, str):
        try:
            default = bytes.fromhex(default)
        except ValueError:
            raise InputError("buffer default must be hex", path=(o["name"],)) from None
    m = o.get("marker")
    marker = None
    if m is not None:
        marker = Marker(more=tuple(m.get("more", (1,))), end=m.get("end", 0),
                        field=m.get("field"), sentinel=m.get("sentinel"))
    try:
        return Field(
            o["name"], o["type"], version_id=o.get("version_id", 0),
            exists=parse(o["exists"]) if "exists" in o else None,
            array_len=o.get("array_len"), varray=o.get("varray"), size=o.get("size"),
            struct=_description(o["struct"]) if "struct" in o else None,
            key=_description(key) if isinstance(key, dict) else key,
            pointer=o.get("pointer", False), default=default,
            immutable=o.get("immutable", False), derived=o.get("derived", False),
            broken=o.get("broken", False), marker=marker,
            provenance=Provenance.from_json(o["provenance"]) if "provenance" in o else None,
            doc=o.get("doc", ""))
    except InputError as e:
        if not e.path:
            e.path = (o["name"],)
        raise


def to_json(d: Description, *, needed: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": d.name, "version_id": d.version_id,
                           "minimum_version_id": d.minimum_version_id,
                           "fields": [_field_json(f) for f in d.fields]}
    if d.subsections:
        out["subsections"] = [to_json(s.description, needed=s.needed) for s in d.subsections]
    if needed is not None:
        out["needed"] = needed.to_json()
    if d.marshal:
        out["marshal"] = {str(k): v for k, v in d.marshal}
    if d.doc:
        out["doc"] = d.doc
    return out


def _field_json(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "type": f.type}
    if f.version_id:
        out["version_id"] = f.version_id
    if f.exists is not None:
        out["exists"] = f.exists.to_json()
    if f.array_len is not None:
        out["array_len"] = f.array_len
    if f.varray is not None:
        out["varray"] = f.varray
    if f.size is not None:
        out["size"] = f.size
    if f.struct is not None:
        out["struct"] = to_json(f.struct)
    if f.key is not None:
        out["key"] = f.key if isinstance(f.key, str) else to_json(f.key)
    for flag in ("pointer", "immutable", "derived", "broken"):
        if getattr(f, flag):
            out[flag] = True
    if f.default is not None:
        out["default"] = f.default.hex() if isinstance(f.default, bytes) else f.default
    if f.marker is not None:
        out["marker"] = f.marker.to_json()
    if f.provenance is not None:
        out["provenance"] = f.provenance.to_json()
    if f.doc:
        out["doc"] = f.doc
    return out


def load_file(path: str) -> dict[str, Description]:
    """A file of one description, or ``{"devices": {NAME: description}}``."""
    obj = read_json(path)
    if isinstance(obj, dict) and "devices" in obj and isinstance(obj["devices"], dict):
        return {name: from_json(d, file=path) for name, d in obj["devices"].items()}
    d = from_json(obj, file=path)
    return {d.name: d}


def read_json(path: str) -> Any:
    """A JSON file, nested at most :data:`~vmcompat.limits.MAX_JSON_DEPTH` levels."""
    try:
        with open(path, encoding="utf-8") as fh:
            obj = json.load(fh)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", file=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"not valid JSON: {e}", file=path) from None
    except RecursionError:  # deeper than the parser itself goes
        raise InputError(TOO_DEEP, file=path) from None
    if too_deep(obj):
        raise InputError(TOO_DEEP, file=path)
    return obj
