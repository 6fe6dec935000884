"""The optional compiled kernels: the fused steps give the same bits as the NumPy
code; the sparse input layer gives the same products, summed in another order."""

import os
import subprocess
import sys

import numpy as np
import pytest

from skprune import PrunedMLPClassifier, _kernels
from skprune._core import loss_and_gradients
from skprune._optim import Adam
from skprune._optim import loop as _loop

numba = pytest.importorskip("numba")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _fit(monkeypatch, setting, X, y, sparse_input=False, **params):
    monkeypatch.setenv("SKPRUNE_NUMBA", setting)
    if not sparse_input:
        # The sparse input layer sums in another order: tested on its own below.
        monkeypatch.setattr(_loop, "_sparse_input_layer", lambda *args: None)
    params = {"hidden_layer_sizes": (40, 20), "max_iter": 12, **params}
    return PrunedMLPClassifier(random_state=0, **params).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {},  # adam, gradual pruning: dense, masked and compressed state
        {"sparsity": 0, "alpha": 0.0},
        {"solver": "sgd"},
        {"solver": "sgd", "nesterovs_momentum": False, "sparsity": 0.5},
        {"dtype": "float64", "pruning_schedule": "iterative"},
        {"solver": "sgd", "dtype": "float64", "learning_rate": "invscaling"},
    ],
)
def test_kernels_match_numpy_bit_for_bit(monkeypatch, digits_600, params):
    X, y = digits_600
    reference = _fit(monkeypatch, "0", X, y, **params)
    fused = _fit(monkeypatch, "1", X, y, **params)
    assert fused.loss_curve_ == reference.loss_curve_
    for a, b in zip(fused.sparse_coefs_, reference.sparse_coefs_):
        np.testing.assert_array_equal(a.toarray(), b.toarray())
    for a, b in zip(fused.intercepts_, reference.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert fused.sparsity_ == reference.sparsity_


def test_kernels_keep_pruned_weights_and_state_at_zero(monkeypatch):
    # Drive the optimizer directly: a masked dense layer, then a compressed one.
    monkeypatch.setenv("SKPRUNE_NUMBA", "1")
    rng = np.random.default_rng(0)
    W = rng.standard_normal((30, 20)).astype(np.float32)
    optimizer = Adam([W], learning_rate_init=0.01)
    assert optimizer.use_kernels
    for density in (0.8, 0.3, 0.05):  # dense, masked, then compressed state
        mask = rng.random(W.shape) < density
        W *= mask
        optimizer.apply_masks([mask])
        for _ in range(5):
            grad = rng.standard_normal(W.shape).astype(np.float32)
            optimizer.update_params([W], [grad], l2=[0.1])
        assert np.all(W[~mask] == 0)
        assert np.any(W[mask] != 0)


def test_default_uses_kernels_only_for_large_networks(monkeypatch):
    monkeypatch.delenv("SKPRUNE_NUMBA", raising=False)
    assert not _kernels.use_kernels(_kernels.MIN_WEIGHTS - 1)
    assert _kernels.use_kernels(_kernels.MIN_WEIGHTS)
    monkeypatch.setenv("SKPRUNE_NUMBA", "0")
    assert not _kernels.use_kernels(10**9)
    monkeypatch.setenv("SKPRUNE_NUMBA", "1")
    assert _kernels.use_kernels(10)


def test_without_numba_the_numpy_code_runs(monkeypatch, digits_600):
    # numba missing: setting 1 falls back silently, and fits still work.
    monkeypatch.setattr(_kernels, "_KERNELS", None)
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba -> ImportError
    monkeypatch.setenv("SKPRUNE_NUMBA", "1")
    assert not _kernels.use_kernels(10**9)
    X, y = digits_600
    fallback = _fit(monkeypatch, "1", X, y)
    reference = _fit(monkeypatch, "0", X, y)
    assert fallback.loss_curve_ == reference.loss_curve_
    np.testing.assert_array_equal(fallback.predict_proba(X), reference.predict_proba(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_input_layer_products(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 30)).astype(dtype)
    W = rng.standard_normal((30, 8)).astype(dtype)
    mask = rng.random(W.shape) < 0.15
    mask[3] = False  # an input with no weight left
    W *= mask
    index = np.flatnonzero(mask)
    layer = _kernels.SparseInputLayer(_kernels.compiled(), X, W, index)
    rows = rng.permutation(50)[:17]
    layer.load(rows)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(layer.product(), X[rows] @ W, rtol=rtol, atol=rtol)
    delta = rng.standard_normal((17, 8)).astype(dtype)
    expected = (X[rows].T @ delta).ravel()[index]
    for layout in (delta, np.asfortranarray(delta)):
        gradient = layer.gradient(layout)
        assert gradient.dtype == dtype and gradient.shape == index.shape
        np.testing.assert_allclose(gradient, expected, rtol=rtol, atol=rtol)
    # The optimizer updates the weights in place: the next product sees them.
    W.reshape(-1)[index] *= 2
    np.testing.assert_allclose(layer.product(), X[rows] @ W, rtol=rtol, atol=rtol)


def test_sparse_input_layer_refuses_a_gradient_without_its_penalty():
    # Its packed gradient has no L2 term: the optimizer must add it.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 6))
    coefs = [rng.standard_normal((6, 4)), rng.standard_normal((4, 3))]
    intercepts = [np.zeros(4), np.zeros(3)]
    index = np.flatnonzero(rng.random(24) < 0.5)
    layer = _kernels.SparseInputLayer(_kernels.compiled(), X, coefs[0], index)
    layer.load(np.arange(20))
    with pytest.raises(ValueError, match="penalty_gradient=False"):
        loss_and_gradients(
            None,
            np.eye(3)[np.arange(20) % 3],
            coefs,
            intercepts,
            activation="relu",
            out_activation="softmax",
            alpha=1e-4,
            denom=20.0,
            first_layer=layer,
        )


def test_sparse_input_layer_trains_like_dense_products(monkeypatch, digits_600):
    X, y = digits_600
    params = {"sparsity": 0.95, "max_iter": 20}
    calls = []
    build = _loop._sparse_input_layer

    def counted(*args):
        layer = build(*args)
        calls.append(layer is not None)
        return layer

    monkeypatch.setattr(_loop, "_sparse_input_layer", counted)
    monkeypatch.setenv("SKPRUNE_NUMBA", "1")
    sparse = PrunedMLPClassifier(random_state=0, hidden_layer_sizes=(40, 20), **params)
    sparse.fit(X, y)
    assert any(calls)  # the last epochs ran on the kept weights only
    dense = _fit(monkeypatch, "1", X, y, **params)
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(
        sparse.predict_proba(X), dense.predict_proba(X), rtol=1e-3, atol=1e-4
    )
    assert sparse.sparsity_ == dense.sparsity_


def test_kernels_compile_without_a_disk_cache(monkeypatch):
    # numba raises RuntimeError when it finds nowhere to write its cache: the
    # kernels are then compiled for this process only.
    build = _kernels._build

    def no_cache_location(cache=True):
        if cache:
            raise RuntimeError("cannot cache function: no locator available")
        return build(cache=False)

    monkeypatch.setattr(_kernels, "_KERNELS", None)
    monkeypatch.setattr(_kernels, "_build", no_cache_location)
    kernels = _kernels.compiled()
    assert kernels is not None and "adam" in kernels


CACHE_PROBE = """
import numpy as np
from skprune import _kernels
adam = _kernels.compiled()["adam"]
x = np.zeros(4)
adam(x, x, None, x.copy(), x.copy(), 0.0, 0.9, 0.1, 0.999, 0.001, 1e-8, -0.001)
print(sum(adam.stats.cache_hits.values()), sum(adam.stats.cache_misses.values()))
"""


@pytest.mark.slow
def test_kernels_load_from_the_disk_cache_in_a_new_process(tmp_path):
    # A second process finds the first one's compiled kernels on disk instead of
    # compiling them again (a kernel built as a closure would miss every time).
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", CACHE_PROBE],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs[0] == ["0", "1"]  # compiled, then saved
    assert runs[1] == ["1", "0"]  # loaded
