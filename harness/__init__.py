"""vmcompat: property-based compatibility testing of QEMU VMState serialization.

The public API is what ``__all__`` lists here, plus :mod:`vmcompat.strategies`'s own
``__all__``, the ``vmcompat`` command line and the pytest plugin's documented fixtures,
markers, options and profiles. Every other module is internal: its names may change
without notice (import from ``vmcompat``, not from ``vmcompat.matrix.engine``).

What a device-model project imports:

- describing devices: :mod:`dsl`, :class:`Description`, :class:`Field`,
  :class:`Subsection`, :class:`DeviceHistory`; loading them: :func:`load_one`,
  :func:`load_all` (a description JSON file, a QEMU ``-dump-vmstate`` or vmdesc JSON,
  ``catalog:DEV@V``, ``qemu:7.2``);
- the wire: :data:`FORMATS`, :func:`encode`, :func:`decode`, :func:`decode_from`;
- Hypothesis strategies: :mod:`strategies` (``states``, ``version_pairs``, …);
- judging a migration: :func:`expect` (the oracle's expected outcome of one state),
  :func:`run_cell` (fuzz one cell: a :class:`Cell` → :class:`CellResult` with a
  :class:`Verdict`), :func:`check` over :func:`load_input` (the static rules);
- pytest helpers: :func:`parametrize_cells`, :func:`chain_test` (the plugin's fixtures
  ``compat_cell``, ``vmcompat_qemu_fuzz``, ``golden`` need no import);
- walking a description with your own visitor: :class:`Walk`, :class:`Visitor` (every
  callback gets the :class:`Frame` it is in: enclosing description, state, role, path);
- errors: :class:`VmcompatError`, :class:`InputError`, :class:`LoadError`, :class:`Reason`.

Every name is imported on first use (PEP 562), so ``import vmcompat.cli`` or
``vmcompat --version`` does not pay for the codecs.

>>> from vmcompat import dsl, encode, decode
>>> d = dsl.device("dev", 1, dsl.uint16("a"))
>>> decode(d, encode(d, {"a": 7}), 1)
{'a': 7}
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vmcompat import dsl
    from vmcompat.errors import InputError, LoadError, Reason, VmcompatError
    from vmcompat.formats import FORMATS, Format
    from vmcompat.formats.legacy import decode, decode_from, encode
    from vmcompat.model import Description, DeviceHistory, Feature, Field, Marker, Subsection
    from vmcompat.walk import Frame, Visitor, Walk

#: public name -> the module that defines it (imported on first use)
_HOMES: dict[str, str] = {
    "FORMATS": "vmcompat.formats",
    "Description": "vmcompat.model",
    "DeviceHistory": "vmcompat.model",
    "Feature": "vmcompat.model",
    "Field": "vmcompat.model",
    "Format": "vmcompat.formats",
    "InputError": "vmcompat.errors",
    "LoadError": "vmcompat.errors",
    "Marker": "vmcompat.model",
    "Reason": "vmcompat.errors",
    "Subsection": "vmcompat.model",
    "Visitor": "vmcompat.walk",
    "VmcompatError": "vmcompat.errors",
    "Walk": "vmcompat.walk",
    "Frame": "vmcompat.walk",
    "decode": "vmcompat.formats.legacy",
    "decode_from": "vmcompat.formats.legacy",
    "dsl": "vmcompat.dsl",
    "encode": "vmcompat.formats.legacy",
    "strategies": "vmcompat.strategies",
    "load_one": "vmcompat.sources",
    "load_all": "vmcompat.sources",
    "expect": "vmcompat.compat.oracle",
    "run_cell": "vmcompat.matrix.engine",
    "Cell": "vmcompat.compat.verdict",
    "CellResult": "vmcompat.compat.verdict",
    "Verdict": "vmcompat.compat.verdict",
    "check": "vmcompat.compat.checker",
    "load_input": "vmcompat.compat.checker",
    "parametrize_cells": "vmcompat.pytest_plugin",
    "chain_test": "vmcompat.pytest_plugin",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(home)
    value = module if home.endswith(f".{name}") else getattr(module, name)
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "FORMATS",
    "Cell",
    "CellResult",
    "Description",
    "DeviceHistory",
    "Feature",
    "Field",
    "Format",
    "Frame",
    "InputError",
    "LoadError",
    "Marker",
    "Reason",
    "Subsection",
    "Verdict",
    "Visitor",
    "VmcompatError",
    "Walk",
    "chain_test",
    "check",
    "decode",
    "decode_from",
    "dsl",
    "encode",
    "expect",
    "load_all",
    "load_input",
    "load_one",
    "parametrize_cells",
    "run_cell",
    "strategies",
]
assert sorted(__all__) == sorted(_HOMES), "__all__ and _HOMES name the same names"
