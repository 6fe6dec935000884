"""Pruning: criteria, allocation, masks, schedules, the plan and the pruner.

Four separate pieces, as in Torch-Pruning, and the one that drives them:

- ``criteria``: weights (and statistics) -> one score per weight (``CRITERIA``);
- ``allocation``: a target -> how many to prune in each layer, by a scope
  (``SCOPES``) and a granularity (``GRANULARITIES``), which are objects;
- ``masks``: scores and counts -> masks, and every count of pruned weights;
- ``schedules``: when to prune and to which target, one class per name
  (``SCHEDULES``), their progress in a ``plan.Plan``;
- ``pruner``: the :class:`Pruner`, a callback of the training loop.

Masks only ever lose entries during a schedule: a pruned weight is never regrown
(``sparsity='auto'`` may revert a step it judged too costly).
"""

from .allocation import (
    GRANULARITIES,
    SCOPES,
    budget,
    erk_densities,
    global_counts,
    spread,
)
from .criteria import CRITERIA, unit_scores
from .masks import (
    compute_masks,
    kept_counts,
    layer_sparsity,
    overall_sparsity,
    sparsity_against,
    unit_masks,
)
from .plan import Plan
from .pruner import AUTO_MAX_SPARSITY, Pruner
from .schedules import (
    SCHEDULES,
    cubic_target,
    cubic_targets,
    geometric_targets,
)

__all__ = [
    "AUTO_MAX_SPARSITY",
    "CRITERIA",
    "GRANULARITIES",
    "SCHEDULES",
    "SCOPES",
    "Plan",
    "Pruner",
    "budget",
    "compute_masks",
    "cubic_target",
    "cubic_targets",
    "erk_densities",
    "geometric_targets",
    "global_counts",
    "kept_counts",
    "layer_sparsity",
    "overall_sparsity",
    "sparsity_against",
    "spread",
    "unit_masks",
    "unit_scores",
]
