"""
==============================================
Choosing the sparsity by cross-validation
==============================================

The pruning settings of :class:`~skprune.PrunedMLPClassifier` are ordinary
hyperparameters (numbers and strings), so
:class:`~sklearn.model_selection.GridSearchCV` can search them like any other,
inside a :class:`~sklearn.pipeline.Pipeline`.

The most accurate setting is often not the one you want: a much sparser model may
score almost the same. Following scikit-learn's "Balance model complexity and
cross-validated score" example, the search below refits the *sparsest* setting
whose mean score is within one standard deviation of the best one.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier
from skprune.plot import plot_sparsity_tradeoff

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

pipe = make_pipeline(
    StandardScaler(),
    PrunedMLPClassifier(hidden_layer_sizes=(64,), max_iter=60, random_state=0),
)
param_grid = {
    "prunedmlpclassifier__sparsity": [0.5, 0.8, 0.9, 0.95, 0.98],
    "prunedmlpclassifier__pruning": ["magnitude", "random"],
}


# %%
# The refit rule: among the settings within one standard deviation of the best
# mean score, take the sparsest (for equal sparsity, the better score).
def sparsest_within_one_std(cv_results):
    mean = cv_results["mean_test_score"]
    std = cv_results["std_test_score"]
    best = np.argmax(mean)
    good = np.flatnonzero(mean >= mean[best] - std[best])
    sparsity = np.asarray(cv_results["param_prunedmlpclassifier__sparsity"], float)
    return good[np.lexsort((-mean[good], -sparsity[good]))[0]]


search = GridSearchCV(
    pipe,
    param_grid,
    cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
    refit=sparsest_within_one_std,
)
search.fit(X_train, y_train)

# %%
# Results
# -------
results = search.cv_results_
best = np.argmax(results["mean_test_score"])
print("most accurate:", results["params"][best])
print("chosen:       ", search.best_params_)
clf = search.best_estimator_[-1]
print(
    f"chosen model: test accuracy {search.score(X_test, y_test):.3f}, "
    f"sparsity_ {clf.sparsity_:.3f}, hidden units {clf.hidden_layer_sizes_}"
)

# %%
# Mean and standard deviation over the folds, for each criterion. The x axis
# shows the *target* sparsity, the parameter searched.
curves = {}
for pruning in param_grid["prunedmlpclassifier__pruning"]:
    rows = np.flatnonzero(results["param_prunedmlpclassifier__pruning"] == pruning)
    sparsity = np.asarray(results["param_prunedmlpclassifier__sparsity"][rows], float)
    curves[pruning] = (
        sparsity,
        (results["mean_test_score"][rows], results["std_test_score"][rows]),
    )
fig, ax = plt.subplots(figsize=(7, 4.5))
plot_sparsity_tradeoff(
    {"magnitude": curves["magnitude"]}, baseline=curves["random"], ax=ax
)
ax.set_xlabel("target sparsity (parameter searched)")
ax.set_ylabel("cross-validated accuracy")
ax.set_title("3-fold cross-validation on the digits training split")
plt.show()
