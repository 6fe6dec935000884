"""Pruning semantics: targets reached, masks that hold, schedule formulas."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _expected import expected_layer_sparsity, expected_sparsity
from sklearn.exceptions import ConvergenceWarning

from skprune import PrunedMLPClassifier
from skprune._core import init_params, predict_proba_dense
from skprune._optim import SGD, Adam
from skprune._pruning import compute_masks, cubic_target
from skprune._sparse import InferenceNetwork, mask_from_csr, to_csr

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _masks(clf):
    # The training state's masks in the network's trained shape: the stored
    # network is compacted, and training removes dead units, so their shapes
    # change; the invariant is about the network being trained.
    state = clf._state.copy()
    state.expand()
    return [
        np.ones(c.shape, bool) if m is None else m
        for c, m in zip(state.coefs, state.masks)
    ]


# -------------------------------------------------------------- targets
@pytest.mark.parametrize("sparsity", [0.3, 0.8, 0.95])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_each_layer_reaches_the_target(digits, sparsity, solver):
    X, y = digits
    clf = PrunedMLPClassifier(
        (40, 20), sparsity=sparsity, solver=solver, max_iter=15, random_state=0
    ).fit(X, y)
    sizes = [64 * 40, 40 * 20, 20 * 10]
    targets = expected_layer_sparsity(clf, sparsity)  # the same in every layer
    for size, achieved, target, csr in zip(
        sizes, clf.layer_sparsity_, targets, clf.sparse_coefs_
    ):
        assert abs(achieved * size - target * size) <= 1  # +-1 weight
        # Storage holds no more than the kept weights (compaction may drop more).
        assert csr.nnz <= round((1 - achieved) * size)


def test_sparsity_zero_keeps_every_weight(digits):
    X, y = digits
    clf = PrunedMLPClassifier(sparsity=0, max_iter=5, random_state=0).fit(X, y)
    assert clf.sparsity_ == 0 and clf.pruning_history_ == []
    assert all(c.nnz == c.shape[0] * c.shape[1] for c in clf.sparse_coefs_)


def test_target_reached_even_when_the_budget_is_tiny(digits):
    X, y = digits
    clf = PrunedMLPClassifier(sparsity=0.9, max_iter=1, random_state=0).fit(X, y)
    assert clf.sparsity_ == pytest.approx(expected_sparsity(clf, 0.9), abs=1e-3)


# ------------------------------------------------------ masks hold
@pytest.mark.slow
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
    assert clf.sparsity_ == pytest.approx(expected_sparsity(clf, 0.9), abs=1e-3)
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
    assert clf.sparsity_ == pytest.approx(expected_sparsity(clf, 0.9), abs=1e-3)


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
        import skprune._optim.optimizers as optim

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


def test_compute_masks_connect_keeps_a_path_to_every_output():
    # Hidden unit 0 and output 1 have the lowest scores everywhere: ranked
    # plainly, output 1 and hidden unit 0 would lose all their inputs.
    scores0 = np.ones((4, 3))
    scores0[:, 0] = 0.01
    scores1 = np.array([[5.0, 0.1], [0.2, 0.1], [5.0, 0.1]])
    plain = compute_masks([scores0, scores1], [None, None], [4, 3])
    assert not plain[1][:, 1].any()
    masks = compute_masks([scores0, scores1], [None, None], [4, 3], connect=True)
    assert (~masks[1]).sum() == 3 and (~masks[0]).sum() == 4
    assert masks[1].any(axis=0).all()  # every output keeps an incoming weight
    # ... and is reached from the inputs through kept weights.
    hidden = masks[0].any(axis=0)
    assert (hidden.astype(float) @ masks[1] > 0).all()


# ------------------------------------------------------ schedule
@pytest.mark.parametrize("n_steps", [1, 4, 10])
def test_cubic_target_follows_zhu_and_gupta(n_steps):
    s_i, s_f = 0.1, 0.9
    for k in range(n_steps + 1):
        expected = s_f + (s_i - s_f) * (1 - k / n_steps) ** 3
        assert cubic_target(k, n_steps, s_i, s_f) == pytest.approx(expected)
    assert cubic_target(0, n_steps, s_i, s_f) == pytest.approx(s_i)
    assert cubic_target(n_steps, n_steps, s_i, s_f) == pytest.approx(s_f)


def test_rounds_are_recorded(digits):
    X, y = digits
    clf = PrunedMLPClassifier(
        sparsity=0.9, pruning_steps=4, max_iter=40, random_state=0
    )
    clf.fit(X, y)
    history = clf.pruning_history_
    assert [r["round"] for r in history] == [1, 2, 3, 4]
    targets = [r["target"] for r in history]
    assert targets == sorted(targets) and targets[-1] == pytest.approx(0.9)
    for record in history:
        expected = expected_sparsity(clf, record["target"])
        assert record["sparsity"] == pytest.approx(expected, abs=0.01)
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
    coefs, intercepts = init_params([60, 40, 7, 4], "tanh", rng, dtype)
    masks = [rng.uniform(size=c.shape) < d for c, d in zip(coefs, (0.04, 0.5, 0.9))]
    masks[0][3] = False  # an input feature no weight reads
    masked = [c * m for c, m in zip(coefs, masks)]
    X = rng.normal(size=(25, 60)).astype(dtype)
    expected = predict_proba_dense(X, masked, intercepts, "tanh", "softmax")
    net = InferenceNetwork(
        [to_csr(c, m) for c, m in zip(masked, masks)], intercepts, "tanh", "softmax"
    )
    assert sp.issparse(net.layers[0]) and not sp.issparse(net.layers[2])
    net.chunk_rows = 7  # several chunks, the last one short
    X_in = sp.csr_array(X) if sparse_X else X
    got = net.predict_proba(X_in)
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


# ------------------------------------------------------ criteria
def test_gradient_statistics_match_per_sample_oracle():
    from skprune._core import gradient_statistics, loss_and_gradients

    rng = np.random.RandomState(0)
    X = rng.normal(size=(9, 4))
    Y = np.eye(3)[rng.randint(3, size=9)]
    sw = rng.uniform(0.5, 2, size=9)
    coefs, intercepts = init_params([4, 5, 3], "tanh", rng, np.float64)
    kwargs = dict(activation="tanh", out_activation="softmax")
    taylor, fisher = gradient_statistics(
        X, Y, coefs, intercepts, batch_size=4, sample_weight=sw, **kwargs
    )
    # Fisher: mean over samples of the squared gradient of that sample's loss.
    expected_fisher = [np.zeros_like(c) for c in coefs]
    for n in range(9):
        _, g, _ = loss_and_gradients(
            X[n : n + 1],
            Y[n : n + 1],
            coefs,
            intercepts,
            alpha=0.0,
            denom=1.0,
            sample_weight=sw[n : n + 1],
            **kwargs,
        )
        for acc, gi in zip(expected_fisher, g):
            acc += gi**2 / 9
    # Taylor: mean over the batches of |W * batch gradient|.
    expected_taylor = [np.zeros_like(c) for c in coefs]
    for batch in (slice(0, 4), slice(4, 8), slice(8, 9)):
        n_batch = batch.stop - batch.start
        _, g, _ = loss_and_gradients(
            X[batch],
            Y[batch],
            coefs,
            intercepts,
            alpha=0.0,
            denom=n_batch,
            sample_weight=sw[batch],
            **kwargs,
        )
        for acc, gi, c in zip(expected_taylor, g, coefs):
            acc += np.abs(gi * c) / 3
    for got, want in zip(fisher + taylor, expected_fisher + expected_taylor):
        np.testing.assert_allclose(got, want, rtol=1e-10)


@pytest.mark.parametrize("criterion", ["magnitude", "random", "taylor", "obd"])
@pytest.mark.parametrize("scope", ["layer", "global"])
def test_every_criterion_and_scope_reaches_the_target(digits, criterion, scope):
    X, y = digits
    clf = PrunedMLPClassifier(
        (30,),
        sparsity=0.9,
        pruning=criterion,
        pruning_scope=scope,
        max_iter=20,
        random_state=0,
    )
    clf.fit(X, y)
    if scope == "layer":
        np.testing.assert_allclose(
            clf.layer_sparsity_, expected_layer_sparsity(clf, 0.9), atol=1 / 300
        )
    else:
        total = 64 * 30 + 30 * 10
        assert abs(clf.sparsity_ * total - round(0.9 * total)) <= 1
    if criterion != "random":
        assert clf.score(X, y) > 0.5


def test_magnitude_keeps_the_largest_weights_of_the_trained_network(digits):
    X, y = digits
    clf = PrunedMLPClassifier(
        (20,),
        sparsity=0.5,
        pruning_schedule="oneshot",
        finetune_iter=0,
        max_iter=10,
        random_state=0,
    )
    clf.fit(X, y)
    record = clf.pruning_history_[0]
    assert record["sparsity"] == pytest.approx(expected_sparsity(clf, 0.5), abs=0.01)


def test_global_scope_prunes_layers_unevenly_but_never_cuts_one(digits):
    X, y = digits
    clf = PrunedMLPClassifier(
        (40, 20), sparsity=0.98, pruning_scope="global", max_iter=15, random_state=0
    ).fit(X, y)
    assert clf.sparsity_ == pytest.approx(0.98, abs=1e-3)
    assert np.ptp(clf.layer_sparsity_) > 0.01
    # Every layer keeps at least as many weights as it has output units...
    sizes = [64 * 40, 40 * 20, 20 * 10]
    for size, fan_out, achieved in zip(sizes, (40, 20, 10), clf.layer_sparsity_):
        assert round((1 - achieved) * size) >= fan_out
    # ... and every output is reached from some input through kept weights.
    reached = np.ones(64, dtype=bool)
    for coef in clf.sparse_coefs_:
        reached = (reached.astype(float) @ (coef.toarray() != 0)) > 0
    assert reached.all()
    assert clf.feature_importances_.sum() > 0
    # Beyond the floors: a warning, and the network pruned as far as they allow.
    tiny = PrunedMLPClassifier(
        (4,), sparsity=0.99, pruning_scope="global", max_iter=15, random_state=0
    )
    with pytest.warns(UserWarning, match="cannot be reached"):
        tiny.fit(X, y)
    assert [c.nnz for c in tiny.sparse_coefs_] == [4, 10]
    assert tiny.sparsity_ == pytest.approx(1 - 14 / (64 * 4 + 4 * 10))
    assert np.isfinite(tiny.predict_proba(X)).all()


# ------------------------------------------------------ neurons
@pytest.mark.parametrize("scope", ["layer", "global"])
def test_neuron_pruning_shrinks_the_stored_network(digits, scope):
    X, y = digits
    clf = PrunedMLPClassifier(
        (40, 20),
        sparsity=0.5,
        granularity="neuron",
        pruning_scope=scope,
        learning_rate_init=0.01,
        max_iter=20,
        random_state=0,
    )
    clf.fit(X, y)
    h1, h2 = clf.hidden_layer_sizes_
    # Half of all the weights go: since a unit takes its incoming and outgoing
    # weights with it, that is far fewer than half of the units.
    kept = 64 * h1 + h1 * h2 + h2 * 10
    assert abs(kept - 0.5 * 3560) <= 64 + h2  # within one unit's weights
    assert clf.sparsity_ == pytest.approx(1 - kept / 3560)
    assert 0.5 * 60 < h1 + h2 < 60
    if scope == "layer":  # the same share of units in every hidden layer
        assert abs((40 - h1) / 40 - (20 - h2) / 20) <= 1 / 20
    assert [c.shape for c in clf.sparse_coefs_] == [
        (64, clf.hidden_layer_sizes_[0]),
        clf.hidden_layer_sizes_,
        (clf.hidden_layer_sizes_[1], 10),
    ]
    assert clf.score(X, y) > 0.8


def test_neuron_pruning_needs_a_hidden_layer(digits):
    X, y = digits
    with pytest.raises(ValueError, match="no hidden layer"):
        PrunedMLPClassifier((), granularity="neuron", max_iter=2).fit(X, y)


def test_compaction_does_not_change_predictions(digits):
    from skprune._sparse import compact_network

    X, y = digits
    rng = np.random.RandomState(0)
    coefs, intercepts = init_params([64, 30, 20, 10], "relu", rng, np.float64)
    masks = [rng.uniform(size=c.shape) < d for c, d in zip(coefs, (0.05, 0.1, 0.3))]
    masks[1][:, :5] = False  # units without inputs: constants to fold
    masks[1][:8, :] = False  # units without outputs: dead ends
    coefs = [c * m for c, m in zip(coefs, masks)]
    small, small_b, small_m = compact_network(coefs, intercepts, masks, "relu")
    assert small[1].shape[0] < 30 and small[1].shape[1] < 20
    np.testing.assert_allclose(
        predict_proba_dense(X, small, small_b, "relu", "softmax"),
        predict_proba_dense(X, coefs, intercepts, "relu", "softmax"),
        rtol=1e-12,
        atol=1e-14,
    )


# ------------------------------------------------------ schedules
@pytest.mark.parametrize(
    "schedule, n_rounds", [("oneshot", 1), ("iterative", 4), ("lottery", 4)]
)
def test_phase_schedules_run_their_rounds(digits, schedule, n_rounds):
    X, y = digits
    clf = PrunedMLPClassifier(
        (30,),
        sparsity=0.9,
        pruning_schedule=schedule,
        pruning_steps=4,
        learning_rate_init=0.01,
        max_iter=60,
        random_state=0,
    )
    clf.fit(X, y)
    history = clf.pruning_history_
    assert len(history) == n_rounds
    targets = [r["target"] for r in history]
    if schedule != "oneshot":
        # Each round keeps the same share of what the previous one kept.
        keep = 1 - np.array(targets)
        np.testing.assert_allclose(keep[1:] / keep[:-1], (0.1) ** (1 / 4), rtol=1e-9)
    assert clf.sparsity_ == pytest.approx(expected_sparsity(clf, 0.9), abs=1e-3)
    assert clf.score(X, y) > 0.8


def test_lottery_rewinds_survivors_to_the_recorded_weights():
    from skprune._optim import TrainState
    from skprune._pruning import Pruner

    rng = np.random.RandomState(0)
    coefs, intercepts = init_params([6, 5, 3], "relu", rng, np.float64)
    state = TrainState(coefs, intercepts, [None, None], "relu", "softmax")
    pruner = Pruner(
        criterion="magnitude",
        scope="layer",
        granularity="weight",
        schedule="lottery",
        sparsity=0.5,
        n_steps=2,
        finetune_iter=0,
        tol=0.0,
        rng=rng,
    )
    X, Y = rng.normal(size=(8, 6)), np.eye(3)[rng.randint(3, size=8)]
    pruner.start(state, max_iter=10, stochastic=True, train_data=(X, Y, None))
    state.n_iter = 1
    # The first epoch's end records the early weights (the dense phase goes on).
    assert not pruner.schedule.after_epoch(pruner, state, 1.0, plateau=False)
    early = [c.copy() for c in state.coefs] + [b.copy() for b in state.intercepts]
    for p in state.params:
        p += rng.normal(size=p.shape)  # "training"
    trained = [c.copy() for c in state.coefs]
    state.n_iter = 2
    # The plateau: a round, prune then rewind.
    assert pruner.schedule.after_epoch(pruner, state, 1.0, plateau=True)
    for c, m, e, t in zip(state.coefs, state.masks, early, trained):
        np.testing.assert_array_equal(c[m], e[m])
        assert np.all(c[~m] == 0)
        # the mask was chosen on the trained weights, not the early ones
        assert np.abs(t[m]).min() >= np.abs(t[~m]).max() - 1e-12
    for b, e in zip(state.intercepts, early[2:]):
        np.testing.assert_array_equal(b, e)


def test_greedy_never_accepts_a_step_beyond_the_tolerance(digits):
    X, y = digits
    tol = 0.005
    clf = PrunedMLPClassifier(
        (30,),
        sparsity=0.95,
        pruning_schedule="greedy",
        pruning_tol=tol,
        max_iter=60,
        random_state=0,
    )
    clf.fit(X, y)
    history = clf.pruning_history_
    assert history, "the search proposed nothing"
    for record in history:
        within = record["validation_loss"] <= record["reference_loss"] + tol
        assert record["accepted"] == within
    accepted = [r for r in history if r["accepted"]]
    assert accepted
    assert clf.sparsity_ == pytest.approx(accepted[-1]["sparsity"])


def test_auto_sparsity_searches_without_a_target(digits):
    X, y = digits
    clf = PrunedMLPClassifier((30,), sparsity="auto", max_iter=100, random_state=0).fit(
        X, y
    )
    assert 0 < clf.sparsity_ < 0.99
    history = clf.pruning_history_
    search = [r for r in history if r.get("search")]
    assert search, "the search proposed nothing"
    # The search's records come first: one per proposed step, along a ladder
    # toward 0.99; the refit's rounds follow.
    assert history[: len(search)] == search
    targets = [r["target"] for r in search]
    assert targets == sorted(set(targets)) and targets[-1] < 0.99
    for record in search:
        assert set(record) >= {
            "round",
            "iteration",
            "t",
            "loss",
            "layer_sparsity",
            "target",
            "sparsity",
            "validation_score",
            "reference_score",
            "held_out_change",
            "held_out_change_se",
            "accepted",
            "start",
        }
        assert "layer" not in record  # not a greedy candidate
    assert [r["start"] for r in search] == [True] + [False] * (len(search) - 1)
    # The model is trained to the last kept step's sparsity (or dense, if
    # none was kept).
    accepted = [r for r in search if r["accepted"]]
    found = accepted[-1]["sparsity"] if accepted else 0.0
    assert clf.sparsity_ == pytest.approx(found, abs=1e-3)
    refit = history[len(search) :]
    assert refit and refit[-1]["target"] == pytest.approx(found)
    assert all("reference_score" not in r for r in refit)


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam", max_iter=100),
        dict(solver="lbfgs", max_iter=60, pruning_tol=0.05),
    ],
)
def test_auto_is_the_fit_at_the_sparsity_its_search_found(digits, params):
    """The search runs on a held-out split; the model is then trained on all
    the data exactly as a fit with that fixed target (same random_state)."""
    X, y = digits
    params = dict(hidden_layer_sizes=(30,), random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        auto = PrunedMLPClassifier(sparsity="auto", **params).fit(X, y)
        search = [r for r in auto.pruning_history_ if r.get("search")]
        found = max([r["sparsity"] for r in search if r["accepted"]], default=0.0)
        fixed = PrunedMLPClassifier(sparsity=found, **params).fit(X, y)
    assert found > 0.25, "the search kept no step: nothing is compared"
    for a, b in zip(auto.coefs_ + auto.intercepts_, fixed.coefs_ + fixed.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert auto.n_iter_ == fixed.n_iter_ and auto.loss_curve_ == fixed.loss_curve_
    # The refit's rounds, numbered from 1, after the search's records.
    assert auto.pruning_history_[len(search) :] == fixed.pruning_history_
    assert fixed.pruning_history_[0]["round"] == 1


def test_auto_refits_with_the_schedule_it_is_given(digits):
    # The refit trains toward the sparsity found with pruning_schedule; the
    # greedy search (which would search again) refits gradually.
    X, y = digits
    params = dict(hidden_layer_sizes=(30,), max_iter=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for schedule, refit in (("iterative", "iterative"), ("greedy", "gradual")):
            auto = PrunedMLPClassifier(
                sparsity="auto", pruning_schedule=schedule, **params
            ).fit(X, y)
            search = [r for r in auto.pruning_history_ if r.get("search")]
            found = max([r["sparsity"] for r in search if r["accepted"]], default=0)
            assert found > 0.25, schedule
            fixed = PrunedMLPClassifier(
                sparsity=found, pruning_schedule=refit, **params
            ).fit(X, y)
            for a, b in zip(auto.coefs_, fixed.coefs_):
                np.testing.assert_array_equal(a, b)
            assert auto.pruning_history_[len(search) :] == fixed.pruning_history_


def test_auto_refuses_a_refit_schedule_before_searching(digits, monkeypatch):
    # RigL moves weights at epoch ends, which L-BFGS does not have: said at
    # once, before any training.
    X, y = digits
    clf = PrunedMLPClassifier(
        (10,), sparsity="auto", pruning_schedule="rigl", solver="lbfgs", max_iter=5
    )

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(PrunedMLPClassifier, "_run", no_training)
    with pytest.raises(ValueError, match="moves weights at epoch ends"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_auto_search_warns_nothing_of_its_own(digits, solver):
    # A max_iter that cuts the search short: only the refit may say that
    # max_iter ended training, as the fit at that sparsity would.
    X, y = digits
    params = dict(hidden_layer_sizes=(20,), max_iter=8, solver=solver, random_state=0)

    def convergence_warnings(model):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X, y)
        return sum(issubclass(w.category, ConvergenceWarning) for w in caught)

    auto = PrunedMLPClassifier(sparsity="auto", **params)
    n_auto = convergence_warnings(auto)
    search = [r for r in auto.pruning_history_ if r.get("search")]
    assert search[-1]["iteration"] == 8 or not search[-1]["accepted"]
    found = max([r["sparsity"] for r in search if r["accepted"]], default=0.0)
    n_fixed = convergence_warnings(PrunedMLPClassifier(sparsity=found, **params))
    assert n_auto == n_fixed == 1


@pytest.mark.parametrize(
    "params, first",
    [
        (dict(max_iter=30), 0.3),  # a short budget still starts at 0.3
        (dict(max_iter=30, pruning_steps=1), 0.99),  # the ladder is 0.99 alone
    ],
)
def test_auto_starts_at_the_default_only_where_its_ladder_does(digits, params, first):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = PrunedMLPClassifier((30,), sparsity="auto", random_state=0, **params).fit(
            X, y
        )
    search = [r for r in clf.pruning_history_ if r.get("search")]
    assert search[0]["target"] == pytest.approx(first)
    assert [r["start"] for r in search] == [first == 0.3] + [False] * (len(search) - 1)


def test_auto_from_a_network_past_the_default_judges_every_step_strictly(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = PrunedMLPClassifier(
            (30,), sparsity=0.5, warm_start=True, max_iter=30, random_state=0
        ).fit(X, y)
        clf.set_params(sparsity="auto").fit(X, y)
    history = [r for r in clf.pruning_history_ if "reference_score" in r]
    assert history and history[0]["target"] > 0.5
    assert not any(r["start"] for r in history)


def test_auto_verbose_says_which_step_starts_the_search(digits, capsys):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = PrunedMLPClassifier(
            (30,), sparsity="auto", max_iter=40, verbose=True, random_state=0
        ).fit(X, y)
    lines = [
        line for line in capsys.readouterr().out.splitlines() if "held-out" in line
    ]
    search = [r for r in clf.pruning_history_ if r.get("search")]
    assert len(lines) == len(search) >= 2
    marked = [("the first step: kept unless shown to lose" in line) for line in lines]
    assert marked == [True] + [False] * (len(lines) - 1)


def test_auto_judges_against_the_first_steps_network_with_smoothed_scores(digits):
    # The search's records carry the paired change of the smoothed scores:
    # against the network at the end of the dense phase for the first step,
    # against the first step's network for the others.
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = PrunedMLPClassifier(
            (30,),
            sparsity="auto",
            max_iter=60,
            solver="lbfgs",
            pruning_tol=0.05,
            random_state=0,
        ).fit(X, y)
    search = [r for r in clf.pruning_history_ if r.get("search")]
    assert len(search) >= 3
    assert all(r["held_out_change_se"] > 0 for r in search)
    changes = [r["held_out_change"] for r in search[1:]]
    # Against a fixed reference the damage accumulates along the ladder (a
    # reference reset at each kept step would make each change small).
    assert changes[-1] < changes[0] - 0.01


def test_auto_on_a_trained_network_searches_from_it_without_a_refit(digits):
    # A warm start (and from_mlp) searches from the trained network: the
    # first step is proposed at once, nothing is marked as a separate search.
    from sklearn.neural_network import MLPClassifier

    X, y = digits
    params = dict(hidden_layer_sizes=(20,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = PrunedMLPClassifier(sparsity=0, warm_start=True, **params).fit(X, y)
        clf.set_params(sparsity="auto").fit(X, y)
        mlp = MLPClassifier(**params).fit(X, y)
        adopted = PrunedMLPClassifier.from_mlp(mlp, sparsity="auto", max_iter=30)
        adopted.fit(X, y)
    for model in (clf, adopted):
        history = model.pruning_history_
        assert history and all("reference_score" in r for r in history)
        assert not any(r.get("search") for r in history)
        kept = [r["sparsity"] for r in history if r["accepted"]]
        assert model.sparsity_ == pytest.approx(kept[-1] if kept else 0.0, abs=1e-3)


@pytest.mark.parametrize(
    "params",
    [
        dict(hidden_layer_sizes=(30,), max_iter=60),
        dict(hidden_layer_sizes=(30,), max_iter=60, pruning_tol=0.05),
        dict(hidden_layer_sizes=(20,), max_iter=40, pruning_steps=4),
    ],
)
def test_auto_never_keeps_a_step_that_falls_short_of_the_reference(digits, params):
    from skprune._pruning.schedules import AUTO_Z

    X, y = digits
    clf = PrunedMLPClassifier(sparsity="auto", random_state=0, **params).fit(X, y)
    tol = clf.pruning_tol
    history = [r for r in clf.pruning_history_ if r.get("search")]
    assert history
    # The first step, to the default's sparsity, is kept unless its smoothed
    # scores fall beyond pruning_tol, AUTO_Z standard errors above their mean
    # change; it is then the reference of the steps beyond.
    start, *steps = history
    assert start["start"] and start["target"] == 0.3
    assert not any(record["start"] for record in steps)
    change, se = start["held_out_change"], start["held_out_change_se"]
    assert start["accepted"] == (change + AUTO_Z * se >= -tol)
    for record in steps:
        # Kept: the held-out score within pruning_tol of the reference, and
        # the smoothed scores' paired change, AUTO_Z standard errors below
        # its mean, too; rejected: not.
        passes = record["validation_score"] >= record["reference_score"] - tol
        passes = passes and (
            record["held_out_change"] - AUTO_Z * record["held_out_change_se"] >= -tol
        )
        assert record["accepted"] == passes, record
        if record["accepted"]:
            assert record["validation_score"] >= record["reference_score"] - tol
    # The reference of every later step is the first step's network.
    assert {r["reference_score"] for r in steps} <= {start["validation_score"]}
    # A rejected step ends the search: at most one, and it is the last.
    rejected = [i for i, r in enumerate(history) if not r["accepted"]]
    assert rejected in ([], [len(history) - 1])


def test_greedy_needs_held_out_data(digits):
    X, y = digits
    with pytest.raises(ValueError, match="validation_fraction=0 leaves no held-out"):
        PrunedMLPClassifier(sparsity="auto", validation_fraction=0).fit(X, y)
    with pytest.raises(ValueError, match="validation set is too small"):
        PrunedMLPClassifier(pruning_schedule="greedy", sparsity=0.9).fit(X[:8], y[:8])
    with pytest.raises(ValueError, match="not available in partial_fit"):
        PrunedMLPClassifier(pruning_schedule="greedy", sparsity=0.9).partial_fit(
            X, y, classes=np.arange(10)
        )


def test_auto_without_held_out_data_prunes_to_a_stand_in_target(digits):
    from skprune._base import AUTO_STAND_IN

    X, y = digits
    # partial_fit: no held-out data, a gradual schedule to the stand-in target.
    clf = PrunedMLPClassifier((20,), sparsity="auto", max_iter=10, random_state=0)
    for _ in range(15):
        clf.partial_fit(X[:500], y[:500], classes=np.arange(10))
    assert clf.sparsity_ == expected_sparsity(clf, AUTO_STAND_IN)
    assert all("reference_score" not in r for r in clf.pruning_history_)
    # fit on too few samples to hold any out: the same, with a warning.
    small = PrunedMLPClassifier((20,), sparsity="auto", max_iter=10, random_state=0)
    with pytest.warns(UserWarning, match="too few to hold out"):
        small.fit(X[:40], y[:40])
    assert small.sparsity_ == expected_sparsity(small, AUTO_STAND_IN)
    # A held-out part that leaves fewer samples than that to train on: the same.
    most = PrunedMLPClassifier(
        (20,), sparsity="auto", max_iter=10, validation_fraction=0.99, random_state=0
    )
    with pytest.warns(UserWarning, match="and train on the rest"):
        most.fit(X[:500], y[:500])
    assert most.sparsity_ == expected_sparsity(most, AUTO_STAND_IN)


# A small network pruned to 0.8 in 4 rounds within 20 epochs.
SMALL_SCHEDULE = dict(
    hidden_layer_sizes=(30,),
    sparsity=0.8,
    pruning_steps=4,
    max_iter=20,
    finetune_iter=4,
    random_state=0,
)


def test_gradual_partial_fit_counts_calls_as_epochs(digits):
    X, y = digits
    X, y = X[:1000], y[:1000]
    params = SMALL_SCHEDULE
    clf = PrunedMLPClassifier(**params)
    for _ in range(20):
        clf.partial_fit(X, y, classes=np.arange(10))
    rounds = [r["iteration"] for r in clf.pruning_history_]
    # Dense for at most half of max_iter calls, then one round per recovery,
    # the last leaving finetune_iter calls.
    assert len(rounds) == 4 and rounds == sorted(set(rounds))
    assert rounds[0] <= 10 and rounds[-1] <= 20 - 4
    assert clf.sparsity_ == pytest.approx(expected_sparsity(clf, 0.8), abs=1e-3)


def _partial_fit_until(X, y, rounds, **params):
    """partial_fit ``SMALL_SCHEDULE`` until ``rounds`` of its 4 have pruned it."""
    clf = PrunedMLPClassifier(**{**SMALL_SCHEDULE, **params})
    while len(getattr(clf, "pruning_history_", [])) < rounds:
        clf.partial_fit(X, y, classes=np.arange(10))
    return clf


@pytest.mark.parametrize("schedule", ["gradual", "iterative"])
@pytest.mark.parametrize("new", [0.6, 0.95])
def test_partial_fit_aims_the_rest_of_the_schedule_at_a_new_sparsity(
    digits, schedule, new
):
    X, y = digits[0][:1000], digits[1][:1000]
    clf = _partial_fit_until(X, y, 1, pruning_schedule=schedule)
    ref = _partial_fit_until(X, y, 1, pruning_schedule=schedule)  # left at 0.8
    clf.set_params(sparsity=new)
    for _ in range(20):
        clf.partial_fit(X, y)
        ref.partial_fit(X, y)
    # The remaining rounds happen as planned, aimed at the new target.
    assert len(clf.pruning_history_) == len(ref.pruning_history_) == 4
    assert clf.sparsity_ == pytest.approx(expected_sparsity(clf, new), abs=1e-3)
    assert ref.sparsity_ == pytest.approx(expected_sparsity(ref, 0.8), abs=1e-3)


def test_partial_fit_below_the_reached_sparsity_prunes_no_more(digits):
    X, y = digits[0][:1000], digits[1][:1000]
    clf = _partial_fit_until(X, y, 2)
    reached, rounds = clf.sparsity_, len(clf.pruning_history_)
    clf.set_params(sparsity=0.1)
    for _ in range(10):
        clf.partial_fit(X, y)
    # Weights are never regrown, and no round is left to run.
    assert clf.sparsity_ == reached and len(clf.pruning_history_) == rounds


def test_partial_fit_lays_out_a_new_schedule_after_other_changes(digits):
    X, y = digits[0][:1000], digits[1][:1000]
    clf = _partial_fit_until(X, y, 2)
    rounds = len(clf.pruning_history_)
    clf.set_params(pruning_schedule="oneshot")
    for _ in range(40):
        clf.partial_fit(X, y)
    # One round of the new schedule, straight to the target.
    assert len(clf.pruning_history_) == rounds + 1
    assert clf.sparsity_ == pytest.approx(expected_sparsity(clf, 0.8), abs=1e-3)


def test_greedy_rounds_number_on_after_a_warm_start(digits):
    X, y = digits
    clf = PrunedMLPClassifier(
        (20,),
        pruning_schedule="greedy",
        sparsity=0.7,
        max_iter=30,
        warm_start=True,
        random_state=0,
    ).fit(X, y)
    first = clf.pruning_history_[-1]["round"]
    clf.set_params(sparsity=0.85).fit(X, y)
    rounds = [r["round"] for r in clf.pruning_history_]
    assert rounds == sorted(rounds) and rounds[-1] > first


# ------------------------------------------------------ reporting / migration
def test_feature_importances_select_features(digits):
    from sklearn.feature_selection import SelectFromModel

    X, y = digits
    clf = PrunedMLPClassifier((30,), sparsity=0.95, max_iter=30, random_state=0)
    selector = SelectFromModel(clf, threshold="mean").fit(X, y)
    importances = selector.estimator_.feature_importances_
    assert importances.shape == (64,)
    assert importances.sum() == pytest.approx(1)
    # Pixels that are constant in digits get no weight at all.
    constant = X.std(axis=0) == 0
    assert np.all(importances[constant] == 0)
    assert 0 < selector.transform(X).shape[1] < 64


def test_from_mlp_keeps_predictions_then_prunes(digits):
    from sklearn.neural_network import MLPClassifier

    X, y = digits
    mlp = MLPClassifier((30,), max_iter=30, random_state=0).fit(X, y)
    clf = PrunedMLPClassifier.from_mlp(mlp, sparsity=0.8, max_iter=40, dtype="float64")
    np.testing.assert_allclose(clf.predict_proba(X), mlp.predict_proba(X), rtol=1e-10)
    assert clf.sparsity_ == 0 and clf.warm_start
    clf.fit(X, y)
    assert clf.sparsity_ == pytest.approx(expected_sparsity(clf, 0.8), abs=1e-3)
    assert clf.n_iter_ > mlp.n_iter_
    assert clf.score(X, y) > 0.9
    with pytest.raises(TypeError, match="fitted sklearn.neural_network"):
        PrunedMLPClassifier.from_mlp(clf)


def test_gridsearch_over_pruning_settings(digits):
    from sklearn.model_selection import GridSearchCV

    X, y = digits
    search = GridSearchCV(
        PrunedMLPClassifier((20,), max_iter=15, random_state=0),
        {
            "sparsity": [0.5, 0.9],
            "pruning": ["magnitude", "random"],
            "pruning_schedule": ["gradual", "oneshot"],
        },
        cv=2,
    ).fit(X[:600], y[:600])
    assert len(search.cv_results_["params"]) == 8
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_
    assert best.sparsity_ == pytest.approx(
        expected_sparsity(best, search.best_params_["sparsity"]), abs=0.01
    )


def test_neuron_refit_at_a_reached_target_adds_no_round(digits):
    # 0.8 of 16 and 8 units rounds to 13 and 6 removed (19/24 < 0.8 overall).
    X, y = digits
    clf = PrunedMLPClassifier(
        (16, 8),
        granularity="neuron",
        sparsity=0.8,
        warm_start=True,
        max_iter=15,
        pruning_steps=3,
        random_state=0,
    ).fit(X, y)
    n_rounds = len(clf.pruning_history_)
    clf.fit(X, y)
    assert len(clf.pruning_history_) == n_rounds


def test_greedy_respects_the_scope_rules(digits):
    X, y = digits
    common = dict(pruning_schedule="greedy", solver="lbfgs", max_iter=30)
    # Global: the same floors as the other schedules (beyond them, a warning),
    # and every output connected.
    with pytest.warns(UserWarning, match="cannot be reached"):
        tiny = PrunedMLPClassifier(
            (4,), pruning_scope="global", sparsity=0.99, pruning_tol=10.0, **common
        ).fit(X, y)
    assert all(c.nnz >= c.shape[1] for c in tiny.sparse_coefs_)
    clf = PrunedMLPClassifier(
        (16, 8), pruning_scope="global", sparsity=0.95, pruning_tol=10.0, **common
    ).fit(X, y)
    reached = np.ones(X.shape[1], dtype=bool)
    for coef in clf.sparse_coefs_:
        reached = (reached.astype(float) @ (coef.toarray() != 0)) > 0
    assert reached.all()
    # Layer: the same sparsity in every layer, like elsewhere.
    common["max_iter"] = 60
    clf = PrunedMLPClassifier((20,), sparsity=0.8, pruning_tol=10.0, **common).fit(X, y)
    np.testing.assert_allclose(
        clf.layer_sparsity_, expected_layer_sparsity(clf, 0.8), atol=0.01
    )
    assert "rates" not in clf.pruning_history_[-1]


def test_compute_masks_connect_protects_only_weights_from_reached_units():
    # Hidden unit 1 has no input left: the output's best weight comes from it,
    # but the protected path must go through unit 0, which the inputs reach.
    masks = [np.array([[True, False], [True, False]]), None]
    scores = [np.ones((2, 2)), np.array([[1.0], [10.0]])]
    new = compute_masks(scores, masks, [2, 1], connect=True)
    assert new[1][0, 0] and not new[1][1, 0]
    assert new[0][:, 0].any()


def test_global_scope_with_a_one_unit_layer_keeps_every_output(digits):
    X, y = digits
    clf = PrunedMLPClassifier(
        (1,), sparsity=0.5, pruning_scope="global", max_iter=5, random_state=0
    ).fit(X, y)
    assert np.all(clf.sparse_coefs_[-1].toarray() != 0)  # 1 x 10: nothing pruned
    assert clf.layer_sparsity_[-1] == 0


def test_warm_start_fit_lays_out_a_new_plan(digits):
    # A greedy fit that runs out of epochs leaves its search unfinished; a later
    # warm-start fit with other settings follows those settings.
    X, y = digits
    clf = PrunedMLPClassifier(
        (32,), sparsity=0.9, pruning_schedule="greedy", max_iter=2, random_state=0
    ).fit(X, y)
    clf.set_params(
        warm_start=True, max_iter=10, sparsity=0.3, pruning_schedule="iterative"
    )
    for model in (clf, pickle.loads(pickle.dumps(clf))):
        model.fit(X, y)
        assert model.sparsity_ <= 0.35


# ------------------------------------------------------ convergence-driven timing
@pytest.mark.parametrize("schedule", ["gradual", "iterative"])
def test_the_fit_stops_by_tol_after_the_last_round(digits, schedule):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X, y = digits
    max_iter = 300
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = PrunedMLPClassifier(
            (30,),
            sparsity=0.9,
            pruning_schedule=schedule,
            pruning_steps=4,
            tol=1e-2,
            n_iter_no_change=3,
            finetune_iter=15,
            learning_rate_init=0.01,
            max_iter=max_iter,
            random_state=0,
        ).fit(X, y)
    rounds = [r["iteration"] for r in clf.pruning_history_]
    assert len(rounds) == 4 and rounds == sorted(set(rounds))
    # The dense phase ended on its plateau, well before half of max_iter ...
    assert rounds[0] < 0.5 * max_iter
    # ... and the stopping rule ended the fit, finetune_iter epochs at least
    # after the last round and well before max_iter.
    assert rounds[-1] + clf.finetune_iter <= clf.n_iter_ < max_iter
    assert clf.sparsity_ == expected_sparsity(clf, 0.9)
    assert clf.score(X, y) > 0.9


def test_early_stopping_stops_early_at_the_target(digits):
    X, y = digits
    clf = PrunedMLPClassifier(
        (30,),
        sparsity=0.9,
        early_stopping=True,
        learning_rate_init=0.01,
        max_iter=500,
        random_state=0,
    ).fit(X, y)
    assert clf.n_iter_ < 500 / 2
    assert len(clf.pruning_history_) == clf.pruning_steps
    assert clf.pruning_history_[-1]["iteration"] + clf.finetune_iter <= clf.n_iter_
    assert clf.sparsity_ == expected_sparsity(clf, 0.9)
    assert len(clf.validation_scores_) == clf.n_iter_


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_a_budget_too_short_to_converge_warns_and_still_reaches_the_target(
    digits, solver
):
    from sklearn.exceptions import ConvergenceWarning

    X, y = digits
    clf = PrunedMLPClassifier((30,), sparsity=0.9, solver=solver, max_iter=8)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(8\) reached"):
        clf.fit(X, y)
    assert clf.n_iter_ == 8
    assert clf.sparsity_ == expected_sparsity(clf, 0.9)
    assert clf.pruning_history_[-1]["target"] == pytest.approx(0.9)


@pytest.mark.parametrize("scope", ["layer", "erk", "global"])
@pytest.mark.parametrize("schedule", ["oneshot", "iterative", "gradual", "lottery"])
def test_sparsity_is_the_share_of_all_weights_removed(digits_600, scope, schedule):
    X, y = digits_600
    total = 64 * 16 + 16 * 8 + 8 * 10
    for sparsity in (0.3, 0.75, 0.9):
        clf = PrunedMLPClassifier(
            (16, 8),
            sparsity=sparsity,
            pruning_scope=scope,
            pruning_schedule=schedule,
            pruning_steps=3,
            max_iter=8,
            random_state=0,
        ).fit(X, y)
        pruned = round(sparsity * total)
        assert clf.sparsity_ == pytest.approx(pruned / total, abs=1e-12)
        sizes = np.array([64 * 16, 16 * 8, 8 * 10])
        kept = np.round((1 - np.asarray(clf.layer_sparsity_)) * sizes)
        assert kept.sum() == total - pruned
        assert np.all(kept >= [16, 8, 10])  # every layer keeps its floor
        floors = np.array([16, 8, 10])
        if scope == "layer":
            # The same sparsity in every layer, to a weight; a layer whose share
            # would go below its floor keeps the floor, the others make up for it.
            floored = (1 - sparsity) * sizes < floors
            achieved = np.asarray(clf.layer_sparsity_) * sizes
            if not floored.any():
                assert np.all(np.abs(achieved - sparsity * sizes) <= 1)
            assert np.all(kept[floored] == floors[floored])
            assert np.all(achieved[~floored] >= sparsity * sizes[~floored] - 1)
            assert floored.any() == (sparsity == 0.9)  # 8 of 80 < 10 outputs
        elif scope == "erk":
            from skprune._pruning import erk_densities

            density = erk_densities(
                [(64, 16), (16, 8), (8, 10)], (1 - sparsity) * total
            )
            assert np.all(np.abs(kept - density * sizes) <= 1)
        assert clf.pruning_history_[-1]["target"] == pytest.approx(sparsity)


def test_erk_keeps_small_layers_denser(digits):
    X, y = digits
    clf = PrunedMLPClassifier(
        (40, 20), sparsity=0.9, pruning_scope="erk", max_iter=15, random_state=0
    ).fit(X, y)
    assert clf.sparsity_ == expected_sparsity(clf, 0.9)
    # Density in proportion to (n_in + n_out) / (n_in * n_out).
    density = 1 - np.asarray(clf.layer_sparsity_)
    assert density[0] < density[1] < density[2]
    raw = np.array([104 / 2560, 60 / 800, 30 / 200])
    np.testing.assert_allclose(density / raw, (density / raw)[0], rtol=0.02)
    assert clf.score(X, y) > 0.6


@pytest.mark.parametrize(
    "scope, floors", [("layer", [1, 3]), ("erk", [1, 3]), ("global", [2, 3])]
)
def test_a_tiny_network_at_a_high_sparsity_warns_and_fits(iris, scope, floors):
    X, y = iris
    clf = PrunedMLPClassifier(
        (2,), sparsity=0.9, pruning_scope=scope, max_iter=50, random_state=0
    )
    with pytest.warns(UserWarning, match="cannot be reached.*pruned that far"):
        clf.fit(X, y)
    # Pruned as far as the floors allow: the output layer keeps one weight per
    # output, a hidden layer one weight (global: one per unit, every output fed).
    total = 4 * 2 + 2 * 3
    assert clf.sparsity_ == pytest.approx(1 - sum(floors) / total)
    np.testing.assert_allclose(
        clf.layer_sparsity_, [1 - floors[0] / 8, 1 - floors[1] / 6]
    )
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert clf.pruning_history_


def test_gridsearch_over_tiny_networks_scores_every_candidate(iris):
    import warnings

    from sklearn.model_selection import GridSearchCV

    X, y = iris
    search = GridSearchCV(
        PrunedMLPClassifier(sparsity=0.9, max_iter=30, random_state=0),
        {"hidden_layer_sizes": [(2,), (5,)]},
        cv=3,
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 2 and np.all(np.isfinite(scores))
    assert np.all(np.isfinite(search.cv_results_["split0_test_score"]))


def test_partial_fit_reaches_the_target_with_rounds_at_call_boundaries(digits):
    X, y = digits
    X, y = X[:500], y[:500]
    clf = PrunedMLPClassifier(
        (30,), sparsity=0.85, pruning_steps=5, max_iter=30, random_state=0
    )
    calls = 0
    rounds_at = []
    for calls in range(1, 61):
        before = len(getattr(clf, "pruning_history_", []))
        clf.partial_fit(X, y, classes=np.arange(10))
        if len(clf.pruning_history_) > before:
            rounds_at.append(calls)
    history = clf.pruning_history_
    assert clf.sparsity_ == expected_sparsity(clf, 0.85)
    assert 1 < len(history) <= 5
    for record, call in zip(history, rounds_at):
        # Each round at the end of a call: its epoch is that call, and the
        # samples seen are whole calls.
        assert record["iteration"] == call
        assert record["t"] == call * X.shape[0]
    # The plan is laid out over max_iter calls; the last round leaves at least
    # a quarter of them (the fine-tuning reserve) before the end.
    assert rounds_at[-1] <= 30 - min(clf.finetune_iter, 30 // 4)


def test_a_refit_at_a_reached_neuron_target_does_not_warn(digits):
    import warnings

    X, y = digits
    clf = PrunedMLPClassifier(
        (20,),
        granularity="neuron",
        sparsity=0.5,
        max_iter=20,
        warm_start=True,
        random_state=0,
    ).fit(X, y)
    assert clf.sparsity_ == pytest.approx(0.5)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*removes no hidden unit")
        clf.fit(X, y)


def test_auto_judges_by_each_held_out_samples_smoothed_score():
    """The smoothed scores paired by the auto search: the probability of the
    true class (softmax), of each true label (logistic: binary, multilabel),
    each sample's share of R^2 (regression, their mean being R^2)."""
    from sklearn.metrics import r2_score

    from skprune import PrunedMLPRegressor

    Y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    np.testing.assert_allclose(
        PrunedMLPClassifier._score_contributions(Y, P, "softmax"), [0.7, 0.6]
    )
    Yb, Pb = np.array([[1.0], [0.0]]), np.array([[0.8], [0.3]])
    np.testing.assert_allclose(
        PrunedMLPClassifier._score_contributions(Yb, Pb, "logistic"), [0.8, 0.7]
    )
    Ym, Pm = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[0.9, 0.4], [0.5, 0.7]])
    np.testing.assert_allclose(
        PrunedMLPClassifier._score_contributions(Ym, Pm, "logistic"),
        [(0.9 + 0.6) / 2, (0.5 + 0.7) / 2],
    )
    rng = np.random.default_rng(0)
    Yr = rng.normal(size=(40, 2))
    Pr = Yr + rng.normal(scale=0.5, size=(40, 2))
    shares = PrunedMLPRegressor._score_contributions(Yr, Pr, "identity")
    assert shares.mean() == pytest.approx(r2_score(Yr, Pr))
    # A constant output takes no part (its R^2 is 0 or 1 only); with no
    # output varying, every share is 0.
    Yc = np.column_stack([Yr[:, 0], np.full(40, 30.0)])
    Pc = np.column_stack([Pr[:, 0], np.full(40, 25.0)])
    shares = PrunedMLPRegressor._score_contributions(Yc, Pc, "identity")
    assert shares.mean() == pytest.approx(r2_score(Yr[:, 0], Pr[:, 0]))
    flat = PrunedMLPRegressor._score_contributions(Yc[:, 1:], Pc[:, 1:], "identity")
    np.testing.assert_array_equal(flat, np.zeros(40))


def test_auto_scores_a_non_finite_output_as_the_worst():
    from skprune._optim.state import TrainState

    clf = PrunedMLPClassifier()
    X_val, Y_val = np.ones((3, 2)), np.eye(3)
    contributions = clf._validation_contributions(X_val, Y_val, None)
    state = TrainState(
        coefs=[np.full((2, 3), np.nan)],
        intercepts=[np.zeros(3)],
        masks=[None],
        activation="relu",
        out_activation="softmax",
    )
    assert np.all(contributions(state) == -np.inf)
