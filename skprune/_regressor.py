"""PrunedMLPRegressor: continuous targets, one or several, and their losses.

Everything that does not depend on the target lives in ``_base`` and
``_fitted``; this module checks numeric targets, picks the output activation
that goes with ``loss`` (identity for ``squared_error``, exp for ``poisson``)
and scores held-out data by R², as MLPRegressor does.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d, validate_data

from ._base import BasePrunedMLP, mlp_constraints, store_params
from ._docs import (
    DTYPE_PARAMETER,
    FITTED_ATTRIBUTES,
    MLP_PARAMETERS,
    PRUNING_PARAMETERS,
)

LOSSES = {"squared_error": "identity", "poisson": "exp"}


class PrunedMLPRegressor(RegressorMixin, BasePrunedMLP):
    __doc__ = f"""Multi-layer perceptron regressor that prunes itself while it trains.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`: the
    same parameters, with the same names, order and defaults, the same fitted
    attributes and methods, plus pruning settings that are plain hyperparameters.
    During ``fit`` the smallest weights are removed on a schedule until
    ``sparsity`` is reached; the result is stored as ``scipy.sparse`` matrices.

    Parameters
    ----------
    loss : {{'squared_error', 'poisson'}}, default='squared_error'
        The loss function, as in MLPRegressor: half the squared error with an
        identity output, or half the Poisson deviance with an exponential
        output (the target must then be non-negative).

{MLP_PARAMETERS}{PRUNING_PARAMETERS}{DTYPE_PARAMETER}    Attributes
    ----------
{FITTED_ATTRIBUTES.format(score="R²")}    See Also
    --------
    sklearn.neural_network.MLPRegressor : The dense network this one replaces.
    PrunedMLPClassifier : The classifier.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skprune import PrunedMLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> reg = PrunedMLPRegressor(sparsity=0.8, solver="lbfgs", random_state=0)
    >>> reg.fit(X, y / 100).score(X, y / 100) > 0.5
    True
    >>> reg.sparsity_, reg.layer_sparsity_  # of all weights, and per layer
    (0.8, array([0.8, 0.8]))
    """

    _parameter_constraints: dict = {
        # Older scikit-learn has no ``loss``: both losses are ours anyway.
        "loss": [StrOptions(set(LOSSES))],
        **mlp_constraints(MLPRegressor),
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        sparsity=0.3,
        pruning="magnitude",
        pruning_scope="layer",
        granularity="weight",
        pruning_schedule="gradual",
        pruning_steps=10,
        finetune_iter=10,
        pruning_tol=0.01,
        dtype="float32",
    ):
        store_params(self, locals())

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data.

        Each call is one epoch of the pruning schedule. ``sparsity='auto'``
        has no held-out data here and prunes gradually to 0.5; after a
        ``fit`` whose search chose the sparsity, calls prune no further.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, non-negative.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=self._compute_dtype(),
            reset=reset,
        )
        if sp.issparse(y):
            # Targets are one row of outputs per sample: small, and trained on
            # dense (MLPRegressor fails on a sparse y).
            y = y.toarray()
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = np.asarray(y, dtype=X.dtype).reshape(y.shape[0], -1)
        if self.loss == "poisson" and np.any(Y < 0):
            raise ValueError(
                "loss='poisson' models non-negative targets (counts, rates), but y "
                f"has negative values (smallest {Y.min():.6g}). Use "
                "loss='squared_error', or shift the target."
            )
        if not reset and self.__sklearn_is_fitted__() and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} outputs, but the model was fitted with "
                f"{self.n_outputs_}. Set warm_start=False to train a new model."
            )
        return self._prepare_X(X), Y

    def _out_activation(self, Y):
        return LOSSES[self.loss]

    def _score_outputs(self, Y_val, pred, sw_val):
        if Y_val.shape[1] == 1:
            Y_val, pred = Y_val.ravel(), pred.ravel()
        return r2_score(Y_val, pred, sample_weight=sw_val)

    @staticmethod
    def _score_contributions(Y_val, pred, out_activation):
        """Each sample's share of R^2: ``1 - (y - y_pred)^2 / var(y)``, averaged
        over the outputs that vary on the held-out set (their mean over
        samples is those outputs' R^2, unweighted). A constant output, whose
        R^2 is 0 or 1 only, takes no part; with none varying, every share is 0
        and the held-out score alone judges."""
        variance = Y_val.var(axis=0)
        varying = variance > 0
        if not varying.any():
            return np.zeros(Y_val.shape[0])
        errors = (Y_val[:, varying] - pred[:, varying]) ** 2 / variance[varying]
        return 1.0 - errors.mean(axis=1)

    @classmethod
    def _sklearn_counterpart(cls):
        return MLPRegressor

    def _adopt_targets(self, mlp):
        """from_mlp: a regressor has no classes to take over."""

    @classmethod
    def from_mlp(cls, mlp, **params):
        """Start from a fitted MLPRegressor; the next ``fit`` prunes and fine-tunes it.

        Parameters
        ----------
        mlp : sklearn.neural_network.MLPRegressor
            A fitted regressor.
        **params
            Parameters of PrunedMLPRegressor to set, e.g. ``sparsity=0.9,
            max_iter=30``. ``hidden_layer_sizes`` and ``activation`` are the
            network's and cannot change.

        Returns
        -------
        estimator : PrunedMLPRegressor
            Fitted (dense), with ``warm_start=True``, predicting as ``mlp`` does
            (up to the compute ``dtype``): its next ``fit`` prunes the trained
            network at once (it has learned) and fine-tunes it within
            ``max_iter`` epochs; unless ``max_iter`` is given, that is 30 % of
            the epochs ``mlp`` trained (at least 10). Optimizer moments start
            afresh.

        Examples
        --------
        >>> from sklearn.datasets import make_friedman1
        >>> from sklearn.neural_network import MLPRegressor
        >>> from skprune import PrunedMLPRegressor
        >>> X, y = make_friedman1(n_samples=300, random_state=0)
        >>> mlp = MLPRegressor(solver="lbfgs", random_state=0).fit(X, y)
        >>> reg = PrunedMLPRegressor.from_mlp(mlp, sparsity=0.8, max_iter=50)
        >>> reg.sparsity_
        0.0
        >>> reg.fit(X, y).layer_sparsity_
        array([0.8, 0.8])
        """
        return super().from_mlp(mlp, **params)

    def predict(self, X):
        """Predict using the pruned multi-layer perceptron regressor.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        out = self._forward(X)
        return out.ravel() if out.shape[1] == 1 else out

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R² of the prediction, as MLPRegressor's.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True values for ``X``.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R² of ``self.predict(X)`` against ``y`` (uniform average over
            outputs); 1 is a perfect prediction.
        """
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags
