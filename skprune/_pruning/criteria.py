"""Criteria: weights (and statistics gathered on training data) -> scores.

One score per weight, higher meaning more worth keeping (``CRITERIA``), and the
score of a whole hidden unit from its weights' scores (:func:`unit_scores`).
"""

import numpy as np


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
# Criteria that need gradient statistics gathered on training data.
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
