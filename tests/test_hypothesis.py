"""Property-based hardening: any input either works or fails with a clear error.

Hypothesis draws data shapes, dtypes, containers (ndarray, lists, sparse CSR/CSC,
pandas), label types (int, str, multilabel), sample weights and parameter
combinations. ``fit`` and ``predict*`` must either succeed with valid outputs
(finite probabilities, rows summing to one, labels from ``classes_``) or raise
``ValueError``/``TypeError`` with a message; any other exception, and any
RuntimeWarning from NumPy (turned into an error by the pytest configuration),
fails the test.

Sparse matrices with a corrupted structure (indices out of range, a broken
index pointer) are always refused with a ``ValueError`` before scipy's compiled
code reads them; and a ``partial_fit`` interrupted (Ctrl-C) at any point leaves
the model exactly as before the call.

Profiles: ``ci`` (default, a few dozen examples per test) and ``long``
(``HYPOTHESIS_PROFILE=long python -m pytest tests/test_hypothesis.py``).
"""

import os
import pickle
import warnings
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
from _interrupt import InterruptAt
from sklearn.exceptions import ConvergenceWarning

import skprune._optim.loop as optim
from skprune import PrunedMLPClassifier, PrunedMLPRegressor

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@st.composite
def problems(draw):
    n_samples = draw(st.integers(1, 30))
    n_features = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64, np.bool_]))
    if dtype == np.bool_:
        elements = st.booleans()
    elif dtype == np.int64:
        elements = st.integers(-100, 100)
    else:
        elements = st.floats(
            -1e4, 1e4, allow_nan=False, width=32 if dtype == np.float32 else 64
        )
    X = draw(hnp.arrays(dtype, (n_samples, n_features), elements=elements))
    if draw(st.booleans()) and dtype in (np.float64, np.float32) and X.size:
        X.flat[draw(st.integers(0, X.size - 1))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf])
        )
    container = draw(st.sampled_from(["array", "list", "csr", "csc", "frame"]))

    kind = draw(st.sampled_from(["int", "str", "multilabel"]))
    n_classes = draw(st.integers(1, 4))
    codes = draw(
        hnp.arrays(np.int64, n_samples, elements=st.integers(0, n_classes - 1))
    )
    if kind == "int":
        y = codes * 3 - 1
    elif kind == "str":
        y = np.array(["cat", "dog", "eel", "fox"])[codes]
    else:
        y = draw(
            hnp.arrays(
                np.int64, (n_samples, max(n_classes, 2)), elements=st.integers(0, 1)
            )
        )

    weights = draw(st.sampled_from(["none", "positive", "zeros", "negative"]))
    if weights == "none":
        sample_weight = None
    else:
        sample_weight = draw(
            hnp.arrays(np.float64, n_samples, elements=st.floats(0, 5))
        )
        if weights == "zeros":
            sample_weight[: n_samples // 2] = 0
        elif weights == "negative" and n_samples:
            sample_weight[0] = -1.0
    return _wrap(X, container), y, sample_weight


def _wrap(X, container):
    if container == "list":
        return X.tolist()
    if container in ("csr", "csc"):
        if X.dtype == np.bool_:
            X = X.astype(np.int64)
        return sp.csr_array(X) if container == "csr" else sp.csc_array(X)
    if container == "frame":
        pd = pytest.importorskip("pandas")
        return pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    return X


parameters = st.fixed_dictionaries(
    {
        "hidden_layer_sizes": st.sampled_from([(1,), (4,), (6, 3)]),
        "solver": st.sampled_from(["adam", "sgd", "lbfgs"]),
        "sparsity": st.sampled_from([0.0, 0.5, 0.9, "auto"]),
        "pruning": st.sampled_from(["magnitude", "random", "taylor", "obd"]),
        "pruning_scope": st.sampled_from(["layer", "global"]),
        "granularity": st.sampled_from(["weight", "neuron"]),
        "pruning_schedule": st.sampled_from(
            ["gradual", "iterative", "oneshot", "lottery", "greedy"]
        ),
        "max_iter": st.integers(1, 4),
        "batch_size": st.sampled_from(["auto", 1, 7]),
        "early_stopping": st.booleans(),
        "dtype": st.sampled_from(["float32", "float64", None]),
        "class_weight": st.sampled_from([None, "balanced"]),
        "activation": st.sampled_from(["relu", "tanh", "logistic", "identity"]),
    }
)


def _check_outputs(clf, X):
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba))
    assert np.all((proba >= 0) & (proba <= 1))
    if clf._label_binarizer.y_type_ != "multilabel-indicator":
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-4)
        predictions = clf.predict(X)
        assert np.isin(predictions, clf.classes_).all()
    log_proba = clf.predict_log_proba(X)
    assert not np.any(np.isnan(log_proba))


@given(problem=problems(), params=parameters)
def test_fit_and_predict_work_or_fail_clearly(problem, params):
    X, y, sample_weight = problem
    clf = PrunedMLPClassifier(random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            clf.fit(X, y, sample_weight=sample_weight)
        except (ValueError, TypeError) as exc:
            assert str(exc).strip(), "an error must say what was wrong"
            event(f"refused: {str(exc)[:40]}")
            return
    event("fitted")
    _check_outputs(clf, X)
    weights = [c.data for c in clf.sparse_coefs_] + list(clf.intercepts_)
    assert all(np.isfinite(w).all() for w in weights)


@given(problem=problems(), params=parameters)
def test_partial_fit_works_or_fails_clearly(problem, params):
    X, y, sample_weight = problem
    params = dict(params, solver="adam", early_stopping=False, class_weight=None)
    clf = PrunedMLPClassifier(random_state=0, **params)
    classes = None if np.ndim(y) == 2 else np.unique(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            for _ in range(2):
                clf.partial_fit(X, y, classes=classes, sample_weight=sample_weight)
        except (ValueError, TypeError) as exc:
            assert str(exc).strip()
            return
    _check_outputs(clf, X)


CORRUPTIONS = ["index_high", "index_negative", "indptr_decreasing", "indptr_length"]


@st.composite
def corrupt_sparse(draw):
    """A small sparse matrix (CSR, CSC or COO) with one structural defect."""
    n_samples, n_features = draw(st.integers(2, 12)), draw(st.integers(2, 5))
    X = draw(
        hnp.arrays(
            np.float64,
            (n_samples, n_features),
            elements=st.sampled_from([0.0, 0.0, 1.5, -2.0]),
        )
    )
    X[0, 0] = X[-1, -1] = 1.0  # at least two stored values
    fmt = draw(st.sampled_from(["csr", "csc", "coo"]))
    M = {"csr": sp.csr_array, "csc": sp.csc_array, "coo": sp.coo_array}[fmt](X)
    corruption = draw(st.sampled_from(CORRUPTIONS[:2] if fmt == "coo" else CORRUPTIONS))
    at = draw(st.integers(0, M.nnz - 1))
    if corruption.startswith("index"):
        limit = n_features if fmt != "csc" else n_samples
        bad = (
            draw(st.integers(limit, 2**31 - 1))
            if corruption == "index_high"
            else draw(st.integers(-(2**31), -1))
        )
        indices = (M.col if fmt == "coo" else M.indices).astype(np.int64)
        indices[at] = bad
        if fmt == "coo":
            M.col = indices
        else:
            M.indices = indices
    elif corruption == "indptr_decreasing":
        indptr = M.indptr.astype(np.int64)
        i = draw(st.integers(1, indptr.size - 2))
        indptr[i] = indptr[i + 1] + draw(st.integers(1, 10**9))
        M.indptr = indptr
    else:
        cut = draw(st.integers(1, M.indptr.size - 1))
        M.indptr = (
            M.indptr[:-cut].copy()
            if draw(st.booleans())
            else np.append(M.indptr, [M.nnz] * cut)
        )
    event(f"{fmt} {corruption}")
    return M


@pytest.fixture(scope="module")
def small_fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 5))
    y = rng.integers(0, 3, 30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = PrunedMLPClassifier((4,), sparsity=0.5, max_iter=3).fit(X, y)
        reg = PrunedMLPRegressor(hidden_layer_sizes=(4,), max_iter=3).fit(X, X[:, 0])
    return clf, reg


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    X=corrupt_sparse(),
    method=st.sampled_from(["fit", "partial_fit", "predict", "predict_proba"]),
    regressor=st.booleans(),
)
def test_corrupt_sparse_input_is_refused(small_fitted, X, method, regressor):
    model = small_fitted[1] if regressor else small_fitted[0]
    if method == "predict_proba" and regressor:
        method = "predict"
    if method in ("fit", "partial_fit"):
        y = np.arange(X.shape[0]) % 2
        model = (
            PrunedMLPRegressor(max_iter=1)
            if regressor
            else PrunedMLPClassifier(max_iter=1)
        )
        call = lambda: getattr(model, method)(X, y)  # noqa: E731
    else:
        before = pickle.dumps(model)
        call = lambda: getattr(model, method)(X)  # noqa: E731
    with pytest.raises(ValueError, match="invalid structure"):
        call()
    if method.startswith("predict"):
        assert pickle.dumps(model) == before


@given(
    regressor=st.booleans(),
    params=st.fixed_dictionaries(
        {
            "sparsity": st.sampled_from([0.0, 0.5, 0.9]),
            "granularity": st.sampled_from(["weight", "neuron"]),
            "pruning_schedule": st.sampled_from(
                ["gradual", "iterative", "oneshot", "lottery"]
            ),
            "batch_size": st.sampled_from([5, 12, 40]),
            "max_iter": st.integers(1, 3),
        }
    ),
    interrupts=st.lists(
        st.one_of(st.none(), st.integers(1, 8)), min_size=1, max_size=4
    ),
)
def test_interrupted_partial_fit_is_all_or_nothing(regressor, params, interrupts):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    if regressor:
        model, y, kwargs = PrunedMLPRegressor(**params), X[:, 0] - X[:, 1], {}
    else:
        y = rng.integers(0, 3, 40)
        model, kwargs = PrunedMLPClassifier(**params), {"classes": [0, 1, 2]}
    model.set_params(hidden_layer_sizes=(6,), random_state=0)
    for at in interrupts:
        before = pickle.dumps(model)
        fake = InterruptAt(at) if at else optim.loss_and_gradients
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            with mock.patch.object(optim, "loss_and_gradients", fake):
                try:
                    model.partial_fit(X, y, **kwargs)
                except KeyboardInterrupt:
                    event("interrupted")
                    assert pickle.dumps(model) == before
                    continue
                except ValueError as exc:  # refused settings change nothing either
                    event(f"refused: {str(exc)[:40]}")
                    assert pickle.dumps(model) == before
                    continue
        event("completed")
        assert not at or fake.calls < at  # it was not interrupted
        assert np.isfinite(model.predict(X)).all()
