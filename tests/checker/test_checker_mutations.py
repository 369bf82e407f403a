"""The mutation suite of ``vmcompat.strategies.evolutions`` through the static checker.

* every breaking one-step change (``all_mutations``) of every catalog
  description: the *static kill rate* (an error finding = killed);
* every compatible one-step change (``all_evolutions``): no error (no false
  alarm);
* a deterministic sample of both, also through the dynamic engine
  (``run_cell``), printed side by side: static vs dynamic kill rate per kind.

Run with ``-s`` to see the tables.
"""

from __future__ import annotations

import importlib
from collections import Counter
from typing import Any

from vmcompat.catalog import load
from vmcompat.compat import checker as C
from vmcompat.model import Description

# the module, not the strategy of the same name
evolutions = importlib.import_module("vmcompat.strategies.evolutions")

#: examples per dynamic cell, and how many changes of each kind the dynamic sample takes
EXAMPLES, PER_KIND = 15, 2


def descriptions() -> list[Description]:
    return [d for _, h in sorted(load().items()) for d in h.versions]


def static_error(old: Description, new: Description) -> C.Result:
    return C.check([C.Input("old", {old.name: old}), C.Input("new", {old.name: new})])


def table(title: str, rows: dict[str, list[Any]]) -> str:
    lines = [title]
    for kind, (n, *cols) in sorted(rows.items()):
        lines.append(f"  {kind:28} {n:5}  " + "  ".join(f"{c:5}" for c in cols))
    return "\n".join(lines)


def test_static_kill_rate_of_every_mutation() -> None:
    total: Counter[str] = Counter()
    killed: Counter[str] = Counter()
    missed = []
    for d in descriptions():
        for ch in evolutions.all_mutations(d):
            total[ch.kind] += 1
            if not static_error(d, ch.description).compatible:
                killed[ch.kind] += 1
            else:
                missed.append((d.name, d.version_id, ch.kind, ch.detail))
    n, k = sum(total.values()), sum(killed.values())
    print("\n" + table("static kills per mutation kind (total, killed):",
                       {kind: [total[kind], killed[kind]] for kind in total}))
    print(f"static kill rate: {k}/{n} = {k / n:.1%}; missed: {missed[:10]}")
    assert n > 100 and set(total) <= set(evolutions.MUTATION_KINDS)
    assert k / n >= 0.99, missed


def test_no_error_on_any_compatible_evolution() -> None:
    alarms = []
    n = 0
    for d in descriptions():
        for ch in evolutions.all_evolutions(d):
            n += 1
            r = static_error(d, ch.description)
            if not r.compatible:
                alarms.append((d.name, ch.kind, ch.detail,
                               [f.rule for f in r.findings if f.error]))
            if ch.kind == "field_renamed":
                assert {f.rule for f in r.findings} - {"BROKEN_FIELD"} == {"FIELD_RENAMED"}
    print(f"\nevolutions checked: {n}, false alarms (errors): {len(alarms)}")
    assert n > 100 and alarms == []


def _sample(changes: list[tuple[Description, Any]]) -> list[tuple[Description, Any]]:
    seen: Counter[str] = Counter()
    out = []
    for d, ch in changes:
        if seen[ch.kind] < PER_KIND:
            seen[ch.kind] += 1
            out.append((d, ch))
    return out


def test_static_next_to_dynamic_on_a_sample() -> None:
    from vmcompat.compat.verdict import Cell, Verdict
    from vmcompat.matrix.engine import run_cell

    # the smallest descriptions first: the engine shrinks every corrupt example, which is
    # slow on big ones (apic: ~25 s a cell)
    small = sorted(descriptions(), key=lambda d: (len(list(d.walk_fields())), d.name,
                                                  d.version_id))
    muts = _sample([(d, ch) for d in small for ch in evolutions.all_mutations(d)])
    evos = _sample([(d, ch) for d in small for ch in evolutions.all_evolutions(d)])
    rows: dict[str, list[int]] = {}
    disagree = []
    for d, ch in muts + evos:
        static = not static_error(d, ch.description).compatible
        cr = run_cell(d, ch.description, Cell(d.name, str(d.version_id), ch.kind),
                      max_examples=EXAMPLES, seed=0)
        dynamic = cr.verdict is not Verdict.COMPATIBLE
        row = rows.setdefault(ch.kind, [0, 0, 0])
        row[0] += 1
        row[1] += static
        row[2] += dynamic
        if static != dynamic:
            disagree.append((d.name, ch.kind, ch.detail, static, cr.verdict.value, cr.reason))
    ms = [rows[k] for k in rows if k in evolutions.MUTATION_KINDS]
    n = sum(r[0] for r in ms)
    s, dy = sum(r[1] for r in ms), sum(r[2] for r in ms)
    print("\n" + table("sample (changes, static kills, dynamic kills):", rows))
    print(f"mutations: static {s}/{n} = {s / n:.1%}, dynamic ({EXAMPLES} examples) {dy}/{n} = "
          f"{dy / n:.1%}")
    print(f"disagreements: {disagree}")
    # static is the conservative side: whatever the engine refuses or finds corrupt,
    # the rules saw; and no evolution is an error for either
    assert not [x for x in disagree if x[3] is False and x[1] in evolutions.MUTATION_KINDS]
    assert all(rows[k][1] == 0 and rows[k][2] == 0 for k in rows
               if k in evolutions.EVOLUTION_KINDS)
