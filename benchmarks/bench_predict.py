"""predict_proba time and memory of pruned networks against MLPClassifier.

784-300-100-10 networks trained on synthetic data (see ``_common.NETWORKS``);
predict_proba on 20000 rows, alternating between the models in one process,
median of ``--repeats`` runs. Peak extra memory of predict_proba (tracemalloc) at
50000 and 200000 rows. ``--calibrate`` times dense against CSR products for the
three layer shapes, the measurement behind ``DENSE_DENSITY_THRESHOLD``.

    python benchmarks/bench_predict.py [--repeats 15] [--calibrate]
"""

import argparse
import time
import tracemalloc

import numpy as np
from _common import environment, markdown_table, train_networks, versions


def time_predict(models, X, repeats):
    times = {label: [] for label in models}
    for model in models.values():  # warm-up
        model.predict_proba(X[:100])
    for _ in range(repeats):
        for label, model in models.items():
            start = time.perf_counter()
            model.predict_proba(X)
            times[label].append(time.perf_counter() - start)
    return {label: np.median(t) for label, t in times.items()}


def peak_memory(model, n_rows, n_features, seed=0):
    X = np.random.RandomState(seed).uniform(size=(n_rows, n_features))
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    proba = model.predict_proba(X)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak, proba.nbytes


def calibrate(repeats=20, rows=2048):
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    densities = [0.5, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.02, 0.01]
    out = []
    for fan_in, fan_out in [(784, 300), (300, 100), (100, 10)]:
        A = np.ascontiguousarray(rng.random((fan_in, rows), dtype=np.float32))
        cells = []
        for d in densities:
            W = rng.random((fan_out, fan_in), dtype=np.float32)
            W *= rng.random((fan_out, fan_in)) < d
            W_csr = sp.csr_array(W)
            t_dense, t_sparse = [], []
            for _ in range(repeats):
                start = time.perf_counter()
                W @ A
                t_dense.append(time.perf_counter() - start)
                start = time.perf_counter()
                W_csr @ A
                t_sparse.append(time.perf_counter() - start)
            cells.append(f"{np.median(t_dense) / np.median(t_sparse):.2f}")
        out.append([f"{fan_out}x{fan_in}"] + cells)
    header = ["layer (W.T)"] + [f"d={d}" for d in densities]
    print(
        f"\nDense time / CSR time for W.T @ A, A with {rows} columns (> 1: CSR faster):"
    )
    print(markdown_table(header, out))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args(argv)

    models, X, _ = train_networks(epochs=args.epochs)
    X_pred = np.random.RandomState(1).normal(size=(args.rows, X.shape[1]))
    times = time_predict(models, X_pred, args.repeats)

    print(environment())
    print(versions())
    print(
        f"predict_proba on {args.rows} float64 rows x {X.shape[1]} features, "
        f"median of {args.repeats} alternating runs\n"
    )
    ref = times["MLPClassifier"]
    own = times["skprune sparsity=0"]
    rows = []
    for label, model in models.items():
        sizes = (
            "300, 100"
            if label == "MLPClassifier"
            else ", ".join(str(h) for h in model.hidden_layer_sizes_)
        )
        achieved = getattr(model, "sparsity_", 0.0)
        rows.append(
            [
                label,
                f"{achieved:.3f}",
                sizes,
                f"{times[label] * 1e3:.1f}",
                f"{ref / times[label]:.2f}x",
                f"{own / times[label]:.2f}x",
            ]
        )
    print(
        markdown_table(
            [
                "model",
                "achieved sparsity",
                "hidden sizes",
                "predict_proba (ms)",
                "speed-up vs MLPClassifier",
                "speed-up vs skprune sparsity=0",
            ],
            rows,
        )
    )

    print("\nPeak memory of predict_proba beyond its float64 input (tracemalloc):")
    mem_rows = []
    for label in ("MLPClassifier", "skprune sparsity=0.9"):
        for n_rows in (50000, 200000):
            peak, out_bytes = peak_memory(models[label], n_rows, X.shape[1])
            mem_rows.append(
                [
                    label,
                    n_rows,
                    f"{peak / 2**20:.1f}",
                    f"{out_bytes / 2**20:.1f}",
                    f"{(peak - out_bytes) / 2**20:.1f}",
                ]
            )
    print(
        markdown_table(
            [
                "model",
                "rows",
                "peak extra (MiB)",
                "of which output (MiB)",
                "working memory (MiB)",
            ],
            mem_rows,
        )
    )
    if args.calibrate:
        calibrate()


if __name__ == "__main__":
    main()
