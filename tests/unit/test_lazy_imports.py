"""Commands import only what they use: start-up is not paid for jsonschema, Hypothesis,
Jinja2, asn1tools or rich on paths that never touch them (issue 15)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STREAM = ROOT / "golden" / "qemu-7.2" / "streams" / "pc-i440fx-7.2.bin"
HEAVY = ("jsonschema", "hypothesis", "jinja2", "asn1tools", "rich")
_PROBE = """
import atexit, json, sys
from vmcompat.cli import run
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
run(sys.argv[1:])
"""


def _modules(*args: str) -> set[str]:
    r = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [("--version",), ("stream", "decode", str(STREAM), "-o", "OUT")],
                         ids=["version", "stream-decode"])
def test_light_commands_import_no_heavy_library(args: tuple[str, ...], tmp_path: Path) -> None:
    args = tuple(str(tmp_path / "d.json") if a == "OUT" else a for a in args)
    loaded = {m.split(".")[0] for m in _modules(*args)}
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_version_matches_the_installed_metadata() -> None:
    import importlib.metadata

    from vmcompat.cli import installed_version

    assert installed_version() == importlib.metadata.version("vmcompat")


def test_stream_decode_imports_only_the_wire_it_uses(tmp_path: Path) -> None:
    """QEMU's wire is the legacy format: BER and JSON stay unimported until FORMATS is read."""
    loaded = _modules("stream", "decode", str(STREAM), "-o", str(tmp_path / "d.json"))
    assert "vmcompat.formats.legacy" in loaded
    assert not loaded & {"vmcompat.formats.ber", "vmcompat.formats.jsonwire"}


def test_stream_decode_runs_without_click_or_dataclasses(tmp_path: Path) -> None:
    """The everyday decode is a plain command line (vmcompat.cli.plain), and its values
    are @immutable: neither click nor dataclasses (with inspect) is imported."""
    loaded = _modules("stream", "decode", str(STREAM), "-o", str(tmp_path / "d.json"))
    assert not loaded & {"click", "dataclasses", "inspect"}


def test_formats_lists_every_wire_however_it_is_reached() -> None:
    r = subprocess.run([sys.executable, "-c", "import vmcompat.formats.legacy\n"
                        "from vmcompat.formats import FORMATS\nprint(sorted(FORMATS))"],
                       cwd=ROOT, capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["['ber',", "'json',", "'legacy']"]
