"""The optional compiled kernels: the fused steps give the same bits as the NumPy
code; the sparse layers give the same products, summed in another order."""

import os
import subprocess
import sys

import numpy as np
import pytest

from skprune import PrunedMLPClassifier, _kernels
from skprune._core import Workspace, init_params, loss_and_gradients
from skprune._optim import Adam
from skprune._optim import loop as _loop

numba = pytest.importorskip("numba")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _fit(monkeypatch, setting, X, y, sparse_input=False, **params):
    monkeypatch.setenv("SKPRUNE_NUMBA", setting)
    if not sparse_input:
        # The sparse layers sum in another order: tested on their own below.
        monkeypatch.setattr(_loop, "_sparse_layers", lambda *args: None)
    params = {"hidden_layer_sizes": (40, 20), "max_iter": 12, **params}
    return PrunedMLPClassifier(random_state=0, **params).fit(X, y)


def _assert_same_bits(a, b):
    """Two fitted models are the same to the bit: loss curve, weights, biases."""
    assert a.loss_curve_ == b.loss_curve_
    for x, y in zip(a.sparse_coefs_, b.sparse_coefs_):
        np.testing.assert_array_equal(x.toarray(), y.toarray())
    for x, y in zip(a.intercepts_, b.intercepts_):
        np.testing.assert_array_equal(x, y)
    assert a.sparsity_ == b.sparsity_


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
    _assert_same_bits(fused, reference)


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


def _sparse_problem(dtype, sizes=(30, 12, 9, 4), n_samples=23, density=0.15, seed=0):
    """A relu network pruned to ``density``, a minibatch, and the kept indices."""
    rng = np.random.default_rng(seed)
    coefs, intercepts = init_params(
        list(sizes), "relu", np.random.RandomState(0), dtype
    )
    masks = [rng.random(c.shape) < density for c in coefs]
    masks[0][3] = False  # an input with no weight left
    masks[1][:, 2] = False  # a hidden unit with no input left
    for c, m in zip(coefs, masks):
        c *= m
    X = rng.standard_normal((n_samples, sizes[0])).astype(dtype)
    Y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], n_samples)]
    return X, Y, coefs, intercepts, masks, [np.flatnonzero(m) for m in masks]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_layer_products(dtype):
    X, _, coefs, _, _, index = _sparse_problem(dtype)
    W = coefs[1]
    layer = _kernels.SparseLayer(_kernels.compiled(), W, index[1])
    rng = np.random.default_rng(1)
    A = rng.standard_normal((17, W.shape[0])).astype(dtype)
    delta = rng.standard_normal((17, W.shape[1])).astype(dtype)
    AT, DT = np.ascontiguousarray(A.T), np.ascontiguousarray(delta.T)
    rtol = 1e-5 if dtype == np.float32 else 1e-12

    def check(actual, expected):
        assert actual.dtype == dtype
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol)

    check(layer.forward(AT, np.empty((W.shape[1], 17), dtype)), (A @ W).T)
    check(layer.backward(DT, np.empty((W.shape[0], 17), dtype)), (delta @ W.T).T)
    packed = layer.gradient(AT, DT, np.empty(index[1].size, dtype))
    check(packed, (A.T @ delta).ravel()[index[1]])
    assert layer.sum_squares() == pytest.approx(float(np.sum(W * W)), rel=rtol)
    # The optimizer updates the weights in place: the next product sees them.
    W.reshape(-1)[index[1]] *= 2
    check(layer.forward(AT, np.empty((W.shape[1], 17), dtype)), (A @ W).T)
    # The input layer gathers its minibatch feature-major.
    rows = rng.permutation(len(X))[:19]
    gathered = layer.gather(X, rows, np.empty((X.shape[1], 19), dtype))
    np.testing.assert_array_equal(gathered, X[rows].T)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "sparse_layers", [(0,), (1,), (2,), (0, 1), (1, 2), (0, 2), (0, 1, 2)]
)
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_layers_give_the_masked_dense_gradients(dtype, sparse_layers, weighted):
    # Input, hidden and output layers, alone or next to each other: every
    # layout the forward and backward passes switch between.
    X, Y, coefs, intercepts, masks, index = _sparse_problem(dtype)
    kernels = _kernels.compiled()
    sw = np.random.default_rng(2).random(len(X)).astype(dtype) if weighted else None
    common = dict(
        activation="relu",
        out_activation="softmax",
        alpha=1e-3,
        denom=float(len(X)),
        sample_weight=sw,
        penalty_gradient=False,
    )
    loss, dense, dense_b = loss_and_gradients(
        X, Y, coefs, intercepts, masks=masks, **common
    )
    sparse = [
        _kernels.SparseLayer(kernels, c, i) if k in sparse_layers else None
        for k, (c, i) in enumerate(zip(coefs, index))
    ]
    workspace = Workspace()
    for _ in range(2):  # the second call reuses the workspace's arrays
        loss_s, grads, grads_b = loss_and_gradients(
            X,
            Y,
            coefs,
            intercepts,
            kernels=kernels,
            sparse=sparse,
            workspace=workspace,
            masks=masks,
            **common,
        )
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        assert loss_s == pytest.approx(loss, rel=rtol)
        for k, (g, d, i) in enumerate(zip(grads, dense, index)):
            expected = d.ravel()[i] if k in sparse_layers else d
            assert g.shape == expected.shape
            np.testing.assert_allclose(g, expected, rtol=rtol, atol=rtol)
        for g, d in zip(grads_b, dense_b):
            np.testing.assert_allclose(g, d, rtol=rtol, atol=rtol)


def test_sparse_layers_refuse_a_gradient_without_its_penalty():
    # Their packed gradient has no L2 term: the optimizer must add it.
    X, Y, coefs, intercepts, _, index = _sparse_problem(np.float64)
    sparse = [None, _kernels.SparseLayer(_kernels.compiled(), coefs[1], index[1]), None]
    with pytest.raises(ValueError, match="penalty_gradient=False"):
        loss_and_gradients(
            X,
            Y,
            coefs,
            intercepts,
            activation="relu",
            out_activation="softmax",
            alpha=1e-4,
            denom=20.0,
            kernels=_kernels.compiled(),
            sparse=sparse,
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_softmax_and_workspace_give_numpys_bits(dtype, weighted):
    # The fused output (softmax, loss, delta) and the reused arrays change
    # nothing, also for a smaller last minibatch and after units are removed.
    X, Y, coefs, intercepts, _, _ = _sparse_problem(dtype, density=1.0)
    sw = np.random.default_rng(2).random(len(X)).astype(dtype) if weighted else None
    common = dict(activation="relu", out_activation="softmax", alpha=1e-3)
    workspace = Workspace()
    shrunk = [coefs[0][:, :9], coefs[1][:9], coefs[2]]
    for rows, params in [
        (slice(0, 23), (coefs, intercepts)),
        (slice(0, 11), (coefs, intercepts)),
        (slice(0, 23), (shrunk, [intercepts[0][:9], *intercepts[1:]])),
    ]:
        c, b = ([np.ascontiguousarray(a) for a in p] for p in params)
        Xb, Yb, swb = X[rows], Y[rows], None if sw is None else sw[rows]
        n = float(len(Xb))
        reference = loss_and_gradients(
            Xb, Yb, c, b, denom=n, sample_weight=swb, **common
        )
        fused = loss_and_gradients(
            Xb,
            Yb,
            c,
            b,
            denom=n,
            sample_weight=swb,
            kernels=_kernels.compiled(),
            workspace=workspace,
            **common,
        )
        assert fused[0] == reference[0]
        for a, e in zip(fused[1] + fused[2], reference[1] + reference[2]):
            np.testing.assert_array_equal(a, e)


class _Optimizer:
    def __init__(self, index):
        self.index = index


class _State:
    def __init__(self, coefs):
        self.coefs = coefs


def test_sparse_layers_are_rebuilt_when_the_arrays_change():
    # Pruning, removing units and restoring a snapshot put new arrays in the
    # state (and a new index in the optimizer): no layer built for the old
    # ones may survive, while unchanged ones are reused.
    X, _, coefs, _, masks, index = _sparse_problem(np.float32, density=0.1)
    kernels = _kernels.compiled()
    state, optimizer = _State(list(coefs)), _Optimizer([None, index[1], index[2]])
    first = _loop._sparse_layers(kernels, X, state, optimizer, None)
    assert first[0] is None and first[1] is not None and first[2] is not None
    again = _loop._sparse_layers(kernels, X, state, optimizer, first)
    assert again[1] is first[1] and again[2] is first[2]
    state.coefs[1] = coefs[1][:, :8].copy()  # a unit removed: a smaller array
    optimizer.index[1] = np.flatnonzero(masks[1][:, :8])
    optimizer.index[2] = index[2].copy()  # same values, new array
    rebuilt = _loop._sparse_layers(kernels, X, state, optimizer, again)
    assert rebuilt[1] is not first[1] and rebuilt[1].coef is state.coefs[1]
    assert rebuilt[2] is not first[2]
    # Without compressed optimizer state or without the kernels: dense.
    optimizer.index = [None, None, None]
    assert _loop._sparse_layers(kernels, X, state, optimizer, rebuilt) is None
    assert _loop._sparse_layers(None, X, state, _Optimizer(index), None) is None


def test_sparse_layers_train_like_dense_products(monkeypatch, digits_600):
    X, y = digits_600
    # Hidden (60, 40): every layer (input, hidden, output) ends below the
    # crossover density, also once dead units are removed.
    params = {"sparsity": 0.95, "max_iter": 20, "hidden_layer_sizes": (60, 40)}
    used = set()
    build = _loop._sparse_layers

    def recorded(*args):
        layers = build(*args)
        used.update(i for i, layer in enumerate(layers or ()) if layer is not None)
        return layers

    monkeypatch.setattr(_loop, "_sparse_layers", recorded)
    monkeypatch.setenv("SKPRUNE_NUMBA", "1")
    sparse = PrunedMLPClassifier(random_state=0, **params).fit(X, y)
    assert used == {0, 1, 2}  # the last epochs ran on the kept weights only
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


@pytest.mark.parametrize(
    "make, dtype",
    [("adam", np.float32), ("sgd", np.float32), ("sgd_plain", np.float64)],
)
def test_the_flat_numpy_step_gives_the_bits_of_the_step_layer_by_layer(
    monkeypatch, make, dtype
):
    # Without the kernels the optimizer keeps its state in one flat array per
    # name and steps all parameters at once; forced back to the step layer by
    # layer (``_flat_ready`` false), it must give the same bits, through masks,
    # L2 terms, a pickle (after which the flat arrays are rebuilt) and a
    # compressed layer (which ends the flat step).
    import pickle

    from skprune._optim import SGD

    monkeypatch.setenv("SKPRUNE_NUMBA", "0")
    rng = np.random.default_rng(0)
    shapes = [(12, 7), (7, 3), (7,), (3,)]

    def build(params):
        if make == "adam":
            return Adam(params, learning_rate_init=0.01)
        nesterov = make == "sgd"
        return SGD(params, learning_rate_init=0.01, momentum=0.9, nesterov=nesterov)

    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    flat_params = [p.copy() for p in start]
    layer_params = [p.copy() for p in start]
    flat, layered = build(flat_params), build(layer_params)
    layered._flat_ready = lambda grads: False
    calls = []

    def steps(n, expect_flat):
        for _ in range(n):
            grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
            calls.append(flat._flat_ready(grads))
            l2 = [1e-3, 1e-3, 0.0, 0.0]
            flat.update_params(flat_params, [g.copy() for g in grads], l2=l2)
            layered.update_params(layer_params, [g.copy() for g in grads], l2=l2)
        for a, b in zip(flat_params, layer_params):
            np.testing.assert_array_equal(a, b)
        assert calls[-n:] == [expect_flat] * n

    steps(4, True)
    masks = [rng.random(shapes[0]) < 0.7, None, None, None]
    for opt, params in ((flat, flat_params), (layered, layer_params)):
        params[0] *= masks[0]
        opt.apply_masks(masks)
    steps(4, True)  # a masked layer stays flat
    flat = pickle.loads(pickle.dumps(flat))
    assert all(m.base is flat._flat["_scratch"] for m in flat._scratch)
    steps(3, True)  # the copy's flat arrays hold its state
    masks = [rng.random(shapes[0]) < 0.2, None, None, None]
    for opt, params in ((flat, flat_params), (layered, layer_params)):
        params[0] *= masks[0]
        opt.apply_masks(masks)
    assert flat.index[0] is not None
    steps(3, False)  # compressed: layer by layer, the flat arrays let go
    assert flat._flat is None
    # Gradients of another dtype than the state's take the layer-by-layer step.
    other = build([p.copy() for p in start])
    assert not other._flat_ready([np.zeros(s, np.float16) for s in shapes])


@pytest.mark.parametrize(
    "params",
    [
        dict(granularity="neuron", sparsity=0.3),  # units removed: state moved
        dict(solver="sgd", sparsity=0.3, learning_rate="adaptive"),
    ],
)
def test_numpy_fits_with_the_flat_step_give_the_bits_of_the_step_layer_by_layer(
    monkeypatch, digits_600, params
):
    # Whole fits, NumPy only: shrinking (remap) and partial_fit's copies of the
    # training state keep the flat step (at every step: no layer's state is
    # compressed at 0.3) and the same bits.
    from skprune._optim import optimizers

    monkeypatch.setenv("SKPRUNE_NUMBA", "0")
    X, y = digits_600
    fits, flat_steps = [], {False: [], True: []}
    ready = optimizers._Optimizer._flat_ready
    for layered in (False, True):

        def counted(self, grads, layered=layered):
            flat = False if layered else ready(self, grads)
            flat_steps[layered].append(flat)
            return flat

        monkeypatch.setattr(optimizers._Optimizer, "_flat_ready", counted)
        clf = PrunedMLPClassifier((30, 20), max_iter=10, random_state=0, **params)
        with pytest.warns(Warning):
            clf.fit(X, y)
            clf.partial_fit(X, y)
        fits.append(clf)
    assert all(flat_steps[False]) and len(flat_steps[True]) == len(flat_steps[False])
    _assert_same_bits(*fits)


@pytest.mark.parametrize("setting", ["0", "1"])
def test_small_data_shuffled_once_per_epoch_gives_the_minibatch_gathers_bits(
    monkeypatch, digits_600, setting
):
    # Data of at most EPOCH_GATHER_MAX_BYTES is put in the epoch's order at
    # once and sliced into minibatches; the rows are those of the minibatch
    # gather, so the fit is the same to the bit (sample weights included).
    X, y = digits_600
    X = X.astype(np.float32)
    assert X.nbytes <= _loop.EPOCH_GATHER_MAX_BYTES
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=y.size)
    fits, gathers = [], []
    take = Workspace.take

    def counted(self, name, a, indices):
        gathers.append(name)
        return take(self, name, a, indices)

    monkeypatch.setattr(Workspace, "take", counted)
    for limit in (_loop.EPOCH_GATHER_MAX_BYTES, 0):
        monkeypatch.setattr(_loop, "EPOCH_GATHER_MAX_BYTES", limit)
        monkeypatch.setenv("SKPRUNE_NUMBA", setting)
        clf = PrunedMLPClassifier((30,), max_iter=8, sparsity=0.9, random_state=0)
        fits.append(clf.fit(X, y, sample_weight=weights))
        # Per epoch, once each (X until a sparse input layer reads the data
        # itself); or per minibatch.
        if limit:
            assert gathers.count("Y_epoch") == gathers.count("sw_epoch") == 8
            assert 1 <= gathers.count("X_epoch") <= 8 and "Y" not in gathers
        else:
            assert "Y_epoch" not in gathers and gathers.count("Y") == 8 * 3
        gathers.clear()
    _assert_same_bits(*fits)
