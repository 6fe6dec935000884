"""Pure NumPy building blocks of a multi-layer perceptron.

Initialisation, activations, losses and the forward/backward passes used during
training. Weights are dense arrays; a pruned weight is an exact zero whose gradient
is masked, so it stays zero through every update.

Nothing here knows about estimators: functions take arrays and return arrays, and
the only in-place work is on arrays the function allocated or on arguments named
``out`` (or documented as modified in place).
"""

import numpy as np
from scipy.special import expit, xlogy


def _identity(Z):
    return Z


def _logistic(Z):
    return expit(Z, out=Z)


def _tanh(Z):
    return np.tanh(Z, out=Z)


def _relu(Z):
    return np.maximum(Z, 0, out=Z)


def _exp(Z):
    return np.exp(Z, out=Z)


def _softmax(Z):
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


# In-place activations, keyed by the names MLPClassifier uses.
ACTIVATIONS = {
    "identity": _identity,
    "logistic": _logistic,
    "tanh": _tanh,
    "relu": _relu,
    "softmax": _softmax,
    "exp": _exp,
}

HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


def _identity_derivative(A, delta):
    return delta


def _logistic_derivative(A, delta):
    delta *= A
    delta *= 1 - A
    return delta


def _tanh_derivative(A, delta):
    delta *= 1 - A * A
    return delta


def _relu_derivative(A, delta):
    # A is the activation *after* relu, so A > 0 exactly where the unit was on.
    # (Multiplying by the boolean is several times faster than masked assignment.)
    np.multiply(delta, A > 0, out=delta)
    return delta


# Multiply ``delta`` in place by the activation's derivative, expressed through the
# activation's output ``A`` (which is all the backward pass keeps).
DERIVATIVES = {
    "identity": _identity_derivative,
    "logistic": _logistic_derivative,
    "tanh": _tanh_derivative,
    "relu": _relu_derivative,
}


def init_params(layer_units, activation, rng, dtype):
    """Draw Glorot-uniform weights and biases, as MLPClassifier does.

    The draws are made in the same order and with the same bounds as
    ``sklearn.neural_network.MLPClassifier``, so the same ``random_state`` gives the
    same starting network.

    Parameters
    ----------
    layer_units : list of int
        Units per layer, input and output included.
    activation : str
        Hidden activation; ``"logistic"`` uses the narrower bound.
    rng : numpy.random.RandomState
        The fit's random number generator.
    dtype : numpy dtype
        Compute dtype of the returned arrays.

    Returns
    -------
    coefs : list of ndarray of shape (fan_in, fan_out)
    intercepts : list of ndarray of shape (fan_out,)
    """
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = rng.uniform(-bound, bound, (fan_in, fan_out))
        intercept = rng.uniform(-bound, bound, fan_out)
        coefs.append(coef.astype(dtype, copy=False))
        intercepts.append(intercept.astype(dtype, copy=False))
    return coefs, intercepts


def forward(
    X, coefs, intercepts, activation, out_activation, kernels=None, first_layer=None
):
    """Forward pass that keeps every layer's output (for backpropagation).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    coefs, intercepts : lists of ndarray
    activation : str
        Hidden activation name (a key of ``ACTIVATIONS``).
    out_activation : str
        Output activation name.
    kernels : dict, default=None
        Compiled kernels (``_kernels.compiled()``): relu layers then add the bias
        and clip in one pass, with the same result.
    first_layer : object, default=None
        Computes the first layer's product itself (``first_layer.product()``,
        see ``_kernels.SparseInputLayer``), from a minibatch it holds; ``X`` is
        then not used.

    Returns
    -------
    activations : list of ndarray
        ``[X, hidden_1, ..., output]``; the last item holds probabilities.
    """
    activations = [X]
    hidden = ACTIVATIONS[activation]
    last = len(coefs) - 1
    fused = kernels is not None and activation == "relu"
    for i, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        if i == 0 and first_layer is not None:
            Z = first_layer.product()
        elif i == last and isinstance(activations[-1], np.ndarray):
            # The output comes out transposed (column-major): the softmax and
            # the loss then reduce each row over contiguous columns, several
            # times faster than along rows of a few outputs.
            Z = (coef.T @ activations[-1].T).T
        else:
            Z = np.asarray(activations[-1] @ coef)
        if i < last and fused and Z.flags.c_contiguous:
            kernels["bias_relu"](Z, intercept)
        elif i < last and fused and Z.T.flags.c_contiguous:
            kernels["bias_relu_rows"](Z.T, intercept)
        elif i < last:
            Z += intercept
            hidden(Z)
        else:
            Z += intercept
            ACTIVATIONS[out_activation](Z)
        activations.append(Z)
    return activations


def log_loss_sum(Y, P, out_activation, sample_weight=None):
    """Weighted sum over samples of the cross-entropy of probabilities ``P``.

    ``P`` has one column per class for a softmax output, or one column per
    independent binary output for a logistic output (binary and multilabel).

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_outputs)
        Binarized targets (0/1), in the compute dtype.
    P : ndarray of shape (n_samples, n_outputs)
        Predicted probabilities.
    out_activation : {"softmax", "logistic"}
        Categorical cross-entropy for softmax, binary cross-entropy per column for
        logistic.
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    loss : float
        Not yet divided by the number (or weight) of samples.
    """
    eps = np.finfo(P.dtype).eps
    P = np.clip(P, eps, 1 - eps)
    per_sample = xlogy(Y, P).sum(axis=1)
    if out_activation == "logistic":
        per_sample += xlogy(1 - Y, 1 - P).sum(axis=1)
    if sample_weight is not None:
        per_sample *= sample_weight
    return -float(per_sample.sum(dtype=np.float64))


def squared_loss_sum(Y, P, out_activation, sample_weight=None):
    """Weighted sum over samples of half the mean squared error over outputs.

    Divided by the number (or weight) of samples, this is MLPRegressor's
    ``squared_error`` loss: ``0.5 * mean((Y - P) ** 2)``, averaged over outputs.
    """
    per_sample = np.square(Y - P).mean(axis=1)
    if sample_weight is not None:
        per_sample *= sample_weight
    return 0.5 * float(per_sample.sum(dtype=np.float64))


def poisson_loss_sum(Y, P, out_activation, sample_weight=None):
    """Weighted sum over samples of the half Poisson deviance, summed over outputs.

    Divided by the number (or weight) of samples, this is MLPRegressor's
    ``poisson`` loss, with predictions ``P = exp(Z)``.
    """
    per_sample = (xlogy(Y, Y / P) - Y + P).sum(axis=1)
    if sample_weight is not None:
        per_sample *= sample_weight
    return float(per_sample.sum(dtype=np.float64))


# The loss that goes with each output activation. Each pair has the canonical
# link, so the output delta is ``P - Y`` for all of them.
LOSS_SUMS = {
    "softmax": log_loss_sum,
    "logistic": log_loss_sum,
    "identity": squared_loss_sum,
    "exp": poisson_loss_sum,
}


def loss_and_gradients(
    X,
    Y,
    coefs,
    intercepts,
    *,
    activation,
    out_activation,
    alpha,
    denom,
    sample_weight=None,
    masks=None,
    penalty_gradient=True,
    kernels=None,
    first_layer=None,
):
    """Loss and its gradients for one batch, by backpropagation.

    The loss is MLPClassifier's (MLPRegressor's for an identity or exp
    output): the (weighted) data loss summed over the batch (see ``LOSS_SUMS``)
    plus ``alpha / 2 * sum(W ** 2)``, both divided by ``denom``. For
    unweighted data ``denom`` is the batch size; with sample weights it is the
    batch's share of the total weight, ``n_batch * sum(sample_weight) / n_samples``
    (see ``_optim``), so a batch whose weights are all zero is harmless.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Binarized targets in the compute dtype.
    coefs, intercepts : lists of ndarray
    activation, out_activation : str
    alpha : float
        L2 penalty.
    denom : float
        Normalising constant, see above.
    sample_weight : ndarray of shape (n_samples,), default=None
    masks : list of (ndarray or None), default=None
        Kept connections (1 kept, 0 pruned; boolean or, faster, the compute
        dtype); the gradient of a pruned weight is set to zero so that no
        optimizer ever moves it.
    penalty_gradient : bool, default=True
        Add the L2 term ``alpha / denom * W`` to the weight gradients. The
        stochastic solvers pass False and let the optimizer add it, fused with
        its own update (the loss always includes the penalty).
    kernels : dict, default=None
        Compiled kernels for the forward pass, see :func:`forward`.
    first_layer : object, default=None
        Computes the first layer's products from a minibatch it holds (``X`` is
        then not used, see :func:`forward`); the first layer's gradient is then
        ``first_layer.gradient(delta)``, packed over its kept weights, and
        ``penalty_gradient`` must be False.

    Returns
    -------
    loss : float
    coef_grads : list of ndarray
    intercept_grads : list of ndarray
    """
    if first_layer is not None and penalty_gradient and alpha:
        raise ValueError(
            "first_layer computes a packed gradient without the L2 term: pass "
            "penalty_gradient=False and let the optimizer add it."
        )
    activations = forward(
        X, coefs, intercepts, activation, out_activation, kernels, first_layer
    )
    out = activations[-1]
    data_loss = LOSS_SUMS[out_activation](Y, out, out_activation, sample_weight)
    penalty = sum(float(np.vdot(c, c)) for c in coefs)
    loss = (data_loss + 0.5 * alpha * penalty) / denom

    # For softmax + cross-entropy, logistic + binary cross-entropy, identity +
    # squared error and exp + Poisson deviance the output delta is simply P - Y
    # (as in MLPRegressor, not divided by the number of outputs). Dividing it
    # by ``denom`` here scales every gradient below at the cost of one small
    # array.
    delta = out - Y
    if sample_weight is not None:
        delta *= sample_weight[:, np.newaxis]
    delta /= denom
    l2 = alpha / denom if alpha and penalty_gradient else 0.0
    coef_grads, intercept_grads = backward(
        activations, delta, coefs, activation, l2, masks, kernels, first_layer
    )
    return loss, coef_grads, intercept_grads


def backward(activations, delta, coefs, activation, l2, masks, kernels, first_layer):
    """Backpropagate the output ``delta``: the gradients of every layer.

    ``activations`` come from :func:`forward` (modified in place); ``l2`` adds
    ``l2 * W`` to each weight gradient, ``masks`` zero the pruned weights'
    gradients; ``kernels`` and ``first_layer`` as in :func:`loss_and_gradients`.
    """
    derivative = DERIVATIVES[activation]
    fused = kernels is not None and activation == "relu"
    n_layers = len(coefs)
    coef_grads = [None] * n_layers
    intercept_grads = [None] * n_layers
    bias_grad = delta.sum(axis=0)
    for i in range(n_layers - 1, -1, -1):
        intercept_grads[i] = bias_grad
        if i == 0 and first_layer is not None:
            coef_grads[0] = first_layer.gradient(delta)
            break
        grad = np.asarray(activations[i].T @ delta)
        if l2:
            grad += l2 * coefs[i]
        if masks is not None and masks[i] is not None:
            grad *= masks[i]
        coef_grads[i] = grad
        if i == 0:
            break
        if i == 1 and first_layer is not None:
            # Transposed product: the first layer reads delta.T row by row, and
            # the derivative then meets an activation of the same layout.
            delta = (coefs[1] @ delta.T).T
        else:
            delta = delta @ coefs[i].T
        if fused and delta.flags.c_contiguous and activations[i].flags.c_contiguous:
            # The relu derivative and the bias gradient in one pass.
            bias_grad = np.empty(delta.shape[1], dtype=delta.dtype)
            kernels["relu_backward"](activations[i], delta, bias_grad)
        else:
            derivative(activations[i], delta)
            bias_grad = delta.sum(axis=0)
    return coef_grads, intercept_grads


def predict_proba_dense(X, coefs, intercepts, activation, out_activation):
    """Output probabilities without keeping the hidden layers."""
    hidden = ACTIVATIONS[activation]
    A = X
    last = len(coefs) - 1
    for i, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        A = A @ coef
        A += intercept
        if i < last:
            hidden(A)
    return ACTIVATIONS[out_activation](A)


def mean_loss(X, Y, coefs, intercepts, activation, out_activation, sample_weight=None):
    """Average data loss (no penalty) of the network on ``(X, Y)``."""
    P = predict_proba_dense(X, coefs, intercepts, activation, out_activation)
    total = len(Y) if sample_weight is None else float(sample_weight.sum())
    loss = LOSS_SUMS[out_activation](Y, P, out_activation, sample_weight)
    return loss / max(total, 1e-300)


def gradient_statistics(
    X,
    Y,
    coefs,
    intercepts,
    *,
    activation,
    out_activation,
    batch_size,
    sample_weight=None,
):
    """Per-weight statistics for the Taylor and Optimal Brain Damage criteria.

    One pass over ``(X, Y)`` in batches of ``batch_size``.

    Returns
    -------
    taylor : list of ndarray
        Mean over batches of ``|W * G_b|``, with ``G_b`` the batch gradient of the
        data loss (first-order Taylor estimate of the loss change when a weight is
        removed, Molchanov et al. 2017).
    fisher : list of ndarray
        Mean over samples of the squared per-sample gradient: the diagonal of the
        empirical Fisher, which approximates the Hessian diagonal (LeCun et al.
        1990). The per-sample gradient of ``W_i`` is the outer product
        ``a_n delta_n``, so its square sums to ``(A ** 2).T @ (Delta ** 2)``.
    """
    n_samples = X.shape[0]
    taylor = [np.zeros_like(c) for c in coefs]
    fisher = [np.zeros_like(c) for c in coefs]
    derivative = DERIVATIVES[activation]
    n_batches = 0
    for start in range(0, n_samples, batch_size):
        batch = slice(start, min(start + batch_size, n_samples))
        activations = forward(X[batch], coefs, intercepts, activation, out_activation)
        delta = activations[-1] - Y[batch]
        if sample_weight is not None:
            delta *= sample_weight[batch, np.newaxis]
        n_batch = delta.shape[0]
        for i in range(len(coefs) - 1, -1, -1):
            A = activations[i]
            grad = np.asarray(A.T @ delta) / n_batch
            taylor[i] += np.abs(grad * coefs[i])
            A2 = A.multiply(A) if hasattr(A, "multiply") else A * A
            fisher[i] += np.asarray(A2.T @ (delta * delta))
            if i > 0:
                delta = delta @ coefs[i].T
                derivative(activations[i], delta)
        n_batches += 1
    for t, f in zip(taylor, fisher):
        t /= max(n_batches, 1)
        f /= max(n_samples, 1)
    return taylor, fisher
