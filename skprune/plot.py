"""Plots of pruned networks: score against sparsity, layers, training, masks.

Needs matplotlib, an optional dependency: ``pip install "skprune[plot]"``. Every
function draws on the Axes (or Figure) it is given, or on a new one, and returns
it, so plots can be combined and restyled with the usual matplotlib calls. The
functions that take a fitted model accept a :class:`~skprune.PrunedMLPClassifier`
or a :class:`~skprune.PrunedMLPRegressor`, alone or at the end of a Pipeline.
"""

import math

try:
    import matplotlib  # noqa: F401  (fail here, with a useful message)
except ImportError as exc:  # tests/test_plot.py hides matplotlib to check this
    raise ImportError(
        "skprune.plot needs matplotlib, which is not installed: "
        'pip install "skprune[plot]"'
    ) from exc

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._classifier import PrunedMLPClassifier
from ._regressor import PrunedMLPRegressor

__all__ = [
    "plot_input_mask",
    "plot_layer_sparsity",
    "plot_loss_curve",
    "plot_sparsity_tradeoff",
]

SPARSITY_LABEL = "sparsity (fraction of weights removed)"
ACCURACY_LABEL = "accuracy"
R2_LABEL = "R²"
ESTIMATORS = (PrunedMLPClassifier, PrunedMLPRegressor)
BASELINE_LABEL = "random pruning (baseline)"


def _new_axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    return ax


def _final_estimator(estimator):
    """The fitted skprune estimator itself, or the last step of a Pipeline."""
    if hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    if not isinstance(estimator, ESTIMATORS):
        raise TypeError(
            "Expected a PrunedMLPClassifier or PrunedMLPRegressor, or a Pipeline "
            f"ending in one, got {type(estimator).__name__}."
        )
    check_is_fitted(estimator, "sparse_coefs_")
    return estimator


def _curve(values, label):
    """``(sparsities, scores)`` -> x, mean, std (std None if no spread is given)."""
    try:
        sparsities, scores = values
    except (TypeError, ValueError):
        raise ValueError(
            f"results[{label!r}] must be a pair (sparsities, scores), got {values!r}."
        ) from None
    x = np.asarray(sparsities, dtype=float).ravel()
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 2 and scores.shape[0] == 2:
        mean, std = scores
    elif scores.ndim == 1:
        mean, std = scores, None
    else:
        raise ValueError(
            f"The scores of {label!r} must be an array of shape (n_points,) or a "
            f"pair (mean, std) of such arrays, got shape {scores.shape}."
        )
    if mean.shape != x.shape:
        raise ValueError(
            f"{label!r} has {x.size} sparsities but {mean.size} scores; give one "
            "score per sparsity."
        )
    order = np.argsort(x, kind="stable")
    return x[order], mean[order], None if std is None else std[order]


def plot_sparsity_tradeoff(
    results, *, dense_score=None, baseline=None, ax=None, score_label=ACCURACY_LABEL
):
    """Plot a score against sparsity, one curve per pruning setting.

    Parameters
    ----------
    results : dict
        Maps a label (shown in the legend) to a pair ``(sparsities, scores)``:
        ``sparsities`` an array of shape (n_points,) (achieved ``sparsity_``, or
        targets), ``scores`` an array of shape (n_points,), or a pair
        ``(mean, std)`` of such arrays, e.g. over seeds or cross-validation folds;
        the spread is drawn as a band of one standard deviation.

    dense_score : float or (float, float), default=None
        Score of the dense network (``MLPClassifier`` or ``MLPRegressor``),
        drawn as a horizontal line; a pair ``(mean, std)`` adds a band.

    baseline : (array-like, array-like), default=None
        ``(sparsities, scores)`` of random pruning, the baseline every criterion
        must beat (Blalock et al. 2020), drawn as a grey dashed line. Scores may
        be ``(mean, std)`` as in ``results``.

    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure is created if None.

    score_label : str, default="accuracy"
        The y-axis label: what the scores are, e.g. ``"R²"`` for regressors
        (``skprune.plot.R2_LABEL``).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes with one line per entry of ``results``, plus the dense line and
        the baseline when given.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skprune.plot import plot_sparsity_tradeoff
    >>> ax = plot_sparsity_tradeoff(
    ...     {"magnitude": ([0.5, 0.9, 0.95], [0.97, 0.96, 0.93])},
    ...     dense_score=0.97,
    ...     baseline=([0.5, 0.9, 0.95], [0.96, 0.90, 0.80]),
    ... )
    >>> ax.get_xlabel()
    'sparsity (fraction of weights removed)'
    >>> len(ax.get_lines())  # magnitude, dense line, baseline
    3
    >>> plt.close("all")
    """
    ax = _new_axes(ax)
    for label, values in dict(results).items():
        x, mean, std = _curve(values, label)
        (line,) = ax.plot(x, mean, marker="o", label=str(label))
        if std is not None:
            ax.fill_between(
                x, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0
            )
    if baseline is not None:
        x, mean, std = _curve(baseline, BASELINE_LABEL)
        ax.plot(x, mean, marker="x", linestyle="--", color="0.45", label=BASELINE_LABEL)
        if std is not None:
            ax.fill_between(x, mean - std, mean + std, color="0.45", alpha=0.15, lw=0)
    if dense_score is not None:
        score = np.asarray(dense_score, dtype=float).ravel()
        if score.size not in (1, 2):
            raise ValueError(
                "dense_score must be a number or a pair (mean, std), got "
                f"{dense_score!r}."
            )
        ax.axhline(score[0], color="black", linestyle=":", label="dense (no pruning)")
        if score.size == 2:
            ax.axhspan(score[0] - score[1], score[0] + score[1], color="0.8", alpha=0.5)
    ax.set_xlabel(SPARSITY_LABEL)
    ax.set_ylabel(score_label)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left")
    return ax


def _layer_names(n_layers):
    """``input → hidden 1``, ..., ``hidden k → output`` for n weight layers."""
    if n_layers == 1:
        return ["input → output"]
    units = ["input"]
    if n_layers == 2:
        units.append("hidden")
    else:
        units += [f"hidden {i}" for i in range(1, n_layers)]
    units.append("output")
    return [f"{a} → {b}" for a, b in zip(units, units[1:])]


def plot_layer_sparsity(estimator, ax=None):
    """Plot the achieved sparsity of each layer as bars.

    One bar per weight matrix, from ``layer_sparsity_`` (fractions of the weights
    of the dense network that were removed), and a dashed line at the overall
    ``sparsity_``. Under ``pruning_scope="layer"`` every bar is at ``sparsity``;
    ``"erk"`` and ``"global"`` spread it unevenly.

    Parameters
    ----------
    estimator : PrunedMLPClassifier, PrunedMLPRegressor or Pipeline
        A fitted estimator, or a fitted Pipeline whose last step is one.

    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure is created if None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes with one bar per layer.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_iris
    >>> from skprune import PrunedMLPClassifier
    >>> from skprune.plot import plot_layer_sparsity
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = PrunedMLPClassifier((10,), solver="lbfgs", sparsity=0.6,
    ...                           random_state=0).fit(X, y)
    >>> ax = plot_layer_sparsity(clf)
    >>> len(ax.patches)  # one bar per layer
    2
    >>> plt.close("all")
    """
    estimator = _final_estimator(estimator)
    ax = _new_axes(ax)
    values = np.asarray(estimator.layer_sparsity_, dtype=float)
    names = _layer_names(values.size)
    positions = np.arange(values.size)
    bars = ax.bar(positions, values, color="C0")
    ax.bar_label(bars, labels=[f"{v:.1%}" for v in values], padding=2)
    ax.axhline(
        estimator.sparsity_,
        color="black",
        linestyle="--",
        label=f"overall sparsity_ = {estimator.sparsity_:.1%}",
    )
    ax.set_xticks(positions, names)
    ax.set_ylim(0, 1.08)
    ax.set_xlabel("layer (weight matrix)")
    ax.set_ylabel(SPARSITY_LABEL)
    ax.legend(loc="upper right")
    return ax


def _trained_rounds(history):
    """The records of the network's own training: not those of the search that
    ``sparsity="auto"`` ran before its refit (their iterations count another
    run, whose loss curve is not kept)."""
    return [r for r in history if not r.get("search")]


def _round_iterations(history):
    """Distinct iterations at which pruning was applied (accepted rounds)."""
    return sorted(
        {r["iteration"] for r in _trained_rounds(history) if r.get("accepted", True)}
    )


def plot_loss_curve(estimator, ax=None):
    """Plot the training loss with the pruning rounds marked.

    ``loss_curve_`` is drawn against the iteration count; a dashed vertical line
    marks the iteration recorded in ``pruning_history_`` for every accepted
    pruning round (rounds of the greedy search that happened at the same
    iteration share one line; rejected candidates are not marked). A pruning
    round usually makes the loss jump, then training recovers.

    With ``solver="lbfgs"``, ``loss_curve_`` holds one entry per L-BFGS segment
    (the optimizer runs from one pruning round to the next); each entry is drawn
    at the iteration where its segment ended.

    Parameters
    ----------
    estimator : PrunedMLPClassifier, PrunedMLPRegressor or Pipeline
        A fitted estimator, or a fitted Pipeline whose last step is one.

    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure is created if None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes with the loss curve and one vertical line per pruning round.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skprune import PrunedMLPClassifier
    >>> from skprune.plot import plot_loss_curve
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = PrunedMLPClassifier((10,), sparsity=0.6, pruning_steps=3, batch_size=16,
    ...                           tol=1e-2, n_iter_no_change=3, random_state=0)
    >>> clf = clf.fit(X, y)
    >>> ax = plot_loss_curve(clf)
    >>> len(ax.get_lines())  # the loss curve and one line per pruning round
    4
    >>> plt.close("all")
    """
    estimator = _final_estimator(estimator)
    ax = _new_axes(ax)
    loss = np.asarray(estimator.loss_curve_, dtype=float)
    rounds = _round_iterations(estimator.pruning_history_)
    x = np.arange(1, loss.size + 1)
    xlabel = "iteration"
    marker = None
    # Iterations since the network was created (n_iter_ counts the last call).
    n_iter = getattr(estimator, "_call_ends", [estimator.n_iter_])[-1]
    if loss.size != n_iter:
        # L-BFGS: segments end at the pruning rounds and where each call ended.
        ends = {r["iteration"] for r in _trained_rounds(estimator.pruning_history_)}
        ends |= set(getattr(estimator, "_call_ends", [n_iter]))
        ends = sorted(e for e in ends if e <= n_iter)
        marker = "o"
        if len(ends) == loss.size:
            x = np.asarray(ends)
        else:  # the segments cannot be placed: plot them in order only
            xlabel, rounds = "L-BFGS segment", []
    ax.plot(x, loss, marker=marker, color="C0", label="training loss")
    for i, iteration in enumerate(rounds):
        ax.axvline(
            iteration,
            color="C3",
            linestyle="--",
            linewidth=0.8,
            alpha=0.7,
            label="pruning round" if i == 0 else None,
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    ax.legend(loc="upper right")
    return ax


def plot_input_mask(estimator, image_shape, n_units=16, fig=None):
    """Show the first-layer weights of image data as small images.

    Column ``j`` of ``coefs_[0]`` holds the weights from every input pixel to
    hidden unit ``j``; reshaped to ``image_shape`` it shows which pixels the unit
    looks at. Pruned weights are exact zeros and appear in the colour of zero
    (white, in the middle of a symmetric diverging colour scale), so the mask
    left by pruning is visible at a glance. The first ``n_units`` units of the
    stored network (after removed units were dropped) are shown in stored order,
    each titled with its number of kept input weights.

    Parameters
    ----------
    estimator : PrunedMLPClassifier, PrunedMLPRegressor or Pipeline
        A fitted estimator, or a fitted Pipeline whose last step is one, trained
        on flattened images of shape ``image_shape``.

    image_shape : tuple of int
        Shape of one image, e.g. ``(8, 8)`` for the digits data; its product must
        be ``n_features_in_``.

    n_units : int, default=16
        Number of hidden units to show (at most the width of the first hidden
        layer).

    fig : matplotlib.figure.Figure, default=None
        Figure to draw in; a new one is created if None.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The Figure with one image per shown unit, in a grid, and a colour bar.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from skprune import PrunedMLPClassifier
    >>> from skprune.plot import plot_input_mask
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = PrunedMLPClassifier((16,), sparsity=0.8, pruning_steps=2, tol=1e-2,
    ...                           random_state=0).fit(X / 16, y)
    >>> fig = plot_input_mask(clf, image_shape=(8, 8), n_units=4)
    >>> sum(len(ax.images) for ax in fig.axes)
    4
    >>> plt.close("all")
    """
    estimator = _final_estimator(estimator)
    if estimator.n_layers_ < 3:
        raise ValueError(
            "plot_input_mask shows the weights into the first hidden layer, but "
            "the network has no hidden layer."
        )
    image_shape = tuple(int(s) for s in np.atleast_1d(image_shape))
    if math.prod(image_shape) != estimator.n_features_in_:
        raise ValueError(
            f"image_shape={image_shape} has {math.prod(image_shape)} pixels but the "
            f"estimator was fitted on {estimator.n_features_in_} features; give the "
            "shape of one image."
        )
    if int(n_units) < 1:
        raise ValueError(f"n_units must be at least 1, got {n_units}.")
    first = estimator.sparse_coefs_[0]
    n_shown = min(int(n_units), first.shape[1])
    weights = first[:, :n_shown].toarray()
    kept = np.diff(first.tocsc()[:, :n_shown].indptr)
    n_cols = math.ceil(math.sqrt(n_shown))
    n_rows = math.ceil(n_shown / n_cols)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(
            figsize=(1.5 * n_cols + 1.5, 1.5 * n_rows + 0.8), layout="constrained"
        )
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    limit = float(np.abs(weights).max()) or 1.0
    image = None
    for j, ax in enumerate(axes):
        if j >= n_shown:
            ax.remove()
            continue
        image = ax.imshow(
            weights[:, j].reshape(image_shape),
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
            interpolation="nearest",
        )
        ax.set_title(f"{kept[j]} kept", fontsize="small")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=list(axes[:n_shown]), shrink=0.8, label="weight")
    fig.suptitle("First-layer weights of each unit (pruned = 0)")
    return fig
