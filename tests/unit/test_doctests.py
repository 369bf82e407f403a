"""Every docstring example in the library runs and holds."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import vmcompat

MODULES = sorted(m.name for m in pkgutil.walk_packages(vmcompat.__path__, "vmcompat.")
                 if not m.name.startswith("vmcompat.__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
