"""Evidence for static findings: the dynamic engine on the devices with findings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vmcompat.compat import rules as R
from vmcompat.compat.checker._results import MAX_DEPTH, Finding, PairKey, Result, path_segments
from vmcompat.errors import Reason
from vmcompat.model import Description
from vmcompat.values import replace

#: rules about what lies outside a device's payload: the engine loads payloads only
NOT_EXERCISABLE = {
    "SECTION_MISSING": "the section is refused before any payload is read",
    "DESCRIPTION_RENAMED": "the section idstr is outside the payload the engine loads",
    "IGNORE_UNUSED": "a configuration finding",
}


def prove(result: Result, *, max_examples: int = 50, seed: int = 0, wire: str = "legacy",
          run_cell: Any = None) -> Result:
    """Run the dynamic engine on each (comparison, device) with findings; attach evidence.

    The evidence is the cell's result (``CellResult.to_json()``: verdict, reason,
    counterexample, examples, seed) plus ``status``: ``reproduced`` when the
    cell's verdict is not compatible (refused, corrupt or crash), ``not
    reproduced`` when every example loaded as expected, ``not exercisable`` for
    rules about things outside a payload, ``engine error`` if the engine failed.
    A finding the engine did not reproduce or cannot exercise is ``"static_only":
    true``, and ``why`` says what the dynamic run could not reach (a subsection
    whose needed function a dump does not show is never sent, a dump claims a
    section version its description does not have, …).
    Evidence is per cell: the findings of a device in one comparison share it.
    When the cell is refused on the version alone, findings about fields are
    exercised again past the version check (the destination's version range
    widened to take the source's stream; ``"versions_relaxed": true``), so a
    version refusal does not hide what the fields would do.
    """
    if run_cell is None:
        from vmcompat.matrix.engine import run_cell
    from vmcompat.compat.verdict import Cell, Verdict

    cache: dict[tuple[PairKey, bool], dict[str, Any]] = {}

    def evidence(f: Finding, relaxed: bool) -> dict[str, Any]:
        key = (f.source, f.destination, f.direction, f.device)
        if (key, relaxed) in cache:
            return cache[(key, relaxed)]
        src, dst = result.pairs[key]
        assert dst is not None
        if relaxed:
            dst = dst.evolve(version_id=max(dst.version_id, src.version_id),
                             minimum_version_id=min(dst.minimum_version_id, src.version_id))
        cell = Cell(f.device, f.source, f.destination, wire, f.direction)
        try:
            cr = run_cell(src, dst, cell, max_examples=max_examples, seed=seed)
        except Exception as e:  # the engine is another module: report, do not crash
            ev: dict[str, Any] = {"status": "engine error",
                                  "error": f"{type(e).__name__}: {e}"}
        else:
            ev = cr.to_json()
            ev["seed"] = cr.seed
            ev["status"] = ("not reproduced" if cr.verdict is Verdict.COMPATIBLE
                            else "reproduced")
            if relaxed:
                ev["versions_relaxed"] = True
        cache[(key, relaxed)] = ev
        return ev

    out = []
    for f in result.findings:
        key = (f.source, f.destination, f.direction, f.device)
        if f.rule in NOT_EXERCISABLE:
            ev = {"status": "not exercisable", "why": NOT_EXERCISABLE[f.rule]}
        elif key not in result.pairs or result.pairs[key][1] is None:
            ev = {"status": "not exercisable", "why": "no destination description"}
        else:
            ev = evidence(f, False)
            if ev.get("reason") in VERSION_REASONS and f.rule not in VERSION_RULES:
                ev = evidence(f, True)
            if ev["status"] == "not reproduced":
                ev = dict(ev, why=not_reached(f, result))
        if ev["status"] in ("not reproduced", "not exercisable"):
            ev = dict(ev, static_only=True)
        out.append(replace(f, evidence=ev))
    result.findings = out
    return result


#: refusals on the version alone, and the rules that predict them
VERSION_REASONS = frozenset({Reason.TOO_NEW.value, Reason.TOO_OLD.value})
VERSION_RULES = frozenset({"VERSION_TOO_NEW", "MINIMUM_ABOVE_SOURCE", "LEGACY_LOADER"})


def not_reached(f: Finding, result: Result) -> str:
    """Why the dynamic run did not meet what finding ``f`` is about."""
    key = (f.source, f.destination, f.direction, f.device)
    src, dst = result.pairs[key]
    if f.rule in VERSION_RULES:
        claims = result.claims.get(key, (None, None))
        for label, versions, d in zip((f.source, f.destination), claims, (src, dst)):
            if versions and d is not None:
                return (f"{label} gives this section versions "
                        f"{' and '.join(map(str, versions))}, its description only "
                        f"{d.version_id}: the dynamic run saves and loads with the "
                        f"descriptions' versions")
    unknown = _unknown_on_path(src, path_segments(f.path)[2:])
    if unknown is not None:
        return unknown
    return ("every example loaded as QEMU would load it: the finding may need states the "
            "run did not draw")


def _unknown_on_path(desc: Description, segments: Sequence[str]) -> str | None:
    """A needed or field_exists function from a QEMU dump on the way to ``segments``:
    vmcompat cannot run it, so the dynamic run always or never sends what it guards."""
    from vmcompat.dumps import has_unknown_needed, has_unknown_test

    i = 0
    for _ in range(MAX_DEPTH):
        if i >= len(segments):
            return None
        seg = segments[i]
        sub = desc.subsection(seg)
        if sub is not None:
            if has_unknown_needed(sub):
                return (f"the dynamic run never sends subsection '{seg}': its needed "
                        f"function is {R.UNKNOWN_C}")
            desc, i = sub.description, i + 1
            continue
        f = next((x for x in desc.fields if x.name == seg), None)
        if f is None:
            return None
        if has_unknown_test(f):
            assert f.exists is not None
            how = "always" if f.exists({}) else "never"
            return (f"the dynamic run {how} sends field '{seg}': its field_exists function "
                    f"is {R.UNKNOWN_C}")
        if f.struct is None or i + 1 >= len(segments) or segments[i + 1] != f.struct.name:
            return None
        desc, i = f.struct, i + 2
    return None
