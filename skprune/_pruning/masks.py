"""Masks, and the one place where pruned weights and units are counted.

:func:`compute_masks` and :func:`unit_masks` turn scores and per-layer counts
into boolean masks (``True`` = kept; ``None`` = a layer with every weight kept).
Masks only ever lose entries: a pruned weight is never regrown. Every count of
kept or pruned weights, and every sparsity, is computed by the functions at the
end of this module.
"""

import numpy as np


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


def kept_counts(masks, coefs):
    """Number of kept weights in each layer."""
    return np.array(
        [
            c.size if m is None else int(np.count_nonzero(m))
            for m, c in zip(masks, coefs)
        ]
    )


def pruned_counts(masks, coefs):
    """Number of pruned weights in each layer (a list of int)."""
    return [int(c.size - k) for c, k in zip(coefs, kept_counts(masks, coefs))]


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


def sparsity_against(kept, dense_sizes):
    """Per-layer and overall fraction of ``dense_sizes`` that is not ``kept``.

    The fitted ``layer_sparsity_`` and ``sparsity_``: the kept weights of the
    network as trained against the dense network it started as.
    """
    kept = np.asarray(kept)
    return 1.0 - kept / dense_sizes, float(1.0 - kept.sum() / dense_sizes.sum())


def alive_units(masks, coefs):
    """Per hidden layer, which units are still in the network."""
    return [
        np.ones(c.shape[1], bool) if m is None else m.any(axis=0)
        for m, c in zip(masks[:-1], coefs[:-1])
    ]
