"""Write ``pre_shrink.pkl``: models pickled by skprune before dead units were
removed during training (commit 4674d90), for ``tests/test_shrink.py``.

Run from a checkout of that commit::

    PYTHONPATH=<checkout> python tests/data/make_pre_shrink.py
"""

import pickle
import warnings
from pathlib import Path

from sklearn.datasets import load_digits

from skprune import PrunedMLPClassifier


def main():
    # Only when run: pytest's doctest collection imports this module, and a
    # write then would replace the old pickles with new ones.
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    y = y[:300]
    finished = PrunedMLPClassifier(
        hidden_layer_sizes=(20, 10),
        granularity="neuron",
        sparsity=0.6,
        max_iter=30,
        random_state=0,
    ).fit(X, y)
    pending = PrunedMLPClassifier(
        hidden_layer_sizes=(20, 10),
        granularity="neuron",
        sparsity=0.6,
        max_iter=20,
        random_state=0,
    )
    for _ in range(3):
        pending.partial_fit(X, y, classes=list(range(10)))
    payload = {
        "X": X[:20],
        "finished": finished,
        "finished_proba": finished.predict_proba(X[:20]),
        "pending": pending,
        "pending_proba": pending.predict_proba(X[:20]),
    }
    path = Path(__file__).with_name("pre_shrink.pkl")
    path.write_bytes(pickle.dumps(payload))
    print(path, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
