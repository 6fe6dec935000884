"""Allocation: how a target sparsity becomes a number to prune in each layer.

Two objects answer every question a schedule asks about sizes, counts, floors
and masks, so that nothing else tests ``granularity`` or ``pruning_scope``:

- a *scope* spreads the budget over the layers: :class:`LayerScope` (each layer
  reaches the target, the output layer at ``OUTPUT_LAYER_RATE`` of it) or
  :class:`GlobalScope` (all layers ranked together, every layer keeping a floor
  and every output a path from the inputs);
- a *granularity* says what is pruned: :class:`Weights` (connections) or
  :class:`Units` (whole hidden units, with their incoming and outgoing weights).

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

# Share of ``sparsity`` applied to the output layer under ``pruning_scope="layer"``.
OUTPUT_LAYER_RATE = 0.5


def layer_rates(n_layers):
    """Share of the target applied to each layer under ``pruning_scope="layer"``."""
    return [1.0] * (n_layers - 1) + [OUTPUT_LAYER_RATE]


def layer_counts(target, sizes, what="weight", rates=None):
    """Number to prune in each layer so that each reaches ``target``.

    ``rates`` (default: :func:`layer_rates` for weights, 1 for units) scales the
    target of each layer.

    Raises
    ------
    ValueError
        If a layer would lose all of its weights (or units).
    """
    if rates is None:
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


class LayerScope:
    """Every layer reaches the target (the output layer at its rate)."""

    name = "layer"
    connect = False  # masks need not protect paths: every layer keeps a share

    def rates(self, n_layers):
        return layer_rates(n_layers)

    def counts(self, target, sizes, rates, what, scores=None, alive=None, floors=None):
        return layer_counts(target, sizes, what, rates)

    def check(self, target, sizes, rates, floors, what):
        layer_counts(target, sizes, what, rates)

    def reached(self, target, sizes, rates, pruned, what):
        counts = layer_counts(target, sizes, what, rates)
        return all(p >= k for p, k in zip(pruned, counts))

    def caps(self, sizes, floors):
        """The most each layer may lose in a greedy step."""
        return [size - 1 for size in sizes]


class GlobalScope:
    """All layers ranked together; each keeps ``floors`` and outputs stay fed."""

    name = "global"
    connect = True

    def rates(self, n_layers):
        return [1.0] * n_layers

    def counts(self, target, sizes, rates, what, scores=None, alive=None, floors=None):
        if scores is None:
            return layer_counts(target, sizes, what, rates)
        return global_counts(scores, alive, target, floors, what)

    def check(self, target, sizes, rates, floors, what):
        total = sum(sizes)
        if int(round(target * total)) > total - sum(floors):
            raise ValueError(
                f"sparsity={target:g} is too high for pruning_scope='global': "
                f"every layer keeps at least {floors} {what}s, so at most "
                f"{1 - sum(floors) / total:.4f} can be pruned. Use a smaller sparsity."
            )

    def reached(self, target, sizes, rates, pruned, what):
        return sum(pruned) >= int(round(target * sum(sizes)))

    def caps(self, sizes, floors):
        return [size - floor for size, floor in zip(sizes, floors)]


SCOPES = {"layer": LayerScope, "global": GlobalScope}


class Weights:
    """``granularity="weight"``: single connections are pruned."""

    name = "weight"
    what = "weight"

    def __init__(self, scope):
        self.scope = scope

    def check_network(self, coefs):
        pass

    def sizes(self, state):
        return [c.size for c in state.coefs]

    def pruned(self, state):
        return pruned_counts(state.masks, state.coefs)

    def current(self, state):
        """Sparsity reached so far, as the schedules measure it."""
        return overall_sparsity(state.masks, state.coefs)

    def floors(self, state):
        # Global scope: each layer keeps at least as many weights as it has
        # output units (see compute_masks(connect=True) for which ones).
        return [c.shape[1] for c in state.coefs]

    def rates(self, state):
        return self.scope.rates(len(state.coefs))

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
        """Raise ValueError now if ``target`` cannot be reached."""
        self.scope.check(
            target, self.sizes(state), self.rates(state), self.floors(state), self.what
        )

    def counts(self, state, target, scores=None):
        """How many to prune in each layer (in total) to reach ``target``."""
        return self.scope.counts(
            target,
            self.sizes(state),
            self.rates(state),
            self.what,
            scores=scores,
            alive=None if scores is None else self.alive(state),
            floors=self.floors(state),
        )

    def reached(self, state, target):
        return self.scope.reached(
            target, self.sizes(state), self.rates(state), self.pruned(state), self.what
        )

    def caps(self, state):
        return self.scope.caps(self.sizes(state), self.floors(state))

    def masks(self, state, scores, counts):
        return compute_masks(scores, state.masks, counts, connect=self.scope.connect)


class Units(Weights):
    """``granularity="neuron"``: whole hidden units are removed."""

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
        alive = alive_units(state.masks, state.coefs)
        return 1.0 - sum(a.sum() for a in alive) / sum(a.size for a in alive)

    def floors(self, state):
        return [1] * (len(state.coefs) - 1)

    def check(self, state, target):
        super().check(state, target)
        sizes = self.sizes(state)
        if self.scope.name == "layer":
            removable = sum(layer_counts(target, sizes, self.what, self.rates(state)))
        else:
            removable = int(round(target * sum(sizes)))
        if target > 0 and removable == 0:
            warnings.warn(
                f"granularity='neuron' with sparsity={target:g} removes no hidden "
                f"unit from hidden layers of {sizes} units (a layer keeps at least "
                "one, and a share rounds to whole units): the network stays "
                "dense. Use wider layers, a higher sparsity or "
                "granularity='weight'.",
                UserWarning,
            )

    def rates(self, state):
        return [1.0] * (len(state.coefs) - 1)

    def compute(self, state):
        return [int(np.count_nonzero(c)) for c in state.coefs[:-1]]

    def scores(self, criterion, weight_scores, state):
        return unit_scores(criterion, weight_scores, state.masks)

    def alive(self, state):
        return alive_units(state.masks, state.coefs)

    def masks(self, state, scores, counts):
        return unit_masks(scores, state.masks, counts, [c.shape for c in state.coefs])


GRANULARITIES = {"weight": Weights, "neuron": Units}
