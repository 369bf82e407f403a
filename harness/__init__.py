"""vmcompat: property-based compatibility testing of QEMU VMState serialization.

The public API is what ``__all__`` lists here, plus :mod:`harness.strategies`'s own
``__all__``, the ``vmcompat`` command line and the pytest plugin's documented fixtures,
markers, options and profiles. Every other module is internal: its names may change
without notice (import from ``harness``, not from ``harness.matrix.engine``).

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
- errors: :class:`VmcompatError`, :class:`InputError`, :class:`LoadError`, :class:`Reason`.

Every name is imported on first use (PEP 562), so ``import harness.cli`` or
``vmcompat --version`` does not pay for the codecs.

>>> from harness import dsl, encode, decode
>>> d = dsl.device("dev", 1, dsl.uint16("a"))
>>> decode(d, encode(d, {"a": 7}), 1)
{'a': 7}
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness import dsl
    from harness.errors import InputError, LoadError, Reason, VmcompatError
    from harness.formats import FORMATS, Format
    from harness.formats.legacy import decode, decode_from, encode
    from harness.model import Description, DeviceHistory, Feature, Field, Marker, Subsection
    from harness.walk import Visitor, Walk

#: public name -> the module that defines it (imported on first use)
_HOMES: dict[str, str] = {
    "FORMATS": "harness.formats",
    "Description": "harness.model",
    "DeviceHistory": "harness.model",
    "Feature": "harness.model",
    "Field": "harness.model",
    "Format": "harness.formats",
    "InputError": "harness.errors",
    "LoadError": "harness.errors",
    "Marker": "harness.model",
    "Reason": "harness.errors",
    "Subsection": "harness.model",
    "Visitor": "harness.walk",
    "VmcompatError": "harness.errors",
    "Walk": "harness.walk",
    "decode": "harness.formats.legacy",
    "decode_from": "harness.formats.legacy",
    "dsl": "harness.dsl",
    "encode": "harness.formats.legacy",
    "strategies": "harness.strategies",
    "load_one": "harness.sources",
    "load_all": "harness.sources",
    "expect": "harness.compat.oracle",
    "run_cell": "harness.matrix.engine",
    "Cell": "harness.compat.verdict",
    "CellResult": "harness.compat.verdict",
    "Verdict": "harness.compat.verdict",
    "check": "harness.compat.checker",
    "load_input": "harness.compat.checker",
    "parametrize_cells": "harness.pytest_plugin",
    "chain_test": "harness.pytest_plugin",
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
