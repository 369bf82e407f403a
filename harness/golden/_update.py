"""``golden update``: rewrite only what changed, never a frozen golden without a reason.

:func:`plan_update` computes what the current code would write; it refuses a
partial run (a device that fails to generate means nothing is written).
:func:`apply_update` writes atomically (every temp file, then every rename)
and records forced changes of frozen goldens in ``CHANGES.json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vmcompat.errors import InputError, VmcompatError
from vmcompat.golden._frozen import Frozen, load_frozen, record_change
from vmcompat.golden._generate import expected
from vmcompat.golden._keys import GoldenKey, device_prefix
from vmcompat.golden._store import DirectoryGoldenStore, GoldenStore
from vmcompat.golden._verify import _external
from vmcompat.model import DeviceHistory
from vmcompat.words import plural


class PartialRun(VmcompatError):
    """Some device failed to generate its goldens: nothing is written (exit 2)."""


class FrozenGoldens(VmcompatError):
    """The update would change goldens of released versions (exit 1 without ``--force``)."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        super().__init__(f"refusing to change {plural(len(paths), 'golden')} of frozen, "
                         f"released versions: {shown}; use --force --reason TEXT if the "
                         "change is intended")


@dataclass
class UpdatePlan:
    writes: dict[str, bytes] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    unchanged: int = 0
    frozen: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.writes and not self.deletes


def plan_update(store: GoldenStore, histories: Mapping[str, DeviceHistory],
                devices: Iterable[str] | None = None, wires: Iterable[str] | None = None,
                frozen: Frozen | None = None) -> UpdatePlan:
    selected = sorted(histories) if devices is None else sorted(set(devices))
    for d in selected:
        if d not in histories:
            raise InputError(f"no device {d!r} in the catalog")
    want, errors = expected({d: histories[d] for d in selected}, wires)
    if errors:
        first = next(iter(errors.items()))
        raise PartialRun(f"{plural(len(errors), 'device')} failed to generate goldens, "
                         f"nothing written; first: {first[0]}: {first[1]}")
    frozen = load_frozen(store) if frozen is None else frozen
    plan = UpdatePlan()
    for key, value in sorted(want.items()):
        if store.fetch(key) == value:
            plan.unchanged += 1
        else:
            plan.writes[key] = value
    prefixes = [device_prefix(d) for d in selected] if devices is not None else [""]
    for p in prefixes:
        for key in sorted(store.keys(p)):
            if key in want:
                continue
            if GoldenKey.parse(key) is None and (
                    "/" not in key or _external(key.split("/", 1)[0]) is not None):
                continue  # manifest files and folders owned by others
            plan.deletes.append(key)
    plan.frozen = sorted(k for k in [*plan.writes, *plan.deletes] if frozen.covers(k))
    return plan


def apply_update(store: GoldenStore, plan: UpdatePlan, *, force: bool = False,
                 reason: str | None = None) -> None:
    """Write the plan; frozen goldens need ``force`` and a ``reason`` (recorded)."""
    if plan.frozen:
        if not force:
            raise FrozenGoldens(plan.frozen)
        if not reason or not reason.strip():
            raise InputError("--force needs --reason TEXT (it is recorded in CHANGES.json)")
    if isinstance(store, DirectoryGoldenStore):
        store.clean()
    store.save_many(plan.writes)
    for key in plan.deletes:
        store.delete(key)
    if plan.frozen:
        assert reason is not None
        record_change(store, reason.strip(), plan.frozen)
