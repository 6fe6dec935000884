"""Schedules, allocation and the plan on a hand-made training state (no fits)."""

import pickle

import numpy as np
import pytest

from skprune._optim import TrainState
from skprune._optim.callbacks import EpochEnd
from skprune._pruning import SCHEDULES, Plan, Pruner
from skprune._pruning.allocation import GRANULARITIES, SCOPES


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
        tol=0.0,
        rng=np.random.RandomState(0),
    )
    pruner.start(
        state,
        epoch_samples=100,
        updates_per_epoch=1 if stochastic else None,
        max_iter=kwargs.pop("max_iter", 40),
        stochastic=stochastic,
        train_data=(np.zeros((4, 6)), np.zeros((4, 4)), None),
    )
    trainer = _Trainer(state)
    pruner.on_fit_begin(trainer)
    return pruner, trainer


def _epoch(pruner, trainer, loss):
    trainer.state.n_iter += 1
    pruner.on_epoch_begin(trainer)
    epoch = EpochEnd(loss=loss)
    pruner.on_epoch_end(trainer, epoch)
    return epoch


def test_every_schedule_is_one_class_with_the_small_interface():
    for name, cls in SCHEDULES.items():
        schedule = cls()
        for hook in ("lay_out", "after_update", "after_epoch", "finish", "targets"):
            assert callable(getattr(schedule, hook)), (name, hook)
        assert schedule.needs_validation is (name == "greedy")


def test_a_plateaued_loss_ends_the_dense_phase_of_iterative():
    state = _state()
    pruner, trainer = _pruner("iterative", state)
    assert list(pruner.plan.targets) == pytest.approx([0.2063, 0.37, 0.5], abs=1e-4)
    # Improving losses: no round.
    for loss in (1.0, 0.5, 0.25):
        assert not _epoch(pruner, trainer, loss).round_at_end
    # Three epochs without improvement (n_iter_no_change=2): the phase ends.
    ends = [_epoch(pruner, trainer, 0.25).round_at_end for _ in range(3)]
    assert ends == [False, False, True]
    assert len(trainer.rounds) == 1 and trainer.rounds[0]["accepted"]
    assert pruner.plan.phase_start == state.n_iter
    # The hidden layer reaches the round's target, the output layer half of it.
    assert (~state.masks[0]).sum() == round(0.2063 * 48)
    assert (~state.masks[1]).sum() == round(0.2063 * 0.5 * 32)


def test_a_phase_that_runs_out_of_its_cap_prunes_anyway():
    state = _state()
    pruner, trainer = _pruner("oneshot", state, max_iter=12, finetune_iter=2)
    assert list(pruner.plan.caps) == [10]  # the whole budget but the fine-tuning
    ends = [_epoch(pruner, trainer, 1.0 / (k + 1)).round_at_end for k in range(10)]
    assert ends == [False] * 9 + [True]
    assert not pruner.pending
    assert pruner.finetuning(state)  # the guaranteed fine-tuning epochs follow


def test_gradual_prunes_at_its_positions_along_the_cubic():
    state = _state()
    pruner, trainer = _pruner("gradual", state, sparsity=0.8, n_steps=4)
    positions = list(pruner.plan.positions)
    assert positions == sorted(positions) and len(positions) == 4
    targets = list(pruner.plan.targets)
    np.testing.assert_allclose(
        targets, [0.8 * (1 - (1 - k / 4) ** 3) for k in (1, 2, 3, 4)]
    )
    reached = []
    while pruner.pending:
        epoch = _epoch(pruner, trainer, 1.0)
        if epoch.round_at_end:
            reached.append(state.n_iter)
    assert reached == positions
    np.testing.assert_allclose(state.masks[0].mean(), 0.2, atol=0.03)


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
    assert np.count_nonzero(~state.masks[0]) == 60  # 0.6 of 100
    assert np.count_nonzero(~state.masks[1]) == 15  # output layer at half: 0.3 of 50


@pytest.mark.parametrize("granularity, sparsity", [("weight", 0.7), ("neuron", 0.5)])
def test_global_scope_reaches_the_total_and_keeps_every_output_fed(
    granularity, sparsity
):
    state = _state(shapes=((6, 8), (8, 8), (8, 4)))
    pruner, _ = _pruner(
        "oneshot", state, sparsity=sparsity, scope="global", granularity=granularity
    )
    pruner.finish(state)
    assert pruner.granularity.reached(state, sparsity)
    # Every output still has a path from the inputs.
    reach = np.ones(6, bool)
    for coef, mask in zip(state.coefs, state.masks):
        kept = np.ones(coef.shape, bool) if mask is None else mask
        reach = kept[reach].any(axis=0)
    assert reach.all()


def test_granularities_know_their_sizes_and_floors():
    state = _state(shapes=((6, 8), (8, 4)))
    weights = GRANULARITIES["weight"](SCOPES["global"]())
    units = GRANULARITIES["neuron"](SCOPES["layer"]())
    assert weights.sizes(state) == [48, 32] and weights.floors(state) == [8, 4]
    assert units.sizes(state) == [8] and units.floors(state) == [1]
    assert weights.rates(state) == [1.0, 1.0]
    assert GRANULARITIES["weight"](SCOPES["layer"]()).rates(state) == [1.0, 0.5]
    with pytest.raises(ValueError, match="no hidden layer"):
        units.check_network(state.coefs[:1])
    with pytest.raises(ValueError, match="too high"):
        weights.check(state, 0.99)


def test_the_plan_pickles_as_plain_data_and_refuses_unknown_entries():
    state = _state()
    pruner, _ = _pruner("lottery", state)
    data = pruner.plan.to_dict()
    assert isinstance(data, dict) and data["targets"]
    copy = Plan.from_dict(pickle.loads(pickle.dumps(data)))
    assert copy.targets == pruner.plan.targets and copy.settings == pruner.plan.settings
    with pytest.raises(ValueError, match="another version"):
        Plan.from_dict({**data, "future_field": 1})


def test_a_resumed_plan_with_a_new_sparsity_is_retargeted():
    state = _state()
    pruner, trainer = _pruner("iterative", state, sparsity=0.5)
    for _ in range(6):
        _epoch(pruner, trainer, 1.0)
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
    again.start(
        state,
        epoch_samples=100,
        updates_per_epoch=None,
        max_iter=40,
        stochastic=False,
        train_data=None,
        resume=True,
    )
    assert len(again.plan.targets) == 2 and again.plan.targets[-1] == pytest.approx(0.7)


def test_many_pruning_steps_cost_linear_time():
    import time

    def lay_out_and_run(n_steps):
        state = _state(shapes=((6, 40), (40, 4)))
        pruner, trainer = _pruner(
            "gradual", state, sparsity=0.5, n_steps=n_steps, stochastic=True
        )
        start = time.perf_counter()
        state.t = 10**12  # every round is due: one pass consumes them all
        pruner.on_batch_end(trainer)
        return time.perf_counter() - start, pruner

    small, _ = lay_out_and_run(20_000)
    large, pruner = lay_out_and_run(200_000)
    assert not pruner.pending and len(pruner.trainer.rounds) == 1
    # Ten times the rounds, at most about ten times the time (quadratic: 100x).
    assert large < 30 * small + 0.05


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_neuron_pruning_that_can_remove_nothing_says_so(scope):
    state = _state(shapes=((6, 1), (1, 4)))
    with pytest.warns(UserWarning, match="removes no hidden unit"):
        _pruner("gradual", state, sparsity=0.4, granularity="neuron", scope=scope)
    wide = _state(shapes=((6, 8), (8, 4)))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _pruner("gradual", wide, sparsity=0.4, granularity="neuron", scope=scope)
