"""Digits at a high sparsity with short training budgets: test accuracy per seed.

Three budgets, each seed on its own stratified 75/25 split (standardized):
120 ``partial_fit`` calls of a quarter of the training data with
``max_iter=100`` (each call is one epoch of the schedule), and ``fit`` with
``max_iter=30`` and 60. Used through ``bench_dense_share.py`` to compare dense
phases of different lengths (``benchmarks/results/dense_share.md``)::

    python benchmarks/bench_dense_share.py --share 0.5 digits_short_budgets.py
    python benchmarks/bench_dense_share.py --share 0.2 digits_short_budgets.py
"""

import argparse
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sparsity", type=float, default=0.9)
    args = parser.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    classes = np.unique(y)
    rows = []
    for seed in range(args.seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, random_state=seed, stratify=y
        )
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stream = PrunedMLPClassifier(
                sparsity=args.sparsity, max_iter=100, random_state=seed
            )
            for _ in range(30):
                for chunk in np.array_split(np.arange(len(X_train)), 4):
                    stream.partial_fit(X_train[chunk], y_train[chunk], classes=classes)
            row = [stream.score(X_test, y_test)]
            for max_iter in (30, 60):
                model = PrunedMLPClassifier(
                    sparsity=args.sparsity, max_iter=max_iter, random_state=seed
                )
                row.append(model.fit(X_train, y_train).score(X_test, y_test))
        rows.append(row)
        print(f"seed {seed}: " + ", ".join(f"{100 * a:.2f}" for a in row), flush=True)
    means = 100 * np.mean(rows, axis=0)
    print(
        f"sparsity={args.sparsity}, {args.seeds} seeds, mean test accuracy (%): "
        f"120 partial_fit calls {means[0]:.2f}, fit max_iter=30 {means[1]:.2f}, "
        f"fit max_iter=60 {means[2]:.2f}"
    )


if __name__ == "__main__":
    main()
