"""Callbacks of the training loop: reporting, the stopping rule, held-out scores.

The loop (:mod:`skprune._optim.loop`) tells each callback, in order, about the
events of training: ``on_fit_begin``, ``on_epoch_begin``, ``on_batch_end``,
``on_epoch_end`` (with an :class:`EpochEnd` record that callbacks read and
fill in), ``on_round`` (a pruning round's record) and ``on_fit_end``. The
pruner (``_pruning.pruner.Pruner``) is one of them; so are MLPClassifier's
stopping rule, the verbose reporter and the bridge to scikit-learn's own
callbacks (``sklearn.callback``).
"""

import sys
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning


class Callback:
    """Base class: every hook does nothing."""

    def on_fit_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer):
        pass

    def on_batch_end(self, trainer):
        pass

    def on_epoch_end(self, trainer, epoch):
        pass

    def on_round(self, trainer, record):
        pass

    def on_segment_end(self, trainer):
        """L-BFGS: a segment of iterations between pruning rounds ended."""

    def on_fit_end(self, trainer):
        pass


@dataclass
class EpochEnd:
    """What the callbacks learn and decide at the end of an epoch, in order.

    ``score`` is the held-out score (early stopping); the pruner sets
    ``round_at_end`` (it pruned now, so this epoch's loss belongs to the model
    before the round), ``pending`` (rounds remain) and ``finetuning`` (the
    guaranteed epochs after the last round); the stopping rule sets ``stop``.
    """

    loss: float
    score: float = None
    round_at_end: bool = False
    pending: bool = False
    finetuning: bool = False
    stop: bool = False


class NoImprovement:
    """MLPClassifier's no-improvement test on the training loss or held-out score.

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


class Reporter(Callback):
    """The one place that prints: MLPClassifier's lines plus one per pruning round."""

    def __init__(self, verbose, stream=None):
        self.verbose = bool(verbose)
        self.stream = stream

    def message(self, text):
        if self.verbose:
            print(text, file=self.stream or sys.stdout)

    def iteration(self, n_iter, loss):
        self.message("Iteration %d, loss = %.8f" % (n_iter, loss))

    def on_segment_end(self, trainer):
        self.iteration(trainer.state.n_iter, trainer.state.loss)

    def on_epoch_end(self, trainer, epoch):
        self.iteration(trainer.state.n_iter, epoch.loss)
        if epoch.score is not None:
            self.message("Validation score: %f" % epoch.score)

    def on_round(self, trainer, record):
        layers = ", ".join("%.3f" % s for s in record["layer_sparsity"])
        line = "Pruning round %d at iteration %d: sparsity = %.4f (layers: %s)" % (
            record["round"],
            record["iteration"],
            record["sparsity"],
            layers,
        )
        if "regrown" in record:  # a dynamic sparse training update
            line += "; %d weights moved (%.3f of those kept)" % (
                record["regrown"],
                record["update_fraction"],
            )
        if "reference_score" in record:  # an auto step
            line += "; held-out score %.5f against %.5f, %s" % (
                record["validation_score"],
                record["reference_score"],
                "kept" if record["accepted"] else "reverted",
            )
            if record.get("start"):
                line += " (the first step: kept unless shown to lose)"
        if "layer" in record:  # a greedy candidate
            line += "; layer %d to %.3f: held-out loss %.5f, %s" % (
                record["layer"],
                record["target"],
                record["validation_loss"],
                "kept" if record["accepted"] else "reverted",
            )
        self.message(line)


class Progress(Callback):
    """``partial_fit`` with ``verbose``: where the pruning schedule stands after
    each call, through the reporter (placed after the pruner, which decides)."""

    def __init__(self, reporter, describe):
        self.reporter = reporter
        self.describe = describe  # describe(state) -> str

    def on_epoch_end(self, trainer, epoch):
        self.reporter.message("Pruning: " + self.describe(trainer.state))


class HeldOutScore(Callback):
    """Early stopping: score the network on the held-out split after each epoch."""

    def __init__(self, score):
        self.score = score  # score(state) -> float

    def on_epoch_end(self, trainer, epoch):
        epoch.score = self.score(trainer.state)
        trainer.state.validation_scores.append(epoch.score)


class StoppingRule(Callback):
    """MLPClassifier's stopping rule, applied once no pruning round is pending.

    A pruning round restarts the count: the pruned network is judged from the
    next epoch on. With early stopping, the best weights among those that
    meet the target are restored at the end.
    """

    def __init__(self, reporter, incremental):
        self.reporter = reporter
        self.incremental = incremental

    def on_fit_begin(self, trainer):
        s = trainer.settings
        self.rule = NoImprovement(s.tol, s.n_iter_no_change, trainer.early_stopping)
        if self.incremental:
            # partial_fit goes on counting where the last call stopped, as
            # MLPClassifier does (adaptive learning rates decay across calls).
            best = trainer.state.best_loss
            self.rule.best_loss = np.inf if best is None else best
            self.rule.count = trainer.state.no_improvement_count
        self.best = None
        self.converged = False
        self.pending = False

    def on_epoch_end(self, trainer, epoch):
        rule = self.rule
        plateau, improved = rule.update(epoch.loss, epoch.score)
        self.pending = epoch.pending
        if epoch.round_at_end:
            rule.reset()
            return
        if epoch.pending:
            return
        if improved and trainer.early_stopping:
            self.best = trainer.state.snapshot()
        if plateau and not epoch.finetuning:
            if trainer.state.optimizer.trigger_stopping(rule.message(), self.reporter):
                self.converged = epoch.stop = True
                return
            rule.count = 0

    def on_fit_end(self, trainer):
        state = trainer.state
        state.no_improvement_count = self.rule.count
        if (
            not (self.incremental or self.converged or trainer.interrupted)
            and not trainer.quiet
            and state.n_iter > 0
            and len(state.loss_curve) >= trainer.max_epochs
        ):
            warnings.warn(
                "Stochastic Optimizer: Maximum iterations (%d) "
                "reached and the optimization hasn't converged yet."
                % trainer.settings.max_iter,
                ConvergenceWarning,
            )
        if trainer.early_stopping:
            state.best_validation_score = self.rule.best_validation_score
            state.best_loss = None
            if self.best is not None:
                state.restore(self.best)
        else:
            state.best_loss = self.rule.best_loss
            state.best_validation_score = None


class SklearnCallbacks(Callback):
    """Bridge to scikit-learn's callback API (``sklearn.callback``, 1.9 and later).

    The fit is the root task; each epoch (each L-BFGS iteration) is a subtask,
    begun and ended around it as ``LogisticRegression`` does for its
    iterations. The model as it stands at the end of a subtask is handed over
    lazily (``reconstruction_attributes``), so that a callback that scores it
    (``ScoringMonitor``) gets a fitted estimator, and one that only counts
    (``ProgressBar``) costs nothing. A callback that asks to stop ends training
    after the current epoch.

    Parameters
    ----------
    context : sklearn.callback.CallbackContext
        The root context of this fit.
    estimator : estimator instance
    X, y : arrays
        The data of this fit, passed to the hooks.
    attributes : callable
        ``attributes(state)`` -> the fitted attributes of the model in ``state``.
    """

    def __init__(self, context, estimator, X, y, attributes):
        self.context = context
        self.estimator = estimator
        self.X, self.y = X, y
        self.attributes = attributes
        self.task = None

    def _begin(self):
        self.task = self.context.subcontext(task_name="epoch")
        self.task.call_on_fit_task_begin(estimator=self.estimator, X=self.X, y=self.y)

    def _end(self, state):
        task, self.task = self.task, None
        return task.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            reconstruction_attributes=lambda: self.attributes(state),
        )

    def on_epoch_begin(self, trainer):
        self._begin()

    def on_epoch_end(self, trainer, epoch):
        if self._end(trainer.state):
            epoch.stop = True

    def on_fit_begin(self, trainer):
        if trainer.settings.solver == "lbfgs":
            self._begin()

    def on_lbfgs_iteration(self, trainer):
        # scipy hands over no loss here; the weights are those of the iteration.
        self._end(trainer.state)
        self._begin()

    def on_fit_end(self, trainer):
        if self.task is not None:
            # An iteration that never ran (L-BFGS) or was cut short: an empty task.
            task, self.task = self.task, None
            task.call_on_fit_task_end(estimator=self.estimator)
