"""PrunedMLPClassifier: labels, class weights and probabilities.

Everything that does not depend on the target lives in ``_base`` and
``_fitted``; this module turns labels into the binarized outputs the network
trains on and back, weights samples by ``class_weight``, and scores held-out
data by accuracy.
"""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import column_or_1d, validate_data

from ._base import BasePrunedMLP, mlp_constraints, store_params
from ._docs import (
    DTYPE_PARAMETER,
    FITTED_ATTRIBUTES,
    MLP_PARAMETERS,
    PRUNING_PARAMETERS,
)


class PrunedMLPClassifier(ClassifierMixin, BasePrunedMLP):
    __doc__ = f"""Multi-layer perceptron classifier that prunes itself while it trains.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: the
    same parameters, with the same names, order and defaults, the same fitted
    attributes and methods, plus pruning settings that are plain hyperparameters.
    During ``fit`` the smallest weights are removed on a schedule until
    ``sparsity`` is reached; the result is stored as ``scipy.sparse`` matrices.

    Parameters
    ----------
{MLP_PARAMETERS}{PRUNING_PARAMETERS}\
    class_weight : dict, 'balanced' or None, default=None
        Weights associated with classes, as in
        :class:`~sklearn.linear_model.LogisticRegression`; multiplied into
        ``sample_weight``.

{DTYPE_PARAMETER}    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output.

{FITTED_ATTRIBUTES.format(score="accuracy")}    See Also
    --------
    sklearn.neural_network.MLPClassifier : The dense network this one replaces.

    References
    ----------
    Han, Pool, Tran & Dally (2015). "Learning both weights and connections for
    efficient neural networks." NeurIPS.

    Zhu & Gupta (2017). "To prune, or not to prune: exploring the efficacy of
    pruning for model compression." arXiv:1710.01878.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skprune import PrunedMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = PrunedMLPClassifier(sparsity=0.8, solver="lbfgs", random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    >>> clf.sparsity_  # the fraction of all weights removed
    0.8
    >>> clf.layer_sparsity_  # pruning_scope="layer": the same in every layer
    array([0.8, 0.8])
    >>> clf.sparse_coefs_[0].nnz <= 80  # 80 kept, fewer if units were removed
    True
    """

    _parameter_constraints: dict = {
        **mlp_constraints(MLPClassifier),
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
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
        class_weight=None,
        dtype="float32",
    ):
        store_params(self, locals())

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
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

        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit; required on the first call.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _check_partial_fit(self, X, y, classes):
        super()._check_partial_fit(X, y, classes)
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported for partial_fit: the "
                "class frequencies of one batch are not those of the data. Pass "
                "a dict computed on all the data, e.g. dict(zip(classes, "
                "sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y_all)))."
            )
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=self._compute_dtype(),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start and not incremental:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        self._y = y  # the labels, for class_weight
        Y = self._label_binarizer.transform(y).astype(X.dtype)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        return self._prepare_X(X), Y

    def _validate_sample_weight(self, sample_weight, X, y):
        sample_weight = super()._validate_sample_weight(sample_weight, X, y)
        labels = self.__dict__.pop("_y")
        if self.class_weight is not None:
            class_sw = self._class_sample_weight(labels).astype(X.dtype)
            sample_weight = (
                class_sw if sample_weight is None else sample_weight * class_sw
            )
        if sample_weight is not None and not np.any(sample_weight > 0):
            raise ValueError(
                "Sample weights must contain at least one non-zero number: every "
                "sample has zero weight (after class_weight)."
            )
        return sample_weight

    def _class_sample_weight(self, y):
        """Each sample's weight from ``class_weight``."""
        if isinstance(self.class_weight, dict):
            bad = {
                c: w
                for c, w in self.class_weight.items()
                if not (isinstance(w, Real) and np.isfinite(w) and w >= 0)
            }
            if bad:
                raise ValueError(
                    "class_weight must map classes to finite, non-negative "
                    f"numbers; got {bad}."
                )
        if y.ndim == 1:
            # Weights by class over all of classes_, so that a partial_fit batch
            # that lacks some classes is weighted as fit would weight it.
            weights = compute_class_weight(
                self.class_weight, classes=self.classes_, y=y
            )
            return weights[np.searchsorted(self.classes_, y)]
        return compute_sample_weight(self.class_weight, y)

    def _out_activation(self, Y):
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax"
        return "logistic"

    def _stratify(self, Y, n_val, n_samples):
        if not (Y.shape[1] == 1 or self._label_binarizer.y_type_ == "multiclass"):
            return None
        stratify = Y.astype(bool)
        # Stratifying needs 2 samples of every class, and a class for every
        # held-out sample: otherwise split at random.
        counts = np.unique(stratify, axis=0, return_counts=True)[1]
        if counts.min() < 2 or min(n_val, n_samples - n_val) < counts.size:
            return None
        return stratify

    def _score_outputs(self, Y_val, proba, sw_val):
        return accuracy_score(
            self._decode(Y_val), self._decode(proba), sample_weight=sw_val
        )

    @staticmethod
    def _score_contributions(Y_val, proba, out_activation):
        """Each sample's smoothed accuracy: the probability the network gives
        its true class (its true labels, on average, for logistic outputs)."""
        if out_activation == "logistic":  # binary (one column) or multilabel
            return (Y_val * proba + (1 - Y_val) * (1 - proba)).mean(axis=1)
        return (Y_val * proba).sum(axis=1)

    @classmethod
    def _sklearn_counterpart(cls):
        return MLPClassifier

    def _adopt_targets(self, mlp):
        """from_mlp: take the classes of a fitted MLPClassifier."""
        n_outputs = mlp.coefs_[-1].shape[1]
        binarizer = LabelBinarizer()
        if mlp.out_activation_ == "logistic" and n_outputs > 1:
            binarizer.fit(np.eye(n_outputs, dtype=int))  # multilabel
        else:
            binarizer.fit(mlp.classes_)
        self._label_binarizer = binarizer
        self.classes_ = mlp.classes_

    @classmethod
    def from_mlp(cls, mlp, **params):
        """Start from a fitted MLPClassifier; the next ``fit`` prunes and fine-tunes it.

        See :meth:`skprune.PrunedMLPRegressor.from_mlp` for the regressor.

        Parameters
        ----------
        mlp : sklearn.neural_network.MLPClassifier
            A fitted classifier.
        **params
            Parameters of PrunedMLPClassifier to set, e.g. ``sparsity=0.9,
            max_iter=30``. ``hidden_layer_sizes`` and ``activation`` are the
            network's and cannot change.

        Returns
        -------
        estimator : PrunedMLPClassifier
            Fitted (dense), with ``warm_start=True``, predicting as ``mlp`` does
            (up to the compute ``dtype``): its next ``fit`` prunes the trained
            network at once (it has learned) and fine-tunes it within
            ``max_iter`` epochs; unless ``max_iter`` is given, that is 30 % of
            the epochs ``mlp`` trained (at least 10). Optimizer moments start
            afresh.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.neural_network import MLPClassifier
        >>> from sklearn.preprocessing import StandardScaler
        >>> from skprune import PrunedMLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> X = StandardScaler().fit_transform(X)
        >>> mlp = MLPClassifier(solver="lbfgs", random_state=0).fit(X, y)
        >>> clf = PrunedMLPClassifier.from_mlp(mlp, sparsity=0.8, max_iter=50)
        >>> clf.sparsity_
        0.0
        >>> clf.fit(X, y).layer_sparsity_
        array([0.8, 0.8])
        """
        return super().from_mlp(mlp, **params)

    # ---------------------------------------------------------- predictions
    def _decode(self, proba):
        if proba.shape[1] == 1:
            proba = proba.ravel()
        return self._label_binarizer.inverse_transform(proba)

    def predict(self, X):
        """Predict using the pruned multi-layer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        proba = self._forward(X)
        binarizer = self._label_binarizer
        classes = binarizer.classes_
        # LabelBinarizer.inverse_transform's rules (the first largest output;
        # for binary, the output above the midpoint of the labels) without its
        # checks of its input, which take longer than a one-row forward pass.
        if not binarizer.sparse_input_:
            if binarizer.y_type_ == "multiclass":
                return classes[proba.argmax(axis=1)]
            if binarizer.y_type_ == "binary" and classes.size == 2:
                threshold = (binarizer.pos_label + binarizer.neg_label) / 2
                return classes[(proba[:, 0] > threshold).astype(np.intp)]
        return self._decode(proba)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The predicted probability of each class, in the order of
            ``classes_``.
        """
        proba = self._forward(X)
        if proba.shape[1] == 1:
            proba = proba.ravel()
            return np.column_stack([1 - proba, proba])
        return proba

    def predict_log_proba(self, X):
        """Logarithm of the probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``.
        """
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(proba, out=proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
