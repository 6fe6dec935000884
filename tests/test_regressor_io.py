"""PrunedMLPRegressor saved and loaded: skops (trusting skprune.TRUSTED_TYPES) and
pickle give back a model that predicts identically, alone or in a Pipeline."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_friedman1
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skprune
from skprune import PrunedMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    X, y = make_friedman1(n_samples=200, random_state=0)
    return X, y


def _regressor(**params):
    params = {"hidden_layer_sizes": (16,), "max_iter": 20, "random_state": 0, **params}
    return PrunedMLPRegressor(**params)


def _round_trip(model, how, path):
    if how == "pickle":
        return pickle.loads(pickle.dumps(model))
    sio = pytest.importorskip("skops.io")
    sio.dump(model, path)
    assert set(sio.get_untrusted_types(file=path)) <= set(skprune.TRUSTED_TYPES)
    return sio.load(path, trusted=skprune.TRUSTED_TYPES)


@pytest.mark.parametrize("how", ["pickle", "skops"])
@pytest.mark.parametrize(
    "params, n_outputs",
    [
        (dict(), 1),
        (dict(loss="poisson", dtype="float64"), 2),
        (dict(granularity="neuron", sparsity=0.5), 2),
    ],
    ids=["squared_error", "poisson-float64", "neuron"],
)
def test_regressor_round_trip_predicts_identically(
    data, how, params, n_outputs, tmp_path
):
    X, y = data
    X = StandardScaler().fit_transform(X)
    Y = np.column_stack([y, X[:, 0] ** 2])[:, :n_outputs] / 10
    reg = _regressor(**params).fit(X, Y.ravel() if n_outputs == 1 else Y)
    restored = _round_trip(reg, how, tmp_path / "reg.skops")
    assert type(restored) is PrunedMLPRegressor
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    assert restored.predict(X).dtype == reg.predict(X).dtype
    assert all(isinstance(c, sp.csr_array) for c in restored.sparse_coefs_)
    assert restored.out_activation_ == reg.out_activation_
    assert restored.n_outputs_ == reg.n_outputs_ == n_outputs
    assert restored.sparsity_ == reg.sparsity_
    assert restored.hidden_layer_sizes_ == reg.hidden_layer_sizes_
    assert restored.loss_curve_ == reg.loss_curve_
    assert restored.get_params() == reg.get_params()


@pytest.mark.parametrize("how", ["pickle", "skops"])
def test_regressor_pipeline_round_trip_predicts_identically(data, how, tmp_path):
    X, y = data
    pipe = make_pipeline(StandardScaler(), _regressor(sparsity=0.8)).fit(X, y)
    restored = _round_trip(pipe, how, tmp_path / "pipe.skops")
    np.testing.assert_array_equal(restored.predict(X), pipe.predict(X))
    assert restored.score(X, y) == pipe.score(X, y)
    assert type(restored[-1]) is PrunedMLPRegressor


def test_skops_names_the_regressor_as_its_only_untrusted_type(data, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = data
    pipe = make_pipeline(StandardScaler(), _regressor(max_iter=5)).fit(X, y)
    sio.dump(pipe, tmp_path / "pipe.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "pipe.skops")
    assert untrusted == ["skprune._regressor.PrunedMLPRegressor"]
    # Without trusting it, skops refuses the file.
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(tmp_path / "pipe.skops")


@pytest.mark.parametrize("how", ["pickle", "skops"])
def test_loaded_regressor_goes_on_training(data, how, tmp_path):
    X, y = data
    X = StandardScaler().fit_transform(X)
    reg = _regressor(warm_start=True, sparsity=0.8).fit(X, y)
    restored = _round_trip(reg, how, tmp_path / "reg.skops")
    restored.set_params(max_iter=5).fit(X, y)
    # Training goes on from the loaded weights: sparsity is kept, predictions move.
    assert restored.sparsity_ >= reg.sparsity_ - 1e-12
    assert not np.array_equal(restored.predict(X), reg.predict(X))
