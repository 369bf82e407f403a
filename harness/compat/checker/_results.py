"""The checker's results: findings, inputs, comparisons, their JSON Schemas, paths."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vmcompat.compat import directions as D
from vmcompat.compat import rules as R
from vmcompat.model import Description
from vmcompat.values import immutable

#: how deep nested descriptions go before the checker gives up (cycles are impossible
#: in immutable values, but hostile input may be deep)
MAX_DEPTH = 64

#: section versions claimed by (source, destination) dumps beside their descriptions'
Claims = tuple[tuple[int, ...] | None, tuple[int, ...] | None]



@immutable
class Finding:
    """One finding. JSON keys are public: extend, never rename."""

    rule: str
    severity: str
    category: str
    direction: str
    device: str
    path: str
    message: str
    source: str = ""
    destination: str = ""
    evidence: dict[str, Any] | None = None
    ignored: str | None = None  # the ignore's reason, when an ignore matched

    @property
    def error(self) -> bool:
        return self.severity == "error"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule, "severity": self.severity, "category": self.category,
            "direction": self.direction, "device": self.device, "path": self.path,
            "message": self.message, "source": self.source, "destination": self.destination}
        if self.evidence is not None:
            out["evidence"] = self.evidence
        if self.ignored is not None:
            out["ignored"] = self.ignored
        return out


@immutable
class Input:
    """One input of ``check``: a label (the argument) and its devices."""

    label: str
    devices: Mapping[str, Description]
    #: versions a dump claims for a section where they differ from its description's
    #: (only hand-edited dumps: QEMU's checker test data)
    sections: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


@immutable
class Comparison:
    """One (source, destination, direction) the checker ran, and the devices it compared."""

    source: str
    destination: str
    direction: str
    devices: tuple[str, ...]


#: (source label, destination label, direction, device) of one compared device
PairKey = tuple[str, str, str, str]


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    ignored: list[Finding] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    #: the descriptions compared, for ``prove`` (not part of the JSON)
    pairs: dict[PairKey, tuple[Description, Description | None]] = field(
        default_factory=dict, repr=False)
    #: section versions dumps claim apart from their descriptions', for ``prove``
    claims: dict[PairKey, Claims] = field(default_factory=dict, repr=False)

    @property
    def compatible(self) -> bool:
        return not any(f.error for f in self.findings)

    @property
    def devices(self) -> list[str]:
        """Every device checked, in first-seen order."""
        seen: dict[str, None] = {}
        for c in self.comparisons:
            seen.update(dict.fromkeys(c.devices))
        return list(seen)

    def counts(self) -> dict[str, int]:
        c = Counter(f.severity for f in self.findings)
        return {s: c.get(s, 0) for s in R.SEVERITIES}

    def to_json(self) -> dict[str, Any]:
        return {"compatible": self.compatible,
                "findings": [f.to_json() for f in self.findings],
                "ignored": [f.to_json() for f in self.ignored],
                "counts": self.counts(),
                "comparisons": [{"source": c.source, "destination": c.destination,
                                 "direction": c.direction, "devices": len(c.devices)}
                                for c in self.comparisons]}


#: JSON Schema of ``Result.to_json()`` (``vmcompat check --format json``): keys are public,
#: extend, never rename. ``evidence`` is present with ``--prove``; ``ignored`` holds the
#: findings an ignore matched, each with the ignore's reason.
FINDING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["rule", "severity", "category", "direction", "device", "path", "message"],
    "properties": {
        "rule": {"type": "string", "pattern": "^[A-Z_]+$"},
        "severity": {"enum": list(R.SEVERITIES)},
        "category": {"enum": list(R.CATEGORIES)},
        "direction": {"enum": [D.UPGRADE, D.DOWNGRADE, ""]},
        "device": {"type": "string"},
        "path": {"type": "string"},
        "message": {"type": "string"},
        "source": {"type": "string"},
        "destination": {"type": "string"},
        "ignored": {"type": "string"},
        "evidence": {"type": "object", "required": ["status"], "properties": {
            "status": {"enum": ["reproduced", "not reproduced", "not exercisable",
                                "engine error"]},
            "verdict": {"enum": ["compatible", "refused", "corrupt", "crash"]},
            "static_only": {"type": "boolean"},
            "why": {"type": "string"}}},
    },
}
RESULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "vmcompat check result",
    "type": "object",
    "required": ["compatible", "findings"],
    "properties": {
        "compatible": {"type": "boolean"},
        "findings": {"type": "array", "items": FINDING_SCHEMA},
        "ignored": {"type": "array", "items": FINDING_SCHEMA},
        "counts": {"type": "object", "properties": {
            s: {"type": "integer", "minimum": 0} for s in R.SEVERITIES}},
        "comparisons": {"type": "array", "items": {
            "type": "object", "required": ["source", "destination", "direction", "devices"],
            "properties": {"direction": {"enum": [D.UPGRADE, D.DOWNGRADE]},
                           "devices": {"type": "integer", "minimum": 0}}}},
    },
}


# -- paths -------------------------------------------------------------------------------------
def render_path(segments: Sequence[str]) -> str:
    """A finding's ``path`` (JSON, ignores): segments joined by ``/``, JSON-pointer
    escaped (``~`` -> ``~0``, ``/`` -> ``~1``) so that a machine can split it."""
    return "/".join(str(s).replace("~", "~0").replace("/", "~1") for s in segments)


def qemu_path(path: str) -> str:
    """A finding's path as people read it, in QEMU's own names (subsections keep their
    ``/``); ignores match this form too.

    >>> qemu_path("PIIX3-xen/PIIX3/PIIX3~1rcr")
    'PIIX3-xen/PIIX3/PIIX3/rcr'
    """
    return "/".join(path_segments(path))


def path_segments(path: str) -> list[str]:
    """The names in a finding's path (the inverse of :func:`render_path`)."""
    return [s.replace("~1", "/").replace("~0", "~") for s in path.split("/")]


