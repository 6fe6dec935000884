"""Dead hidden units leave the training arrays as soon as they appear."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skprune import PrunedMLPClassifier
from skprune._optim import TrainState
from skprune._optim import state as state_module
from skprune._optim.optimizers import SGD, Adam
from skprune._optim.state import Layout

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16, y[:400]


def _state_with_dead_units(seed=0):
    """A 5-6-4-3 network: hidden units 1 and 4 of the first layer, and 2 of
    the second, have no kept weight in or out; unit 3 of the first layer has
    outgoing weights only (a constant unit: it stays)."""
    rng = np.random.RandomState(seed)
    shapes = [(5, 6), (6, 4), (4, 3)]
    masks = [rng.uniform(size=s) < 0.7 for s in shapes]
    masks[0][:, [1, 3, 4]] = False
    masks[1][[1, 4]] = False
    masks[1][:, 2] = False
    masks[2][2] = False
    masks[1][3, 0] = True
    coefs = [rng.normal(size=s) * m for s, m in zip(shapes, masks)]
    intercepts = [rng.normal(size=s[1]) for s in shapes]
    return TrainState(coefs, intercepts, masks, "relu", "softmax")


def _forward(state, X):
    A = X
    for i, (c, b) in enumerate(zip(state.coefs, state.intercepts)):
        A = A @ c + b
        if i < len(state.coefs) - 1:
            A = np.maximum(A, 0)
    return A


def test_layout_moves_arrays_and_flat_positions():
    layout = Layout(np.array([0, -1, 1]), np.array([-1, 0]), (2, 1))
    a = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(layout.move(a), [[1.0], [5.0]])
    # Flat position 5 is (row 2, column 1): row 1, column 0 of the new array.
    np.testing.assert_array_equal(layout.move_flat(np.array([1, 5])), [0, 1])
    back = Layout(np.array([0, 2]), np.array([1]), (3, 2))
    np.testing.assert_array_equal(back.move(layout.move(a)), [[0, 1], [0, 0], [0, 5]])
    np.testing.assert_array_equal(back.move_flat(np.array([0, 1])), [1, 5])


def test_shrink_removes_exactly_the_dead_units_and_expand_undoes_it():
    state = _state_with_dead_units()
    before = state.copy()
    X = np.random.RandomState(1).normal(size=(7, 5))
    state.shrink()
    assert state.trained_sizes == (6, 4)
    np.testing.assert_array_equal(state.units[0], [0, 2, 3, 5])
    np.testing.assert_array_equal(state.units[1], [0, 1, 3])
    assert [c.shape for c in state.coefs] == [(5, 4), (4, 3), (3, 3)]
    np.testing.assert_allclose(_forward(state, X), _forward(before, X))
    np.testing.assert_array_equal(state.dense_sizes(), [30, 24, 12])
    state.expand()
    assert state.units is None
    for now, then in zip(state.masks, before.masks):
        np.testing.assert_array_equal(now, then)
    for now, then in zip(state.coefs, before.coefs):
        np.testing.assert_array_equal(now, then)
    # Biases of removed units come back as zeros: nothing reads them.
    np.testing.assert_array_equal(state.intercepts[0][[1, 4]], 0)


def test_shrink_keeps_a_unit_in_a_layer_with_none_alive():
    state = _state_with_dead_units()
    state.masks[1][:] = False
    state.coefs[1][:] = 0
    state.shrink()
    assert all(c.shape[1] >= 1 for c in state.coefs)


def test_nothing_to_remove_changes_nothing():
    state = _state_with_dead_units()
    state.masks = [None] * 3
    coefs = list(state.coefs)
    state.shrink()
    assert state.units is None and all(a is b for a, b in zip(state.coefs, coefs))


@pytest.mark.parametrize("optimizer", [Adam, SGD])
@pytest.mark.parametrize("compressed", [False, True])
def test_optimizer_state_is_shrunk_with_the_weights(optimizer, compressed):
    rng = np.random.RandomState(0)
    state = _state_with_dead_units()
    reference = state.copy()
    for s in (state, reference):
        opt = optimizer(s.params)
        if compressed:  # state kept for the kept weights only
            opt.use_kernels = False
            for i in range(len(s.coefs)):
                opt.index[i] = np.flatnonzero(s.masks[i])
                for name in opt.state_names:
                    getattr(opt, name)[i] = np.zeros(opt.index[i].size)
                opt._scratch[i] = np.empty(opt.index[i].size)
        s.attach_optimizer(opt)
    grads = [rng.normal(size=p.shape) for p in state.params]
    for s in (state, reference):
        s.optimizer.update_params(s.params, [g.copy() for g in grads])
    state.shrink()
    # One more step on both: the kept weights move the same way.
    small = [
        g[np.ix_(*[u for u in places])] if g.ndim == 2 else g[places[1]]
        for g, places in zip(
            grads,
            [
                (np.arange(5), state.units[0]),
                (state.units[0], state.units[1]),
                (state.units[1], np.arange(3)),
                (None, state.units[0]),
                (None, state.units[1]),
                (None, np.arange(3)),
            ],
        )
    ]
    state.optimizer.update_params(state.params, small)
    reference.optimizer.update_params(reference.params, [g.copy() for g in grads])
    state.expand()
    for now, then, mask in zip(state.coefs, reference.coefs, reference.masks):
        np.testing.assert_allclose(now[mask], then[mask], rtol=1e-12)
    for name in state.optimizer.state_names:
        moments = zip(
            getattr(state.optimizer, name)[:3],
            getattr(reference.optimizer, name)[:3],
            state.optimizer.index[:3],
            reference.masks,
        )
        for now, then, index, mask in moments:
            # Compressed state keeps its values; dense state comes back with
            # the same values at the kept weights.
            if index is None:
                np.testing.assert_allclose(now[mask], then[mask], rtol=1e-12)
            else:
                np.testing.assert_allclose(now, then, rtol=1e-12)


@pytest.mark.parametrize(
    "params",
    [
        dict(granularity="neuron", sparsity=0.8),
        dict(sparsity=0.95),
        dict(granularity="neuron", sparsity=0.6, solver="sgd"),
        dict(granularity="neuron", sparsity=0.6, solver="lbfgs"),
        dict(granularity="neuron", sparsity=0.6, early_stopping=True),
        dict(sparsity=0.9, pruning_schedule="lottery"),
    ],
)
def test_shrinking_during_training_gives_the_compacted_model(data, params, monkeypatch):
    X, y = data
    fits = {}
    for shrink in (False, True):
        monkeypatch.setattr(state_module, "SHRINK", shrink)
        fits[shrink] = PrunedMLPClassifier(
            hidden_layer_sizes=(40, 20), max_iter=40, random_state=0, **params
        ).fit(X, y)
    kept, shrunk = fits[False], fits[True]
    assert shrunk.sparsity_ == kept.sparsity_
    assert shrunk.hidden_layer_sizes_ == kept.hidden_layer_sizes_
    assert shrunk.n_iter_ == kept.n_iter_
    np.testing.assert_allclose(
        shrunk.predict_proba(X), kept.predict_proba(X), atol=1e-4
    )
    # The training arrays were smaller than the network as trained.
    if params.get("granularity") == "neuron":
        assert shrunk._state.units is not None
        assert [c.shape[1] for c in shrunk._state.coefs[:-1]] == list(
            shrunk.hidden_layer_sizes_
        )
        assert kept._state.units is None


def test_partial_fit_after_shrinking_continues(data, monkeypatch):
    X, y = data
    models = {}
    for shrink in (False, True):
        monkeypatch.setattr(state_module, "SHRINK", shrink)
        clf = PrunedMLPClassifier(
            hidden_layer_sizes=(40, 20),
            granularity="neuron",
            sparsity=0.7,
            pruning_steps=3,
            max_iter=20,
            random_state=0,
        )
        for _ in range(25):
            clf.partial_fit(X, y, classes=np.arange(10))
        models[shrink] = clf
    kept, shrunk = models[False], models[True]
    assert shrunk._state.units is not None
    assert shrunk.sparsity_ == kept.sparsity_
    assert len(shrunk.pruning_history_) == len(kept.pruning_history_)
    np.testing.assert_allclose(
        shrunk.predict_proba(X), kept.predict_proba(X), atol=1e-4
    )
    # The optimizer's moments have the shapes of the arrays they update.
    opt = shrunk._state.optimizer
    for p, m, idx in zip(shrunk._state.params, opt.ms, opt.index):
        assert m.shape == (p.shape if idx is None else idx.shape)


def test_a_reloaded_model_trains_without_its_dead_units(data):
    X, y = data
    clf = PrunedMLPClassifier(
        hidden_layer_sizes=(40, 20),
        granularity="neuron",
        sparsity=0.7,
        max_iter=30,
        random_state=0,
    ).fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    assert "_state" not in loaded.__dict__
    loaded.partial_fit(X, y)
    state = loaded._state
    assert [c.shape[1] for c in state.coefs[:-1]] == list(clf.hidden_layer_sizes_)
    assert loaded.sparsity_ == clf.sparsity_


def test_pickles_from_before_shrinking_load_and_continue(data):
    # Written by tests/data/make_pre_shrink.py at the commit before units were
    # removed during training.
    payload = pickle.loads(
        (Path(__file__).parent / "data" / "pre_shrink.pkl").read_bytes()
    )
    X, y = data
    rows = payload["X"]
    for name in ("finished", "pending"):
        model = payload[name]
        np.testing.assert_allclose(
            model.predict_proba(rows), payload[f"{name}_proba"], rtol=1e-6
        )
    pending = payload["pending"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(30):
            pending.partial_fit(X[:300], y[:300])
    assert pending.sparsity_ == pytest.approx(0.6, abs=0.02)
    assert pending._state.units is not None
    assert [c.shape[1] for c in pending._state.coefs[:-1]] == list(
        pending.hidden_layer_sizes_
    )
    finished = payload["finished"]
    finished.set_params(warm_start=True, max_iter=5).fit(X[:300], y[:300])
    assert finished.sparsity_ == pytest.approx(payload["finished"].sparsity_)
