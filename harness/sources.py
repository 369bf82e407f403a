"""Where descriptions come from: one resolver for every DESC argument.

``catalog:DEVICE@VERSION`` (``catalog:DEVICE`` = newest), ``qemu:RELEASE[/MACHINE]``
(a real release's sections, :mod:`vmcompat.qemu.bundle`), a description JSON file
(one description or ``{"devices": {...}}``), and any other file kind a loader in
:data:`LOADERS` recognises (QEMU ``-dump-vmstate`` JSON, a stream's vmdesc JSON: see
:mod:`vmcompat.dumps`; a release bundle).
"""

from __future__ import annotations

from typing import Any

from vmcompat.errors import InputError
from vmcompat.loaders import LOADERS, Loader, register_loader
from vmcompat.model import Description


def _own_detect(obj: Any) -> bool:
    return isinstance(obj, dict) and (
        ("name" in obj and "version_id" in obj)
        or ("devices" in obj and isinstance(obj["devices"], dict)))


def _own_load(obj: Any, file: str) -> dict[str, Description]:
    from vmcompat import descjson

    if "devices" in obj and isinstance(obj["devices"], dict):
        return {name: descjson.from_json(d, file=file) for name, d in obj["devices"].items()}
    d = descjson.from_json(obj, file=file)
    return {d.name: d}


register_loader(Loader("description", _own_detect, _own_load))


def _ensure_loaders() -> None:
    """Import the modules that register the other file kinds (lazily: the CLI starts fast)."""
    import vmcompat.dumps
    import vmcompat.qemu.bundle  # noqa: F401


def load_all(arg: str) -> dict[str, Description]:
    """Every description an argument names, by device name."""
    if arg.startswith("catalog:"):
        from vmcompat.catalog import resolve as catalog_resolve

        d = catalog_resolve(arg)
        return {d.name: d}
    if arg.startswith("qemu:"):
        from vmcompat.qemu.bundle import resolve as release_resolve

        return release_resolve(arg)
    from vmcompat.descjson import read_json

    _ensure_loaders()
    obj = read_json(arg)
    for loader in LOADERS:
        if loader.detect(obj):
            try:
                return loader.load(obj, arg)
            except InputError as e:
                raise e.located(file=arg) from None
    raise InputError("not a description, QEMU dump or vmdesc JSON", file=arg)


def load_one(arg: str, device: str | None = None) -> Description:
    """The one description an argument names (``--device`` picks from a file of several)."""
    found = load_all(arg)
    if device is not None:
        if device not in found:
            near = ", ".join(sorted(found)[:8])
            raise InputError(f"no device {device!r} here (has: {near}…)" if len(found) > 8
                             else f"no device {device!r} here (has: {near})", file=arg)
        return found[device]
    if len(found) != 1:
        raise InputError(f"{len(found)} devices here: pick one with --device", file=arg)
    return next(iter(found.values()))
