"""scikit-learn's estimator contract, on several configurations with pruning on."""

import pytest
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_inplace_ensure_writeable,
    check_param_validation,
    parametrize_with_checks,
)

from skprune import PrunedMLPClassifier, PrunedMLPRegressor

ESTIMATORS = [
    PrunedMLPClassifier(),  # the default, sparsity=0.3
    PrunedMLPClassifier(sparsity="auto", dtype="float64"),  # search and refit
    PrunedMLPClassifier(sparsity=0.9),  # a fixed target
    PrunedMLPClassifier(sparsity=0),
    PrunedMLPClassifier(solver="sgd"),
    PrunedMLPClassifier(solver="lbfgs"),
    PrunedMLPClassifier(dtype="float64"),
    PrunedMLPClassifier(solver="lbfgs", dtype="float64"),
    PrunedMLPRegressor(),
    PrunedMLPRegressor(sparsity=0.9),
    PrunedMLPRegressor(sparsity=0),
    PrunedMLPRegressor(solver="sgd", granularity="neuron", sparsity=0.5),
    PrunedMLPRegressor(solver="lbfgs", dtype="float64"),
    PrunedMLPRegressor(loss="poisson", sparsity=0.5, pruning_schedule="iterative"),
]

_FLOAT32_SAMPLE_WEIGHT = (
    "Weighting a sample by k and repeating it k times are the same model, but in "
    "float32 the two sums are rounded in a different order: the probabilities "
    "agree to about 2e-7, just above the check's rtol=1e-7. The float64 "
    "configurations pass this check, and tests/test_mlp.py checks float32 to 1e-5."
)


_POISSON_SCORE = (
    "The check wants R² > 0.5 after 200 epochs on its target shifted to [1, 8]; "
    "with the Poisson loss and an exponential output neither this network nor "
    "MLPRegressor(loss='poisson') gets there (R² 0.38 for both at sparsity=0, "
    "0.25 at 0.5). Poisson fits and predicts correctly otherwise: see "
    "tests/test_regressor.py."
)


def _expected_failed_checks(estimator):
    if getattr(estimator, "loss", None) == "poisson":
        return {
            "check_regressors_train": _POISSON_SCORE,
            "check_sample_weight_equivalence_on_dense_data": _FLOAT32_SAMPLE_WEIGHT,
            "check_sample_weight_equivalence_on_sparse_data": _FLOAT32_SAMPLE_WEIGHT,
        }
    if estimator.dtype == "float32":
        return {
            "check_sample_weight_equivalence_on_dense_data": _FLOAT32_SAMPLE_WEIGHT,
            "check_sample_weight_equivalence_on_sparse_data": _FLOAT32_SAMPLE_WEIGHT,
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "check",
    [
        check_param_validation,
        check_dataframe_column_names_consistency,
        check_inplace_ensure_writeable,
    ],
)
@pytest.mark.parametrize("Estimator", [PrunedMLPClassifier, PrunedMLPRegressor])
def test_extra_checks(check, Estimator):
    check(Estimator.__name__, Estimator(max_iter=20))
