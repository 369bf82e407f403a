"""The Hypothesis health checks vmcompat's own runs switch off, and why (one home).

A cell (:func:`vmcompat.matrix.engine.run_cell`), a migration chain and a real-QEMU fuzz
target draw states of whatever description they are given: a real QEMU section holds
MiB-sized buffers and hundreds of fields, so its smallest state is large and slow to draw.
That is the nature of the input, not a defect of a test, and these runs are tools, not a
user's tests. The other checks (``filter_too_much``: the state strategies do not filter;
``nested_given``, ``function_scoped_fixture``, ``differing_executors``) stay on: they point
at a defect.
"""

from __future__ import annotations

from hypothesis import HealthCheck

#: generation-cost checks; see the module docstring for why runs switch them off
GENERATION_CHECKS: tuple[HealthCheck, ...] = (
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example)
