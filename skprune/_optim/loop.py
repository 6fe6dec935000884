"""The training loop: epochs of minibatch updates, or L-BFGS segments.

:func:`run_stochastic` owns the epoch loop of SGD and Adam: it calls ``_core``
for the loss and its gradients, lets the optimizer update the weights, and
tells its callbacks (the pruner, the stopping rule, the reporter, ...) after
every update and every epoch; a callback ends training by setting
``epoch.stop``. :func:`run_lbfgs` runs scipy's L-BFGS-B in segments between
pruning rounds. Both work on the :class:`Trainer`'s ``TrainState`` and nothing
else, so the estimator commits the result only once training has finished.
"""

import math
from dataclasses import dataclass, fields

import numpy as np
import scipy.optimize
from sklearn.utils import gen_batches
from sklearn.utils.optimize import _check_optimize_result

from .._core import Workspace, loss_and_gradients
from .._kernels import SparseLayer, compiled, sparse_pays
from .callbacks import EpochEnd
from .state import DivergenceError

# Training data of at most this many bytes (X, dense, with Y and the sample
# weights) is put in the epoch's shuffled order at once, and each minibatch is
# then a slice of it, instead of being gathered minibatch by minibatch: on
# small data the gathers' calls, not their bytes, are the cost (the same rows,
# so the same results). Larger data keeps the minibatch gather, whose buffer
# stays in cache. On digits the default fit is 1.01-1.09 times faster
# (benchmarks/digits_fit_time.py --minibatch-gather,
# results/digits_fit_time.md).
EPOCH_GATHER_MAX_BYTES = 1 << 21


@dataclass(frozen=True)
class LoopSettings:
    """The estimator parameters the loop and the optimizers read."""

    solver: str
    max_iter: int
    batch_size: object
    shuffle: bool
    tol: float
    n_iter_no_change: float
    alpha: float
    max_fun: int
    learning_rate: str
    learning_rate_init: float
    power_t: float
    momentum: float
    nesterovs_momentum: bool
    beta_1: float
    beta_2: float
    epsilon: float

    @classmethod
    def from_estimator(cls, estimator):
        return cls(**{f.name: getattr(estimator, f.name) for f in fields(cls)})


class Trainer:
    """One call's training: the state, the settings and the callbacks.

    Parameters
    ----------
    state : TrainState
        Modified in place.
    settings : LoopSettings
    callbacks : list of Callback
        Told about every event, in this order.
    early_stopping : bool
        Whether the stopping rule reads held-out scores.
    """

    def __init__(self, state, settings, callbacks, early_stopping=False):
        self.state = state
        self.settings = settings
        self.callbacks = list(callbacks)
        self.early_stopping = early_stopping
        self.interrupted = False
        self.max_epochs = settings.max_iter
        # sparsity="auto" holds data out for its search only: once the search
        # has ended, training goes on over ``full_data`` (the held-out part
        # included) when a callback sets ``use_full_data``.
        self.full_data = None
        self.use_full_data = False
        # Set by a callback to end training after this epoch (L-BFGS: segment).
        self.stop_requested = False
        # No ConvergenceWarning: a run that ends on purpose before converging
        # (sparsity="auto"'s search).
        self.quiet = False

    def emit(self, event, *args):
        for callback in self.callbacks:
            getattr(callback, event)(self, *args)


def _weight_denominators(sample_weight, n_samples):
    """Scale turning a batch size into the batch's expected share of the weight.

    Normalising each batch by the *global* weight total (rather than the batch's
    own) keeps batches whose weights are all zero harmless, and reduces to
    MLPClassifier's per-batch normalisation for unit weights and full batches.
    """
    if sample_weight is None:
        return 1.0
    return float(sample_weight.sum(dtype=np.float64)) / n_samples


def batch_size_for(batch_size, n_samples, warn=False):
    """The minibatch size MLPClassifier uses for ``batch_size`` and ``n_samples``."""
    if batch_size == "auto":
        return min(200, n_samples)
    if warn and batch_size > n_samples:
        import warnings

        warnings.warn(
            "Got `batch_size` less than 1 or larger than "
            "sample size. It is going to be clipped"
        )
    return int(np.clip(batch_size, 1, n_samples))


def _sparse_layers(kernels, X, state, optimizer, current):
    """Per layer, its products over its kept weights (or None: dense BLAS).

    Used with the compiled kernels for a layer whose optimizer state is stored
    for its kept weights only and whose shape and density make sparse products
    pay (``_kernels.sparse_pays``); the input layer only on dense training data.
    ``current`` (the previous minibatch's list) is reused layer by layer while
    a layer's arrays stay the same ones: pruning, removing units and restoring
    a snapshot all put new arrays in the state, or a new index in the
    optimizer. Returns None when every layer is dense.
    """
    if kernels is None:
        return None
    layers = []
    for i, (coef, index) in enumerate(zip(state.coefs, optimizer.index)):
        old = None if current is None else current[i]
        if index is None or (i == 0 and not isinstance(X, np.ndarray)):
            layers.append(None)
        elif old is not None and old.matches(coef, index):
            layers.append(old)
        elif sparse_pays(coef.shape, index.size):
            layers.append(SparseLayer(kernels, coef, index))
        else:
            layers.append(None)
    return layers if any(layers) else None


def run_stochastic(trainer, X, Y, sample_weight, *, rng, incremental=False):
    """Train with SGD or Adam for up to ``max_iter`` epochs (one if incremental).

    Parameters
    ----------
    trainer : Trainer
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None
    rng : numpy.random.RandomState
        The fit's only random number generator (shuffling).
    incremental : bool
        ``partial_fit``: a single epoch.

    Returns
    -------
    interrupted : bool
        True if training stopped on KeyboardInterrupt.
    """
    state, settings = trainer.state, trainer.settings
    n_samples = X.shape[0]
    batch_size = batch_size_for(settings.batch_size, n_samples, warn=True)
    weight_scale = _weight_denominators(sample_weight, n_samples)
    trainer.max_epochs = 1 if incremental else settings.max_iter
    trainer.emit("on_fit_begin")
    state.shrink()  # a network that arrives with dead units trains without them
    sample_idx = np.arange(n_samples)
    workspace = None  # the buffers of the minibatch steps, kept across epochs
    good = state.snapshot()
    try:
        for _ in range(trainer.max_epochs):
            if settings.shuffle:
                sample_idx = _shuffled(sample_idx, rng)
            trainer.emit("on_epoch_begin")
            accumulated, workspace = _epoch(
                trainer,
                X,
                Y,
                sample_weight,
                sample_idx,
                batch_size,
                weight_scale,
                workspace,
            )
            state.n_iter += 1
            state.loss = accumulated / n_samples
            state.loss_curve.append(state.loss)
            state.optimizer.iteration_ends(state.t)
            epoch = EpochEnd(loss=state.loss)
            trainer.emit("on_epoch_end", epoch)
            good = state.snapshot()
            if epoch.stop or incremental:
                break
            if trainer.use_full_data and trainer.full_data is not None:
                X, Y, sample_weight = trainer.full_data
                trainer.full_data = None
                n_samples = X.shape[0]
                batch_size = batch_size_for(settings.batch_size, n_samples)
                weight_scale = _weight_denominators(sample_weight, n_samples)
                sample_idx = np.arange(n_samples)
                workspace = None
    except DivergenceError:
        state.restore(good)
        raise
    except KeyboardInterrupt:
        if incremental:
            # partial_fit is all or nothing: the estimator puts itself back as
            # it was before the call, and the interrupted epoch can be retried.
            raise
        state.restore(good)
        trainer.interrupted = True
    trainer.emit("on_fit_end")
    return trainer.interrupted


def _shuffled(sample_idx, rng):
    """``sklearn.utils.shuffle(sample_idx, random_state=rng)`` without its
    per-call checks: the same draw from ``rng``, so that a seed reproduces
    MLPClassifier's minibatches."""
    order = np.arange(sample_idx.shape[0])
    rng.shuffle(order)
    return sample_idx[order]


def _nbytes(*arrays):
    """Bytes of the arrays given (None counts for nothing)."""
    return sum(a.nbytes for a in arrays if a is not None)


def _epoch(
    trainer, X, Y, sample_weight, sample_idx, batch_size, weight_scale, workspace
):
    """One pass of minibatch updates; return the summed loss and the workspace.

    ``workspace`` is the one the previous epoch returned (or None): the
    arrays every step writes, allocated once per fit, and the layers computing
    their products over their kept weights, reused while the layers' arrays
    stay the same. Each minibatch is gathered into the workspace (rows in the
    order of ``sample_idx``, as MLPClassifier's ``X[batch]``).
    """
    state, settings = trainer.state, trainer.settings
    common = dict(
        activation=state.activation,
        out_activation=state.out_activation,
        alpha=settings.alpha,
    )
    accumulated = 0.0
    optimizer = state.optimizer
    kernels = compiled() if optimizer.use_kernels else None
    workspace = Workspace() if workspace is None else workspace
    dense_X = isinstance(X, np.ndarray)
    whole = (
        settings.shuffle
        and dense_X
        and _nbytes(X, Y, sample_weight) <= EPOCH_GATHER_MAX_BYTES
    )
    X_epoch = None  # gathered at its first use (a sparse input layer has none)
    if whole:
        Y_epoch = workspace.take("Y_epoch", Y, sample_idx)
        if sample_weight is not None:
            sw_epoch = workspace.take("sw_epoch", sample_weight, sample_idx)
    for batch in gen_batches(X.shape[0], batch_size):
        n_batch = batch.stop - batch.start
        layers = _sparse_layers(kernels, X, state, optimizer, workspace.layers)
        workspace.layers = layers
        idx = sample_idx[batch] if settings.shuffle else batch
        if whole:
            Yb = Y_epoch[batch]
            sw = None if sample_weight is None else sw_epoch[batch]
        else:
            Yb = workspace.take("Y", Y, idx)
            sw = (
                None
                if sample_weight is None
                else workspace.take("sw", sample_weight, idx)
            )
        if layers is not None and layers[0] is not None:
            # The sparse input layer reads its minibatch feature-major.
            XT = workspace.array("X", (X.shape[1], n_batch), X.dtype)
            Xb = layers[0].gather(X, sample_idx[batch], XT).T
        elif whole:
            if X_epoch is None:
                X_epoch = workspace.take("X_epoch", X, sample_idx)
            Xb = X_epoch[batch]
        else:
            Xb = workspace.take("X", X, idx) if dense_X else X[idx]
        loss, coef_grads, intercept_grads = loss_and_gradients(
            Xb,
            Yb,
            state.coefs,
            state.intercepts,
            denom=n_batch * weight_scale,
            sample_weight=sw,
            penalty_gradient=False,
            kernels=kernels,
            sparse=layers,
            workspace=workspace,
            **common,
        )
        if not math.isfinite(loss):
            raise DivergenceError
        l2 = settings.alpha / (n_batch * weight_scale)
        optimizer.update_params(
            state.params,
            coef_grads + intercept_grads,
            l2=[l2] * len(coef_grads) + [0.0] * len(intercept_grads),
        )
        accumulated += loss * n_batch
        state.t += n_batch
        trainer.emit("on_batch_end")
    return accumulated, workspace


# ----------------------------------------------------------------------------
# L-BFGS
# ----------------------------------------------------------------------------


def _free_index(state):
    """Per layer, the flat indices of the kept weights (None: all of them)."""
    return [None if m is None else np.flatnonzero(m) for m in state.masks]


def _pack(state, free):
    parts = []
    for coef, idx in zip(state.coefs, free):
        flat = coef.ravel()
        parts.append(flat if idx is None else flat[idx])
    parts.extend(state.intercepts)
    return np.concatenate(parts).astype(np.float64)


def _unpack(state, free, x):
    start = 0
    dtype = state.coefs[0].dtype
    for coef, idx in zip(state.coefs, free):
        flat = coef.reshape(-1)
        size = flat.size if idx is None else idx.size
        if idx is None:
            flat[:] = x[start : start + size]
        else:
            flat[idx] = x[start : start + size]
        start += size
    for b in state.intercepts:
        b[:] = x[start : start + b.size].astype(dtype, copy=False)
        start += b.size


def _objective(state, free, X, Y, common):
    """The loss and gradient over the kept weights, as L-BFGS-B wants them."""

    def fun(x):
        _unpack(state, free, x)
        loss, coef_grads, intercept_grads = loss_and_gradients(
            X, Y, state.coefs, state.intercepts, masks=None, **common
        )
        if not np.isfinite(loss):
            raise DivergenceError
        parts = [
            g.ravel() if idx is None else g.ravel()[idx]
            for g, idx in zip(coef_grads, free)
        ]
        return loss, np.concatenate(parts + intercept_grads).astype(np.float64)

    return fun


def run_lbfgs(trainer, X, Y, sample_weight, *, pruner):
    """Train with scipy's L-BFGS-B, in segments between the pruner's rounds.

    Only the kept weights are handed to the optimizer, so pruned weights cannot
    move. One L-BFGS iteration counts as one epoch for the pruning schedule;
    each iteration is told to the callbacks' ``on_lbfgs_iteration`` hook, if
    they have one, through scipy's callback. ``max_iter`` and ``max_fun`` bound
    the whole fit.
    """
    state, settings = trainer.state, trainer.settings
    n_samples = X.shape[0]
    common = dict(
        activation=state.activation,
        out_activation=state.out_activation,
        alpha=settings.alpha,
        denom=n_samples * _weight_denominators(sample_weight, n_samples),
        sample_weight=sample_weight,
    )
    trainer.emit("on_fit_begin")
    state.shrink()
    listeners = [c for c in trainer.callbacks if hasattr(c, "on_lbfgs_iteration")]

    def each_iteration(xk):
        for callback in listeners:
            callback.on_lbfgs_iteration(trainer)

    n_fun = 0
    result = None
    first_iter = state.n_iter  # max_iter bounds this call, as for warm starts
    while True:
        free = _free_index(state)
        budget = settings.max_iter - (state.n_iter - first_iter)
        segment = pruner.iterations_to_next_round(state, budget)
        x0 = _pack(state, free)
        good = state.snapshot()
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                result = scipy.optimize.minimize(
                    _objective(state, free, X, Y, common),
                    x0,
                    method="L-BFGS-B",
                    jac=True,
                    callback=each_iteration if listeners else None,
                    options={
                        "maxfun": max(settings.max_fun - n_fun, 1),
                        "maxiter": segment,
                        "gtol": settings.tol,
                    },
                )
        except DivergenceError:
            state.restore(good)
            raise
        except KeyboardInterrupt:
            # Back to the start of this L-BFGS run: the last finished state.
            state.restore(good)
            trainer.interrupted = True
            trainer.emit("on_fit_end")
            return True
        _unpack(state, free, result.x)
        n_fun += result.nfev
        state.n_iter += min(result.nit, segment)
        state.loss = float(result.fun)
        state.loss_curve.append(state.loss)
        trainer.emit("on_segment_end")
        spent = (
            state.n_iter - first_iter >= settings.max_iter or n_fun >= settings.max_fun
        )
        if pruner.pending and not spent:
            pruner.after_segment(state, result.status == 0)
            if trainer.stop_requested:
                break
            if trainer.use_full_data and trainer.full_data is not None:
                X, Y, sample_weight = trainer.full_data
                trainer.full_data = None
                n_samples = X.shape[0]
                common["sample_weight"] = sample_weight
                common["denom"] = n_samples * _weight_denominators(
                    sample_weight, n_samples
                )
            continue
        break
    # The whole call's iterations, in MLPClassifier's words.
    total = scipy.optimize.OptimizeResult(result, nit=state.n_iter - first_iter)
    if not trainer.quiet:
        _check_optimize_result("lbfgs", total, settings.max_iter)
    trainer.emit("on_fit_end")
    return False
