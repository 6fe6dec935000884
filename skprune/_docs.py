"""Docstring parts shared by PrunedMLPClassifier and PrunedMLPRegressor.

The parameters and fitted attributes that the two estimators share are
described once, here; each estimator's docstring puts them together with its
own.
"""

MLP_PARAMETERS = """\
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

"""

PRUNING_PARAMETERS = """\
    sparsity : float in [0, 1) or 'auto', default=0.3
        Fraction of all weights removed; ``0`` trains a dense network. The
        default is the largest share of the drop-in benchmark
        (``benchmarks/bench_defaults.py``) that keeps MLPClassifier's accuracy
        on narrow tabular data; wide data (images, many features) keeps it at
        0.7 to 0.9, and ``'auto'`` finds such a level per data set.
        ``'auto'`` searches for the sparsest network that keeps the held-out
        score, then refits: it holds out ``validation_fraction`` of the data,
        prunes in ``pruning_steps`` gradual steps (0.3, then geometrically
        toward 0.99 of the weights), keeps the step to 0.3 (the default) unless
        the held-out samples' smoothed scores (probability of the true class, or
        share of R²), plus one standard error, fall more than ``pruning_tol``
        below the dense network's, then keeps each further step only while the
        held-out score and the smoothed scores, less one standard error, stay
        within ``pruning_tol`` of those of the network at 0.3, and reverts the
        first step that does not; the network is then trained on all the data at
        the sparsity found, as a fit with that fixed ``sparsity`` would be (the
        greedy schedule refits gradually). With ``partial_fit``, or with too few
        samples to hold any out, ``'auto'`` prunes gradually to 0.5 instead.

    pruning : {'magnitude', 'random', 'taylor', 'obd'}, default='magnitude'
        Saliency criterion that ranks weights: ``'magnitude'`` keeps the largest
        ``|w|`` (Han et al. 2015); ``'random'`` is the baseline (Blalock et al.
        2020); ``'taylor'`` uses ``|w * dL/dw|`` accumulated over a pass of
        training data (Molchanov et al. 2017); ``'obd'`` uses ``h * w**2 / 2``
        with ``h`` the empirical Fisher diagonal (LeCun et al. 1990). The last
        two gather statistics on up to 2048 training samples at each round.

    pruning_scope : {'layer', 'erk', 'global'}, default='layer'
        How the budget ``sparsity * n_weights`` is spread over the layers.
        ``'layer'``: the same sparsity in every layer. ``'erk'``
        (Erdős–Rényi-Kernel): a layer keeps weights in proportion to
        ``n_in + n_out``, so small and narrow layers stay denser.
        ``'global'``: all weights ranked together; each layer keeps at least
        as many weights as it has output units, and the best weights along one
        path into every output unit are always kept. A layer that cannot go
        lower passes its share to the others; a target no allocation can reach
        warns and is pruned as far as possible. From a ``sparsity`` of about
        0.95 on, prefer ``'erk'``: the layer scope leaves a small output layer
        too few weights (LeNet-300-100 on MNIST at 0.98: 6.7 % test error
        against 2.4 %). With ``granularity='weight'``, the weights of input
        features that are constant over ``fit``'s training data are pruned
        first, whatever the criterion.

    granularity : {'weight', 'neuron'}, default='weight'
        ``'weight'`` removes single connections; ``'neuron'`` removes whole
        hidden units (scored by ``||w_in|| * ||w_out||`` for magnitude, by the
        criterion summed over the unit's weights otherwise), as many as remove
        ``sparsity`` of the weights, which shrinks the stored matrices: see
        ``hidden_layer_sizes_``.

    pruning_schedule : {'gradual', 'iterative', 'oneshot', 'lottery', 'greedy', \
            'rigl', 'set'}, default='gradual'
        Which targets, and when. Every schedule but ``'rigl'`` and ``'set'``
        trains densely until the network has learned (the stopping rule sees a
        plateau, or its share of ``max_iter`` has passed: ``1 - sparsity``,
        kept within 0.5 and 0.7),
        prunes at a pace set by its recovery, and ends by the stopping rule
        after the last round; ``max_iter`` is a cap. ``'gradual'``: targets
        along the cubic of Zhu & Gupta (2017), a round as soon as the last one
        has recovered half of what it cost; from ``sparsity=0.95`` its dense
        phase may end at 0.2 of ``max_iter`` once it has made 100 optimizer
        steps (within half of ``max_iter``).
        ``'oneshot'``: prune once, retrain. ``'iterative'`` (Han et al.
        2015): ``pruning_steps`` rounds, each removing the same share of the
        remaining weights, retraining to a plateau in between. ``'lottery'``
        (Frankle & Carbin 2019): as iterative, but the surviving weights are
        rewound to their values after the first epoch (at the start of the fit
        for ``'lbfgs'``) at each round. These three retrain with the learning
        rate rewound (Renda et al. 2020): with ``learning_rate='invscaling'``
        the rate follows its rule again from the start of the fit after each
        round (``'adaptive'`` lowers its rate only after the last round, and
        constant rates and Adam's do not change, so those fits are as
        without). ``'greedy'``: a layer-wise search on held-out data (see
        ``pruning_tol``). ``'rigl'`` (Evci et al. 2020):
        dynamic sparse training; the network is pruned to the target when
        training starts, then at each epoch end, over the first three
        quarters of ``max_iter``, each layer drops a share of its kept weights
        (0.3 at first, decaying along a cosine) and regrows as many where the
        gradient is largest, at zero; best with ``pruning_scope='erk'``.
        ``'set'`` (Mocanu et al. 2018): the same with random regrowth. Both
        need ``solver='adam'`` or ``'sgd'``, and ``granularity='weight'``.

    pruning_steps : int, default=10
        Number of pruning rounds (``sparsity='auto'``: steps to its ceiling).

    finetune_iter : int, default=10
        Epochs of training after the last pruning round, before the stopping
        rule (``tol``, ``n_iter_no_change``) may end training; rounds leave
        them (or a quarter of ``max_iter``, if less) before ``max_iter``.

    pruning_tol : float, default=0.01
        ``sparsity='auto'``: largest accepted fall of the held-out score
        (accuracy, or R²), and of the mean of the held-out samples' smoothed
        scores, one standard error included, below those of the network at
        the default sparsity 0.3 (that network itself is kept unless its
        smoothed scores, one standard error in its favour, fall more than
        this below the dense network's).
        ``'greedy'``: largest
        accepted rise of the held-out loss (log-loss, or the regression loss)
        over its value before the first round; each round tries to prune more
        of each layer in turn, largest first, and keeps a step only within
        this tolerance.

"""

DTYPE_PARAMETER = """\
    dtype : {'float32', 'float64'} or None, default='float32'
        Compute dtype of training and prediction. None follows ``X`` (float64
        unless ``X`` is float32).

"""

# ``{score}``: what the held-out score is (accuracy, R²).
FITTED_ATTRIBUTES = """\
    loss_ : float
        The current loss computed with the loss function.

    best_loss_ : float or None
        The minimum loss reached by the solver since the last pruning round;
        None with ``early_stopping=True``.

    loss_curve_ : list of shape (`n_iter_`,)
        The loss at each iteration.

    validation_scores_ : list of shape (`n_iter_`,) or None
        Validation {score} at each iteration when ``early_stopping=True``.

    best_validation_score_ : float or None
        Best validation {score} after the last pruning round when
        ``early_stopping=True``.

    t_ : int
        The number of training samples seen by the solver during fitting.

    sparse_coefs_ : list of scipy.sparse.csr_array
        The stored weight matrices, layer by layer; stored entries are the kept
        weights. Assigning a list of matrices of the same shapes replaces them.

    coefs_ : list of ndarray
        Read-only dense copies of ``sparse_coefs_``, made on access and never
        pickled. Assigning a list of arrays of the same shapes replaces the
        weights, zeros being pruned weights; before any fit, it sets the
        weights ``partial_fit`` (or a warm-start ``fit``) starts from.

    intercepts_ : list of ndarray
        The bias vector of each layer (read-only); assign a list to replace it.

    sparsity_ : float
        Fraction of all weights of the dense network that pruning removed:
        ``sparsity`` up to rounding (or what ``'auto'`` found). The stored
        matrices may hold a few weights fewer, those of units left dead.

    layer_sparsity_ : ndarray of shape (n_layers - 1,)
        The same, per layer: the allocation chosen by ``pruning_scope``.

    hidden_layer_sizes_ : tuple of int
        Hidden layer sizes of the stored network.

    pruning_history_ : list of dict
        One record per pruning round (``'auto'``: first one per step its search
        proposed, marked ``search``, with its held-out ``validation_score``,
        ``reference_score``, ``held_out_change`` and its standard error,
        ``start`` (the first step, to the default's sparsity) and whether it
        was kept, then the refit's rounds; on a warm start or after
        ``from_mlp`` the steps of the search from the trained network, not
        marked, and no refit; greedy: per candidate tried, with the search
        round in ``round``): ``round``, ``iteration``, ``t``, ``target``,
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

"""
