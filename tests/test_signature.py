"""The drop-in claim: MLPClassifier's / MLPRegressor's parameters, in their order,
with their defaults, then the pruning parameters; and their fitted attributes."""

import inspect

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skprune import PrunedMLPClassifier, PrunedMLPRegressor

PRUNING = [
    "sparsity",
    "pruning",
    "pruning_scope",
    "granularity",
    "pruning_schedule",
    "pruning_steps",
    "finetune_iter",
    "pruning_tol",
]
PAIRS = [
    (PrunedMLPClassifier, MLPClassifier, ["class_weight", "dtype"]),
    (PrunedMLPRegressor, MLPRegressor, ["dtype"]),
]


def _parameters(cls):
    return list(inspect.signature(cls.__init__).parameters.values())[1:]


@pytest.mark.parametrize("ours, theirs, own", PAIRS)
def test_same_parameters_order_defaults_and_kinds(ours, theirs, own):
    mine, reference = _parameters(ours), _parameters(theirs)
    n = len(reference)
    assert [p.name for p in mine[:n]] == [p.name for p in reference]
    for a, b in zip(mine[:n], reference):
        assert a.default == b.default, a.name
        assert a.kind == b.kind, a.name  # positional ones stay positional
    assert [p.name for p in mine[n:]] == PRUNING + own


@pytest.mark.parametrize("ours, theirs, own", PAIRS)
def test_parameter_constraints_are_scikit_learns(ours, theirs, own):
    for name, constraints in theirs._parameter_constraints.items():
        assert ours._parameter_constraints[name] is constraints, name


@pytest.mark.parametrize("ours, theirs, own", PAIRS)
def test_same_fitted_attributes(ours, theirs, own, iris, diabetes):
    X, y = iris if theirs is MLPClassifier else diabetes
    kwargs = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    with pytest.warns(Warning):
        reference = theirs(**kwargs).fit(X, y)
    with pytest.warns(Warning):
        fitted = ours(**kwargs, sparsity=0).fit(X, y)  # dense: same shapes
    public = [a for a in vars(reference) if a.endswith("_") and not a.startswith("_")]
    for name in public:
        assert hasattr(fitted, name), name
        mine, theirs_value = getattr(fitted, name), getattr(reference, name)
        if (
            isinstance(theirs_value, list)
            and theirs_value
            and hasattr(theirs_value[0], "shape")
        ):
            assert [np.shape(v) for v in mine] == [np.shape(v) for v in theirs_value]
