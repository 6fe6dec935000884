"""Pruning: criteria, schedules, masks, and the orchestrator that applies them.

Four separate pieces, as in Torch-Pruning:

- a *criterion* turns weights (and statistics gathered in training) into scores,
  one per weight; higher means more worth keeping (``CRITERIA``);
- a *schedule* says when to prune and to what sparsity (``SCHEDULES``);
- :func:`compute_masks` turns scores and per-layer counts into boolean masks;
- :class:`Pruner` orchestrates: the training driver calls it after every update
  and every epoch, and it prunes when the schedule says so.

Masks only ever lose entries: a pruned weight is never regrown.
"""

import math

import numpy as np

# Share of ``sparsity`` applied to the output layer under ``pruning_scope="layer"``.
OUTPUT_LAYER_RATE = 1.0

# Gradual schedule layout (compressed to fit ``max_iter``): train dense for a
# warm-up, then prune ``pruning_steps`` times, one round per interval, then
# fine-tune for ``finetune_iter`` epochs. Warm-up and interval last
# ``GRADUAL_EPOCHS`` epochs, or ``GRADUAL_MIN_UPDATES`` optimizer updates when an
# epoch has few batches, so that small data sets get time to recover between rounds.
GRADUAL_EPOCHS = 1.0
GRADUAL_MIN_UPDATES = 50


# ----------------------------------------------------------------------------
# Criteria: weights -> scores
# ----------------------------------------------------------------------------


def magnitude_scores(coefs, rng=None, stats=None):
    """|w| (Han et al. 2015)."""
    return [np.abs(c) for c in coefs]


def random_scores(coefs, rng, stats=None):
    """Uniform random scores: the baseline every criterion must beat."""
    return [rng.uniform(size=c.shape).astype(c.dtype) for c in coefs]


CRITERIA = {
    "magnitude": magnitude_scores,
    "random": random_scores,
}

SCOPES = ("layer", "global")
GRANULARITIES = ("weight", "neuron")


# ----------------------------------------------------------------------------
# Schedules: when to prune, and how far
# ----------------------------------------------------------------------------


def cubic_target(step, n_steps, initial, final):
    """Zhu & Gupta (2017): s_k = s_f + (s_i - s_f) * (1 - k / n) ** 3."""
    if n_steps <= 0:
        return final
    frac = min(max(step / n_steps, 0.0), 1.0)
    return final + (initial - final) * (1.0 - frac) ** 3


def gradual_plan(
    initial, final, *, n_steps, finetune_iter, max_iter, updates_per_epoch
):
    """Rounds of the gradual schedule as ``(epoch, target)`` pairs.

    The layout is a warm-up, then ``n_steps`` rounds one interval apart, then
    ``finetune_iter`` epochs; when that does not fit in ``max_iter`` epochs every
    length is scaled down by the same factor, so the schedule always completes
    within the budget. Targets follow :func:`cubic_target`. ``updates_per_epoch``
    is None for L-BFGS, whose full-batch iterations need no minimum.
    """
    interval = GRADUAL_EPOCHS
    if updates_per_epoch is not None:
        interval = max(interval, GRADUAL_MIN_UPDATES / updates_per_epoch)
    desired = (1 + n_steps) * interval + finetune_iter
    scale = min(1.0, max_iter / desired)
    return [
        ((1 + k) * interval * scale, cubic_target(k, n_steps, initial, final))
        for k in range(1, n_steps + 1)
    ]


SCHEDULES = {
    "gradual": gradual_plan,
}


# ----------------------------------------------------------------------------
# Masks
# ----------------------------------------------------------------------------


def compute_masks(scores, masks, n_prune):
    """Keep, in each layer, the highest-scoring weights that still matter.

    Layers are visited from the output backwards. A weight into a hidden unit
    that has no kept outgoing weight cannot influence the output, so such weights
    are ranked below every useful one and kept only if the layer has no other
    candidates left. This keeps high sparsities from disconnecting the network.

    Parameters
    ----------
    scores : list of ndarray
        One score per weight; higher is kept first.
    masks : list of (ndarray of bool or None)
        Current masks; already pruned weights stay pruned.
    n_prune : list of int
        Number of weights to prune in each layer, in total (already pruned
        included).

    Returns
    -------
    masks : list of (ndarray of bool or None)
        New masks (None for a layer left dense); exactly ``max(n_prune[i],
        already pruned)`` weights are pruned in layer ``i``.
    """
    n_layers = len(scores)
    new_masks = [None] * n_layers
    alive = None  # units of the next layer that reach the output
    for i in range(n_layers - 1, -1, -1):
        score, mask, k = scores[i], masks[i], n_prune[i]
        n_weights = score.size
        # Only weights still kept are candidates: already pruned ones stay pruned.
        kept = np.arange(n_weights) if mask is None else np.flatnonzero(mask)
        n_more = k - (n_weights - kept.size)
        if n_more <= 0:
            new_masks[i] = mask
        else:
            key = score.ravel()[kept].astype(np.float64)
            if alive is not None and not alive.all():
                # Useless weights rank below every useful one, keeping their order.
                useless = ~alive[kept % score.shape[1]]
                key[useless] -= np.ptp(key) + 1.0
            keep = np.zeros(n_weights, dtype=bool)
            if n_more < kept.size:
                # argpartition puts the n_more lowest keys first: exactly those go.
                order = np.argpartition(key, n_more - 1)
                keep[kept[order[n_more:]]] = True
            new_masks[i] = keep.reshape(score.shape)
        current = new_masks[i]
        alive = None if current is None else current.any(axis=1)
    return new_masks


def layer_sparsity(masks, coefs):
    """Fraction of pruned weights in each layer."""
    return np.array(
        [0.0 if m is None else 1.0 - m.sum() / m.size for m, c in zip(masks, coefs)]
    )


def overall_sparsity(masks, coefs):
    """Fraction of pruned weights over all layers."""
    sizes = np.array([c.size for c in coefs])
    return float(np.dot(layer_sparsity(masks, coefs), sizes) / sizes.sum())


def layer_rates(n_layers):
    """Share of the target applied to each layer under ``pruning_scope="layer"``."""
    return [1.0] * (n_layers - 1) + [OUTPUT_LAYER_RATE]


def prune_counts(target, coefs):
    """Weights to prune per layer to reach ``target`` (layer scope).

    Raises
    ------
    ValueError
        If a layer would lose every weight.
    """
    counts = []
    for i, (coef, rate) in enumerate(zip(coefs, layer_rates(len(coefs)))):
        k = int(round(target * rate * coef.size))
        if k >= coef.size:
            raise ValueError(
                f"sparsity={target} would remove every weight of layer {i} "
                f"({coef.shape[0]}x{coef.shape[1]}={coef.size} weights). Use a "
                "smaller sparsity or wider layers."
            )
        counts.append(k)
    return counts


# ----------------------------------------------------------------------------
# Orchestration
# ----------------------------------------------------------------------------


class Pruner:
    """Applies a schedule's rounds to a ``TrainState`` during training.

    Progress is counted in samples seen (``state.t``) for the stochastic solvers
    and in iterations (``state.n_iter``) for L-BFGS; one epoch is
    ``epoch_samples`` samples or one iteration.

    Parameters
    ----------
    criterion, scope, granularity, schedule : str
        Keys of ``CRITERIA``, ``SCOPES``, ``GRANULARITIES`` and ``SCHEDULES``.
    sparsity : float
        Final target.
    n_steps : int
        Number of pruning rounds.
    finetune_iter : int
        Epochs reserved after the last round.
    rng : numpy.random.RandomState
    reporter : _optim.Reporter
    """

    def __init__(
        self,
        *,
        criterion,
        scope,
        granularity,
        schedule,
        sparsity,
        n_steps,
        finetune_iter,
        rng,
        reporter,
    ):
        self.criterion = criterion
        self.scope = scope
        self.granularity = granularity
        self.schedule = schedule
        self.sparsity = sparsity
        self.n_steps = n_steps
        self.finetune_iter = finetune_iter
        self.rng = rng
        self.reporter = reporter
        self.n_rounds = 0
        self.plan = []

    # -- set-up ------------------------------------------------------------
    def start(self, state, *, epoch_samples, updates_per_epoch, max_iter, stochastic):
        """Lay out the rounds of this fit from where ``state`` stands.

        An unfinished plan kept in ``state.plan`` (``partial_fit``) is resumed.
        """
        self.unit = epoch_samples if stochastic else 1
        self.stochastic = stochastic
        prune_counts(self.sparsity, state.coefs)  # fail early on impossible targets
        if state.plan:
            self.plan = state.plan
            return
        current = overall_sparsity(state.masks, state.coefs)
        if self.sparsity <= 0 or self._reached(state):
            self.plan = []
            return
        origin = state.t if stochastic else state.n_iter
        events = SCHEDULES[self.schedule](
            current,
            self.sparsity,
            n_steps=self.n_steps,
            finetune_iter=self.finetune_iter,
            max_iter=max_iter,
            updates_per_epoch=updates_per_epoch,
        )
        self.plan = [
            (origin + max(1, math.ceil(epoch * self.unit - 1e-9)), target)
            for epoch, target in events
        ]
        state.plan = self.plan

    def _reached(self, state):
        counts = prune_counts(self.sparsity, state.coefs)
        for mask, k in zip(state.masks, counts):
            pruned = 0 if mask is None else mask.size - int(mask.sum())
            if pruned < k:
                return False
        return True

    @property
    def pending(self):
        return bool(self.plan)

    # -- hooks called by the drivers ---------------------------------------
    def after_update(self, state):
        """Prune if the schedule has a round due at ``state.t``."""
        if self.plan and state.t >= self.plan[0][0]:
            self._run_due(state, state.t)

    def after_epoch(self, state, plateau, force=False):
        """End of an epoch (or of an L-BFGS segment). Return True if pruned."""
        if not self.plan:
            return False
        position = state.n_iter if not self.stochastic else state.t
        if force:
            position = max(position, self.plan[0][0])
        if position >= self.plan[0][0]:
            self._run_due(state, position)
            return True
        return False

    def iterations_to_next_round(self, state, budget):
        """L-BFGS: iterations to run before the next round is due."""
        if not self.plan:
            return max(budget, 1)
        return int(min(max(self.plan[0][0] - state.n_iter, 1), max(budget, 1)))

    def finish(self, state):
        """Jump to the final target now (the budget ran out before the plan)."""
        if self.plan:
            self._apply(state, self.plan[-1][1])
            self.plan.clear()

    # -- work --------------------------------------------------------------
    def _run_due(self, state, position):
        target = None
        while self.plan and self.plan[0][0] <= position:
            target = self.plan.pop(0)[1]
        if target is not None:
            self._apply(state, target)

    def _apply(self, state, target):
        counts = prune_counts(target, state.coefs)
        scores = CRITERIA[self.criterion](state.coefs, self.rng)
        masks = compute_masks(scores, state.masks, counts)
        state.set_masks(masks)
        self.n_rounds += 1
        record = {
            "round": len(state.history) + 1,
            "iteration": state.n_iter,
            "t": state.t,
            "target": float(target),
            "sparsity": overall_sparsity(masks, state.coefs),
            "layer_sparsity": layer_sparsity(masks, state.coefs).tolist(),
            "loss": state.loss,
            "validation_score": (
                state.validation_scores[-1] if state.validation_scores else None
            ),
            "accepted": True,
        }
        state.history.append(record)
        self.reporter.pruning_round(record)
