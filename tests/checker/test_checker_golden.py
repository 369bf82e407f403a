"""The checker on a real QEMU 7.2 ``-dump-vmstate`` (golden, captured by ``vmcompat qemu dump``).

The dump against itself is compatible with no findings; single JSON edits of
it are found on the device they touch (breaking ones) or give no error
(wire-compatible ones).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vmcompat.compat import checker as C
from vmcompat.model import Field

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "golden" / "qemu-7.2" / "dumps" / "pc-i440fx-7.2.json"

Dump = dict[str, Any]


@pytest.fixture(scope="module")
def golden() -> Dump:
    if not GOLDEN.exists():
        pytest.skip(f"golden dump {GOLDEN} not captured yet (vmcompat qemu dump)")
    return json.loads(GOLDEN.read_text())


@pytest.fixture(scope="module")
def golden_input(golden: Dump) -> C.Input:
    return C.load_input(str(GOLDEN))


def check(tmp_path: Path, old: C.Input, new: Dump, direction: str = "upgrade") -> C.Result:
    p = tmp_path / "mutated.json"
    p.write_text(json.dumps(new))
    return C.check([old, C.load_input(str(p))], direction=direction)


def test_golden_against_itself_is_clean(golden_input: C.Input) -> None:
    result = C.check([golden_input, golden_input], direction="both")
    assert result.compatible and result.findings == []
    assert len(result.devices) == len(golden_input.devices) > 200


# -- mutations: small JSON edits of one device ------------------------------------------------
def desc(d: Dump, dev: str) -> dict[str, Any]:
    return d[dev]["Description"]


def field(d: Dump, dev: str, name: str) -> dict[str, Any]:
    return next(f for f in desc(d, dev)["Fields"] if f["field"] == name)


def set_version(d: Dump, dev: str, v: int, minimum: int | None = None) -> None:
    for o in (d[dev], desc(d, dev)):
        o["version_id"] = v
        if minimum is not None:
            o["minimum_version_id"] = minimum


def remove_field(d: Dump, dev: str, name: str) -> None:
    desc(d, dev)["Fields"].remove(field(d, dev, name))


def add_field(d: Dump, dev: str, name: str, version: int, size: int = 4) -> None:
    desc(d, dev)["Fields"].append({"field": name, "version_id": version, "field_exists": False,
                                   "size": size})


def swap(d: Dump, dev: str, a: str, b: str) -> None:
    fs = desc(d, dev)["Fields"]
    i, j = fs.index(field(d, dev, a)), fs.index(field(d, dev, b))
    fs[i], fs[j] = fs[j], fs[i]


RTC = "mc146818rtc"
RTC_SUB = "mc146818rtc/irq_reinject_on_ack_count"


def _bump_minimum(d: Dump) -> None:
    set_version(d, RTC, 4, 4)


def _unversioned(d: Dump) -> None:
    add_field(d, RTC, "added", 0)


def _same_version(d: Dump) -> None:
    add_field(d, RTC, "added", 3)


def _drop_sub(d: Dump) -> None:
    desc(d, RTC)["Subsections"] = []


def _rename_sub(d: Dump) -> None:
    desc(d, RTC)["Subsections"][0]["name"] = "mc146818rtc/irq_reinject"


def _rename_desc(d: Dump) -> None:
    desc(d, RTC)["name"] = "rtc"


def _drop_nested(d: Dump) -> None:
    del field(d, "i8042", "kbd")["Description"]


def _nested_removed(d: Dump) -> None:
    kbd = field(d, "i8042", "kbd")["Description"]
    kbd["Fields"].pop()


def _tested(d: Dump) -> None:
    field(d, RTC, "cmos_index")["field_exists"] = True


def _field_version_up(d: Dump) -> None:
    set_version(d, RTC, 4)
    field(d, RTC, "period")["version_id"] = 4


def _unused_size(d: Dump) -> None:
    next(f for f in desc(d, RTC)["Fields"] if f["field"] == "unused")["size"] = 20


def _lower_version(d: Dump) -> None:
    set_version(d, "ps2-mouse", 1, 1)


def _delete_device(d: Dump) -> None:
    del d[RTC]


BREAKING: list[tuple[str, str, str, Callable[[Dump], None]]] = [
    ("field removed", RTC, "FIELD_REMOVED", lambda d: remove_field(d, RTC, "cmos_index")),
    ("field size", RTC, "FIELD_SIZE_CHANGED", lambda d: field(d, RTC, "period").update(size=8)),
    ("fields swapped", RTC, "FIELD_REORDERED", lambda d: swap(d, RTC, "irq_coalesced", "period")),
    ("version lowered", "ps2-mouse", "VERSION_TOO_NEW", _lower_version),
    ("minimum raised", RTC, "MINIMUM_ABOVE_SOURCE", _bump_minimum),
    ("field added unversioned", RTC, "FIELD_ADDED_UNVERSIONED", _unversioned),
    ("field added without bump", RTC, "FIELD_ADDED_UNVERSIONED", _same_version),
    ("subsection removed", RTC, "SUBSECTION_MISSING", _drop_sub),
    ("subsection renamed", RTC, "SUBSECTION_RENAMED", _rename_sub),
    ("description renamed", RTC, "DESCRIPTION_RENAMED", _rename_desc),
    ("nested description removed", "i8042", "NESTED_DESCRIPTION_MISSING", _drop_nested),
    ("nested field removed", "i8042", "FIELD_REMOVED", _nested_removed),
    ("field test added", RTC, "FIELD_TEST_CHANGED", _tested),
    ("field version raised", RTC, "FIELD_VERSION_CHANGED", _field_version_up),
    ("unused size", RTC, "UNUSED_SIZE_CHANGED", _unused_size),
    ("device removed", RTC, "SECTION_MISSING", _delete_device),
]


@pytest.mark.parametrize("name,device,rule,mutate", BREAKING, ids=[b[0] for b in BREAKING])
def test_breaking_mutation_found_on_its_device(tmp_path: Path, golden: Dump,
                                               golden_input: C.Input, name: str, device: str,
                                               rule: str, mutate: Callable[[Dump], None]) -> None:
    new = copy.deepcopy(golden)
    mutate(new)
    result = check(tmp_path, golden_input, new)
    errors = [f for f in result.findings if f.error]
    assert not result.compatible
    assert {f.device for f in errors} == {device}
    assert rule in {f.rule for f in errors}, [(f.rule, f.message) for f in errors]


def _bumped_field(d: Dump) -> None:
    set_version(d, RTC, 4)
    add_field(d, RTC, "added", 4)


def _sub_added(d: Dump) -> None:
    desc(d, "ps2-mouse").setdefault("Subsections", []).append(
        {"name": "ps2mouse/new", "version_id": 1, "minimum_version_id": 1,
         "Fields": [{"field": "x", "version_id": 0, "field_exists": False, "size": 4}]})


def _device_added(d: Dump) -> None:
    d["new-device"] = copy.deepcopy(d[RTC])
    desc(d, "new-device")["name"] = "new-device"


def _renamed(d: Dump) -> None:
    field(d, RTC, "cmos_index")["field"] = "cmos_idx"


COMPATIBLE: list[tuple[str, Callable[[Dump], None], set[str]]] = [
    ("field added with version bump", _bumped_field, set()),
    ("subsection added", _sub_added, set()),
    ("version raised", lambda d: set_version(d, RTC, 4), set()),
    ("minimum lowered", lambda d: set_version(d, RTC, 3, 0), set()),
    ("device added", _device_added, set()),
    ("field renamed", _renamed, {"FIELD_RENAMED"}),
]


@pytest.mark.parametrize("name,mutate,expected", COMPATIBLE, ids=[c[0] for c in COMPATIBLE])
def test_compatible_mutation_gives_no_error(tmp_path: Path, golden: Dump, golden_input: C.Input,
                                            name: str, mutate: Callable[[Dump], None],
                                            expected: set[str]) -> None:
    new = copy.deepcopy(golden)
    mutate(new)
    result = check(tmp_path, golden_input, new)
    assert result.compatible, [(f.rule, f.path, f.message) for f in result.findings if f.error]
    assert {f.rule for f in result.findings} == expected


def test_compatible_bump_is_an_error_downgrading(tmp_path: Path, golden: Dump,
                                             golden_input: C.Input) -> None:
    """Migrating back: the new field and version break the old QEMU."""
    new = copy.deepcopy(golden)
    _bumped_field(new)
    result = check(tmp_path, golden_input, new, direction="downgrade")
    assert {(f.rule, f.device) for f in result.findings if f.error} == {
        ("VERSION_TOO_NEW", RTC), ("FIELD_REMOVED", RTC)}
    assert {f.direction for f in result.findings} == {"downgrade"}


def test_dump_against_a_catalog_description_of_the_same_device() -> None:
    """A dump's guessed buffer types (C sizes) compare by size only: the catalog's rtc, which
    models QEMU 7.2's mc146818rtc with real wire types, matches the real dump."""
    if not GOLDEN.exists():
        pytest.skip(f"golden dump {GOLDEN} not captured yet (vmcompat qemu dump)")
    from vmcompat.compat.ignores import Config
    from vmcompat.compat.rules import RULES

    dump = C.load_input(str(GOLDEN))
    cat = C.load_input("catalog:mc146818rtc@3")
    both = C.check([dump, cat], direction="both", devices=[RTC], config=Config(None))
    assert both.findings == [] and len(both.comparisons) == 2
    # a real change still shows through the guess: cmos_index (1 byte) read as 2 bytes
    wider = cat.devices[RTC].evolve(fields=tuple(
        f if f.name != "cmos_index" else Field("cmos_index", "uint16")
        for f in cat.devices[RTC].fields))
    r = C.check([dump, C.Input("wider", {RTC: wider})], devices=[RTC])
    assert [f.rule for f in r.findings if f.error] == ["FIELD_SIZE_CHANGED"]
    assert RULES["FIELD_TYPE_CHANGED"].code not in {f.rule for f in r.findings}
