"""Low-latency predict: small calls take shortcuts, and nothing else changes.

A plain float array skips ``validate_data`` and a call that fits in one chunk
skips the chunk loop; these tests check that every input gives the outputs of
the float64 dense forward pass, whatever its container, dtype and number of
rows, and that the errors and warnings are still scikit-learn's (compared with
MLPClassifier's, word for word).
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import LabelBinarizer

import skprune._sparse
from skprune import PrunedMLPClassifier, PrunedMLPRegressor
from skprune._core import predict_proba_dense

COLUMNS = [f"pixel_{i}" for i in range(64)]


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _sparse_weights(clf, seed=0):
    """Keep 4% of the first layer's weights (a CSR layer) and none from input 0."""
    rng = np.random.RandomState(seed)
    first = clf.coefs_[0] * (rng.uniform(size=clf.coefs_[0].shape) < 0.04)
    first[0] = 0
    clf.coefs_ = [first, *clf.coefs_[1:]]
    return clf


@pytest.fixture(scope="module", params=["float32", "float64"])
def classifiers(request, digits):
    """A dense and a sparse-first-layer classifier of one compute dtype."""
    X, y = digits
    params = dict(hidden_layer_sizes=(40, 20), max_iter=20, random_state=0)
    dense = _fit(PrunedMLPClassifier(sparsity=0.0, dtype=request.param, **params), X, y)
    sparse = _sparse_weights(
        _fit(PrunedMLPClassifier(sparsity=0.0, dtype=request.param, **params), X, y)
    )
    return dense, sparse


def _oracle(clf, X):
    """Probabilities of the float64 dense forward pass over ``coefs_``."""
    coefs = [c.astype(np.float64) for c in clf.coefs_]
    intercepts = [b.astype(np.float64) for b in clf.intercepts_]
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    return predict_proba_dense(
        X, coefs, intercepts, clf.activation, clf.out_activation_
    )


def _rtol(clf):
    return 1e-5 if clf.intercepts_[0].dtype == np.float32 else 1e-10


# ------------------------------------------------------ same outputs
@pytest.mark.parametrize("layout", ["dense", "sparse"])
@pytest.mark.parametrize("n_rows", [1, 10])
@pytest.mark.parametrize(
    "container", ["float64", "float32", "fortran", "list", "csr", "csc"]
)
def test_small_calls_match_the_dense_forward_pass(
    classifiers, digits, layout, n_rows, container
):
    clf = classifiers[layout == "sparse"]
    X = digits[0][:100]
    expected = _oracle(clf, X)
    convert = {
        "float64": lambda A: A,
        "float32": lambda A: A.astype(np.float32),
        "fortran": np.asfortranarray,
        "list": lambda A: A.tolist(),
        "csr": sp.csr_array,
        "csc": sp.csc_matrix,
    }[container]
    rtol = max(_rtol(clf), 1e-5 if container == "float32" else 0)
    for start in range(0, 30, n_rows):
        rows = convert(X[start : start + n_rows])
        proba = clf.predict_proba(rows)
        assert proba.shape == (n_rows, 10) and proba.dtype == clf.intercepts_[0].dtype
        np.testing.assert_allclose(
            proba, expected[start : start + n_rows], rtol=rtol, atol=1e-7
        )
        np.testing.assert_array_equal(
            clf.predict(rows), clf.classes_[expected[start : start + n_rows].argmax(1)]
        )
        np.testing.assert_allclose(
            clf.predict_log_proba(rows), np.log(proba), rtol=1e-6
        )


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_rows_one_at_a_time_equal_a_chunked_batch(
    classifiers, digits, layout, monkeypatch
):
    clf = classifiers[layout == "sparse"]
    X = digits[0]
    # A copy whose inference network works through 8-row chunks.
    monkeypatch.setattr(skprune._sparse, "CHUNK_BYTES_DENSE", 4096)
    monkeypatch.setattr(skprune._sparse, "CHUNK_BYTES_SPARSE", 4096)
    chunked = pickle.loads(pickle.dumps(clf))
    batch = chunked.predict_proba(X)
    one_by_one = np.vstack([clf.predict_proba(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(one_by_one, batch, rtol=_rtol(clf), atol=1e-7)
    np.testing.assert_array_equal(
        np.concatenate([clf.predict(X[i : i + 1]) for i in range(len(X))]),
        chunked.predict(X),
    )


def test_dataframe_rows_match_arrays(digits):
    X, y = digits
    frame = pd.DataFrame(X, columns=COLUMNS)
    clf = _fit(PrunedMLPClassifier(hidden_layer_sizes=(20,), max_iter=10), frame, y)
    expected = _oracle(clf, X[:10])
    for rows in (frame.iloc[:1], frame.iloc[:10]):
        proba = clf.predict_proba(rows)
        np.testing.assert_allclose(proba, expected[: len(rows)], rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(
            clf.predict(rows), clf.classes_[expected[: len(rows)].argmax(1)]
        )


@pytest.mark.parametrize("labels", ["binary", "strings", "multilabel"])
def test_predicted_labels_are_the_label_binarizers(digits, labels):
    X, y = digits
    y = {
        "binary": y % 2,
        "strings": np.array(list("abcdefghij"))[y],
        "multilabel": np.column_stack([y % 2, y > 4, y == 3]).astype(int),
    }[labels]
    clf = _fit(PrunedMLPClassifier(hidden_layer_sizes=(20,), max_iter=10), X, y)
    binarizer = LabelBinarizer().fit(y)
    for rows in (X[:1], X[:10]):
        proba = clf.predict_proba(rows)
        outputs = proba[:, 1] if labels == "binary" else proba
        expected = binarizer.inverse_transform(outputs, threshold=0.5)
        predicted = clf.predict(rows)
        assert predicted.dtype == expected.dtype
        np.testing.assert_array_equal(predicted, expected)


def test_regressor_small_calls_match_the_batch(diabetes):
    X, y = diabetes
    reg = _fit(
        PrunedMLPRegressor(hidden_layer_sizes=(20,), max_iter=50, random_state=0), X, y
    )
    batch = reg.predict(X[:20])
    one_by_one = np.concatenate([reg.predict(X[i : i + 1]) for i in range(20)])
    # float32: a mat-vec and a matrix product round differently, which no
    # relative tolerance bounds for an output near zero.
    np.testing.assert_allclose(one_by_one, batch, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        reg.predict(X[:20].tolist()), batch, rtol=1e-5, atol=1e-6
    )


# ------------------------------------------------------ same errors
@pytest.fixture(scope="module")
def pair(digits):
    """A PrunedMLPClassifier and an MLPClassifier fitted on the same arrays."""
    X, y = digits
    params = dict(hidden_layer_sizes=(10,), max_iter=5, random_state=0)
    return _fit(PrunedMLPClassifier(**params), X, y), _fit(
        MLPClassifier(**params), X, y
    )


def _error(estimator, method, X):
    with pytest.raises((ValueError, TypeError)) as info:
        getattr(estimator, method)(X)
    return type(info.value), str(info.value).replace("PrunedMLP", "MLP")


def _with(X, where, value):
    X = X.copy()
    X[where] = value
    return X


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda X: X[:1, :63], id="n_features"),
        pytest.param(lambda X: X[:1, :63].astype(np.float32), id="n_features-float32"),
        pytest.param(lambda X: _with(X[:1], (0, 5), np.nan), id="nan-1-row"),
        pytest.param(lambda X: _with(X[:10], (7, 0), np.nan), id="nan-10-rows"),
        pytest.param(lambda X: _with(X[:2], (1, 1), -np.inf), id="inf"),
        pytest.param(lambda X: _with(X[:1], (0, 1), np.nan).tolist(), id="nan-list"),
        pytest.param(lambda X: X[0], id="1-d"),
        pytest.param(lambda X: X[:0], id="no-rows"),
        pytest.param(lambda X: X[:2, :, None], id="3-d"),
        pytest.param(lambda X: X[:1].astype(complex), id="complex"),
        pytest.param(
            lambda X: np.asmatrix(X[:1]),
            id="np.matrix",
            marks=pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
        ),
        pytest.param(lambda X: sp.csr_array(X[:1, :60]), id="csr-n_features"),
    ],
)
def test_errors_are_mlpclassifiers(pair, digits, method, bad):
    clf, mlp = pair
    X = bad(digits[0])
    assert _error(clf, method, X) == _error(mlp, method, X)


def _warnings(estimator, method, X):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(estimator, method)(X)
    return [(w.category, str(w.message).replace("PrunedMLP", "MLP")) for w in caught]


@pytest.mark.parametrize("fit_names", [True, False])
@pytest.mark.parametrize("n_rows", [1, 10])
def test_feature_name_warnings_are_mlpclassifiers(digits, fit_names, n_rows):
    X, y = digits
    frame = pd.DataFrame(X, columns=COLUMNS)
    data = frame if fit_names else X
    params = dict(hidden_layer_sizes=(10,), max_iter=5, random_state=0)
    clf = _fit(PrunedMLPClassifier(**params), data, y)
    mlp = _fit(MLPClassifier(**params), data, y)
    rows = X[:n_rows] if fit_names else frame.iloc[:n_rows]
    for method in ("predict", "predict_proba"):
        got = _warnings(clf, method, rows)
        assert got and got == _warnings(mlp, method, rows)
    if fit_names:
        renamed = frame.iloc[:n_rows, ::-1]
        assert _error(clf, "predict", renamed) == _error(mlp, "predict", renamed)
        assert "same order" in _error(clf, "predict", renamed)[1]


@pytest.mark.parametrize("n_rows", [1, 10])
def test_assume_finite_skips_the_finite_check(classifiers, digits, n_rows):
    clf = classifiers[1]  # input 0 is read by no kept weight
    X = digits[0][:n_rows].copy()
    X[:, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.predict(X)
    cleaned = np.where(np.isnan(X), 0.0, X)
    with sklearn.config_context(assume_finite=True):
        np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(cleaned))
    previous = sklearn.get_config()["assume_finite"]
    sklearn.set_config(assume_finite=True)
    try:
        np.testing.assert_array_equal(clf.predict(X), clf.predict(cleaned))
        # A NaN the network reads makes its outputs NaN: said as the check says it.
        X[:, np.flatnonzero(clf.feature_importances_)[0]] = np.nan
        with pytest.raises(ValueError, match="Input X contains NaN"):
            clf.predict(X)
    finally:
        sklearn.set_config(assume_finite=previous)


# ------------------------------------------------------ fitted state
@pytest.mark.parametrize(
    "estimator, methods",
    [
        (PrunedMLPClassifier(), ["predict", "predict_proba", "predict_log_proba"]),
        (PrunedMLPRegressor(), ["predict"]),
    ],
)
@pytest.mark.parametrize("n_rows", [1, 10])
def test_unfitted_estimators_raise_not_fitted(estimator, methods, n_rows):
    X = np.zeros((n_rows, 4))
    for method in methods:
        with pytest.raises(NotFittedError):
            getattr(estimator, method)(X)


def test_assigned_weights_take_effect_on_the_fast_path(classifiers, digits):
    clf = pickle.loads(pickle.dumps(classifiers[0]))
    row = digits[0][:1]
    before = clf.predict_proba(row)
    clf.intercepts_ = [*clf.intercepts_[:-1], clf.intercepts_[-1] + np.arange(10)]
    after = clf.predict_proba(row)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, _oracle(clf, row), rtol=_rtol(clf), atol=1e-7)
