"""
======================================
Feature selection with SelectFromModel
======================================

Pruning the first layer removes connections from the inputs; when every weight of
an input is gone, the network no longer reads that feature at all, and its entry
in ``feature_importances_`` is exactly zero. That makes
:class:`~skprune.PrunedMLPClassifier` usable with scikit-learn's
:class:`~sklearn.feature_selection.SelectFromModel`.

``feature_importances_`` sums, for each input, the absolute weight products over
all its paths to the outputs, normalised to sum to one.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)

# %%
# A strongly pruned network as the selector
# -----------------------------------------
# ``pruning_scope="global"`` ranks all weights together, so the first layer can
# lose more than the others when its weights matter less.
selector_net = PrunedMLPClassifier(
    hidden_layer_sizes=(32,),
    sparsity=0.97,
    pruning_scope="global",
    max_iter=100,
    random_state=0,
)
scaled = StandardScaler().fit_transform(X)
selector_net.fit(scaled, y)
importances = selector_net.feature_importances_
print("layer sparsity:", np.round(selector_net.layer_sparsity_, 3))
print("pixels with exactly zero importance:", int(np.sum(importances == 0)))

fig, ax = plt.subplots(figsize=(4, 4))
image = ax.imshow(importances.reshape(8, 8), cmap="viridis")
ax.set_title("feature_importances_ (8x8 pixels)")
ax.set_xticks([])
ax.set_yticks([])
fig.colorbar(image, ax=ax, shrink=0.8)
plt.show()

# %%
# Selecting features in a pipeline
# --------------------------------
# ``threshold=1e-12`` keeps exactly the pixels the pruned network still reads;
# SelectFromModel's default (``"mean"``) would keep only the above-average ones.
# A logistic regression on the selected pixels is compared with one on all 64.
select = SelectFromModel(selector_net, threshold=1e-12)
with_selection = make_pipeline(
    StandardScaler(), select, LogisticRegression(max_iter=2000)
)
all_pixels = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))

n_kept = with_selection.fit(X, y)[1].get_support().sum()
print(f"pixels kept by SelectFromModel: {n_kept} of 64")
for name, model in [("selected pixels", with_selection), ("all pixels", all_pixels)]:
    scores = cross_val_score(model, X, y, cv=3)
    print(f"{name:>15}: accuracy {scores.mean():.3f} +- {scores.std():.3f}")

# %%
# ``max_features`` gives a fixed budget instead: the highest-ranked pixels.
top = SelectFromModel(selector_net, threshold=-np.inf, max_features=16, prefit=True)
mask = top.get_support().reshape(8, 8)
fig, ax = plt.subplots(figsize=(3.5, 3.5))
ax.imshow(mask, cmap="Greys")
ax.set_title("16 most important pixels")
ax.set_xticks([])
ax.set_yticks([])
plt.show()
