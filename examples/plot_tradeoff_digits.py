"""
============================================
Accuracy against sparsity on the digits data
============================================

How much of a network can be removed before it gets worse? This example trains
scikit-learn's dense :class:`~sklearn.neural_network.MLPClassifier` and
:class:`~skprune.PrunedMLPClassifier` at increasing sparsity, on the 8x8 digits
images bundled with scikit-learn, and plots test accuracy against the fraction of
weights removed.

Two pruning criteria are compared: ``"magnitude"`` (remove the smallest weights,
Han et al. 2015) and ``"random"``, the baseline that any criterion has to beat to
show it does more than shrink the network (Blalock et al. 2020).
"""

# %%
# Data
# ----
# A stratified split, standardized on the training part.
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier
from skprune.plot import plot_sparsity_tradeoff

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
# Dense reference and pruned networks
# -----------------------------------
# Every network has one hidden layer of 100 units and the same training budget
# (``max_iter``). The pruned ones prune gradually while they train (the default
# ``pruning_schedule="gradual"``), so training often runs the whole budget; the
# :class:`~sklearn.exceptions.ConvergenceWarning` that says so is silenced here.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
params = dict(hidden_layer_sizes=(100,), max_iter=100, random_state=0)

dense = MLPClassifier(**params).fit(X_train, y_train)
dense_score = dense.score(X_test, y_test)

sparsities = [0.5, 0.7, 0.8, 0.9, 0.95, 0.98]
results = {}
for pruning in ["magnitude", "random"]:
    achieved, scores = [], []
    for sparsity in sparsities:
        clf = PrunedMLPClassifier(**params, sparsity=sparsity, pruning=pruning)
        clf.fit(X_train, y_train)
        achieved.append(clf.sparsity_)
        scores.append(clf.score(X_test, y_test))
    results[pruning] = (achieved, scores)

# %%
# ``sparsity_`` is what was reached over *all* the weights of the dense network.
# It equals the target: under the default ``pruning_scope="layer"`` every layer
# loses the same share of its weights.
for target, reached in zip(sparsities, results["magnitude"][0]):
    print(f"target {target:.2f} -> sparsity_ {reached:.3f}")

# %%
# The trade-off
# -------------
# The dotted line is the dense network; the grey dashed line is random pruning.
fig, ax = plt.subplots(figsize=(7, 4.5))
plot_sparsity_tradeoff(
    {"magnitude pruning": results["magnitude"]},
    dense_score=dense_score,
    baseline=results["random"],
    ax=ax,
)
ax.set_title("Digits: test accuracy against sparsity")
plt.show()

# %%
# One split and one seed give a noisy picture: to compare settings, repeat over
# seeds or use cross-validation, as in
# :ref:`sphx_glr_auto_examples_plot_grid_search.py`.
