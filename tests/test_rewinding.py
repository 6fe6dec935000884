"""Learning-rate rewinding (Renda et al. 2020) in the oneshot, iterative and
lottery schedules."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skprune import PrunedMLPClassifier
from skprune._optim.optimizers import SGD, Adam
from skprune._pruning import schedules

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16, y[:400]


def _sgd(schedule="iterative", **params):
    settings = dict(
        hidden_layer_sizes=(16,),
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=0.1,
        sparsity=0.8,
        pruning_schedule=schedule,
        pruning_steps=3,
        finetune_iter=4,
        max_iter=40,
        random_state=0,
    )
    return PrunedMLPClassifier(**{**settings, **params})


def test_invscaling_restarts_its_clock_at_the_rewind_point():
    params = [np.zeros(3)]
    opt = SGD(params, learning_rate_init=0.2, lr_schedule="invscaling", power_t=0.5)
    opt.iteration_ends(99)
    saved = opt.schedule_state(99)
    assert saved == {"learning_rate": pytest.approx(0.02), "time_step": 99}
    opt.iteration_ends(10_000)
    assert opt.rewind_schedule(saved, 10_000) == pytest.approx(0.02)
    assert opt.learning_rate == pytest.approx(0.02)
    opt.iteration_ends(10_000 + 125)  # 125 samples after the rewind point
    assert opt.learning_rate == pytest.approx(0.2 / (99 + 125 + 1) ** 0.5)
    # Recording again counts on the rewound clock.
    assert opt.schedule_state(10_125)["time_step"] == 99 + 125


def test_adaptive_takes_back_its_rate_and_constant_rates_stay():
    params = [np.zeros(3)]
    opt = SGD(params, learning_rate_init=0.1, lr_schedule="adaptive")
    saved = opt.schedule_state(0)
    opt.learning_rate /= 25
    assert opt.rewind_schedule(saved, 500) == pytest.approx(0.1)
    assert opt.learning_rate == pytest.approx(0.1)
    constant = SGD(params, learning_rate_init=0.1)
    assert constant.rewind_schedule({"learning_rate": 0.5, "time_step": 0}, 9) is None
    assert constant.learning_rate == 0.1
    adam = Adam(params, learning_rate_init=0.01)
    assert adam.rewind_schedule(adam.schedule_state(0), 9) is None
    assert adam.learning_rate == 0.01


@pytest.mark.parametrize("schedule", ["iterative", "oneshot", "lottery"])
def test_each_round_rewinds_to_the_recorded_schedule(data, schedule):
    X, y = data
    clf = _sgd(schedule).fit(X, y)
    plan = clf._state.plan
    # Recorded where the plan was laid out: the start of training.
    assert plan.learning_rate_rewind == {"learning_rate": 0.1, "time_step": 0}
    rounds = clf.pruning_history_
    assert rounds and all(r["learning_rate"] == 0.1 for r in rounds)
    # After the last round the clock counts from the rewind point again.
    since = clf.t_ - rounds[-1]["t"]
    opt = clf._state.optimizer
    assert opt.clock_offset == rounds[-1]["t"]
    assert opt.learning_rate == pytest.approx(0.1 / (since + 1) ** 0.5)


def test_rewinding_changes_the_invscaling_fit(data, monkeypatch):
    X, y = data
    rewound = _sgd().fit(X, y)
    monkeypatch.setattr(schedules.Iterative, "rewinds_learning_rate", False)
    finetuned = _sgd().fit(X, y)
    assert "learning_rate" not in finetuned.pruning_history_[0]
    # Without rewinding the rate stays where the clock has brought it.
    assert finetuned._state.optimizer.learning_rate == pytest.approx(
        0.1 / (finetuned.t_ + 1) ** 0.5
    )
    assert not np.allclose(rewound.predict_proba(X), finetuned.predict_proba(X))


@pytest.mark.parametrize(
    "params", [{"solver": "adam"}, {"solver": "sgd", "learning_rate": "constant"}]
)
def test_a_constant_rate_is_left_alone(data, monkeypatch, params):
    X, y = data
    on = _sgd().set_params(**params).fit(X, y)
    monkeypatch.setattr(schedules.Iterative, "rewinds_learning_rate", False)
    off = _sgd().set_params(**params).fit(X, y)
    assert "learning_rate" not in on.pruning_history_[0]
    for a, b in zip(on.coefs_, off.coefs_):
        np.testing.assert_array_equal(a, b)


def test_greedy_and_gradual_do_not_rewind():
    assert not schedules.Gradual.rewinds_learning_rate
    assert not schedules.Greedy.rewinds_learning_rate
    assert not schedules.RigL.rewinds_learning_rate


def test_the_rewind_point_goes_on_across_partial_fit_and_reloads(data):
    X, y = data
    clf = _sgd(max_iter=30)
    clf.partial_fit(X, y, classes=np.arange(10))
    saved = clf.__getstate__()["_pending_plan"]["learning_rate_rewind"]
    assert saved == {"learning_rate": 0.1, "time_step": 0}
    copy = pickle.loads(pickle.dumps(clf))
    for _ in range(3):
        copy.partial_fit(X, y)
    assert copy._state.plan.learning_rate_rewind == saved


@pytest.mark.parametrize(
    "bad",
    [
        {"learning_rate": "fast", "time_step": 0},
        {"learning_rate": float("nan"), "time_step": 0},
        {"learning_rate": 0.1, "time_step": -5},
        {"learning_rate": 0.1},
        [0.1, 0],
    ],
)
def test_a_stored_rewind_point_is_checked_on_load(data, bad):
    X, y = data
    clf = _sgd(max_iter=30)
    clf.partial_fit(X, y, classes=np.arange(10))
    state = clf.__getstate__()
    state["_pending_plan"]["learning_rate_rewind"] = bad
    with pytest.raises(ValueError, match="learning-rate rewind point"):
        PrunedMLPClassifier().__setstate__(state)
