"""Determinism, divergence and interruption."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from _interrupt import InterruptAt
from sklearn.exceptions import ConvergenceWarning

import skprune._optim.loop as optim
from skprune import PrunedMLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _weights(clf):
    return [c.toarray() for c in clf.sparse_coefs_] + list(clf.intercepts_)


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(solver="sgd"),
        dict(solver="lbfgs"),
        dict(pruning="taylor", pruning_schedule="iterative"),
        dict(sparsity="auto"),
        dict(granularity="neuron", pruning="random", sparsity=0.5),
    ],
)
def test_same_seed_same_bits(digits_600_scaled, params):
    X, y = digits_600_scaled
    a = PrunedMLPClassifier((20,), max_iter=15, random_state=7, **params).fit(X, y)
    b = PrunedMLPClassifier((20,), max_iter=15, random_state=7, **params).fit(X, y)
    for wa, wb in zip(_weights(a), _weights(b)):
        np.testing.assert_array_equal(wa, wb)
    assert a.pruning_history_ == b.pruning_history_


_FIT_IN_FRESH_PROCESS = """
import sys, numpy as np, warnings
warnings.simplefilter("ignore")
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler
from skprune import PrunedMLPClassifier
X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)[:600]
clf = PrunedMLPClassifier((20,), max_iter=15, random_state=7).fit(X, y[:600])
np.savez(sys.argv[1], *[c.toarray() for c in clf.sparse_coefs_], *clf.intercepts_)
"""


def test_same_seed_same_bits_across_processes(tmp_path):
    paths = [tmp_path / "a.npz", tmp_path / "b.npz"]
    for path in paths:
        subprocess.run(
            [sys.executable, "-c", _FIT_IN_FRESH_PROCESS, str(path)], check=True
        )
    with np.load(paths[0]) as a, np.load(paths[1]) as b:
        assert a.files == b.files
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_huge_steps_or_inputs_never_leave_nan(digits_600_scaled, solver):
    X, y = digits_600_scaled
    clf = PrunedMLPClassifier(
        (20,), solver=solver, learning_rate_init=1e6, max_iter=5, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            clf.fit(X * 1e6, y)
        except ValueError as exc:
            assert "non-finite" in str(exc)
            return
    assert all(np.isfinite(w).all() for w in _weights(clf))
    assert np.isfinite(clf.predict_proba(X)).all()


def test_ctrl_c_keeps_the_last_completed_epoch(digits_600_scaled, monkeypatch):
    X, y = digits_600_scaled  # 600 samples, batch 200: 3 updates per epoch
    monkeypatch.setattr(optim, "loss_and_gradients", InterruptAt(3 * 4 + 2))
    clf = PrunedMLPClassifier((20,), sparsity=0, max_iter=10, random_state=0)
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(X, y)
    monkeypatch.undo()
    assert clf.n_iter_ == 4
    reference = PrunedMLPClassifier((20,), sparsity=0, max_iter=4, random_state=0).fit(
        X, y
    )
    for a, b in zip(_weights(clf), _weights(reference)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_ctrl_c_during_pruning_still_gives_the_target(
    digits_600_scaled, monkeypatch, solver
):
    X, y = digits_600_scaled
    monkeypatch.setattr(optim, "loss_and_gradients", InterruptAt(20))
    clf = PrunedMLPClassifier(
        (20,), sparsity=0.8, solver=solver, max_iter=50, random_state=0
    )
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(X, y)
    monkeypatch.undo()
    assert clf.sparsity_ > 0.7  # finalized: pruned to the target, stored sparse
    assert all(np.isfinite(w).all() for w in _weights(clf))
    assert clf.predict(X).shape == y.shape
    # A second fit starts cleanly.
    clf.set_params(warm_start=True, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)


@pytest.mark.parametrize("at", [1, 2, 3])
def test_an_interrupted_partial_fit_changes_nothing(digits_600_scaled, monkeypatch, at):
    X, y = digits_600_scaled  # 3 minibatches per call

    def streamed():
        clf = PrunedMLPClassifier((20,), sparsity=0.8, max_iter=4, random_state=0)
        for _ in range(3):
            clf.partial_fit(X, y, classes=np.unique(y))
        return clf

    clf = streamed()
    before = pickle.dumps(clf)
    state = {k: v for k, v in vars(clf).items() if k != "_state"}
    monkeypatch.setattr(optim, "loss_and_gradients", InterruptAt(at))
    with pytest.raises(KeyboardInterrupt):
        clf.partial_fit(X, y)
    monkeypatch.undo()
    assert clf.t_ == state["t_"]
    assert clf.pruning_history_ == state["pruning_history_"]
    assert pickle.dumps(clf) == before
    # The lost epoch is simply run again: the same model as without the interrupt.
    clf.partial_fit(X, y)
    reference = streamed().partial_fit(X, y)
    for a, b in zip(clf.coefs_, reference.coefs_):
        np.testing.assert_array_equal(a, b)
    assert clf.pruning_history_ == reference.pruning_history_


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_tiny_epsilon_trains_as_mlpclassifier_does(iris, dtype):
    X, y = iris
    clf = PrunedMLPClassifier(
        epsilon=1e-300, sparsity=0.5, max_iter=30, random_state=0, dtype=dtype
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    assert all(np.isfinite(c).all() for c in clf.coefs_)
    assert clf.score(X, y) > 0.8


# SGD with weights of 1e-30 diverges in MLPClassifier too: its L2 step is 1e27
# times the weights.
@pytest.mark.parametrize(
    "scale, solver",
    [(1e-30, "adam"), (1e-30, "lbfgs"), (1e30, "adam"), (1e30, "sgd"), (1e30, "lbfgs")],
)
def test_uniform_weights_of_any_scale_train_as_mlpclassifier(iris, scale, solver):
    from sklearn.neural_network import MLPClassifier

    X, y = iris  # 150 samples: one full batch, where both normalise alike
    params = dict(solver=solver, max_iter=15, random_state=0)
    sw = np.full(len(y), scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = PrunedMLPClassifier(**params, sparsity=0, dtype="float64")
        ours.fit(X, y, sample_weight=sw)
        reference = MLPClassifier(**params).fit(X, y, sample_weight=sw)
    for a, b in zip(ours.coefs_, reference.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_float32_refuses_weights_too_small_for_its_range(iris):
    X, y = iris
    clf = PrunedMLPClassifier(max_iter=5)
    with pytest.raises(ValueError, match="dtype='float64'"):
        clf.fit(X, y, sample_weight=np.full(len(y), 1e-30))
    assert not hasattr(clf, "coefs_")
