"""Fingerprint fitted models over a broad set of configurations.

A refactor that must not change results is checked by running this before and
after it and comparing the two files::

    python benchmarks/fingerprint.py --out before.json
    ... change the code ...
    python benchmarks/fingerprint.py --out after.json --compare before.json

Each configuration is fitted on small generated or bundled data; its fingerprint
is a SHA-256 over everything a fit leaves behind: dense weights and intercepts,
loss curve, validation scores, iteration and sample counts, sparsity, the
pruning history, the probabilities predicted on the training data, the printed
(verbose) output and the warnings raised. Run it with ``SKPRUNE_NUMBA=0`` and
``SKPRUNE_NUMBA=1`` to cover both code paths.
"""

import argparse
import contextlib
import hashlib
import io
import json
import os
import pickle
import sys
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_multilabel_classification
from sklearn.neural_network import MLPClassifier

import skprune
from skprune import PrunedMLPClassifier

BASE = dict(
    hidden_layer_sizes=(24, 12),
    max_iter=25,
    random_state=0,
    sparsity=0.8,
    pruning="magnitude",
    pruning_scope="layer",
    granularity="weight",
    pruning_schedule="gradual",
    pruning_steps=4,
    finetune_iter=3,
    pruning_tol=0.01,
    dtype="float32",
    verbose=True,
)


def _data():
    X, y = load_digits(return_X_y=True)
    X = (X[:600] / 16.0).astype(np.float64)
    return X, y[:600]


def _digest(parts):
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str(part.dtype).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(repr(part).encode())
    return h.hexdigest()


def _state_parts(est, X):
    parts = [np.asarray(c) for c in est.coefs_]
    parts += [np.asarray(b) for b in est.intercepts_]
    parts += [
        np.asarray(est.loss_curve_, dtype=np.float64),
        est.validation_scores_,
        est.n_iter_,
        est.t_,
        est.sparsity_,
        np.asarray(est.layer_sparsity_),
        est.hidden_layer_sizes_,
        est.best_loss_,
        est.best_validation_score_,
        est.loss_,
        [sorted(r.items()) for r in est.pruning_history_],
    ]
    if hasattr(est, "predict_proba"):
        parts.append(np.asarray(est.predict_proba(X)))
    else:
        parts.append(np.asarray(est.predict(X)))
    return parts


FIRST_LINE_ONLY = False  # --warning-first-line: hash only each warning's first line


def _run(fn):
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.redirect_stdout(out):
            parts = fn()
    messages = [f"{w.category.__name__}: {w.message}" for w in caught]
    if FIRST_LINE_ONLY:
        messages = [m.splitlines()[0] for m in messages]
    messages = sorted(messages)
    return _digest([*parts, out.getvalue(), messages])


def configurations():
    """(name, callable returning fingerprint parts) pairs."""
    X, y = _data()
    configs = {}

    def fit(name, data=None, sample_weight=None, **params):
        def run():
            Xd, yd = (X, y) if data is None else data
            est = PrunedMLPClassifier(**{**BASE, **params})
            est.fit(Xd, yd, sample_weight=sample_weight)
            return _state_parts(est, Xd)

        configs[name] = run

    for schedule in ("gradual", "iterative", "oneshot", "lottery", "greedy"):
        for solver in ("adam", "sgd", "lbfgs"):
            fit(f"{schedule}-{solver}", pruning_schedule=schedule, solver=solver)
    fit("auto-adam", sparsity="auto")
    fit("auto-lbfgs", sparsity="auto", solver="lbfgs")
    for criterion in ("magnitude", "random", "taylor", "obd"):
        for granularity in ("weight", "neuron"):
            for scope in ("layer", "global"):
                fit(
                    f"{criterion}-{granularity}-{scope}",
                    pruning=criterion,
                    granularity=granularity,
                    pruning_scope=scope,
                    sparsity=0.6 if granularity == "neuron" else 0.8,
                )
    fit("neuron-greedy", granularity="neuron", pruning_schedule="greedy", sparsity=0.5)
    fit("global-greedy", pruning_scope="global", pruning_schedule="greedy")
    fit("global-iterative-sgd", pruning_scope="global", pruning_schedule="iterative")
    for lr in ("constant", "invscaling", "adaptive"):
        fit(f"sgd-{lr}", solver="sgd", learning_rate=lr, learning_rate_init=0.05)
    fit("sgd-nonesterov", solver="sgd", nesterovs_momentum=False, momentum=0.5)
    fit("sgd-nomomentum", solver="sgd", momentum=0.0)
    fit("early-stopping", early_stopping=True, max_iter=40)
    fit("early-stopping-sgd", early_stopping=True, solver="sgd", max_iter=40)
    fit("early-stopping-iterative", early_stopping=True, pruning_schedule="iterative")
    fit("early-stopping-dense", early_stopping=True, sparsity=0.0, max_iter=60)
    fit("converges", sparsity=0.5, max_iter=300, tol=1e-2, n_iter_no_change=3)
    fit("oneshot-converges", pruning_schedule="oneshot", max_iter=300, tol=1e-2)
    fit("dense-float64", sparsity=0.0, dtype="float64")
    fit("float64", dtype="float64")
    fit("dtype-none", dtype=None)
    fit("float64-lbfgs", dtype="float64", solver="lbfgs")
    fit("alpha", alpha=0.1)
    fit("batch", batch_size=64)
    fit("noshuffle", shuffle=False)
    fit("tanh", activation="tanh")
    fit("logistic", activation="logistic")
    fit("identity", activation="identity")
    fit("wide", hidden_layer_sizes=(256, 128), max_iter=6)  # kernels by default
    fit("wide-high", hidden_layer_sizes=(256, 128), max_iter=8, sparsity=0.97)
    fit("steps", pruning_steps=12, finetune_iter=0)
    fit("sample-weight", sample_weight=np.linspace(0.1, 2.0, X.shape[0]))
    fit("class-weight", class_weight="balanced")
    fit("class-weight-dict", class_weight={0: 3.0, 1: 0.5})
    fit("binary", data=(X, (y > 4).astype(int)))
    fit("string-labels", data=(X, np.array(["c%d" % v for v in y])))
    Xm, Ym = make_multilabel_classification(200, 20, n_classes=4, random_state=0)
    fit("multilabel", data=(Xm.astype(float), Ym))
    fit("multilabel-lbfgs", data=(Xm.astype(float), Ym), solver="lbfgs")
    fit("sparse-X", data=(sp.csr_array(np.where(X > 0.5, X, 0)), y))
    fit(
        "sparse-X-lbfgs",
        data=(sp.csr_array(np.where(X > 0.5, X, 0)), y),
        solver="lbfgs",
    )

    def warm():
        est = PrunedMLPClassifier(**{**BASE, "warm_start": True, "sparsity": 0.5})
        est.fit(X, y)
        est.set_params(sparsity=0.9, max_iter=15)
        est.fit(X, y)
        return _state_parts(est, X)

    configs["warm-start"] = warm

    def warm_lbfgs():
        est = PrunedMLPClassifier(
            **{**BASE, "warm_start": True, "sparsity": 0.5, "solver": "lbfgs"}
        )
        est.fit(X, y)
        est.set_params(sparsity=0.9)
        est.fit(X, y)
        return _state_parts(est, X)

    configs["warm-start-lbfgs"] = warm_lbfgs

    def stream(pickle_midway=False, retarget=False, **params):
        def run():
            est = PrunedMLPClassifier(**{**BASE, "max_iter": 8, **params})
            classes = np.unique(y)
            for k in range(14):
                rows = slice((k % 3) * 200, (k % 3) * 200 + 200)
                est.partial_fit(X[rows], y[rows], classes=classes)
                if pickle_midway and k == 5:
                    est = pickle.loads(pickle.dumps(est))
                if retarget and k == 4:
                    est.set_params(sparsity=0.95)
            return _state_parts(est, X)

        return run

    configs["partial-fit"] = stream()
    configs["partial-fit-sgd"] = stream(solver="sgd")
    configs["partial-fit-pickle"] = stream(pickle_midway=True)
    configs["partial-fit-retarget"] = stream(retarget=True)
    configs["partial-fit-iterative"] = stream(pruning_schedule="iterative")
    configs["partial-fit-neuron"] = stream(granularity="neuron", sparsity=0.5)
    configs["partial-fit-sw"] = stream(class_weight={0: 2.0})

    def from_mlp():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlp = MLPClassifier((24, 12), max_iter=20, random_state=0).fit(X, y)
        est = PrunedMLPClassifier.from_mlp(mlp, sparsity=0.8, max_iter=15)
        before = _state_parts(est, X)
        est.fit(X, y)
        return before + _state_parts(est, X)

    configs["from-mlp"] = from_mlp

    def pickled():
        est = PrunedMLPClassifier(**BASE).fit(X, y)
        est = pickle.loads(pickle.dumps(est))
        return _state_parts(est, X) + [len(pickle.dumps(est))]

    configs["pickle"] = pickled
    return configs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--compare", help="JSON file of an earlier run")
    parser.add_argument("--only", help="run the configurations containing this text")
    parser.add_argument(
        "--warning-first-line",
        action="store_true",
        help="hash only the first line of each warning (its wording may change)",
    )
    args = parser.parse_args(argv)
    global FIRST_LINE_ONLY
    FIRST_LINE_ONLY = args.warning_first_line
    results = {}
    for name, fn in configurations().items():
        if args.only and args.only not in name:
            continue
        results[name] = _run(fn)
    meta = {
        "skprune": skprune.__version__,
        "SKPRUNE_NUMBA": os.environ.get("SKPRUNE_NUMBA", ""),
    }
    with open(args.out, "w") as f:
        json.dump({"meta": meta, "fingerprints": results}, f, indent=1)
    print(f"{len(results)} configurations fingerprinted into {args.out}")
    if args.compare:
        with open(args.compare) as f:
            before = json.load(f)["fingerprints"]
        changed = [n for n in results if n in before and before[n] != results[n]]
        missing = [n for n in before if n not in results and not args.only]
        for name in changed:
            print("CHANGED", name)
        for name in missing:
            print("MISSING", name)
        print(f"{len(results) - len(changed)} identical, {len(changed)} changed")
        return 1 if changed or missing else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
