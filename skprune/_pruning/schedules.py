"""Schedules: which targets, and when. One class per ``pruning_schedule``.

Every schedule follows the training, not the clock. A fit goes through three
phases, kept in the :class:`~skprune._pruning.plan.Plan`:

1. **dense**: train until the network has learned, that is until the stopping
   rule's test (``tol``, ``n_iter_no_change``, on the training loss or, with
   ``early_stopping``, the held-out score) sees a plateau, or until its share
   of ``max_iter`` has passed (:func:`dense_cap`: the higher the target, the
   more epochs are left to recover; the gradual schedule, from 0.95, down to a
   fifth of ``max_iter`` once it has made 100 optimizer steps), whichever comes
   first. A network that
   arrives trained (``warm_start``, :meth:`from_mlp`) skips it;
2. **rounds**: prune to the next target, train until the network has
   recovered, and so on. What "recovered" means is the schedule's: the
   training loss back where it was before the round, or a short plateau
   (gradual, auto), or the stopping rule's plateau (iterative, lottery, greedy);
   a round never waits longer than its share of the epochs left, so the last
   round always leaves ``finetune_iter`` epochs before ``max_iter``;
3. **fine-tuning**: the stopping rule ends the fit, as in MLPClassifier, at
   least ``finetune_iter`` epochs after the last round.

Dynamic sparse training (``"rigl"``, ``"set"``) has no dense phase: it prunes
to the target when training starts, and then, at each epoch end, moves a
decaying share of the kept weights elsewhere (:class:`RigL`).

A schedule answers the :class:`~skprune._pruning.pruner.Pruner` at each epoch
end (:meth:`Schedule.after_epoch`), and says how many L-BFGS iterations to run
before it must be asked again (:meth:`Schedule.iterations_to_next_round`).
Adding a schedule is adding one class to ``SCHEDULES``.
"""

import math

import numpy as np

# The dense phase lasts at most ``1 - sparsity`` of ``max_iter``, kept between
# these shares: a low target costs little to recover from, so the dense network
# trains longer (measured against a fixed half, benchmarks/results/
# dense_share.md: at 0.3, 10 seeds, iris -0.79 -> +0.26 and vowel -0.61 ->
# -0.50 points against MLPClassifier).
# sparsity="auto", whose target is not known, keeps DENSE_SHARE (the rule's
# shortest share, which also bounds the step floor's steps below).
DENSE_SHARE = 0.5
DENSE_SHARE_MIN = 0.5
DENSE_SHARE_MAX = 0.7

# From DENSE_FLOOR_FROM on, the gradual schedule's dense phase may be shorter,
# down to DENSE_SHARE_FLOOR of max_iter, as long as it makes DENSE_MIN_STEPS
# optimizer steps (minibatches; an L-BFGS iteration is one step), up to
# DENSE_SHARE of max_iter: a short dense phase where epochs hold many
# minibatches, up to the half where an epoch holds one (100 / steps per epoch
# epochs). Measured against the half
# (benchmarks/results/dense_share.md, sections 5-7): at 0.98 MNIST (gradual,
# ERK, 30 epochs) 2.41 -> 2.16 % error and digits +2.1 to +10.1 points, at
# 0.95 Friedman #1 R^2 +0.035 and letter +4 to +5 points, against a few losses
# (MNIST at 99 % with the layer scope 20.51 -> 38.88 %, at 98 % with
# standardized pixels over 50 epochs 2.71 -> 2.96 %, vowel at 98 % with ERK
# -1.0 point). Below 0.95 it is mixed and not used: at 0.9 letter +3.0 and
# vowel +2.8 points but Friedman #1 R^2 -0.026, at 0.7 vowel -2.1, and
# sparsity="auto" refitted at 0.56 lost the drop-in rule on vowel (-0.52). The
# floor alone, without the steps, lost up to 2.6 points on the sets of one
# minibatch per epoch. The other schedules keep the half: iterative rounds wait
# for plateaus, which a short dense phase leaves them too few epochs to reach
# (98 %: 2.35 -> 2.41 %). In partial_fit the steps per epoch are those of the
# current call's chunk.
DENSE_FLOOR_FROM = 0.95
DENSE_SHARE_FLOOR = 0.2
DENSE_MIN_STEPS = 100

# Gradual and auto: a round has recovered once the training loss has won back
# this share of what the round cost it (the rise from the loss before the round
# to the loss of the first epoch after it), or has not improved by ``tol`` for
# ``ROUND_PATIENCE`` epochs.
RECOVERY_SHARE = 0.5
ROUND_PATIENCE = 2

# sparsity="auto": a step whose held-out score falls short gets this many more
# recovery intervals before it is reverted. A step is also judged short when the
# held-out samples' smoothed scores (the probability of the true class, or each
# sample's share of R^2), paired sample by sample with the reference network's
# (the network at the default sparsity; for that first step, the dense one, and
# then only a fall at AUTO_Z standard errors *above* the mean change refuses
# it), fall by more than ``pruning_tol`` at AUTO_Z standard errors below their
# mean change: a small held-out set's accuracy cannot resolve a point, its
# smoothed scores can, and the standard error keeps the judge from taking noise
# for room. The ladder's first step is AUTO_FIRST, the default sparsity (the
# largest the drop-in panel keeps on narrow data), then geometric to the
# ceiling. Chosen on the drop-in panel (benchmarks/results/auto.md): with two
# retries and 0.3 first every set keeps the rule (worst -0.30, vowel), with
# three iris and vowel lose 0.53 and 0.52; the former judge (a 10 % limit on the
# rise of the held-out loss, one retry, 0.37 first, no refit) lost 0.74-1.58
# points on iris, letter and vowel.
AUTO_RETRIES = 2
AUTO_Z = 1.0
AUTO_FIRST = 0.3


def paired_change(contributions, reference, sample_weight=None):
    """Mean change of the per-sample scores against ``reference``, and its
    standard error (weighted by ``sample_weight``, effective sample size)."""
    d = np.asarray(contributions, dtype=float) - np.asarray(reference, dtype=float)
    if not np.isfinite(d).all():
        return -np.inf, 0.0
    w = np.ones_like(d) if sample_weight is None else np.asarray(sample_weight, float)
    total = w.sum()
    if d.size == 0 or total <= 0:
        return 0.0, 0.0
    mean = float(w @ d / total)
    n_eff = total**2 / float(w @ w)
    if n_eff <= 1:
        return mean, 0.0
    var = float(w @ (d - mean) ** 2 / total) * n_eff / (n_eff - 1)
    return mean, float(np.sqrt(var / n_eff))


# Greedy search: a rejected candidate is retried with half as many weights, this
# many times, before the layer waits for the next round.
GREEDY_BACKOFF = 2


# Dynamic sparse training (RigL, SET): at each epoch end the share
# ``update_fraction`` of each pruned layer's kept weights is dropped and as many
# regrown, from RIGL_ALPHA at the start down to zero along a cosine over
# RIGL_END_SHARE of ``max_iter`` (Evci et al. 2020 use 0.3 and 0.75).
RIGL_ALPHA = 0.3
RIGL_END_SHARE = 0.75


def update_fraction(t, horizon, alpha=RIGL_ALPHA):
    """RigL's cosine decay: ``alpha / 2 * (1 + cos(pi * t / horizon))``, then 0."""
    if t >= horizon:
        return 0.0
    return alpha / 2 * (1 + math.cos(math.pi * t / horizon))


def cubic_target(step, n_steps, initial, final):
    """Zhu & Gupta (2017): s_k = s_f + (s_i - s_f) * (1 - k / n) ** 3."""
    if n_steps <= 0:
        return final
    frac = min(max(step / n_steps, 0.0), 1.0)
    return final + (initial - final) * (1.0 - frac) ** 3


def cubic_targets(initial, final, n_steps):
    return [cubic_target(k, n_steps, initial, final) for k in range(1, n_steps + 1)]


def geometric_targets(initial, final, n_steps):
    """Each round removes the same share of the remaining weights (Han et al.)."""
    keep_i, keep_f = 1.0 - initial, 1.0 - final
    return [
        1.0 - keep_i * (keep_f / keep_i) ** (k / n_steps) for k in range(1, n_steps + 1)
    ]


def dense_share(sparsity=None):
    """The share of ``max_iter`` the dense phase may last, for a target
    ``sparsity`` (None: not known, ``sparsity="auto"``)."""
    if sparsity is None:
        return DENSE_SHARE
    return min(max(1.0 - sparsity, DENSE_SHARE_MIN), DENSE_SHARE_MAX)


def dense_cap(max_iter, sparsity=None, steps_per_epoch=None):
    """The most epochs (iterations) the dense phase may last.

    With ``steps_per_epoch`` (the gradual schedule's step floor), from a
    target of ``DENSE_FLOOR_FROM``, the share ``1 - sparsity`` may fall to
    ``DENSE_SHARE_FLOOR``, but the phase lasts at least the epochs of
    ``DENSE_MIN_STEPS`` optimizer steps, up to ``DENSE_SHARE`` of ``max_iter``.
    """
    if sparsity is None or steps_per_epoch is None or sparsity < DENSE_FLOOR_FROM:
        return max(1, math.ceil(dense_share(sparsity) * max_iter))
    # From 0.95, 1 - sparsity is below the floor; the general form serves
    # benchmarks/bench_dense_share.py, which moves DENSE_FLOOR_FROM.
    share = min(max(1.0 - sparsity, DENSE_SHARE_FLOOR), DENSE_SHARE_MAX)
    need = math.ceil(DENSE_MIN_STEPS / steps_per_epoch)
    return max(
        1,
        math.ceil(share * max_iter),
        min(math.ceil(DENSE_SHARE * max_iter), need),
    )


def _steps_per_epoch(pruner):
    """Optimizer steps per epoch: minibatches of the data being trained on (in
    ``partial_fit``, this call's chunk), or one per L-BFGS iteration."""
    if not pruner.stochastic:
        return 1
    return math.ceil(pruner.train_data[0].shape[0] / pruner.batch_size)


def rounds_due(rounds_left, epochs_left):
    """How many rounds to take now so that the others get an epoch each."""
    return max(1, rounds_left - max(epochs_left, 1) + 1)


class Schedule:
    """Base: geometric targets, a round at each plateau of the stopping rule.

    Subclasses set the targets (:meth:`targets`), what ends a round's
    recovery (:meth:`recovered`), and may rewind the kept weights after each
    round (:attr:`rewinds`), rewind the learning-rate schedule
    (:attr:`rewinds_learning_rate`) or judge rounds on held-out data
    (:meth:`round`).
    """

    needs_validation = False
    rewinds = False
    # Whether the dense phase may end sooner at high targets, once it has made
    # DENSE_MIN_STEPS optimizer steps (``dense_cap``).
    step_floor = False
    # Learning-rate rewinding (Renda et al. 2020): after each round the
    # learning rate follows its schedule again from where it stood when the
    # plan was laid out, the start of training. Lottery too, although its
    # weights rewind to the end of the first epoch: rewound to that epoch's
    # rate instead, invscaling SGD lost 0.8 to 16 points against fine-tuning
    # (benchmarks/bench_rewinding.py, its "weights' point" rows).
    rewinds_learning_rate = False

    def targets(self, initial, final, n_steps):
        return geometric_targets(initial, final, n_steps)

    def lay_out(self, pruner, plan, state, current):
        """Fill ``plan`` with the rounds from sparsity ``current`` on."""
        plan.targets = self.targets(current, pruner.sparsity, pruner.n_steps)

    # -- timing ----------------------------------------------------------------
    def recovered(self, pruner, plan, loss, plateau):
        """Whether the network has recovered from the last round."""
        return plateau

    def cap(self, pruner, plan, state):
        """Epochs the current phase may still last."""
        if plan.phase == "dense":
            steps = _steps_per_epoch(pruner) if self.step_floor else None
            target = None if pruner.auto else pruner.sparsity  # auto: not known
            limit = dense_cap(pruner.max_iter, target, steps_per_epoch=steps)
        else:
            left = self.epochs_left(pruner, plan, state) + (
                state.n_iter - plan.phase_start
            )
            limit = max(1, left // max(plan.rounds_left, 1))
        return limit - (state.n_iter - plan.phase_start)

    @staticmethod
    def epochs_left(pruner, plan, state):
        """Epochs before the fine-tuning reserve at the end of ``max_iter``.

        The reserve is ``finetune_iter`` epochs, or a quarter of ``max_iter``
        when that is less: a short budget still trains between rounds.
        """
        reserve = min(pruner.finetune_iter, pruner.max_iter // 4)
        return plan.end - reserve - state.n_iter

    def due(self, pruner, plan, state, loss, plateau):
        if plan.phase == "dense":
            return plateau or self.cap(pruner, plan, state) <= 0
        return self.recovered(pruner, plan, loss, plateau) or (
            self.cap(pruner, plan, state) <= 0
        )

    def acts(self, pruner, plan, state, loss, plateau):
        """Whether :meth:`after_epoch` has anything to do at this epoch end (it
        runs on the network as trained, which costs a copy: see ``Pruner``)."""
        return self.due(pruner, plan, state, loss, plateau)

    def updates(self, plan, state):
        """Whether the topology is updated at this epoch end (RigL, SET)."""
        return False

    def after_epoch(self, pruner, state, loss, plateau, force=False):
        """At an epoch end: prune if a round is due; True if the masks changed."""
        plan = pruner.plan
        if not (force or self.due(pruner, plan, state, loss, plateau)):
            return False
        n = rounds_due(len(plan.targets), self.epochs_left(pruner, plan, state))
        target = None
        for _ in range(min(n, len(plan.targets))):
            target = plan.targets.popleft()
        self.round(pruner, state, target)
        pruner.start_phase(state, loss)
        return True

    def round(self, pruner, state, target):
        pruner.apply(
            state,
            target,
            rewind=self.rewinds,
            rewind_learning_rate=self.rewinds_learning_rate,
        )

    def iterations_to_next_round(self, pruner, state):
        """L-BFGS: iterations before the schedule must be asked again."""
        return self.cap(pruner, pruner.plan, state)

    def finish(self, pruner, state):
        """Jump to the final target now (training ended before the plan)."""
        target = pruner.plan.targets[-1]
        pruner.plan.targets = []
        pruner.apply(state, target, rewind=False)

    def retarget(self, pruner, plan, current):
        """Aim the remaining rounds at ``pruner.sparsity``."""
        plan.targets = self.targets(current, pruner.sparsity, len(plan.targets))


class Oneshot(Schedule):
    """Train until learned, prune once to the target, retrain with the
    learning rate rewound."""

    rewinds_learning_rate = True

    def targets(self, initial, final, n_steps):
        return [final]


class Iterative(Schedule):
    """Han et al. (2015): each round removes the same share of what remains,
    and the network retrains to a plateau in between, with the learning rate
    rewound (Renda et al. 2020)."""

    rewinds_learning_rate = True


class Lottery(Iterative):
    """Frankle & Carbin (2019): as iterative, then rewind the kept weights."""

    rewinds = True

    def lay_out(self, pruner, plan, state, current):
        super().lay_out(pruner, plan, state, current)
        if not pruner.stochastic:
            pruner.record_rewind(state)

    def acts(self, pruner, plan, state, loss, plateau):
        return plan.rewind is None or super().acts(pruner, plan, state, loss, plateau)

    def after_epoch(self, pruner, state, loss, plateau, force=False):
        if pruner.plan.rewind is None:
            pruner.record_rewind(state)
        return super().after_epoch(pruner, state, loss, plateau, force)


class Gradual(Schedule):
    """Zhu & Gupta (2017): targets along a cubic curve, a round as soon as the
    last one has recovered."""

    step_floor = True

    def targets(self, initial, final, n_steps):
        return cubic_targets(initial, final, n_steps)

    def recovered(self, pruner, plan, loss, plateau):
        before, first = plan.before_loss, plan.round_first
        if before is None or first is None:
            return plan.round_count >= ROUND_PATIENCE
        return loss <= before + (1.0 - RECOVERY_SHARE) * max(first - before, 0.0) or (
            plan.round_count >= ROUND_PATIENCE
        )


class Auto(Gradual):
    """``sparsity="auto"``: gradual steps toward a ceiling, each judged on
    held-out data once it has recovered.

    The search starts from the default model: at the end of the dense phase
    the network is pruned to ``AUTO_FIRST`` (the default sparsity), a step
    judged against the dense network but kept unless it is shown to lose
    (:meth:`passes`). Once it has recovered, its held-out score and each
    held-out sample's smoothed score are the reference. After each further
    step's recovery they are measured again: the step is kept (a checkpoint
    of the weights) if the score is within ``pruning_tol`` of the reference
    and the paired change of the smoothed scores, ``AUTO_Z`` standard errors
    below its mean, is too. A step that fails (the first one included) gets
    ``AUTO_RETRIES`` more recovery intervals and is then reverted to the last
    checkpoint, which ends the search. Each step is one entry of
    ``pruning_history_`` (target, sparsity, held-out score, reference,
    change, its standard error, kept, and ``start`` for the first step). A
    ladder that does not start at ``AUTO_FIRST`` (one step, or a network
    already that sparse) judges every step by the strict test against the
    network as the search found it.
    """

    needs_validation = True
    step_floor = False  # its dense phase ends at DENSE_SHARE

    def targets(self, initial, final, n_steps):
        first = AUTO_FIRST
        if first is None or initial >= first or n_steps < 2:
            return geometric_targets(initial, final, n_steps)
        return [first, *geometric_targets(first, final, n_steps - 1)]

    def after_epoch(self, pruner, state, train_loss, plateau, force=False):
        plan = pruner.plan
        if not (force or self.due(pruner, plan, state, train_loss, plateau)):
            return False
        score = pruner.validation_score(state)
        loss = pruner.validation_loss(state, state.coefs)
        first = plan.phase in ("dense", "ready")
        if first:
            plan.reference_score, plan.reference_loss = score, loss
            pruner.set_reference(state)
        elif plan.proposed is not None:
            change = pruner.held_out_change(state)
            ok = self.passes(pruner, plan, score, change)
            if not ok and plan.retries < AUTO_RETRIES and not force:
                plan.retries += 1
                pruner.start_phase(state, plan.before_loss)
                return False
            starting = plan.starting
            self.judge(pruner, state, score, loss, change, ok)
            if not ok:
                return True
            if starting:
                plan.reference_score, plan.reference_loss = score, loss
                pruner.set_reference(state)
        pruner.checkpoint(state)
        if not plan.targets:
            pruner.end_rounds(state)
            return False
        # The search starts from the default model: the step to AUTO_FIRST is
        # kept unless it is shown to lose (:meth:`passes`), and once it has
        # recovered it is the reference of the steps beyond. It is proposed
        # alone, however short the budget; later steps may be taken several
        # at a time so that each gets an epoch.
        plan.starting = first and plan.targets[0] == AUTO_FIRST
        n = (
            1
            if plan.starting
            else rounds_due(len(plan.targets), self.epochs_left(pruner, plan, state))
        )
        target = None
        for _ in range(min(n, len(plan.targets))):
            target = plan.targets.popleft()
        self.propose(pruner, state, target, train_loss)
        return True

    @staticmethod
    def propose(pruner, state, target, train_loss):
        """Prune to ``target`` now; it is judged once it has recovered."""
        plan = pruner.plan
        plan.proposed = target
        plan.retries = 0
        pruner.apply(state, target, rewind=False, record=False)
        pruner.start_phase(state, train_loss)

    @staticmethod
    def passes(pruner, plan, score, change):
        """Within ``pruning_tol`` of the reference score, and the smoothed
        scores' paired change (mean, standard error) too, ``AUTO_Z`` standard
        errors below its mean. The step to the default's sparsity is kept
        unless the change, ``AUTO_Z`` standard errors *above* its mean, falls
        beyond ``pruning_tol``: the drop-in panel has shown the default keeps
        accuracy, so it takes evidence of a loss to refuse it."""
        mean, se = change
        if plan.starting:
            return bool(mean + AUTO_Z * se >= -pruner.tol)
        return bool(
            score >= plan.reference_score - pruner.tol
            and mean - AUTO_Z * se >= -pruner.tol
        )

    def judge(self, pruner, state, score, loss, change, ok):
        plan = pruner.plan
        pruner.record(
            state,
            plan.proposed,
            accepted=ok,
            validation_score=float(score),
            reference_score=float(plan.reference_score),
            validation_loss=float(loss),
            reference_loss=float(plan.reference_loss),
            held_out_change=float(change[0]),
            held_out_change_se=float(change[1]),
            start=plan.starting,
        )
        plan.proposed = None
        if not ok:
            pruner.revert(state)
            plan.targets = []
            pruner.end_rounds(state)

    def finish(self, pruner, state):
        """Training ended mid-search: judge the step under way, keep what passed."""
        plan = pruner.plan
        plan.targets = []
        if plan.proposed is not None and pruner.validation_data is not None:
            score = pruner.validation_score(state)
            loss = pruner.validation_loss(state, state.coefs)
            change = pruner.held_out_change(state)
            ok = self.passes(pruner, plan, score, change)
            self.judge(pruner, state, score, loss, change, ok)
        plan.proposed = None


class Greedy(Iterative):
    """Layer-wise search on held-out data: keep a step only if the loss allows.

    Each round proposes, layer by layer (largest compute first), to push one
    layer to the next rung of a geometric ladder; a candidate is kept only if
    the held-out loss stays within ``pruning_tol`` of the reference (the loss
    before this fit's first round). The search ends when a round keeps
    nothing or the budget is spent.
    """

    needs_validation = True
    rewinds_learning_rate = False

    def lay_out(self, pruner, plan, state, current):
        super().lay_out(pruner, plan, state, current)
        plan.ladder = list(plan.targets)

    def finish(self, pruner, state):
        plan = pruner.plan
        plan.targets = []  # a search that did not end keeps what it accepted

    def round(self, pruner, state, level):
        plan = pruner.plan
        loss = pruner.validation_loss
        # Rounds number on from those of earlier fits (warm start).
        last = state.history[-1]["round"] if state.history else 0
        plan.search_round = (
            last if plan.search_round is None else plan.search_round
        ) + 1
        if plan.reference_loss is None:
            plan.reference_loss = loss(state, state.coefs)
        reference = plan.reference_loss
        granularity = pruner.granularity
        scores = granularity.scores(pruner.criterion, pruner.scores(state), state)
        sizes = granularity.sizes(state)
        pruned = granularity.pruned(state)
        compute = granularity.compute(state)
        budget = int(round(pruner.sparsity * sum(sizes))) - sum(pruned)
        caps = granularity.caps(state)
        accepted_any = False
        for i in np.argsort(compute, kind="stable")[::-1]:
            # Each layer climbs to the next rung above where it stands.
            rung = next(
                (r for r in plan.ladder if r * sizes[i] > pruned[i] + 0.5), None
            )
            if rung is None:
                continue
            want = min(int(round(rung * sizes[i])), caps[i])
            n_more = min(want - pruned[i], budget)
            for _ in range(GREEDY_BACKOFF + 1):
                if n_more <= 0:
                    break
                counts = list(pruned)
                counts[i] += n_more
                candidate = granularity.masks(state, scores, counts)
                trial = [
                    c if m is None else c * m for c, m in zip(state.coefs, candidate)
                ]
                folded = pruner.folded_intercepts(
                    state, state.masks[0], candidate[0], state.coefs
                )
                trial_loss = loss(state, trial, folded)
                ok = bool(trial_loss <= reference + pruner.tol)
                if ok:
                    pruner.set_masks(state, candidate)
                    pruned, budget = counts, budget - n_more
                    accepted_any = True
                pruner.record(
                    state,
                    counts[i] / sizes[i],
                    accepted=ok,
                    round=plan.search_round,
                    layer=int(i),
                    validation_loss=float(trial_loss),
                    reference_loss=float(reference),
                )
                if ok:
                    break
                n_more //= 2
        if not accepted_any or budget <= 0:
            plan.targets = []
            pruner.end_rounds(state)


class RigL(Schedule):
    """Dynamic sparse training with gradient regrowth (Evci et al. 2020).

    The network is pruned to the target when training starts (at its
    initial weights, so the criterion's ranking is that of a random draw,
    spread over the layers by the scope: ``"erk"`` is RigL's). Then, at each
    epoch end until ``RIGL_END_SHARE`` of ``max_iter``, each pruned layer
    drops the share :func:`update_fraction` of its kept weights with the
    lowest criterion score and regrows as many where the magnitude of the
    dense gradient (on up to ``STATS_MAX_SAMPLES`` training samples) is
    largest; regrown weights start at zero, with zero optimizer state. Each
    layer keeps its count of weights exactly. Topology updates do not hold
    training open: the stopping rule ends the fit as usual, at least
    ``finetune_iter`` epochs after the start.
    """

    grow = "gradient"

    def lay_out(self, pruner, plan, state, current):
        plan.targets = [pruner.sparsity]
        plan.phase = "ready"
        horizon = max(1, math.ceil(RIGL_END_SHARE * pruner.max_iter))
        plan.regrowth = [state.n_iter, state.n_iter + horizon]

    def after_epoch(self, pruner, state, loss, plateau, force=False):
        # The only round is the first, when training starts.
        if not force:
            return False
        return super().after_epoch(pruner, state, loss, plateau, force)

    def updates(self, plan, state):
        return plan.regrowth is not None

    def update(self, pruner, state):
        """Drop and regrow at this epoch end; end the updates at the horizon."""
        plan = pruner.plan
        start, end = plan.regrowth
        fraction = update_fraction(state.n_iter - start, end - start)
        if state.n_iter >= end or fraction <= 0:
            plan.regrowth = None
            return
        pruner.move_weights(state, fraction, self.grow)


class SET(RigL):
    """Sparse Evolutionary Training (Mocanu et al. 2018): as RigL, but the
    weights are regrown at random positions (the baseline RigL must beat)."""

    grow = "random"


SCHEDULES = {
    "oneshot": Oneshot,
    "iterative": Iterative,
    "gradual": Gradual,
    "lottery": Lottery,
    "greedy": Greedy,
    "rigl": RigL,
    "set": SET,
}
