"""Fit time of PrunedMLPClassifier against MLPClassifier, alternating, in one run.

Same synthetic data (10000 x 784, 10 classes), same architecture (300, 100), same
number of epochs (``max_iter=5``), early stopping off. PrunedMLPClassifier runs
with its defaults (float32, gradual magnitude pruning to 90%); MLPClassifier with
its defaults (float64 on float64 input). Reports the median of each and the ratio.

    python benchmarks/bench_fit.py [--repeats 5] [--profile]
"""

import argparse
import cProfile
import io
import pstats
import warnings

import numpy as np
from _common import environment, markdown_table, synthetic_data, timed, versions
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skprune import PrunedMLPClassifier


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--n-features", type=int, default=784)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of one skprune fit"
    )
    args = parser.parse_args(argv)

    X, y = synthetic_data(args.n_samples, args.n_features)
    common = dict(
        hidden_layer_sizes=(300, 100),
        max_iter=args.epochs,
        early_stopping=False,
        random_state=0,
    )
    candidates = {
        "MLPClassifier": lambda: MLPClassifier(**common),
        "PrunedMLPClassifier (defaults, sparsity=0.9)": lambda: PrunedMLPClassifier(
            **common
        ),
        "PrunedMLPClassifier (sparsity=0)": lambda: PrunedMLPClassifier(
            sparsity=0, **common
        ),
    }
    times = {name: [] for name in candidates}
    warnings.simplefilter("ignore", ConvergenceWarning)
    # One untimed warm-up each, then alternate so that machine noise hits all.
    for make in candidates.values():
        make().fit(X[:1000], y[:1000])
    for _ in range(args.repeats):
        for name, make in candidates.items():
            seconds, model = timed(make().fit, X, y)
            times[name].append(seconds)

    print(environment())
    print(versions())
    print(
        f"data: {X.shape[0]}x{X.shape[1]} float64, 10 classes; hidden (300, 100); "
        f"{args.epochs} epochs, adam, batch 200; {args.repeats} alternating runs\n"
    )
    base = np.median(times["MLPClassifier"])
    rows = []
    for name, values in times.items():
        med = np.median(values)
        rows.append(
            [
                name,
                f"{med:.3f}",
                f"{min(values):.3f}",
                f"{max(values):.3f}",
                f"{base / med:.2f}x",
            ]
        )
    print(
        markdown_table(
            ["estimator", "median fit (s)", "min", "max", "speed-up vs MLPClassifier"],
            rows,
        )
    )

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        PrunedMLPClassifier(**common).fit(X, y)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print("\nProfile of one PrunedMLPClassifier fit (by own time):")
        print(out.getvalue())


if __name__ == "__main__":
    main()
