"""Loading files from strangers: a crafted file is refused, never a crash.

Each crafted file is a genuine pickle or skops file whose stored state was
changed (indices out of range, a broken index pointer, shapes that disagree, a
huge declared shape, a wrong activation, NaN weights, a future layout, ...).
Loading it must raise a ``ValueError`` that names the problem, in bounded
memory. The loads run in a child process limited to 2 GiB of address space, so
that a segfault or a memory blow-up fails the test instead of killing the
suite; the crafted files of one format share one child to keep the file fast.
"""

import copy
import copyreg
import json
import pickle
import subprocess
import sys
import warnings
from contextlib import contextmanager

import joblib
import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skprune
from skprune import PrunedMLPClassifier, PrunedMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Loads every file given (a JSON list of [case, format, path]) and reports, on
# stderr, one JSON line per file: the exception it raised, or "loaded".
_LOADER = """
import json, pickle, resource, sys
limit = 2 * 2**30
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import warnings
warnings.simplefilter("ignore")
import numpy as np
import skprune
X = np.load(sys.argv[2])
for case, fmt, path in json.loads(sys.argv[1]):
    print(json.dumps({"case": case, "start": True}), file=sys.stderr, flush=True)
    try:
        if fmt == "skops":
            import skops.io
            model = skops.io.load(path, trusted=skprune.TRUSTED_TYPES)
        else:
            with open(path, "rb") as f:
                model = pickle.load(f)
        model.predict(X)
        result = "loaded"
    except BaseException as exc:
        result = f"{type(exc).__name__}: {exc}"
    print(json.dumps({"case": case, "result": result}), file=sys.stderr, flush=True)
"""


def _load_in_child(files, X, tmp_path):
    """Load ``files`` ({case: (format, path)}) in a limited child process.

    Returns the return code, the result of each case and the child's stderr.
    """
    np.save(tmp_path / "X.npy", X)
    listing = json.dumps(
        [[case, fmt, str(path)] for case, (fmt, path) in files.items()]
    )
    child = subprocess.run(
        [sys.executable, "-c", _LOADER, listing, str(tmp_path / "X.npy")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    results = {}
    for line in child.stderr.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            results[record["case"]] = record.get("result", "crashed during load")
    return child.returncode, results, child.stderr


class _Crafted:
    """Pickles as an instance of ``cls`` restored from ``state`` (via
    ``__setstate__``), whatever the state holds."""

    def __init__(self, cls, state):
        self.cls, self.state = cls, state

    def __reduce__(self):
        return (copyreg._reconstructor, (self.cls, object, None), self.state)


@contextmanager
def _stored_state(cls, state):
    """While active, every ``cls`` instance saves ``state``."""
    original = cls.__getstate__
    cls.__getstate__ = lambda self: state
    try:
        yield
    finally:
        cls.__getstate__ = original


def _write(model, state, fmt, path):
    cls = type(model)
    if fmt == "pickle":
        path.write_bytes(pickle.dumps(_Crafted(cls, state)))
    else:
        sio = pytest.importorskip("skops.io")
        with _stored_state(cls, state):
            sio.dump(model, path)


@pytest.fixture(scope="module")
def tiny():
    """A small classifier and regressor (5 features, 4 hidden units)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = rng.integers(0, 3, 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = PrunedMLPClassifier((4,), sparsity=0.5, max_iter=20, random_state=0)
        reg = PrunedMLPRegressor(
            hidden_layer_sizes=(4,), sparsity=0.5, max_iter=20, random_state=0
        )
        clf.fit(X, y)
        reg.fit(X, X[:, 0] - X[:, 1])
    return clf, reg, X


def _layer(state, i=0, **changes):
    state["_sparse_coefs"][i] = dict(state["_sparse_coefs"][i], **changes)


def _huge_index(s):  # the reproducer of issue 18: 2e9 in a skops file segfaulted
    indices = s["_sparse_coefs"][0]["indices"].astype(np.int64)
    indices[1] = 2_000_000_000
    _layer(s, indices=indices)


def _index_just_past(s):  # one past the layer: "loaded" after corrupting memory
    indices = s["_sparse_coefs"][0]["indices"].astype(np.int32)
    indices[-1] = s["_sparse_coefs"][0]["shape"][1]
    _layer(s, indices=indices)


def _negative_index(s):
    indices = s["_sparse_coefs"][0]["indices"].astype(np.int32)
    indices[0] = -3
    _layer(s, indices=indices)


def _non_monotone_indptr(s):
    indptr = s["_sparse_coefs"][0]["indptr"].copy()
    indptr[1], indptr[2] = indptr[2] + 3, indptr[1]
    _layer(s, indptr=indptr)


def _short_indptr(s):
    _layer(s, indptr=s["_sparse_coefs"][0]["indptr"][:-1].copy())


def _mismatched_layers(s):
    # Layer 1 takes 5 inputs while layer 0 has 4 units (its own arrays agree).
    packed = s["_sparse_coefs"][1]
    rows, cols = packed["shape"]
    indptr = np.append(packed["indptr"], packed["indptr"][-1]).astype(np.int32)
    _layer(s, 1, shape=(rows + 1, cols), indptr=indptr)


def _huge_columns(s):  # issue 18's memory bomb: 8 x 3e9 declared, 40 KB stored
    _layer(s, shape=(s["_sparse_coefs"][0]["shape"][0], 3_000_000_000))


def _huge_rows(s):
    s["n_features_in_"] = 3_000_000_000
    _layer(s, shape=(3_000_000_000, s["_sparse_coefs"][0]["shape"][1]))


def _identity_output(s):  # gave negative "probabilities"
    s["out_activation_"] = "identity"


def _unknown_activation(s):
    s["_fit_activation"] = "gelu"


def _long_intercept(s):
    s["_intercepts"][0] = np.append(s["_intercepts"][0], np.float32(0))


def _nan_weight(s):
    data = s["_sparse_coefs"][0]["data"].copy()
    data[0] = np.nan
    _layer(s, data=data)


def _future_layout(s):
    s["_skprune_layout"] = 99
    s["_skprune_version"] = "9.0"


def _kept_unit_out_of_range(s):
    units = s["_kept_units"][0].astype(np.int64)
    units[-1] = 10**6
    s["_kept_units"][0] = units


def _too_many_classes(s):
    s["classes_"] = np.arange(7)
    s["_label_binarizer"] = copy.deepcopy(s["_label_binarizer"])
    s["_label_binarizer"].classes_ = s["classes_"]


def _float64_bias(s):
    s["_intercepts"][1] = s["_intercepts"][1].astype(np.float64)


def _float_indices(s):
    _layer(s, indices=s["_sparse_coefs"][0]["indices"].astype(np.float64))


def _regressor_softmax(s):
    s["out_activation_"] = "softmax"


# case -> (estimator, how to craft it, what the error must say)
CASES = {
    "huge_index": ("clf", _huge_index, "out of range"),
    "index_just_past": ("clf", _index_just_past, "out of range"),
    "negative_index": ("clf", _negative_index, "out of range"),
    "non_monotone_indptr": ("clf", _non_monotone_indptr, "indptr decreases"),
    "short_indptr": ("clf", _short_indptr, "indptr has"),
    "mismatched_layers": ("clf", _mismatched_layers, "layer 1 declares shape"),
    "huge_columns": ("clf", _huge_columns, "3000000000"),
    "huge_rows": ("clf", _huge_rows, "indptr has"),
    "identity_output": ("clf", _identity_output, "out_activation_ is 'identity'"),
    "unknown_activation": ("clf", _unknown_activation, "'gelu'"),
    "long_intercept": ("clf", _long_intercept, "5 biases"),
    "nan_weight": ("clf", _nan_weight, "NaN"),
    "future_layout": ("clf", _future_layout, "layout 99"),
    "kept_unit_out_of_range": ("clf", _kept_unit_out_of_range, "_kept_units[0]"),
    "too_many_classes": ("clf", _too_many_classes, "7 classes"),
    "float64_bias": ("clf", _float64_bias, "dtype"),
    "float_indices": ("clf", _float_indices, "indices must be a 1-D array of int"),
    "regressor_softmax": ("reg", _regressor_softmax, "need 'exp' or 'identity'"),
}


@pytest.mark.parametrize("fmt", ["pickle", "skops"])
def test_crafted_files_are_refused_with_a_value_error(tiny, fmt, tmp_path):
    clf, reg, X = tiny
    models = {"clf": clf, "reg": reg}
    files = {}
    for case, (which, craft, _) in CASES.items():
        model = models[which]
        state = model.__getstate__()
        state["_sparse_coefs"] = list(state["_sparse_coefs"])
        state["_intercepts"] = list(state["_intercepts"])
        state["_kept_units"] = list(state["_kept_units"])
        craft(state)
        files[case] = (fmt, tmp_path / f"{case}.{fmt}")
        _write(model, state, fmt, files[case][1])
    returncode, results, stderr = _load_in_child(files, X, tmp_path)
    assert returncode == 0, f"the loading process died:\n{stderr[-3000:]}"
    wrong = {
        case: results.get(case, "not reached")
        for case, (_, _, expected) in CASES.items()
        if not (
            results.get(case, "").startswith("ValueError: Cannot load")
            and expected in results[case]
        )
    }
    assert not wrong, json.dumps(wrong, indent=1)


def test_crafted_file_in_this_process_leaves_nothing_half_built(tiny):
    clf, _, _ = tiny
    state = clf.__getstate__()
    state["out_activation_"] = "exp"
    fresh = PrunedMLPClassifier.__new__(PrunedMLPClassifier)
    with pytest.raises(ValueError, match="out_activation_ is 'exp'"):
        fresh.__setstate__(state)
    assert fresh.__dict__ == {}


@pytest.fixture(scope="module")
def good_models(tiny):
    clf, reg, X = tiny
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(StandardScaler(), PrunedMLPClassifier((4,), max_iter=5))
        pipe.fit(X, (X[:, 0] > 0).astype(int))
        pending = PrunedMLPClassifier(
            (6,), pruning_schedule="lottery", sparsity=0.8, random_state=0
        )
        pending.partial_fit(X, (X[:, 0] > 0).astype(int), classes=[0, 1])
    assert pending._state.plan.pending and pending._state.plan.rewind is not None
    return {"classifier": clf, "regressor": reg, "pipeline": pipe, "pending": pending}


@pytest.mark.parametrize("how", ["pickle", "joblib", "skops"])
@pytest.mark.parametrize("name", ["classifier", "regressor", "pipeline", "pending"])
def test_good_files_still_load_and_predict_identically(
    tiny, good_models, name, how, tmp_path
):
    _, _, X = tiny
    model = good_models[name]
    path = tmp_path / "model"
    if how == "pickle":
        restored = pickle.loads(pickle.dumps(model))
    elif how == "joblib":
        joblib.dump(model, path)
        restored = joblib.load(path)
    else:
        sio = pytest.importorskip("skops.io")
        sio.dump(model, path)
        restored = sio.load(path, trusted=skprune.TRUSTED_TYPES)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    if name == "pending":  # the unfinished schedule goes on after loading
        plan = model._state.plan
        assert restored._pending_plan["targets"] == list(plan.targets)
        for saved, loaded in zip(plan.rewind[0], restored._pending_plan["rewind"][0]):
            np.testing.assert_array_equal(saved, loaded)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            restored.partial_fit(X, (X[:, 0] > 0).astype(int))


def test_pickles_carry_version_and_layout(tiny):
    clf, _, _ = tiny
    state = clf.__getstate__()
    assert state["_skprune_version"] == skprune.__version__
    assert state["_skprune_layout"] == skprune._fitted.STATE_LAYOUT
    restored = pickle.loads(pickle.dumps(clf))
    assert "_skprune_layout" not in restored.__dict__


def test_unnumbered_and_oldest_layouts_still_load(tiny):
    clf, _, X = tiny
    state = clf.__getstate__()
    del state["_skprune_layout"], state["_skprune_version"]
    state["sparse_coefs_"] = state.pop("_sparse_coefs")
    state["intercepts_"] = state.pop("_intercepts")
    restored = pickle.loads(pickle.dumps(_Crafted(PrunedMLPClassifier, state)))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


# Feeds corrupt sparse matrices to every method of both estimators; prints one
# line per call: the exception raised, or "accepted".
_SPARSE_INPUTS = """
import sys, warnings
warnings.simplefilter("ignore")
import numpy as np, scipy.sparse as sp
from skprune import PrunedMLPClassifier, PrunedMLPRegressor
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 5))
y = rng.integers(0, 3, 40)
models = {
    "classifier": PrunedMLPClassifier((4,), max_iter=3).fit(X, y),
    "regressor": PrunedMLPRegressor(hidden_layer_sizes=(4,), max_iter=3),
}
models["regressor"].fit(X, X[:, 0])
def corrupt(fmt, case):
    M = sp.random(40, 5, density=0.5, format=fmt, random_state=0)
    if fmt == "coo":
        M.col = M.col.astype(np.int64)
        M.col[3] = {"huge": 2_000_000_000, "negative": -5, "past": 5}[case]
        return M
    if case in ("huge", "negative", "past"):
        M.indices = M.indices.astype(np.int64)
        past = M.shape[1] if fmt == "csr" else M.shape[0]
        M.indices[3] = {"huge": 2_000_000_000, "negative": -5, "past": past}[case]
    elif case == "indptr_order":
        M.indptr[2] = M.indptr[3] + 30
    else:
        M.indptr = M.indptr[:-2].copy()
    return M
for fmt in ("csr", "csc", "coo"):
    cases = ("huge", "negative", "past")
    if fmt != "coo":
        cases += ("indptr_order", "indptr_length")
    for case in cases:
        for name, model in models.items():
            methods = ["fit", "partial_fit", "predict"]
            if name == "classifier":
                methods.append("predict_proba")
            for method in methods:
                M = corrupt(fmt, case)
                print(fmt, case, name, method, end=": ", file=sys.stderr, flush=True)
                args = (M, y) if "fit" in method else (M,)
                try:
                    getattr(model, method)(*args)
                    print("accepted", file=sys.stderr, flush=True)
                except Exception as exc:
                    print(type(exc).__name__, exc, file=sys.stderr, flush=True)
"""


def test_corrupt_sparse_input_is_refused_not_a_crash():
    child = subprocess.run(
        [sys.executable, "-c", _SPARSE_INPUTS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, f"the process died:\n{child.stderr[-3000:]}"
    lines = child.stderr.strip().splitlines()
    assert len(lines) == (2 * 5 + 3) * 7  # cases x (4 + 3 methods)
    wrong = [line for line in lines if "ValueError X (a sparse" not in line]
    assert not wrong, "\n".join(wrong)


def test_a_stored_pruning_plan_is_checked_at_load(tiny, good_models):
    _, _, X = tiny
    y = (X[:, 0] > 0).astype(int)
    pending = good_models["pending"]
    state = pending.__getstate__()
    plan = state["_pending_plan"]
    assert plan["targets"] and plan["checkpoint"] is None
    # A plan saved by the old timing (positions, caps) loads and goes on.
    old = dict(state, _pending_plan={**plan, "positions": [10, 20], "caps": [3, 3]})
    restored = pickle.loads(pickle.dumps(_Crafted(PrunedMLPClassifier, old)))
    np.testing.assert_array_equal(restored.predict(X), pending.predict(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        restored.partial_fit(X, y)
    # A plan written by the version timed by max_iter holds none of the new
    # entries: it goes on with its remaining targets under the new timing.
    retired = {
        key: plan[key]
        for key in (
            "settings",
            "targets",
            "phase_start",
            "finetune_until",
            "rewind",
            "reference_loss",
            "ladder",
            "search_round",
        )
    }
    retired.update(positions=[10**6] * len(plan["targets"]), caps=[5, 5, 5])
    oldest = pickle.loads(
        pickle.dumps(_Crafted(PrunedMLPClassifier, dict(state, _pending_plan=retired)))
    )
    assert "phase" not in oldest._pending_plan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(oldest.max_iter + 2):
            oldest.partial_fit(X, y)
    assert not oldest._state.plan.pending
    assert oldest.sparsity_ == pytest.approx(pending.sparsity, abs=0.05)
    # A search checkpoint never outlives its fit: a file holding one is crafted.
    crafted = dict(
        state,
        _pending_plan={**plan, "checkpoint": ([np.zeros((5, 6))], [], [None])},
    )
    with pytest.raises(ValueError, match="checkpoint"):
        pickle.loads(pickle.dumps(_Crafted(PrunedMLPClassifier, crafted)))
    # Entries no version knows are refused, as before.
    future = dict(state, _pending_plan={**plan, "updates_per_epoch": 4.0})
    with pytest.raises(ValueError, match="unknown entries"):
        pickle.loads(pickle.dumps(_Crafted(PrunedMLPClassifier, future)))


@pytest.mark.parametrize(
    "entry, value, message",
    [
        ("targets", [5.0], "targets must be a list of sparsities"),
        ("targets", ["x"], "targets must be a list of sparsities"),
        ("targets", [float("nan")], "targets must be a list of sparsities"),
        ("phase", "bogus", "phase must be a phase name"),
        ("end", "abc", "end must be an iteration count"),
        ("phase_start", -1, "phase_start must be an iteration count"),
        ("plateau", [1], "plateau must be a count and two best values"),
        ("settings", [1], "settings must be a dict"),
        ("round_count", "a", "round_count must be an epoch count"),
        ("finetune_until", "a", "finetune_until must be an iteration count"),
        ("proposed", 2.0, "proposed must be a sparsity"),
        ("starting", "yes", "starting must be True or False"),
        ("learning_rate_rewind", {"learning_rate": 0.1, "time_step": True}, "rewind"),
    ],
)
def test_every_entry_of_a_stored_plan_is_checked_at_load(
    good_models, entry, value, message
):
    # Each of these loaded before, and then failed deep in partial_fit.
    state = good_models["pending"].__getstate__()
    crafted = dict(state, _pending_plan={**state["_pending_plan"], entry: value})
    with pytest.raises(ValueError, match=f"Cannot load .*{message}"):
        pickle.loads(pickle.dumps(_Crafted(PrunedMLPClassifier, crafted)))


@pytest.mark.parametrize(
    "attribute, value",
    [
        ("t_", -1),
        ("t_", "x"),
        ("loss_curve_", None),
        ("loss_curve_", ["x"]),
        ("best_loss_", "x"),
        ("validation_scores_", {}),
        ("pruning_history_", [1]),
        ("_call_ends", []),
        ("_call_ends", [5, 3]),
        ("_no_improvement_count", -1),
    ],
)
def test_what_training_goes_on_from_is_checked_at_load(tiny, attribute, value):
    # Each of these loaded before, and then partial_fit raised a TypeError or
    # IndexError from deep inside the training loop.
    clf, _, _ = tiny
    crafted = dict(clf.__getstate__(), **{attribute: value})
    with pytest.raises(ValueError, match=f"Cannot load .*{attribute}"):
        pickle.loads(pickle.dumps(_Crafted(PrunedMLPClassifier, crafted)))


@pytest.mark.parametrize(
    "name, value", [("tol", "x"), ("alpha", -1.0), ("beta_1", 2.0)]
)
def test_invalid_hyperparameters_load_and_are_refused_when_training_goes_on(
    tiny, name, value
):
    # A model whose parameters were set after fit (or a file holding such
    # values) loads and predicts, as MLPClassifier's do; partial_fit validates
    # them first, where they used to fail deep inside the training loop.
    clf, _, X = tiny
    changed = copy.deepcopy(clf).set_params(**{name: value})
    # A file cannot mark itself checked.
    state = dict(changed.__getstate__(), _params_checked=True)
    restored = pickle.loads(pickle.dumps(_Crafted(PrunedMLPClassifier, state)))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    before = pickle.dumps(restored)
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        restored.partial_fit(X, clf.predict(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    assert restored.get_params()[name] == value
    assert len(pickle.dumps(restored)) == len(before)
    # The same set in this process, after partial_fit has checked them once.
    live = copy.deepcopy(clf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        live.partial_fit(X, clf.predict(X))
    live.set_params(**{name: value})
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        live.partial_fit(X, clf.predict(X))


class _Sized(PrunedMLPClassifier):
    """A subclass whose constructor needs an argument."""

    def __init__(self, width, *, sparsity=0.3, max_iter=5):
        self.width = width
        super().__init__(
            hidden_layer_sizes=(width,), sparsity=sparsity, max_iter=max_iter
        )


def test_subclasses_with_required_arguments_copy_and_pickle(tiny):
    _, _, X = tiny
    y = (X[:, 0] > 0).astype(int)
    unfitted = _Sized(4)
    assert copy.deepcopy(unfitted).width == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = _Sized(4).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))


def test_a_file_without_the_no_improvement_count_still_trains(tiny):
    clf, _, X = tiny
    state = clf.__getstate__()
    del state["_no_improvement_count"]  # files saved before it was stored
    restored = pickle.loads(pickle.dumps(_Crafted(PrunedMLPClassifier, state)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        restored.partial_fit(X, (X[:, 0] > 0).astype(int) + 1)
    assert restored._no_improvement_count >= 0


def test_declared_trained_sizes_far_beyond_the_file_are_not_allocated(tiny):
    # The trained sizes are declared, not stored: a 2 KB file claiming a
    # 2,000,000-unit hidden layer made partial_fit allocate 216 MB.
    _, _, X = tiny
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = PrunedMLPClassifier((1,), sparsity=0, max_iter=3).fit(X, y)
    state = model.__getstate__()
    n = 2_000_000
    state.update(
        _fit_hidden_layer_sizes=(n,),
        _dense_sizes=np.array([5 * n, n]),
        hidden_layer_sizes=(n,),
    )
    restored = pickle.loads(pickle.dumps(_Crafted(PrunedMLPClassifier, state)))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    before = copy.deepcopy(restored.__dict__)
    with pytest.raises(ValueError, match="12000000 weights .* stores 8 values"):
        restored.partial_fit(X, y)
    # Nothing changed, and a genuine model far below the limit still trains.
    assert restored.__dict__.keys() == before.keys()
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    genuine = pickle.loads(pickle.dumps(model))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        genuine.partial_fit(X, y)
