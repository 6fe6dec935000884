"""Pruning: criteria, scopes, schedules, masks, and the orchestrator.

Four separate pieces, as in Torch-Pruning:

- a *criterion* turns weights (and statistics gathered on training data) into
  scores, one per weight, higher meaning more worth keeping (``CRITERIA``);
- a *scope* turns a target sparsity into a number of weights (or hidden units) to
  prune in each layer (:func:`layer_counts`, :func:`global_counts`);
- :func:`compute_masks` and :func:`unit_masks` turn scores and counts into masks;
- a *schedule* says when to prune and to which target (``SCHEDULES``), and the
  :class:`Pruner` applies it: the training drivers call it after every update and
  every epoch.

Masks only ever lose entries: a pruned weight is never regrown.
"""

import math
from dataclasses import dataclass

import numpy as np

from ._core import gradient_statistics, mean_log_loss

# Share of ``sparsity`` applied to the output layer under ``pruning_scope="layer"``.
OUTPUT_LAYER_RATE = 0.5

# Gradual schedule layout (compressed to fit ``max_iter``): train dense for
# ``GRADUAL_WARMUP`` intervals, then prune ``pruning_steps`` times, one round per
# interval, then fine-tune. An interval lasts ``GRADUAL_EPOCHS`` epochs, or
# ``GRADUAL_MIN_UPDATES`` optimizer updates when an epoch has few batches, so that
# small data sets get time to recover between rounds. Chosen on the digits and
# MNIST benchmarks (benchmarks/bench_accuracy.py): starting to prune a
# well-trained network helps most at high sparsity.
GRADUAL_EPOCHS = 1.0
GRADUAL_MIN_UPDATES = 100
GRADUAL_WARMUP = 10.0

# Taylor and OBD statistics are gathered on at most this many training samples.
STATS_MAX_SAMPLES = 2048

# ``sparsity="auto"``: the greedy search proposes levels up to this sparsity.
AUTO_MAX_SPARSITY = 0.99

# Phase schedules (all but gradual) spend up to this share of the training budget
# on the first, dense phase, and split the rest evenly between later phases.
DENSE_PHASE_SHARE = 0.5

# Greedy search: a rejected candidate is retried with half as many weights, this
# many times, before the layer waits for the next round.
GREEDY_BACKOFF = 2

SCOPES = ("layer", "global")
GRANULARITIES = ("weight", "neuron")


# ----------------------------------------------------------------------------
# Criteria: (coefs, statistics, rng) -> one score per weight
# ----------------------------------------------------------------------------


def magnitude_scores(coefs, stats, rng):
    """|w| (Han et al. 2015)."""
    return [np.abs(c) for c in coefs]


def random_scores(coefs, stats, rng):
    """Uniform random scores: the baseline every criterion must beat."""
    return [rng.uniform(size=c.shape) for c in coefs]


def taylor_scores(coefs, stats, rng):
    """First-order Taylor: |w * dL/dw| accumulated over a pass of training data."""
    return stats["taylor"]


def obd_scores(coefs, stats, rng):
    """Optimal Brain Damage (LeCun et al. 1990): h * w**2 / 2, h ~ Fisher diagonal."""
    return [0.5 * f * c * c for f, c in zip(stats["fisher"], coefs)]


CRITERIA = {
    "magnitude": magnitude_scores,
    "random": random_scores,
    "taylor": taylor_scores,
    "obd": obd_scores,
}
NEEDS_STATISTICS = ("taylor", "obd")


def unit_scores(criterion, scores, masks):
    """Score of each hidden unit from the scores of its weights.

    Magnitude uses ``||w_in|| * ||w_out||``: for a ReLU unit the product is what
    sets its contribution (scaling ``w_in`` up and ``w_out`` down changes nothing).
    The other criteria estimate a loss change per weight, so a unit's score is the
    sum over its incoming and outgoing weights. Removed units score ``-inf``.
    """
    live = [s if m is None else np.where(m, s, 0.0) for s, m in zip(scores, masks)]
    units = []
    for h in range(len(scores) - 1):
        s_in, s_out = live[h], live[h + 1]
        if criterion == "magnitude":
            u = np.sqrt((s_in**2).sum(axis=0)) * np.sqrt((s_out**2).sum(axis=1))
        else:
            u = s_in.sum(axis=0) + s_out.sum(axis=1)
        u = u.astype(np.float64)
        if masks[h] is not None:
            u[~masks[h].any(axis=0)] = -np.inf
        units.append(u)
    return units


# ----------------------------------------------------------------------------
# Scope: target -> how many to prune in each layer
# ----------------------------------------------------------------------------


def layer_rates(n_layers):
    """Share of the target applied to each layer under ``pruning_scope="layer"``."""
    return [1.0] * (n_layers - 1) + [OUTPUT_LAYER_RATE]


def layer_counts(target, sizes, what="weight"):
    """Number to prune in each layer so that each reaches ``target``.

    Raises
    ------
    ValueError
        If a layer would lose all of its weights (or units).
    """
    rates = layer_rates(len(sizes)) if what == "weight" else [1.0] * len(sizes)
    counts = []
    for i, (size, rate) in enumerate(zip(sizes, rates)):
        k = int(round(target * rate * size))
        if k >= size:
            raise ValueError(
                f"sparsity={target:g} would remove every {what} of "
                f"{'layer' if what == 'weight' else 'hidden layer'} {i} ({size} "
                f"{what}s). Use a smaller sparsity or wider layers."
            )
        counts.append(k)
    return counts


def global_counts(scores, alive, target, floors, what="weight"):
    """Number to prune in each layer when all layers are ranked together.

    Parameters
    ----------
    scores : list of ndarray
        Scores of every weight (or unit), all layers on one scale.
    alive : list of ndarray of bool
        Which entries are still kept.
    target : float
        Overall share to prune.
    floors : list of int
        Minimum number each layer keeps, whatever the ranking: no layer can be
        cut away.
    """
    sizes = [s.size for s in scores]
    total = sum(sizes)
    k_total = int(round(target * total))
    if k_total > total - sum(floors):
        raise ValueError(
            f"sparsity={target:g} is too high for pruning_scope='global': every "
            f"layer keeps at least {floors} {what}s, i.e. at most "
            f"{1 - sum(floors) / total:.4f} can be pruned. Use a smaller sparsity."
        )
    already = [size - int(np.count_nonzero(a)) for size, a in zip(sizes, alive)]
    n_more = k_total - sum(already)
    counts = list(already)
    if n_more <= 0:
        return counts
    keys, owners = [], []
    for i, (s, a, floor) in enumerate(zip(scores, alive, floors)):
        live = np.asarray(s, dtype=np.float64).ravel()[a.ravel()]
        # The ``floor`` best entries of each layer are protected from the ranking.
        n_free = live.size - max(floor, 0)
        if n_free <= 0:
            continue
        free = np.partition(live, n_free - 1)[:n_free] if n_free < live.size else live
        keys.append(free)
        owners.append(np.full(free.size, i))
    keys, owners = np.concatenate(keys), np.concatenate(owners)
    n_more = min(n_more, keys.size)
    lowest = np.argpartition(keys, n_more - 1)[:n_more]
    for i, n in zip(*np.unique(owners[lowest], return_counts=True)):
        counts[i] += int(n)
    return counts


# ----------------------------------------------------------------------------
# Masks
# ----------------------------------------------------------------------------


def compute_masks(scores, masks, n_prune, connect=False):
    """Keep, in each layer, the highest-scoring weights that still matter.

    Layers are visited from the output backwards. A weight into a hidden unit
    that has no kept outgoing weight cannot influence the output, so such weights
    are ranked below every useful one and kept only if the layer has no other
    candidates left. As long as every layer keeps a weight, a path from the
    input to the output therefore remains.

    Parameters
    ----------
    scores : list of ndarray
        One score per weight; higher is kept first.
    masks : list of (ndarray of bool or None)
        Current masks; already pruned weights stay pruned.
    n_prune : list of int
        Number of weights to prune in each layer, in total (already pruned
        included).
    connect : bool, default=False
        Also rank above all others the best weight into every output unit, and,
        layer by layer downwards, the best weight into every hidden unit such a
        protected weight comes from, choosing only among weights from units
        that a kept path from the inputs still reaches. That is at most one
        weight per unit of the layer's output, so a layer that keeps at least
        that many weights keeps a path from the inputs to every output that
        still had one (used by the global scope, whose ranking could otherwise
        cut an output off).

    Returns
    -------
    masks : list of (ndarray of bool or None)
        New masks (None for a layer left dense); exactly ``max(n_prune[i],
        already pruned)`` weights are pruned in layer ``i``.
    """
    n_layers = len(scores)
    new_masks = [None] * n_layers
    alive = None  # units of the next layer that reach the output
    needed = None  # connect: units of the next layer on a protected path
    reachable = _reachable(masks, [s.shape for s in scores]) if connect else None
    for i in range(n_layers - 1, -1, -1):
        score, mask, k = scores[i], masks[i], n_prune[i]
        n_weights, n_columns = score.size, score.shape[1]
        # Only weights still kept are candidates: already pruned ones stay pruned.
        kept = np.arange(n_weights) if mask is None else np.flatnonzero(mask)
        n_more = k - (n_weights - kept.size)
        if n_more <= 0 and not connect:
            new_masks[i] = mask
            alive = None if mask is None else mask.any(axis=1)
            continue
        key = np.asarray(score).ravel()[kept].astype(np.float64, copy=False)
        spread = np.ptp(key) + 1.0 if key.size else 1.0
        if alive is not None and not alive.all():
            # Useless weights rank below every useful one, keeping their order.
            key[~alive[kept % n_columns]] -= spread
        if connect:
            # The best weight into each output unit, and into each hidden unit
            # whose own protected weight leads to an output, ranks above all
            # others; only weights from units still reached from the inputs
            # qualify, so every output keeps a path to the inputs.
            best = _best_per_column(key, kept, score.shape, reachable[i], needed)
            key[best] += 2.0 * spread
        if n_more <= 0:
            new_masks[i] = mask
        else:
            keep = np.zeros(n_weights, dtype=bool)
            if n_more < kept.size:
                # argpartition puts the n_more lowest keys first: exactly those go.
                order = np.argpartition(key, n_more - 1)
                keep[kept] = True
                keep[kept[order[:n_more]]] = False
            new_masks[i] = keep.reshape(score.shape)
        current = new_masks[i]
        alive = None if current is None else current.any(axis=1)
        if connect:
            sources = kept[best]
            if current is not None:
                sources = sources[current.ravel()[sources]]
            needed = np.zeros(score.shape[0], dtype=bool)
            needed[sources // n_columns] = True
    return new_masks


def _reachable(masks, shapes):
    """Per layer, which of its input units a kept path from the inputs reaches."""
    reach = [np.ones(shapes[0][0], dtype=bool)]
    for mask, shape in zip(masks[:-1], shapes[:-1]):
        if mask is None:
            reach.append(np.full(shape[1], reach[-1].any()))
        else:
            reach.append(mask[reach[-1]].any(axis=0))
    return reach


def _best_per_column(key, kept, shape, fed=None, needed=None):
    """Positions in ``kept`` of the highest ``key`` of each column.

    Only rows in ``fed`` (all if None) compete, and only columns in ``needed``
    (all if None) are answered; a column without a candidate is skipped.
    """
    full = np.full(shape[0] * shape[1], -np.inf)
    full[kept] = key
    full = full.reshape(shape)
    if fed is not None:
        full[~fed] = -np.inf
    rows = np.argmax(full, axis=0)
    columns = np.arange(shape[1])
    found = np.isfinite(full[rows, columns])
    if needed is not None:
        found &= needed
    flat = rows[found] * shape[1] + columns[found]
    # Positions of these flat indices within ``kept`` (sorted ascending).
    return np.searchsorted(kept, flat)


def unit_masks(units_scores, masks, n_prune, shapes):
    """Masks that remove whole hidden units: their incoming and outgoing weights.

    Parameters
    ----------
    units_scores : list of ndarray
        Score of each unit of each hidden layer (removed units at ``-inf``).
    masks : list of (ndarray of bool or None)
        Current weight masks.
    n_prune : list of int
        Units to remove in each hidden layer, in total.
    shapes : list of tuple
        Shapes of the weight matrices.
    """
    new_masks = [
        np.ones(shape, dtype=bool) if m is None else m.copy()
        for m, shape in zip(masks, shapes)
    ]
    for h, (u, k) in enumerate(zip(units_scores, n_prune)):
        if k <= 0:
            continue
        drop = np.argpartition(u, k - 1)[:k] if k < u.size else np.arange(u.size)
        new_masks[h][:, drop] = False
        new_masks[h + 1][drop, :] = False
    return [None if m.all() else m for m in new_masks]


def layer_sparsity(masks, coefs):
    """Fraction of pruned weights in each layer."""
    return np.array(
        [
            0.0 if m is None else 1.0 - np.count_nonzero(m) / m.size
            for m, c in zip(masks, coefs)
        ]
    )


def overall_sparsity(masks, coefs):
    """Fraction of pruned weights over all layers."""
    sizes = np.array([c.size for c in coefs])
    return float(np.dot(layer_sparsity(masks, coefs), sizes) / sizes.sum())


def _alive_units(masks, coefs):
    """Per hidden layer, which units are still in the network."""
    return [
        np.ones(c.shape[1], bool) if m is None else m.any(axis=0)
        for m, c in zip(masks[:-1], coefs[:-1])
    ]


# ----------------------------------------------------------------------------
# Schedules: which targets, and when
# ----------------------------------------------------------------------------


def cubic_target(step, n_steps, initial, final):
    """Zhu & Gupta (2017): s_k = s_f + (s_i - s_f) * (1 - k / n) ** 3."""
    if n_steps <= 0:
        return final
    frac = min(max(step / n_steps, 0.0), 1.0)
    return final + (initial - final) * (1.0 - frac) ** 3


def cubic_targets(initial, final, n_steps):
    return [cubic_target(k, n_steps, initial, final) for k in range(1, n_steps + 1)]


def geometric_targets(initial, final, n_steps):
    """Each round removes the same share of the remaining weights (Han et al.)."""
    keep_i, keep_f = 1.0 - initial, 1.0 - final
    return [
        1.0 - keep_i * (keep_f / keep_i) ** (k / n_steps) for k in range(1, n_steps + 1)
    ]


def oneshot_targets(initial, final, n_steps):
    return [final]


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
    desired = (GRADUAL_WARMUP + n_steps) * interval + finetune_iter
    scale = min(1.0, max_iter / desired)
    targets = cubic_targets(initial, final, n_steps)
    return [
        ((GRADUAL_WARMUP + k) * interval * scale, t)
        for k, t in enumerate(targets, start=1)
    ]


def phase_caps(budget, n_phases):
    """Epoch caps of the training phases that precede each round.

    The first (dense) phase may use ``DENSE_PHASE_SHARE`` of ``budget``; the
    others share the rest. A phase also ends as soon as the loss stops improving.
    """
    budget = max(budget, n_phases)
    if n_phases <= 1:
        return [budget]
    first = max(1, int(budget * DENSE_PHASE_SHARE))
    rest = max(1, (budget - first) // (n_phases - 1))
    return [first] + [rest] * (n_phases - 1)


@dataclass(frozen=True)
class Schedule:
    """How a schedule proceeds.

    ``targets(initial, final, n_steps)`` gives the target of each round. With
    ``fixed`` the rounds happen at set points of training (gradual); otherwise
    each round ends a training phase, when the loss stops improving or the
    phase's share of ``max_iter`` is spent. ``rewind`` resets the kept weights to
    their early-training values after each round (lottery); ``search`` proposes
    each round layer by layer and keeps only what held-out loss accepts (greedy).
    """

    targets: object
    fixed: bool = False
    rewind: bool = False
    search: bool = False


SCHEDULES = {
    "oneshot": Schedule(oneshot_targets),
    "iterative": Schedule(geometric_targets),
    "gradual": Schedule(cubic_targets, fixed=True),
    "lottery": Schedule(geometric_targets, rewind=True),
    "greedy": Schedule(geometric_targets, search=True),
}


# ----------------------------------------------------------------------------
# Orchestration
# ----------------------------------------------------------------------------


class Pruner:
    """Applies a schedule's rounds to a ``TrainState`` during training.

    The schedule's progress lives in ``state.plan`` (a dict), so that it survives
    between ``partial_fit`` calls. Progress is counted in samples seen
    (``state.t``) for the stochastic solvers and in iterations (``state.n_iter``)
    for L-BFGS; one epoch is ``epoch_samples`` samples or one iteration.

    Parameters
    ----------
    criterion, scope, granularity, schedule : str
        Keys of ``CRITERIA``, ``SCOPES``, ``GRANULARITIES`` and ``SCHEDULES``.
    sparsity : float or "auto"
        Final target; "auto" searches greedily with no fixed target.
    n_steps : int
        Number of pruning rounds.
    finetune_iter : int
        Epochs of training guaranteed after the last round.
    tol : float
        Greedy: largest accepted rise of the held-out loss over the reference.
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
        tol,
        rng,
        reporter,
    ):
        self.auto = sparsity == "auto"
        self.criterion = criterion
        self.scope = scope
        self.granularity = granularity
        self.schedule_name = "greedy" if self.auto else schedule
        self.schedule = SCHEDULES[self.schedule_name]
        self.sparsity = AUTO_MAX_SPARSITY if self.auto else float(sparsity)
        self.n_steps = n_steps
        self.finetune_iter = finetune_iter
        self.tol = tol
        self.rng = rng
        self.reporter = reporter
        self.n_rounds = 0
        self.plan = {}

    @property
    def needs_validation(self):
        return self.schedule.search

    # -- set-up ------------------------------------------------------------
    def _settings(self, max_iter):
        """The parameters a plan is laid out from."""
        return {
            "sparsity": self.sparsity,
            "schedule": self.schedule_name,
            "n_steps": self.n_steps,
            "finetune_iter": self.finetune_iter,
            "granularity": self.granularity,
            "scope": self.scope,
            "max_iter": max_iter,
        }

    def _plan_action(self, state, max_iter):
        """How to go on from ``state.plan``: "resume", "retarget" or "new".

        An unfinished plan laid out for the same settings is resumed; one that
        differs in ``sparsity`` alone keeps its remaining rounds and aims them
        at the new target. A plan saved without its settings is taken to match.
        """
        plan = state.plan
        if not (plan and plan.get("targets")):
            return "new"
        settings = self._settings(max_iter)
        saved = plan.get("settings", settings)
        if saved == settings:
            return "resume"
        if (
            not self.schedule.search
            and {**saved, "sparsity": self.sparsity} == settings
        ):
            return "retarget"
        return "new"

    def can_resume(self, state, max_iter):
        """Whether ``start(resume=True)`` goes on with the plan in ``state``."""
        return self._plan_action(state, max_iter) != "new"

    def _current(self, state):
        if self.granularity == "neuron":
            return self._unit_sparsity(state)
        return overall_sparsity(state.masks, state.coefs)

    def _retarget(self, state, max_iter):
        """Aim the remaining rounds of the plan at ``self.sparsity``."""
        plan = self.plan
        plan["settings"] = self._settings(max_iter)
        current = self._current(state)
        if self.sparsity <= current or self._reached(state):
            # Pruned weights are never regrown: nothing is left to prune.
            plan["targets"] = []
            if plan["positions"] is not None:
                plan["positions"] = []
            plan["caps"] = []
            return
        plan["targets"] = self.schedule.targets(
            current, self.sparsity, len(plan["targets"])
        )

    def start(
        self,
        state,
        *,
        epoch_samples,
        updates_per_epoch,
        max_iter,
        stochastic,
        train_data,
        validation_data=None,
        batch_size=200,
        resume=False,
    ):
        """Lay out the rounds of this fit from where ``state`` stands.

        An unfinished plan kept in ``state.plan`` (``partial_fit``) is resumed
        when it was laid out for the same settings, with its remaining rounds
        aimed at the new target when only ``sparsity`` changed; after a change
        of schedule, ``pruning_steps``, ``finetune_iter``, scope, granularity or
        ``max_iter`` a new plan starts from the current sparsity.
        """
        self.unit = epoch_samples if stochastic else 1
        self.stochastic = stochastic
        self.train_data = train_data
        self.validation_data = validation_data
        self.batch_size = batch_size
        if self.granularity == "neuron" and len(state.coefs) < 2:
            raise ValueError(
                "granularity='neuron' removes hidden units, but the network has no "
                "hidden layer. Use granularity='weight' or add hidden layers."
            )
        if not self.auto:
            self._check_target(state)
        action = self._plan_action(state, max_iter) if resume else "new"
        if action != "new":
            self.plan = state.plan
            if action == "retarget":
                self._retarget(state, max_iter)
            return
        self.plan = {}
        state.plan = self.plan
        if self.sparsity <= 0 or (not self.auto and self._reached(state)):
            return
        current = self._current(state)
        position = state.t if stochastic else state.n_iter
        if self.schedule.fixed:
            events = gradual_plan(
                current,
                self.sparsity,
                n_steps=self.n_steps,
                finetune_iter=self.finetune_iter,
                max_iter=max_iter,
                updates_per_epoch=updates_per_epoch,
            )
            positions = [
                position + max(1, math.ceil(epoch * self.unit - 1e-9))
                for epoch, _ in events
            ]
            targets = [target for _, target in events]
        else:
            positions = None
            targets = self.schedule.targets(current, self.sparsity, self.n_steps)
        if self.schedule.search:
            self.plan["ladder"] = list(targets)
        self.plan.update(
            settings=self._settings(max_iter),
            targets=targets,
            positions=positions,
            phase_start=state.n_iter,
            caps=phase_caps(max_iter - self.finetune_iter, len(targets)),
            finetune_until=None,
            rewind=None,
            reference_loss=None,
        )
        if self.schedule.rewind and not stochastic:
            self._record_rewind(state)

    def _check_target(self, state):
        """Raise ValueError now if the target cannot be reached."""
        if self.scope == "layer":
            self._counts(state, self.sparsity)
            return
        if self.granularity == "neuron":
            sizes = [c.shape[1] for c in state.coefs[:-1]]
            floors, what = [1] * len(sizes), "unit"
        else:
            sizes = [c.size for c in state.coefs]
            floors, what = self._floors(state), "weight"
        total = sum(sizes)
        if int(round(self.sparsity * total)) > total - sum(floors):
            raise ValueError(
                f"sparsity={self.sparsity:g} is too high for pruning_scope='global': "
                f"every layer keeps at least {floors} {what}s, so at most "
                f"{1 - sum(floors) / total:.4f} can be pruned. Use a smaller sparsity."
            )

    @staticmethod
    def _floors(state):
        # Global scope: each layer keeps at least as many weights as it has
        # output units (see compute_masks(connect=True) for which ones).
        return [c.shape[1] for c in state.coefs]

    def _reached(self, state):
        if self.granularity == "neuron":
            alive = _alive_units(state.masks, state.coefs)
            removed = [a.size - int(a.sum()) for a in alive]
            if self.scope == "global":
                total = sum(a.size for a in alive)
                return sum(removed) >= int(round(self.sparsity * total))
            counts = self._counts(state, self.sparsity)
            return all(r >= k for r, k in zip(removed, counts))
        if self.scope == "global":
            total = sum(c.size for c in state.coefs)
            pruned = overall_sparsity(state.masks, state.coefs) * total
            return pruned >= int(round(self.sparsity * total)) - 0.5
        counts = self._counts(state, self.sparsity)
        for mask, k in zip(state.masks, counts):
            pruned = 0 if mask is None else mask.size - int(mask.sum())
            if pruned < k:
                return False
        return True

    def _unit_sparsity(self, state):
        alive = _alive_units(state.masks, state.coefs)
        return 1.0 - sum(a.sum() for a in alive) / sum(a.size for a in alive)

    # -- queries used by the drivers ---------------------------------------
    @property
    def pending(self):
        return bool(self.plan.get("targets"))

    def finetuning(self, state):
        """True during the guaranteed fine-tuning epochs after the last round."""
        until = self.plan.get("finetune_until")
        return until is not None and state.n_iter < until

    def iterations_to_next_round(self, state, budget):
        """L-BFGS: iterations to run before the next round is due."""
        budget = max(budget, 1)
        if not self.pending:
            return budget
        if self.plan["positions"] is not None:
            due = self.plan["positions"][0] - state.n_iter
        else:
            due = self.plan["caps"][0] - (state.n_iter - self.plan["phase_start"])
        return int(min(max(due, 1), budget))

    # -- hooks called by the drivers ---------------------------------------
    def after_update(self, state):
        """Prune if a fixed-position round is due at ``state.t``."""
        positions = self.plan.get("positions")
        if positions and self.plan["targets"] and state.t >= positions[0]:
            self._run_due(state, state.t)

    def after_epoch(self, state, plateau, force=False):
        """End of an epoch (or of an L-BFGS segment). Return True if pruned.

        Phase schedules prune when the loss has stopped improving (``plateau``)
        or the phase's budget is spent; ``force`` (L-BFGS, whose segments end
        where a round is due) prunes now.
        """
        if not self.pending:
            return False
        if self.schedule.rewind and self.plan["rewind"] is None:
            self._record_rewind(state)
        if self.plan["positions"] is not None:
            position = state.t if self.stochastic else state.n_iter
            if force:
                position = max(position, self.plan["positions"][0])
            if position >= self.plan["positions"][0]:
                self._run_due(state, position)
                return True
            return False
        spent = state.n_iter - self.plan["phase_start"] >= self.plan["caps"][0]
        if plateau or spent or force:
            self._round(state, self.plan["targets"].pop(0))
            self.plan["caps"].pop(0)
            self.plan["phase_start"] = state.n_iter
            return True
        return False

    def finish(self, state):
        """Jump to the final target now (the budget ran out before the plan)."""
        if self.pending and not self.schedule.search:
            target = self.plan["targets"][-1]
            self.plan["targets"] = []
            self._apply(state, target, rewind=False)

    # -- work --------------------------------------------------------------
    def _run_due(self, state, position):
        target = None
        positions, targets = self.plan["positions"], self.plan["targets"]
        while targets and positions[0] <= position:
            positions.pop(0)
            target = targets.pop(0)
        if target is not None:
            self._apply(state, target, rewind=False)

    def _round(self, state, target):
        if self.schedule.search:
            self._search(state, target)
        else:
            self._apply(state, target, rewind=self.schedule.rewind)

    def _statistics(self, state):
        if self.criterion not in NEEDS_STATISTICS:
            return None
        X, Y, sw = self.train_data
        n = X.shape[0]
        if n > STATS_MAX_SAMPLES:
            idx = np.sort(self.rng.choice(n, STATS_MAX_SAMPLES, replace=False))
            X, Y = X[idx], Y[idx]
            sw = None if sw is None else sw[idx]
        taylor, fisher = gradient_statistics(
            X,
            Y,
            state.coefs,
            state.intercepts,
            activation=state.activation,
            out_activation=state.out_activation,
            batch_size=self.batch_size,
            sample_weight=sw,
        )
        return {"taylor": taylor, "fisher": fisher}

    def _scores(self, state):
        scores = CRITERIA[self.criterion](
            state.coefs, self._statistics(state), self.rng
        )
        return [np.asarray(s, dtype=np.float64) for s in scores]

    def _counts(self, state, target, scores=None):
        """Per layer (weights) or per hidden layer (units), how many to prune."""
        if self.granularity == "neuron":
            sizes = [c.shape[1] for c in state.coefs[:-1]]
            if self.scope == "layer" or scores is None:
                return layer_counts(target, sizes, what="unit")
            alive = _alive_units(state.masks, state.coefs)
            return global_counts(scores, alive, target, [1] * len(sizes), "unit")
        sizes = [c.size for c in state.coefs]
        if self.scope == "layer" or scores is None:
            return layer_counts(target, sizes)
        alive = [
            np.ones(c.shape, bool) if m is None else m
            for m, c in zip(state.masks, state.coefs)
        ]
        return global_counts(scores, alive, target, self._floors(state))

    def _masks_for(self, state, scores, counts):
        if self.granularity == "neuron":
            return unit_masks(
                scores, state.masks, counts, [c.shape for c in state.coefs]
            )
        return compute_masks(
            scores, state.masks, counts, connect=self.scope == "global"
        )

    def _apply(self, state, target, rewind):
        scores = self._scores(state)
        if self.granularity == "neuron":
            scores = unit_scores(self.criterion, scores, state.masks)
        counts = self._counts(state, target, scores)
        masks = self._masks_for(state, scores, counts)
        state.set_masks(masks)
        if rewind and self.plan.get("rewind") is not None:
            self._rewind(state)
        self._record(state, target, accepted=True)

    def _search(self, state, level):
        """Greedy layer-wise round: try each layer in turn, keep what loss allows.

        Candidates push one layer (largest compute first) to ``level``; one is
        kept only if the held-out loss stays within ``pruning_tol`` of the
        reference (the loss before this fit's first round).
        """
        loss = self._validation_loss
        # Rounds number on from those of earlier fits (warm start).
        last = state.history[-1]["round"] if state.history else 0
        self.plan["search_round"] = self.plan.get("search_round", last) + 1
        if self.plan["reference_loss"] is None:
            self.plan["reference_loss"] = loss(state, state.coefs)
        reference = self.plan["reference_loss"]
        scores = self._scores(state)
        if self.granularity == "neuron":
            scores = unit_scores(self.criterion, scores, state.masks)
            sizes = [s.size for s in scores]
            alive = _alive_units(state.masks, state.coefs)
            pruned = [size - int(a.sum()) for size, a in zip(sizes, alive)]
            compute = [int(np.count_nonzero(c)) for c in state.coefs[:-1]]
        else:
            sizes = [c.size for c in state.coefs]
            pruned = [0 if m is None else m.size - int(m.sum()) for m in state.masks]
            compute = [size - p for size, p in zip(sizes, pruned)]
        budget = int(round(self.sparsity * sum(sizes))) - sum(pruned)
        # The most a layer may lose: its share under the layer scope (the output
        # layer at OUTPUT_LAYER_RATE), its floor under the global scope.
        rates = [1.0] * len(sizes)
        if self.granularity == "weight" and self.scope == "layer":
            rates = layer_rates(len(sizes))
        if self.granularity == "weight" and self.scope == "global":
            caps = [size - floor for size, floor in zip(sizes, self._floors(state))]
        else:
            caps = [size - 1 for size in sizes]
        accepted_any = False
        ladder = self.plan["ladder"]
        for i in np.argsort(compute, kind="stable")[::-1]:
            # Each layer climbs to the next rung above where it stands.
            rung = next(
                (r for r in ladder if r * rates[i] * sizes[i] > pruned[i] + 0.5), None
            )
            if rung is None:
                continue
            want = min(int(round(rung * rates[i] * sizes[i])), caps[i])
            n_more = min(want - pruned[i], budget)
            for _ in range(GREEDY_BACKOFF + 1):
                if n_more <= 0:
                    break
                counts = list(pruned)
                counts[i] += n_more
                candidate = self._masks_for(state, scores, counts)
                trial = [
                    c if m is None else c * m for c, m in zip(state.coefs, candidate)
                ]
                trial_loss = loss(state, trial)
                ok = bool(trial_loss <= reference + self.tol)
                if ok:
                    state.set_masks(candidate)
                    pruned, budget = counts, budget - n_more
                    accepted_any = True
                self._record(
                    state,
                    counts[i] / sizes[i],
                    accepted=ok,
                    round=self.plan["search_round"],
                    layer=int(i),
                    validation_loss=float(trial_loss),
                    reference_loss=float(reference),
                )
                if ok:
                    break
                n_more //= 2
        if not accepted_any or budget <= 0:
            self.plan["targets"] = []
            self.plan["finetune_until"] = state.n_iter + self.finetune_iter

    def _validation_loss(self, state, coefs):
        X, Y, sw = self.validation_data
        return mean_log_loss(
            X, Y, coefs, state.intercepts, state.activation, state.out_activation, sw
        )

    def _record_rewind(self, state):
        self.plan["rewind"] = (
            [c.copy() for c in state.coefs],
            [b.copy() for b in state.intercepts],
        )

    def _rewind(self, state):
        coefs, intercepts = self.plan["rewind"]
        for current, early, mask in zip(state.coefs, coefs, state.masks):
            current[...] = early if mask is None else early * mask
        for current, early in zip(state.intercepts, intercepts):
            current[...] = early
        if state.optimizer is not None:
            state.optimizer.reset()
            state.optimizer.apply_masks(list(state.masks) + [None] * len(intercepts))

    def _record(self, state, target, accepted, **extra):
        """Append to ``state.history``: one record per round (greedy: per
        candidate, ``round`` being the search round)."""
        if accepted:
            self.n_rounds += 1
            if not self.pending:
                self.plan["finetune_until"] = state.n_iter + self.finetune_iter
        record = {
            "round": state.history[-1]["round"] + 1 if state.history else 1,
            "iteration": state.n_iter,
            "t": state.t,
            "target": float(target),
            "sparsity": overall_sparsity(state.masks, state.coefs),
            "layer_sparsity": layer_sparsity(state.masks, state.coefs).tolist(),
            "loss": state.loss,
            "validation_score": (
                state.validation_scores[-1] if state.validation_scores else None
            ),
            "accepted": accepted,
        }
        record.update(extra)
        state.history.append(record)
        self.reporter.pruning_round(record)
