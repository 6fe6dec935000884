"""Schedules: which targets, and when. One class per ``pruning_schedule``.

A schedule is asked three things by the :class:`~skprune._pruning.pruner.Pruner`
that drives it, and answers them from the :class:`~skprune._pruning.plan.Plan`
it laid out:

- :meth:`Schedule.after_update`: after every optimizer step (fixed schedules
  prune at set points of training);
- :meth:`Schedule.after_epoch`: at the end of an epoch (or of an L-BFGS
  segment), told whether the loss has plateaued; returns True if it pruned;
- :attr:`Schedule.needs_validation`: whether it judges steps on held-out data.

Adding a schedule is adding one class to ``SCHEDULES``.
"""

import math

import numpy as np

# Gradual schedule layout (compressed to fit ``max_iter``): train dense for
# ``GRADUAL_WARMUP`` intervals, then prune ``pruning_steps`` times, one round per
# interval, then fine-tune. An interval lasts ``GRADUAL_EPOCHS`` epochs, or
# ``GRADUAL_MIN_UPDATES`` optimizer updates when an epoch has few batches, so that
# small data sets get time to recover between rounds. Chosen on the digits and
# MNIST benchmarks (benchmarks/bench_accuracy.py): starting to prune a
# well-trained network helps most at high sparsity.
GRADUAL_EPOCHS = 1.0
GRADUAL_MIN_UPDATES = 100
GRADUAL_WARMUP = 10.0

# Phase schedules (all but gradual) spend up to this share of the training budget
# on the first, dense phase, and split the rest evenly between later phases.
DENSE_PHASE_SHARE = 0.5

# Greedy search: a rejected candidate is retried with half as many weights, this
# many times, before the layer waits for the next round.
GREEDY_BACKOFF = 2


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


def gradual_plan(
    initial, final, *, n_steps, finetune_iter, max_iter, updates_per_epoch
):
    """Rounds of the gradual schedule as ``(epoch, target)`` pairs.

    The layout is a warm-up, then ``n_steps`` rounds one interval apart, then
    ``finetune_iter`` epochs; when that does not fit in ``max_iter`` epochs every
    length is scaled down by the same factor, so the schedule always completes
    within the budget. Targets follow :func:`cubic_target`. ``updates_per_epoch``
    is None for L-BFGS, whose full-batch iterations need no minimum.
    """
    interval = GRADUAL_EPOCHS
    if updates_per_epoch is not None:
        interval = max(interval, GRADUAL_MIN_UPDATES / updates_per_epoch)
    desired = (GRADUAL_WARMUP + n_steps) * interval + finetune_iter
    scale = min(1.0, max_iter / desired)
    targets = cubic_targets(initial, final, n_steps)
    return [
        ((GRADUAL_WARMUP + k) * interval * scale, t)
        for k, t in enumerate(targets, start=1)
    ]


def phase_caps(budget, n_phases):
    """Epoch caps of the training phases that precede each round.

    The first (dense) phase may use ``DENSE_PHASE_SHARE`` of ``budget``; the
    others share the rest. A phase also ends as soon as the loss stops improving.
    """
    budget = max(budget, n_phases)
    if n_phases <= 1:
        return [budget]
    first = max(1, int(budget * DENSE_PHASE_SHARE))
    rest = max(1, (budget - first) // (n_phases - 1))
    return [first] + [rest] * (n_phases - 1)


class Schedule:
    """Phase schedule: each round ends a training phase.

    A phase ends when the loss stops improving or the phase's share of
    ``max_iter`` is spent. Subclasses set the targets (:meth:`targets`), and may
    rewind after each round (:attr:`rewinds`) or search (:meth:`round`).
    """

    needs_validation = False
    rewinds = False

    def targets(self, initial, final, n_steps):
        return geometric_targets(initial, final, n_steps)

    def lay_out(self, pruner, plan, state, current, max_iter, updates_per_epoch):
        """Fill ``plan`` with the rounds from sparsity ``current`` on."""
        plan.targets = self.targets(current, pruner.sparsity, pruner.n_steps)
        plan.positions = None
        plan.caps = phase_caps(max_iter - pruner.finetune_iter, len(plan.targets))

    def after_update(self, pruner, state):
        pass

    def after_epoch(self, pruner, state, plateau, force=False):
        plan = pruner.plan
        spent = state.n_iter - plan.phase_start >= plan.caps[0]
        if plateau or spent or force:
            self.round(pruner, state, plan.targets.popleft())
            plan.caps.popleft()
            plan.phase_start = state.n_iter
            return True
        return False

    def round(self, pruner, state, target):
        pruner.apply(state, target, rewind=self.rewinds)

    def iterations_to_next_round(self, pruner, state):
        plan = pruner.plan
        return plan.caps[0] - (state.n_iter - plan.phase_start)

    def finish(self, pruner, state):
        """Jump to the final target now (the budget ran out before the plan)."""
        target = pruner.plan.targets[-1]
        pruner.plan.targets = []
        pruner.apply(state, target, rewind=False)

    def retarget(self, pruner, plan, current):
        """Aim the remaining rounds at ``pruner.sparsity``."""
        plan.targets = self.targets(current, pruner.sparsity, len(plan.targets))


class Oneshot(Schedule):
    """Train, prune once to the target, fine-tune."""

    def targets(self, initial, final, n_steps):
        return [final]


class Iterative(Schedule):
    """Han et al. (2015): each round removes the same share of what remains."""


class Lottery(Iterative):
    """Frankle & Carbin (2019): as iterative, then rewind the kept weights."""

    rewinds = True

    def lay_out(self, pruner, plan, state, current, max_iter, updates_per_epoch):
        super().lay_out(pruner, plan, state, current, max_iter, updates_per_epoch)
        if not pruner.stochastic:
            pruner.record_rewind(state)

    def after_epoch(self, pruner, state, plateau, force=False):
        if pruner.plan.rewind is None:
            pruner.record_rewind(state)
        return super().after_epoch(pruner, state, plateau, force)


class Gradual(Schedule):
    """Zhu & Gupta (2017): rounds at set points along a cubic curve."""

    def targets(self, initial, final, n_steps):
        return cubic_targets(initial, final, n_steps)

    def lay_out(self, pruner, plan, state, current, max_iter, updates_per_epoch):
        position = state.t if pruner.stochastic else state.n_iter
        events = gradual_plan(
            current,
            pruner.sparsity,
            n_steps=pruner.n_steps,
            finetune_iter=pruner.finetune_iter,
            max_iter=max_iter,
            updates_per_epoch=updates_per_epoch,
        )
        plan.positions = [
            position + max(1, math.ceil(epoch * pruner.unit - 1e-9))
            for epoch, _ in events
        ]
        plan.targets = [target for _, target in events]
        plan.caps = phase_caps(max_iter - pruner.finetune_iter, len(plan.targets))

    def after_update(self, pruner, state):
        plan = pruner.plan
        if plan.positions and plan.targets and state.t >= plan.positions[0]:
            self._run_due(pruner, state, state.t)

    def after_epoch(self, pruner, state, plateau, force=False):
        plan = pruner.plan
        position = state.t if pruner.stochastic else state.n_iter
        if force:
            position = max(position, plan.positions[0])
        if position >= plan.positions[0]:
            self._run_due(pruner, state, position)
            return True
        return False

    def iterations_to_next_round(self, pruner, state):
        return pruner.plan.positions[0] - state.n_iter

    @staticmethod
    def _run_due(pruner, state, position):
        plan = pruner.plan
        target = None
        while plan.targets and plan.positions[0] <= position:
            plan.positions.popleft()
            target = plan.targets.popleft()
        if target is not None:
            pruner.apply(state, target, rewind=False)


class Greedy(Iterative):
    """Layer-wise search on held-out data: keep a step only if the loss allows.

    Each round proposes, layer by layer (largest compute first), to push one
    layer to the next rung of a geometric ladder; a candidate is kept only if
    the held-out loss stays within ``pruning_tol`` of the reference (the loss
    before this fit's first round). The search ends when a round keeps
    nothing or the budget is spent.
    """

    needs_validation = True

    def lay_out(self, pruner, plan, state, current, max_iter, updates_per_epoch):
        super().lay_out(pruner, plan, state, current, max_iter, updates_per_epoch)
        plan.ladder = list(plan.targets)

    def finish(self, pruner, state):
        pass  # a search that did not end keeps what it accepted

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
        # The most a layer may lose: its share under the layer scope (the output
        # layer at OUTPUT_LAYER_RATE), its floor under the global scope.
        rates = granularity.rates(state)
        caps = granularity.caps(state)
        accepted_any = False
        for i in np.argsort(compute, kind="stable")[::-1]:
            # Each layer climbs to the next rung above where it stands.
            rung = next(
                (r for r in plan.ladder if r * rates[i] * sizes[i] > pruned[i] + 0.5),
                None,
            )
            if rung is None:
                continue
            want = min(int(round(rung * rates[i] * sizes[i])), caps[i])
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
                trial_loss = loss(state, trial)
                ok = bool(trial_loss <= reference + pruner.tol)
                if ok:
                    state.set_masks(candidate)
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
            plan.finetune_until = state.n_iter + pruner.finetune_iter


SCHEDULES = {
    "oneshot": Oneshot,
    "iterative": Iterative,
    "gradual": Gradual,
    "lottery": Lottery,
    "greedy": Greedy,
}
