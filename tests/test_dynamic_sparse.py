"""Dynamic sparse training: pruning_schedule="rigl" and "set"."""

import math
import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skprune import PrunedMLPClassifier
from skprune._optim import TrainState
from skprune._optim.optimizers import Adam
from skprune._pruning import Pruner
from skprune._pruning import schedules as sched

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:500] / 16, y[:500]


def _kept(model):
    """Kept weights per layer of the network as trained."""
    state = model._state.copy()
    state.expand()
    return [m.size if m is None else int(m.sum()) for m in state.masks]


def _moving_pruner(state, grow, X, Y):
    pruner = Pruner(
        criterion="magnitude",
        scope="layer",
        granularity="weight",
        schedule="rigl" if grow == "gradient" else "set",
        sparsity=0.8,
        n_steps=1,
        finetune_iter=1,
        tol=0.0,
        rng=np.random.RandomState(0),
    )
    pruner.start(state, max_iter=20, stochastic=True, train_data=(X, Y, None))
    return pruner


def test_update_fraction_decays_along_a_cosine():
    assert sched.update_fraction(0, 10) == pytest.approx(sched.RIGL_ALPHA)
    assert sched.update_fraction(5, 10) == pytest.approx(sched.RIGL_ALPHA / 2)
    assert sched.update_fraction(10, 10) == 0.0
    values = [sched.update_fraction(t, 10) for t in range(11)]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize("grow", ["gradient", "random"])
@pytest.mark.parametrize("dense_state", [True, False])
def test_moved_weights_start_at_zero_with_zero_moments(grow, dense_state):
    rng = np.random.RandomState(0)
    shapes = [(20, 30), (30, 5)]
    coefs = [rng.normal(size=s) for s in shapes]
    state = TrainState(
        coefs, [np.zeros(s[1]) for s in shapes], [None, None], "relu", "softmax"
    )
    X, Y = rng.normal(size=(60, 20)), np.eye(5)[rng.randint(5, size=60)]
    pruner = _moving_pruner(state, grow, X, Y)
    # The optimizer keeps dense state above COMPRESS_DENSITY, else the kept
    # weights' state only.
    pruner.apply(state, 0.3 if dense_state else 0.9, rewind=False)
    optimizer = Adam(state.params)
    state.attach_optimizer(optimizer)
    assert (optimizer.index[0] is None) == dense_state
    for _ in range(3):  # moments of the kept weights become nonzero
        grads = [rng.normal(size=p.shape) for p in state.params]
        optimizer.update_params(state.params, grads)
    before = [m.copy() for m in state.masks]
    values = [c.copy() for c in state.coefs]
    kept = [int(m.sum()) for m in before]
    pruner.move_weights(state, 0.3, grow)
    record = state.history[-1]
    assert record["update_fraction"] == 0.3
    assert record["regrown"] == sum(
        int((n & ~o).sum()) for o, n in zip(before, state.masks)
    )
    assert record["regrown"] > 0
    for i, (old, new) in enumerate(zip(before, state.masks)):
        assert int(new.sum()) == kept[i]  # the count is exact
        grown = new & ~old
        np.testing.assert_array_equal(state.coefs[i][grown], 0)
        # A weight that stays (dropped and chosen again, or never dropped)
        # keeps its value.
        np.testing.assert_array_equal(state.coefs[i][new & old], values[i][new & old])
        for moments in (optimizer.ms[i], optimizer.vs[i]):
            if optimizer.index[i] is None:
                np.testing.assert_array_equal(moments[grown], 0)
            else:
                at = np.searchsorted(optimizer.index[i], np.flatnonzero(grown))
                np.testing.assert_array_equal(moments[at], 0)
        # Pruned weights are exact zeros.
        np.testing.assert_array_equal(state.coefs[i][~new], 0)


def test_gradient_regrowth_picks_the_largest_gradients():
    rng = np.random.RandomState(1)
    shapes = [(6, 8), (8, 3)]
    state = TrainState(
        [rng.normal(size=s) for s in shapes],
        [np.zeros(s[1]) for s in shapes],
        [None, None],
        "relu",
        "softmax",
    )
    X, Y = rng.normal(size=(40, 6)), np.eye(3)[rng.randint(3, size=40)]
    pruner = _moving_pruner(state, "gradient", X, Y)
    pruner.apply(state, 0.7, rewind=False)
    before = [m.copy() for m in state.masks]
    grads = pruner.dense_gradient(state)
    pruner.move_weights(state, 0.25, "gradient")
    for old, new, g in zip(before, state.masks, grads):
        grown = new & ~old
        # Every regrown weight has a gradient at least as large as any
        # position left free that was free before the update.
        left = ~new & ~old
        if grown.any() and left.any():
            assert np.abs(g[grown]).min() >= np.abs(g[left]).max()


@pytest.mark.parametrize("schedule", ["rigl", "set"])
def test_fit_starts_sparse_and_keeps_every_layers_count(data, schedule):
    X, y = data
    clf = PrunedMLPClassifier(
        hidden_layer_sizes=(40,),
        sparsity=0.8,
        pruning_schedule=schedule,
        pruning_scope="erk",
        max_iter=12,
        random_state=0,
    ).fit(X, y)
    history = clf.pruning_history_
    # The first round is at the start, at the target.
    assert history[0]["iteration"] == 0
    assert history[0]["sparsity"] == pytest.approx(0.8, abs=1e-3)
    updates = history[1:]
    assert updates and all("regrown" in r for r in updates)
    horizon = math.ceil(sched.RIGL_END_SHARE * 12)
    for r in updates:
        assert r["update_fraction"] == pytest.approx(
            sched.update_fraction(r["iteration"], horizon)
        )
        assert r["sparsity"] == pytest.approx(history[0]["sparsity"])
        assert r["layer_sparsity"] == pytest.approx(history[0]["layer_sparsity"])
    assert clf.sparsity_ == pytest.approx(0.8, abs=1e-3)
    assert sum(r["regrown"] for r in updates) > 0


def test_partial_fit_goes_on_with_the_same_cosine(data):
    X, y = data
    clf = PrunedMLPClassifier(
        hidden_layer_sizes=(30,),
        sparsity=0.8,
        pruning_schedule="rigl",
        max_iter=8,
        random_state=0,
    )
    for call in range(8):
        clf.partial_fit(X, y, classes=np.arange(10))
        if call == 3:  # also across a reload
            clf = pickle.loads(pickle.dumps(clf))
    fractions = [r["update_fraction"] for r in clf.pruning_history_[1:]]
    assert fractions == pytest.approx(
        [sched.update_fraction(t, 6) for t in range(1, 6)]
    )
    kept = _kept(clf)
    clf.partial_fit(X, y)  # past the horizon: nothing moves any more
    assert len(clf.pruning_history_) == 6 and _kept(clf) == kept


def test_rigl_needs_a_stochastic_solver(data):
    X, y = data
    with pytest.raises(ValueError, match="solver='lbfgs' does not have"):
        PrunedMLPClassifier(pruning_schedule="rigl", solver="lbfgs", max_iter=3).fit(
            X, y
        )


@pytest.mark.parametrize("schedule", ["rigl", "set"])
def test_dynamic_sparse_training_refuses_neuron_granularity(data, schedule):
    # It moves single weights: under neuron pruning SET left partly connected
    # units, and RigL's updates silently moved nothing.
    X, y = data
    with pytest.raises(ValueError, match="granularity='weight' with it"):
        PrunedMLPClassifier(
            pruning_schedule=schedule, granularity="neuron", max_iter=3
        ).fit(X, y)


def test_verbose_reports_each_update(data, capsys):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        PrunedMLPClassifier(
            hidden_layer_sizes=(20,),
            sparsity=0.7,
            pruning_schedule="rigl",
            max_iter=3,
            verbose=True,
            random_state=0,
        ).fit(X, y)
    assert "weights moved" in capsys.readouterr().out


def test_a_stored_regrowth_plan_is_checked_on_load(data):
    X, y = data
    clf = PrunedMLPClassifier(
        hidden_layer_sizes=(10,), sparsity=0.5, pruning_schedule="rigl", max_iter=8
    )
    clf.partial_fit(X, y, classes=np.arange(10))
    state = clf.__getstate__()
    assert state["_pending_plan"]["regrowth"] == [0, 6]
    state["_pending_plan"]["regrowth"] = [0, "soon"]
    with pytest.raises(ValueError, match="regrowth is not two iteration counts"):
        PrunedMLPClassifier().__setstate__(state)
