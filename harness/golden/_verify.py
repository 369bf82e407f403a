"""``golden verify``: every golden still decodes to its state and re-encodes to its bytes.

Checks, per device version, case and wire: the payload decodes (with the
current code) to the stored state; the stored state re-encodes to the same
bytes; goldens of every earlier version load in the newest version; and no
golden is left that no device version produces (unused). A mismatch is shown
as a diff of decoded trees (field path, old → new) plus the bytes around the
first differing offset.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from vmcompat.values import field
from vmcompat.values import immutable
from typing import Any

from vmcompat import state as statejson
from vmcompat.errors import InputError, LoadError, VersionTooOld
from vmcompat.formats import FORMATS
from vmcompat.golden._diff import diff_trees, format_bytes_diff, format_changes
from vmcompat.golden._frozen import CHANGES_FILE, FROZEN_FILE
from vmcompat.golden._generate import Case, cases
from vmcompat.golden._keys import GoldenKey, device_prefix
from vmcompat.golden._result import Problem, VerifyResult
from vmcompat.golden._states import golden_state
from vmcompat.golden._streams import verify_streams
from vmcompat.golden._store import GoldenStore
from vmcompat.model import DeviceHistory
from vmcompat.schema import write_goldens

#: top-level files of the golden directory that are not goldens
META_FILES = frozenset({FROZEN_FILE, CHANGES_FILE, "README.md"})


# --------------------------------------------------------------------------- one golden
def check_golden(case: Case, wire: str, payload: bytes, state_raw: bytes) -> list[str]:
    """Problems of one golden, each message followed by its detail lines."""
    fmt, desc = FORMATS[wire], case.desc
    try:
        stored = json.loads(state_raw)
    except ValueError as e:
        return [f"state file is not JSON: {e}"]
    try:
        state = statejson.from_json(desc, stored)
    except InputError as e:
        return [f"stored state no longer fits the description: {e.bare} at {e.path or '(root)'}"]
    out: list[str] = []
    try:
        # the destination holds the same configuration: its prior state (which
        # decides NULL pointer slots and what `equal` fields must match) is the state
        decoded = statejson.to_json(fmt.decode(desc, payload, case.version, deepcopy(state)))
    except LoadError as e:
        out.append(f"payload no longer loads: {e}")
    except Exception as e:  # a crash of the reader is a finding, not our crash
        out.append(f"reader crashed: {type(e).__name__}: {e}")
    else:
        changes = diff_trees(stored, decoded)
        if changes:
            out.append("payload decodes to a different state (field: stored → decoded):\n"
                       + format_changes(changes))
    again = fmt.encode(desc, state)
    if again != payload:
        out.append("stored state re-encodes to different bytes:\n"
                   + format_bytes_diff(payload, again).replace("old:", "golden:", 1)
                   .replace("new:", "now:   ", 1))
    return out


def check_in_newest(h: DeviceHistory, case: Case, wire: str, payload: bytes) -> str | None:
    """A golden of an earlier version must load in the newest version (or be declared too old)."""
    newest = h.at(h.latest.version_id, case.features)
    try:
        FORMATS[wire].decode(newest, payload, case.version, golden_state(newest))
    except VersionTooOld:
        return None  # the newest declares it unsupported: a clean, documented refusal
    except LoadError as e:
        return f"v{case.version} golden no longer loads in v{newest.version_id}: {e}"
    except Exception as e:
        return (f"v{case.version} golden crashes the v{newest.version_id} reader: "
                f"{type(e).__name__}: {e}")
    return None


# --------------------------------------------------------------------------- external folders
@immutable
class External:
    """A top-level folder verified by another part of vmcompat (or knowingly not at all)."""

    matches: Callable[[str], bool]
    verify: Callable[[GoldenStore, str, VerifyResult], None]


def _schemas(store: GoldenStore, top: str, result: VerifyResult) -> None:
    """Schema goldens (``schemas/…``) equal what ``vmcompat.schema.write_goldens`` writes now."""
    with tempfile.TemporaryDirectory(prefix="vmcompat-schemas-") as tmp:
        write_goldens(tmp)
        want: dict[str, bytes] = {}
        for dirpath, _, names in os.walk(tmp):
            for n in names:
                full = os.path.join(dirpath, n)
                rel = os.path.relpath(full, tmp).replace(os.sep, "/")
                with open(full, "rb") as fh:
                    want[f"{top}/{rel}"] = fh.read()
    for key, text in sorted(want.items()):
        result.checked += 1
        raw = store.fetch(key)
        if raw is None:
            result.problems.append(Problem("schema", key, "schema golden is missing"))
        elif raw != text:
            try:
                detail = format_changes(diff_trees(json.loads(raw), json.loads(text)))
            except ValueError:
                detail = format_bytes_diff(raw, text)
            result.problems.append(Problem(
                "schema", key, "schema golden differs from the generated schema "
                "(path: stored → generated)", detail))
    for key in sorted(set(store.keys(top + "/")) - set(want)):
        result.problems.append(Problem("unused", key, "unused schema golden: no catalog "
                                                      "version produces it"))


EXTERNAL: tuple[External, ...] = (
    External(lambda name: name.startswith("qemu-"), verify_streams),
    External(lambda name: name == "schemas", _schemas),
)


def _external(top: str) -> External | None:
    return next((e for e in EXTERNAL if e.matches(top)), None)


# --------------------------------------------------------------------------- everything
def require_golden_store(store: GoldenStore, histories: Mapping[str, DeviceHistory], *,
                         file: str | None = None) -> None:
    """Bad input unless ``store`` holds ``FROZEN.json`` or a golden of a catalog device.

    Looks under each device's folder only, so a large unrelated directory is not walked.
    """
    if store.fetch(FROZEN_FILE) is not None:
        return
    for name in histories:
        if any(GoldenKey.parse(k) for k in store.keys(device_prefix(name))):
            return
    raise InputError(f"not a golden store: no {FROZEN_FILE} and no <device>/v<N>/<wire>/"
                     "<case>.bin of a catalog device; `vmcompat golden update` creates one",
                     file=file)


def verify(store: GoldenStore, histories: Mapping[str, DeviceHistory],
           wires: Iterable[str] | None = None, devices: Iterable[str] | None = None
           ) -> VerifyResult:
    """Verify the goldens of ``devices`` (default: every device and external folder)."""
    wires = sorted(FORMATS) if wires is None else list(wires)
    selected = sorted(histories) if devices is None else list(devices)
    for d in selected:
        if d not in histories:
            raise InputError(f"no device {d!r} in the catalog")
    result = VerifyResult()
    want: set[str] = set()
    for name in selected:
        h = histories[name]
        for case in cases(h):
            for w in wires:
                kb, kj = case.key(w, "bin").path, case.key(w, "json").path
                want |= {kb, kj}
                payload, state_raw = store.fetch(kb), store.fetch(kj)
                where = case.key(w).label()
                if payload is None or state_raw is None:
                    missing = kb if payload is None else kj
                    result.problems.append(Problem(
                        "missing", where, f"golden {missing} is missing "
                        "(run `vmcompat golden update`)"))
                    continue
                result.checked += 1
                try:
                    for msg in check_golden(case, w, payload, state_raw):
                        head, _, detail = msg.partition("\n")
                        result.problems.append(Problem("mismatch", where, head, detail))
                    if case.version != h.latest.version_id:
                        msg = check_in_newest(h, case, w, payload)
                        if msg:
                            result.problems.append(Problem("newest", where, msg))
                except Exception as e:  # a defect of a codec: reported, verify goes on
                    result.problems.append(Problem("crash", where,
                                                   f"crashed: {type(e).__name__}: {e}"))
    prefixes = [device_prefix(d) for d in selected] if devices is not None else [""]
    for p in prefixes:
        for key in store.keys(p):
            top = key.split("/", 1)[0]
            if key in want or (devices is None and "/" not in key and key in META_FILES):
                continue
            if devices is None and _external(top) is not None:
                continue
            result.problems.append(Problem(
                "unused", key, "unused golden: no device version produces it "
                "(removed or renamed? run `vmcompat golden update`)"))
    if devices is None:
        tops = sorted({k.split("/", 1)[0] for k in store.keys() if "/" in k})
        for top in tops:
            ext = _external(top)
            if ext is not None:
                ext.verify(store, top, result)
    return result
