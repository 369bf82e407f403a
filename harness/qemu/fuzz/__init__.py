"""``vmcompat qemu fuzz``: random states of real sections through real QEMU loads, judged
against vmcompat's prediction, every finding shrunk to a minimal state.

:func:`run_fuzz` runs it (:class:`FuzzOptions`), :func:`write_report` writes the report
(``report.json``'s keys are in :mod:`vmcompat.qemu.fuzz._report`), :func:`replay_finding`
runs one finding file again. The outcome vocabulary is :class:`Outcome`.
"""

from vmcompat.qemu.fuzz._fuzz import FuzzOptions, FuzzRun, run_fuzz
from vmcompat.qemu.fuzz._fuzz import replay as replay_finding
from vmcompat.qemu.fuzz._outcomes import OUTCOMES, Judgement, Observed, Outcome, judge
from vmcompat.qemu.fuzz._report import build_report, render_text, write_report
from vmcompat.qemu.fuzz._run import Finding, TargetResult, fuzz_target

__all__ = [
    "OUTCOMES", "Finding", "FuzzOptions", "FuzzRun", "Judgement", "Observed", "Outcome",
    "TargetResult", "build_report", "fuzz_target", "judge", "render_text", "replay_finding",
    "run_fuzz", "write_report",
]
