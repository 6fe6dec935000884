"""Allocation: how a target sparsity becomes a number to prune in each layer.

``sparsity`` is the fraction of *all* weights removed: a target ``s`` prunes
``round(s * total)`` weights, whatever the scope and granularity. Two objects
answer every question a schedule asks about sizes, counts, floors and masks,
so that nothing else tests ``granularity`` or ``pruning_scope``:

- a *scope* spreads that budget over the layers: :class:`LayerScope` (the same
  sparsity in every layer), :class:`ERKScope` (Erdős–Rényi-Kernel densities:
  a layer keeps weights in proportion to ``n_in + n_out``, so small and narrow
  layers stay denser) or :class:`GlobalScope` (all weights ranked together,
  every output keeping a path from the inputs);
- a *granularity* says what is pruned: :class:`Weights` (connections) or
  :class:`Units` (whole hidden units, with their incoming and outgoing weights,
  as many as the weight budget asks).

Every layer keeps a floor (the output layer a weight per output, and under the
global scope every layer as many weights as it has outputs; one unit per hidden
layer for neurons). When a layer's share would go below it, :func:`spread` moves
the rest of the budget to the other layers; only a target that no allocation
can reach warns, and is pruned as far as the floors allow.

``GRANULARITIES[name](SCOPES[name]())`` builds the pair for the estimator's
parameters.
"""

import warnings

import numpy as np

from .criteria import unit_scores
from .masks import (
    alive_units,
    compute_masks,
    overall_sparsity,
    pruned_counts,
    unit_masks,
)


def budget(target, total):
    """Number of weights a target removes out of ``total``."""
    return int(round(target * total))


def erk_densities(shapes, keep):
    """Erdős–Rényi-Kernel densities keeping ``keep`` weights in all.

    A layer of shape ``(n_in, n_out)`` gets density ``eps * (n_in + n_out) /
    (n_in * n_out)`` (Mocanu et al. 2018; Evci et al. 2020), ``eps`` chosen so
    that the kept weights add up to ``keep``; a layer whose density would
    exceed 1 stays dense and the others share the rest (RigL's rule).
    """
    raw = np.array([(a + b) / (a * b) for a, b in shapes], dtype=np.float64)
    return proportional_densities(shapes, raw, keep)


def proportional_densities(shapes, raw, keep):
    """Densities ``eps * raw`` keeping ``keep`` weights of layers of ``shapes``
    in all; a layer whose density would exceed 1 stays dense and the others
    share the rest (RigL's rule). :func:`erk_densities` with ERK's ``raw``."""
    sizes = np.array([a * b for a, b in shapes], dtype=np.float64)
    raw = np.asarray(raw, dtype=np.float64)
    dense = np.zeros(len(shapes), dtype=bool)
    while True:
        rest = keep - sizes[dense].sum()
        free = ~dense
        if not free.any():
            break
        eps = max(rest, 0.0) / (raw[free] * sizes[free]).sum()
        density = np.where(dense, 1.0, eps * raw)
        over = free & (density > 1.0)
        if not over.any():
            break
        dense |= over
    return np.minimum(np.where(dense, 1.0, density), 1.0)


def spread(desired, lower, upper, total):
    """Integer counts within ``[lower, upper]`` summing to ``total``, near ``desired``.

    Counts are clipped to their bounds, and whatever clipping took or gave is
    shared among the layers that still have room, in proportion to that room,
    until the total is met; ``total`` is first clipped to what the bounds
    allow. Remainders go to the largest fractional parts.
    """
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    total = float(min(max(total, lower.sum()), upper.sum()))
    counts = np.clip(np.asarray(desired, dtype=np.float64), lower, upper)
    for _ in range(len(counts) + 1):
        gap = total - counts.sum()
        if abs(gap) < 1e-9:
            break
        room = upper - counts if gap > 0 else counts - lower
        if room.sum() <= 0:
            break
        counts = np.clip(counts + gap * room / room.sum(), lower, upper)
    whole = np.floor(counts + 1e-9)
    left = int(round(total - whole.sum()))
    if left > 0:
        order = np.argsort(-(counts - whole), kind="stable")
        for i in order:
            if left == 0:
                break
            if whole[i] < upper[i]:
                whole[i] += 1
                left -= 1
    return [int(c) for c in whole]


def unreachable_warning(target, reachable, floors, what):
    warnings.warn(
        f"sparsity={target:g} cannot be reached in this network: every layer keeps "
        f"at least {list(floors)} {what}s, so at most {reachable:.4f} of the "
        "weights can be removed; the network is pruned that far. Use wider "
        "layers or a smaller sparsity.",
        UserWarning,
        stacklevel=2,
    )


def global_counts(scores, alive, k_total, floors):
    """Number to prune in each layer when all layers are ranked together.

    Parameters
    ----------
    scores : list of ndarray
        Scores of every weight, all layers on one scale.
    alive : list of ndarray of bool
        Which entries are still kept.
    k_total : int
        Number to prune in all (already pruned included); clipped to what the
        floors allow.
    floors : list of int
        Minimum number each layer keeps, whatever the ranking.
    """
    sizes = [s.size for s in scores]
    k_total = min(k_total, sum(sizes) - sum(floors))
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
    if not keys:
        return counts
    keys, owners = np.concatenate(keys), np.concatenate(owners)
    n_more = min(n_more, keys.size)
    lowest = np.argpartition(keys, n_more - 1)[:n_more]
    for i, n in zip(*np.unique(owners[lowest], return_counts=True)):
        counts[i] += int(n)
    return counts


class LayerScope:
    """The same sparsity in every layer."""

    name = "layer"
    connect = False  # masks need not protect paths: every layer keeps a share

    def desired(self, target, shapes):
        """Weights each layer would prune, before floors."""
        return [target * a * b for a, b in shapes]


class ERKScope(LayerScope):
    """Erdős–Rényi-Kernel: density in proportion to ``(n_in + n_out) / n_in n_out``."""

    name = "erk"

    def desired(self, target, shapes):
        total = sum(a * b for a, b in shapes)
        keep = erk_densities(shapes, (1.0 - target) * total)
        return [(1.0 - d) * a * b for d, (a, b) in zip(keep, shapes)]


class GlobalScope(LayerScope):
    """All layers ranked together; each keeps its floor and outputs stay fed."""

    name = "global"
    connect = True


SCOPES = {"layer": LayerScope, "erk": ERKScope, "global": GlobalScope}


class Weights:
    """``granularity="weight"``: single connections are pruned."""

    name = "weight"
    what = "weight"

    def __init__(self, scope):
        self.scope = scope

    def check_network(self, coefs):
        pass

    # -- sizes and counts, in weights ----------------------------------------
    def sizes(self, state):
        return [c.size for c in state.coefs]

    def pruned(self, state):
        return pruned_counts(state.masks, state.coefs)

    def current(self, state):
        """Fraction of all weights pruned so far."""
        return overall_sparsity(state.masks, state.coefs)

    def floors(self, state):
        # The output layer keeps at least one weight per output; under the
        # global scope every layer keeps as many weights as it has output units
        # (see compute_masks(connect=True) for which ones), so that every
        # output keeps a path from the inputs.
        if self.scope.connect:
            return [c.shape[1] for c in state.coefs]
        return [1] * (len(state.coefs) - 1) + [state.coefs[-1].shape[1]]

    def reachable(self, state):
        """The highest sparsity the floors allow."""
        sizes = self.sizes(state)
        return 1.0 - sum(self.floors(state)) / sum(sizes)

    def compute(self, state):
        """Per layer, the work it still costs (greedy visits the largest first)."""
        return [size - p for size, p in zip(self.sizes(state), self.pruned(state))]

    def scores(self, criterion, weight_scores, state):
        return weight_scores

    def alive(self, state):
        return [
            np.ones(c.shape, bool) if m is None else m
            for m, c in zip(state.masks, state.coefs)
        ]

    def check(self, state, target):
        """Warn now if ``target`` cannot be reached (it is pruned that far)."""
        reachable = self.reachable(state)
        total = sum(c.size for c in state.coefs)
        if budget(target, total) > budget(reachable, total):
            unreachable_warning(target, reachable, self.floors(state), self.what)

    def counts(self, state, target, scores=None):
        """How many to prune in each layer (in total) to reach ``target``."""
        sizes = self.sizes(state)
        k_total = budget(target, sum(sizes))
        floors = self.floors(state)
        if self.scope.name == "global" and scores is not None:
            return global_counts(scores, self.alive(state), k_total, floors)
        shapes = [c.shape for c in state.coefs]
        already = self.pruned(state)
        upper = [max(size - f, a) for size, f, a in zip(sizes, floors, already)]
        return spread(self.scope.desired(target, shapes), already, upper, k_total)

    def reached(self, state, target):
        total = sum(self.sizes(state))
        k = min(budget(target, total), budget(self.reachable(state), total))
        return sum(self.pruned(state)) >= k

    def caps(self, state):
        """The most each layer may lose (greedy)."""
        return [
            size - floor for size, floor in zip(self.sizes(state), self.floors(state))
        ]

    def masks(self, state, scores, counts):
        return compute_masks(scores, state.masks, counts, connect=self.scope.connect)


class Units(Weights):
    """``granularity="neuron"``: whole hidden units are removed.

    A target is still a fraction of all weights: as many units go as remove
    that share of the weights (to the nearest unit). ``'layer'`` and ``'erk'``
    remove the same share of units in every hidden layer; ``'global'`` ranks
    all hidden units together.
    """

    name = "neuron"
    what = "unit"

    def check_network(self, coefs):
        if len(coefs) < 2:
            raise ValueError(
                "granularity='neuron' removes hidden units, but the network has no "
                "hidden layer. Use granularity='weight' or add hidden layers."
            )

    def sizes(self, state):
        return [c.shape[1] for c in state.coefs[:-1]]

    def pruned(self, state):
        return [a.size - int(a.sum()) for a in alive_units(state.masks, state.coefs)]

    def current(self, state):
        return overall_sparsity(state.masks, state.coefs)

    def floors(self, state):
        return [1] * (len(state.coefs) - 1)

    def reachable(self, state):
        shapes = [c.shape for c in state.coefs]
        kept = _kept_weights(shapes, self.floors(state))
        return 1.0 - kept / sum(a * b for a, b in shapes)

    def check(self, state, target):
        super().check(state, target)
        pruned = sum(self.pruned(state))
        if target > 0 and pruned == 0 and sum(self.counts(state, target)) == 0:
            warnings.warn(
                f"granularity='neuron' with sparsity={target:g} removes no hidden "
                f"unit from hidden layers of {self.sizes(state)} units (a layer "
                "keeps at least one, and the budget rounds to whole units): the "
                "network stays dense. Use wider layers, a higher sparsity or "
                "granularity='weight'.",
                UserWarning,
                stacklevel=2,
            )

    def counts(self, state, target, scores=None):
        """Units to remove in each hidden layer (in total) to reach ``target``."""
        shapes = [c.shape for c in state.coefs]
        units = self.sizes(state)
        already = self.pruned(state)
        keep = (1.0 - target) * sum(a * b for a, b in shapes)
        if self.scope.name == "global" and scores is not None:
            return _global_unit_counts(shapes, scores, self.alive(state), keep)

        # The same share u of units in every hidden layer, the u that leaves
        # the kept weights nearest the budget (kept weights fall as u grows).
        def removed(u):
            return [
                int(min(max(round(u * n), a), n - 1)) for n, a in zip(units, already)
            ]

        lo, hi = 0.0, 1.0
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            kept = _kept_weights(shapes, [n - r for n, r in zip(units, removed(mid))])
            if kept > keep:
                lo = mid
            else:
                hi = mid
        candidates = [removed(lo), removed(hi)]
        return min(
            candidates,
            key=lambda r: abs(
                _kept_weights(shapes, [n - k for n, k in zip(units, r)]) - keep
            ),
        )

    def reached(self, state, target):
        return list(self.counts(state, target)) == list(self.pruned(state))

    def caps(self, state):
        return [n - 1 for n in self.sizes(state)]

    def compute(self, state):
        return [int(np.count_nonzero(c)) for c in state.coefs[:-1]]

    def scores(self, criterion, weight_scores, state):
        return unit_scores(criterion, weight_scores, state.masks)

    def alive(self, state):
        return alive_units(state.masks, state.coefs)

    def masks(self, state, scores, counts):
        return unit_masks(scores, state.masks, counts, [c.shape for c in state.coefs])


def _kept_weights(shapes, kept_units):
    """Weights of a network whose hidden layers keep ``kept_units`` units."""
    widths = [shapes[0][0], *kept_units, shapes[-1][1]]
    return sum(a * b for a, b in zip(widths[:-1], widths[1:]))


def _global_unit_counts(shapes, scores, alive, keep):
    """Remove the lowest-scoring units of all hidden layers until ``keep`` weights
    are left (each layer keeps one unit)."""
    kept = [int(a.sum()) for a in alive]
    counts = [a.size - k for a, k in zip(alive, kept)]
    order = []
    for h, (s, a) in enumerate(zip(scores, alive)):
        order.extend((float(v), h) for v in np.asarray(s)[a])
    order.sort(key=lambda item: item[0])
    for _, h in order:
        now = _kept_weights(shapes, kept)
        if now <= keep:
            break
        if kept[h] <= 1:
            continue
        trial = list(kept)
        trial[h] -= 1
        after = _kept_weights(shapes, trial)
        if abs(after - keep) > abs(now - keep) and after < keep:
            break
        kept, counts[h] = trial, counts[h] + 1
    return counts


GRANULARITIES = {"weight": Weights, "neuron": Units}

__all__ = [
    "GRANULARITIES",
    "SCOPES",
    "budget",
    "erk_densities",
    "global_counts",
    "spread",
]
