"""Names a package imports on first use (PEP 562), so importing it costs almost nothing.

>>> import types
>>> pkg = types.ModuleType("pkg")
>>> pkg.__getattr__, pkg.__dir__ = lazy_names(vars(pkg), {"dumps": "json"})
>>> pkg.dumps([1])
'[1]'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(namespace: dict[str, Any], homes: Mapping[str, str]
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's ``__getattr__`` and ``__dir__`` for ``homes`` (name -> the module that
    defines it, or the module itself when it is that module's last part). A name is
    imported when first asked for, then kept in ``namespace`` (the module's globals)."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {namespace.get('__name__')!r} has no attribute "
                                 f"{name!r}")
        module = importlib.import_module(home)
        value = module if home.endswith(f".{name}") else getattr(module, name)
        namespace[name] = value  # once: later lookups are plain attribute reads
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return __getattr__, __dir__
