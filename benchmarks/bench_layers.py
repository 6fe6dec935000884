"""One layer's training products, dense (BLAS) against over its kept weights only.

For each layer shape and density, times what one minibatch step spends in the
layer's products: the forward product ``A @ W``, the weight gradient
``A.T @ delta`` and (but for the input layer) the backward product
``delta @ W.T``, with NumPy's BLAS on the whole matrix, and with
``_kernels.SparseLayer`` over the kept weights only. The input layer's costs
include gathering its minibatch from the training data, by rows for BLAS and
feature-major (transposed) for the sparse products. Needs
numba (the ``fast`` extra). Times are the minimum over many calls, alternating
dense and sparse, so that machine noise hits both.

With ``--calibrate``, prints for each shape the crossover density (where the
two costs meet, interpolated between the measured densities) next to the
densities at which :func:`skprune._kernels.sparse_pays` chooses the sparse
products (its constants ``SPARSE_DENSITY``, ``SMALL_SPARSE_DENSITY`` and
``SMALL_LAYER_WEIGHTS`` come from this measurement).

    python benchmarks/bench_layers.py [--calibrate] [--repeats 200]
"""

import argparse
import time

import numpy as np
from _common import environment, markdown_table, versions

from skprune import _kernels

# (fan_in, fan_out, first): the benchmark network's layers, then wider ones.
SHAPES = [
    (784, 300, True),
    (300, 100, False),
    (100, 10, False),
    (1000, 1000, False),
    (256, 256, False),
]
DENSITIES = [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3]


def _layer(fan_in, fan_out, density, n_batch, dtype, rng):
    W = rng.standard_normal((fan_in, fan_out)).astype(dtype)
    mask = rng.random(W.shape) < density
    W *= mask
    A = np.maximum(rng.standard_normal((n_batch, fan_in)), 0).astype(dtype)
    delta = rng.standard_normal((n_batch, fan_out)).astype(dtype)
    return W, np.flatnonzero(mask), A, delta


def dense_step(W, A, delta, data, out):
    """The layer's BLAS products, in the layouts ``_core`` uses."""
    if data is not None:  # the input layer: gather the minibatch first
        X, rows = data
        np.take(X, rows, axis=0, out=A, mode="clip")
    np.matmul(A, W, out=out["z"])
    np.matmul(A.T, delta, out=out["g"])
    if data is None:
        np.matmul(delta, W.T, out=out["d"])


def sparse_step(layer, AT, DT, data, out):
    """The same products over the kept weights (activations feature-major)."""
    if data is not None:
        X, rows = data
        layer.gather(X, rows, AT)
    layer.forward(AT, out["zt"])
    layer.gradient(AT, DT, out["packed"])
    if data is None:
        layer.backward(DT, out["dt"])


def measure(fan_in, fan_out, first, n_batch, dtype, repeats, rng):
    """Minimum seconds of one dense step of the layer, and of one sparse step
    at each of ``DENSITIES`` (the dense one timed between each sparse one)."""
    kernels = _kernels.compiled()
    data = None
    if first:  # training data to gather minibatches from
        X = rng.standard_normal((10_000, fan_in)).astype(dtype)
        data = X, rng.permutation(len(X))[:n_batch]
    cases = []
    for density in DENSITIES:
        W, index, A, delta = _layer(fan_in, fan_out, density, n_batch, dtype, rng)
        out = {
            "z": np.empty((n_batch, fan_out), dtype),
            "g": np.empty((fan_in, fan_out), dtype),
            "d": np.empty((n_batch, fan_in), dtype),
            "zt": np.empty((fan_out, n_batch), dtype),
            "dt": np.empty((fan_in, n_batch), dtype),
            "packed": np.empty(index.size, dtype),
        }
        layer = _kernels.SparseLayer(kernels, W, index)
        AT, DT = np.ascontiguousarray(A.T), np.ascontiguousarray(delta.T)
        sparse_step(layer, AT, DT, data, out)  # compile (or load) the kernels
        cases.append((W, A, delta, layer, AT, DT, out))
    dense = np.inf
    sparse = [np.inf] * len(cases)
    for _ in range(repeats):
        for k, (W, A, delta, layer, AT, DT, out) in enumerate(cases):
            start = time.perf_counter()
            dense_step(W, A, delta, data, out)
            middle = time.perf_counter()
            sparse_step(layer, AT, DT, data, out)
            end = time.perf_counter()
            dense = min(dense, middle - start)
            sparse[k] = min(sparse[k], end - middle)
    return dense, sparse


def crossover(densities, dense, sparse):
    """Density where sparse stops paying (linear interpolation), or a bound."""
    ratio = np.asarray(sparse) / dense
    if ratio[0] >= 1:
        return f"< {densities[0]}"
    for k in range(1, len(densities)):
        if ratio[k] >= 1:
            d0, d1 = densities[k - 1], densities[k]
            r0, r1 = ratio[k - 1], ratio[k]
            return f"{d0 + (1 - r0) * (d1 - d0) / (r1 - r0):.3f}"
    return f"> {densities[-1]}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument(
        "--calibrate", action="store_true", help="print the crossover densities"
    )
    args = parser.parse_args(argv)
    if not _kernels.numba_available():
        raise SystemExit("numba is not installed: no sparse layers to time")
    rng = np.random.default_rng(0)
    dtype = np.dtype(args.dtype)
    print(environment())
    print(versions())
    print(
        f"minibatch {args.batch}, {dtype}; minimum of {args.repeats} alternating "
        "calls; sparse / dense time of one step's products\n"
    )
    rows, summary = [], []
    for fan_in, fan_out, first in SHAPES:
        dense, sparse = measure(
            fan_in, fan_out, first, args.batch, dtype, args.repeats, rng
        )
        name = f"{fan_in}x{fan_out}" + (" (input)" if first else "")
        rows.append([name, f"{dense * 1e6:.0f}"] + [f"{s / dense:.2f}" for s in sparse])
        pays = [
            _kernels.sparse_pays((fan_in, fan_out), int(density * fan_in * fan_out))
            for density in DENSITIES
        ]
        summary.append(
            [
                name,
                crossover(DENSITIES, dense, sparse),
                " ".join("S" if p else "." for p in pays),
            ]
        )
    print(
        markdown_table(
            ["layer", "dense (us)"] + [f"d={d}" for d in DENSITIES],
            rows,
        )
    )
    if args.calibrate:
        print(
            f"\nsparse_pays (SPARSE_DENSITY = {_kernels.SPARSE_DENSITY}, "
            f"SMALL_SPARSE_DENSITY = {_kernels.SMALL_SPARSE_DENSITY} below "
            f"{_kernels.SMALL_LAYER_WEIGHTS} weights): S where it chooses the "
            "sparse products, at the densities above\n"
        )
        print(markdown_table(["layer", "measured crossover", "chosen"], summary))


if __name__ == "__main__":
    main()
