"""The training state: everything training reads and writes.

The estimator builds a :class:`TrainState`, the loop and its callbacks work on
it and nothing else, and the estimator commits it as the fitted model only
once training has finished cleanly (all or nothing).
"""

import copy
from dataclasses import dataclass, field

from .._pruning.plan import Plan


class DivergenceError(FloatingPointError):
    """Raised inside a driver when the loss stops being finite."""


@dataclass
class TrainState:
    """Everything training reads and writes; the estimator commits it at the end.

    ``masks[i]`` is a boolean array of kept connections of layer ``i``, or None when
    that layer is dense.
    """

    coefs: list
    intercepts: list
    masks: list
    activation: str
    out_activation: str
    n_iter: int = 0
    t: int = 0
    loss: float = None
    loss_curve: list = field(default_factory=list)
    validation_scores: list = None
    best_loss: float = None
    best_validation_score: float = None
    optimizer: object = None
    history: list = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)

    @property
    def params(self):
        return self.coefs + self.intercepts

    def copy(self):
        return copy.deepcopy(self)

    def snapshot(self):
        """Copies of the weights and masks, to restore after a failed epoch."""
        return (
            [c.copy() for c in self.coefs],
            [b.copy() for b in self.intercepts],
            [None if m is None else m.copy() for m in self.masks],
        )

    def restore(self, snapshot):
        """Go back to ``snapshot``; optimizer moments restart on the next call."""
        self.optimizer = None
        coefs, intercepts, masks = snapshot
        self.coefs = [c.copy() for c in coefs]
        self.intercepts = [b.copy() for b in intercepts]
        self.masks = [None if m is None else m.copy() for m in masks]

    def attach_optimizer(self, optimizer):
        """Use ``optimizer`` from now on, told which weights are pruned."""
        optimizer.apply_masks(list(self.masks) + [None] * len(self.intercepts))
        self.optimizer = optimizer

    def set_masks(self, masks):
        """Install new masks: zero the weights and the optimizer state they cut."""
        self.masks = masks
        for coef, mask in zip(self.coefs, masks):
            if mask is not None:
                coef *= mask
        if self.optimizer is not None:
            self.optimizer.apply_masks(list(masks) + [None] * len(self.intercepts))
