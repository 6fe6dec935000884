"""
=========================================
Pruning an MLPClassifier you already have
=========================================

:meth:`PrunedMLPClassifier.from_mlp <skprune.PrunedMLPClassifier.from_mlp>` takes
a fitted scikit-learn :class:`~sklearn.neural_network.MLPClassifier` and returns a
:class:`~skprune.PrunedMLPClassifier` with the same weights and hyperparameters,
and ``warm_start=True``. It predicts as the original does; its next ``fit``
prunes the trained network along the schedule and fine-tunes it, within
``max_iter`` more epochs.
"""

import pickle
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier
from skprune.plot import plot_loss_curve

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
# The dense network, trained as usual.
mlp = MLPClassifier(hidden_layer_sizes=(100,), max_iter=100, random_state=0)
mlp.fit(X_train, y_train)

# %%
# Convert it, then prune 90% of the weights with 40 more epochs of training.
clf = PrunedMLPClassifier.from_mlp(mlp, sparsity=0.9, max_iter=40)
print("before fit: sparsity_ =", clf.sparsity_)
print("same predictions as mlp:", (clf.predict(X_test) == mlp.predict(X_test)).mean())
clf.fit(X_train, y_train)


def kib(model):
    return len(pickle.dumps(model)) / 1024


print(f"{'':>22}{'accuracy':>10}{'sparsity':>10}{'pickle KiB':>12}")
for name, model in [("MLPClassifier", mlp), ("after from_mlp + fit", clf)]:
    print(
        f"{name:>22}{model.score(X_test, y_test):>10.3f}"
        f"{getattr(model, 'sparsity_', 0.0):>10.3f}{kib(model):>12.1f}"
    )

# %%
# The loss curve continues the dense training (``loss_curve_`` and the
# iterations of ``pruning_history_`` carry on from the MLPClassifier's), then
# shows the pruning rounds of the second ``fit``. The MLPClassifier's Adam
# moments are not carried over: the optimizer starts afresh.
fig, ax = plt.subplots(figsize=(7, 4))
plot_loss_curve(clf, ax=ax)
ax.axvline(mlp.n_iter_, color="black", linewidth=1, label="end of dense training")
ax.legend()
ax.set_yscale("log")
ax.set_title("Dense training, then pruning and fine-tuning")
plt.show()
