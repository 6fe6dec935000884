"""PrunedMLPClassifier as a scikit-learn user sees it: parity, API, errors."""

import inspect
import io
import pickle
import re
import warnings
from contextlib import redirect_stdout

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from _expected import expected_sparsity
from sklearn.base import clone
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ---------------------------------------------------------------- parity oracle
@pytest.mark.slow
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_dense_float64_matches_mlpclassifier_on_digits(digits_split, solver):
    X_train, X_test, y_train, y_test = digits_split
    params = dict(solver=solver, max_iter=60, random_state=0)
    ours = PrunedMLPClassifier(sparsity=0, dtype="float64", **params)
    ref = MLPClassifier(**params)
    ours.fit(X_train, y_train)
    ref.fit(X_train, y_train)
    assert abs(ours.score(X_test, y_test) - ref.score(X_test, y_test)) <= 0.01
    # Same seed, same draws, same arithmetic: the runs coincide.
    assert ours.n_iter_ == ref.n_iter_
    assert ours.loss_ == pytest.approx(ref.loss_, rel=1e-6)
    np.testing.assert_allclose(
        ours.predict_proba(X_test), ref.predict_proba(X_test), atol=1e-6
    )


def test_dense_float64_matches_mlpclassifier_with_early_stopping(digits_split):
    # Binary: MLPClassifier stratifies the validation split only there (skprune
    # also stratifies multiclass targets, as MLPClassifier's documentation says).
    X_train, _, y_train, _ = digits_split
    X_train, y_train = X_train[y_train < 2], y_train[y_train < 2]
    params = dict(early_stopping=True, max_iter=40, random_state=3)
    ours = PrunedMLPClassifier(sparsity=0, dtype="float64", **params)
    ours.fit(X_train, y_train)
    ref = MLPClassifier(**params).fit(X_train, y_train)
    np.testing.assert_allclose(ours.validation_scores_, ref.validation_scores_)
    assert ours.best_validation_score_ == ref.best_validation_score_
    assert ours.best_loss_ is None and ref.best_loss_ is None


def test_float32_is_the_default_and_is_preserved(iris):
    X, y = iris
    clf = PrunedMLPClassifier(max_iter=20, random_state=0).fit(X, y)
    assert clf.sparse_coefs_[0].dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float32
    clf64 = PrunedMLPClassifier(dtype=None, max_iter=20, random_state=0).fit(X, y)
    assert clf64.sparse_coefs_[0].dtype == np.float64
    clf32 = clf64.fit(X.astype(np.float32), y)
    assert clf32.sparse_coefs_[0].dtype == np.float32


# ------------------------------------------------------------- fitted results
def test_fitted_attributes(iris):
    X, y = iris
    clf = PrunedMLPClassifier((8, 6), sparsity=0.3, max_iter=30, random_state=0)
    clf.fit(X, y)
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3
    assert clf.out_activation_ == "softmax"
    h1, h2 = clf.hidden_layer_sizes_
    assert 1 <= h1 <= 8 and 1 <= h2 <= 6
    assert [c.shape for c in clf.coefs_] == [(4, h1), (h1, h2), (h2, 3)]
    assert all(isinstance(c, sp.csr_array) for c in clf.sparse_coefs_)
    assert all(c.indices.dtype == np.int32 for c in clf.sparse_coefs_)
    assert len(clf.loss_curve_) == clf.n_iter_ == 30
    assert clf.t_ == 30 * len(X)
    for dense, csr in zip(clf.coefs_, clf.sparse_coefs_):
        np.testing.assert_array_equal(dense, csr.toarray())
    assert clf.layer_sparsity_.shape == (3,)
    assert clf.sparsity_ == pytest.approx(expected_sparsity(clf, 0.3), abs=0.02)
    assert clf.pruning_history_[-1]["sparsity"] == pytest.approx(clf.sparsity_)


@pytest.mark.parametrize("kind", ["binary", "multilabel"])
def test_logistic_outputs(kind):
    if kind == "binary":
        X, y = load_iris(return_X_y=True)
        X, y = X[y < 2], y[y < 2]
    else:
        X, y = make_multilabel_classification(n_samples=80, n_classes=4, random_state=0)
    clf = PrunedMLPClassifier(sparsity=0.5, max_iter=50, random_state=0).fit(X, y)
    assert clf.out_activation_ == "logistic"
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2 if kind == "binary" else 4)
    assert np.all((proba >= 0) & (proba <= 1))
    assert clf.predict(X).shape == y.shape
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-5)


def test_predict_proba_rows_sum_to_one_and_match_predict(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = PrunedMLPClassifier(max_iter=20, random_state=0).fit(X_train, y_train)
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(
        clf.classes_[proba.argmax(axis=1)], clf.predict(X_test)
    )


def test_sparse_input_trains_like_dense(iris):
    X, y = iris
    params = dict(max_iter=15, random_state=0, dtype="float64")
    dense = PrunedMLPClassifier(**params).fit(X, y)
    sparse = PrunedMLPClassifier(**params).fit(sp.csr_array(X), y)
    np.testing.assert_allclose(dense.loss_curve_, sparse.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(
        dense.predict_proba(X), sparse.predict_proba(sp.csc_array(X)), rtol=1e-8
    )


# -------------------------------------------------------------- sample weights
@pytest.mark.parametrize(
    "solver, dtype, rtol",
    [("adam", "float64", 1e-9), ("lbfgs", "float64", 1e-9), ("adam", "float32", 1e-4)],
)
def test_integer_weights_equal_repeated_samples(iris, solver, dtype, rtol):
    X, y = iris
    sw = np.random.RandomState(0).randint(0, 3, size=len(X))
    # A fixed target: sparsity="auto" holds rows out, and the held-out rows of
    # repeated samples are not those of weighted ones.
    params = dict(solver=solver, sparsity=0.9, max_iter=30, random_state=0)
    params["dtype"] = dtype
    weighted = PrunedMLPClassifier(batch_size=len(X), **params)
    weighted.fit(X, y, sample_weight=sw)
    repeated = PrunedMLPClassifier(batch_size=int(sw.sum()), **params)
    repeated.fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=rtol, atol=1e-7
    )


def test_zero_weight_minibatches_are_harmless(iris):
    X, y = iris
    sw = np.ones(len(X))
    sw[:50] = 0  # with shuffle off, whole batches of weight zero
    clf = PrunedMLPClassifier(batch_size=25, shuffle=False, max_iter=20, random_state=0)
    clf.fit(X, y, sample_weight=sw)
    assert np.all(np.isfinite(clf.loss_curve_))
    assert all(np.isfinite(c.data).all() for c in clf.sparse_coefs_)


def test_class_weight_shifts_predictions(iris):
    X, y = iris
    params = dict(sparsity=0.5, max_iter=60, random_state=0)
    plain = PrunedMLPClassifier(**params).fit(X, y)
    heavy = PrunedMLPClassifier(class_weight={0: 1, 1: 1, 2: 50}, **params).fit(X, y)
    assert (heavy.predict(X) == 2).sum() > (plain.predict(X) == 2).sum()
    balanced = PrunedMLPClassifier(class_weight="balanced", **params).fit(X, y)
    assert balanced.score(X, y) > 0.8


def test_class_weight_in_partial_fit_batches_that_lack_classes(iris):
    # A batch without some of the weighted classes is weighted as in fit: a
    # class_weight of 0 for the classes in the batch means no update at all.
    X, y = iris
    params = dict(sparsity=0, dtype="float64", random_state=0)
    clf = PrunedMLPClassifier(class_weight={0: 5}, **params)
    clf.partial_fit(X[y > 0], y[y > 0], classes=[0, 1, 2])
    ref = PrunedMLPClassifier(**params).partial_fit(
        X[y > 0], y[y > 0], classes=[0, 1, 2]
    )
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X))
    frozen = PrunedMLPClassifier(class_weight={2: 0, 1: 0}, **params)
    frozen.partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])
    before = frozen.predict_proba(X)
    with pytest.raises(ValueError, match="zero weight"):
        frozen.partial_fit(X[y == 2], y[y == 2])
    np.testing.assert_array_equal(frozen.predict_proba(X), before)


@pytest.mark.parametrize("weight", [np.nan, np.inf, -1, "heavy"])
def test_class_weight_values_are_checked(iris, weight):
    X, y = iris
    clf = PrunedMLPClassifier(class_weight={0: weight, 1: 1, 2: 1})
    with pytest.raises(ValueError, match="finite, non-negative numbers; got"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_partial_fit_lowers_an_adaptive_rate_across_calls_as_mlpclassifier(iris):
    # The no-improvement count carries over from call to call, so the adaptive
    # rate is divided by 5 on the same calls.
    X, y = iris
    params = dict(
        hidden_layer_sizes=(6,),
        solver="sgd",
        learning_rate="adaptive",
        tol=10.0,
        n_iter_no_change=2,
        random_state=0,
    )
    ours = PrunedMLPClassifier(sparsity=0, dtype="float64", **params)
    ref = MLPClassifier(**params)
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(8):
            ours.partial_fit(X, y, classes=[0, 1, 2])
            ref.partial_fit(X, y, classes=[0, 1, 2])
            rates.append(ref._optimizer.learning_rate)
    assert rates[-1] < rates[0] / 20  # the rule fired twice
    assert ours._no_improvement_count == ref._no_improvement_count
    assert ours._state.optimizer.learning_rate == ref._optimizer.learning_rate
    for a, b in zip(ours.coefs_, ref.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # The count is stored with the model.
    restored = pickle.loads(pickle.dumps(ours))
    assert restored._no_improvement_count == ref._no_improvement_count


def test_partial_fit_takes_arguments_in_mlpclassifiers_order(iris):
    if "sample_weight" not in inspect.signature(MLPClassifier.partial_fit).parameters:
        pytest.skip("this scikit-learn's MLPClassifier.partial_fit has no weights")
    X, y = iris
    params = dict(solver="sgd", random_state=0)
    sw = np.linspace(0.5, 2, len(X))
    ours = PrunedMLPClassifier(sparsity=0, dtype="float64", **params)
    ours.partial_fit(X, y, sw, [0, 1, 2])
    ref = MLPClassifier(**params).partial_fit(X, y, sw, [0, 1, 2])
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-9)


def test_sample_weight_not_modified(iris):
    X, y = iris
    sw = np.linspace(0.5, 2, len(X))
    before = sw.copy()
    PrunedMLPClassifier(class_weight="balanced", max_iter=5).fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(sw, before)


# ---------------------------------------------------------- incremental / warm
def test_partial_fit_requires_classes_then_learns(digits_split):
    # The schedule spans max_iter calls (each call is one epoch of it).
    X_train, X_test, y_train, y_test = digits_split
    clf = PrunedMLPClassifier(sparsity=0.9, max_iter=100, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X_train[:100], y_train[:100])
    classes = np.unique(y_train)
    for _ in range(30):
        for chunk in np.array_split(np.arange(len(X_train)), 4):
            clf.partial_fit(X_train[chunk], y_train[chunk], classes=classes)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 120
    assert clf.score(X_test, y_test) > 0.9
    assert clf.sparsity_ == expected_sparsity(clf, 0.9)


def test_partial_fit_rejects_unknown_classes(iris):
    X, y = iris
    clf = PrunedMLPClassifier().partial_fit(X[y < 2], y[y < 2], classes=[0, 1])
    with pytest.raises(ValueError, match="classes not in"):
        clf.partial_fit(X, y)


def test_partial_fit_not_available_for_lbfgs():
    assert not hasattr(PrunedMLPClassifier(solver="lbfgs"), "partial_fit")


def test_partial_fit_matches_mlpclassifier_when_dense(iris):
    X, y = iris
    params = dict(solver="sgd", random_state=0)
    ours = PrunedMLPClassifier(sparsity=0, dtype="float64", **params)
    ref = MLPClassifier(**params)
    for _ in range(5):
        ours.partial_fit(X, y, classes=[0, 1, 2])
        ref.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-9)


def test_warm_start_continues_and_checks_classes(iris):
    X, y = iris
    clf = PrunedMLPClassifier(max_iter=10, warm_start=True, random_state=0)
    clf.fit(X, y)
    clf.fit(X, y)
    assert clf.n_iter_ == 10  # this call's, as in MLPClassifier
    assert len(clf.loss_curve_) == 20
    with pytest.raises(ValueError, match="warm_start can only be used"):
        clf.fit(X[y < 2], y[y < 2])
    clf.set_params(hidden_layer_sizes=(5,))
    with pytest.raises(ValueError, match="hidden_layer_sizes changed"):
        clf.fit(X, y)


def test_early_stopping_restores_best_pruned_weights(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = PrunedMLPClassifier(
        sparsity=0.9, early_stopping=True, max_iter=80, random_state=0
    )
    clf.fit(X_train, y_train)
    assert clf.best_loss_ is None
    assert len(clf.validation_scores_) == clf.n_iter_
    # The last round came at the end of epoch ``iteration``: the pruned network
    # is scored from the next epoch on (validation_scores_[iteration]).
    last_round = clf.pruning_history_[-1]["iteration"]
    after = clf.validation_scores_[last_round:]
    assert clf.best_validation_score_ == max(after)
    assert clf.sparsity_ == expected_sparsity(clf, 0.9)
    with pytest.raises(ValueError, match="partial_fit does not support"):
        clf.partial_fit(X_train, y_train)


# --------------------------------------------------------------- reporting
def test_verbose_prints_mlpclassifier_lines_and_pruning_rounds(iris):
    X, y = iris
    out = io.StringIO()
    with redirect_stdout(out):
        clf = PrunedMLPClassifier(
            max_iter=6,
            batch_size=5,
            verbose=True,
            sparsity=0.5,
            pruning_steps=2,
            random_state=0,
        ).fit(X, y)
    lines = out.getvalue().splitlines()
    iterations = [line for line in lines if line.startswith("Iteration")]
    assert len(iterations) == clf.n_iter_ == 6
    pattern = r"Iteration \d+, loss = \d+\.\d{8}"
    assert all(re.fullmatch(pattern, line) for line in iterations)
    rounds = [i for i, line in enumerate(lines) if line.startswith("Pruning round")]
    assert len(rounds) == len(clf.pruning_history_) == 2
    # Each round at the end of an epoch: printed after that epoch's line.
    for i, record in zip(rounds, clf.pruning_history_):
        assert lines[i - 1].startswith("Iteration %d," % record["iteration"])
    # partial_fit also says where the schedule stands after each call.
    out = io.StringIO()
    with redirect_stdout(out):
        for _ in range(2):
            clf.partial_fit(X, y)
    progress = [
        line for line in out.getvalue().splitlines() if line.startswith("Pruning:")
    ]
    assert len(progress) == 2 and "target 0.500" in progress[0]


def test_convergence_warning_wording(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        PrunedMLPClassifier(sparsity=0.9, max_iter=3).fit(X, y)


def test_convergence_warning_when_auto_runs_out_of_epochs(iris):
    X, y = iris
    clf = PrunedMLPClassifier(sparsity="auto", max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        clf.fit(X, y)


def test_converged_fit_stops_early_without_warning(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = PrunedMLPClassifier(
            learning_rate_init=0.01, max_iter=5000, random_state=0
        ).fit(X, y)
    assert clf.n_iter_ < 5000


# ------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "X_bad, message",
    [
        (np.array([[0.0, np.nan, 1.0, 2.0]] * 10), "NaN"),
        (np.array([[0.0, np.inf, 1.0, 2.0]] * 10), "infinity"),
        (np.zeros((0, 4)), "0 sample"),
    ],
)
def test_bad_X_gets_a_clear_error(X_bad, message):
    with pytest.raises(ValueError, match=message):
        PrunedMLPClassifier().fit(X_bad, np.arange(len(X_bad)) % 2)


def test_wrong_shapes_get_clear_errors(iris):
    X, y = iris
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        PrunedMLPClassifier().fit(X, y[:-1])
    clf = PrunedMLPClassifier(max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="Expected 2D"):
        clf.predict(X[0])


def test_negative_and_all_zero_sample_weights(iris):
    X, y = iris
    with pytest.raises(ValueError, match="Negative values"):
        PrunedMLPClassifier().fit(X, y, sample_weight=-np.ones(len(X)))
    with pytest.raises(ValueError, match="at least one non-zero"):
        PrunedMLPClassifier().fit(X, y, sample_weight=np.zeros(len(X)))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"sparsity": 1.5}, "sparsity"),
        ({"sparsity": 1.0}, "sparsity"),
        ({"pruning": "largest"}, "pruning"),
        ({"finetune_iter": -1}, "finetune_iter"),
        ({"pruning_steps": 0}, "pruning_steps"),
        ({"dtype": "float16"}, "dtype"),
        ({"class_weight": "equal"}, "class_weight"),
    ],
)
def test_out_of_range_parameters(iris, params, message):
    X, y = iris
    with pytest.raises(ValueError, match=message):
        PrunedMLPClassifier(**params).fit(X, y)


@pytest.mark.parametrize(
    "scope, floors",
    # The output layer keeps a weight per output; hidden layers one weight
    # ('layer'), or one per output unit ('global', which keeps every output fed).
    [("layer", [1, 3]), ("global", [2, 3])],
)
def test_sparsity_beyond_the_floors_warns_and_prunes_that_far(iris, scope, floors):
    X, y = iris
    clf = PrunedMLPClassifier(
        hidden_layer_sizes=(2,),
        sparsity=0.95,
        pruning_scope=scope,
        max_iter=20,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="sparsity=0.95 cannot be reached"):
        clf.fit(X, y)
    # No layer is emptied: each keeps its floor, and no more.
    np.testing.assert_allclose(clf.layer_sparsity_, [1 - floors[0] / 8, 1 - 3 / 6])
    assert clf.sparsity_ == pytest.approx(1 - sum(floors) / 14)
    assert all(1 <= c.nnz <= f for c, f in zip(clf.sparse_coefs_, floors))
    if scope == "global":
        assert [c.nnz for c in clf.sparse_coefs_] == floors
    assert np.isfinite(clf.predict_proba(X)).all()


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        PrunedMLPClassifier().predict(np.zeros((2, 3)))
    assert not hasattr(PrunedMLPClassifier(), "coefs_")


@pytest.mark.parametrize("to", [np.asarray, sp.csr_matrix])
def test_input_beyond_float32_range_gets_a_clear_error_in_predict(iris, to):
    X, y = iris
    clf = PrunedMLPClassifier(max_iter=20, sparsity=0.5, random_state=0).fit(X, y)
    huge = to(X[:3] * 1e39)  # finite in float64, beyond float32's range
    with pytest.raises(ValueError, match="too large for this model's float32"):
        clf.predict(huge)
    wide = PrunedMLPClassifier(max_iter=20, dtype="float64", random_state=0)
    assert np.isfinite(wide.fit(X, y).predict_proba(huge)).all()


def test_divergence_raises_and_leaves_the_model_unchanged(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = PrunedMLPClassifier(solver="sgd", max_iter=5, random_state=0)
    clf.fit(X_train, y_train)
    before = [c.copy() for c in clf.sparse_coefs_]
    clf.set_params(learning_rate_init=1e8, warm_start=True)
    with pytest.raises(ValueError, match="non-finite"):
        clf.fit(X_train * 1e4, y_train)
    for a, b in zip(before, clf.sparse_coefs_):
        np.testing.assert_array_equal(a.toarray(), b.toarray())
    assert clf.n_iter_ == 5


def test_huge_adam_steps_leave_finite_weights(digits_split):
    # Adam normalises its steps, so a huge rate gives a poor model, not NaN.
    X_train, _, y_train, _ = digits_split
    clf = PrunedMLPClassifier(learning_rate_init=1e6, max_iter=3, random_state=0)
    clf.fit(X_train * 1e4, y_train)
    assert all(np.isfinite(c.data).all() for c in clf.sparse_coefs_)
    assert np.isfinite(clf.predict_proba(X_train)).all()


def test_failed_fit_keeps_the_previous_model(digits_split, iris):
    X_train, _, y_train, _ = digits_split
    clf = PrunedMLPClassifier(solver="sgd", max_iter=3, random_state=0)
    clf.fit(*iris)
    clf.set_params(learning_rate_init=1e8)
    with pytest.raises(ValueError, match="non-finite"):
        clf.fit(X_train * 1e4, y_train)
    assert clf.n_features_in_ == 4
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict(iris[0]).shape == (150,)


def test_divergence_on_a_fresh_model_leaves_it_unfitted(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = PrunedMLPClassifier(solver="sgd", learning_rate_init=1e8, max_iter=5)
    with pytest.raises(ValueError, match="non-finite"):
        clf.fit(X_train * 1e4, y_train)
    with pytest.raises(NotFittedError):
        clf.predict(X_train)


# ---------------------------------------------------------- ecosystem
def test_pipeline_clone_and_gridsearch(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pipe = make_pipeline(
        StandardScaler(), PrunedMLPClassifier(max_iter=30, random_state=0)
    )
    search = GridSearchCV(
        pipe,
        param_grid={
            "prunedmlpclassifier__sparsity": [0.5, 0.9],
            "prunedmlpclassifier__pruning_schedule": ["gradual"],
        },
        cv=2,
        n_jobs=2,
    )
    search.fit(X_train, y_train)
    assert search.best_score_ > 0.8
    assert search.score(X_test, y_test) > 0.8
    best = search.best_estimator_[-1]
    assert best.sparsity_ == pytest.approx(
        expected_sparsity(best, best.sparsity), abs=0.01
    )
    clone(search.best_estimator_)


@pytest.mark.parametrize(
    "dump, load",
    [
        (pickle.dumps, pickle.loads),
        (lambda m: _joblib_bytes(m), lambda b: joblib.load(io.BytesIO(b))),
    ],
)
def test_persistence_round_trip(digits_split, dump, load):
    X_train, X_test, y_train, _ = digits_split
    clf = PrunedMLPClassifier(max_iter=15, random_state=0).fit(X_train, y_train)
    restored = load(dump(clf))
    np.testing.assert_array_equal(
        restored.predict_proba(X_test), clf.predict_proba(X_test)
    )
    assert "_state" not in restored.__dict__


def _joblib_bytes(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def test_n_iter_counts_the_last_call_as_in_mlpclassifier(iris):
    X, y = iris
    params = dict(warm_start=True, max_iter=5, random_state=0)
    ours = PrunedMLPClassifier(sparsity=0, dtype="float64", **params)
    ref = MLPClassifier(**params)
    for est in (ours, ref):
        est.fit(X, y).fit(X, y)
        assert est.n_iter_ == 5
        est.partial_fit(X, y)
        assert est.n_iter_ == 1
    assert len(ours.loss_curve_) == len(ref.loss_curve_) == 11


def test_best_scores_follow_the_last_calls_stopping_rule(iris):
    X, y = iris
    clf = PrunedMLPClassifier(warm_start=True, max_iter=3, early_stopping=True)
    clf.fit(X, y)
    assert clf.best_loss_ is None and clf.best_validation_score_ is not None
    clf.set_params(early_stopping=False).fit(X, y)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert clf.best_loss_ == min(clf.loss_curve_[-3:])
    clf.set_params(early_stopping=True).fit(X, y)
    assert clf.best_loss_ is None and clf.best_validation_score_ is not None


def test_partial_fit_after_unpickling_continues(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = PrunedMLPClassifier(sparsity=0.9, max_iter=20, random_state=0)
    clf.fit(X_train, y_train)
    restored = pickle.loads(pickle.dumps(clf))
    masks = [c.toarray() != 0 for c in restored.sparse_coefs_]
    for _ in range(3):
        restored.partial_fit(X_train, y_train)
    # n_iter_ counts the last call, as in MLPClassifier; the loss curve all.
    assert restored.n_iter_ == 1 and len(restored.loss_curve_) == 23
    assert [r["iteration"] for r in restored.pruning_history_] == [
        r["iteration"] for r in clf.pruning_history_
    ]
    for mask, c in zip(masks, restored.sparse_coefs_):
        assert not np.any(c.toarray()[~mask])
    assert restored.score(X_test, y_test) > 0.85


@pytest.mark.parametrize(
    "params",
    [
        dict(hidden_layer_sizes=(20,), granularity="neuron", sparsity=0.5),
        dict(hidden_layer_sizes=(40, 20), sparsity=0.97),
    ],
)
def test_warm_start_after_unpickling_does_not_prune_again(digits_split, params):
    # The stored network is compacted; continuing it must count sparsity against
    # the network as first built, not prune the smaller one to the target again.
    X_train, _, y_train, _ = digits_split
    clf = PrunedMLPClassifier(max_iter=20, warm_start=True, random_state=0, **params)
    clf.fit(X_train, y_train)
    restored = pickle.loads(pickle.dumps(clf))
    clf.fit(X_train, y_train)
    restored.fit(X_train, y_train)
    assert restored.hidden_layer_sizes_ == clf.hidden_layer_sizes_
    assert restored.pruning_history_ == clf.pruning_history_  # no new round
    # Units folded into the next bias at compaction (no incoming weight) stay
    # folded, so a layer may hold a few weights fewer, never more.
    assert np.all(restored.layer_sparsity_ >= clf.layer_sparsity_)
    assert restored.sparsity_ == pytest.approx(clf.sparsity_, abs=0.01)


def test_unfinished_partial_fit_schedule_survives_pickling(digits_split):
    X_train, _, y_train, _ = digits_split
    params = dict(
        hidden_layer_sizes=(20,),
        pruning_schedule="iterative",
        pruning_steps=3,
        sparsity=0.8,
        max_iter=12,
        random_state=0,
    )
    straight = PrunedMLPClassifier(**params)
    straight.partial_fit(X_train, y_train, classes=np.arange(10))
    # Dense for half of max_iter calls (the loss keeps improving), then a round
    # per call or so: after 7 calls, the schedule is under way.
    for _ in range(6):
        straight.partial_fit(X_train, y_train)
    resumed = pickle.loads(pickle.dumps(straight))
    assert 0 < len(straight.pruning_history_) < 3  # mid-schedule
    for _ in range(10):
        straight.partial_fit(X_train, y_train)
        resumed.partial_fit(X_train, y_train)
    assert len(resumed.pruning_history_) == len(straight.pruning_history_) == 3
    assert resumed.sparsity_ == pytest.approx(straight.sparsity_)


def test_activation_is_fixed_at_fit(iris):
    X, y = iris
    clf = PrunedMLPClassifier((10,), max_iter=20, warm_start=True, random_state=0)
    proba = clf.fit(X, y).predict_proba(X)
    clf.set_params(activation="tanh")
    # Predictions use the network as trained, before and after pickling ...
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(clf)).predict_proba(X), proba
    )
    # ... and continuing it with another activation is refused.
    with pytest.raises(ValueError, match="activation changed from 'relu' to 'tanh'"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_failed_first_partial_fit_leaves_the_estimator_untouched(iris):
    X, y = iris
    clf = PrunedMLPClassifier((10,))
    with pytest.raises(ValueError, match="has classes not in"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "classes_")
    clf.partial_fit(X, y, classes=[0, 1, 2])  # a correct retry works
    assert list(clf.classes_) == [0, 1, 2]


def test_from_mlp_refuses_another_architecture(iris):
    X, y = iris
    mlp = MLPClassifier((10,), max_iter=20, random_state=0).fit(X, y)
    for change in (dict(hidden_layer_sizes=(50,)), dict(activation="tanh")):
        with pytest.raises(ValueError, match="cannot be changed"):
            PrunedMLPClassifier.from_mlp(mlp, **change)
    clf = PrunedMLPClassifier.from_mlp(mlp, hidden_layer_sizes=(10,), sparsity=0.5)
    assert clf.hidden_layer_sizes_ == (10,)


def test_held_out_part_without_weight_gets_a_clear_error(iris):
    X, y = iris
    sample_weight = np.zeros(len(y))
    sample_weight[[0, 60, 120]] = 1.0  # 3 samples out of 150 carry weight
    clf = PrunedMLPClassifier(early_stopping=True, max_iter=5, random_state=1)
    with pytest.raises(ValueError, match="every held-out sample has zero weight"):
        clf.fit(X, y, sample_weight=sample_weight)


def test_a_finished_schedule_is_not_resumed_after_reloading(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = PrunedMLPClassifier(
        (20,), pruning_schedule="iterative", pruning_steps=3, sparsity=0.8, max_iter=6
    )
    clf.partial_fit(X_train, y_train, classes=np.arange(10))
    clf.partial_fit(X_train, y_train)
    clf = pickle.loads(pickle.dumps(clf))  # mid-schedule
    for _ in range(10):
        clf.partial_fit(X_train, y_train)  # finishes it
    rounds = len(clf.pruning_history_)
    clf = pickle.loads(pickle.dumps(clf))
    clf.partial_fit(X_train, y_train)
    assert len(clf.pruning_history_) == rounds


def test_from_mlp_accepts_the_same_architecture_written_differently(iris):
    X, y = iris
    mlp = MLPClassifier([10, 6], max_iter=20, random_state=0).fit(X, y)
    clf = PrunedMLPClassifier.from_mlp(mlp, hidden_layer_sizes=(10, 6))
    assert clf.hidden_layer_sizes_ == (10, 6)
    mlp = MLPClassifier(10, max_iter=20, random_state=0).fit(X, y)
    assert PrunedMLPClassifier.from_mlp(mlp, hidden_layer_sizes=(10,)).n_layers_ == 3
