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


class DivergenceError(FloatingPointError):
    """Raised inside a driver when the loss stops being finite."""


# ----------------------------------------------------------------------------
# Optimizers: tiny objects with ``update_params``; state lives next to the params.
# ----------------------------------------------------------------------------


class SGD:
    """Stochastic gradient descent with (Nesterov) momentum, in place.

    Learning-rate rules follow MLPClassifier: ``constant``, ``invscaling``
    (``learning_rate_init / (t + 1) ** power_t`` with ``t`` the samples seen) and
    ``adaptive`` (divide by 5 on a plateau, stop below 1e-6).
    """

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
        self.velocities = [np.zeros_like(p) for p in params]
        self._scratch = [np.empty_like(p) for p in params]

    def update_params(self, params, grads):
        """Take one step; ``params`` are modified in place."""
        mu, lr = self.momentum, self.learning_rate
        for p, g, v, s in zip(params, grads, self.velocities, self._scratch):
            v *= mu
            np.multiply(g, lr, out=s)
            v -= s
            if self.nesterov:
                np.multiply(v, mu, out=s)
                s -= lr * g
                p += s
            else:
                p += v

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

    def apply_masks(self, masks):
        """Zero the state of pruned weights so that they never move again."""
        for v, mask in zip(self.velocities, masks):
            if mask is not None:
                v *= mask


class Adam:
    """Adam (Kingma & Ba 2014), in place, with MLPClassifier's bias correction."""

    def __init__(
        self, params, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8
    ):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]
        self._scratch = [np.empty_like(p) for p in params]

    def update_params(self, params, grads):
        """Take one step; ``params`` are modified in place."""
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        self.learning_rate = (
            self.learning_rate_init * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        )
        step = -self.learning_rate
        for p, g, m, v, s in zip(params, grads, self.ms, self.vs, self._scratch):
            m *= b1
            np.multiply(g, 1 - b1, out=s)
            m += s
            v *= b2
            np.multiply(g, g, out=s)
            s *= 1 - b2
            v += s
            np.sqrt(v, out=s)
            s += self.epsilon
            np.divide(m, s, out=s)
            s *= step
            p += s

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, reporter):
        reporter.message(msg + " Stopping.")
        return True

    def apply_masks(self, masks):
        """Zero the moments of pruned weights so that they never move again."""
        for m, v, mask in zip(self.ms, self.vs, masks):
            if mask is not None:
                m *= mask
                v *= mask


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
        self.message(
            "Pruning round %d at iteration %d: sparsity = %.4f (layers: %s)"
            % (record["round"], record["iteration"], record["sparsity"], layers)
        )


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
    plan: list = field(default_factory=list)

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
        coefs, intercepts, masks = snapshot
        self.coefs = [c.copy() for c in coefs]
        self.intercepts = [b.copy() for b in intercepts]
        self.masks = [None if m is None else m.copy() for m in masks]

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
            for batch in _batches(n_samples, batch_size):
                idx = sample_idx[batch] if hp["shuffle"] else batch
                sw = None if sample_weight is None else sample_weight[idx]
                n_batch = batch.stop - batch.start
                loss, coef_grads, intercept_grads = loss_and_gradients(
                    X[idx],
                    Y[idx],
                    state.coefs,
                    state.intercepts,
                    denom=n_batch * weight_scale,
                    sample_weight=sw,
                    masks=state.masks,
                    **common,
                )
                if not np.isfinite(loss):
                    raise DivergenceError
                optimizer.update_params(state.params, coef_grads + intercept_grads)
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
            good = state.snapshot()

            if pruner.pending:
                if pruner.after_epoch(state, plateau):
                    stopper.reset()
                continue
            if pruner.n_rounds != rounds_before:
                # The last round happened during this epoch: judge the pruned model
                # on its own, from now on.
                stopper.reset()
                stopper.update(state.loss, score)
                improved = True
            if improved and validation is not None:
                best = good
            if plateau:
                if optimizer.trigger_stopping(stopper.message(), reporter):
                    converged = True
                    break
                stopper.count = 0
            if incremental:
                break
    except DivergenceError:
        state.restore(good)
        state.optimizer = None
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
        if best is not None:
            state.restore(best)
    else:
        state.best_loss = stopper.best_loss
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

        budget = hp["max_iter"] - state.n_iter
        segment = pruner.iterations_to_next_round(state, budget)
        x0 = _pack(state, free)
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
        _unpack(state, free, result.x)
        n_fun += result.nfev
        state.n_iter += min(result.nit, segment)
        state.loss = float(result.fun)
        reporter.iteration(state.n_iter, state.loss)
        if pruner.pending and state.n_iter < hp["max_iter"] and n_fun < hp["max_fun"]:
            pruner.after_epoch(state, result.status == 0, force=True)
            continue
        break
    if result.status != 0:
        n_iter = min(result.nit, hp["max_iter"])
        msg = "lbfgs failed to converge after %d iteration(s) (status=%d):\n%s\n" % (
            state.n_iter,
            result.status,
            result.message,
        )
        if n_iter >= segment:
            msg += (
                "\nIncrease the number of iterations to improve the "
                "convergence (max_iter=%d)." % hp["max_iter"]
            )
        warnings.warn(msg, ConvergenceWarning)
    return False
