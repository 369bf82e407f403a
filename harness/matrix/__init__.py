"""The feature/version matrix: cells, sharding, running, merging.

A cell is (device, source version, destination version, wire, feature set);
:func:`build_cells` enumerates them, :func:`shard` splits them, :func:`run_cells`
runs each through the fuzz engine (``harness.matrix.engine.run_cell``), and
:func:`harness.report.merge` joins sharded runs. :func:`run_chains` runs the chain
machine per device (``--chains``).
"""

from harness.compat.directions import of_versions as direction
from harness.matrix._cells import (
    FEATURE_MODES,
    build_cells,
    cell_order,
    feature_sets,
    parse_shard,
    shard,
)
from harness.matrix._chains import run_chains
from harness.matrix._progress import PlainProgress, RichProgress, progress_for
from harness.matrix._run import (
    DEFAULT_MAX_EXAMPLES,
    Runner,
    cell_seed,
    default_runner,
    run_cells,
    run_one,
)
from harness.matrix._subjects import subjects

__all__ = [
    "DEFAULT_MAX_EXAMPLES",
    "FEATURE_MODES",
    "PlainProgress",
    "RichProgress",
    "Runner",
    "build_cells",
    "cell_order",
    "cell_seed",
    "default_runner",
    "direction",
    "feature_sets",
    "parse_shard",
    "progress_for",
    "run_chains",
    "run_cells",
    "run_one",
    "shard",
    "subjects",
]
