"""Many inputs: pair their devices, compare each pair in each direction, apply ignores."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from vmcompat.compat import directions as D
from vmcompat.compat import rules as R
from vmcompat.compat.checker._align import compare
from vmcompat.compat.checker._results import Comparison, Finding, Input, Result, qemu_path
from vmcompat.compat.ignores import Config, Ignore
from vmcompat.errors import InputError
from vmcompat.model import Description
from vmcompat.values import replace


def input_pairs(n: int, transitive: bool) -> list[tuple[int, int]]:
    """(older, newer) index pairs: consecutive, or every earlier one against the newest."""
    if n < 2:
        raise InputError("check needs at least two inputs (OLD NEW)")
    if transitive:
        return [(i, n - 1) for i in range(n - 1)]
    return [(i, i + 1) for i in range(n - 1)]


#: (name, old description, new description, the other side's name when it differs,
#: the side that has ``name``: "old", "new" or "both")
DevicePair = tuple[str, Description | None, Description | None, str, str]


def _devices(old: Input, new: Input, only: Sequence[str]) -> list[DevicePair]:
    """Every device of either input, paired by name, else by wire identity.

    A section travels under its VMStateDescription name (the idstr), not its QOM
    type: a device one side lacks by name pairs with the other side's device of the
    same VMStateDescription (preferring an identical description), so a renamed QOM
    type is matched, not reported missing. Several QOM types may share one
    description (``PIIX3``, ``pci-piix3``, ``PIIX3-xen``): each pairs with its own
    name where it can.
    """
    o, n = dict(old.devices), dict(new.devices)
    if len(o) == 1 and len(n) == 1 and set(o) != set(n):
        # two single-device inputs (e.g. a catalog ref and a file): the same device
        (ko, do), (_, dn) = next(iter(o.items())), next(iter(n.items()))
        o, n = {ko: do}, {ko: dn}
    names = list(o) + [k for k in n if k not in o]
    if only:
        names = [k for k in names if k in only]
    out: list[DevicePair] = []
    for k in names:
        do, dn = o.get(k), n.get(k)
        if do is not None and dn is not None:
            out.append((k, do, dn, "", "both"))
        elif do is not None:
            other = _by_wire_identity(do, n, o)
            out.append((k, do, n.get(other) if other else None, other, "old"))
        elif dn is not None:
            other = _by_wire_identity(dn, o, n)
            out.append((k, o.get(other) if other else None, dn, other, "new"))
    return out


def _by_wire_identity(d: Description, there: Mapping[str, Description],
                      here: Mapping[str, Description]) -> str:
    """The device of ``there`` (absent by name from ``here``) with ``d``'s VMSD name."""
    same = [k for k, e in there.items() if e.name == d.name and k not in here]
    same = same or [k for k, e in there.items() if e.name == d.name]
    return next((k for k in same if there[k] == d), same[0] if same else "")


def check(inputs: Sequence[Input], *, direction: str = D.UPGRADE, transitive: bool = False,
          devices: Sequence[str] = (), config: Config | None = None) -> Result:
    """Check the inputs (ordered old to new) and apply the ignores of ``config``;
    ``devices``: only these (default: every device)."""
    dirs = D.runs(direction)
    for device in devices:
        if not any(device in i.devices for i in inputs):
            raise InputError(f"no device {device!r} in any input")
    result = Result()
    for i, j in input_pairs(len(inputs), transitive):
        old, new = inputs[i], inputs[j]
        devs = _devices(old, new, devices)
        for d in dirs:
            up = d == D.UPGRADE
            src, dst = (old, new) if up else (new, old)
            names = []
            for name, do, dn, other, side in devs:
                if side != "both" and side != ("old" if up else "new"):
                    continue  # a device only the destination names: nothing is sent
                s, t = (do, dn) if up else (dn, do)
                names.append(name)
                key = (src.label, dst.label, d, name)
                result.pairs[key] = (s, t)
                claims = (src.sections.get(name), dst.sections.get(name))
                if claims != (None, None):
                    result.claims[key] = claims
                result.findings += compare(name, s, t, direction=d, source=src.label,
                                           destination=dst.label, versions=claims,
                                           dst_device=other)
            result.comparisons.append(Comparison(src.label, dst.label, d, tuple(names)))
    if config is not None:
        apply_ignores(result, config)
    return result


def apply_ignores(result: Result, config: Config) -> None:
    """Move ignored findings aside; report ignores that matched nothing (IGNORE_UNUSED)."""
    used: set[int] = set()
    kept: list[Finding] = []
    for f in result.findings:
        hit: Ignore | None = next((ig for ig in config.ignores
                                   if ig.matches(f.rule, f.device, f.path)
                                   or ig.matches(f.rule, f.device, qemu_path(f.path))), None)
        if hit is None:
            kept.append(f)
        else:
            used.add(hit.index)
            result.ignored.append(replace(f, ignored=hit.reason))
    devices = set(result.devices)
    rule = R.RULES["IGNORE_UNUSED"]
    for ig in config.ignores:
        if ig.index in used or not ig.could_match_device(devices):
            continue
        site = R.StaleIgnore(ig.index, ig.rule, ig.device, ig.path, ig.reason,
                             config.file or "pyproject.toml")
        for message in rule.check(site):
            kept.append(Finding(rule.code, rule.severity, rule.category, "", ig.device or "",
                                f"{config.file or 'pyproject.toml'}#ignore[{ig.index}]",
                                message))
    result.findings = kept


def by_device(findings: Sequence[Finding]) -> Iterator[tuple[str, list[Finding]]]:
    """Findings grouped by device, in first-seen order."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.device, []).append(f)
    yield from groups.items()


