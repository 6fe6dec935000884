"""ONNX export: onnxruntime agrees with predict and predict_proba."""

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, make_multilabel_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier

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
    assert (h1, h2) == (30, 15)
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
