"""The distribution installs one import package, vmcompat, whose public API is its __all__."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import vmcompat as api

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
#: repository folder -> installed package
FOLDERS = {folder: package for package, folder in SETUPTOOLS["package-dir"].items()}


def _packages_on_disk() -> set[str]:
    out = set()
    for folder, package in FOLDERS.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder).parts
            out.add(".".join((package, *rel)))
    return out


def test_every_package_folder_is_listed() -> None:
    assert set(SETUPTOOLS["packages"]) == _packages_on_disk()


def test_every_data_file_is_package_data() -> None:
    """A file that is not Python and not covered by package-data would be missing from a
    regular (non-editable) install."""
    data = SETUPTOOLS["package-data"]
    missing = []
    for folder, package in FOLDERS.items():
        for path in (REPO / folder).rglob("*"):
            if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(REPO / folder)
            owners = [(pkg, pats) for pkg, pats in data.items()
                      if pkg == package or pkg.startswith(package + ".")]
            if not any(rel.match(str(Path(*pkg.split(".")[len(package.split(".")):], pat)))
                       for pkg, pats in owners for pat in pats):
                missing.append(str(path.relative_to(REPO)))
    assert missing == []


def test_the_public_api_imports_from_the_package() -> None:
    from vmcompat import (
        FORMATS,
        Cell,
        Verdict,
        chain_test,
        check,
        decode,
        dsl,
        encode,
        expect,
        load_input,
        load_one,
        parametrize_cells,
        run_cell,
        strategies,
    )

    assert api.__name__ == "vmcompat" and strategies is api.strategies
    assert sorted(api.__all__) == sorted(set(api.__all__))
    for name in api.__all__:
        assert getattr(api, name) is not None, name
    assert "states" in api.strategies.__all__ and "legacy" in FORMATS
    old = dsl.device("timer", 1, dsl.uint32("count"))
    new = dsl.device("timer", 2, dsl.uint32("count"), dsl.uint64("period", version=2),
                     minimum=1)
    assert decode(new, encode(old, {"count": 7}), 1)["count"] == 7
    assert expect(old, new, {"count": 7}).state["count"] == 7
    assert run_cell(old, new, Cell("timer", "1", "2"), max_examples=5, seed=1).verdict \
        is Verdict.COMPATIBLE
    ps2 = load_one("catalog:ps2kbd@3")
    assert ps2.version_id == 3
    result = check([load_input("catalog:ps2kbd@2"), load_input("catalog:ps2kbd@3")])
    assert result is not None
    assert callable(parametrize_cells) and callable(chain_test)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = api.no_such_name  # type: ignore[attr-defined]


def test_the_installed_distribution_holds_one_import_package() -> None:
    """``pip install .`` puts exactly ``vmcompat`` (and its dist-info) into site-packages;
    an editable install adds only its own path hooks."""
    # the installed one (an editable build also leaves vmcompat.egg-info in the source tree)
    dist = next(d for d in metadata.distributions(name="vmcompat") if d.read_text("INSTALLER"))
    assert (dist.read_text("top_level.txt") or "").split() == ["vmcompat"]
    tops = {f.parts[0] for f in dist.files or ()
            if f.parts[0] != ".." and not f.name.startswith("__editable__")}  # scripts, hooks
    assert {t for t in tops if not t.endswith(".dist-info")} <= {"vmcompat"}, tops
    eps = {(e.group, e.name): e.value for e in dist.entry_points}
    assert eps[("console_scripts", "vmcompat")] == "vmcompat.cli:run"
    assert eps[("pytest11", "vmcompat")] == "vmcompat.pytest_plugin"
    assert eps[("pytest11", "vmcompat_golden")] == "vmcompat.pytest_golden"
