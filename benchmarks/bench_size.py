"""Stored size of pruned networks against MLPClassifier.

The 784-300-100-10 networks of ``_common.NETWORKS`` (synthetic data): bytes of
``pickle.dumps``, joblib and a deflate-compressed skops file, and the ratio to
MLPClassifier's pickle (which also holds its Adam moments).

    python benchmarks/bench_size.py
"""

import argparse
import io
import pickle
import zipfile

import joblib
from _common import environment, markdown_table, train_networks, versions


def skops_bytes(model):
    """Size of a compressed skops file (as the docs recommend), or None."""
    try:
        import skops.io as sio
    except ImportError:
        return None
    return len(sio.dumps(model, compression=zipfile.ZIP_DEFLATED))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    models, _, _ = train_networks(epochs=args.epochs)

    print(environment())
    print(versions())
    print()
    ref = len(pickle.dumps(models["MLPClassifier"]))
    rows = []
    for label, model in models.items():
        size = len(pickle.dumps(model))
        joblib_buffer = io.BytesIO()
        joblib.dump(model, joblib_buffer)
        sk = skops_bytes(model)
        stored = (
            sum(c.size for c in model.coefs_)
            if label == "MLPClassifier"
            else sum(c.nnz for c in model.sparse_coefs_)
        )
        rows.append(
            [
                label,
                f"{getattr(model, 'sparsity_', 0.0):.3f}",
                stored,
                f"{size / 1024:.1f}",
                f"{ref / size:.1f}x",
                f"{len(joblib_buffer.getvalue()) / 1024:.1f}",
                "n/a" if sk is None else f"{sk / 1024:.1f}",
            ]
        )
    print(
        markdown_table(
            [
                "model",
                "achieved sparsity",
                "stored weights",
                "pickle (KiB)",
                "smaller than MLPClassifier",
                "joblib (KiB)",
                "skops, deflated (KiB)",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
