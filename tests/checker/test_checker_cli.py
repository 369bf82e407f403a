"""``vmcompat check`` on the command line: inputs, directions, transitive, formats, ignores."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner, Result

from vmcompat import descjson
from vmcompat.catalog import resolve
from vmcompat.cli import main
from vmcompat.dsl import device, subsection, uint8, uint16
from vmcompat.model import Description

FINDING_KEYS = {"rule", "severity", "category", "direction", "device", "path", "message"}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args])


def write(tmp: Path, name: str, *descs: Description) -> str:
    p = tmp / name
    if len(descs) == 1:
        p.write_text(json.dumps(descjson.to_json(descs[0])))
    else:
        p.write_text(json.dumps({"devices": {d.name: descjson.to_json(d) for d in descs}}))
    return str(p)


@pytest.fixture
def history(tmp_path: Path) -> list[str]:
    """A DSL history: v2 adds a versioned field, v3 drops support for v1 streams."""
    return [write(tmp_path, "v1.json", device("dev", 1, uint8("a"))),
            write(tmp_path, "v2.json", device("dev", 2, uint8("a"), uint16("b", version=2),
                                              minimum=1)),
            write(tmp_path, "v3.json", device("dev", 3, uint8("a"), uint16("b", version=2),
                                              minimum=2))]


def as_json(res: Result) -> dict:
    return json.loads(res.stdout)


# -- exit codes and the JSON contract ----------------------------------------------------------
def test_compatible_catalog_history_exits_0_with_exact_json() -> None:
    res = run("catalog:ps2kbd@2", "catalog:ps2kbd@3", "--format", "json")
    assert res.exit_code == 0, res.output
    out = as_json(res)
    assert out["compatible"] is True and out["findings"] == []
    assert {"compatible", "findings"} <= set(out)


def test_downgrade_on_catalog_history_exits_1() -> None:
    res = run("catalog:ps2kbd@2", "catalog:ps2kbd@3", "--direction", "downgrade", "--format",
              "json")
    assert res.exit_code == 1
    out = as_json(res)
    assert out["compatible"] is False
    for f in out["findings"]:
        assert FINDING_KEYS <= set(f) and f["direction"] == "downgrade"
        assert f["device"] == "ps2kbd"
        assert (f["source"], f["destination"]) == ("catalog:ps2kbd@3", "catalog:ps2kbd@2")
    rules = {f["rule"] for f in out["findings"] if f["severity"] == "error"}
    assert {"VERSION_TOO_NEW", "FIELD_REMOVED", "SUBSECTION_MISSING"} <= rules


def test_both_directions_say_what_happens() -> None:
    """NEW's data loaded by OLD is a downgrade (QEMU's backward migration), whatever the
    schema-registry word "forward" made of it before."""
    out = as_json(run("catalog:serial@2", "catalog:serial@3", "--direction", "both",
                      "--format", "json"))
    assert {f["direction"] for f in out["findings"]} == {"downgrade"}
    assert [c["direction"] for c in out["comparisons"]] == ["upgrade", "downgrade"]
    text = run("catalog:serial@2", "catalog:serial@3", "--direction", "both").stdout
    assert "downgrade catalog:serial@3 -> catalog:serial@2" in text
    assert "forward" not in text and "backward" not in text


@pytest.mark.parametrize("alias,word", [("backward", "upgrade"), ("forward", "downgrade"),
                                        ("full", "both")])
def test_schema_registry_words_are_aliases(alias: str, word: str) -> None:
    refs = ("catalog:serial@2", "catalog:serial@3", "--format", "json", "--direction")
    assert as_json(run(*refs, alias)) == as_json(run(*refs, word))


def test_help_names_directions_by_what_happens() -> None:
    text = " ".join(run("--help").stdout.split())
    assert "[upgrade|downgrade|both]" in text
    assert "backward (= upgrade), forward (= downgrade), full (= both)" in text


@pytest.mark.parametrize("args,needle", [
    (["catalog:ps2kbd@2"], "two inputs"),
    (["catalog:ps2kbd@2", "/nonexistent/x.json"], "/nonexistent/x.json"),
    (["catalog:ps2kbd@2", "catalog:nosuchdevice@1"], "nosuchdevice"),
    (["catalog:ps2kbd@2", "catalog:ps2kbd@9"], "no version 9"),
    (["catalog:ps2kbd@2", "catalog:ps2kbd@3", "--device", "nosuch"], "nosuch"),
    (["catalog:ps2kbd@2", "catalog:ps2kbd@3", "--direction", "sideways"], "sideways"),
    (["catalog:ps2kbd@2", "catalog:ps2kbd@3", "--config", "/nonexistent/pyproject.toml"],
     "pyproject.toml"),
])
def test_bad_input_exits_2_with_one_line(args: list[str], needle: str) -> None:
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output


def test_device_not_in_any_input_exits_2(tmp_path: Path) -> None:
    f = write(tmp_path, "two.json", device("a", 1, uint8("x")), device("b", 1, uint8("y")))
    res = run(f, f, "--device", "c")
    assert res.exit_code == 2 and "'c'" in res.output


# -- transitive --------------------------------------------------------------------------------
def test_transitive_finds_what_consecutive_pairs_miss(history: list[str]) -> None:
    consecutive = as_json(run(*history, "--format", "json"))
    assert consecutive["compatible"] is True
    assert [(c["source"], c["destination"]) for c in consecutive["comparisons"]] == [
        (history[0], history[1]), (history[1], history[2])]
    res = run(*history, "--transitive", "--format", "json")
    assert res.exit_code == 1
    out = as_json(res)
    assert [(c["source"], c["destination"]) for c in out["comparisons"]] == [
        (history[0], history[2]), (history[1], history[2])]
    assert [(f["rule"], f["source"]) for f in out["findings"]] == [
        ("MINIMUM_ABOVE_SOURCE", history[0])]


def test_transitive_names_the_pair_of_every_finding(tmp_path: Path) -> None:
    """Two pairs give the same finding: each line says which pair it came from."""
    v1, v2, v3 = (write(tmp_path, f"v{i}.json", device("dev", 1, uint8("x", array=n)))
                  for i, n in ((1, 2), (2, 2), (3, 3)))
    res = run(v1, v2, v3, "--transitive")
    assert res.exit_code == 1
    lines = [x for x in res.stdout.splitlines() if x.startswith("error ")]
    assert len(lines) == 2 and lines[0] != lines[1]
    assert f"upgrade {v1} -> {v3}: dev/dev/x: " in lines[0]
    assert f"upgrade {v2} -> {v3}: dev/dev/x: " in lines[1]
    junit = ET.fromstring(run(v1, v2, v3, "--transitive", "--format", "junit").stdout
                          .split("?>", 1)[1])
    failure = junit.find("./testsuite/testcase/failure")
    assert failure is not None and failure.text is not None
    assert f"upgrade {v1} -> {v3}: " in failure.text and f"upgrade {v2} -> {v3}: " in failure.text


def test_transitive_on_catalog_history() -> None:
    refs = ["catalog:mc146818rtc@1", "catalog:mc146818rtc@2", "catalog:mc146818rtc@3"]
    out = as_json(run(*refs, "--transitive", "--format", "json"))
    assert out["compatible"] is True
    assert [(c["source"], c["destination"]) for c in out["comparisons"]] == [
        (refs[0], refs[2]), (refs[1], refs[2])]
    back = as_json(run(*refs, "--transitive", "--direction", "downgrade", "--format", "json"))
    assert back["compatible"] is False
    assert {f["source"] for f in back["findings"]} == {refs[2]}
    assert {f["destination"] for f in back["findings"] if f["rule"] == "VERSION_TOO_NEW"} == {
        refs[0], refs[1]}


# -- inputs of different kinds -----------------------------------------------------------------
def test_catalog_ref_against_its_description_file(tmp_path: Path) -> None:
    f = write(tmp_path, "ps2kbd.json", resolve("catalog:ps2kbd@3"))
    res = run("catalog:ps2kbd@3", f, "--direction", "full")
    assert res.exit_code == 0, res.output
    assert "compatible: 1 device, 2 comparisons; 0 errors, 0 warnings," in res.output


def test_device_option_limits_the_check(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", device("a", 1, uint8("x")), device("b", 1, uint8("y")))
    new = write(tmp_path, "new.json", device("a", 1, uint8("x")), device("b", 1, uint16("y")))
    assert run(old, new).exit_code == 1
    res = run(old, new, "--device", "a", "--format", "json")
    assert res.exit_code == 0 and as_json(res)["comparisons"][0]["devices"] == 1


def test_device_option_takes_several(tmp_path: Path) -> None:
    """Before, only the last --device counted."""
    descs = [device(n, 1, uint8("x")) for n in "abc"]
    old = write(tmp_path, "old.json", *descs)
    new = write(tmp_path, "new.json", *(d.with_fields(uint16("x")) for d in descs))
    out = as_json(run(old, new, "--device", "a", "--device", "c", "--format", "json"))
    assert {f["device"] for f in out["findings"]} == {"a", "c"}
    assert out["comparisons"][0]["devices"] == 2
    res = run(old, new, "--device", "a", "--device", "zzz")
    assert res.exit_code == 2 and "'zzz'" in res.output


# -- output formats ----------------------------------------------------------------------------
@pytest.fixture
def broken(tmp_path: Path) -> tuple[str, str]:
    sub = device("a/s", 1, uint8("z"))
    old = write(tmp_path, "old.json", device("a", 1, uint8("x"), subsections=[subsection(sub)]),
                device("b", 1, uint8("y")))
    new = write(tmp_path, "new.json", device("a", 1, uint16("x")), device("b", 1, uint8("y2")))
    return old, new


def test_junit_one_testcase_per_device(broken: tuple[str, str]) -> None:
    res = run(*broken, "--format", "junit")
    assert res.exit_code == 1
    root = ET.fromstring(res.stdout.split("?>", 1)[1])
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["a", "b"]
    assert cases[0].find("failure") is not None and "FIELD_SIZE_CHANGED" in cases[0].find(
        "failure").text
    assert cases[1].find("failure") is None  # a rename is a warning
    assert "FIELD_RENAMED" in cases[1].find("system-out").text
    assert root.find("testsuite").get("failures") == "1"


def test_github_annotations(broken: tuple[str, str]) -> None:
    res = run(*broken, "--format", "github")
    lines = res.stdout.splitlines()
    assert any(x.startswith(f"::error file={broken[1]},title=FIELD_SIZE_CHANGED::upgrade "
                            f"{broken[0]} -> {broken[1]}: a/a/x: ") for x in lines), lines
    assert any(x.startswith("::error file=") and "title=SUBSECTION_MISSING::" in x for x in lines)
    assert any(x.startswith("::warning file=") and "title=FIELD_RENAMED::" in x for x in lines)
    assert all(x.startswith("::") for x in lines)


def test_text_output_and_atomic_file(broken: tuple[str, str], tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    res = run(*broken, "--format", "json", "-o", str(out))
    assert res.exit_code == 1 and res.stdout == ""
    assert json.loads(out.read_text())["compatible"] is False
    text = run(*broken).stdout
    assert (f"error FIELD_SIZE_CHANGED [wire] upgrade {broken[0]} -> {broken[1]}: a/a/x: "
            "field 'x' size mismatch: 1 byte (uint8) -> 2 bytes (uint16)") in text
    assert text.splitlines()[-1] == ("INCOMPATIBLE: 2 devices, 1 comparison; 2 errors, "
                                     "1 warning, 0 info, 0 ignored")


def test_subsection_paths_print_qemu_names(broken: tuple[str, str], tmp_path: Path) -> None:
    """The JSON path stays pointer-escaped (``a~1s``); people read QEMU's ``a/s``, and an
    ignore may use either."""
    text = run(*broken).stdout
    line = next(x for x in text.splitlines() if "SUBSECTION_MISSING" in x)
    assert line.endswith(": a/a/a/s: VM subsection 'a/s' in 'a' does not exist; the source "
                         "sends it always"), line
    assert "~1" not in text
    found = as_json(run(*broken, "--format", "json"))["findings"]
    assert "a/a/a~1s" in {f["path"] for f in found}
    junit = run(*broken, "--format", "junit").stdout
    assert ": a/a/a/s: " in junit and "~1" not in junit
    github = run(*broken, "--format", "github").stdout
    assert ": a/a/a/s: " in github and "~1" not in github
    cfg = pyproject(tmp_path, 'ignore = [{path = "a/a/a/s", reason = "as printed"}]\n')
    out = as_json(run(*broken, "--config", cfg, "--format", "json"))
    assert [f["rule"] for f in out["ignored"]] == ["SUBSECTION_MISSING"]


# -- ignores -----------------------------------------------------------------------------------
def pyproject(tmp: Path, body: str) -> str:
    p = tmp / "pyproject.toml"
    p.write_text("[tool.vmcompat.check]\n" + body)
    return str(p)


def test_ignore_by_rule_device_and_path(broken: tuple[str, str], tmp_path: Path) -> None:
    cfg = pyproject(tmp_path, 'ignore = [\n'
                    ' {rule = "FIELD_SIZE_CHANGED", device = "a", path = "a/a/*", '
                    'reason = "x widened on purpose"},\n'
                    ' {rule = "SUBSECTION_MISSING", reason = "a/s is never needed"},\n]\n')
    res = run(*broken, "--config", cfg, "--format", "json")
    assert res.exit_code == 0, res.output
    out = as_json(res)
    assert {f["rule"] for f in out["ignored"]} == {"FIELD_SIZE_CHANGED", "SUBSECTION_MISSING"}
    assert {f["ignored"] for f in out["ignored"]} == {"x widened on purpose",
                                                      "a/s is never needed"}
    assert [f["rule"] for f in out["findings"]] == ["FIELD_RENAMED"]


def test_ignore_from_the_current_directory(broken: tuple[str, str], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pyproject(tmp_path, 'ignore = [{rule = "FIELD_*", reason = "all field changes accepted"},'
              '{rule = "SUBSECTION_MISSING", reason = "never needed"}]\n')
    assert run(*broken).exit_code == 1
    monkeypatch.chdir(tmp_path)
    res = run(*broken)
    assert res.exit_code == 0, res.output
    assert "3 ignored" in res.output


def test_stale_ignore_is_reported(broken: tuple[str, str], tmp_path: Path) -> None:
    cfg = pyproject(tmp_path, 'ignore = [{rule = "FIELD_REORDERED", device = "a", '
                    'reason = "fixed long ago"}, {device = "zzz", reason = "other device"}]\n')
    out = as_json(run(*broken, "--config", cfg, "--format", "json"))
    stale = [f for f in out["findings"] if f["rule"] == "IGNORE_UNUSED"]
    assert len(stale) == 1 and stale[0]["severity"] == "warning"
    assert "fixed long ago" in stale[0]["message"] and stale[0]["path"].endswith("#ignore[0]")


def test_stale_ignore_alone_does_not_fail(tmp_path: Path) -> None:
    cfg = pyproject(tmp_path, 'ignore = [{rule = "FIELD_REMOVED", reason = "old"}]\n')
    res = run("catalog:ps2kbd@2", "catalog:ps2kbd@3", "--config", cfg, "--format", "json")
    assert res.exit_code == 0
    assert [f["rule"] for f in as_json(res)["findings"]] == ["IGNORE_UNUSED"]


@pytest.mark.parametrize("body,needle", [
    ('ignore = [{rule = "FIELD_REMOVED"}]\n', "needs a reason"),
    ('ignore = [{rule = "FIELD_REMOVED", reason = "  "}]\n', "needs a reason"),
    ('ignore = [{reason = "everything"}]\n', "matches everything"),
    ('ignore = [{rule = "NO_SUCH_RULE", reason = "x"}]\n', "unknown rule"),
    ('ignore = [{rule = "FIELD_REMOVED", reason = "x", why = "y"}]\n', "unknown key"),
    ('ignore = "FIELD_REMOVED"\n', "list of tables"),
    ('ignore = [{rule = 3, reason = "x"}]\n', "must be a string"),
    ('ignore = [\n', "not valid TOML"),
    ('ignores = []\n', "unknown key"),
])
def test_bad_ignores_exit_2(tmp_path: Path, body: str, needle: str) -> None:
    cfg = pyproject(tmp_path, body)
    res = run("catalog:ps2kbd@2", "catalog:ps2kbd@3", "--config", cfg)
    assert res.exit_code == 2, res.output
    assert needle in res.output and cfg in res.output


# -- --prove -----------------------------------------------------------------------------------
def test_prove_attaches_engine_evidence(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", device("a", 1, uint8("x"), uint16("y")),
                device("b", 1, uint8("y")), device("c", 1, uint8("z")))
    new = write(tmp_path, "new.json", device("a", 1, uint8("x"), uint8("y")),
                device("b", 1, uint8("y2")))
    res = run(old, new, "--prove", "--max-examples", "10", "--format", "json")
    assert res.exit_code == 1, res.output
    ev = {f["rule"]: f["evidence"] for f in as_json(res)["findings"]}
    assert ev["FIELD_SIZE_CHANGED"]["status"] == "reproduced"
    assert ev["FIELD_SIZE_CHANGED"]["verdict"] in ("refused", "corrupt")
    assert ev["FIELD_SIZE_CHANGED"]["examples"] >= 1 and ev["FIELD_SIZE_CHANGED"]["seed"] == 0
    assert ev["FIELD_RENAMED"]["status"] == "not reproduced"  # a rename loads fine
    assert ev["SECTION_MISSING"]["status"] == "not exercisable"
    text = run(old, new, "--prove", "--max-examples", "10").stdout
    assert "evidence: reproduced: " in text and "evidence: static only, not exercisable: " in text


def qemu_dump(tmp: Path, name: str, *, version: int = 1, section: int | None = None,
              minimum: int = 1, field_version: int = 0, subsections: tuple[str, ...] = ()
              ) -> str:
    """A one-device ``-dump-vmstate`` file (``section``: a hand-edited section version)."""
    desc = {"name": "dev", "version_id": version, "minimum_version_id": minimum,
            "Fields": [{"field": "a", "version_id": field_version, "field_exists": False,
                        "size": 1}],
            "Subsections": [{"name": s, "version_id": 1, "minimum_version_id": 1,
                             "Fields": [{"field": "b", "version_id": 0, "field_exists": False,
                                         "size": 1}]} for s in subsections]}
    p = tmp / name
    p.write_text(json.dumps({"dev": {"Name": "dev", "version_id": section or version,
                                     "minimum_version_id": minimum, "Description": desc}}))
    return str(p)


def test_prove_says_why_a_finding_is_static_only(tmp_path: Path) -> None:
    """A dump does not show a subsection's needed function: the dynamic run never sends the
    subsection, so its SUBSECTION_MISSING is marked static only, with that reason (before:
    "not reproduced: compatible" and no reason)."""
    old = qemu_dump(tmp_path, "old.json", subsections=("dev/sub",))
    new = qemu_dump(tmp_path, "new.json")
    res = run(old, new, "--prove", "--max-examples", "5", "--format", "json")
    ev = next(f for f in as_json(res)["findings"] if f["rule"] == "SUBSECTION_MISSING")["evidence"]
    assert ev["status"] == "not reproduced" and ev["static_only"] is True
    assert ev["why"] == ("the dynamic run never sends subsection 'dev/sub': its needed "
                         "function is C code a QEMU dump does not show")
    text = run(old, new, "--prove", "--max-examples", "5").stdout
    assert ("    evidence: static only, not reproduced: the dynamic run never sends subsection "
            "'dev/sub': its needed function is C code a QEMU dump does not show; compatible in "
            "5 examples, seed 0") in text.splitlines()


def test_prove_explains_a_hand_edited_section_version(tmp_path: Path) -> None:
    """QEMU's checker test data claims version 1 for a section whose fields are version 3."""
    old = qemu_dump(tmp_path, "old.json", version=1, section=3, minimum=2, field_version=3)
    new = qemu_dump(tmp_path, "new.json", version=3, minimum=2, field_version=3)
    found = as_json(run(old, new, "--prove", "--max-examples", "5", "--format", "json"))
    ev = next(f for f in found["findings"] if f["rule"] == "MINIMUM_ABOVE_SOURCE")["evidence"]
    assert ev["static_only"] is True
    assert ev["why"].startswith(f"{old} gives this section versions 1 and 3, its description "
                                "only 3")


def test_reproduced_findings_are_not_static_only(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", device("a", 1, uint16("x")))
    new = write(tmp_path, "new.json", device("a", 1, uint8("x")))
    found = as_json(run(old, new, "--prove", "--max-examples", "5", "--format", "json"))
    ev = found["findings"][0]["evidence"]
    assert ev["status"] == "reproduced" and "static_only" not in ev and "why" not in ev


def test_prove_looks_past_a_version_refusal() -> None:
    res = run("catalog:ps2kbd@2", "catalog:ps2kbd@3", "--direction", "downgrade", "--prove",
              "--max-examples", "10", "--format", "json")
    found = as_json(res)["findings"]
    version = next(f for f in found if f["rule"] == "VERSION_TOO_NEW")["evidence"]
    assert version["reason"] == "too_new" and "versions_relaxed" not in version
    removed = next(f for f in found if f["rule"] == "FIELD_REMOVED")["evidence"]
    assert removed["versions_relaxed"] is True and removed["status"] == "reproduced"
    assert removed["reason"] != "too_new"


def test_json_output_follows_the_documented_schema(broken: tuple[str, str], tmp_path: Path
                                                   ) -> None:
    import jsonschema

    from vmcompat.compat.checker import RESULT_SCHEMA

    jsonschema.Draft202012Validator.check_schema(RESULT_SCHEMA)
    cfg = pyproject(tmp_path, 'ignore = [{rule = "FIELD_RENAMED", reason = "r"},'
                    '{device = "zzz", path = "*", reason = "stale"}, {rule = "FIELD_REORDERED",'
                    'reason = "stale too"}]\n')
    for args in ([], ["--direction", "both", "--config", cfg], ["--prove", "--max-examples", "5"]):
        out = as_json(run(*broken, "--format", "json", *args))
        jsonschema.validate(out, RESULT_SCHEMA)
        assert out["compatible"] is False


def test_list_rules() -> None:
    from vmcompat.compat.rules import RULES

    text = run("--list-rules")
    assert text.exit_code == 0 and len(text.stdout.splitlines()) == len(RULES)
    table = as_json(run("--list-rules", "--format", "json"))
    assert [r["rule"] for r in table] == list(RULES)
    assert all(r["doc"] and r["severity"] in ("error", "warning", "info") for r in table)


def test_catalog_history_wildcard() -> None:
    out = as_json(run("catalog:mc146818rtc@*", "--transitive", "--format", "json"))
    assert [(c["source"], c["destination"]) for c in out["comparisons"]] == [
        ("catalog:mc146818rtc@1", "catalog:mc146818rtc@3"),
        ("catalog:mc146818rtc@2", "catalog:mc146818rtc@3")]
    feats = as_json(run("catalog:virtio-net@*+msix", "--format", "json"))
    assert [c["source"] for c in feats["comparisons"]] == ["catalog:virtio-net@10+msix"]
