"""Optimizers, learning-rate rules, the stopping rule and the training drivers.

The drivers (:func:`run_stochastic`, :func:`run_lbfgs`) own the epoch loop: they
call ``_core`` for the loss and its gradients, update the weights, and hand control
to a pruner (see ``_pruning.Pruner``) after every update and every epoch. They work
on a :class:`TrainState` and nothing else, so the estimator can commit the result
only once training has finished cleanly.
"""

import copy
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from ._core import loss_and_gradients
from ._kernels import SparseInputLayer, compiled, use_kernels


class DivergenceError(FloatingPointError):
    """Raised inside a driver when the loss stops being finite."""


# ----------------------------------------------------------------------------
# Optimizers: tiny objects with ``update_params``; state lives next to the params.
# ----------------------------------------------------------------------------


# A layer keeping at most this share of its weights has its optimizer state stored
# for the kept weights only: the update gathers their gradients and scatters the
# step back, which is cheaper than a dense update once most weights are pruned.
# The fused kernels make the dense update so cheap that scattered access only pays
# at a much lower density; but with the kernels, compressed state also lets the
# input layer compute its products over the kept weights only. Measured on a
# 784-300-100-10 network, a whole minibatch step (products, backpropagation and
# update) costs the same both ways at about 0.15.
COMPRESS_DENSITY = 0.5
KERNEL_COMPRESS_DENSITY = 0.15


class _Optimizer:
    """Shared bookkeeping: per parameter, dense state or state of kept weights.

    ``self.index[i]`` is None for dense state (with ``self.masks[i]`` the mask
    to apply to the gradient, or None), or the flat indices of the kept weights
    whose state alone is stored.
    """

    state_names = ()

    def _init_state(self, params):
        self.index = [None] * len(params)
        self.masks = [None] * len(params)
        self._scratch = [np.empty_like(p) for p in params]
        for name in self.state_names:
            setattr(self, name, [np.zeros_like(p) for p in params])
        # Fused compiled steps (same results, see ``_kernels``) when available.
        self.use_kernels = use_kernels(sum(p.size for p in params))

    def apply_masks(self, masks):
        """Zero (or drop) the state of pruned weights so they never move again."""
        for i, mask in enumerate(masks):
            if mask is None:
                continue
            kept = np.flatnonzero(mask)
            old = self.index[i]
            limit = KERNEL_COMPRESS_DENSITY if self.use_kernels else COMPRESS_DENSITY
            if old is None and kept.size > limit * mask.size:
                self.masks[i] = mask.astype(self._scratch[i].dtype)
                for name in self.state_names:
                    getattr(self, name)[i] *= self.masks[i]
                continue
            # Select the kept entries from dense state, or from the previously
            # kept entries (masks only ever lose entries).
            select = kept if old is None else mask.ravel()[old]
            for name in self.state_names:
                states = getattr(self, name)
                states[i] = np.ascontiguousarray(states[i].ravel()[select])
            self.index[i] = kept
            self.masks[i] = None
            self._scratch[i] = np.empty(kept.size, dtype=self._scratch[i].dtype)

    def reset(self):
        """Forget the moments (keeping which weights are pruned), as if new."""
        for name in self.state_names:
            for state in getattr(self, name):
                state[...] = 0
        self.learning_rate = float(self.learning_rate_init)
        self.t = 0

    def update_params(self, params, grads, l2=None):
        """Take one step; ``params`` are modified in place.

        Parameters
        ----------
        params : list of ndarray
        grads : list of ndarray
            Gradients of the loss (overwritten). For a parameter whose state is
            compressed, the gradient may come packed: a 1-D array over the kept
            weights ``self.index[i]`` (the sparse input layer computes only those).
        l2 : list of float, default=None
            Per parameter, the coefficient ``c`` of an L2 term whose gradient
            ``c * param`` is added to ``grads`` here, where it is cheapest (for a
            layer with compressed state, on the kept weights only).
        """
        self._begin_step()
        kernels = compiled() if self.use_kernels else None
        scalars = None  # the kernels' per-step scalars, in the parameters' dtype
        for i, (p, g) in enumerate(zip(params, grads)):
            c = 0.0 if l2 is None else l2[i]
            idx = self.index[i]
            if kernels is not None and p.flags.c_contiguous and g.flags.c_contiguous:
                if scalars is None:
                    scalars = self._kernel_scalars(p.dtype.type)
                self._kernel_step(
                    kernels, i, p.reshape(-1), g.reshape(-1), p.dtype.type(c), scalars
                )
            elif idx is None:
                out = self._scratch[i]
                if c:
                    g += np.multiply(p, c, out=out)
                if self.masks[i] is not None:
                    g *= self.masks[i]
                self._step(i, g, out=out)
                p += out
            else:
                if g.size == p.size:  # else already packed: kept weights only
                    g = g.ravel()[idx]
                if c:
                    g += c * p.ravel()[idx]
                self._step(i, g, out=self._scratch[i])
                p.reshape(-1)[idx] += self._scratch[i]

    def _begin_step(self):
        pass

    def _flat_mask(self, i):
        mask = self.masks[i]
        return None if mask is None else mask.reshape(-1)


class SGD(_Optimizer):
    """Stochastic gradient descent with (Nesterov) momentum, in place.

    Learning-rate rules follow MLPClassifier: ``constant``, ``invscaling``
    (``learning_rate_init / (t + 1) ** power_t`` with ``t`` the samples seen) and
    ``adaptive`` (divide by 5 on a plateau, stop below 1e-6).
    """

    state_names = ("velocities",)

    def __init__(
        self,
        params,
        learning_rate_init=0.1,
        lr_schedule="constant",
        momentum=0.9,
        nesterov=True,
        power_t=0.5,
    ):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self._init_state(params)

    def _step(self, i, g, out):
        mu, lr = self.momentum, self.learning_rate
        v = self.velocities[i]
        v *= mu
        np.multiply(g, lr, out=out)
        v -= out
        if self.nesterov:
            np.multiply(v, mu, out=out)
            out -= lr * g
        else:
            out[...] = v

    def _kernel_scalars(self, dt):
        return dt(self.momentum), dt(self.learning_rate), bool(self.nesterov)

    def _kernel_step(self, kernels, i, p, g, c, scalars):
        idx = self.index[i]
        vel = self.velocities[i].reshape(-1)
        if idx is None:
            kernels["sgd"](p, g, self._flat_mask(i), vel, c, *scalars)
        else:
            kernels["sgd_kept"](p, g, idx, g.size != p.size, vel, c, *scalars)

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, reporter):
        """Return True to stop; with ``adaptive`` shrink the rate instead."""
        if self.lr_schedule != "adaptive":
            reporter.message(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            reporter.message(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        reporter.message(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2014), in place, with MLPClassifier's bias correction."""

    state_names = ("ms", "vs")

    def __init__(
        self, params, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8
    ):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self._init_state(params)

    def _begin_step(self):
        self.t += 1
        # A Python float: a NumPy float64 scalar would make every float32 update
        # that uses it compute in float64.
        self.learning_rate = float(
            self.learning_rate_init
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )

    def _kernel_scalars(self, dt):
        b1, b2 = self.beta_1, self.beta_2
        return (
            dt(b1),
            dt(1 - b1),
            dt(b2),
            dt(1 - b2),
            dt(self.epsilon),
            dt(-self.learning_rate),
        )

    def _kernel_step(self, kernels, i, p, g, c, scalars):
        m, v = self.ms[i].reshape(-1), self.vs[i].reshape(-1)
        idx = self.index[i]
        if idx is None:
            kernels["adam"](p, g, self._flat_mask(i), m, v, c, *scalars)
        else:
            kernels["adam_kept"](p, g, idx, g.size != p.size, m, v, c, *scalars)

    def _step(self, i, g, out):
        b1, b2 = self.beta_1, self.beta_2
        m, v = self.ms[i], self.vs[i]
        m *= b1
        np.multiply(g, 1 - b1, out=out)
        m += out
        v *= b2
        np.multiply(g, g, out=out)
        out *= 1 - b2
        v += out
        np.sqrt(v, out=out)
        out += self.epsilon
        np.divide(m, out, out=out)
        out *= -self.learning_rate

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, reporter):
        reporter.message(msg + " Stopping.")
        return True


def make_optimizer(solver, params, hp):
    """Build the optimizer named by ``solver`` from estimator parameters ``hp``."""
    if solver == "sgd":
        return SGD(
            params,
            hp["learning_rate_init"],
            hp["learning_rate"],
            hp["momentum"],
            hp["nesterovs_momentum"],
            hp["power_t"],
        )
    return Adam(
        params, hp["learning_rate_init"], hp["beta_1"], hp["beta_2"], hp["epsilon"]
    )


# ----------------------------------------------------------------------------
# Reporting and the stopping rule
# ----------------------------------------------------------------------------


class Reporter:
    """The one place that prints: MLPClassifier's lines plus one per pruning round."""

    def __init__(self, verbose, stream=None):
        self.verbose = bool(verbose)
        self.stream = stream

    def message(self, text):
        if self.verbose:
            print(text, file=self.stream or sys.stdout)

    def iteration(self, n_iter, loss):
        self.message("Iteration %d, loss = %.8f" % (n_iter, loss))

    def validation(self, score):
        self.message("Validation score: %f" % score)

    def pruning_round(self, record):
        layers = ", ".join("%.3f" % s for s in record["layer_sparsity"])
        line = "Pruning round %d at iteration %d: sparsity = %.4f (layers: %s)" % (
            record["round"],
            record["iteration"],
            record["sparsity"],
            layers,
        )
        if "validation_loss" in record:  # a greedy candidate
            line += "; layer %d to %.3f: held-out loss %.5f, %s" % (
                record["layer"],
                record["target"],
                record["validation_loss"],
                "kept" if record["accepted"] else "reverted",
            )
        self.message(line)


class Stopper:
    """MLPClassifier's no-improvement rule on the training loss or validation score.

    ``update`` returns True once the last ``n_iter_no_change`` epochs all failed to
    improve the best value by ``tol``.
    """

    def __init__(self, tol, n_iter_no_change, early_stopping):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.reset()

    def reset(self):
        self.count = 0
        self.best_loss = None if self.early_stopping else np.inf
        self.best_validation_score = -np.inf if self.early_stopping else None

    def update(self, loss, validation_score=None):
        """Record one epoch; return (plateau reached, new best)."""
        if self.early_stopping:
            improved = validation_score > self.best_validation_score
            if validation_score < self.best_validation_score + self.tol:
                self.count += 1
            else:
                self.count = 0
            if improved:
                self.best_validation_score = validation_score
        else:
            improved = loss < self.best_loss
            if loss > self.best_loss - self.tol:
                self.count += 1
            else:
                self.count = 0
            if improved:
                self.best_loss = loss
        return self.count > self.n_iter_no_change, improved

    def message(self):
        what = (
            "Validation score did not improve"
            if self.early_stopping
            else "Training loss did not improve"
        )
        return "%s more than tol=%f for %d consecutive epochs." % (
            what,
            self.tol,
            self.n_iter_no_change,
        )


# ----------------------------------------------------------------------------
# Training state
# ----------------------------------------------------------------------------


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
    plan: dict = field(default_factory=dict)

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


def _weight_denominators(sample_weight, n_samples):
    """Scale turning a batch size into the batch's expected share of the weight.

    Normalising each batch by the *global* weight total (rather than the batch's
    own) keeps batches whose weights are all zero harmless, and reduces to
    MLPClassifier's per-batch normalisation for unit weights and full batches.
    """
    if sample_weight is None:
        return 1.0
    return float(sample_weight.sum(dtype=np.float64)) / n_samples


def _batches(n_samples, batch_size):
    for start in range(0, n_samples, batch_size):
        yield slice(start, min(start + batch_size, n_samples))


def _sparse_input_layer(kernels, X, state, optimizer, current):
    """The input layer's products over its kept weights, or None (dense BLAS).

    Used with the compiled kernels once the optimizer stores the input layer's
    state for its kept weights only, on dense training data; ``current`` is
    reused while the layer is pruned the same way.
    """
    index = optimizer.index[0]
    if kernels is None or index is None or not isinstance(X, np.ndarray):
        return None
    if current is not None and current.matches(state.coefs[0], index):
        return current
    return SparseInputLayer(kernels, X, state.coefs[0], index)


def run_stochastic(
    state,
    X,
    Y,
    sample_weight,
    *,
    hp,
    rng,
    pruner,
    reporter,
    validation=None,
    incremental=False,
):
    """Train with SGD or Adam for up to ``hp["max_iter"]`` epochs (one if incremental).

    Parameters
    ----------
    state : TrainState
        Modified in place.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None
    hp : dict
        The estimator's parameters.
    rng : numpy.random.RandomState
        The fit's only random number generator (shuffling).
    pruner : _pruning.Pruner
        Called after every update and every epoch.
    reporter : Reporter
    validation : callable or None
        ``validation(state) -> score`` when early stopping is on.
    incremental : bool
        ``partial_fit``: a single epoch, no convergence warning.

    Returns
    -------
    interrupted : bool
        True if training stopped on KeyboardInterrupt.
    """
    n_samples = X.shape[0]
    if hp["batch_size"] == "auto":
        batch_size = min(200, n_samples)
    else:
        if hp["batch_size"] > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped"
            )
        batch_size = int(np.clip(hp["batch_size"], 1, n_samples))
    weight_scale = _weight_denominators(sample_weight, n_samples)
    stopper = Stopper(hp["tol"], hp["n_iter_no_change"], validation is not None)
    if incremental:
        stopper.best_loss = np.inf if state.best_loss is None else state.best_loss
    optimizer = state.optimizer
    common = dict(
        activation=state.activation,
        out_activation=state.out_activation,
        alpha=hp["alpha"],
    )
    sample_idx = np.arange(n_samples)
    first = None  # the sparse input layer in use, if any
    good = state.snapshot()
    best = None
    max_epochs = 1 if incremental else hp["max_iter"]
    converged = interrupted = False
    try:
        for _ in range(max_epochs):
            if hp["shuffle"]:
                # Same draw as sklearn.utils.shuffle, so a seed reproduces
                # MLPClassifier's batches.
                perm = np.arange(n_samples)
                rng.shuffle(perm)
                sample_idx = sample_idx[perm]
            rounds_before = pruner.n_rounds
            accumulated = 0.0
            kernels = compiled() if optimizer.use_kernels else None
            for batch in _batches(n_samples, batch_size):
                idx = sample_idx[batch] if hp["shuffle"] else batch
                sw = None if sample_weight is None else sample_weight[idx]
                n_batch = batch.stop - batch.start
                first = _sparse_input_layer(kernels, X, state, optimizer, first)
                if first is not None:
                    first.load(sample_idx[batch])
                loss, coef_grads, intercept_grads = loss_and_gradients(
                    None if first is not None else X[idx],
                    Y[idx],
                    state.coefs,
                    state.intercepts,
                    denom=n_batch * weight_scale,
                    sample_weight=sw,
                    penalty_gradient=False,
                    kernels=kernels,
                    first_layer=first,
                    **common,
                )
                if not np.isfinite(loss):
                    raise DivergenceError
                l2 = hp["alpha"] / (n_batch * weight_scale)
                optimizer.update_params(
                    state.params,
                    coef_grads + intercept_grads,
                    l2=[l2] * len(coef_grads) + [0.0] * len(intercept_grads),
                )
                accumulated += loss * n_batch
                state.t += n_batch
                pruner.after_update(state)

            state.n_iter += 1
            state.loss = accumulated / n_samples
            state.loss_curve.append(state.loss)
            reporter.iteration(state.n_iter, state.loss)
            score = None
            if validation is not None:
                score = validation(state)
                state.validation_scores.append(score)
                reporter.validation(score)
            plateau, improved = stopper.update(state.loss, score)
            optimizer.iteration_ends(state.t)

            pruned_during = pruner.n_rounds != rounds_before
            if pruner.pending and pruner.after_epoch(state, plateau):
                # This epoch's loss and score belong to the model before the
                # round: judge the pruned model from the next epoch on.
                stopper.reset()
                optimizer = state.optimizer
                good = state.snapshot()
                continue
            good = state.snapshot()
            if pruned_during:
                stopper.reset()
                stopper.update(state.loss, score)
                improved = True
            if pruner.pending:
                continue
            if improved and validation is not None:
                best = good
            if plateau and not pruner.finetuning(state):
                if optimizer.trigger_stopping(stopper.message(), reporter):
                    converged = True
                    break
                stopper.count = 0
            if incremental:
                break
    except DivergenceError:
        state.restore(good)
        raise
    except KeyboardInterrupt:
        state.restore(good)
        interrupted = True
    if not (incremental or converged or interrupted) and state.n_iter > 0:
        if not pruner.pending and len(state.loss_curve) >= max_epochs:
            warnings.warn(
                "Stochastic Optimizer: Maximum iterations (%d) "
                "reached and the optimization hasn't converged yet." % hp["max_iter"],
                ConvergenceWarning,
            )
    if validation is not None:
        state.best_validation_score = stopper.best_validation_score
        state.best_loss = None
        if best is not None:
            state.restore(best)
    else:
        state.best_loss = stopper.best_loss
        state.best_validation_score = None
    return interrupted


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


def run_lbfgs(state, X, Y, sample_weight, *, hp, pruner, reporter):
    """Train with scipy's L-BFGS-B, in segments between the pruner's rounds.

    Only the kept weights are handed to the optimizer, so pruned weights cannot
    move. One L-BFGS iteration counts as one epoch for the pruning schedule.
    ``hp["max_iter"]`` and ``hp["max_fun"]`` bound the whole fit.
    """
    n_samples = X.shape[0]
    denom = n_samples * _weight_denominators(sample_weight, n_samples)
    common = dict(
        activation=state.activation,
        out_activation=state.out_activation,
        alpha=hp["alpha"],
        denom=denom,
        sample_weight=sample_weight,
    )
    n_fun = 0
    result = None
    first_iter = state.n_iter  # max_iter bounds this call, as for warm starts
    while True:
        free = _free_index(state)

        def fun(x, free=free):
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
            grad = np.concatenate(parts + intercept_grads).astype(np.float64)
            return loss, grad

        budget = hp["max_iter"] - (state.n_iter - first_iter)
        segment = pruner.iterations_to_next_round(state, budget)
        x0 = _pack(state, free)
        good = state.snapshot()
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                result = scipy.optimize.minimize(
                    fun,
                    x0,
                    method="L-BFGS-B",
                    jac=True,
                    options={
                        "maxfun": max(hp["max_fun"] - n_fun, 1),
                        "maxiter": segment,
                        "gtol": hp["tol"],
                    },
                )
        except DivergenceError:
            state.restore(good)
            raise
        except KeyboardInterrupt:
            # Back to the start of this L-BFGS run: the last finished state.
            state.restore(good)
            return True
        _unpack(state, free, result.x)
        n_fun += result.nfev
        state.n_iter += min(result.nit, segment)
        state.loss = float(result.fun)
        state.loss_curve.append(state.loss)
        reporter.iteration(state.n_iter, state.loss)
        spent = state.n_iter - first_iter >= hp["max_iter"] or n_fun >= hp["max_fun"]
        if pruner.pending and not spent:
            pruner.after_epoch(state, result.status == 0, force=True)
            continue
        break
    if result.status != 0:
        msg = "lbfgs failed to converge after %d iteration(s) (status=%d):\n%s\n" % (
            state.n_iter - first_iter,
            result.status,
            result.message,
        )
        if state.n_iter - first_iter >= hp["max_iter"]:
            msg += (
                "\nIncrease the number of iterations to improve the "
                "convergence (max_iter=%d)." % hp["max_iter"]
            )
        warnings.warn(msg, ConvergenceWarning)
    return False
