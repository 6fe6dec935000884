"""Pruning semantics: targets reached, masks that hold, schedule formulas."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier
from skprune._core import init_params, predict_proba_dense
from skprune._optim import SGD, Adam
from skprune._pruning import compute_masks, cubic_target, gradual_plan
from skprune._sparse import forward_proba, inference_layers, mask_from_csr, to_csr

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _masks(clf):
    return [mask_from_csr(c) for c in clf.sparse_coefs_]


# -------------------------------------------------------------- targets
@pytest.mark.parametrize("sparsity", [0.3, 0.8, 0.95])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_each_layer_reaches_the_target(digits, sparsity, solver):
    X, y = digits
    clf = PrunedMLPClassifier(
        (40, 20), sparsity=sparsity, solver=solver, max_iter=15, random_state=0
    ).fit(X, y)
    for csr in clf.sparse_coefs_:
        n_weights = csr.shape[0] * csr.shape[1]
        assert abs((n_weights - csr.nnz) - sparsity * n_weights) <= 1
    np.testing.assert_allclose(clf.layer_sparsity_, sparsity, atol=1 / 200)


def test_sparsity_zero_keeps_every_weight(digits):
    X, y = digits
    clf = PrunedMLPClassifier(sparsity=0, max_iter=5, random_state=0).fit(X, y)
    assert clf.sparsity_ == 0 and clf.pruning_history_ == []
    assert all(c.nnz == c.shape[0] * c.shape[1] for c in clf.sparse_coefs_)


def test_target_reached_even_when_the_budget_is_tiny(digits):
    X, y = digits
    clf = PrunedMLPClassifier(sparsity=0.9, max_iter=1, random_state=0).fit(X, y)
    assert clf.sparsity_ == pytest.approx(0.9, abs=1e-3)


# ------------------------------------------------------ masks hold
def test_pruned_weights_stay_zero_through_warm_start(digits):
    X, y = digits
    clf = PrunedMLPClassifier(
        sparsity=0.8, max_iter=20, warm_start=True, random_state=0
    ).fit(X, y)
    before = _masks(clf)
    clf.set_params(sparsity=0.9)
    clf.fit(X, y)
    after = _masks(clf)
    for b, a in zip(before, after):
        assert not np.any(a & ~b), "a pruned weight came back"
    assert clf.sparsity_ == pytest.approx(0.9, abs=1e-3)
    # Same target again: no new round, weights keep their pattern.
    rounds = len(clf.pruning_history_)
    clf.fit(X, y)
    assert len(clf.pruning_history_) == rounds
    for a, m in zip(after, _masks(clf)):
        np.testing.assert_array_equal(a, m)


def test_pruned_weights_stay_zero_through_partial_fit(digits):
    X, y = digits
    clf = PrunedMLPClassifier(sparsity=0.9, max_iter=20, random_state=0)
    seen = None
    for i in range(40):
        chunk = slice((i % 4) * 400, (i % 4 + 1) * 400)
        clf.partial_fit(X[chunk], y[chunk], classes=np.arange(10))
        masks = [
            np.ones(c.shape, bool) if m is None else m
            for m, c in zip(_masks(clf), clf.sparse_coefs_)
        ]
        if seen is not None:
            for old, new in zip(seen, masks):
                assert not np.any(new & ~old)
        seen = masks
    assert clf.sparsity_ == pytest.approx(0.9, abs=1e-3)


@pytest.mark.parametrize("optimizer_cls", [SGD, Adam])
@pytest.mark.parametrize("density", [0.3, 0.8])  # compressed and dense state
def test_optimizer_never_moves_a_pruned_weight(optimizer_cls, density):
    rng = np.random.RandomState(0)
    params = [rng.normal(size=(30, 20)), rng.normal(size=20)]
    mask = rng.uniform(size=(30, 20)) < density
    params[0] *= mask
    opt = optimizer_cls(params, 0.1)
    # Momentum from before the pruning must not leak into pruned weights.
    opt.update_params(params, [rng.normal(size=p.shape) for p in params])
    params[0] *= mask
    opt.apply_masks([mask, None])
    for _ in range(5):
        opt.update_params(params, [rng.normal(size=p.shape) for p in params])
    assert np.all(params[0][~mask] == 0)
    assert np.all(params[0][mask] != 0)


def test_optimizer_state_compression_gives_the_same_steps():
    rng = np.random.RandomState(0)
    mask = rng.uniform(size=(30, 20)) < 0.3
    w = rng.normal(size=(30, 20)) * mask
    grads = [rng.normal(size=(30, 20)) for _ in range(4)]
    results = []
    for density_cap in (0.0, 1.0):  # force dense state, then compressed
        import skprune._optim as optim

        old, optim.COMPRESS_DENSITY = optim.COMPRESS_DENSITY, density_cap
        try:
            params = [w.copy()]
            opt = Adam(params, 0.01)
            opt.apply_masks([mask])
            for g in grads:
                opt.update_params(params, [g.copy()])
            results.append(params[0])
        finally:
            optim.COMPRESS_DENSITY = old
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


# ------------------------------------------------------ masks from scores
def test_compute_masks_prunes_exactly_and_keeps_the_largest():
    rng = np.random.RandomState(0)
    scores = [rng.uniform(size=(10, 8)), rng.uniform(size=(8, 3))]
    masks = compute_masks(scores, [None, None], [0, 12])
    assert masks[0] is None
    assert (~masks[1]).sum() == 12
    kept, dropped = scores[1][masks[1]], scores[1][~masks[1]]
    assert kept.min() > dropped.max()


def test_compute_masks_never_regrows():
    rng = np.random.RandomState(0)
    score = rng.uniform(size=(6, 5))
    first = compute_masks([score], [None], [10])[0]
    # New scores that would favour the pruned weights.
    second = compute_masks([1 - score], [first], [15])[0]
    assert not np.any(second & ~first)
    assert (~second).sum() == 15


def test_compute_masks_prefers_weights_that_reach_the_output():
    # Layer 1 keeps only rows 0 and 1 (units 0 and 1 of the hidden layer); the
    # largest weights of layer 0 feed unit 2, which no longer reaches the output.
    scores0 = np.ones((4, 3))
    scores0[:, 2] = 10.0
    scores1 = np.array([[5.0, 5.0], [5.0, 5.0], [0.1, 0.1]])
    masks = compute_masks([scores0, scores1], [None, None], [8, 2])
    assert not masks[1][2].any()
    assert not masks[0][:, 2].any()
    assert masks[0][:, :2].sum() == 4


# ------------------------------------------------------ schedule
@pytest.mark.parametrize("n_steps", [1, 4, 10])
def test_cubic_target_follows_zhu_and_gupta(n_steps):
    s_i, s_f = 0.1, 0.9
    for k in range(n_steps + 1):
        expected = s_f + (s_i - s_f) * (1 - k / n_steps) ** 3
        assert cubic_target(k, n_steps, s_i, s_f) == pytest.approx(expected)
    assert cubic_target(0, n_steps, s_i, s_f) == pytest.approx(s_i)
    assert cubic_target(n_steps, n_steps, s_i, s_f) == pytest.approx(s_f)


def test_gradual_plan_fits_the_budget_and_leaves_time_to_finetune():
    plan = gradual_plan(
        0.0, 0.9, n_steps=10, finetune_iter=10, max_iter=200, updates_per_epoch=100
    )
    epochs = [e for e, _ in plan]
    assert epochs == sorted(epochs) and len(plan) == 10
    assert epochs[-1] <= 200 - 10
    assert plan[-1][1] == pytest.approx(0.9)
    tight = gradual_plan(
        0.0, 0.9, n_steps=10, finetune_iter=10, max_iter=5, updates_per_epoch=100
    )
    assert tight[-1][0] < 5


def test_rounds_are_recorded(digits):
    X, y = digits
    clf = PrunedMLPClassifier(pruning_steps=4, max_iter=40, random_state=0)
    clf.fit(X, y)
    history = clf.pruning_history_
    assert [r["round"] for r in history] == [1, 2, 3, 4]
    targets = [r["target"] for r in history]
    assert targets == sorted(targets) and targets[-1] == pytest.approx(0.9)
    for record in history:
        assert record["sparsity"] == pytest.approx(record["target"], abs=0.01)
        assert set(record) >= {
            "iteration",
            "sparsity",
            "layer_sparsity",
            "loss",
            "validation_score",
            "accepted",
        }


# ------------------------------------------------------ storage
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse_X", [False, True])
def test_csr_forward_equals_dense_masked_forward(dtype, sparse_X):
    rng = np.random.RandomState(0)
    coefs, intercepts = init_params([12, 9, 7, 4], "tanh", rng, dtype)
    masks = [rng.uniform(size=c.shape) < d for c, d in zip(coefs, (0.1, 0.5, 0.9))]
    masked = [c * m for c, m in zip(coefs, masks)]
    X = rng.normal(size=(25, 12)).astype(dtype)
    expected = predict_proba_dense(X, masked, intercepts, "tanh", "softmax")
    layers = inference_layers([to_csr(c, m) for c, m in zip(masked, masks)])
    assert sp.issparse(layers[0]) and not sp.issparse(layers[2])
    X_in = sp.csr_array(X) if sparse_X else X
    got = forward_proba(X_in, layers, intercepts, "tanh", "softmax")
    assert got.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-7)


def test_csr_structure_is_the_mask_even_for_zero_weights():
    coef = np.array([[0.0, 2.0], [3.0, 0.0]])
    mask = np.array([[True, True], [False, False]])
    csr = to_csr(coef, mask)
    assert csr.nnz == 2  # the kept 0.0 is stored explicitly
    np.testing.assert_array_equal(mask_from_csr(csr), mask)
    assert mask_from_csr(to_csr(coef)) is None
