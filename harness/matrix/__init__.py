"""The feature/version matrix: cells, sharding, running, merging.

A cell is (device, source version, destination version, wire, feature set);
:func:`build_cells` enumerates them, :func:`shard` splits them, :func:`run_cells`
runs each through the fuzz engine (``vmcompat.matrix.engine.run_cell``), and
:func:`vmcompat.report.merge` joins sharded runs. :func:`run_chains` runs the chain
machine per device (``--chains``).
"""

from vmcompat.compat.directions import of_versions as direction
from vmcompat.matrix._cells import (
    FEATURE_MODES,
    build_cells,
    cell_order,
    feature_sets,
    parse_shard,
    shard,
)
from vmcompat.matrix._chains import run_chains
from vmcompat.matrix._progress import PlainProgress, RichProgress, progress_for
from vmcompat.matrix._run import (
    DEFAULT_MAX_EXAMPLES,
    Runner,
    cell_seed,
    default_runner,
    run_cells,
    run_one,
)
from vmcompat.matrix._subjects import subjects

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
