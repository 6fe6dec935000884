"""The pruner: a callback of the training loop that applies a schedule.

It owns the :class:`~skprune._pruning.plan.Plan` (kept in ``state.plan`` so that
it survives between ``partial_fit`` calls), asks its schedule when to prune,
scores the weights with the criterion, lets the granularity turn a target into
masks, and records one entry per round in ``state.history``. Rounds are told
to the other callbacks with an ``on_round`` event; the epoch record says
whether a round happened and whether the schedule still holds training open.
"""

import numpy as np

from .._core import gradient_statistics, mean_loss
from .._optim.callbacks import Callback, NoImprovement
from .allocation import GRANULARITIES, SCOPES
from .criteria import CRITERIA, NEEDS_STATISTICS
from .masks import layer_sparsity, overall_sparsity
from .plan import Plan
from .schedules import SCHEDULES

# Taylor and OBD statistics are gathered on at most this many training samples.
STATS_MAX_SAMPLES = 2048

# ``sparsity="auto"``: the greedy search proposes levels up to this sparsity.
AUTO_MAX_SPARSITY = 0.99


class Pruner(Callback):
    """Applies a schedule's rounds to a ``TrainState`` during training.

    Progress is counted in samples seen (``state.t``) for the stochastic solvers
    and in iterations (``state.n_iter``) for L-BFGS; one epoch is
    ``epoch_samples`` samples or one iteration.

    Parameters
    ----------
    criterion, scope, granularity, schedule : str
        Keys of ``CRITERIA``, ``SCOPES``, ``GRANULARITIES`` and ``SCHEDULES``.
    sparsity : float or "auto"
        Final target; "auto" searches greedily with no fixed target.
    n_steps : int
        Number of pruning rounds.
    finetune_iter : int
        Epochs of training guaranteed after the last round.
    tol : float
        Greedy: largest accepted rise of the held-out loss over the reference.
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
        self.schedule_name = "greedy" if self.auto else schedule
        self.schedule = SCHEDULES[self.schedule_name]()
        self.sparsity = AUTO_MAX_SPARSITY if self.auto else float(sparsity)
        self.n_steps = n_steps
        self.finetune_iter = finetune_iter
        self.tol = tol
        self.rng = rng
        self.n_rounds = 0
        self.plan = Plan()
        self.trainer = None

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
        if not plan.pending:
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
            if plan.positions is not None:
                plan.positions = []
            plan.caps = []
            return
        self.schedule.retarget(self, plan, current)

    def start(
        self,
        state,
        *,
        epoch_samples,
        updates_per_epoch,
        max_iter,
        stochastic,
        train_data,
        validation_data=None,
        batch_size=200,
        resume=False,
    ):
        """Lay out the rounds of this fit from where ``state`` stands.

        An unfinished plan kept in ``state.plan`` (``partial_fit``) is resumed
        when it was laid out for the same settings, with its remaining rounds
        aimed at the new target when only ``sparsity`` changed; after a change
        of schedule, ``pruning_steps``, ``finetune_iter``, scope, granularity or
        ``max_iter`` a new plan starts from the current sparsity.
        """
        self.unit = epoch_samples if stochastic else 1
        self.stochastic = stochastic
        self.train_data = train_data
        self.validation_data = validation_data
        self.batch_size = batch_size
        self.granularity.check_network(state.coefs)
        if not self.auto:
            self.granularity.check(state, self.sparsity)
        action = self._plan_action(state, max_iter) if resume else "new"
        if action != "new":
            self.plan = state.plan
            if action == "retarget":
                self._retarget(state, max_iter)
            return
        self.plan = Plan()
        state.plan = self.plan
        if self.sparsity <= 0 or (
            not self.auto and self.granularity.reached(state, self.sparsity)
        ):
            return
        self.plan.settings = self.settings(max_iter)
        self.plan.phase_start = state.n_iter
        self.schedule.lay_out(
            self,
            self.plan,
            state,
            self.granularity.current(state),
            max_iter,
            updates_per_epoch,
        )

    # -- queries -------------------------------------------------------------
    @property
    def pending(self):
        return self.plan.pending

    def finetuning(self, state):
        """True during the guaranteed fine-tuning epochs after the last round."""
        until = self.plan.finetune_until
        return until is not None and state.n_iter < until

    def iterations_to_next_round(self, state, budget):
        """L-BFGS: iterations to run before the next round is due."""
        budget = max(budget, 1)
        if not self.pending:
            return budget
        due = self.schedule.iterations_to_next_round(self, state)
        return int(min(max(due, 1), budget))

    # -- the loop's events ---------------------------------------------------
    def on_fit_begin(self, trainer):
        self.trainer = trainer
        # Phase schedules end a phase when the loss (or validation score) has
        # stopped improving since the last round, by the stopping rule's test.
        self._plateau = NoImprovement(
            trainer.settings.tol,
            trainer.settings.n_iter_no_change,
            trainer.early_stopping,
        )

    def on_epoch_begin(self, trainer):
        self._rounds_before = self.n_rounds

    def on_batch_end(self, trainer):
        if self.plan.positions:
            self.schedule.after_update(self, trainer.state)

    def on_epoch_end(self, trainer, epoch):
        state = trainer.state
        plateau, _ = self._plateau.update(epoch.loss, epoch.score)
        epoch.rounds_during = self.n_rounds != self._rounds_before
        if self.pending and self.schedule.after_epoch(self, state, plateau):
            epoch.round_at_end = True
            self._plateau.reset()
        elif epoch.rounds_during:
            self._plateau.reset()
            self._plateau.update(epoch.loss, epoch.score)
        epoch.pending = self.pending
        epoch.finetuning = self.finetuning(state)

    def after_segment(self, state, converged):
        """L-BFGS: a segment ended where a round is due (or it converged)."""
        if self.pending:
            if self.plan.rewind is None and self.schedule.rewinds:
                self.record_rewind(state)
            self.schedule.after_epoch(self, state, converged, force=True)

    def finish(self, state):
        """End of ``fit``: a schedule cut short by ``max_iter`` jumps to its end."""
        if self.pending:
            self.schedule.finish(self, state)

    # -- work ------------------------------------------------------------------
    def _statistics(self, state):
        if self.criterion not in NEEDS_STATISTICS:
            return None
        X, Y, sw = self.train_data
        n = X.shape[0]
        if n > STATS_MAX_SAMPLES:
            idx = np.sort(self.rng.choice(n, STATS_MAX_SAMPLES, replace=False))
            X, Y = X[idx], Y[idx]
            sw = None if sw is None else sw[idx]
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
        """One score per weight by the criterion, in float64."""
        scores = CRITERIA[self.criterion](
            state.coefs, self._statistics(state), self.rng
        )
        return [np.asarray(s, dtype=np.float64) for s in scores]

    def apply(self, state, target, rewind):
        """Prune to ``target`` now (and rewind the kept weights if asked)."""
        granularity = self.granularity
        scores = granularity.scores(self.criterion, self.scores(state), state)
        counts = granularity.counts(state, target, scores)
        state.set_masks(granularity.masks(state, scores, counts))
        if rewind and self.plan.rewind is not None:
            self._rewind(state)
        self.record(state, target, accepted=True)

    def validation_loss(self, state, coefs):
        """Held-out loss of the network with weights ``coefs``."""
        X, Y, sw = self.validation_data
        return mean_loss(
            X, Y, coefs, state.intercepts, state.activation, state.out_activation, sw
        )

    def record_rewind(self, state):
        self.plan.rewind = (
            [c.copy() for c in state.coefs],
            [b.copy() for b in state.intercepts],
        )

    def _rewind(self, state):
        coefs, intercepts = self.plan.rewind
        for current, early, mask in zip(state.coefs, coefs, state.masks):
            current[...] = early if mask is None else early * mask
        for current, early in zip(state.intercepts, intercepts):
            current[...] = early
        if state.optimizer is not None:
            state.optimizer.reset()
            state.optimizer.apply_masks(list(state.masks) + [None] * len(intercepts))

    def record(self, state, target, accepted, **extra):
        """Append to ``state.history``: one record per round (greedy: per
        candidate, ``round`` being the search round), and tell the loop."""
        if accepted:
            self.n_rounds += 1
            if not self.pending:
                self.plan.finetune_until = state.n_iter + self.finetune_iter
        record = {
            "round": state.history[-1]["round"] + 1 if state.history else 1,
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
