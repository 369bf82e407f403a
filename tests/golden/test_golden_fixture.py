"""The ``golden`` pytest fixture and ``--vmcompat-update-goldens`` (syrupy/pytest-regressions style)."""

from __future__ import annotations

pytest_plugins = ("pytester",)

TEST = '''
import os
def test_payload(golden):
    golden.check("value.json", {"a": int(os.environ.get("GOLDEN_A", "1")), "b": [1, 2]})
    golden.check("raw.bin", b"\\x01\\x02")
'''


def test_missing_then_update_then_pass_then_mismatch(pytester, monkeypatch):
    pytester.makepyfile(test_it=TEST)
    r = pytester.runpytest("-p", "no:randomly")
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["*no golden file*--vmcompat-update-goldens*"])
    r = pytester.runpytest("-p", "no:randomly", "--vmcompat-update-goldens")
    r.assert_outcomes(passed=1)
    r.stdout.fnmatch_lines(["*2 golden files written*"])
    stored = pytester.path / "goldens" / "test_it" / "test_payload"
    assert (stored / "raw.bin").read_bytes() == b"\x01\x02"
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    monkeypatch.setenv("GOLDEN_A", "7")
    r = pytester.runpytest("-p", "no:randomly")
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["*golden mismatch*", "*a: 1 → 7*"])


def test_wire_option_and_env(pytester, monkeypatch):
    pytester.makepyfile(test_w='''
def test_w(vmcompat_wires):
    print("WIRES", vmcompat_wires)
''')
    r = pytester.runpytest("-s", "--vmcompat-wire", "legacy")
    assert "WIRES ['legacy']" in r.stdout.str()
    monkeypatch.setenv("VMCOMPAT_WIRE", "legacy,legacy")
    r = pytester.runpytest("-s")
    assert "WIRES ['legacy']" in r.stdout.str()
    r = pytester.runpytest("-s", "--vmcompat-wire", "nope")
    assert r.ret != 0
