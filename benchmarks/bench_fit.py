"""Fit time of PrunedMLPClassifier against MLPClassifier, alternating, in one run.

Same synthetic data (10000 x 784, 10 classes), same architecture (300, 100), same
number of epochs (``max_iter=5``), early stopping off. PrunedMLPClassifier runs
with its defaults (float32, gradual magnitude pruning to 90%); MLPClassifier with
its defaults (float64 on float64 input). Reports the median of each, the ratio of
the medians and the median of the per-round ratios.
With numba installed (the ``fast`` extra) the default rows use the fused kernels,
and one more row shows the NumPy-only code (``SKPRUNE_NUMBA=0``) in the same run.
With ``--profile``, also a cProfile of one skprune fit, and two more rows timed in
the same alternation: the matrix products alone (the eight products of one
minibatch's forward and backward pass, repeated for every minibatch of the fit,
in float32 and float64), the floor that any implementation built on NumPy's BLAS
calls pays. With ``--long-epochs N``,
also fits of N epochs at sparsity 0 and 0.98 (with and without numba), where the
sparse input layer of the ``fast`` extra has time to pay.

    python benchmarks/bench_fit.py [--repeats 5] [--profile] [--long-epochs 20]
"""

import argparse
import cProfile
import io
import os
import pstats
import warnings

import numpy as np
from _common import environment, markdown_table, synthetic_data, timed, versions
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skprune import PrunedMLPClassifier
from skprune._kernels import numba_available


class MatmulFloor:
    """The (300, 100) network's matrix products alone, as a fake estimator.

    ``fit`` runs the eight products of one minibatch's forward and backward pass
    once per minibatch of a real fit, so that it can be timed in the same
    alternation as the estimators.
    """

    def __init__(self, dtype, n_epochs):
        self.dtype = dtype
        self.n_epochs = n_epochs

    def fit(self, X, y):
        rng = np.random.default_rng(0)
        sizes = [X.shape[1], 300, 100, 10]
        Xb = rng.standard_normal((200, X.shape[1])).astype(self.dtype)
        W = [rng.standard_normal(s).astype(self.dtype) for s in zip(sizes, sizes[1:])]
        D = [rng.standard_normal((200, s)).astype(self.dtype) for s in sizes[1:]]
        for _ in range(self.n_epochs * -(-X.shape[0] // 200)):
            A1 = Xb @ W[0]
            A2 = A1 @ W[1]
            A2 @ W[2]  # forward
            A2.T @ D[2], D[2] @ W[2].T, A1.T @ D[1], D[1] @ W[1].T, Xb.T @ D[0]
        return self


FIRST_USE = """
import time
t0 = time.perf_counter()
import numpy as np
from skprune import PrunedMLPClassifier
X = np.random.default_rng(0).standard_normal((400, 784))
y = np.arange(400) % 10
times = []
for _ in range(2):
    start = time.perf_counter()
    PrunedMLPClassifier(hidden_layer_sizes=(300, 100), max_iter=12).fit(X, y)
    times.append(time.perf_counter() - start)
print(times[0] - times[1])
"""


def first_use_overhead():
    """Seconds the first fit of a process loses to numba: cold, then cached."""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, SKPRUNE_NUMBA="1")
        env["PYTHONWARNINGS"] = "ignore"
        run = [sys.executable, "-c", FIRST_USE]
        cold, warm = (
            float(
                subprocess.run(
                    run, env=env, capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(2)
        )
    return cold, warm


def alternate(candidates, X, y, repeats):
    """Median-ready fit times per candidate, measured in alternation."""
    times = {name: [] for name in candidates}
    # One untimed warm-up each (it also compiles or loads the numba kernels),
    # then alternate so that machine noise hits all.
    for make, setting in candidates.values():
        os.environ["SKPRUNE_NUMBA"] = setting
        make().fit(X[:1000], y[:1000])
    for _ in range(repeats):
        for name, (make, setting) in candidates.items():
            os.environ["SKPRUNE_NUMBA"] = setting
            seconds, _ = timed(make().fit, X, y)
            times[name].append(seconds)
    os.environ.pop("SKPRUNE_NUMBA")
    return times


def table(times):
    """Markdown table: medians, and two speed-ups against MLPClassifier.

    The ratio of the medians, and the median of the per-round ratios: within one
    round every candidate runs back to back, so a ratio taken round by round is
    less sensitive to slow changes in machine load than the medians are.
    """
    base_times = np.asarray(times["MLPClassifier"])
    base = np.median(base_times)
    rows = []
    for name, values in times.items():
        med = np.median(values)
        paired = np.median(base_times / np.asarray(values))
        rows.append(
            [
                name,
                f"{med:.3f}",
                f"{min(values):.3f}",
                f"{max(values):.3f}",
                f"{base / med:.2f}x",
                f"{paired:.2f}x",
            ]
        )
    return markdown_table(
        [
            "estimator",
            "median fit (s)",
            "min",
            "max",
            "speed-up vs MLPClassifier (ratio of medians)",
            "median per-round speed-up",
        ],
        rows,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--n-features", type=int, default=784)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of one skprune fit"
    )
    parser.add_argument(
        "--long-epochs",
        type=int,
        default=0,
        help="also time fits of this many epochs at sparsity 0 and 0.98",
    )
    args = parser.parse_args(argv)

    X, y = synthetic_data(args.n_samples, args.n_features)
    common = dict(
        hidden_layer_sizes=(300, 100),
        max_iter=args.epochs,
        early_stopping=False,
        random_state=0,
    )
    # name -> (estimator factory, SKPRUNE_NUMBA setting: "" default, "0" NumPy only)
    candidates = {
        "MLPClassifier": (lambda: MLPClassifier(**common), ""),
        "PrunedMLPClassifier (defaults, sparsity=0.9)": (
            lambda: PrunedMLPClassifier(**common),
            "",
        ),
        "PrunedMLPClassifier (sparsity=0)": (
            lambda: PrunedMLPClassifier(sparsity=0, **common),
            "",
        ),
    }
    if numba_available():
        candidates["PrunedMLPClassifier (defaults), NumPy only"] = (
            lambda: PrunedMLPClassifier(**common),
            "0",
        )
    if args.profile:
        for dtype in ("float32", "float64"):
            candidates[f"matrix products alone, {dtype}"] = (
                lambda dtype=dtype: MatmulFloor(dtype, args.epochs),
                "",
            )
    warnings.simplefilter("ignore", ConvergenceWarning)
    times = alternate(candidates, X, y, args.repeats)

    print(environment())
    print(versions())
    if numba_available():
        import numba

        cold, warm = first_use_overhead()
        print(
            f"numba {numba.__version__}: fused kernels (the fast extra); the "
            "NumPy-only rows run with SKPRUNE_NUMBA=0.\n"
            f"First fit in a new process costs {cold:.2f} s more when the kernels "
            f"compile (empty cache), {warm:.2f} s when they load from the cache "
            "(excluded from the times below: every estimator gets a warm-up fit)"
        )
    else:
        print("numba not installed: NumPy code only")
    print(
        f"data: {X.shape[0]}x{X.shape[1]} float64, 10 classes; hidden (300, 100); "
        f"{args.epochs} epochs, adam, batch 200; {args.repeats} alternating runs\n"
    )
    print(table(times))

    if args.long_epochs:
        long = dict(common, max_iter=args.long_epochs)
        candidates = {"MLPClassifier": (lambda: MLPClassifier(**long), "")}
        for sparsity in (0, 0.98):
            candidates[f"PrunedMLPClassifier (sparsity={sparsity})"] = (
                lambda sparsity=sparsity: PrunedMLPClassifier(
                    sparsity=sparsity, **long
                ),
                "",
            )
            if numba_available():
                candidates[f"PrunedMLPClassifier (sparsity={sparsity}), NumPy only"] = (
                    lambda sparsity=sparsity: PrunedMLPClassifier(
                        sparsity=sparsity, **long
                    ),
                    "0",
                )
        times = alternate(candidates, X, y, args.repeats)
        print(
            f"\nLonger training: {args.long_epochs} epochs, same data and network, "
            f"{args.repeats} alternating runs. At sparsity=0.98 the input layer "
            "keeps 2 % of its weights for most of the fit; with numba its "
            "products then run over those weights only.\n"
        )
        print(table(times))

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        PrunedMLPClassifier(**common).fit(X, y)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print("\nProfile of one PrunedMLPClassifier fit (by own time):")
        print(out.getvalue())
        print(
            "The 'matrix products alone' rows above time, in the same alternation, "
            "the eight products of every minibatch's forward and backward pass: "
            "the floor of any implementation built on these BLAS calls."
        )


if __name__ == "__main__":
    main()
