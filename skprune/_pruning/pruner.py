"""The pruner: a callback of the training loop that applies a schedule.

It owns the :class:`~skprune._pruning.plan.Plan` (kept in ``state.plan`` so that
it survives between ``partial_fit`` calls), asks its schedule when to prune,
scores the weights with the criterion, lets the granularity turn a target into
masks, and records one entry per round in ``state.history``. Rounds are told
to the other callbacks with an ``on_round`` event; the epoch record says
whether a round happened and whether the schedule still holds training open.

The loop trains on arrays from which dead hidden units have been removed
(``TrainState.shrink``); the pruner counts and allocates weights against the
network as trained, so each of its entry points works on the state with those
units put back, and removes the units its rounds left dead on the way out
(:meth:`Pruner.trained_shape`).
"""

from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp

from .._core import gradient_statistics, loss_and_gradients, mean_loss
from .._optim.callbacks import Callback, NoImprovement
from .allocation import GRANULARITIES, SCOPES
from .criteria import CRITERIA, NEEDS_STATISTICS
from .masks import kept_counts, layer_sparsity, overall_sparsity, sparsity_against
from .plan import Plan
from .schedules import SCHEDULES, Auto, RigL, paired_change

# Taylor and OBD statistics are gathered on at most this many training samples.
STATS_MAX_SAMPLES = 2048

# ``sparsity="auto"``: the search proposes steps up to this sparsity.
AUTO_MAX_SPARSITY = 0.99


def constant_inputs(X):
    """``(rows, values)``: the input features constant over the rows of ``X``
    (dense or sparse) and their values, or None when there are none (or fewer
    than two rows, which say nothing)."""
    if X.shape[0] < 2:
        return None
    if sp.issparse(X):
        low = X.min(axis=0).toarray().ravel()
        high = X.max(axis=0).toarray().ravel()
    else:
        low, high = X.min(axis=0), X.max(axis=0)
    rows = np.flatnonzero(low == high)
    if not rows.size:
        return None
    return rows, np.asarray(low[rows], dtype=X.dtype)


class Pruner(Callback):
    """Applies a schedule's rounds to a ``TrainState`` during training.

    Time is counted in epochs (one ``partial_fit`` call is one epoch; one
    L-BFGS iteration is one epoch): the schedule prunes at epoch ends, when the
    network has learned and then each time it has recovered (see
    :mod:`~skprune._pruning.schedules`).

    Parameters
    ----------
    criterion, scope, granularity, schedule : str
        Keys of ``CRITERIA``, ``SCOPES``, ``GRANULARITIES`` and ``SCHEDULES``.
    sparsity : float or "auto"
        Final target, a fraction of all weights; "auto" searches for the
        sparsest network whose held-out score stays within ``tol``.
    n_steps : int
        Number of pruning rounds (auto: steps of the ladder to its ceiling).
    finetune_iter : int
        Epochs of training guaranteed after the last round.
    tol : float
        Greedy: largest accepted rise of the held-out loss over the reference;
        auto: largest accepted fall of the held-out score.
    rng : numpy.random.RandomState
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
    ):
        self.auto = sparsity == "auto"
        self.criterion = criterion
        self.granularity = GRANULARITIES[granularity](SCOPES[scope]())
        self.schedule_name = "auto" if self.auto else schedule
        self.schedule = Auto() if self.auto else SCHEDULES[schedule]()
        self.sparsity = AUTO_MAX_SPARSITY if self.auto else float(sparsity)
        self.n_steps = n_steps
        self.finetune_iter = finetune_iter
        self.tol = tol
        self.rng = rng
        self.plan = Plan()
        self.trainer = None
        self._expanded = False
        self.validation_data = None
        self._score = None
        self._contributions = None
        self.reference_contributions = None
        # sparsity="auto" before its refit: training stops once the search ends.
        self.search_only = False
        self.max_iter = None
        self.constant_inputs = None

    @contextmanager
    def trained_shape(self, state):
        """Work on ``state`` with its removed units back in place, then remove
        the units left dead (nested uses work on the same expanded state)."""
        if self._expanded:
            yield
            return
        self._expanded = True
        state.expand()
        try:
            yield
        finally:
            self._expanded = False
            state.shrink()

    @property
    def moves_weights(self):
        """Dynamic sparse training: the topology changes at epoch ends."""
        return isinstance(self.schedule, RigL)

    @property
    def needs_validation(self):
        return self.schedule.needs_validation

    # -- set-up ------------------------------------------------------------
    def settings(self, max_iter):
        """The parameters a plan is laid out from."""
        return {
            "sparsity": self.sparsity,
            "schedule": self.schedule_name,
            "n_steps": self.n_steps,
            "finetune_iter": self.finetune_iter,
            "granularity": self.granularity.name,
            "scope": self.granularity.scope.name,
            "max_iter": max_iter,
        }

    def _plan_action(self, state, max_iter):
        """How to go on from ``state.plan``: "resume", "retarget" or "new".

        An unfinished plan laid out for the same settings is resumed; one that
        differs in ``sparsity`` alone keeps its remaining rounds and aims them
        at the new target. A plan saved without its settings is taken to match.
        """
        plan = state.plan
        if not plan.unfinished:
            return "new"
        settings = self.settings(max_iter)
        saved = settings if plan.settings is None else plan.settings
        if saved == settings:
            return "resume"
        if (
            not self.schedule.needs_validation
            and {**saved, "sparsity": self.sparsity} == settings
        ):
            return "retarget"
        return "new"

    def can_resume(self, state, max_iter):
        """Whether ``start(resume=True)`` goes on with the plan in ``state``."""
        return self._plan_action(state, max_iter) != "new"

    def _retarget(self, state, max_iter):
        """Aim the remaining rounds of the plan at ``self.sparsity``."""
        plan = self.plan
        plan.settings = self.settings(max_iter)
        current = self.granularity.current(state)
        if self.sparsity <= current or self.granularity.reached(state, self.sparsity):
            # Pruned weights are never regrown: nothing is left to prune.
            plan.targets = []
            return
        self.schedule.retarget(self, plan, current)

    def start(
        self,
        state,
        *,
        max_iter,
        stochastic,
        train_data,
        validation_data=None,
        validation_score=None,
        validation_contributions=None,
        batch_size=200,
        resume=False,
        trained=False,
    ):
        """Lay out the rounds of this fit from where ``state`` stands.

        An unfinished plan kept in ``state.plan`` (``partial_fit``) is resumed
        when it was laid out for the same settings, with its remaining rounds
        aimed at the new target when only ``sparsity`` changed; after a change
        of schedule, ``pruning_steps``, ``finetune_iter``, scope, granularity or
        ``max_iter`` a new plan starts from the current sparsity. ``trained``
        says that the network arrives trained (warm start, ``from_mlp``): the
        first round is due at once.

        Input features that are constant over a ``fit``'s training data
        (:func:`constant_inputs`) lose their weights first (not in
        ``partial_fit``, whose chunks say nothing of the data to come).
        """
        self.stochastic = stochastic
        self.max_iter = max_iter
        self.train_data = train_data
        self.constant_inputs = (
            None
            if resume or self.granularity.name != "weight" or self.sparsity <= 0
            else constant_inputs(train_data[0])
        )
        self.validation_data = validation_data
        self._score = validation_score
        self._contributions = validation_contributions
        self.batch_size = batch_size
        with self.trained_shape(state):
            self._lay_out(state, max_iter, resume, trained)

    def _lay_out(self, state, max_iter, resume, trained):
        self.granularity.check_network(state.coefs)
        if not self.auto:
            self.granularity.check(state, self.sparsity)
        action = self._plan_action(state, max_iter) if resume else "new"
        if action != "new":
            self.plan = state.plan
            if self.plan.end is None:  # saved by a version timed by max_iter
                self.plan.end = state.n_iter + max_iter
            if action == "retarget":
                self._retarget(state, max_iter)
            return
        self.plan = Plan()
        state.plan = self.plan
        if self.sparsity <= 0 or (
            not self.auto and self.granularity.reached(state, self.sparsity)
        ):
            return
        plan = self.plan
        plan.settings = self.settings(max_iter)
        plan.phase = "ready" if trained else "dense"
        plan.phase_start = state.n_iter
        plan.end = state.n_iter + max_iter
        if self.schedule.rewinds_learning_rate:
            self.record_learning_rate(state)
        self.schedule.lay_out(self, plan, state, self.granularity.current(state))

    # -- queries -------------------------------------------------------------
    @property
    def pending(self):
        return self.plan.pending

    def finetuning(self, state):
        """True during the guaranteed fine-tuning epochs after the last round."""
        until = self.plan.finetune_until
        return until is not None and state.n_iter < until

    def iterations_to_next_round(self, state, budget):
        """L-BFGS: iterations to run before the schedule must be asked again."""
        budget = max(budget, 1)
        if not self.pending:
            return budget
        with self.trained_shape(state):
            due = self.schedule.iterations_to_next_round(self, state)
        return int(min(max(due, 1), budget))

    def progress(self, state):
        """Where the schedule stands, in a few words (verbose, progress bars)."""
        plan = self.plan
        done = sum(1 for r in state.history if r.get("accepted"))
        # Removed units keep no weight: the arrays' kept weights are all.
        _, sparsity = sparsity_against(
            kept_counts(state.masks, state.coefs), state.dense_sizes()
        )
        target = "auto" if self.auto else f"{self.sparsity:.3f}"
        if plan.pending:
            phase = (
                "training dense"
                if plan.phase in ("dense", "ready")
                else f"{done} rounds done, {plan.rounds_left} left"
            )
        else:
            phase = f"{done} rounds done, target reached" if done else "dense"
        return f"sparsity {sparsity:.3f} (target {target}): {phase}"

    def validation_score(self, state):
        """Held-out score of the network as it stands (NaN counts as -inf)."""
        score = float(self._score(state))
        return score if np.isfinite(score) else -np.inf

    def set_reference(self, state):
        """Keep the held-out samples' smoothed scores of the network as it
        stands: what ``sparsity="auto"`` judges its steps against (kept for
        this fit only)."""
        self.reference_contributions = (
            None if self._contributions is None else self._contributions(state)
        )

    def held_out_change(self, state):
        """The paired change of the held-out samples' smoothed scores since
        :meth:`set_reference`: ``(mean, standard error)``; ``(0, 0)`` when
        there is nothing to compare."""
        if self._contributions is None or self.reference_contributions is None:
            return 0.0, 0.0
        weights = self.validation_data[2] if self.validation_data else None
        return paired_change(
            self._contributions(state), self.reference_contributions, weights
        )

    # -- the loop's events ---------------------------------------------------
    def on_fit_begin(self, trainer):
        self.trainer = trainer
        state = trainer.state
        # The dense phase ends (and iterative rounds end) when the loss, or the
        # held-out score, has stopped improving by the stopping rule's test.
        self._plateau = NoImprovement(
            trainer.settings.tol,
            trainer.settings.n_iter_no_change,
            trainer.early_stopping,
        )
        saved = self.plan.plateau
        if saved is not None:  # partial_fit: the counts go on across calls
            count, best_loss, best_score = saved
            self._plateau.count = count
            self._plateau.best_loss = best_loss
            self._plateau.best_validation_score = best_score
        if self.pending and self.plan.phase == "ready":
            with self.trained_shape(state):
                self.schedule.after_epoch(self, state, state.loss, False, force=True)

    def on_epoch_end(self, trainer, epoch):
        state = trainer.state
        plan = self.plan
        changed = False
        if self.pending:
            p = self._plateau
            plateau, _ = p.update(epoch.loss, epoch.score)
            if plan.round_first is None:
                plan.round_first = epoch.loss
            if plan.round_best is None or epoch.loss < plan.round_best - p.tol:
                plan.round_best, plan.round_count = epoch.loss, 0
            else:
                plan.round_count += 1
            if self.schedule.acts(self, plan, state, epoch.loss, plateau):
                with self.trained_shape(state):
                    changed = self.schedule.after_epoch(
                        self, state, epoch.loss, plateau
                    )
            plan.plateau = [p.count, p.best_loss, p.best_validation_score]
        elif self.schedule.updates(plan, state):
            with self.trained_shape(state):
                self.schedule.update(self, state)
        epoch.round_at_end = changed
        if trainer.stop_requested:
            epoch.stop = True
        epoch.pending = self.pending
        epoch.finetuning = self.finetuning(state)

    def after_segment(self, state, converged):
        """L-BFGS: a segment ended where the schedule is due (or it converged)."""
        if self.pending:
            with self.trained_shape(state):
                if self.plan.rewind is None and self.schedule.rewinds:
                    self.record_rewind(state)
                self.schedule.after_epoch(
                    self, state, state.loss, converged, force=True
                )

    def finish(self, state):
        """End of ``fit``: a schedule cut short by ``max_iter`` jumps to its end."""
        if self.pending:
            with self.trained_shape(state):
                self.schedule.finish(self, state)
        self.plan.checkpoint = None

    # -- phases ----------------------------------------------------------------
    def start_phase(self, state, loss):
        """A round's recovery begins now; ``loss`` is the loss before it."""
        plan = self.plan
        plan.phase = "rounds"
        plan.phase_start = state.n_iter
        plan.before_loss = None if loss is None else float(loss)
        plan.round_first = plan.round_best = None
        plan.round_count = 0
        if hasattr(self, "_plateau"):
            self._plateau.reset()
        if not plan.pending:
            self.end_rounds(state)

    def end_rounds(self, state):
        """No round remains: the guaranteed fine-tuning starts (auto: on all
        the training data, the held-out part included)."""
        self.plan.finetune_until = state.n_iter + self.finetune_iter
        if self.auto and self.trainer is not None:
            self.trainer.use_full_data = True
            self.trainer.stop_requested = self.search_only

    def checkpoint(self, state):
        self.plan.checkpoint = state.snapshot()

    def revert(self, state):
        """Back to the last checkpoint: weights, biases, masks; fresh moments."""
        coefs, intercepts, masks, _ = self.plan.checkpoint
        for current, saved in zip(state.coefs + state.intercepts, coefs + intercepts):
            current[...] = saved
        state.masks = [None if m is None else m.copy() for m in masks]
        if state.optimizer is not None:
            from .._optim.optimizers import make_optimizer

            settings = self.trainer.settings
            state.attach_optimizer(
                make_optimizer(settings.solver, state.params, settings)
            )

    # -- work ------------------------------------------------------------------
    def _sample(self):
        """The training data, or ``STATS_MAX_SAMPLES`` rows of it at random."""
        X, Y, sw = self.train_data
        n = X.shape[0]
        if n > STATS_MAX_SAMPLES:
            idx = np.sort(self.rng.choice(n, STATS_MAX_SAMPLES, replace=False))
            X, Y = X[idx], Y[idx]
            sw = None if sw is None else sw[idx]
        return X, Y, sw

    def _statistics(self, state):
        if self.criterion not in NEEDS_STATISTICS:
            return None
        X, Y, sw = self._sample()
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

    def scores(self, state):
        """One score per weight by the criterion, in float64; the weights of
        constant input features rank below all others (they are pruned first,
        in the criterion's order)."""
        scores = CRITERIA[self.criterion](
            state.coefs, self._statistics(state), self.rng
        )
        scores = [np.array(s, dtype=np.float64) for s in scores]
        if self.constant_inputs is not None:
            first = scores[0]
            first[self.constant_inputs[0]] -= np.ptp(first) + 1.0
        return scores

    def folded_intercepts(self, state, before, after, coefs):
        """The biases once the first layer's mask goes from ``before`` to
        ``after`` (None: all kept): a weight of ``coefs[0]`` from an input
        feature that is constant (value ``c`` in every training row) and that
        the change prunes adds ``c * w`` to its unit's bias, so that the
        network computes the same on that data. Returns ``state.intercepts``
        when nothing folds."""
        if self.constant_inputs is None or after is None:
            return state.intercepts
        rows, values = self.constant_inputs
        if not values.any():
            return state.intercepts
        cut = ~after[rows] if before is None else before[rows] & ~after[rows]
        weights = coefs[0][rows] * cut
        first = state.intercepts[0] + (values[:, None] * weights).sum(axis=0)
        return [first.astype(state.intercepts[0].dtype), *state.intercepts[1:]]

    def set_masks(self, state, masks):
        """Install ``masks``, folding the pruned weights of constant inputs
        into the biases (:meth:`folded_intercepts`)."""
        folded = self.folded_intercepts(state, state.masks[0], masks[0], state.coefs)
        if folded is not state.intercepts:
            state.intercepts[0][...] = folded[0]
        state.set_masks(masks)

    def apply(self, state, target, rewind, record=True, rewind_learning_rate=False):
        """Prune to ``target`` now; rewind the kept weights and the learning
        rate if asked."""
        granularity = self.granularity
        scores = granularity.scores(self.criterion, self.scores(state), state)
        counts = granularity.counts(state, target, scores)
        self.set_masks(state, granularity.masks(state, scores, counts))
        if rewind and self.plan.rewind is not None:
            self._rewind(state)
        extra = {}
        saved = self.plan.learning_rate_rewind
        if rewind_learning_rate and saved is not None and state.optimizer is not None:
            rate = state.optimizer.rewind_schedule(saved, state.t)
            if rate is not None:
                extra["learning_rate"] = rate
        if record:
            self.record(state, target, accepted=True, **extra)

    def dense_gradient(self, state):
        """Gradient of the data loss for every weight, pruned ones included."""
        X, Y, sw = self._sample()
        total = X.shape[0] if sw is None else float(sw.sum())
        _, grads, _ = loss_and_gradients(
            X,
            Y,
            state.coefs,
            state.intercepts,
            activation=state.activation,
            out_activation=state.out_activation,
            alpha=0.0,
            denom=max(total, 1e-300),
            sample_weight=sw,
        )
        return grads

    def move_weights(self, state, fraction, grow):
        """Move ``fraction`` of each pruned layer's kept weights: drop those
        with the lowest criterion score, regrow as many where the dense
        gradient is largest (``grow="gradient"``) or at random (``"random"``).

        As in RigL's reference code, a dropped weight may be chosen again, and
        then stays as it was; a weight regrown elsewhere starts at zero with
        zero optimizer state (the drops are installed first, which zeroes
        both). Each layer keeps its count. Records one entry of
        ``pruning_history_``.
        """
        scores = self.scores(state)
        grads = self.dense_gradient(state) if grow == "gradient" else None
        kept_only, moved = [], []
        n_moved = 0
        for i, (mask, score) in enumerate(zip(state.masks, scores)):
            kept = None if mask is None else np.flatnonzero(mask)
            # Where weights may grow: anywhere pruned, except in the rows of
            # constant inputs (no better than the bias).
            growable = None if mask is None else ~mask
            if growable is not None and i == 0 and self.constant_inputs is not None:
                growable = growable.copy()
                growable[self.constant_inputs[0]] = False
            n = (
                0
                if kept is None
                else min(int(fraction * kept.size), int(growable.sum()))
            )
            if n == 0:
                kept_only.append(mask)
                moved.append(mask)
                continue
            drop = kept[np.argpartition(score.ravel()[kept], n - 1)[:n]]
            after = mask.copy().ravel()
            after[drop] = False
            # A dropped weight may be chosen again (not in a constant row).
            growable = growable.ravel().copy()
            growable[drop] = True
            if i == 0 and self.constant_inputs is not None:
                growable.reshape(mask.shape)[self.constant_inputs[0]] = False
            free = np.flatnonzero(growable)
            if grads is None:
                key = self.rng.uniform(size=free.size)
            else:
                key = np.abs(grads[i].ravel()[free]).astype(np.float64)
            after[free[np.argpartition(-key, n - 1)[:n]]] = True
            after = after.reshape(mask.shape)
            kept_only.append(mask & after)
            moved.append(after)
            n_moved += int(np.count_nonzero(after & ~mask))
        self.set_masks(state, kept_only)
        self.set_masks(state, moved)
        self.record(
            state,
            self.sparsity,
            accepted=True,
            update_fraction=float(fraction),
            regrown=int(n_moved),
        )

    def validation_loss(self, state, coefs, intercepts=None):
        """Held-out loss of the network with weights ``coefs`` (and biases
        ``intercepts``, default the state's)."""
        X, Y, sw = self.validation_data
        intercepts = state.intercepts if intercepts is None else intercepts
        return mean_loss(
            X, Y, coefs, intercepts, state.activation, state.out_activation, sw
        )

    def record_rewind(self, state):
        self.plan.rewind = (
            [c.copy() for c in state.coefs],
            [b.copy() for b in state.intercepts],
        )

    def record_learning_rate(self, state):
        """Keep where the learning-rate schedule stands, for rounds to rewind
        it to (nothing to keep without an optimizer: L-BFGS)."""
        optimizer = state.optimizer
        self.plan.learning_rate_rewind = (
            None if optimizer is None else optimizer.schedule_state(state.t)
        )

    def _rewind(self, state):
        coefs, intercepts = self.plan.rewind
        for current, early in zip(state.intercepts, intercepts):
            current[...] = early
        # The early weights of pruned constant inputs go into the early biases.
        folded = self.folded_intercepts(state, None, state.masks[0], coefs)
        if folded is not state.intercepts:
            state.intercepts[0][...] = folded[0]
        for current, early, mask in zip(state.coefs, coefs, state.masks):
            current[...] = early if mask is None else early * mask
        if state.optimizer is not None:
            state.optimizer.reset()
            state.optimizer.apply_masks(list(state.masks) + [None] * len(intercepts))

    def record(self, state, target, accepted, **extra):
        """Append to ``state.history``: one record per round (greedy: per
        candidate, ``round`` being the search round), and tell the loop."""
        record = {
            "round": _last_round(state.history) + 1,
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
        if self.trainer is not None:
            self.trainer.emit("on_round", record)


def _last_round(history):
    """The last round of the network's own training (0 if none): the records of
    the search that ``sparsity="auto"`` ran before its refit do not count."""
    own = [record for record in history if not record.get("search")]
    return own[-1]["round"] if own else 0
