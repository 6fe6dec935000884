"""predict time, latency and memory of pruned networks against MLPClassifier.

784-300-100-10 networks trained on synthetic data (see ``_common.NETWORKS``);
predict_proba on 20000 rows, alternating between the models in one process,
median of ``--repeats`` runs. Peak extra memory of predict_proba (tracemalloc) at
50000 and 200000 rows. ``--calibrate`` times dense against CSR products for the
three layer shapes, the measurement behind ``DENSE_DENSITY_THRESHOLD``.

The latency table (also alone, with ``--latency``) times single calls of
``predict`` and ``predict_proba`` on 1, 10 and 100 float64 rows (``--calls``
calls of each for 1 row, half as many for 10 and an eighth for 100), in rounds
that alternate between the models, so that the machine's noise hits all of them.
It covers MLPClassifier, skprune at sparsity 0, 0.9, 0.98 and its default, and,
when onnxruntime is installed, onnxruntime on the exported default model (fed
float32 rows prepared beforehand, default session options).

    python benchmarks/bench_predict.py [--repeats 15] [--calibrate]
        [--latency] [--calls 2000] [--blas-threads N]
"""

import argparse
import time
import tracemalloc
import warnings

import numpy as np
from _common import environment, markdown_table, train_networks, versions

# Rows per latency call -> share of ``--calls`` made with that many rows: larger
# calls are steadier and slower, so fewer of them keep the run short.
LATENCY_ROWS = {1: 1, 10: 1 / 2, 100: 1 / 8}
LATENCY_ROUNDS = 20
LATENCY_NETWORKS = (
    "MLPClassifier",
    "skprune sparsity=0",
    "skprune sparsity=0.9",
    "skprune sparsity=0.98",
)


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


def cpu_model():
    """The CPU's model name, as ``lscpu`` shows it (Linux), or None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def onnx_predictors(model, X_sample):
    """``(predict, predict_proba)`` through onnxruntime, or None without it."""
    try:
        import onnxruntime
    except ImportError:
        return None
    from skprune.onnx import to_onnx

    onx = to_onnx(model, X_sample.astype(np.float32))
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name
    # Deployed code feeds float32 directly: the conversion is not timed.
    return (
        lambda X: session.run(["label"], {name: X})[0],
        lambda X: session.run(["probabilities"], {name: X})[0],
    )


def latency_candidates(models, X_fit, y_fit, X_sample, epochs):
    """Label -> (predict, predict_proba, input dtype) for the latency table.

    The trained ``models`` of ``LATENCY_NETWORKS``, a skprune model with its
    default sparsity fitted here as the others were (same data and settings),
    and onnxruntime on that model's export when onnxruntime is installed.
    """
    from sklearn.exceptions import ConvergenceWarning

    from skprune import PrunedMLPClassifier

    candidates = {
        label: (models[label].predict, models[label].predict_proba, np.float64)
        for label in LATENCY_NETWORKS
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        default = PrunedMLPClassifier(
            hidden_layer_sizes=(300, 100), max_iter=epochs, random_state=0
        ).fit(X_fit, y_fit)
    label = f"skprune default (sparsity={default.sparsity})"
    candidates[label] = (default.predict, default.predict_proba, np.float64)
    onnx = onnx_predictors(default, X_sample)
    if onnx is not None:
        candidates["onnxruntime, skprune default"] = (*onnx, np.float32)
    return candidates


def latency_calls(calls, n_rows):
    """Calls per model and method with ``n_rows`` rows (see ``LATENCY_ROWS``)."""
    return max(int(calls * LATENCY_ROWS[n_rows]), LATENCY_ROUNDS)


def time_latency(candidates, X, calls):
    """Per row count: label -> (predict, predict_proba) single-call times (s)."""
    results = {}
    for n_rows in LATENCY_ROWS:
        per_round = max(1, latency_calls(calls, n_rows) // LATENCY_ROUNDS)
        times = {label: ([], []) for label in candidates}
        inputs = {}
        for label, (predict, predict_proba, dtype) in candidates.items():
            inputs[label] = np.ascontiguousarray(X[:n_rows], dtype=dtype)
            predict(inputs[label])  # warm-up
            predict_proba(inputs[label])
        for _ in range(LATENCY_ROUNDS):
            for label, (predict, predict_proba, _) in candidates.items():
                rows = inputs[label]
                for method, record in zip((predict, predict_proba), times[label]):
                    for _ in range(per_round):
                        start = time.perf_counter()
                        method(rows)
                        record.append(time.perf_counter() - start)
        results[n_rows] = times
    return results


def latency_table(results):
    header = ["rows", "model"]
    for method in ("predict", "predict_proba"):
        header += [f"{method} median (µs)", "p99 (µs)", "median vs MLPClassifier"]
    rows = []
    for n_rows, by_label in results.items():
        ref = [np.median(t) for t in by_label["MLPClassifier"]]
        for label, pair in by_label.items():
            row = [n_rows, label]
            for t, t_ref in zip(pair, ref):
                row += [
                    f"{np.median(t) * 1e6:.0f}",
                    f"{np.percentile(t, 99) * 1e6:.0f}",
                    f"{np.median(t) / t_ref:.2f}x",
                ]
            rows.append(row)
    return markdown_table(header, rows)


def print_latency(models, X_fit, y_fit, X, args):
    candidates = latency_candidates(models, X_fit, y_fit, X[:1], args.epochs)
    results = time_latency(candidates, X, args.calls)
    counts = ", ".join(
        f"{latency_calls(args.calls, n)} of {n} row{'s' * (n > 1)}"
        for n in LATENCY_ROWS
    )
    print(
        f"\nLatency of single calls on float64 rows (onnxruntime: float32): "
        f"{counts} per model and method, alternating in {LATENCY_ROUNDS} rounds"
    )
    print(latency_table(results))


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
    parser.add_argument("--latency", action="store_true", help="only the latency table")
    parser.add_argument(
        "--calls", type=int, default=2000, help="latency calls per model and method"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        help="BLAS threads for the timings (training uses all): on a machine "
        "shared with other jobs, a threaded product waits for its descheduled "
        "threads, and 1 thread shows what the models themselves take",
    )
    args = parser.parse_args(argv)

    models, X, y = train_networks(epochs=args.epochs)
    X_pred = np.random.RandomState(1).normal(size=(args.rows, X.shape[1]))
    if args.blas_threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads, user_api="blas")

    print(environment())
    print(f"cpu: {cpu_model()}")
    print(versions())
    if args.latency:
        print_latency(models, X, y, X_pred, args)
        return
    times = time_predict(models, X_pred, args.repeats)
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
    print_latency(models, X, y, X_pred, args)
    if args.calibrate:
        calibrate()


if __name__ == "__main__":
    main()
