"""Digits test accuracy of a few pruning settings, to compare two checkouts.

Five seeded stratified 75/25 splits, standardized on the training part,
defaults except the settings listed. Run it once per checkout, e.g.::

    PYTHONPATH=/path/to/old/checkout python benchmarks/accuracy_before_after.py
    PYTHONPATH=. python benchmarks/accuracy_before_after.py
"""

import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skprune
from skprune import PrunedMLPClassifier

warnings.simplefilter("ignore")
X, y = load_digits(return_X_y=True)
out = []
for params in [
    dict(sparsity=0.3),
    dict(sparsity=0.9),
    dict(sparsity=0.98, pruning_scope="erk"),
    dict(granularity="neuron", sparsity=0.5),
    dict(granularity="neuron", sparsity=0.8),
]:
    accs = []
    for seed in range(5):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, random_state=seed, stratify=y
        )
        scaler = StandardScaler().fit(X_train)
        model = PrunedMLPClassifier(random_state=seed, **params)
        model.fit(scaler.transform(X_train), y_train)
        accs.append(model.score(scaler.transform(X_test), y_test))
    out.append(f"{params}: {100 * np.mean(accs):.2f} +- {100 * np.std(accs):.2f}")
print(skprune.__file__)
print("\n".join(out))
