"""scikit-learn's callback API (sklearn.callback, 1.9 and later) on a pruned fit."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skprune import PrunedMLPClassifier, PrunedMLPRegressor

callback = pytest.importorskip("sklearn.callback")


def _monitor_rows(monitor):
    logs = monitor.get_logs(select="all")
    logs = logs if isinstance(logs, list) else [logs]
    return [row for log in logs for row in log.data]


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_scoring_monitor_scores_every_epoch_of_the_pruned_model(solver, iris):
    X, y = iris
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = PrunedMLPClassifier(
        (16,), solver=solver, max_iter=12, sparsity=0.8, random_state=0
    ).set_callbacks(monitor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    rows = _monitor_rows(monitor)
    assert [r["task_id"] for r in rows] == list(range(clf.n_iter_))
    assert all(r["task_name"] == "epoch" for r in rows)
    # The last epoch's score is the fitted model's.
    assert rows[-1]["accuracy"] == pytest.approx(clf.score(X, y))
    # The schedule pruned during the fit, and the scores saw the pruned models.
    assert clf.sparsity_ > 0.5


def test_callbacks_do_not_change_the_fit(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(16,), max_iter=10, random_state=0)
    plain = PrunedMLPClassifier(**params).fit(X, y)
    watched = PrunedMLPClassifier(**params).set_callbacks(
        callback.ScoringMonitor(scoring="accuracy")
    )
    watched.fit(X, y)
    for a, b in zip(plain.coefs_, watched.coefs_):
        np.testing.assert_array_equal(a, b)
    assert plain.loss_curve_ == watched.loss_curve_


def test_progress_bar_over_a_fit_and_a_grid_search(iris, capsys):
    pytest.importorskip("rich")
    X, y = iris
    clf = PrunedMLPClassifier((8,), max_iter=4, random_state=0)
    clf.set_callbacks(callback.ProgressBar()).fit(X, y)
    search = GridSearchCV(
        PrunedMLPClassifier((8,), max_iter=3, random_state=0),
        {"sparsity": [0.5, 0.8]},
        cv=2,
    ).set_callbacks(callback.ProgressBar(max_propagation_depth=None))
    search.fit(X, y)
    out = capsys.readouterr().out
    assert "PrunedMLPClassifier - fit" in out
    assert "GridSearchCV" in out


def test_a_monitor_on_the_searched_estimator_scores_each_pruned_fit(diabetes):
    X, y = diabetes
    monitor = callback.ScoringMonitor(scoring="r2")
    search = GridSearchCV(
        PrunedMLPRegressor(
            hidden_layer_sizes=(8,), max_iter=3, random_state=0
        ).set_callbacks(monitor),
        {"sparsity": [0.5, 0.8]},
        cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    rows = _monitor_rows(monitor)
    epochs = [r for r in rows if r["task_name"] == "epoch"]
    # 2 candidates x 2 folds + the refit, 3 epochs each.
    assert len(epochs) == 5 * 3
    assert all(np.isfinite(r["r2"]) for r in epochs)


def test_a_failed_fit_tears_the_callbacks_down(iris):
    X, y = iris
    clf = PrunedMLPClassifier((8,), max_iter=3, random_state=0)
    clf.set_callbacks(callback.ScoringMonitor(scoring="accuracy"))
    with pytest.raises(ValueError):  # diverges during training
        clf.set_params(learning_rate_init=1e30).fit(X, y)
    assert not hasattr(clf, "_callback_fit_ctx")
    assert not hasattr(clf, "coefs_")  # and the model was left unfitted
    clf.set_params(learning_rate_init=1e-3).fit(X, y)  # the next fit runs them
    assert not hasattr(clf, "_callback_fit_ctx")


def test_pickle_leaves_callbacks_behind(iris):
    import pickle

    X, y = iris
    clf = PrunedMLPClassifier((8,), max_iter=3, random_state=0)
    clf.set_callbacks(callback.ScoringMonitor(scoring="accuracy")).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert not hasattr(restored, "_skl_callbacks")
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


@pytest.mark.parametrize("params", [{"early_stopping": True}, {"sparsity": "auto"}])
def test_monitor_with_held_out_data(diabetes, params):
    X, y = diabetes
    monitor = callback.ScoringMonitor(scoring="r2")
    reg = PrunedMLPRegressor(
        hidden_layer_sizes=(8,), max_iter=8, random_state=0, **params
    ).set_callbacks(monitor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    rows = _monitor_rows(monitor)
    assert len(rows) == reg.n_iter_ and all(np.isfinite(r["r2"]) for r in rows)


def test_monitor_on_a_refit_with_other_data(iris):
    X, y = iris
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = PrunedMLPClassifier((5,), max_iter=4, random_state=0).set_callbacks(monitor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        clf.set_params(hidden_layer_sizes=(7, 3)).fit(X[y > 0, :2], y[y > 0])
    assert clf.n_features_in_ == 2 and list(clf.classes_) == [1, 2]
    assert _monitor_rows(monitor)[-1]["accuracy"] == pytest.approx(
        clf.score(X[y > 0, :2], y[y > 0])
    )
