"""Saving and loading: pickle, joblib and skops, in this process and a fresh one."""

import json
import pickle
import subprocess
import sys
import zipfile

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skprune
from skprune import PrunedMLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def fitted():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = PrunedMLPClassifier(sparsity=0.9, max_iter=20, random_state=0).fit(X, y)
    return clf, X


def _skops_roundtrip(model, path):
    sio = pytest.importorskip("skops.io")
    sio.dump(model, path)
    return sio.load(path, trusted=skprune.TRUSTED_TYPES)


@pytest.mark.parametrize("how", ["pickle", "joblib", "skops"])
def test_round_trip_predicts_identically(fitted, how, tmp_path):
    clf, X = fitted
    path = tmp_path / "model"
    if how == "pickle":
        restored = pickle.loads(pickle.dumps(clf))
    elif how == "joblib":
        joblib.dump(clf, path)
        restored = joblib.load(path)
    else:
        restored = _skops_roundtrip(clf, path)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert all(isinstance(c, sp.csr_array) for c in restored.sparse_coefs_)
    assert restored.sparsity_ == clf.sparsity_


def test_skops_pipeline_needs_only_skprune_types(fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), PrunedMLPClassifier(max_iter=5)).fit(X, y)
    sio.dump(pipe, tmp_path / "pipe.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "pipe.skops")
    assert untrusted and set(untrusted) <= set(skprune.TRUSTED_TYPES)
    restored = sio.load(tmp_path / "pipe.skops", trusted=skprune.TRUSTED_TYPES)
    np.testing.assert_array_equal(restored.predict(X), pipe.predict(X))


def test_tampered_skops_file_is_refused(fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    clf, _ = fitted
    good, bad = tmp_path / "good.skops", tmp_path / "bad.skops"
    sio.dump(clf, good)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "schema.json":
                schema = json.loads(payload)
                # Smuggle a callable into the estimator's state.
                schema["content"]["content"]["verbose"] = {
                    "__class__": "system",
                    "__module__": "os",
                    "__loader__": "TypeNode",
                    "__id__": 999999,
                }
                payload = json.dumps(schema).encode()
            dst.writestr(item, payload)
    from skops.io.exceptions import UntrustedTypesFoundException

    assert "os.system" in sio.get_untrusted_types(file=bad)
    with pytest.raises(UntrustedTypesFoundException, match="os.system"):
        sio.load(bad, trusted=skprune.TRUSTED_TYPES)


def test_fresh_process_predicts_identically(fitted, tmp_path):
    clf, X = fitted
    model, data, out = tmp_path / "m.pkl", tmp_path / "X.npy", tmp_path / "p.npy"
    joblib.dump(clf, model)
    np.save(data, X)
    code = (
        "import joblib, numpy as np, sys;"
        "m = joblib.load(sys.argv[1]);"
        "np.save(sys.argv[3], m.predict_proba(np.load(sys.argv[2])))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(model), str(data), str(out)], check=True
    )
    np.testing.assert_array_equal(np.load(out), clf.predict_proba(X))


def test_pickle_is_much_smaller_than_mlpclassifier(fitted):
    clf, X = fitted
    y = load_digits().target
    ref = MLPClassifier(max_iter=5).fit(X, y)
    stored = sum(c.nnz for c in clf.sparse_coefs_)
    size = len(pickle.dumps(clf))
    # float32 value + 2-byte index per stored weight, plus a small overhead.
    assert size < 6 * stored + 16_000
    assert size * 5 < len(pickle.dumps(ref))
    assert "_state" not in pickle.loads(pickle.dumps(clf)).__dict__
