"""The training state: everything training reads and writes.

The estimator builds a :class:`TrainState`, the loop and its callbacks work on
it and nothing else, and the estimator commits it as the fitted model only
once training has finished cleanly (all or nothing).

Hidden units left without any kept weight, in or out, cannot change the output:
:meth:`TrainState.shrink` removes them from the arrays (weights, biases, masks
and optimizer state) so that the following epochs run on smaller matrices, and
remembers where the remaining units sit in the network as trained
(``units``). Whatever counts or allocates weights against the network as
trained (the pruner) works on :meth:`TrainState.expand`-ed arrays, and shrinks
them again when it is done.
"""

import copy
from dataclasses import dataclass, field

import numpy as np

from .._pruning.plan import Plan

# Remove dead hidden units during training (False: keep them to the end, where
# the stored model drops them anyway; the tests compare both ways).
SHRINK = True


class Layout:
    """Where each row and column of an array goes in an array of another shape.

    Parameters
    ----------
    rows, cols : ndarray of int or None
        For each row (column) of the current array, its index in the new one,
        or -1 when it is dropped; None when rows (columns) keep their places.
        A 1-D array (a bias) has ``cols`` only.
    shape : tuple of int
        The new shape; places nothing is moved to get zeros.
    """

    def __init__(self, rows, cols, shape):
        self.rows, self.cols, self.shape = rows, cols, shape

    @staticmethod
    def _split(places):
        if places is None:
            return slice(None), slice(None)
        kept = places >= 0
        return np.flatnonzero(kept), places[kept]

    def move(self, array):
        """``array`` in the new shape (a new array of the same dtype)."""
        out = np.zeros(self.shape, dtype=array.dtype)
        old_c, new_c = self._split(self.cols)
        if array.ndim == 1:
            out[new_c] = array[old_c]
            return out
        old_r, new_r = self._split(self.rows)
        if isinstance(old_r, slice):
            out[:, new_c] = array[:, old_c]
        elif isinstance(old_c, slice):
            out[new_r] = array[old_r]
        else:
            out[np.ix_(new_r, new_c)] = array[np.ix_(old_r, old_c)]
        return out

    def move_flat(self, index):
        """Flat positions ``index`` of the current array, in the new array.

        Every position must have a place (only rows and columns without a
        kept weight are dropped).
        """
        n_cols = self.shape[1] if self.cols is None else self.cols.size
        r, c = np.divmod(index, n_cols)
        if self.rows is not None:
            r = self.rows[r]
        if self.cols is not None:
            c = self.cols[c]
        return r * self.shape[1] + c


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
    # The stopping rule's count of epochs without improvement, carried across
    # partial_fit calls as MLPClassifier's ``_no_improvement_count`` is.
    no_improvement_count: int = 0
    optimizer: object = None
    history: list = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)
    # Per hidden layer, the positions in the network as trained of the units
    # in the arrays (None: no unit removed), and that network's hidden sizes.
    units: list = None
    trained_sizes: tuple = None

    @property
    def params(self):
        return self.coefs + self.intercepts

    def copy(self):
        return copy.deepcopy(self)

    def snapshot(self):
        """Copies of the weights, masks and unit positions, to restore after a
        failed epoch."""
        return (
            [c.copy() for c in self.coefs],
            [b.copy() for b in self.intercepts],
            [None if m is None else m.copy() for m in self.masks],
            None if self.units is None else list(self.units),
        )

    def restore(self, snapshot):
        """Go back to ``snapshot``; optimizer moments restart on the next call."""
        self.optimizer = None
        coefs, intercepts, masks, units = snapshot
        self.coefs = [c.copy() for c in coefs]
        self.intercepts = [b.copy() for b in intercepts]
        self.masks = [None if m is None else m.copy() for m in masks]
        self.units = None if units is None else list(units)

    # -- units removed during training --------------------------------------
    def widths(self):
        """Units per layer in the arrays, input and output included."""
        return [self.coefs[0].shape[0]] + [c.shape[1] for c in self.coefs]

    def trained_widths(self):
        """Units per layer of the network as trained (no unit removed)."""
        widths = self.widths()
        if self.units is None:
            return widths
        return [widths[0], *self.trained_sizes, widths[-1]]

    def dense_sizes(self):
        """Weights per layer of the network as trained."""
        widths = self.trained_widths()
        return np.array([a * b for a, b in zip(widths[:-1], widths[1:])])

    def expand(self):
        """Put the removed units back (no kept weight, zero bias), in place."""
        if self.units is None:
            return
        places = [None, *self.units, None]
        self._move(places, self.trained_widths())
        self.units = None

    def shrink(self):
        """Remove the hidden units that have no kept weight, in or out.

        Such a unit cannot change the output, its weights are all pruned, and
        no pruning ever gives them back, so the network computes the same
        function without it. A layer keeps at least one unit.
        """
        if not SHRINK or all(m is None for m in self.masks):
            return
        widths = self.widths()
        places = [None] * len(widths)
        for h in range(1, len(widths) - 1):
            into, out = self.masks[h - 1], self.masks[h]
            if into is None or out is None:
                continue
            alive = into.any(axis=0) | out.any(axis=1)
            if alive.all():
                continue
            if not alive.any():
                alive[0] = True
            places[h] = np.where(alive, np.cumsum(alive) - 1, -1)
        if all(p is None for p in places):
            return
        if self.units is None:
            self.trained_sizes = tuple(widths[1:-1])
            self.units = [np.arange(w) for w in widths[1:-1]]
        self.units = [
            u if p is None else u[p >= 0] for u, p in zip(self.units, places[1:-1])
        ]
        new_widths = [
            w if p is None else int((p >= 0).sum()) for w, p in zip(widths, places)
        ]
        self._move(places, new_widths)

    def _move(self, places, widths):
        """Move every array to the layer ``widths``; ``places[u]`` maps the
        units of layer ``u`` (None: unchanged)."""
        n = len(self.coefs)
        coef_layouts = [
            None
            if places[i] is None and places[i + 1] is None
            else Layout(places[i], places[i + 1], (widths[i], widths[i + 1]))
            for i in range(n)
        ]
        bias_layouts = [
            None
            if places[i + 1] is None
            else Layout(None, places[i + 1], (widths[i + 1],))
            for i in range(n)
        ]
        for i, layout in enumerate(coef_layouts):
            if layout is None:
                continue
            mask = self.masks[i]
            if mask is None:
                mask = np.ones(self.coefs[i].shape, dtype=bool)
            self.coefs[i] = layout.move(self.coefs[i])
            mask = layout.move(mask)
            self.masks[i] = None if mask.all() else mask
        for i, layout in enumerate(bias_layouts):
            if layout is not None:
                self.intercepts[i] = layout.move(self.intercepts[i])
        if self.optimizer is not None:
            self.optimizer.remap(coef_layouts + bias_layouts)

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
