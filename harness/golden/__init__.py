"""The golden store: verify, update, frozen releases, unused detection, tree diffs.

Goldens live in ``golden/<device>/v<N>/<wire>/<case>.{bin,json}``: a payload
and the state it encodes, for a deterministic sample state of every catalog
device version (and each optional feature), in every registered wire.

>>> from vmcompat.dsl import device, uint8
>>> from vmcompat.model import DeviceHistory
>>> hs = {"d": DeviceHistory("d", (device("d", 1, uint8("a")),))}
>>> store = MemoryGoldenStore()
>>> apply_update(store, plan_update(store, hs, wires=["legacy"]))
>>> verify(store, hs, wires=["legacy"]).ok
True
>>> data = store.fetch("d/v1/legacy/sample.bin")
>>> store.save("d/v1/legacy/sample.bin", bytes([data[0] ^ 1]))  # one bit flipped
>>> print(verify(store, hs, wires=["legacy"]).problems[0].render())  # doctest: +ELLIPSIS
FAIL d@1 legacy sample: payload decodes to a different state (field: stored → decoded):
  a: ... → ...
"""

from vmcompat.golden._diff import Change, diff_trees, format_bytes_diff, format_changes
from vmcompat.golden._frozen import (
    CHANGES_FILE,
    FROZEN_FILE,
    Frozen,
    load_changes,
    load_frozen,
    record_change,
    save_frozen,
)
from vmcompat.golden._generate import Case, cases, expected
from vmcompat.golden._keys import GoldenKey
from vmcompat.golden._states import golden_state
from vmcompat.golden._store import (
    DirectoryGoldenStore,
    GoldenStore,
    MemoryGoldenStore,
    ReadOnlyGoldenStore,
)
from vmcompat.golden._update import (
    FrozenGoldens,
    PartialRun,
    UpdatePlan,
    apply_update,
    plan_update,
)
from vmcompat.golden._result import Problem, VerifyResult
from vmcompat.golden._verify import require_golden_store, verify

__all__ = [
    "CHANGES_FILE",
    "FROZEN_FILE",
    "Case",
    "Change",
    "DirectoryGoldenStore",
    "Frozen",
    "FrozenGoldens",
    "GoldenKey",
    "GoldenStore",
    "MemoryGoldenStore",
    "PartialRun",
    "Problem",
    "ReadOnlyGoldenStore",
    "UpdatePlan",
    "VerifyResult",
    "apply_update",
    "cases",
    "diff_trees",
    "expected",
    "format_bytes_diff",
    "format_changes",
    "load_changes",
    "load_frozen",
    "plan_update",
    "record_change",
    "require_golden_store",
    "golden_state",
    "save_frozen",
    "verify",
]
