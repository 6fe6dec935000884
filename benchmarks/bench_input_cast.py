"""Float64 training data in a float32 fit: cast per minibatch against a float32 copy.

With the compiled kernels and a stochastic solver, ``PrunedMLPClassifier``
gathers each minibatch of a float64 ``X`` straight into float32 instead of
converting the whole training set first. This times, in one process and
alternating, a default fit on float64 data against a fit that is handed
``X.astype(np.float32)`` made inside the timed region (what a float32 copy of
the data costs, as the conversion did before), and measures with tracemalloc
the memory each allocates beyond its input::

    python benchmarks/bench_input_cast.py --rounds 15
    python benchmarks/bench_input_cast.py --rounds 5 --epochs 20 \\
        --configs dense weight-0.98 neuron-0.8
"""

import argparse
import time
import tracemalloc
import warnings

import numpy as np
from _common import environment, synthetic_data

from skprune import PrunedMLPClassifier

CONFIGS = {
    "default": {},
    "dense": {"sparsity": 0},
    "weight-0.98": {"sparsity": 0.98},
    "neuron-0.8": {"sparsity": 0.8, "granularity": "neuron"},
}


def fit(X, y, copy, params):
    Xf = X.astype(np.float32) if copy else X
    return PrunedMLPClassifier(**params).fit(Xf, y)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--n-samples", type=int, default=10000)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=["default"])
    args = p.parse_args()
    print(environment())
    X, y = synthetic_data(args.n_samples, 784)
    base = dict(hidden_layer_sizes=(300, 100), max_iter=args.epochs, random_state=0)
    warnings.simplefilter("ignore")
    names = {False: "float64 X, cast per minibatch", True: "float32 copy of X first"}
    times = {(c, copy): [] for c in args.configs for copy in names}
    for c in args.configs:  # kernels loaded and compiled for every path
        for copy in names:
            fit(X[:2000], y[:2000], copy, {**base, "max_iter": 2, **CONFIGS[c]})
    for r in range(args.rounds):
        for c in args.configs:
            for copy in (False, True) if r % 2 == 0 else (True, False):
                start = time.perf_counter()
                fit(X, y, copy, {**base, **CONFIGS[c]})
                times[(c, copy)].append(time.perf_counter() - start)
    peaks = {}
    for copy in names:
        tracemalloc.start()
        fit(X, y, copy, {**base, **CONFIGS[args.configs[0]]})
        peaks[copy] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(
        f"data {X.shape[0]}x{X.shape[1]} float64 ({X.nbytes / 2**20:.1f} MiB); "
        f"hidden (300, 100), {args.epochs} epochs; {args.rounds} alternating "
        f"rounds; peak memory of the {args.configs[0]!r} fit\n"
    )
    print("| fit | data | median (s) | min | max | cast / copy (median per round) |")
    print("|---|---|---|---|---|---|")
    for c in args.configs:
        a, b = np.array(times[(c, False)]), np.array(times[(c, True)])
        for copy, name in names.items():
            v = times[(c, copy)]
            ratio = f"{np.median(a / b):.3f}" if not copy else ""
            print(
                f"| {c} {CONFIGS[c]} | {name} | {np.median(v):.3f} | {min(v):.3f} "
                f"| {max(v):.3f} | {ratio} |"
            )
    print(
        "\npeak allocated beyond X (MiB): "
        + ", ".join(f"{names[copy]} {peaks[copy]:.1f}" for copy in names)
    )


if __name__ == "__main__":
    main()
