"""Input features constant over the training data lose their weights first."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits

from skprune import PrunedMLPClassifier
from skprune._core import forward
from skprune._pruning.pruner import Pruner, constant_inputs

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    X = X[:500] / 16
    # Two more constant columns, one of them non-zero.
    X = np.hstack([X, np.zeros((len(X), 1)), np.full((len(X), 1), 0.5)])
    return X, y[:500]


def _small(**params):
    """The classifier these tests fit: 20 hidden units, seeded."""
    return PrunedMLPClassifier(hidden_layer_sizes=(20,), random_state=0, **params)


def _constant_rows(X):
    return np.flatnonzero(np.ptp(X, axis=0) == 0)


def test_constant_inputs_finds_columns_and_values():
    X = np.array([[1.0, 0.0, 3.0], [2.0, 0.0, 3.0], [5.0, 0.0, 3.0]])
    rows, values = constant_inputs(X)
    np.testing.assert_array_equal(rows, [1, 2])
    np.testing.assert_array_equal(values, [0.0, 3.0])
    rows, values = constant_inputs(sp.csr_matrix(X))
    np.testing.assert_array_equal(rows, [1, 2])
    np.testing.assert_array_equal(values, [0.0, 3.0])
    assert constant_inputs(X[:1]) is None  # one row says nothing
    assert constant_inputs(np.eye(3)) is None


@pytest.mark.parametrize("criterion", ["magnitude", "random", "taylor"])
@pytest.mark.parametrize("schedule", ["gradual", "rigl", "oneshot"])
def test_constant_inputs_keep_no_weight(data, criterion, schedule):
    X, y = data
    rows = _constant_rows(X)
    assert rows.size >= 3
    clf = _small(
        sparsity=0.5, pruning=criterion, pruning_schedule=schedule, max_iter=30
    ).fit(X, y)
    assert clf.sparsity_ == pytest.approx(0.5, abs=1e-3)
    assert not np.any(clf.coefs_[0][rows])
    assert not np.any(clf.feature_importances_[rows])


def _outputs(X, state):
    X = X.astype(state.coefs[0].dtype)
    return forward(
        X, state.coefs, state.intercepts, state.activation, state.out_activation
    )[-1]


def test_pruning_a_constant_input_folds_it_into_the_bias(data, monkeypatch):
    """A round that prunes only constant inputs leaves the outputs unchanged."""
    X, y = data
    rows = _constant_rows(X)
    n_features = X.shape[1]
    share = rows.size * 20 / (n_features * 20 + 20 * 10)
    seen = []
    original = Pruner.set_masks

    def checked(self, state, masks):
        before = _outputs(X, state)
        original(self, state, masks)
        seen.append((before, _outputs(X, state), masks[0]))

    monkeypatch.setattr(Pruner, "set_masks", checked)
    _small(
        sparsity=share, pruning_scope="global", pruning_schedule="oneshot", max_iter=6
    ).fit(X, y)
    (before, after, mask), *_ = seen
    live = np.setdiff1d(np.arange(n_features), rows)
    assert not mask[rows].any() and mask[live].all()
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)
    assert not np.allclose(before[:, :1], before[:1, :1])  # a real output


def test_partial_fit_does_not_trust_a_chunk(data):
    X, y = data
    clf = _small(sparsity=0.3, pruning="random", max_iter=5)
    for _ in range(5):
        clf.partial_fit(X, y, classes=np.arange(10))
    assert clf.sparsity_ == pytest.approx(0.3, abs=1e-3)
    # Random scores, constant inputs not first: some of their weights stay.
    assert np.any(clf.coefs_[0][_constant_rows(X)])


def _pruner_on(X, y, **params):
    """A pruner started on (X, y) for a small network, with its state."""
    from skprune._core import init_params
    from skprune._optim import TrainState

    rng = np.random.RandomState(0)
    Y = np.eye(10)[y]
    coefs, intercepts = init_params([X.shape[1], 20, 10], "relu", rng, np.float64)
    state = TrainState(
        coefs=coefs,
        intercepts=intercepts,
        masks=[None, None],
        activation="relu",
        out_activation="softmax",
    )
    pruner = Pruner(
        criterion="magnitude",
        scope="global",
        granularity=params.pop("granularity", "weight"),
        schedule=params.pop("schedule", "greedy"),
        sparsity=0.5,
        n_steps=3,
        finetune_iter=2,
        tol=0.01,
        rng=rng,
    )
    pruner.start(
        state,
        max_iter=20,
        stochastic=False,
        train_data=(X, Y, None),
        validation_data=(X, Y, None),
        validation_score=lambda s: 0.0,
    )
    return pruner, state


def test_trial_networks_are_judged_folded(data):
    """The greedy search scores a candidate with its constant inputs folded:
    pruning only those leaves the held-out loss where it was."""
    X, y = data
    pruner, state = _pruner_on(X, y)
    rows = pruner.constant_inputs[0]
    mask = np.ones_like(state.coefs[0], dtype=bool)
    mask[rows] = False
    trial = [state.coefs[0] * mask, state.coefs[1]]
    before = pruner.validation_loss(state, state.coefs)
    folded = pruner.validation_loss(
        state, trial, pruner.folded_intercepts(state, None, mask, state.coefs)
    )
    assert folded == pytest.approx(before, rel=1e-10)
    assert pruner.validation_loss(state, trial) != pytest.approx(before, rel=1e-6)


def test_lottery_rewinds_fold_the_early_weights(data):
    X, y = data
    pruner, state = _pruner_on(X, y, schedule="lottery")
    early = _outputs(X, state)
    pruner.record_rewind(state)
    state.coefs[0] += 0.1  # training moves the weights on
    rows = pruner.constant_inputs[0]
    mask = np.ones_like(state.coefs[0], dtype=bool)
    mask[rows] = False
    pruner.set_masks(state, [mask, None])
    pruner._rewind(state)
    np.testing.assert_allclose(_outputs(X, state), early, rtol=1e-10, atol=1e-12)


def test_neuron_pruning_leaves_constant_inputs_alone(data):
    X, y = data
    pruner, _ = _pruner_on(X, y, granularity="neuron", schedule="gradual")
    assert pruner.constant_inputs is None
