"""skprune.plot: each function renders to PNG and draws what it claims."""

import importlib
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier, PrunedMLPRegressor


def test_import_without_matplotlib_names_the_extra(monkeypatch):
    # None in sys.modules makes "import matplotlib" raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "skprune.plot", raising=False)
    with pytest.raises(ImportError, match=r'pip install "skprune\[plot\]"'):
        importlib.import_module("skprune.plot")


@pytest.fixture
def plt():
    """pyplot on the Agg backend; figures are closed after each test."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def plotting():
    """The module under test (the ``plt`` fixture has checked for matplotlib)."""
    return importlib.import_module("skprune.plot")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def fit(X, y, estimator=PrunedMLPClassifier, **params):
    params = {
        "hidden_layer_sizes": (20,),
        "sparsity": 0.9,  # a fixed target: every round is recorded
        "max_iter": 20,
        "random_state": 0,
        **params,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator(**params).fit(X, y)


def fit_regressor(X, y, **params):
    """A regressor on the digits pixels: the digit's value, and a second output."""
    Y = np.column_stack([y, X.mean(axis=1)]) if params.pop("two", False) else y
    return fit(X, Y.astype(float), PrunedMLPRegressor, **params)


def render(fig, tmp_path):
    """Draw to a PNG file; return its path after checking it is a real image."""
    path = tmp_path / "figure.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 1000
    return path


# -- plot_sparsity_tradeoff ------------------------------------------------------


def test_tradeoff_draws_each_curve_the_dense_line_and_the_baseline(tmp_path, plt):
    s = [0.5, 0.9, 0.95]
    results = {
        "magnitude": (s, [0.97, 0.96, 0.94]),
        "obd": (s, ([0.97, 0.95, 0.93], [0.01, 0.01, 0.02])),
    }
    ax = plotting().plot_sparsity_tradeoff(
        results, dense_score=0.975, baseline=(s, [0.95, 0.85, 0.7])
    )
    render(ax.figure, tmp_path)
    assert ax.get_xlabel() == "sparsity (fraction of weights removed)"
    assert ax.get_ylabel() == "accuracy"
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {
        "magnitude",
        "obd",
        "random pruning (baseline)",
        "dense (no pruning)",
    }
    np.testing.assert_allclose(lines["obd"].get_ydata(), [0.97, 0.95, 0.93])
    # The dense score is a horizontal line; the baseline is drawn distinctly.
    np.testing.assert_allclose(lines["dense (no pruning)"].get_ydata(), [0.975] * 2)
    baseline = lines["random pruning (baseline)"]
    assert baseline.get_linestyle() == "--"
    assert baseline.get_color() != lines["magnitude"].get_color()
    # (mean, std) scores get a band: one filled area, for "obd" only.
    assert len(ax.collections) == 1
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "random pruning (baseline)" in legend


def test_tradeoff_sorts_points_by_sparsity_and_uses_given_axes(plt):
    fig, (left, right) = plt.subplots(1, 2)
    ax = plotting().plot_sparsity_tradeoff({"a": ([0.9, 0.5], [0.8, 0.9])}, ax=right)
    assert ax is right
    assert not left.get_lines()
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [0.5, 0.9])
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.9, 0.8])


@pytest.mark.parametrize(
    "results, match",
    [
        ({"a": ([0.5, 0.9], [0.9])}, "2 sparsities but 1 scores"),
        ({"a": 0.9}, "must be a pair"),
        ({"a": ([0.5], np.zeros((3, 1)))}, "shape"),
    ],
)
def test_tradeoff_rejects_malformed_results(results, match, plt):
    with pytest.raises(ValueError, match=match):
        plotting().plot_sparsity_tradeoff(results)


# -- plot_layer_sparsity ---------------------------------------------------------


@pytest.mark.parametrize("hidden", [(20,), (20, 10)])
def test_layer_sparsity_has_one_bar_per_layer(digits, tmp_path, hidden, plt):
    X, y = digits
    clf = fit(X, y, hidden_layer_sizes=hidden, sparsity=0.8)
    ax = plotting().plot_layer_sparsity(clf)
    render(ax.figure, tmp_path)
    heights = [bar.get_height() for bar in ax.patches]
    assert len(heights) == len(hidden) + 1 == len(clf.layer_sparsity_)
    np.testing.assert_allclose(heights, clf.layer_sparsity_)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0].startswith("input") and ticks[-1].endswith("output")
    assert ax.get_ylabel() == "sparsity (fraction of weights removed)"
    (overall,) = ax.get_lines()
    np.testing.assert_allclose(overall.get_ydata(), [clf.sparsity_] * 2)


def test_layer_sparsity_accepts_a_pipeline(digits, plt):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), PrunedMLPClassifier((10,), max_iter=5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y)
    assert len(plotting().plot_layer_sparsity(pipe).patches) == 2


def test_plots_require_a_fitted_estimator(plt):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        plotting().plot_layer_sparsity(PrunedMLPClassifier())


def test_plots_name_the_estimator_they_need(digits, plt):
    from sklearn.neural_network import MLPClassifier

    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(StandardScaler(), MLPClassifier((5,), max_iter=2)).fit(
            X, y
        )
    message = "PrunedMLPClassifier or PrunedMLPRegressor, or a Pipeline ending"
    with pytest.raises(TypeError, match=message):
        plotting().plot_layer_sparsity(pipe)


# -- plot_loss_curve -------------------------------------------------------------


@pytest.mark.parametrize("schedule", ["gradual", "iterative", "oneshot"])
def test_loss_curve_marks_every_pruning_round(digits, tmp_path, schedule, plt):
    X, y = digits
    clf = fit(X, y, pruning_schedule=schedule, pruning_steps=4)
    ax = plotting().plot_loss_curve(clf)
    render(ax.figure, tmp_path)
    curve, *rounds = ax.get_lines()
    np.testing.assert_allclose(curve.get_ydata(), clf.loss_curve_)
    np.testing.assert_array_equal(curve.get_xdata(), np.arange(1, clf.n_iter_ + 1))
    iterations = [r["iteration"] for r in clf.pruning_history_ if r["accepted"]]
    assert len(rounds) == len(iterations) == (1 if schedule == "oneshot" else 4)
    # Vertical lines, at the recorded iterations.
    assert [line.get_xdata()[0] for line in rounds] == iterations
    assert all(line.get_xdata()[0] == line.get_xdata()[1] for line in rounds)
    assert ax.get_xlabel() == "iteration"
    assert ax.get_ylabel() == "loss"


def test_loss_curve_greedy_marks_accepted_rounds_once_per_iteration(digits, plt):
    X, y = digits
    clf = fit(X, y, pruning_schedule="greedy", sparsity=0.8, max_iter=15)
    history = clf.pruning_history_
    assert history, "the greedy search should have tried at least one candidate"
    ax = plotting().plot_loss_curve(clf)
    marked = [line.get_xdata()[0] for line in ax.get_lines()[1:]]
    assert marked == sorted({r["iteration"] for r in history if r["accepted"]})


def test_loss_curve_lbfgs_places_segments_at_their_last_iteration(digits, plt):
    X, y = digits
    clf = fit(X, y, solver="lbfgs", pruning_steps=3, max_iter=30)
    assert len(clf.loss_curve_) < clf.n_iter_  # one entry per L-BFGS segment
    ax = plotting().plot_loss_curve(clf)
    curve, *rounds = ax.get_lines()
    assert len(curve.get_xdata()) == len(clf.loss_curve_)
    assert curve.get_xdata()[-1] == clf.n_iter_
    assert len(rounds) == 3


def test_loss_curve_lbfgs_after_a_warm_start_keeps_its_rounds(digits, plt):
    X, y = digits
    clf = fit(X, y, solver="lbfgs", pruning_steps=3, max_iter=30, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.set_params(sparsity=0.95).fit(X, y)
    ax = plotting().plot_loss_curve(clf)
    curve, *rounds = ax.get_lines()
    assert ax.get_xlabel() == "iteration"
    assert len(curve.get_xdata()) == len(clf.loss_curve_)
    assert len(rounds) == len({r["iteration"] for r in clf.pruning_history_}) == 6


def test_loss_curve_of_a_dense_fit_has_no_round(digits, plt):
    X, y = digits
    ax = plotting().plot_loss_curve(fit(X, y, sparsity=0.0, max_iter=5))
    assert len(ax.get_lines()) == 1


# -- plot_input_mask -------------------------------------------------------------


def test_input_mask_shows_one_image_per_unit_with_pruned_weights_at_zero(
    digits, tmp_path, plt
):
    X, y = digits
    clf = fit(X, y, sparsity=0.9)
    fig = plotting().plot_input_mask(clf, image_shape=(8, 8), n_units=9)
    render(fig, tmp_path)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 9
    weights = clf.coefs_[0]
    for j, im in enumerate(images):
        data = np.asarray(im.get_array())
        assert data.shape == (8, 8)
        np.testing.assert_array_equal(data.ravel(), weights[:, j])
        # Zero sits in the middle of the colour scale.
        vmin, vmax = im.get_clim()
        assert vmin == -vmax
    # Most first-layer weights were pruned: most pixels are exact zeros.
    shown = np.concatenate([np.asarray(im.get_array()).ravel() for im in images])
    assert np.mean(shown == 0) > 0.8


def test_input_mask_caps_units_and_draws_into_a_given_figure(digits, plt):
    X, y = digits
    clf = fit(X, y, hidden_layer_sizes=(6,), sparsity=0.5)
    fig = plt.figure()
    out = plotting().plot_input_mask(clf, image_shape=(8, 8), n_units=50, fig=fig)
    assert out is fig
    n_images = sum(len(ax.get_images()) for ax in fig.axes)
    assert n_images == clf.hidden_layer_sizes_[0] <= 6


def test_input_mask_rejects_a_wrong_image_shape(digits, plt):
    X, y = digits
    clf = fit(X, y, max_iter=2)
    with pytest.raises(ValueError, match="64 features"):
        plotting().plot_input_mask(clf, image_shape=(7, 7))


# -- a fitted PrunedMLPRegressor, wherever a classifier goes ---------------------


def test_tradeoff_labels_its_scores_as_asked(plt):
    ax = plotting().plot_sparsity_tradeoff(
        {"magnitude": ([0.5, 0.9], [0.8, 0.7])},
        dense_score=0.82,
        score_label=plotting().R2_LABEL,
    )
    assert ax.get_ylabel() == "R²"


@pytest.mark.parametrize("loss, two", [("squared_error", False), ("poisson", True)])
def test_regressor_layer_sparsity_and_loss_curve(digits, tmp_path, loss, two, plt):
    X, y = digits
    reg = fit_regressor(X, y, loss=loss, two=two, sparsity=0.8, pruning_steps=3)
    ax = plotting().plot_layer_sparsity(reg)
    render(ax.figure, tmp_path)
    np.testing.assert_allclose(
        [b.get_height() for b in ax.patches], reg.layer_sparsity_
    )
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "hidden → output"
    ax = plotting().plot_loss_curve(reg)
    render(ax.figure, tmp_path)
    curve, *rounds = ax.get_lines()
    np.testing.assert_allclose(curve.get_ydata(), reg.loss_curve_)
    assert len(rounds) == 3
    assert ax.get_ylabel() == "loss"


def test_regressor_lbfgs_loss_curve_in_a_pipeline(digits, plt):
    X, y = digits
    pipe = make_pipeline(
        StandardScaler(),
        PrunedMLPRegressor(
            hidden_layer_sizes=(10,),
            solver="lbfgs",
            sparsity=0.9,
            pruning_steps=3,
            max_iter=30,
            random_state=0,
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X[:400], y[:400].astype(float))
    ax = plotting().plot_loss_curve(pipe)
    curve, *rounds = ax.get_lines()
    assert curve.get_xdata()[-1] == pipe[-1].n_iter_
    assert len(rounds) == 3
    assert len(plotting().plot_layer_sparsity(pipe).patches) == 2


def test_regressor_input_mask(digits, tmp_path, plt):
    X, y = digits
    # One output: at 0.9 its 20 weights keep 2 and only 2 hidden units stay.
    reg = fit_regressor(X, y, sparsity=0.7)
    assert reg.hidden_layer_sizes_[0] >= 4
    fig = plotting().plot_input_mask(reg, image_shape=(8, 8), n_units=4)
    render(fig, tmp_path)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 4
    np.testing.assert_array_equal(images[0].get_array().ravel(), reg.coefs_[0][:, 0])


def test_plots_require_a_fitted_regressor(plt):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        plotting().plot_loss_curve(PrunedMLPRegressor())
