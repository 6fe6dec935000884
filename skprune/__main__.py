"""``python -m skprune``: train on the bundled digits data and compare.

Fits scikit-learn's MLPClassifier and PrunedMLPClassifier on the same split and
prints accuracy, sparsity, pickled size and fit time side by side.
"""

import argparse
import pickle
import sys
import time
import warnings


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skprune",
        description="Train a pruned MLP on scikit-learn's digits data and compare "
        "it with MLPClassifier.",
    )
    parser.add_argument("--sparsity", type=float, default=0.9,
                        help="fraction of weights to remove (default: 0.9)")
    parser.add_argument("--quiet", action="store_true", help="print only the table")
    args = parser.parse_args(argv)
    if not 0 <= args.sparsity < 1:
        parser.error(f"--sparsity must be in [0, 1), got {args.sparsity}")

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    from skprune import PrunedMLPClassifier

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    models = {
        "MLPClassifier": MLPClassifier(random_state=0),
        f"PrunedMLPClassifier(sparsity={args.sparsity})": PrunedMLPClassifier(
            sparsity=args.sparsity, random_state=0
        ),
    }
    rows = []
    for name, model in models.items():
        if not args.quiet:
            print(f"fitting {name} ...", file=sys.stderr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(X_train, y_train)
            seconds = time.perf_counter() - start
        rows.append((
            name,
            f"{model.score(X_test, y_test):.4f}",
            f"{getattr(model, 'sparsity_', 0.0):.3f}",
            f"{len(pickle.dumps(model)) / 1024:.1f}",
            f"{seconds:.2f}",
        ))
    header = ("model", "test accuracy", "sparsity", "pickle (KiB)", "fit (s)")
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(5)]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
