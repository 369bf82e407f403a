"""Round trips through real releases: ``--chain 7.2,10.0,7.2``.

The state is saved on the first release (written into its capture, as for one hop); the
second loads it paused and saves again; the third loads *that* stream (the second's own
save, less the sections the third refuses outright), and so on. Each hop is judged as a
one-hop example is (:meth:`~vmcompat.qemu.fuzz._target.Target.run`: the oracle over the two
releases' descriptions of the section, the destination's captured section as its state
before the load, a same-release control between releases), from what the previous
release really holds and saved with the description its own save carries. The chain's
outcome is its worst hop's (:data:`~vmcompat.qemu.fuzz._outcomes.SEVERITY`), the hop named in
the detail; a hop that does not load ends the chain. Same vocabulary, so a round trip
through a newer release is checked on real QEMU: what 10.0 drops, recomputes or refuses
shows at the hop where it happens.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from vmcompat.qemu.cross import key_of
from vmcompat.qemu.fuzz._outcomes import SEVERITY, Judgement, Outcome
from vmcompat.qemu.fuzz._pin import pin
from vmcompat.qemu.fuzz._target import Direction, Key, Target, section_span
from vmcompat.stream.compare import cut_spans


@dataclass
class ChainTarget:
    """Section ``key`` carried through ``hops`` (consecutive directions), ready for states."""

    hops: tuple[Direction, ...]
    key: Key

    def __post_init__(self) -> None:
        self.targets: dict[int, Target] = {0: self.hops[0].target(self.key)}

    def hop(self, n: int) -> Target:
        """Hop ``n``'s target (made when a state first gets that far)."""
        if n not in self.targets:
            self.targets[n] = self.hops[n].target(self.key)
        return self.targets[n]

    @property
    def first(self) -> Target:
        return self.targets[0]

    @property
    def name(self) -> str:
        return self.first.name

    @property
    def source(self) -> Any:
        return self.first.source

    @property
    def captured(self) -> Any:
        return self.first.captured

    @property
    def path(self) -> tuple[str, ...]:
        return (self.hops[0].source.qemu.name, *(d.destination.qemu.name for d in self.hops))

    @property
    def blocked(self) -> str:
        return next((f"{d.source.qemu.name} → {d.destination.qemu.name}: {d.blockers[self.key]}"
                     for d in self.hops if self.key in d.blockers), "")

    @property
    def setup(self) -> tuple[str, tuple[str, ...]]:
        return self.first.setup

    @property
    def runs(self) -> int:
        return sum(t.runs for t in self.targets.values())

    def judge(self, state: Any) -> tuple[Judgement, bytes]:
        """Run the chain on one state: its worst hop's judgement, and the first stream."""
        data = stream = self.first.stream(state)
        held, source = state, None
        worst: Judgement | None = None
        for n in range(len(self.hops)):
            hop = self.hop(n)
            j, seen = hop.run(held, stream, source)
            j = replace(j, detail=f"{' → '.join(hop.path)}: {j.detail}" if j.detail else
                        f"at {' → '.join(hop.path)}")
            if worst is None or SEVERITY.index(j.outcome) < SEVERITY.index(worst.outcome):
                worst = j
            else:  # a milder hop still tells which fields it normalised
                worst = replace(worst, normalised=tuple(dict.fromkeys(
                    worst.normalised + j.normalised)))
            if seen.loaded is None or n + 1 == len(self.hops):
                break
            saved, decoded = seen.saved
            held = seen.loaded
            mine = next(s for s in decoded.sections if key_of(s) == self.key)
            entry = hop.direction.destination.table_of(saved).lookup(mine.idstr, mine.instance_id)
            source = pin(entry.description) if entry and entry.description else None
            blockers = self.hops[n + 1].blockers
            stream = cut_spans(saved, [section_span(decoded, s) for s in decoded.sections
                                     if key_of(s) in blockers and key_of(s) != self.key])
        assert worst is not None
        if worst.outcome is Outcome.AGREE_COMPATIBLE:
            worst = replace(worst, detail="")
        return worst, data


def chain_target(hops: tuple[Direction, ...], key: Key) -> Target | ChainTarget:
    """The target of ``key`` along ``hops``: one direction, or a chain of them."""
    return hops[0].target(key) if len(hops) == 1 else ChainTarget(hops, key)
