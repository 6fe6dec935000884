"""The estimator: parameters, validation, tags and the fit/predict entry points.

No training loop lives here: ``fit`` validates, builds a ``TrainState``, hands it
to a driver in ``_optim`` together with a ``_pruning.Pruner``, and commits the
finished state as sparse storage (``_sparse``).
"""

import copy
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._core import HIDDEN_ACTIVATIONS, init_params, predict_proba_dense
from ._optim import (
    DivergenceError,
    Reporter,
    TrainState,
    make_optimizer,
    run_lbfgs,
    run_stochastic,
)
from ._pruning import (
    CRITERIA,
    GRANULARITIES,
    SCHEDULES,
    SCOPES,
    Pruner,
)
from ._sparse import (
    InferenceNetwork,
    compact_network,
    expand_network,
    feature_importances,
    pack_csr,
    to_csr,
    unpack_csr,
)

_STOCHASTIC_SOLVERS = ("sgd", "adam")
_DTYPES = {"float32": np.float32, "float64": np.float64}


class PrunedMLPClassifier(ClassifierMixin, BaseEstimator):
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
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "sparsity": [Interval(Real, 0, 1, closed="left"), StrOptions({"auto"})],
        "pruning": [StrOptions(set(CRITERIA))],
        "pruning_scope": [StrOptions(set(SCOPES))],
        "granularity": [StrOptions(set(GRANULARITIES))],
        "pruning_schedule": [StrOptions(set(SCHEDULES))],
        "pruning_steps": [Interval(Integral, 1, None, closed="left")],
        "finetune_iter": [Interval(Integral, 0, None, closed="left")],
        "pruning_tol": [Interval(Real, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "dtype": [StrOptions(set(_DTYPES)), None],
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.sparsity = sparsity
        self.pruning = pruning
        self.pruning_scope = pruning_scope
        self.granularity = granularity
        self.pruning_schedule = pruning_schedule
        self.pruning_steps = pruning_steps
        self.finetune_iter = finetune_iter
        self.pruning_tol = pruning_tol
        self.class_weight = class_weight
        self.dtype = dtype

    # ------------------------------------------------------------------ fit
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

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

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
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported for partial_fit: the "
                "class frequencies of one batch are not those of the data. Pass "
                "a dict computed on all the data, e.g. dict(zip(classes, "
                "sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y_all)))."
            )
        with self._all_or_nothing():
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = LabelBinarizer()
                if type_of_target(y).startswith("multilabel"):
                    self._label_binarizer.fit(y)
                else:
                    self._label_binarizer.fit(classes)
            return self._fit_unsafe(X, y, sample_weight, incremental=True)

    def _compute_dtype(self, X_dtype=None):
        if self.dtype is None:
            return (np.float64, np.float32)
        return _DTYPES[self.dtype]

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
        Y = self._label_binarizer.transform(y).astype(X.dtype)
        if sp.issparse(X) and X.format != "csr":
            X = X.tocsr()  # row batches
        return X, y, Y

    def _validate_sample_weight(self, sample_weight, X, y):
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
        if self.class_weight is not None:
            class_sw = self._class_sample_weight(y).astype(X.dtype)
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

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if np.any(np.array(sizes) <= 0):
            raise ValueError("hidden_layer_sizes must be > 0, got %s." % sizes)
        return sizes

    def _fit(self, X, y, sample_weight, incremental):
        with self._all_or_nothing():
            return self._fit_unsafe(X, y, sample_weight, incremental)

    @contextmanager
    def _all_or_nothing(self):
        """A call that fails (bad input, divergence, ...) leaves the estimator
        exactly as it was, fitted or not."""
        saved = dict(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit_unsafe(self, X, y, sample_weight, incremental):
        hidden_sizes = self._hidden_sizes()
        first_pass = not hasattr(self, "sparse_coefs_") or (
            not self.warm_start and not incremental
        )
        X, y, Y = self._validate_input(X, y, incremental, reset=first_pass)
        sample_weight = self._validate_sample_weight(sample_weight, X, y)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        n_samples, n_features = X.shape
        n_outputs = Y.shape[1]
        if not first_pass:
            fitted = {
                "hidden_layer_sizes": self._fit_hidden_layer_sizes,
                "activation": self._fit_activation,
            }
            now = {
                "hidden_layer_sizes": tuple(hidden_sizes),
                "activation": self.activation,
            }
            for name in fitted:
                if fitted[name] != now[name]:
                    raise ValueError(
                        f"{name} changed from {fitted[name]!r} to {now[name]!r} "
                        "since the network was fitted; warm_start and partial_fit "
                        "continue the fitted network. Set warm_start=False to train "
                        "a new one."
                    )

        rng = check_random_state(self.random_state)
        reporter = Reporter(self.verbose)
        stochastic = self.solver in _STOCHASTIC_SOLVERS
        hp = self.get_params()

        if first_pass:
            layer_units = [n_features, *hidden_sizes, n_outputs]
            coefs, intercepts = init_params(layer_units, self.activation, rng, X.dtype)
            state = TrainState(
                coefs=coefs,
                intercepts=intercepts,
                masks=[None] * len(coefs),
                activation=self.activation,
                out_activation=self._out_activation(),
            )
        else:
            state = self._resume_state(X.dtype)
        start_iter = state.n_iter

        if stochastic:
            if state.optimizer is None or not incremental:
                state.attach_optimizer(make_optimizer(self.solver, state.params, hp))
            if not incremental:
                state.best_loss = None
            if self.early_stopping:
                if state.validation_scores is None:
                    state.validation_scores = []
            else:
                state.validation_scores = None
        else:
            state.optimizer = None

        pruner = Pruner(
            criterion=self.pruning,
            scope=self.pruning_scope,
            granularity=self.granularity,
            schedule=self.pruning_schedule,
            sparsity=self.sparsity,
            n_steps=self.pruning_steps,
            finetune_iter=self.finetune_iter,
            tol=self.pruning_tol,
            rng=rng,
            reporter=reporter,
        )
        if pruner.needs_validation and incremental:
            raise ValueError(
                "The greedy search (pruning_schedule='greedy' or sparsity='auto') "
                "judges each step on held-out data and is not available in "
                "partial_fit. Use fit, or another pruning_schedule."
            )

        validation = None
        X_train, Y_train, sw_train = X, Y, sample_weight
        validation_data = None
        if (stochastic and self.early_stopping) or pruner.needs_validation:
            X_train, Y_train, sw_train, validation_data = self._split_validation(
                X, Y, sample_weight, rng, reason=self._split_reason(pruner)
            )
            if stochastic and self.early_stopping:
                validation = self._validation_scorer(*validation_data)
        # partial_fit: one schedule epoch is the size of the call that laid out
        # the schedule, kept while the schedule runs.
        epoch_samples = X_train.shape[0]
        resuming = incremental and pruner.can_resume(state, self.max_iter)
        if resuming:
            epoch_samples = getattr(self, "_epoch_samples", epoch_samples)
        elif incremental:
            self._epoch_samples = epoch_samples
        pruner.start(
            state,
            epoch_samples=epoch_samples,
            updates_per_epoch=self._updates_per_epoch(epoch_samples, stochastic),
            max_iter=self.max_iter,
            stochastic=stochastic,
            train_data=(X_train, Y_train, sw_train),
            validation_data=validation_data,
            batch_size=int(self._updates_batch_size(X_train.shape[0])),
            resume=incremental,
        )

        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                if stochastic:
                    interrupted = run_stochastic(
                        state,
                        X_train,
                        Y_train,
                        sw_train,
                        hp=hp,
                        rng=rng,
                        pruner=pruner,
                        reporter=reporter,
                        validation=validation,
                        incremental=incremental,
                    )
                else:
                    interrupted = run_lbfgs(
                        state,
                        X_train,
                        Y_train,
                        sw_train,
                        hp=hp,
                        pruner=pruner,
                        reporter=reporter,
                    )
        except DivergenceError:
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed, or "
                "learning_rate_init may be too large. The model was left as it "
                "was before this call."
            ) from None
        if interrupted:
            warnings.warn(
                "Training interrupted by user; the model keeps the weights of the "
                "last completed iteration (%d)." % state.n_iter
            )
        if not incremental:
            pruner.finish(state)
        self._commit(state, hidden_sizes, first_pass, start_iter)
        return self

    def _updates_batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        return max(1, min(self.batch_size, n_samples))

    def _updates_per_epoch(self, n_samples, stochastic):
        if not stochastic:
            return None
        return float(np.ceil(n_samples / self._updates_batch_size(n_samples)))

    def _out_activation(self):
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax"
        return "logistic"

    def _split_reason(self, pruner):
        if pruner.needs_validation:
            return (
                "the greedy pruning search (pruning_schedule='greedy' or "
                "sparsity='auto')"
            )
        return "early stopping"

    def _split_validation(self, X, Y, sample_weight, rng, reason):
        """Hold out ``validation_fraction`` of the data, as MLPClassifier does."""
        if self.validation_fraction <= 0:
            raise ValueError(
                f"validation_fraction=0 leaves no held-out data for {reason}. "
                "Set validation_fraction > 0 (e.g. 0.1)."
            )
        n_val = int(np.ceil(self.validation_fraction * X.shape[0]))
        if n_val < 2 or X.shape[0] - n_val < 1:
            raise ValueError(
                f"The validation set is too small for {reason}: "
                f"validation_fraction={self.validation_fraction} of {X.shape[0]} "
                "samples. Increase 'validation_fraction' or the size of your "
                "dataset."
            )
        stratify = None
        if Y.shape[1] == 1 or self._is_multiclass():
            stratify = Y.astype(bool)
            # Stratifying needs 2 samples of every class, and a class for every
            # held-out sample: otherwise split at random.
            counts = np.unique(stratify, axis=0, return_counts=True)[1]
            if counts.min() < 2 or min(n_val, X.shape[0] - n_val) < counts.size:
                stratify = None
        arrays = [X, Y] if sample_weight is None else [X, Y, sample_weight]
        parts = train_test_split(
            *arrays,
            random_state=rng,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, Y_train, Y_val = parts[:4]
        sw_train, sw_val = (None, None) if sample_weight is None else parts[4:]
        for part, weights in (("training", sw_train), ("held-out", sw_val)):
            if weights is not None and not np.any(weights > 0):
                raise ValueError(
                    f"After holding out validation_fraction="
                    f"{self.validation_fraction} of the samples for {reason}, "
                    f"every {part} sample has zero weight. Give more samples a "
                    "non-zero sample_weight, or change validation_fraction or "
                    "random_state."
                )
        return X_train, Y_train, sw_train, (X_val, Y_val, sw_val)

    def _validation_scorer(self, X_val, Y_val, sw_val):
        y_val = self._decode(Y_val)

        def validation(state):
            proba = predict_proba_dense(
                X_val,
                state.coefs,
                state.intercepts,
                state.activation,
                state.out_activation,
            )
            if not np.isfinite(proba).all():
                return np.nan
            return accuracy_score(y_val, self._decode(proba), sample_weight=sw_val)

        return validation

    def _is_multiclass(self):
        return self._label_binarizer.y_type_ == "multiclass"

    def _resume_state(self, dtype):
        """The training state to continue from (warm start, partial_fit)."""
        state = getattr(self, "_state", None)
        if state is not None:
            state = state.copy()
        else:
            # After unpickling: rebuild the network as trained (removed units back
            # in place, pruned) from the stored one, with the unfinished pruning
            # schedule if any; optimizer moments start afresh.
            coefs, intercepts, masks = expand_network(
                self.sparse_coefs_,
                self.intercepts_,
                self._kept_units,
                self._fit_hidden_layer_sizes,
                self.intercepts_[0].dtype,
            )
            state = TrainState(
                coefs=coefs,
                intercepts=intercepts,
                masks=masks,
                activation=self._fit_activation,
                out_activation=self.out_activation_,
                n_iter=self.__dict__.get("_call_ends", [self.n_iter_])[-1],
                t=self.t_,
                loss=self.loss_,
                loss_curve=list(self.loss_curve_),
                history=list(self.pruning_history_),
            )
            state.plan = copy.deepcopy(self.__dict__.get("_pending_plan", {}))
        if state.coefs[0].dtype != dtype:
            state.coefs = [c.astype(dtype) for c in state.coefs]
            state.intercepts = [b.astype(dtype) for b in state.intercepts]
            state.optimizer = None
        return state

    def _commit(self, state, hidden_sizes, first_pass, start_iter=0):
        """Store the finished state as the fitted model (all or nothing).

        ``n_iter_`` counts the iterations of this call, from ``start_iter``.
        """
        if first_pass:
            self._fit_hidden_layer_sizes = tuple(hidden_sizes)
            units = [state.coefs[0].shape[0], *hidden_sizes, state.coefs[-1].shape[1]]
            self._dense_sizes = np.array([a * b for a, b in zip(units, units[1:])])
        # Sparsity counts the kept weights of the network as trained against the
        # dense network it started as; storage is compacted further.
        kept = np.array(
            [
                c.size if m is None else np.count_nonzero(m)
                for c, m in zip(state.coefs, state.masks)
            ]
        )
        sizes = self._dense_sizes
        per_layer = 1.0 - kept / sizes
        coefs, intercepts, masks, units = compact_network(
            state.coefs, state.intercepts, state.masks, state.activation, True
        )
        sparse_coefs = [to_csr(c, m) for c, m in zip(coefs, masks)]
        self._state = state
        self.__dict__.pop("_pending_plan", None)  # the state holds the plan now
        # Original positions of the stored units (to continue training after
        # loading), in the narrowest integer type.
        self._kept_units = [
            u.astype(np.min_scalar_type(max(int(u.max(initial=0)), 1))) for u in units
        ]
        self._fit_activation = state.activation
        self.sparse_coefs_ = sparse_coefs
        self.intercepts_ = intercepts
        self.n_layers_ = len(sparse_coefs) + 1
        self.n_outputs_ = sparse_coefs[-1].shape[1]
        self.out_activation_ = state.out_activation
        self.hidden_layer_sizes_ = tuple(int(c.shape[1]) for c in sparse_coefs[:-1])
        self.layer_sparsity_ = per_layer
        self.sparsity_ = float(1.0 - kept.sum() / sizes.sum())
        self.n_iter_ = state.n_iter - start_iter
        # Iterations since the network was created at the end of each call (its
        # last entry is the running total; L-BFGS segments end there too).
        self._call_ends = [
            *([] if first_pass else getattr(self, "_call_ends", [])),
            state.n_iter,
        ]
        self.t_ = state.t
        self.loss_ = state.loss
        self.loss_curve_ = list(state.loss_curve)
        self.best_loss_ = state.best_loss
        self.validation_scores_ = (
            None if state.validation_scores is None else list(state.validation_scores)
        )
        self.best_validation_score_ = state.best_validation_score
        self.pruning_history_ = list(state.history)
        self.feature_importances_ = feature_importances(sparse_coefs)
        self._inference = self._build_inference()

    @classmethod
    def from_mlp(cls, mlp, **params):
        """Start from a fitted MLPClassifier; the next ``fit`` prunes and fine-tunes it.

        The returned estimator has ``mlp``'s hyperparameters (overridden by
        ``params``, except ``hidden_layer_sizes`` and ``activation``, which are
        the network's), ``warm_start=True`` and ``mlp``'s weights, and predicts as
        ``mlp`` does (up to the compute ``dtype``). Calling ``fit`` then prunes
        the trained network along the schedule, from its current weights, and
        fine-tunes it within ``max_iter`` epochs. Optimizer moments start afresh.

        Parameters
        ----------
        mlp : sklearn.neural_network.MLPClassifier
            A fitted classifier.
        **params
            Parameters of PrunedMLPClassifier to set, e.g. ``sparsity=0.9,
            max_iter=30``.

        Returns
        -------
        estimator : PrunedMLPClassifier
            Fitted (dense) and ready to be pruned by ``fit``.

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
        from sklearn.neural_network import MLPClassifier

        if not isinstance(mlp, MLPClassifier):
            raise TypeError(
                "from_mlp expects a fitted sklearn.neural_network.MLPClassifier, "
                f"got {type(mlp).__name__}."
            )
        check_is_fitted(mlp)
        names = set(cls._get_param_names())
        settings = {k: v for k, v in mlp.get_params().items() if k in names}

        def architecture(name, value):
            if name == "hidden_layer_sizes":
                return tuple(int(v) for v in np.atleast_1d(value))
            return value

        for name in ("hidden_layer_sizes", "activation"):
            if name in params and architecture(name, params[name]) != architecture(
                name, settings[name]
            ):
                raise ValueError(
                    f"from_mlp continues the network of mlp, whose {name} is "
                    f"{settings[name]!r}; {name}={params[name]!r} cannot be "
                    "changed. Train a new PrunedMLPClassifier instead."
                )
        settings.update(params)
        settings["warm_start"] = True
        est = cls(**settings)
        est._validate_params()
        dtype = est._compute_dtype()
        if isinstance(dtype, tuple):
            dtype = mlp.coefs_[0].dtype
        n_outputs = mlp.coefs_[-1].shape[1]
        binarizer = LabelBinarizer()
        if mlp.out_activation_ == "logistic" and n_outputs > 1:
            binarizer.fit(np.eye(n_outputs, dtype=int))  # multilabel
        else:
            binarizer.fit(mlp.classes_)
        est._label_binarizer = binarizer
        est.classes_ = mlp.classes_
        est.n_features_in_ = mlp.n_features_in_
        if hasattr(mlp, "feature_names_in_"):
            est.feature_names_in_ = mlp.feature_names_in_
        state = TrainState(
            coefs=[np.array(c, dtype=dtype) for c in mlp.coefs_],
            intercepts=[np.array(b, dtype=dtype) for b in mlp.intercepts_],
            masks=[None] * len(mlp.coefs_),
            activation=mlp.activation,
            out_activation=mlp.out_activation_,
            n_iter=mlp.n_iter_,
            t=getattr(mlp, "t_", 0),
            loss=mlp.loss_,
            loss_curve=list(getattr(mlp, "loss_curve_", [])),
            best_loss=getattr(mlp, "best_loss_", None),
            validation_scores=getattr(mlp, "validation_scores_", None),
            best_validation_score=getattr(mlp, "best_validation_score_", None),
        )
        hidden_sizes = [c.shape[1] for c in mlp.coefs_[:-1]]
        est._commit(state, hidden_sizes, first_pass=True)
        est._fit_hidden_layer_sizes = tuple(est._hidden_sizes())
        return est

    # ---------------------------------------------------------- predictions
    def __sklearn_is_fitted__(self):
        return "sparse_coefs_" in self.__dict__

    @property
    def coefs_(self):
        """Dense weight matrices derived from ``sparse_coefs_`` (a copy)."""
        check_is_fitted(self, "sparse_coefs_")
        return [c.toarray() for c in self.sparse_coefs_]

    def _build_inference(self):
        return InferenceNetwork(
            self.sparse_coefs_,
            self.intercepts_,
            self._fit_activation,
            self.out_activation_,
        )

    def _forward(self, X):
        check_is_fitted(self)
        # float64 and float32 input is not copied here: chunks are converted to
        # the compute dtype one at a time, which bounds predict's memory.
        X = validate_data(
            self,
            X,
            accept_sparse=["csr"],
            dtype=(np.float64, np.float32),
            reset=False,
        )
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            proba = self._inference.predict_proba(X)
        if not np.isfinite(proba).all():
            # X is finite (checked above), so the computation overflowed.
            dtype = np.dtype(self.intercepts_[0].dtype)
            data = X.data if sp.issparse(X) else X
            raise ValueError(
                f"X holds values too large for this model's {dtype} computation "
                f"(largest magnitude {np.max(np.abs(data)):.3g}; {dtype} overflows "
                f"above {np.finfo(dtype).max:.3g} and the network's sums sooner): "
                "its probabilities are not finite. Scale the input (e.g. with "
                "StandardScaler in a Pipeline) or fit with dtype='float64'."
            )
        return proba

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

    # ------------------------------------------------------------ plumbing
    def __getstate__(self):
        # object.__getstate__ may return the live __dict__: copy before dropping.
        state = dict(super().__getstate__())
        # Training state (dense weights, optimizer moments) and the predict cache
        # are derived or only needed to continue training: not stored.
        training = state.pop("_state", None)
        state.pop("_inference", None)
        if training is not None:
            state.pop("_pending_plan", None)  # superseded by the live state
        if training is not None and training.plan.get("targets"):
            # An unfinished schedule (partial_fit) continues after loading.
            state["_pending_plan"] = training.plan
        if "sparse_coefs_" in state:
            # Plain arrays with the narrowest index type: smaller files, and
            # nothing but numpy for skops to trust.
            state["sparse_coefs_"] = [pack_csr(c) for c in state["sparse_coefs_"]]
        return state

    def __setstate__(self, state):
        if "sparse_coefs_" in state:
            state = dict(state)
            state["sparse_coefs_"] = [unpack_csr(c) for c in state["sparse_coefs_"]]
        super().__setstate__(state)
        if "sparse_coefs_" in self.__dict__:
            self._inference = self._build_inference()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags
