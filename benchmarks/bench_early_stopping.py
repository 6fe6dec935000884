"""Early stopping and from_mlp on digits: epochs and accuracy against MLPClassifier.

Two drop-in checks of the convergence-driven schedules, on scikit-learn's bundled
digits (per seed a stratified 75/25 split with that seed, standardized on the
training part):

``early``     ``MLPClassifier(early_stopping=True)`` against
              ``PrunedMLPClassifier(early_stopping=True)`` (its defaults,
              ``sparsity="auto"`` and any ``--sparsities``): epochs (``n_iter_``),
              test accuracy, ``sparsity_``. Target: the pruned fit stops within
              1.5x MLPClassifier's epochs + 10.
``from_mlp``  ``PrunedMLPClassifier.from_mlp(mlp, sparsity=s).fit(...)`` after a
              default MLPClassifier fit: the pruning fit's epochs as a share of
              the MLP's, and accuracy before and after. Target: at most 30 %.

    python benchmarks/bench_early_stopping.py --seeds 5 --sparsities 0.5 0.7 0.9
"""

import argparse
import sys
import warnings

import numpy as np
from _common import environment, markdown_table, versions
from bench_accuracy import digits_splits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skprune import PrunedMLPClassifier


def fit(model, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    return sum(issubclass(w.category, ConvergenceWarning) for w in caught)


def summary(rows):
    a = np.array(rows, dtype=float)
    return a.mean(axis=0), a.std(axis=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sparsities", type=float, nargs="*", default=[0.5, 0.7, 0.9])
    args = parser.parse_args(argv)
    early = {"MLPClassifier": [], "defaults": [], "auto": []}
    early.update({f"{s:g}": [] for s in args.sparsities})
    share = {f"{s:g}": [] for s in args.sparsities}
    for seed, X_train, X_test, y_train, y_test in digits_splits(args.seeds):
        mlp = MLPClassifier(early_stopping=True, random_state=seed)
        cw = fit(mlp, X_train, y_train)
        early["MLPClassifier"].append((mlp.n_iter_, mlp.score(X_test, y_test), 0, cw))
        for name in early:
            if name == "MLPClassifier":
                continue
            params = {} if name == "defaults" else {"sparsity": name}
            if name not in ("defaults", "auto"):
                params["sparsity"] = float(name)
            clf = PrunedMLPClassifier(early_stopping=True, random_state=seed, **params)
            cw = fit(clf, X_train, y_train)
            early[name].append(
                (clf.n_iter_, clf.score(X_test, y_test), clf.sparsity_, cw)
            )
        dense = MLPClassifier(random_state=seed)
        fit(dense, X_train, y_train)
        for name in share:
            clf = PrunedMLPClassifier.from_mlp(
                dense, sparsity=float(name), random_state=seed
            )
            cw = fit(clf, X_train, y_train)
            share[name].append(
                (
                    dense.n_iter_,
                    clf.n_iter_,
                    clf.n_iter_ / dense.n_iter_,
                    dense.score(X_test, y_test),
                    clf.score(X_test, y_test),
                    clf.sparsity_,
                    cw,
                )
            )
        print(f"seed {seed} done", file=sys.stderr, flush=True)
    print(environment())
    print(versions())
    print(
        f"command: python benchmarks/bench_early_stopping.py {' '.join(sys.argv[1:])}"
    )
    print(f"\n## early_stopping=True, digits, {args.seeds} seeds\n")
    reference = np.mean([r[0] for r in early["MLPClassifier"]])
    rows = []
    for name, records in early.items():
        mean, std = summary(records)
        label = (
            name
            if name == "MLPClassifier"
            else "PrunedMLPClassifier() (defaults, sparsity="
            f"{PrunedMLPClassifier().sparsity})"
            if name == "defaults"
            else f"PrunedMLPClassifier({name})"
        )
        within = (
            "—"
            if name == "MLPClassifier"
            else ("yes" if mean[0] <= 1.5 * reference + 10 else "**no**")
        )
        rows.append(
            [
                label,
                f"{mean[0]:.1f} ± {std[0]:.1f}",
                within,
                f"{100 * mean[1]:.2f} ± {100 * std[1]:.2f}",
                f"{mean[2]:.3f}",
                f"{int(sum(r[3] > 0 for r in records))}/{len(records)}",
            ]
        )
    print(
        markdown_table(
            [
                "model",
                "epochs",
                f"≤ 1.5 × {reference:.1f} + 10",
                "test accuracy (%)",
                "sparsity_",
                "ConvergenceWarnings",
            ],
            rows,
        )
    )
    print(f"\n## from_mlp on a default MLPClassifier, digits, {args.seeds} seeds\n")
    rows = []
    for name, records in share.items():
        mean, std = summary(records)
        rows.append(
            [
                name,
                f"{mean[0]:.1f}",
                f"{mean[1]:.1f}",
                f"{100 * mean[2]:.1f} % (max {100 * max(r[2] for r in records):.1f} %)",
                f"{100 * mean[3]:.2f}",
                f"{100 * mean[4]:.2f} ± {100 * std[4]:.2f}",
                f"{mean[5]:.3f}",
                f"{int(sum(r[6] > 0 for r in records))}/{len(records)}",
            ]
        )
    print(
        markdown_table(
            [
                "sparsity",
                "MLP epochs",
                "pruning fit epochs",
                "share",
                "MLP accuracy (%)",
                "pruned accuracy (%)",
                "sparsity_",
                "ConvergenceWarnings",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
