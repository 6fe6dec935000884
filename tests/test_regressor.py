"""PrunedMLPRegressor: parity with MLPRegressor, losses, multi-output, pruning."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from skprune import PrunedMLPRegressor


def _fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_dense_float64_matches_mlpregressor(solver, n_outputs, diabetes, diabetes_2d):
    X, y = diabetes if n_outputs == 1 else diabetes_2d
    params = dict(
        hidden_layer_sizes=(20,),
        solver=solver,
        max_iter=40,
        random_state=0,
        learning_rate_init=0.01 if solver != "lbfgs" else 0.001,
    )
    ours = _fit_quietly(PrunedMLPRegressor(**params, sparsity=0, dtype="float64"), X, y)
    ref = _fit_quietly(MLPRegressor(**params), X, y)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.loss_ == pytest.approx(ref.loss_, rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6, atol=1e-6)
    assert ours.predict(X).shape == ref.predict(X).shape


def test_poisson_matches_mlpregressor(diabetes):
    X, y = diabetes
    params = dict(loss="poisson", hidden_layer_sizes=(20,), max_iter=30, random_state=0)
    ours = _fit_quietly(PrunedMLPRegressor(**params, sparsity=0, dtype="float64"), X, y)
    ref = _fit_quietly(MLPRegressor(**params), X, y)
    assert ours.out_activation_ == ref.out_activation_ == "exp"
    assert ours.loss_ == pytest.approx(ref.loss_, rel=1e-6)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6)
    assert (ours.predict(X) > 0).all()


def test_poisson_refuses_negative_targets(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="non-negative targets"):
        PrunedMLPRegressor(loss="poisson").fit(X, y - 10)


def test_early_stopping_is_scored_by_r2_as_mlpregressor(diabetes):
    X, y = diabetes
    params = dict(
        hidden_layer_sizes=(20,),
        max_iter=300,
        random_state=0,
        early_stopping=True,
        learning_rate_init=0.01,
    )
    ours = PrunedMLPRegressor(**params, sparsity=0, dtype="float64").fit(X, y)
    ref = MLPRegressor(**params).fit(X, y)
    assert ours.n_iter_ == ref.n_iter_ < 300
    assert ours.best_validation_score_ == pytest.approx(ref.best_validation_score_)
    np.testing.assert_allclose(ours.validation_scores_, ref.validation_scores_)


@pytest.mark.parametrize("schedule", ["gradual", "iterative", "oneshot"])
def test_pruned_regressor_reaches_its_target_and_stays_accurate(schedule, diabetes_2d):
    X, Y = diabetes_2d
    params = dict(
        hidden_layer_sizes=(32,), max_iter=80, random_state=0, learning_rate_init=0.01
    )
    dense = _fit_quietly(PrunedMLPRegressor(sparsity=0, **params), X, Y)
    reg = _fit_quietly(
        PrunedMLPRegressor(sparsity=0.8, pruning_schedule=schedule, **params), X, Y
    )
    # 80 % of all the weights gone, the same share in each layer (to a weight).
    sizes = np.array([10 * 32, 32 * 2])
    assert np.all(np.abs(reg.layer_sparsity_ * sizes - 0.8 * sizes) <= 1)
    assert reg.sparsity_ == round(0.8 * sizes.sum()) / sizes.sum()
    assert reg.predict(X).shape == Y.shape
    # Within 0.15 R² of the dense fit of the same epochs (0.62 on the training
    # data).
    assert reg.score(X, Y) > dense.score(X, Y) - 0.15
    stored = np.hstack([c.ravel() for c in reg.coefs_])
    assert np.count_nonzero(stored) <= sum(c.nnz for c in reg.sparse_coefs_)


def test_partial_fit_streams_and_prunes(diabetes):
    X, y = diabetes
    reg = PrunedMLPRegressor(
        hidden_layer_sizes=(16,), sparsity=0.5, max_iter=5, random_state=0
    )
    for _ in range(30):
        reg.partial_fit(X, y)
    assert reg.sparsity_ > 0.3
    assert reg.n_iter_ == 1 and reg.t_ == 30 * X.shape[0]
    with pytest.raises(ValueError, match="outputs"):
        reg.partial_fit(X, np.column_stack([y, y]))


def test_from_mlp_prunes_a_fitted_mlpregressor(diabetes):
    X, y = diabetes
    mlp = _fit_quietly(
        MLPRegressor(hidden_layer_sizes=(20,), max_iter=100, random_state=0), X, y
    )
    reg = PrunedMLPRegressor.from_mlp(mlp, sparsity=0.8, max_iter=30)
    np.testing.assert_allclose(reg.predict(X), mlp.predict(X), rtol=1e-4, atol=1e-4)
    _fit_quietly(reg, X, y)
    assert reg.sparsity_ > 0.6
    with pytest.raises(TypeError, match="MLPRegressor"):
        PrunedMLPRegressor.from_mlp(object())


def test_a_sparse_target_trains_as_its_dense_copy(diabetes_2d):
    # MLPRegressor fails on a sparse y (LinAlgError); the outputs are small,
    # so they are made dense.
    X, Y = diabetes_2d
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = PrunedMLPRegressor(**params).fit(X, Y)
        sparse = PrunedMLPRegressor(**params).fit(X, sp.csr_matrix(Y))
    np.testing.assert_array_equal(sparse.predict(X), dense.predict(X))
