"""The training math against oracles: finite differences and MLPClassifier."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neural_network._base import ACTIVATIONS as SK_ACTIVATIONS

from skprune._core import (
    ACTIVATIONS,
    HIDDEN_ACTIVATIONS,
    Workspace,
    forward,
    init_params,
    log_loss_sum,
    loss_and_gradients,
    predict_proba_dense,
)


def _problem(out_activation, n_samples=7, n_features=4, n_outputs=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    if out_activation == "softmax":
        Y = np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    else:
        Y = (rng.uniform(size=(n_samples, n_outputs)) > 0.5).astype(float)
    return X, Y


def _flat_loss(coefs, intercepts, X, Y, **kwargs):
    return loss_and_gradients(X, Y, coefs, intercepts, **kwargs)[0]


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("out_activation", ["softmax", "logistic"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradients_match_finite_differences(activation, out_activation, weighted):
    X, Y = _problem(out_activation)
    rng = np.random.RandomState(1)
    coefs, intercepts = init_params([4, 5, 3, Y.shape[1]], activation, rng, np.float64)
    sw = rng.uniform(0, 2, size=len(X)) if weighted else None
    kwargs = dict(
        activation=activation,
        out_activation=out_activation,
        alpha=0.3,
        denom=len(X) * (1.0 if sw is None else sw.mean()),
        sample_weight=sw,
    )
    _, coef_grads, intercept_grads = loss_and_gradients(
        X, Y, coefs, intercepts, **kwargs
    )
    eps = 1e-6
    for params, grads in [(coefs, coef_grads), (intercepts, intercept_grads)]:
        for p, g in zip(params, grads):
            numeric = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + eps
                up = _flat_loss(coefs, intercepts, X, Y, **kwargs)
                p[idx] = old - eps
                down = _flat_loss(coefs, intercepts, X, Y, **kwargs)
                p[idx] = old
                numeric[idx] = (up - down) / (2 * eps)
            np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-8)


def test_masked_gradients_are_zero_and_others_unchanged():
    X, Y = _problem("softmax")
    rng = np.random.RandomState(0)
    coefs, intercepts = init_params([4, 6, 3], "relu", rng, np.float64)
    masks = [rng.uniform(size=c.shape) > 0.5 for c in coefs]
    kwargs = dict(activation="relu", out_activation="softmax", alpha=1e-2, denom=7)
    _, plain, _ = loss_and_gradients(X, Y, coefs, intercepts, **kwargs)
    _, masked, _ = loss_and_gradients(X, Y, coefs, intercepts, masks=masks, **kwargs)
    for g, gm, m in zip(plain, masked, masks):
        assert np.all(gm[~m] == 0)
        np.testing.assert_array_equal(gm[m], g[m])


@pytest.mark.parametrize("name", ["identity", "logistic", "tanh", "relu", "softmax"])
def test_activations_match_sklearn(name):
    Z = np.random.RandomState(0).normal(size=(6, 4)) * 3
    expected = Z.copy()
    SK_ACTIVATIONS[name](expected)
    np.testing.assert_allclose(ACTIVATIONS[name](Z.copy()), expected, rtol=1e-12)


@pytest.mark.parametrize("out_activation", ["softmax", "logistic"])
def test_log_loss_matches_sklearn(out_activation):
    from sklearn.neural_network._base import binary_log_loss, log_loss

    X, Y = _problem(out_activation, n_samples=9)
    P = np.random.RandomState(3).uniform(0.05, 0.95, size=Y.shape)
    if out_activation == "softmax":
        P /= P.sum(axis=1, keepdims=True)
        expected = log_loss(Y, P)
    else:
        expected = binary_log_loss(Y, P)
    assert log_loss_sum(Y, P, out_activation) / len(Y) == pytest.approx(expected)


def test_sparse_input_gives_the_same_gradients():
    X, Y = _problem("softmax", n_samples=10, n_features=6)
    X[np.abs(X) < 0.7] = 0
    coefs, intercepts = init_params([6, 5, 3], "tanh", np.random.RandomState(0), float)
    kwargs = dict(activation="tanh", out_activation="softmax", alpha=1e-3, denom=10)
    dense = loss_and_gradients(X, Y, coefs, intercepts, **kwargs)
    sparse = loss_and_gradients(sp.csr_array(X), Y, coefs, intercepts, **kwargs)
    assert dense[0] == pytest.approx(sparse[0])
    for a, b in zip(dense[1] + dense[2], sparse[1] + sparse[2]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("out_activation", ["softmax", "logistic", "identity", "exp"])
@pytest.mark.parametrize("sparse_X", [False, True])
def test_a_reused_workspace_gives_the_same_bits(out_activation, sparse_X):
    # Activations, deltas and gradients written into reused arrays: the same
    # results as new arrays, whatever the minibatch size and layer widths of
    # the call before (a smaller last batch, units removed).
    X, Y = _problem(out_activation, n_samples=12, n_features=6)
    X = X.astype(np.float32)
    Y = np.abs(Y).astype(np.float32)
    coefs, intercepts = init_params(
        [6, 5, 4, 3], "tanh", np.random.RandomState(0), np.float32
    )
    kwargs = dict(activation="tanh", out_activation=out_activation, alpha=1e-3)
    workspace = Workspace()
    narrow = [np.ascontiguousarray(coefs[0][:, :3]), coefs[1][:3], coefs[2]]
    for rows, (c, b) in [
        (slice(0, 12), (coefs, intercepts)),
        (slice(0, 5), (coefs, intercepts)),
        (slice(0, 12), (narrow, [intercepts[0][:3], *intercepts[1:]])),
        (slice(0, 12), (coefs, intercepts)),
    ]:
        Xb = sp.csr_array(X[rows]) if sparse_X else X[rows]
        n = float(Y[rows].shape[0])
        fresh = loss_and_gradients(Xb, Y[rows], c, b, denom=n, **kwargs)
        reused = loss_and_gradients(
            Xb, Y[rows], c, b, denom=n, workspace=workspace, **kwargs
        )
        assert reused[0] == fresh[0]
        for a, e in zip(reused[1] + reused[2], fresh[1] + fresh[2]):
            np.testing.assert_array_equal(a, e)


def test_predict_proba_dense_is_the_forward_output():
    X, _ = _problem("softmax")
    coefs, intercepts = init_params([4, 5, 3], "relu", np.random.RandomState(0), float)
    full = forward(X, coefs, intercepts, "relu", "softmax")[-1]
    fast = predict_proba_dense(X, coefs, intercepts, "relu", "softmax")
    np.testing.assert_allclose(fast, full)
    np.testing.assert_allclose(fast.sum(axis=1), 1.0)
