"""Schedules, allocation and the plan on a hand-made training state (no fits)."""

import math
import pickle
import warnings

import numpy as np
import pytest

from skprune._optim import TrainState
from skprune._optim.callbacks import EpochEnd
from skprune._pruning import SCHEDULES, Plan, Pruner, erk_densities
from skprune._pruning import schedules as sched
from skprune._pruning.allocation import GRANULARITIES, SCOPES
from skprune._pruning.plan import RETIRED


def _state(shapes=((6, 8), (8, 4)), seed=0):
    rng = np.random.RandomState(seed)
    coefs = [rng.normal(size=s) for s in shapes]
    intercepts = [np.zeros(s[1]) for s in shapes]
    return TrainState(coefs, intercepts, [None] * len(coefs), "relu", "softmax")


class _Trainer:
    """What the pruner reads of the loop: the state, settings and events."""

    def __init__(self, state, tol=1e-4, n_iter_no_change=2):
        self.state = state
        self.early_stopping = False
        self.settings = type(
            "S", (), {"tol": tol, "n_iter_no_change": n_iter_no_change}
        )
        self.rounds = []
        self.use_full_data = False
        self.stop_requested = False

    def emit(self, event, record):
        self.rounds.append(record)


def _pruner(schedule, state, sparsity=0.5, n_steps=3, stochastic=False, **kwargs):
    pruner = Pruner(
        criterion="magnitude",
        scope=kwargs.pop("scope", "layer"),
        granularity=kwargs.pop("granularity", "weight"),
        schedule=schedule,
        sparsity=sparsity,
        n_steps=n_steps,
        finetune_iter=kwargs.pop("finetune_iter", 2),
        tol=kwargs.pop("tol", 0.0),
        rng=np.random.RandomState(0),
    )
    pruner.start(
        state,
        max_iter=kwargs.pop("max_iter", 40),
        stochastic=stochastic,
        # No constant feature: the weights' own scores decide.
        train_data=(
            np.arange(4.0 * state.coefs[0].shape[0]).reshape(4, -1),
            np.zeros((4, state.coefs[-1].shape[1])),
            None,
        ),
        validation_data=kwargs.pop("validation_data", None),
        validation_score=kwargs.pop("validation_score", None),
        resume=kwargs.pop("resume", False),
        trained=kwargs.pop("trained", False),
        batch_size=kwargs.pop("batch_size", 200),
    )
    assert not kwargs, kwargs
    trainer = _Trainer(state)
    pruner.on_fit_begin(trainer)
    return pruner, trainer


def _epoch(pruner, trainer, loss):
    trainer.state.n_iter += 1
    pruner.on_epoch_begin(trainer)
    epoch = EpochEnd(loss=loss)
    pruner.on_epoch_end(trainer, epoch)
    return epoch


def _round_epochs(pruner, trainer, losses):
    """Feed ``losses`` one epoch each; the epochs (n_iter) that ended in a round."""
    return [
        trainer.state.n_iter
        for loss in losses
        if _epoch(pruner, trainer, loss).round_at_end
    ]


def _trained(state):
    """A copy of ``state`` in the network's trained shape: the pruner's entry
    points remove the units their rounds leave dead."""
    state = state.copy()
    state.expand()
    return state


def _pruned(state):
    return [0 if m is None else int((~m).sum()) for m in _trained(state).masks]


def _improving(n):
    return [1.0 / (k + 1) for k in range(n)]  # each epoch better by more than tol


# ------------------------------------------------------------ interface
def test_every_schedule_is_one_class_with_the_small_interface():
    hooks = ("lay_out", "after_epoch", "recovered", "finish", "targets", "retarget")
    for name, cls in [*SCHEDULES.items(), ("auto", sched.Auto)]:
        schedule = cls()
        for hook in (*hooks, "iterations_to_next_round"):
            assert callable(getattr(schedule, hook)), (name, hook)
        # Rounds happen at epoch ends only: no hook inside an epoch.
        assert not hasattr(schedule, "after_update"), name
        assert schedule.needs_validation is (name in ("greedy", "auto"))
    assert set(SCHEDULES) == {
        "oneshot",
        "iterative",
        "gradual",
        "lottery",
        "greedy",
        "rigl",
        "set",
    }


# ------------------------------------------------------------ dense phase
FIRST_TARGET = {
    # 0.5 in 3 steps: geometric keeps 0.5 ** (1/3); cubic 0.5 * (1 - (2/3) ** 3).
    "oneshot": 0.5,
    "iterative": 1 - 0.5 ** (1 / 3),
    "lottery": 1 - 0.5 ** (1 / 3),
    "gradual": 0.5 * (1 - (2 / 3) ** 3),
}


@pytest.mark.parametrize("schedule", sorted(FIRST_TARGET))
def test_a_plateaued_dense_fit_starts_pruning_before_its_cap(schedule):
    state = _state()
    pruner, trainer = _pruner(schedule, state, max_iter=40)
    target = FIRST_TARGET[schedule]
    assert pruner.plan.phase == "dense"
    assert list(pruner.plan.targets)[0] == pytest.approx(target)
    # Improving losses: no round.
    assert _round_epochs(pruner, trainer, (1.0, 0.5, 0.25)) == []
    # Flat losses: the stopping rule's test (n_iter_no_change=2) fires on the
    # third epoch without improvement, long before the dense phase's cap.
    assert _round_epochs(pruner, trainer, [0.25] * 3) == [6]
    assert 6 < sched.dense_share(0.5) * 40
    assert pruner.plan.phase == "rounds" and pruner.plan.phase_start == 6
    assert len(trainer.rounds) == 1 and trainer.rounds[0]["accepted"]
    assert trainer.rounds[0]["target"] == pytest.approx(target)
    # The layer scope: round(target * total) weights, the same share per layer.
    pruned = _pruned(state)
    assert sum(pruned) == round(target * 80)
    for n, size in zip(pruned, (48, 32)):
        assert abs(n - target * size) <= 1


@pytest.mark.parametrize("schedule", sorted(FIRST_TARGET))
@pytest.mark.parametrize("max_iter", [13, 20])
@pytest.mark.parametrize("sparsity, share", [(0.5, 0.5), (0.3, 0.7), (0.9, 0.5)])
def test_an_improving_dense_fit_prunes_at_its_share_of_max_iter(
    schedule, max_iter, sparsity, share
):
    state = _state()
    pruner, trainer = _pruner(schedule, state, sparsity=sparsity, max_iter=max_iter)
    cap = math.ceil(share * max_iter)
    rounds = _round_epochs(pruner, trainer, _improving(cap))
    assert rounds == [cap]  # not one epoch earlier
    assert trainer.rounds[0]["iteration"] == cap


def test_the_dense_share_falls_as_the_target_rises():
    # 1 - sparsity, kept within [DENSE_SHARE_MIN, DENSE_SHARE_MAX]; "auto"
    # (no target known) keeps DENSE_SHARE.
    assert sched.dense_share(0.0) == sched.DENSE_SHARE_MAX == 0.7
    assert sched.dense_share(0.3) == 0.7
    assert sched.dense_share(0.4) == pytest.approx(0.6)
    assert sched.dense_share(0.5) == 0.5
    assert sched.dense_share(0.98) == sched.DENSE_SHARE_MIN == 0.5
    assert sched.dense_share(None) == sched.DENSE_SHARE == 0.5
    shares = [sched.dense_share(s) for s in np.linspace(0, 1, 101)]
    assert all(a >= b for a, b in zip(shares, shares[1:]))
    assert sched.dense_cap(200, 0.3) == 140 and sched.dense_cap(30, 0.98) == 15
    assert sched.dense_cap(1, 0.98) == 1


def test_the_gradual_dense_phase_has_a_floor_in_optimizer_steps():
    # From DENSE_FLOOR_FROM the share 1 - sparsity may fall to
    # DENSE_SHARE_FLOOR, but the phase makes DENSE_MIN_STEPS optimizer steps,
    # up to DENSE_SHARE of max_iter.
    assert (sched.DENSE_FLOOR_FROM, sched.DENSE_SHARE_FLOOR) == (0.95, 0.2)
    assert sched.DENSE_MIN_STEPS == 100
    cap = sched.dense_cap
    assert cap(30, 0.98, steps_per_epoch=300) == 6  # MNIST: a fifth
    assert cap(200, 0.95, steps_per_epoch=80) == 40  # letter
    assert cap(200, 0.98, steps_per_epoch=3) == 40  # vowel: 34 epochs of steps
    assert cap(200, 0.98, steps_per_epoch=2) == 50
    assert cap(200, 0.98, steps_per_epoch=1) == 100  # iris: the half
    # Below 0.95, and without a step count, the shares of dense_share.
    for sparsity in (0.0, 0.3, 0.5, 0.9, 0.949):
        assert cap(200, sparsity, steps_per_epoch=300) == cap(200, sparsity)
    assert cap(200, 0.98) == 100 and cap(200, None, steps_per_epoch=300) == 100
    assert cap(1, 0.98, steps_per_epoch=300) == 1
    caps = [cap(200, 0.98, steps_per_epoch=k) for k in range(1, 200)]
    assert all(a >= b for a, b in zip(caps, caps[1:]))


@pytest.mark.parametrize(
    "schedule, stochastic, batch_size, max_iter, epoch",
    [
        # 4 samples: 4 minibatches of 1 per epoch make 100 steps in 25
        # epochs, below a fifth of max_iter (40), which decides.
        ("gradual", True, 1, 200, 40),
        # 2 minibatches of 2: 50 epochs of steps, above the fifth.
        ("gradual", True, 2, 200, 50),
        # One L-BFGS iteration is one step: 100 iterations, not the fifth (80)
        # and not half of max_iter (200).
        ("gradual", False, 1, 400, 100),
        # The other schedules keep the half.
        ("iterative", True, 1, 200, 100),
        ("oneshot", True, 1, 200, 100),
    ],
)
def test_only_the_gradual_schedule_shortens_its_dense_phase(
    schedule, stochastic, batch_size, max_iter, epoch
):
    state = _state()
    pruner, trainer = _pruner(
        schedule,
        state,
        sparsity=0.98,
        max_iter=max_iter,
        stochastic=stochastic,
        batch_size=batch_size,
    )
    assert _round_epochs(pruner, trainer, _improving(epoch)) == [epoch]


def test_after_the_last_round_finetune_iter_epochs_are_guaranteed():
    state = _state()
    pruner, trainer = _pruner("oneshot", state, max_iter=12, finetune_iter=2)
    assert _round_epochs(pruner, trainer, _improving(6)) == [6]
    assert not pruner.pending
    assert pruner.plan.finetune_until == 8
    assert pruner.finetuning(state)
    epoch = _epoch(pruner, trainer, 0.01)
    assert epoch.finetuning and not epoch.pending
    _epoch(pruner, trainer, 0.01)
    assert not pruner.finetuning(state)


def test_a_trained_network_gets_its_first_round_at_fit_begin():
    state = _state()
    state.n_iter = 30  # fitted before (warm start, from_mlp)
    pruner, trainer = _pruner("iterative", state, trained=True)
    assert len(trainer.rounds) == 1 and trainer.rounds[0]["iteration"] == 30
    assert pruner.plan.phase == "rounds" and len(pruner.plan.targets) == 2


# ------------------------------------------------------------ recovery
def _after_first_round(schedule):
    """A schedule whose first round came at epoch 4, the loss at 1.0 before it."""
    state = _state()
    pruner, trainer = _pruner(
        schedule, state, sparsity=0.8, n_steps=4, max_iter=200, finetune_iter=2
    )
    assert _round_epochs(pruner, trainer, [1.0] * 4) == [4]
    assert pruner.plan.before_loss == 1.0
    return state, pruner, trainer


def test_gradual_prunes_as_soon_as_half_the_rise_is_won_back():
    state, pruner, trainer = _after_first_round("gradual")
    # The round made the loss rise from 1.0 to 2.0: the next round is due once
    # the loss is back under 1.0 + (1 - RECOVERY_SHARE) * 1.0, and not before.
    threshold = 1.0 + (1.0 - sched.RECOVERY_SHARE) * 1.0
    losses = [2.0, threshold + 0.2, threshold + 0.05, threshold + 0.01]
    assert _round_epochs(pruner, trainer, losses) == []
    assert pruner.plan.round_first == 2.0
    assert _round_epochs(pruner, trainer, [threshold - 0.01]) == [9]
    assert len(trainer.rounds) == 2
    assert pruner.plan.before_loss == pytest.approx(threshold - 0.01)
    # A round that costs nothing has recovered at its first epoch.
    assert _round_epochs(pruner, trainer, [threshold - 0.02]) == [10]


def test_gradual_stops_waiting_after_round_patience_epochs_without_progress():
    state, pruner, trainer = _after_first_round("gradual")
    # The loss rises and stays there: ROUND_PATIENCE epochs without improving
    # by tol after the first one end the wait.
    flat = [3.0] * (sched.ROUND_PATIENCE + 1)
    assert _round_epochs(pruner, trainer, flat) == [4 + sched.ROUND_PATIENCE + 1]


def test_iterative_waits_for_the_plateau_not_for_recovery():
    state, pruner, trainer = _after_first_round("iterative")
    # Back under the loss before the round, and still improving: no round.
    losses = [2.0, 1.2, 0.9, 0.8, 0.7]
    assert _round_epochs(pruner, trainer, losses) == []
    # Three epochs without improvement (n_iter_no_change=2): the next round.
    assert _round_epochs(pruner, trainer, [0.7] * 3) == [12]


def test_a_round_waits_at_most_its_share_of_the_epochs_left():
    state = _state()
    pruner, trainer = _pruner(
        "iterative", state, sparsity=0.8, n_steps=4, max_iter=40, finetune_iter=4
    )
    rounds = _round_epochs(pruner, trainer, _improving(40))
    # Dense for its share of max_iter (half, at a target of 0.8), then the 4
    # rounds share the epochs left before the fine-tuning reserve (40 - 4):
    # the last one at or before 36.
    assert len(rounds) == 4 and rounds[0] == 20
    assert rounds == sorted(set(rounds)) and rounds[-1] <= 36
    assert trainer.rounds[-1]["target"] == pytest.approx(0.8)
    assert sum(_pruned(state)) == round(0.8 * 80)


def test_a_short_budget_takes_several_rounds_at_once():
    assert sched.rounds_due(10, 3) == 8
    assert sched.rounds_due(3, 10) == 1
    assert sched.rounds_due(5, 0) == 5
    state = _state()
    pruner, trainer = _pruner(
        "gradual", state, sparsity=0.8, n_steps=10, max_iter=12, finetune_iter=10
    )
    targets = list(pruner.plan.targets)
    rounds = _round_epochs(pruner, trainer, _improving(12))
    # The reserve is min(finetune_iter, max_iter // 4) = 3 epochs: the rounds
    # are done by epoch 9, and each recorded round is one of the targets.
    assert rounds and rounds[-1] <= 12 - 3
    assert len(trainer.rounds) == len(rounds) < 10
    for record in trainer.rounds:
        assert record["target"] in targets
    assert trainer.rounds[-1]["target"] == pytest.approx(0.8)
    assert not pruner.pending and sum(_pruned(state)) == round(0.8 * 80)


def test_rounds_happen_at_epoch_ends_only():
    state = _state()
    pruner, trainer = _pruner("gradual", state, stochastic=True, max_iter=4)
    state.t = 10**12
    for _ in range(50):
        pruner.on_batch_end(trainer)
    assert trainer.rounds == [] and all(m is None for m in state.masks)


def test_partial_fit_keeps_the_plateau_counts_between_calls():
    # Each partial_fit call is one epoch of the schedule, laid out once.
    losses = [1.0] * 6
    state = _state()
    pruner, trainer = _pruner("iterative", state)
    straight = _round_epochs(pruner, trainer, losses)
    state = _state()
    calls = []
    for loss in losses:
        pruner, trainer = _pruner("iterative", state, resume=True)
        if _epoch(pruner, trainer, loss).round_at_end:
            calls.append(state.n_iter)
    assert calls == straight == [4]


# ------------------------------------------------------------ auto
def _auto(scores, losses=None, tol=0.01, n_steps=4, changes=None):
    """sparsity='auto' on a hand-made state whose held-out scores are ``scores``
    (held-out losses ``losses``, 1.0 throughout if not given, and paired
    changes of the smoothed scores ``changes``, (0, 0) if not given)."""
    state = _state(shapes=((20, 30), (30, 4)))  # 720 weights, floors 34
    scores = iter(scores)
    losses = iter([] if losses is None else losses)
    pruner, trainer = _pruner(
        "gradual",
        state,
        sparsity="auto",
        n_steps=n_steps,
        max_iter=200,
        tol=tol,
        validation_data=(np.zeros((2, 20)), np.zeros((2, 4)), None),
        validation_score=lambda state: next(scores),
    )
    pruner.validation_loss = lambda state, coefs: next(losses, 1.0)
    changes = iter([] if changes is None else changes)
    pruner.held_out_change = lambda state: next(changes, (0.0, 0.0))
    return state, pruner, trainer


def test_auto_keeps_steps_within_the_tolerance_and_reverts_the_first_that_is_not():
    # Reference 0.90 (the dense network). The first step, to the default's
    # sparsity, scores 0.80 but its smoothed scores do not fall: kept, and
    # 0.80 is the reference from then on. The next step at 0.80 passes (tol
    # 0.01); then 0.75 fails, gets AUTO_RETRIES more recovery, fails again
    # and is reverted.
    retries = [0.76] * sched.AUTO_RETRIES
    state, pruner, trainer = _auto([0.90, 0.80, 0.80, 0.75, *retries])
    ladder = list(pruner.plan.targets)
    assert len(ladder) == 4 and ladder[-1] == pytest.approx(0.99)  # the ceiling
    assert _round_epochs(pruner, trainer, [1.0] * 4) == [4]  # dense: reference
    assert pruner.plan.reference_score == 0.90 and trainer.rounds == []
    assert pruner.plan.proposed == ladder[0] == sched.AUTO_FIRST
    assert pruner.plan.starting
    kept_masks = None
    for _ in range(20):
        if not pruner.pending:
            break
        if len(trainer.rounds) == 2 and kept_masks is None:
            kept_masks = [m.copy() for m in pruner.plan.checkpoint[2]]
        _epoch(pruner, trainer, 1.0)
    records = trainer.rounds
    assert [r["accepted"] for r in records] == [True, True, False]
    assert [r["start"] for r in records] == [True, False, False]
    assert [r["target"] for r in records] == pytest.approx(ladder[:3])
    assert [r["validation_score"] for r in records] == [0.80, 0.80, 0.76]
    assert [r["reference_score"] for r in records] == [0.90, 0.80, 0.80]
    # Back to the second step's masks; the search is over, fine-tuning on all
    # the training data follows.
    assert not pruner.pending
    for m, k in zip(_trained(state).masks, kept_masks):
        np.testing.assert_array_equal(m, k)
    assert sum(_pruned(state)) == round(ladder[1] * 720)
    assert records[1]["sparsity"] == pytest.approx(round(ladder[1] * 720) / 720)
    assert pruner.plan.finetune_until == state.n_iter + 2
    assert trainer.use_full_data and not trainer.stop_requested


def test_auto_refuses_the_default_step_only_on_evidence_of_a_loss():
    # The step to the default's sparsity fails only when its smoothed scores
    # fall beyond tol even AUTO_Z standard errors above their mean change:
    # here at every judgement, its retries included (the last value is the
    # one recorded), and the search ends on the dense network.
    z, tol = sched.AUTO_Z, 0.01
    losing = [(-0.02, 0.005 / z)] * sched.AUTO_RETRIES + [(-0.03, 0.005 / z)]
    state, pruner, trainer = _auto([0.9] * 10, changes=losing)
    _round_epochs(pruner, trainer, [1.0] * 30)
    assert [(r["accepted"], r["start"]) for r in trainer.rounds] == [(False, True)]
    assert trainer.rounds[0]["held_out_change"] == -0.03  # after its retries
    assert sum(_pruned(state)) == 0 and not pruner.pending
    # A fall that its standard error may explain keeps it at once: the mean
    # alone is below -tol, the mean plus AUTO_Z standard errors is not (the
    # strict test, the mean minus AUTO_Z standard errors, would refuse it).
    doubtful = [(-0.015, 0.006 / z)] * (sched.AUTO_RETRIES + 1)
    state, pruner, trainer = _auto([0.9] * 10, changes=doubtful)
    _round_epochs(pruner, trainer, [1.0] * 30)
    first = trainer.rounds[0]
    assert first["accepted"] and first["start"]
    assert first["held_out_change"] == -0.015 and first["iteration"] < 8
    # The same evidence for a later step: refused.
    later = Plan(starting=False, reference_score=0.9)
    assert pruner.tol == tol
    assert not sched.Auto.passes(pruner, later, 0.9, (-0.015, 0.006 / z))
    first_step = Plan(starting=True, reference_score=0.9)
    assert sched.Auto.passes(pruner, first_step, 0.9, (-0.015, 0.006 / z))


def test_auto_training_that_ends_during_the_first_step_judges_it_as_the_first():
    # max_iter reached while the step to the default's sparsity recovers: it
    # is judged by its own test (kept here, where the strict one would not).
    z = sched.AUTO_Z
    state, pruner, trainer = _auto([0.9] * 5, changes=[(-0.015, 0.006 / z)] * 5)
    _round_epochs(pruner, trainer, [1.0] * 4)
    assert pruner.plan.starting and pruner.plan.proposed == sched.AUTO_FIRST
    pruner.finish(state)
    assert [(r["accepted"], r["start"]) for r in trainer.rounds] == [(True, True)]
    assert sum(_pruned(state)) == round(0.3 * 720)


def test_auto_takes_the_default_step_alone_however_short_the_budget():
    # With few epochs left, later steps are taken several at a time; the
    # step to the default's sparsity is proposed alone.
    state, pruner, trainer = _auto([0.9] * 10, n_steps=10)
    pruner.plan.end = 14  # max_iter: the rounds have a few epochs only
    _round_epochs(pruner, trainer, [1.0] * 4)
    assert pruner.plan.proposed == sched.AUTO_FIRST and pruner.plan.starting
    assert len(pruner.plan.targets) == 9


def test_auto_ladder_starts_at_the_default_then_climbs_geometrically():
    auto = sched.Auto()
    ladder = auto.targets(0.0, 0.99, 10)
    assert ladder[0] == sched.AUTO_FIRST == 0.3
    keep = 1 - np.array(ladder[1:])
    np.testing.assert_allclose(keep[1:] / keep[:-1], (0.01 / 0.7) ** (1 / 9))
    assert ladder[-1] == pytest.approx(0.99)
    # From a network already past the first step (a warm start), or with a
    # single step, the ladder is geometric from where it stands.
    assert auto.targets(0.5, 0.99, 3) == pytest.approx(
        sched.geometric_targets(0.5, 0.99, 3)
    )
    assert auto.targets(0.0, 0.99, 1) == pytest.approx([0.99])


def test_auto_before_its_refit_stops_training_when_the_search_ends():
    fails = [0.5] * (sched.AUTO_RETRIES + 1)
    state, pruner, trainer = _auto([0.90, 0.90, *fails])
    pruner.search_only = True
    epochs = []
    for _ in range(30):
        epochs.append(_epoch(pruner, trainer, 1.0))
        if epochs[-1].stop:
            break
    assert [r["accepted"] for r in trainer.rounds] == [True, False]
    assert trainer.stop_requested and epochs[-1].stop and not pruner.pending
    assert not any(e.stop for e in epochs[:-1])


def test_auto_keeps_a_step_that_recovers_in_its_retry():
    fails = [0.5] * (sched.AUTO_RETRIES + 1)
    state, pruner, trainer = _auto([0.90, 0.90, 0.85, 0.899, *fails])
    _round_epochs(pruner, trainer, [1.0] * 30)
    assert [r["accepted"] for r in trainer.rounds] == [True, True, False]
    assert [r["validation_score"] for r in trainer.rounds] == [0.90, 0.899, 0.5]
    assert not pruner.pending


def test_auto_rejects_a_step_whose_smoothed_scores_fall_beyond_the_tolerance():
    # The accuracy holds; the paired change of the smoothed scores, AUTO_Z
    # standard errors below its mean, does not (tol 0.01): the step is
    # reverted after its retries. A mean fall within tol whose standard error takes it
    # past tol fails too; one that stays within passes.
    z = sched.AUTO_Z
    changes = [(-0.004, 0.001)] + [(-0.008, 0.003 / z)] * (sched.AUTO_RETRIES + 1)
    state, pruner, trainer = _auto([0.9] * (sched.AUTO_RETRIES + 3), changes=changes)
    _round_epochs(pruner, trainer, [1.0] * 30)
    assert [r["accepted"] for r in trainer.rounds] == [True, False]
    assert [r["held_out_change"] for r in trainer.rounds] == [-0.004, -0.008]
    assert trainer.rounds[-1]["held_out_change_se"] == pytest.approx(0.003 / z)
    assert trainer.rounds[-1]["validation_loss"] == 1.0


def test_paired_change_is_the_mean_difference_and_its_standard_error():
    rng = np.random.default_rng(0)
    ref = rng.uniform(size=50)
    new = ref + rng.normal(-0.01, 0.02, size=50)
    mean, se = sched.paired_change(new, ref)
    d = new - ref
    assert mean == pytest.approx(d.mean())
    assert se == pytest.approx(d.std(ddof=1) / np.sqrt(50))
    # Weighted: the weighted mean, and the standard error over the effective
    # sample size (sum w)^2 / sum w^2.
    w = rng.integers(1, 4, size=50)
    mean_w, se_w = sched.paired_change(new, ref, w)
    rep = np.repeat(d, w)
    assert mean_w == pytest.approx(rep.mean())
    assert se_w == pytest.approx(
        rep.std() * np.sqrt(1 / (w.sum() ** 2 / (w @ w) - 1)), rel=1e-12
    )
    assert sched.paired_change([1.0], [0.5]) == (0.5, 0.0)
    assert sched.paired_change([], []) == (0.0, 0.0)
    assert sched.paired_change([-np.inf, 1.0], [0.5, 0.5]) == (-np.inf, 0.0)


# ------------------------------------------------------------ allocation
def test_pruned_weights_never_come_back_and_counts_are_exact():
    state = _state(shapes=((10, 10), (10, 5)))
    pruner, trainer = _pruner("iterative", state, sparsity=0.6, n_steps=3)
    kept = []
    while pruner.pending:
        pruner.apply(state, pruner.plan.targets.popleft(), rewind=False)
        kept.append([m.copy() for m in state.masks])
    for before, after in zip(kept, kept[1:]):
        for b, a in zip(before, after):
            assert not np.any(a & ~b)  # nothing regrown
    masks = _trained(state).masks
    assert np.count_nonzero(~masks[0]) == 60  # 0.6 of 100
    assert np.count_nonzero(~masks[1]) == 30  # 0.6 of 50: no output rate


SHAPES = ((6, 8), (8, 8), (8, 4))


@pytest.mark.parametrize("scope", ["layer", "erk", "global"])
@pytest.mark.parametrize("target", [0.1, 0.37, 0.5, 0.8])
def test_every_scope_prunes_the_target_share_of_all_weights(scope, target):
    state = _state(shapes=SHAPES)
    pruner, _ = _pruner("oneshot", state, sparsity=target, scope=scope)
    pruner.finish(state)
    pruned = _pruned(state)
    sizes = [a * b for a, b in SHAPES]
    assert sum(pruned) == round(target * sum(sizes))
    for n, size, floor in zip(pruned, sizes, pruner.granularity.floors(state)):
        assert size - n >= floor
    if scope == "layer":
        for n, size in zip(pruned, sizes):
            assert abs(n - target * size) <= 1
    elif scope == "erk":
        density = erk_densities(SHAPES, (1 - target) * sum(sizes))
        for n, size, d in zip(pruned, sizes, density):
            assert abs(n - (1 - d) * size) <= 1


ERK_SHAPES = [
    [(64, 40), (40, 20), (20, 10)],
    [(6, 8), (8, 8), (8, 4)],
    [(100, 100), (100, 2)],
    [(200, 200), (200, 4), (4, 3)],
    [(784, 300), (300, 100), (100, 10)],
]


@pytest.mark.parametrize("shapes", ERK_SHAPES)
@pytest.mark.parametrize("keep_share", [0.02, 0.1, 0.5, 0.9])
def test_erk_densities_follow_the_formula_and_the_budget(shapes, keep_share):
    sizes = np.array([a * b for a, b in shapes], dtype=float)
    raw = np.array([(a + b) / (a * b) for a, b in shapes])
    keep = keep_share * sizes.sum()
    density = erk_densities(shapes, keep)
    assert np.all(density >= 0) and np.all(density <= 1)
    assert (density * sizes).sum() == pytest.approx(keep)
    dense = density == 1.0
    free = ~dense
    if free.any():
        # The other layers: eps * (n_in + n_out) / (n_in * n_out), one eps.
        eps = density[free] / raw[free]
        np.testing.assert_allclose(eps, eps[0], rtol=1e-12)
        # A layer is dense only because its share would exceed 1 at that eps.
        assert np.all(eps[0] * raw[dense] >= 1 - 1e-12)


def test_erk_caps_a_layer_at_dense_and_the_others_share_the_rest():
    # Without the cap, (100, 2) would get 8.6 times its weights; dense, it keeps
    # its 200 and the first layer the other 4900 of 10000.
    density = erk_densities([(100, 100), (100, 2)], 5100)
    np.testing.assert_allclose(density, [0.49, 1.0])
    # Small layers stay denser than large ones.
    density = erk_densities([(64, 40), (40, 20), (20, 10)], 356)
    assert density[0] < density[1] < density[2] < 1
    np.testing.assert_allclose(
        density / [(64 + 40) / 2560, (40 + 20) / 800, (20 + 10) / 200],
        356 / (64 + 40 + 40 + 20 + 20 + 10),
    )
    np.testing.assert_allclose(erk_densities([(4, 3), (3, 2)], 18), [1.0, 1.0])
    np.testing.assert_allclose(erk_densities([(4, 3), (3, 2)], 0), [0.0, 0.0])


@pytest.mark.parametrize("granularity, sparsity", [("weight", 0.7), ("neuron", 0.5)])
def test_global_scope_reaches_the_total_and_keeps_every_output_fed(
    granularity, sparsity
):
    state = _state(shapes=((6, 8), (8, 8), (8, 4)))
    pruner, _ = _pruner(
        "oneshot", state, sparsity=sparsity, scope="global", granularity=granularity
    )
    pruner.finish(state)
    assert pruner.granularity.reached(_trained(state), sparsity)
    if granularity == "weight":
        assert sum(_pruned(state)) == round(sparsity * 144)
    # Every output still has a path from the inputs.
    reach = np.ones(6, bool)
    trained = _trained(state)
    for coef, mask in zip(trained.coefs, trained.masks):
        kept = np.ones(coef.shape, bool) if mask is None else mask
        reach = kept[reach].any(axis=0)
    assert reach.all()


def test_granularities_know_their_sizes_and_floors():
    state = _state(shapes=((6, 8), (8, 4)))
    weights = GRANULARITIES["weight"](SCOPES["layer"]())
    connected = GRANULARITIES["weight"](SCOPES["global"]())
    units = GRANULARITIES["neuron"](SCOPES["layer"]())
    assert weights.sizes(state) == [48, 32] and units.sizes(state) == [8]
    # The output layer keeps a weight per output; under the global scope every
    # layer keeps one per output unit (every output keeps a path).
    assert weights.floors(state) == [1, 4]
    assert GRANULARITIES["weight"](SCOPES["erk"]()).floors(state) == [1, 4]
    assert connected.floors(state) == [8, 4]
    assert units.floors(state) == [1]
    assert weights.reachable(state) == pytest.approx(1 - 5 / 80)
    assert connected.reachable(state) == pytest.approx(1 - 12 / 80)
    assert not hasattr(weights, "rates")  # no output layer at its own rate
    with pytest.raises(ValueError, match="no hidden layer"):
        units.check_network(state.coefs[:1])
    # A target beyond the floors warns, and is pruned as far as they allow.
    with pytest.warns(UserWarning, match="cannot be reached"):
        connected.check(state, 0.9)
    assert connected.counts(state, 0.9) == [40, 28]
    with pytest.warns(UserWarning, match="cannot be reached"):
        weights.check(state, 0.99)
    assert weights.counts(state, 0.99) == [47, 28]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weights.check(state, 0.9)
        connected.check(state, 0.85)  # exactly the floors: reachable


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_an_unreachable_target_warns_and_prunes_to_the_floors(scope):
    state = _state(shapes=((4, 2), (2, 3)))
    with pytest.warns(UserWarning, match="pruned that far"):
        pruner, _ = _pruner("iterative", state, sparsity=0.9, scope=scope)
    pruner.finish(state)
    floors = pruner.granularity.floors(state)
    assert floors == ([1, 3] if scope == "layer" else [2, 3])
    assert _pruned(state) == [8 - floors[0], 6 - floors[1]]
    assert pruner.granularity.reached(state, 0.9)


@pytest.mark.parametrize("scope", ["layer", "erk", "global"])
def test_neuron_targets_are_a_share_of_all_weights(scope):
    shapes = ((64, 40), (40, 20), (20, 10))
    state = _state(shapes=shapes)
    pruner, _ = _pruner(
        "oneshot", state, sparsity=0.5, granularity="neuron", scope=scope
    )
    pruner.finish(state)
    alive = [int(m.any(axis=0).sum()) for m in _trained(state).masks[:-1]]
    widths = [64, *alive, 10]
    kept = sum(a * b for a, b in zip(widths, widths[1:]))
    # The kept weights are within one unit's weights of half of them all ...
    assert abs(kept - 0.5 * 3560) <= 64 + 20
    if scope != "global":
        # The same share of units in every hidden layer, far more than half:
        # a unit takes its incoming and outgoing weights with it.
        assert abs(alive[0] / 40 - alive[1] / 20) <= 1 / 20 + 1e-12
        assert sum(alive) > 0.5 * 60


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_neuron_pruning_that_can_remove_nothing_says_so(scope):
    state = _state(shapes=((6, 1), (1, 4)))
    with pytest.warns(UserWarning, match="removes no hidden unit"):
        _pruner("gradual", state, sparsity=0.4, granularity="neuron", scope=scope)
    wide = _state(shapes=((6, 8), (8, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _pruner("gradual", wide, sparsity=0.4, granularity="neuron", scope=scope)


# ------------------------------------------------------------ the plan
def test_the_plan_pickles_as_plain_data_and_refuses_unknown_entries():
    state = _state()
    pruner, _ = _pruner("lottery", state)
    data = pruner.plan.to_dict()
    assert isinstance(data, dict) and data["targets"]
    assert set(data) == {
        "settings",
        "targets",
        "phase",
        "phase_start",
        "end",
        "plateau",
        "before_loss",
        "round_first",
        "round_best",
        "round_count",
        "finetune_until",
        "rewind",
        "learning_rate_rewind",
        "reference_loss",
        "ladder",
        "search_round",
        "reference_score",
        "proposed",
        "retries",
        "checkpoint",
        "starting",
        "regrowth",
    }
    assert data["end"] == 40 and data["phase"] == "dense"
    copy = Plan.from_dict(pickle.loads(pickle.dumps(data)))
    assert copy.targets == pruner.plan.targets and copy.settings == pruner.plan.settings
    with pytest.raises(ValueError, match="another version"):
        Plan.from_dict({**data, "future_field": 1})


def test_a_plan_saved_by_the_old_timing_still_loads():
    assert set(RETIRED) == {"positions", "caps"}
    old = {
        "settings": None,
        "targets": [0.5, 0.8],
        "positions": [120, 240],
        "phase_start": 3,
        "caps": [10, 10],
        "finetune_until": None,
        "rewind": None,
        "reference_loss": None,
        "ladder": None,
        "search_round": None,
    }
    plan = Plan.from_dict(old)
    assert list(plan.targets) == [0.5, 0.8] and plan.pending
    assert plan.phase == "rounds"  # its dense phase was over
    assert not hasattr(plan, "positions") and not hasattr(plan, "caps")
    assert "positions" not in plan.to_dict()
    # A finished old plan, and a new one that says its phase, keep theirs.
    assert Plan.from_dict({**old, "targets": []}).phase == "dense"
    assert Plan.from_dict({**old, "phase": "ready"}).phase == "ready"
    with pytest.raises(ValueError, match="unknown entries"):
        Plan.from_dict({**old, "updates_per_epoch": 3})


def test_a_stored_plan_with_a_search_checkpoint_is_refused():
    from skprune._fitted import _check_pending_plan

    state = _state()
    pruner, _ = _pruner("iterative", state)
    data = pruner.plan.to_dict()
    _check_pending_plan(data, [6, 8, 4])
    with pytest.raises(ValueError, match="checkpoint"):
        _check_pending_plan({**data, "checkpoint": state.snapshot()}, [6, 8, 4])
    _check_pending_plan({**data, "positions": [1], "caps": [2]}, [6, 8, 4])


def test_a_resumed_plan_with_a_new_sparsity_is_retargeted():
    state = _state()
    pruner, trainer = _pruner("iterative", state, sparsity=0.5)
    assert _round_epochs(pruner, trainer, [1.0] * 6) == [4]
    assert len(pruner.plan.targets) == 2
    again = Pruner(
        criterion="magnitude",
        scope="layer",
        granularity="weight",
        schedule="iterative",
        sparsity=0.7,
        n_steps=3,
        finetune_iter=2,
        tol=0.0,
        rng=np.random.RandomState(0),
    )
    assert again.can_resume(state, 40)
    again.start(state, max_iter=40, stochastic=False, train_data=None, resume=True)
    assert again.plan is state.plan and again.plan.phase == "rounds"
    assert len(again.plan.targets) == 2 and again.plan.targets[-1] == pytest.approx(0.7)


def test_many_pruning_steps_cost_linear_time():
    import time

    def lay_out_and_run(n_steps):
        state = _state(shapes=((6, 40), (40, 4)))
        start = time.perf_counter()
        # Two epochs in all: the dense phase ends after the first, and every
        # round is due at once.
        pruner, trainer = _pruner(
            "gradual", state, sparsity=0.5, n_steps=n_steps, max_iter=2
        )
        _epoch(pruner, trainer, 1.0)
        return time.perf_counter() - start, pruner, trainer

    small, _, _ = lay_out_and_run(20_000)
    large, pruner, trainer = lay_out_and_run(200_000)
    assert not pruner.pending and len(trainer.rounds) == 1
    assert trainer.rounds[0]["target"] == pytest.approx(0.5)
    # Ten times the rounds, at most about ten times the time (quadratic: 100x).
    assert large < 30 * small + 0.05


def test_auto_pairs_the_held_out_samples_against_the_reference_weighted():
    # The pruner keeps the reference network's per-sample scores and pairs
    # the current ones with them, with the held-out sample weights.
    state = _state(shapes=((20, 30), (30, 4)))
    values = iter([np.array([0.9, 0.8, 0.7]), np.array([0.8, 0.8, 0.4])])
    weights = np.array([1.0, 2.0, 3.0])
    pruner, trainer = _pruner(
        "gradual",
        state,
        sparsity="auto",
        validation_data=(np.zeros((3, 20)), np.zeros((3, 4)), weights),
        validation_score=lambda state: 1.0,
    )
    assert pruner.held_out_change(state) == (0.0, 0.0)  # no reference yet
    pruner._contributions = lambda state: next(values)
    pruner.set_reference(state)
    mean, se = pruner.held_out_change(state)
    expected = sched.paired_change([0.8, 0.8, 0.4], [0.9, 0.8, 0.7], weights)
    assert (mean, se) == pytest.approx(expected)
    assert mean == pytest.approx((-0.1 - 0.9) / 6)


def test_auto_takes_its_reference_after_the_default_step_and_keeps_it():
    # The reference is taken at the end of the dense phase, for the first
    # step, then once more when that step has recovered; later kept steps do
    # not move it.
    state, pruner, trainer = _auto([0.90] * 4 + [0.5] * (sched.AUTO_RETRIES + 1))
    del pruner.held_out_change  # the pruner's own pairing
    calls = iter(np.arange(10.0)[:, None] * np.ones((1, 2)))
    pruner._contributions = lambda state: next(calls)
    _round_epochs(pruner, trainer, [1.0] * 30)
    assert [r["accepted"] for r in trainer.rounds][:3] == [True, True, True]
    # Calls: 0 the dense reference, 1 the first step's change, 2 its network
    # as the reference, 3 and 4 the next steps' changes.
    np.testing.assert_array_equal(pruner.reference_contributions, [2.0, 2.0])
    assert [r["held_out_change"] for r in trainer.rounds[:3]] == [1.0, 1.0, 2.0]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_fit_of_many_minibatches_starts_gradual_rounds_early():
    # Digits, 36 minibatches of 50 per epoch: 100 steps take 3 epochs, and a
    # fifth of max_iter=20 is 4; iterative, and L-BFGS (one step per
    # iteration), keep half of max_iter, and so does a target below 0.95.
    from sklearn.datasets import load_digits

    from skprune import PrunedMLPClassifier

    X, y = load_digits(return_X_y=True)
    common = dict(hidden_layer_sizes=(16,), max_iter=20, batch_size=50, sparsity=0.95)
    first = {}
    below = PrunedMLPClassifier(random_state=0, **{**common, "sparsity": 0.9})
    assert below.fit(X / 16, y).pruning_history_[0]["iteration"] == 10
    for schedule, solver in [
        ("gradual", "adam"),
        ("gradual", "lbfgs"),
        ("iterative", "adam"),
    ]:
        model = PrunedMLPClassifier(
            pruning_schedule=schedule, solver=solver, random_state=0, **common
        ).fit(X / 16, y)
        first[schedule, solver] = model.pruning_history_[0]["iteration"]
        assert model.sparsity_ == pytest.approx(0.95, abs=0.005)
    assert first == {
        ("gradual", "adam"): 4,
        ("gradual", "lbfgs"): 10,
        ("iterative", "adam"): 10,
    }


def test_proportional_densities_keep_the_budget_for_any_raw_shares():
    from skprune._pruning.allocation import proportional_densities

    shapes = [(784, 300), (300, 100), (100, 10)]
    sizes = np.array([a * b for a, b in shapes], dtype=float)
    raw = [1.0, 4.0, 80.0]  # the last layer would exceed 1: it stays dense
    density = proportional_densities(shapes, raw, 0.05 * sizes.sum())
    assert density[2] == 1.0
    assert (density * sizes).sum() == pytest.approx(0.05 * sizes.sum())
    assert density[1] / density[0] == pytest.approx(4.0)
