"""
==============================================
First-layer weights of a pruned digits network
==============================================

Each hidden unit of the first layer has one weight per input pixel; drawn as an
8x8 image, those weights show which pixels the unit looks at, as in
scikit-learn's "Visualization of MLP weights on MNIST" example.

Here the same small network is trained twice on the digits data: dense
(``sparsity=0``) and with 90% of its weights removed. In the pruned one, every
pruned weight is an exact zero, drawn in the colour of zero, so each unit's mask
is visible at a glance.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skprune import PrunedMLPClassifier
from skprune.plot import plot_input_mask

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixel values in [0, 1]; no centering, so the images stay readable

params = dict(hidden_layer_sizes=(16,), max_iter=100, random_state=0)
dense = PrunedMLPClassifier(**params, sparsity=0.0).fit(X, y)
pruned = PrunedMLPClassifier(**params, sparsity=0.9).fit(X, y)

# %%
# The dense network: every pixel is connected to every unit.
fig = plot_input_mask(dense, image_shape=(8, 8), n_units=16)
fig.suptitle("Dense network (sparsity=0)")
plt.show()

# %%
# The pruned network. Units that lost all their outgoing weights were removed
# from the stored model (``hidden_layer_sizes_``), so there may be fewer than 16.
print("hidden units kept:", pruned.hidden_layer_sizes_)
print("first-layer weights kept:", pruned.sparse_coefs_[0].nnz, "of", 64 * 16)
fig = plot_input_mask(pruned, image_shape=(8, 8), n_units=16)
fig.suptitle("Pruned network (sparsity=0.9)")
plt.show()

# %%
# Which pixels does the pruned network still read at all? ``feature_importances_``
# is exactly zero for a pixel whose every weight was pruned. Next to it, the
# spread of each pixel over the data set: some pixels are blank in almost every
# image.
importances = pruned.feature_importances_.reshape(8, 8)
fig, (left, right) = plt.subplots(1, 2, figsize=(7, 3.5), layout="constrained")
left.imshow(importances > 0, cmap="Greys")
left.set_title(f"{(importances > 0).sum()} of 64 pixels still used")
right.imshow(X.std(axis=0).reshape(8, 8), cmap="Greys")
right.set_title("standard deviation of each pixel")
for ax in (left, right):
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()
