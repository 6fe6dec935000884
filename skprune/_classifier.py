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


class PrunedMLPClassifier(ClassifierMixin, BasePrunedMLP):
    """Multi-layer perceptron classifier that prunes itself while it trains.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: the
    same parameters, with the same names, order and defaults, the same fitted
    attributes and methods, plus pruning settings that are plain hyperparameters.
    During ``fit`` the smallest weights are removed on a schedule until
    ``sparsity`` is reached; the result is stored as ``scipy.sparse`` matrices.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element represents the number of neurons in the ith hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation function for the hidden layers.

    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        The solver for weight optimization: L-BFGS-B from scipy, stochastic
        gradient descent, or Adam.

    alpha : float, default=0.0001
        Strength of the L2 regularization term, divided by the sample size when
        added to the loss.

    batch_size : int, default='auto'
        Size of minibatches for stochastic optimizers; ``'auto'`` means
        ``min(200, n_samples)``. Unused by 'lbfgs'.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning rate schedule for 'sgd', as in MLPClassifier.

    learning_rate_init : float, default=0.001
        The initial learning rate ('sgd' and 'adam').

    power_t : float, default=0.5
        The exponent for the 'invscaling' learning rate.

    max_iter : int, default=200
        Maximum number of iterations: epochs for 'sgd' and 'adam', L-BFGS
        iterations for 'lbfgs'. The pruning schedule is laid out inside this
        budget.

    shuffle : bool, default=True
        Whether to shuffle samples in each iteration ('sgd' and 'adam').

    random_state : int, RandomState instance, default=None
        Determines weight initialization, the early-stopping split, batch
        sampling and random pruning scores. Pass an int for reproducible results.

    tol : float, default=1e-4
        Tolerance for the optimization. When the loss or score is not improving by
        at least ``tol`` for ``n_iter_no_change`` consecutive iterations, training
        stops. The rule is only applied once the pruning schedule is complete.

    verbose : bool, default=False
        Whether to print progress messages (one line per iteration and per
        pruning round) to stdout.

    warm_start : bool, default=False
        When True, reuse the solution of the previous call to fit as
        initialization. Pruned weights stay pruned; the schedule continues from
        the current sparsity to ``sparsity``.

    momentum : float, default=0.9
        Momentum for gradient descent update ('sgd').

    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum ('sgd' with momentum > 0).

    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training data and stop
        when the validation score stops improving. The best weights are restored
        at the end, among those that already meet the target sparsity. The
        split is stratified for binary and multiclass targets.

    validation_fraction : float, default=0.1
        The proportion of training data set aside for early stopping and for the
        greedy pruning search.

    beta_1 : float, default=0.9
        Exponential decay rate for the first moment estimates in 'adam'.

    beta_2 : float, default=0.999
        Exponential decay rate for the second moment estimates in 'adam'.

    epsilon : float, default=1e-8
        Value for numerical stability in 'adam'.

    n_iter_no_change : int, default=10
        Maximum number of epochs to not meet ``tol`` improvement ('sgd', 'adam').

    max_fun : int, default=15000
        Maximum number of loss function calls ('lbfgs').

    sparsity : float in [0, 1) or 'auto', default=0.9
        Target fraction of weights removed. ``0`` trains a dense network. With
        ``pruning_scope='layer'`` every hidden layer reaches it and the output
        layer is pruned at half the rate; with ``'global'`` it is the share over
        all weights; with ``granularity='neuron'`` it is the share of hidden
        units removed. ``'auto'`` runs the greedy search with no fixed target:
        the sparsest model whose held-out loss stays within ``pruning_tol`` of
        the dense one.

    pruning : {'magnitude', 'random', 'taylor', 'obd'}, default='magnitude'
        Saliency criterion that ranks weights: ``'magnitude'`` keeps the largest
        ``|w|`` (Han et al. 2015); ``'random'`` is the baseline (Blalock et al.
        2020); ``'taylor'`` uses ``|w * dL/dw|`` accumulated over a pass of
        training data (Molchanov et al. 2017); ``'obd'`` uses ``h * w**2 / 2``
        with ``h`` the empirical Fisher diagonal (LeCun et al. 1990). The last
        two gather statistics on up to 2048 training samples at each round.

    pruning_scope : {'layer', 'global'}, default='layer'
        ``'layer'`` reaches ``sparsity`` in every hidden layer (the output layer
        at half the rate); ``'global'`` ranks all weights together; each layer
        keeps at least as many weights as it has output units, and the best
        weights along one path into every output unit are always kept, so no
        output is cut off from the inputs.

    granularity : {'weight', 'neuron'}, default='weight'
        ``'weight'`` removes single connections; ``'neuron'`` removes whole
        hidden units (scored by ``||w_in|| * ||w_out||`` for magnitude, by the
        criterion summed over the unit's weights otherwise), which shrinks the
        stored matrices: see ``hidden_layer_sizes_``.

    pruning_schedule : {'gradual', 'iterative', 'oneshot', 'lottery', 'greedy'}, \
            default='gradual'
        When to prune. ``'gradual'``: during training, along the cubic schedule
        of Zhu & Gupta (2017), then fine-tune. ``'oneshot'``: train, prune once,
        fine-tune. ``'iterative'`` (Han et al. 2015): ``pruning_steps`` rounds,
        each removing the same share of the remaining weights, with retraining
        in between. ``'lottery'`` (Frankle & Carbin 2019): as iterative, but
        the surviving weights are rewound to their values after the first epoch
        (at the start of the fit for ``'lbfgs'``) at each round. ``'greedy'``:
        a layer-wise search on held-out data (see ``pruning_tol``). Phase
        schedules (all but gradual) train until the loss stops improving or the
        phase's share of ``max_iter`` is spent.

    pruning_steps : int, default=10
        Number of pruning rounds.

    finetune_iter : int, default=10
        Epochs of training after the last pruning round, before the stopping
        rule (``tol``, ``n_iter_no_change``) may end training. The gradual
        schedule shortens them in proportion with the rest of its layout when
        that does not fit in ``max_iter``.

    pruning_tol : float, default=0.01
        Greedy search and ``sparsity='auto'``: largest accepted rise of the
        held-out log-loss over its value before the first round. Each round
        tries to prune more of each layer in turn, largest first, and keeps a
        step only within this tolerance; the search stops when a round keeps
        nothing or the target is met.

    class_weight : dict, 'balanced' or None, default=None
        Weights associated with classes, as in
        :class:`~sklearn.linear_model.LogisticRegression`; multiplied into
        ``sample_weight``.

    dtype : {'float32', 'float64'} or None, default='float32'
        Compute dtype of training and prediction. None follows ``X`` (float64
        unless ``X`` is float32).

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output.

    loss_ : float
        The current loss computed with the loss function.

    best_loss_ : float or None
        The minimum loss reached by the solver since the last pruning round;
        None with ``early_stopping=True``.

    loss_curve_ : list of shape (`n_iter_`,)
        The loss at each iteration.

    validation_scores_ : list of shape (`n_iter_`,) or None
        Validation accuracy at each iteration when ``early_stopping=True``.

    best_validation_score_ : float or None
        Best validation accuracy after the last pruning round when
        ``early_stopping=True``.

    t_ : int
        The number of training samples seen by the solver during fitting.

    sparse_coefs_ : list of scipy.sparse.csr_array
        The stored weight matrices, layer by layer.

    coefs_ : list of ndarray
        Dense copies of ``sparse_coefs_``, made on access and never pickled.

    intercepts_ : list of ndarray
        The bias vector of each layer.

    sparsity_ : float
        Achieved fraction of zero weights over all layers.

    layer_sparsity_ : ndarray of shape (n_layers - 1,)
        Achieved fraction of zero weights in each layer.

    hidden_layer_sizes_ : tuple of int
        Hidden layer sizes of the stored network.

    pruning_history_ : list of dict
        One record per pruning round (greedy: per candidate tried, with the
        search round in ``round``): ``round``, ``iteration``, ``t``, ``target``,
        ``sparsity``, ``layer_sparsity``, ``loss``, ``validation_score``,
        ``accepted``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when they are all strings.

    n_iter_ : int
        The number of iterations the solver has run in the last call to
        ``fit`` or ``partial_fit``, as in MLPClassifier. ``loss_curve_`` and
        ``pruning_history_`` span every call since the network was created.

    n_layers_ : int
        Number of layers.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Name of the output activation function.

    See Also
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
    >>> clf.layer_sparsity_  # the output layer is pruned at half the rate
    array([0.8, 0.4])
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
        sparsity=0.9,
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y, pruning as it trains.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels, or a label indicator matrix for
            multilabel classification).

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, non-negative.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        The pruning schedule counts samples seen (``t_``); one epoch of the
        schedule is the number of samples in the first call.

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
            network along the schedule and fine-tunes it within ``max_iter``
            epochs. Optimizer moments start afresh.

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
        array([0.8, 0.4])
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
        return self._decode(self._forward(X))

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
