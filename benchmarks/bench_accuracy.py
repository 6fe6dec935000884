"""Test accuracy of pruned networks against dense MLPClassifier.

Two data sets:

``digits``  scikit-learn's bundled digits (8x8 images, 10 classes); for each seed a
            stratified 75/25 split, standardized on the training part. Dense
            MLPClassifier against every criterion x schedule at several
            sparsities, mean +- std over seeds, with achieved sparsity and fit time.
            Always includes the random-criterion baseline (Blalock et al. 2020).

``mnist``   LeNet-300-100 (hidden layers (300, 100)) on the canonical 60k/10k split,
            pixels / 255 (with ``--standardize``, then shifted and scaled by the
            usual MNIST mean 0.1307 and std 0.3081). Give the data with
            ``--mnist PATH`` or ``SKPRUNE_MNIST``.

    python benchmarks/bench_accuracy.py digits [--seeds 5] [--out FILE.md]
    python benchmarks/bench_accuracy.py mnist --mnist ../shared/data/mnist.npz \\
        --epochs 50 --sparsities 0.92 0.98

Every configuration is run with the same ``max_iter`` as the dense reference.
"""

import argparse
import itertools
import json
import sys
import time
import warnings

import numpy as np
from _common import environment, load_mnist, markdown_table, versions
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier

CRITERIA = ["magnitude", "taylor", "obd", "random"]
SCHEDULES = ["gradual", "iterative", "oneshot", "lottery", "greedy"]


def digits_splits(n_seeds):
    X, y = load_digits(return_X_y=True)
    for seed in range(n_seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed
        )
        scaler = StandardScaler().fit(X_train)
        yield seed, scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def evaluate(make, splits):
    """Fit ``make(seed)`` on every split; return accuracies, sparsities, times."""
    acc, sparsity, seconds = [], [], []
    for seed, X_train, X_test, y_train, y_test in splits:
        model = make(seed)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds.append(time.perf_counter() - start)
        acc.append(model.score(X_test, y_test))
        sparsity.append(getattr(model, "sparsity_", 0.0))
    return np.array(acc), np.array(sparsity), np.array(seconds)


def row(name, acc, sparsity, seconds, target=None, error=False):
    value = (1 - acc) * 100 if error else acc * 100
    cells = [name]
    if target is not None:
        cells.append(f"{target:g}")
    cells += [
        f"{value.mean():.2f} ± {value.std():.2f}",
        f"{sparsity.mean():.3f}",
        f"{seconds.mean():.2f}",
    ]
    return cells


def run_digits(args):
    splits = list(digits_splits(args.seeds))
    results = []
    dense = evaluate(lambda s: MLPClassifier(random_state=s), splits)
    results.append({"model": "MLPClassifier (dense)", "sparsity": 0.0, **_pack(dense)})
    print(f"dense MLPClassifier: {dense[0].mean():.4f}", file=sys.stderr)
    configs = []
    for sparsity in args.sparsities:
        for criterion, schedule in itertools.product(args.criteria, args.schedules):
            configs.append(
                (
                    f"{criterion} / {schedule}",
                    sparsity,
                    dict(pruning=criterion, pruning_schedule=schedule),
                )
            )
        for scope in args.scopes:
            configs.append(
                (
                    f"magnitude / gradual / scope={scope}",
                    sparsity,
                    dict(pruning_scope=scope),
                )
            )
    for sparsity in args.neuron_sparsities:
        for criterion in args.criteria:
            configs.append(
                (
                    f"{criterion} / gradual / neuron",
                    sparsity,
                    dict(pruning=criterion, granularity="neuron"),
                )
            )
    if not args.skip_auto:
        configs.append(("magnitude / greedy / auto", "auto", {}))
    extra = json.loads(args.params) if args.params else {}
    for name, sparsity, params in configs:
        if extra:
            params, name = {**params, **extra}, f"{name} {json.dumps(extra)}"
        outcome = evaluate(
            lambda s, p=params, sp=sparsity: PrunedMLPClassifier(
                sparsity=sp, random_state=s, **p
            ),
            splits,
        )
        results.append({"model": name, "sparsity": sparsity, **_pack(outcome)})
        print(
            f"{name} @ {sparsity}: {outcome[0].mean():.4f} "
            f"(sparsity {outcome[1].mean():.3f})",
            file=sys.stderr,
            flush=True,
        )
    return results


def run_mnist(args):
    X_train, y_train, X_test, y_test = load_mnist(args.mnist)
    if args.standardize:
        # The usual MNIST normalisation (mean and std of the training pixels).
        X_train = (X_train - 0.1307) / 0.3081
        X_test = (X_test - 0.1307) / 0.3081
    splits = [(seed, X_train, X_test, y_train, y_test) for seed in range(args.seeds)]
    results = []
    common = dict(hidden_layer_sizes=(300, 100), max_iter=args.epochs)
    if not args.skip_dense:
        dense = evaluate(lambda s: MLPClassifier(random_state=s, **common), splits)
        results.append(
            {"model": "MLPClassifier (dense)", "sparsity": 0.0, **_pack(dense)}
        )
        print(
            f"dense MLPClassifier: error {100 * (1 - dense[0].mean()):.2f}%",
            file=sys.stderr,
            flush=True,
        )
    extra = json.loads(args.params) if args.params else {}
    for sparsity in args.sparsities:
        params = dict(common, **extra)
        outcome = evaluate(
            lambda s, sp=sparsity, p=params: PrunedMLPClassifier(
                sparsity=sp, random_state=s, **p
            ),
            splits,
        )
        name = "PrunedMLPClassifier " + (json.dumps(extra) if extra else "(defaults)")
        results.append({"model": name, "sparsity": sparsity, **_pack(outcome)})
        print(
            f"{name} @ {sparsity}: error {100 * (1 - outcome[0].mean()):.2f}% "
            f"(sparsity {outcome[1].mean():.4f}, {outcome[2].mean():.0f}s)",
            file=sys.stderr,
            flush=True,
        )
    return results


def _pack(outcome):
    acc, sparsity, seconds = outcome
    return {
        "accuracy": acc.tolist(),
        "achieved": sparsity.tolist(),
        "seconds": seconds.tolist(),
    }


def table(results, error=False):
    header = [
        "model",
        "sparsity",
        "test error (%)" if error else "test accuracy (%)",
        "achieved sparsity",
        "fit (s)",
    ]
    rows = [
        row(
            r["model"],
            np.array(r["accuracy"]),
            np.array(r["achieved"]),
            np.array(r["seconds"]),
            target=r["sparsity"] if r["sparsity"] != "auto" else None,
            error=error,
        )
        if r["sparsity"] != "auto"
        else [r["model"], "auto"]
        + row(
            "",
            np.array(r["accuracy"]),
            np.array(r["achieved"]),
            np.array(r["seconds"]),
            error=error,
        )[1:]
        for r in results
    ]
    return markdown_table(header, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="data", required=True)
    digits = sub.add_parser("digits")
    digits.add_argument("--seeds", type=int, default=5)
    digits.add_argument(
        "--sparsities", type=float, nargs="+", default=[0.5, 0.8, 0.9, 0.95, 0.98]
    )
    digits.add_argument("--criteria", nargs="+", default=CRITERIA)
    digits.add_argument("--schedules", nargs="+", default=SCHEDULES)
    digits.add_argument(
        "--scopes",
        nargs="+",
        default=["global"],
        help="extra magnitude/gradual rows with these scopes",
    )
    digits.add_argument("--neuron-sparsities", type=float, nargs="*", default=[0.5])
    digits.add_argument("--skip-auto", action="store_true")
    mnist = sub.add_parser("mnist")
    mnist.add_argument("--mnist", help="path to mnist.npz (or SKPRUNE_MNIST)")
    mnist.add_argument("--epochs", type=int, default=50)
    mnist.add_argument("--sparsities", type=float, nargs="+", default=[0.92, 0.98])
    mnist.add_argument("--seeds", type=int, default=3)
    mnist.add_argument(
        "--standardize",
        action="store_true",
        help="standardize pixels ((x/255 - 0.1307) / 0.3081) instead of x/255",
    )
    mnist.add_argument("--skip-dense", action="store_true")
    for p in (digits, mnist):
        p.add_argument(
            "--params",
            help="JSON dict of extra PrunedMLPClassifier parameters for every "
            "pruned model, e.g. '{\"pruning_steps\": 20}'",
        )
        p.add_argument("--out", help="also write the results (JSON) here")
    args = parser.parse_args(argv)

    warnings.simplefilter("ignore", ConvergenceWarning)
    start = time.perf_counter()
    results = run_digits(args) if args.data == "digits" else run_mnist(args)
    elapsed = time.perf_counter() - start

    print(environment())
    print(versions())
    print(f"command: python benchmarks/bench_accuracy.py {' '.join(sys.argv[1:])}")
    print(f"wall time: {elapsed:.0f} s\n")
    print(table(results, error=args.data == "mnist"))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
