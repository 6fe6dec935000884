"""Fitted weights: assigning them takes effect; editing them in place raises."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from skprune import PrunedMLPClassifier, PrunedMLPRegressor


@pytest.fixture
def fitted(digits_600):
    X, y = digits_600
    clf = PrunedMLPClassifier((24,), sparsity=0.8, max_iter=15, random_state=0)
    return clf.fit(X, y), X, y


def test_assigned_intercepts_change_predict_at_once(fitted):
    clf, X, _ = fitted
    before = clf.predict_proba(X)
    new = [b + 1.0 for b in clf.intercepts_]
    new[-1][0] += 5.0
    clf.intercepts_ = new
    after = clf.predict_proba(X)
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(clf.intercepts_[-1], new[-1].astype(np.float32))
    # A pickle round trip never changes a prediction.
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(clf)).predict_proba(X), after
    )


def test_assigned_dense_coefs_take_effect_and_zeros_are_pruned(fitted):
    clf, X, _ = fitted
    coefs = [c.copy() for c in clf.coefs_]
    coefs[0][:, :5] = 0.0  # prune five more units' inputs
    coefs[1] *= 2.0
    before = clf.sparsity_
    clf.coefs_ = coefs
    for stored, assigned in zip(clf.coefs_, coefs):
        np.testing.assert_array_equal(stored, assigned)
    assert clf.sparse_coefs_[0].nnz == np.count_nonzero(coefs[0])
    assert clf.sparsity_ > before
    A = np.maximum(X @ coefs[0] + clf.intercepts_[0], 0)
    Z = A @ coefs[1] + clf.intercepts_[1]
    expected = np.exp(Z - Z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-4, atol=1e-6)


def test_assigned_sparse_coefs_keep_their_structure(fitted):
    clf, X, _ = fitted
    new = [sp.csr_array(c * 0.5) for c in clf.sparse_coefs_]
    clf.sparse_coefs_ = new
    for stored, assigned in zip(clf.sparse_coefs_, new):
        assert stored.nnz == assigned.nnz
        np.testing.assert_allclose(stored.toarray(), assigned.toarray())
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_in_place_edits_raise_instead_of_being_ignored(fitted):
    clf, X, _ = fitted
    with pytest.raises(ValueError, match="read-only"):
        clf.coefs_[0][:] = 0
    with pytest.raises(ValueError, match="read-only"):
        clf.intercepts_[0][0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        clf.sparse_coefs_[0].data[0] = 1.0
    with pytest.raises(TypeError, match="Assign a whole new list"):
        clf.coefs_[0] = np.zeros_like(clf.coefs_[0])
    with pytest.raises(TypeError, match="Assign a whole new list"):
        clf.intercepts_.append(np.zeros(3))


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda c: c[:1], ValueError, "has 2 weight matrices"),
        (lambda c: [c[0][:, :3], c[1]], ValueError, "shape"),
        (lambda c: [np.full_like(c[0], np.nan), c[1]], ValueError, "NaN"),
        (lambda c: [c[0].astype(complex), c[1]], ValueError, "real numbers"),
        (lambda c: c[0], TypeError, "one matrix per layer"),
    ],
)
def test_bad_weights_are_refused_and_the_model_is_unchanged(fitted, make, error, match):
    clf, X, _ = fitted
    before = clf.predict_proba(X)
    with pytest.raises(error, match=match):
        clf.coefs_ = make([c.copy() for c in clf.coefs_])
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_bad_intercepts_are_refused(fitted):
    clf, _, _ = fitted
    with pytest.raises(ValueError, match="units"):
        clf.intercepts_ = [np.zeros(3), np.zeros(10)]
    with pytest.raises(TypeError, match="scipy.sparse"):
        clf.sparse_coefs_ = clf.coefs_


def test_partial_fit_goes_on_from_assigned_weights(fitted):
    clf, X, y = fitted
    coefs = [c.copy() for c in clf.coefs_]
    rows = np.flatnonzero(coefs[0][:, 0])[:3]
    coefs[0][rows, 0] = 0.0
    clf.coefs_ = coefs
    clf.partial_fit(X, y)
    # Zeros assigned are pruned weights: they stay zero through training, and
    # training went on from the assigned weights.
    assert clf.coefs_[0].shape == coefs[0].shape
    assert np.all(clf.coefs_[0][rows, 0] == 0)
    assert np.count_nonzero(clf.coefs_[0]) == np.count_nonzero(coefs[0])
    assert not np.array_equal(clf.coefs_[1], coefs[1])


@pytest.mark.parametrize("Estimator", [PrunedMLPClassifier, PrunedMLPRegressor])
def test_weights_assigned_before_fitting_start_partial_fit(Estimator, digits_600):
    X, y = digits_600
    target = y if Estimator is PrunedMLPClassifier else y / 10.0
    n_out = 10 if Estimator is PrunedMLPClassifier else 1
    rng = np.random.RandomState(0)
    coefs = [rng.normal(scale=0.1, size=(64, 12)), rng.normal(size=(12, n_out))]
    coefs[0][:8] = 0.0  # these inputs start pruned
    est = Estimator(
        hidden_layer_sizes=(12,), sparsity=0, learning_rate_init=1e-6, random_state=0
    )
    est.coefs_ = coefs
    est.intercepts_ = [np.zeros(12), np.zeros(n_out)]
    np.testing.assert_array_equal(est.coefs_[0], coefs[0])
    kwargs = {"classes": np.arange(10)} if Estimator is PrunedMLPClassifier else {}
    est.partial_fit(X, target, **kwargs)
    # One tiny step from the assigned weights, not from a random start.
    np.testing.assert_allclose(est.coefs_[1], coefs[1], atol=1e-3)
    assert np.all(est.coefs_[0][:8] == 0)
    # A plain fit draws a new network, as MLPClassifier's does.
    fresh = Estimator(hidden_layer_sizes=(12,), sparsity=0, max_iter=2)
    fresh.coefs_ = coefs
    fresh.intercepts_ = [np.zeros(12), np.zeros(n_out)]
    with pytest.warns(Warning):
        fresh.fit(X, target)
    assert not np.allclose(fresh.coefs_[1], coefs[1], atol=1e-3)


def test_weights_assigned_before_fitting_must_fit_the_data(digits_600):
    X, y = digits_600
    est = PrunedMLPClassifier(hidden_layer_sizes=(12,))
    est.coefs_ = [np.ones((5, 12)), np.ones((12, 10))]
    est.intercepts_ = [np.zeros(12), np.zeros(10)]
    with pytest.raises(ValueError, match="do not fit this network"):
        est.partial_fit(X, y, classes=np.arange(10))
    assert not hasattr(est, "classes_") or not est.__sklearn_is_fitted__()


def test_rebinding_the_data_of_a_returned_matrix_cannot_reach_the_model(fitted):
    clf, X, _ = fitted
    before = clf.predict_proba(X)
    W = clf.sparse_coefs_[0]
    W.data = W.data * 0
    assert clf.coefs_[0].any()
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_weights_assigned_before_fitting_are_checked_against_each_other():
    est = PrunedMLPRegressor(hidden_layer_sizes=(4,))
    est.intercepts_ = [np.zeros(1), np.zeros(1)]
    with pytest.raises(ValueError, match="intercepts_\\[0\\] has 1 values"):
        est.coefs_ = [np.full((5, 4), 0.1), np.full((4, 1), 0.1)]


def test_a_regressor_whose_loss_was_set_anew_still_pickles(diabetes):
    X, y = diabetes
    reg = PrunedMLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    with pytest.warns(Warning):
        reg.fit(X, y)
    reg.set_params(loss="poisson")
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
