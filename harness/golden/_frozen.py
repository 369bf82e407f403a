"""Released device versions (``FROZEN.json``) and the record of forced changes (``CHANGES.json``).

``FROZEN.json``: ``{"frozen": {"<device>": [versions…]}}``: goldens of these
versions change only with ``golden update --force --reason TEXT``; each forced
change is appended to ``CHANGES.json``: ``{"changes": [{"time", "reason",
"files"}]}``.

>>> f = Frozen({"rtc": frozenset({1, 2})})
>>> f.covers("rtc/v2/legacy/sample.bin"), f.covers("rtc/v3/legacy/sample.bin")
(True, False)
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from vmcompat.values import field
from vmcompat.values import immutable

from vmcompat.errors import InputError
from vmcompat.golden._keys import GoldenKey
from vmcompat.golden._store import GoldenStore, dumps

FROZEN_FILE = "FROZEN.json"
CHANGES_FILE = "CHANGES.json"


@immutable
class Frozen:
    versions: Mapping[str, frozenset[int]] = field(default_factory=dict)

    def covers(self, path: str) -> bool:
        k = GoldenKey.parse(path)
        return k is not None and k.version in self.versions.get(k.device, frozenset())

    def to_json(self) -> dict[str, object]:
        return {"doc": "Released device versions: their goldens change only with "
                       "`vmcompat golden update --force --reason TEXT` (recorded in "
                       "CHANGES.json).",
                "frozen": {d: sorted(v) for d, v in sorted(self.versions.items()) if v}}

    def with_versions(self, device: str, versions: Iterable[int]) -> Frozen:
        new = dict(self.versions)
        new[device] = frozenset(new.get(device, frozenset())) | frozenset(versions)
        return Frozen(new)


def _read(store: GoldenStore, name: str) -> object | None:
    raw = store.fetch(name)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError as e:
        raise InputError(f"not JSON: {e}", file=name) from None


def load_frozen(store: GoldenStore) -> Frozen:
    obj = _read(store, FROZEN_FILE)
    if obj is None:
        return Frozen()
    frozen = obj.get("frozen") if isinstance(obj, dict) else None
    if not isinstance(frozen, dict) or not all(
            isinstance(v, list) and all(isinstance(x, int) for x in v) for v in frozen.values()):
        raise InputError('expected {"frozen": {"<device>": [versions…]}}', file=FROZEN_FILE)
    return Frozen({d: frozenset(v) for d, v in frozen.items()})


def save_frozen(store: GoldenStore, frozen: Frozen) -> None:
    store.save(FROZEN_FILE, dumps(frozen.to_json()).encode())


def load_changes(store: GoldenStore) -> list[dict[str, object]]:
    obj = _read(store, CHANGES_FILE)
    if obj is None:
        return []
    if not isinstance(obj, dict) or not isinstance(obj.get("changes"), list):
        raise InputError('expected {"changes": [...]}', file=CHANGES_FILE)
    return list(obj["changes"])


def record_change(store: GoldenStore, reason: str, files: Iterable[str]) -> dict[str, object]:
    """Append a forced change of frozen goldens to ``CHANGES.json``."""
    entry: dict[str, object] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "reason": reason, "files": sorted(files)}
    store.save(CHANGES_FILE, dumps({"changes": [*load_changes(store), entry]}).encode())
    return entry
