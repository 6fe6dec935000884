"""
=====================================
Following the pruning during training
=====================================

:class:`~skprune.PrunedMLPClassifier` records every pruning round in
``pruning_history_``. This example reads it back, draws the training loss with
the rounds marked (:func:`~skprune.plot.plot_loss_curve`) and the sparsity each
layer reached (:func:`~skprune.plot.plot_layer_sparsity`), and compares the
schedules that decide when pruning happens.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier
from skprune.plot import plot_layer_sparsity, plot_loss_curve

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)

clf = PrunedMLPClassifier(
    hidden_layer_sizes=(64, 32), sparsity=0.9, max_iter=80, random_state=0
)
clf.fit(X, y)

# %%
# The history
# -----------
# One record per round: when it happened (``iteration``, and ``t``, the number
# of samples seen), the round's target, the sparsity reached overall and per
# layer, and the training loss at that moment.
print("round  iteration  target  sparsity  layers                  loss")
for r in clf.pruning_history_:
    layers = " ".join(f"{s:.2f}" for s in r["layer_sparsity"])
    print(
        f"{r['round']:>5}  {r['iteration']:>9}  {r['target']:.3f}   "
        f"{r['sparsity']:.3f}     {layers:<22}  {r['loss']:.4f}"
    )

# %%
# The targets follow the cubic schedule of Zhu & Gupta (2017): large steps first,
# while the network still has many redundant weights, then smaller and smaller
# ones. Each round makes the loss jump a little; training recovers in between.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
plot_loss_curve(clf, ax=left)
left.set_title("Training loss, gradual schedule")
plot_layer_sparsity(clf, ax=right)
right.set_title("Sparsity reached in each layer")
plt.show()

# %%
# Under the default ``pruning_scope="layer"`` every layer reaches the target,
# so the overall ``sparsity_`` equals ``sparsity``.
#
# Comparing schedules
# -------------------
# ``"oneshot"`` trains, prunes once and fine-tunes; ``"iterative"`` prunes the
# same share of the remaining weights in each of ``pruning_steps`` rounds, with
# retraining in between; ``"lottery"`` does the same but rewinds the surviving
# weights to their early values after each round.
schedules = ["gradual", "oneshot", "iterative", "lottery"]
fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharey=True, layout="constrained")
for schedule, ax in zip(schedules, axes.ravel()):
    model = PrunedMLPClassifier(
        hidden_layer_sizes=(64, 32),
        sparsity=0.9,
        pruning_schedule=schedule,
        max_iter=80,
        random_state=0,
    ).fit(X, y)
    plot_loss_curve(model, ax=ax)
    ax.set_title(f"{schedule}: {len(model.pruning_history_)} round(s)")
plt.show()

# %%
# The search of ``sparsity="auto"``
# ---------------------------------
# ``sparsity="auto"`` searches on a held-out split for the sparsest network
# that keeps the held-out score, then trains that network on all the data. Its
# history starts with one record per step the search proposed (``"search":
# True``): the held-out score against the reference's, the paired change of
# the held-out samples' smoothed scores with its standard error, and whether
# the step was kept. The first step (``"start"``), to the default's sparsity,
# is judged against the dense network and kept unless it is shown to lose;
# the others are judged against it. The refit's rounds follow.
auto = PrunedMLPClassifier(
    hidden_layer_sizes=(64, 32), sparsity="auto", max_iter=80, random_state=0
).fit(X, y)
print("target  held-out score (reference)  change ± se          kept  first")
for r in auto.pruning_history_:
    if r.get("search"):
        print(
            f"{r['target']:.3f}   {r['validation_score']:.4f} "
            f"({r['reference_score']:.4f})            "
            f"{r['held_out_change']:+.4f} ± {r['held_out_change_se']:.4f}    "
            f"{r['accepted']!s:5} {r['start']}"
        )
refit = [r for r in auto.pruning_history_ if not r.get("search")]
print(f"refit: {len(refit)} rounds to sparsity_ = {auto.sparsity_:.3f}")
