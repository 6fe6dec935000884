"""GridSearchCV over pruning settings on a dask.distributed cluster."""

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    "ignore::DeprecationWarning",
    "ignore::ResourceWarning",
)


def test_search_on_a_local_cluster_equals_the_serial_search():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:400]
    y = y[:400]
    grid = {
        "sparsity": [0.5, 0.9],
        "pruning": ["magnitude", "random"],
        "pruning_schedule": ["gradual", "oneshot"],
    }
    estimator = PrunedMLPClassifier((16,), max_iter=8, random_state=0)
    serial = GridSearchCV(estimator, grid, cv=2, n_jobs=1).fit(X, y)

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster),
    ):
        with joblib.parallel_backend("dask"):
            on_dask = GridSearchCV(estimator, grid, cv=2, n_jobs=-1).fit(X, y)

    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(on_dask.cv_results_[key], serial.cv_results_[key])
    assert on_dask.best_params_ == serial.best_params_
    np.testing.assert_array_equal(
        on_dask.best_estimator_.predict_proba(X),
        serial.best_estimator_.predict_proba(X),
    )
