"""The goldens the current code produces: one state per device version and case, per wire.

Cases: ``sample`` (no optional features) and ``feature-<name>`` for every
optional feature the version has. Each case is a payload (``.bin``) and its
state (``.json``) in every registered wire format.

>>> from vmcompat.dsl import device, uint8
>>> from vmcompat.model import DeviceHistory
>>> h = DeviceHistory("d", (device("d", 1, uint8("a")),))
>>> [c.name for c in cases(h)]
['sample']
>>> out, errors = expected({"d": h}, ["legacy"])
>>> sorted(out), len(out["d/v1/legacy/sample.bin"]), errors
(['d/v1/legacy/sample.bin', 'd/v1/legacy/sample.json'], 1, {})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from vmcompat.values import immutable
from typing import Any

from vmcompat import state as statejson
from vmcompat.formats import FORMATS
from vmcompat.golden._keys import GoldenKey
from vmcompat.golden._states import golden_state
from vmcompat.golden._store import dumps
from vmcompat.model import Description, DeviceHistory

SAMPLE = "sample"
FEATURE_PREFIX = "feature-"


@immutable
class Case:
    """One golden state: a device version with a feature set."""

    device: str
    version: int
    features: tuple[str, ...]
    name: str
    desc: Description

    def key(self, wire: str, ext: str = "bin") -> GoldenKey:
        return GoldenKey(self.device, self.version, wire, self.name, ext)


def cases(history: DeviceHistory, version: int | None = None) -> list[Case]:
    """Every golden case of a history (or of one of its versions)."""
    out = []
    for d in history.versions:
        v = d.version_id
        if version is not None and v != version:
            continue
        out.append(Case(history.name, v, (), SAMPLE, history.at(v)))
        for feat in history.features:
            if v >= feat.since:
                out.append(Case(history.name, v, (feat.name,), FEATURE_PREFIX + feat.name,
                                history.at(v, (feat.name,))))
    return out


def case_named(history: DeviceHistory, version: int, name: str) -> Case | None:
    return next((c for c in cases(history, version) if c.name == name), None)


def render(case: Case, wire: str) -> dict[str, bytes]:
    """The ``.bin`` and ``.json`` of one case in one wire."""
    state: Any = golden_state(case.desc)
    payload = FORMATS[wire].encode(case.desc, state)
    return {case.key(wire, "bin").path: payload,
            case.key(wire, "json").path: dumps(statejson.to_json(state)).encode()}


def expected(histories: Mapping[str, DeviceHistory], wires: Iterable[str] | None = None
             ) -> tuple[dict[str, bytes], dict[str, str]]:
    """(golden path -> bytes, device -> error) for every device; a device that fails
    contributes nothing, so callers can refuse a partial run."""
    wires = sorted(FORMATS) if wires is None else list(wires)
    out: dict[str, bytes] = {}
    errors: dict[str, str] = {}
    for name, h in sorted(histories.items()):
        mine: dict[str, bytes] = {}
        try:
            for c in cases(h):
                for w in wires:
                    mine.update(render(c, w))
        except Exception as e:  # any failure makes the run partial
            errors[name] = f"{type(e).__name__}: {e}"
            continue
        out.update(mine)
    return out, errors
