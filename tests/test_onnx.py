"""ONNX export: onnxruntime agrees with predict and predict_proba (classifier), predict
(regressor)."""

import numpy as np
import pytest
from sklearn.datasets import (
    load_digits,
    load_iris,
    make_friedman1,
    make_multilabel_classification,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier, PrunedMLPRegressor

onnxruntime = pytest.importorskip("onnxruntime")
skprune_onnx = pytest.importorskip("skprune.onnx")
numpy_helper = pytest.importorskip("onnx.numpy_helper")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _problem(kind):
    if kind == "multiclass":
        X, y = load_digits(return_X_y=True)
        return X[:500], y[:500]
    if kind == "binary":
        X, y = load_iris(return_X_y=True)
        return X[y > 0], np.where(y[y > 0] == 1, "versicolor", "virginica")
    X, y = make_multilabel_classification(n_samples=150, n_classes=4, random_state=0)
    return X, y


def _run(onx, X):
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel"])
@pytest.mark.parametrize(
    "params",
    [dict(sparsity=0.9), dict(sparsity=0.5, granularity="neuron")],
    ids=["weight", "neuron"],
)
def test_onnxruntime_matches_predict(kind, params):
    X, y = _problem(kind)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    clf = PrunedMLPClassifier((40, 20), max_iter=30, random_state=0, **params)
    clf.fit(X, y)
    onx = skprune_onnx.to_onnx(clf, X[:1])
    labels, proba = _run(onx, X)
    np.testing.assert_array_equal(labels, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


def test_graph_holds_only_the_compacted_matrices():
    X, y = _problem("multiclass")
    X = StandardScaler().fit_transform(X).astype(np.float32)
    clf = PrunedMLPClassifier(
        (60, 30), sparsity=0.5, granularity="neuron", max_iter=20, random_state=0
    ).fit(X, y)
    onx = skprune_onnx.to_onnx(clf, X[:1])
    matrices = sorted(
        numpy_helper.to_array(init).shape
        for init in onx.graph.initializer
        if len(init.dims) == 2 and init.dims[0] > 1
    )
    used = int(np.count_nonzero(np.abs(clf.coefs_[0]).sum(axis=1)))
    h1, h2 = clf.hidden_layer_sizes_
    # Half of all the weights removed as whole units: fewer units, but more
    # than half of them (a unit takes its incoming and outgoing weights).
    assert 30 < h1 < 60 and 15 < h2 < 30
    assert matrices == sorted([(used, h1), (h1, h2), (h2, 10)])


def test_pipeline_converts_and_float64_input_works():
    X, y = _problem("multiclass")
    pipe = make_pipeline(
        StandardScaler(), PrunedMLPClassifier(max_iter=10, random_state=0)
    )
    pipe.fit(X, y)
    onx = skprune_onnx.to_onnx(pipe, X[:1].astype(np.float32))
    labels, proba = _run(onx, X.astype(np.float32))
    np.testing.assert_array_equal(labels, pipe.predict(X))
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=1e-5)
    clf = pipe[-1]
    Xs = pipe[0].transform(X)
    labels64, _ = _run(skprune_onnx.to_onnx(clf, Xs[:1]), Xs)
    np.testing.assert_array_equal(labels64, clf.predict(Xs))


@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel"])
def test_float64_graphs_run_for_every_target_kind(kind):
    X, y = _problem(kind)
    X = StandardScaler().fit_transform(X)
    clf = PrunedMLPClassifier((20,), max_iter=20, random_state=0).fit(X, y)
    labels, proba = _run(skprune_onnx.to_onnx(clf, X[:1]), X)
    np.testing.assert_array_equal(labels, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


def test_dataframe_sample_and_unfitted_models_are_refused_clearly():
    from sklearn.exceptions import NotFittedError

    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = PrunedMLPClassifier((8,), max_iter=10, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="takes one input matrix"):
        skprune_onnx.to_onnx(clf, X.iloc[:1])
    labels, _ = _run(
        skprune_onnx.to_onnx(clf, X.to_numpy(np.float32)[:1]), X.to_numpy(np.float32)
    )
    np.testing.assert_array_equal(labels, clf.predict(X))
    sample = np.zeros((1, 4), np.float32)
    with pytest.raises(NotFittedError):
        skprune_onnx.to_onnx(PrunedMLPClassifier(), sample)
    with pytest.raises(NotFittedError):
        skprune_onnx.to_onnx(
            make_pipeline(StandardScaler(), PrunedMLPClassifier()), sample
        )


# -- PrunedMLPRegressor ----------------------------------------------------------


def _regression(n_outputs, loss):
    X, y = make_friedman1(n_samples=200, random_state=0)
    Y = np.column_stack([y, 0.5 * y + X[:, 0]])[:, :n_outputs]
    if loss == "poisson":
        Y = Y / 10  # rates of a few units: exp stays in range
    return StandardScaler().fit_transform(X), Y.ravel() if n_outputs == 1 else Y


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_regressor_onnxruntime_matches_predict(loss, n_outputs, dtype):
    X, Y = _regression(n_outputs, loss)
    reg = PrunedMLPRegressor(
        loss=loss, hidden_layer_sizes=(20, 10), max_iter=30, dtype=dtype
    )
    reg.set_params(random_state=0, sparsity=0.8).fit(X, Y)
    assert reg.out_activation_ == ("exp" if loss == "poisson" else "identity")
    X = X.astype(dtype)
    onx = skprune_onnx.to_onnx(reg, X[:1])
    assert [o.name for o in onx.graph.output] == ["variable"]
    (prediction,) = _run(onx, X)
    assert prediction.dtype == X.dtype
    assert prediction.shape == (len(X), n_outputs)  # a column for one output
    expected = reg.predict(X).reshape(len(X), n_outputs)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(prediction, expected, rtol=tol, atol=tol)


def test_regressor_graph_reads_only_the_kept_features_and_units():
    X, y = _regression(1, "squared_error")
    reg = PrunedMLPRegressor(
        hidden_layer_sizes=(30,), sparsity=0.5, granularity="neuron", max_iter=20
    ).fit(X, y)
    coefs = [c.copy() for c in reg.coefs_]
    coefs[0][[2, 7]] = 0  # features 2 and 7 are no longer read
    reg.coefs_ = coefs
    onx = skprune_onnx.to_onnx(reg, X[:1].astype(np.float32))
    matrices = [
        numpy_helper.to_array(init).shape
        for init in onx.graph.initializer
        if len(init.dims) == 2 and init.dims[0] > 1
    ]
    assert reg.hidden_layer_sizes_ == (15,)
    assert matrices == [(8, 15), (15, 1)]
    (prediction,) = _run(onx, X.astype(np.float32))
    np.testing.assert_allclose(prediction.ravel(), reg.predict(X), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regressor_pipeline_converts(dtype):
    X, y = make_friedman1(n_samples=150, n_features=6, random_state=0)
    pipe = make_pipeline(
        StandardScaler(),
        PrunedMLPRegressor(hidden_layer_sizes=(16,), max_iter=20, random_state=0),
    ).fit(X, np.column_stack([y, -y]))
    (prediction,) = _run(
        skprune_onnx.to_onnx(pipe, X[:1].astype(dtype)), X.astype(dtype)
    )
    np.testing.assert_allclose(prediction, pipe.predict(X), rtol=1e-4, atol=1e-4)


def test_regressor_exports_through_the_package_function():
    import skprune

    X, y = _regression(1, "squared_error")
    reg = PrunedMLPRegressor(hidden_layer_sizes=(8,), max_iter=10).fit(X, y)
    (prediction,) = _run(skprune.to_onnx(reg, X[:1]), X)
    np.testing.assert_allclose(prediction.ravel(), reg.predict(X), rtol=1e-5, atol=1e-5)


def test_regressor_refusals_are_clear():
    from sklearn.exceptions import NotFittedError

    X, y = _regression(1, "squared_error")
    reg = PrunedMLPRegressor(hidden_layer_sizes=(8,), max_iter=10).fit(X, y)
    with pytest.raises(ValueError, match="zipmap applies to classifiers"):
        skprune_onnx.to_onnx(reg, X[:1], zipmap=True)
    with pytest.raises(ValueError, match="zipmap applies to classifiers"):
        skprune_onnx.to_onnx(make_pipeline(StandardScaler(), reg), X[:1], zipmap=True)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    with pytest.raises(ValueError, match="PrunedMLPRegressor takes one input matrix"):
        skprune_onnx.to_onnx(reg.fit(frame, y), frame.iloc[:1])
    with pytest.raises(ValueError, match="X_sample has 5 features, but the model"):
        skprune_onnx.to_onnx(reg, X[:1, :5])
    with pytest.raises(ValueError, match="X_sample is float16"):
        skprune_onnx.to_onnx(reg, X[:1].astype(np.float16))
    sample = np.zeros((1, 10), np.float32)
    with pytest.raises(NotFittedError):
        skprune_onnx.to_onnx(PrunedMLPRegressor(), sample)
    with pytest.raises(NotFittedError):
        skprune_onnx.to_onnx(
            make_pipeline(StandardScaler(), PrunedMLPRegressor()), sample
        )
