"""Shared helpers for the benchmarks: environment report, timing, data paths."""

import os
import platform
import runpy
import sys
import time
from pathlib import Path

import numpy as np


def environment():
    """One line per BLAS/OpenMP pool: library, kernel, threads; plus the CPU."""
    from threadpoolctl import threadpool_info

    lines = [
        f"python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cpus"
    ]
    for pool in threadpool_info():
        lines.append(
            "{user_api}: {internal_api} {version} kernel={architecture} "
            "threads={num_threads}".format(
                user_api=pool.get("user_api"),
                internal_api=pool.get("internal_api"),
                version=pool.get("version"),
                architecture=pool.get("architecture"),
                num_threads=pool.get("num_threads"),
            )
        )
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS"):
        if var in os.environ:
            lines.append(f"{var}={os.environ[var]}")
    return "\n".join(lines)


def versions():
    import scipy
    import sklearn

    import skprune

    return (
        f"numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, skprune {skprune.__version__}"
    )


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def load_mnist(path=None):
    """MNIST as (X_train, y_train, X_test, y_test), pixels scaled to [0, 1].

    ``path`` (or the ``SKPRUNE_MNIST`` environment variable) points to an ``.npz``
    with ``x_train, y_train, x_test, y_test``; otherwise the data is fetched from
    OpenML (canonical split: first 60000 train, last 10000 test).
    """
    path = path or os.environ.get("SKPRUNE_MNIST")
    if path:
        path = Path(path)
        if not path.exists():
            raise SystemExit(f"MNIST file not found: {path}")
        with np.load(path) as data:
            X_train = data["x_train"].reshape(len(data["x_train"]), -1)
            X_test = data["x_test"].reshape(len(data["x_test"]), -1)
            y_train, y_test = data["y_train"], data["y_test"]
    else:
        from sklearn.datasets import fetch_openml

        try:
            X, y = fetch_openml("mnist_784", version=1, return_X_y=True, as_frame=False)
        except Exception as exc:  # no network
            raise SystemExit(
                "MNIST is not available: pass --mnist PATH or set SKPRUNE_MNIST "
                f"to an .npz file ({exc})."
            ) from exc
        X_train, X_test, y_train, y_test = X[:60000], X[60000:], y[:60000], y[60000:]
    scale = np.float32(1 / 255)
    return (
        X_train.astype(np.float32) * scale,
        np.asarray(y_train).astype(int),
        X_test.astype(np.float32) * scale,
        np.asarray(y_test).astype(int),
    )


def load_abalone(path=None):
    """UCI Abalone as ``(X, y)``, or ``(None, reason)`` when the file is absent.

    ``path`` (or the ``SKPRUNE_ABALONE`` environment variable) points to an ``.npz``
    with ``X`` (4177 x 10: sex one-hot, then the eight measurements) and ``y``
    (rings). Nothing is downloaded.
    """
    path = path or os.environ.get("SKPRUNE_ABALONE")
    if not path:
        return None, "no --abalone PATH and SKPRUNE_ABALONE is not set"
    path = Path(path)
    if not path.exists():
        return None, f"file not found: {path}"
    with np.load(path) as data:
        return np.asarray(data["X"], dtype=float), np.asarray(data["y"], dtype=float)


def _data_file(path, env):
    """``(Path, None)`` of a benchmark data file, or ``(None, reason)``."""
    path = path or os.environ.get(env)
    if not path:
        return None, f"no path given and {env} is not set"
    path = Path(path)
    if not path.exists():
        return None, f"file not found: {path}"
    return path, None


def load_letter(path=None):
    """UCI Letter Recognition as ``(X, y)``, or ``(None, reason)`` when absent.

    ``path`` (or the ``SKPRUNE_LETTER`` environment variable) points to an ``.npz``
    with ``X`` (20000 x 16, integer features 0-15) and ``y`` (letters 'A'-'Z').
    The customary split is the first 16000 rows for training, the last 4000 for
    testing. Nothing is downloaded.
    """
    path, reason = _data_file(path, "SKPRUNE_LETTER")
    if path is None:
        return None, reason
    with np.load(path) as data:
        return np.asarray(data["X"], dtype=float), np.asarray(data["y"])


def load_vowel(path=None):
    """Deterding vowel data as ``((X_train, y_train), (X_test, y_test))``.

    Returns ``(None, reason)`` when absent. ``path`` (or the ``SKPRUNE_VOWEL``
    environment variable) points to an ``.npz`` with ``X_train`` (528 x 10),
    ``y_train``, ``X_test`` (462 x 10) and ``y_test`` (classes 1-11): the canonical
    speaker-independent split. Nothing is downloaded.
    """
    path, reason = _data_file(path, "SKPRUNE_VOWEL")
    if path is None:
        return None, reason
    with np.load(path) as data:
        return (
            (np.asarray(data["X_train"], dtype=float), np.asarray(data["y_train"])),
            (np.asarray(data["X_test"], dtype=float), np.asarray(data["y_test"])),
        )


def markdown_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


# The networks compared by bench_predict.py and bench_size.py: 784-300-100-10
# trained on synthetic data. (label, PrunedMLPClassifier parameters or None for
# MLPClassifier).
NETWORKS = [
    ("MLPClassifier", None),
    ("skprune sparsity=0", dict(sparsity=0.0)),
    ("skprune sparsity=0.5", dict(sparsity=0.5)),
    ("skprune sparsity=0.9", dict(sparsity=0.9)),
    ("skprune sparsity=0.98", dict(sparsity=0.98)),
    ("skprune neuron 0.5", dict(sparsity=0.5, granularity="neuron")),
]


def synthetic_data(n_samples=10000, n_features=784, seed=0):
    from sklearn.datasets import make_classification

    return make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_features // 8,
        n_redundant=n_features // 8,
        n_classes=10,
        n_clusters_per_class=2,
        random_state=seed,
    )


def train_networks(epochs=10, n_samples=10000, verbose=True):
    """Fit every network of ``NETWORKS`` on the same synthetic data."""
    import sys
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from skprune import PrunedMLPClassifier

    X, y = synthetic_data(n_samples)
    common = dict(hidden_layer_sizes=(300, 100), max_iter=epochs, random_state=0)
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for label, params in NETWORKS:
            if verbose:
                print(f"training {label} ...", file=sys.stderr, flush=True)
            if params is None:
                models[label] = MLPClassifier(**common).fit(X, y)
            else:
                models[label] = PrunedMLPClassifier(**common, **params).fit(X, y)
    return models, X, y


BENCHMARKS = Path(__file__).resolve().parent


def benchmark_script(name):
    """The path of the benchmark ``name`` of this directory, or None."""
    script = BENCHMARKS / name
    return script if script.parent == BENCHMARKS and script.is_file() else None


def run_benchmark(script, args):
    """Run another benchmark of this directory in this process, with ``args``
    (for scripts that set a library constant first)."""
    sys.path.insert(0, str(BENCHMARKS))
    sys.argv = [str(script), *args]
    runpy.run_path(str(script), run_name="__main__")
