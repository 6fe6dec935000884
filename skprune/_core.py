"""Pure NumPy building blocks of a multi-layer perceptron.

Initialisation, activations, losses and the forward/backward passes used during
training. Weights are dense arrays; a pruned weight is an exact zero whose gradient
is masked, so it stays zero through every update.

Nothing here knows about estimators: functions take arrays and return arrays, and
the only in-place work is on arrays the function allocated or on arguments named
``out`` (or documented as modified in place).
"""

import functools
import math

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
    # The ufuncs' reductions directly: the array methods add a wrapper call.
    Z -= np.maximum.reduce(Z, axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= np.add.reduce(Z, axis=1, keepdims=True)
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


class Workspace:
    """The arrays a training step writes, kept from one minibatch to the next.

    A step of minibatch training writes a dozen arrays (each layer's
    activation, delta and gradients, the gathered minibatch); allocating them
    anew at every step costs as much as the small products that fill them.
    :func:`loss_and_gradients` given a workspace writes into its arrays
    instead, so the gradients it returns are overwritten by the next call.
    Each array is a view of one buffer per name, allocated once for the
    largest shape asked (the last minibatch of an epoch may be smaller, and
    removing units shrinks the layers).

    ``layers`` holds, for :func:`loss_and_gradients`'s ``sparse``, the layers
    computing their products over their kept weights (set by the training
    loop, which rebuilds them whenever the weights' arrays change).
    """

    def __init__(self):
        self._buffers = {}
        self._views = {}
        self.layers = None

    def array(self, name, shape, dtype):
        """An array of ``shape`` and ``dtype`` owned by ``name`` (uninitialised)."""
        key = (name, shape)
        view = self._views.get(key)
        if view is not None and view.dtype == dtype:
            return view
        size = math.prod(shape)
        buffer = self._buffers.get(name)
        if buffer is None or buffer.size < size or buffer.dtype != dtype:
            buffer = np.empty(size, dtype=dtype)
            self._buffers[name] = buffer
            self._views = {k: v for k, v in self._views.items() if k[0] != name}
        view = buffer[:size].reshape(shape)
        self._views[key] = view
        return view

    def take(self, name, a, indices):
        """``a[indices]`` (rows), written into the array owned by ``name``; a
        slice of rows gives a view instead."""
        if isinstance(indices, slice):
            return a[indices]
        out = self.array(name, (indices.size, *a.shape[1:]), a.dtype)
        # mode="clip" spares NumPy's defensive copy (the indices are valid).
        return np.take(a, indices, axis=0, out=out, mode="clip")


class _NoWorkspace:
    """New arrays every time: the workspace of one-off calls."""

    @staticmethod
    def array(name, shape, dtype):
        return np.empty(shape, dtype=dtype)


def forward(
    X,
    coefs,
    intercepts,
    activation,
    out_activation,
    kernels=None,
    sparse=None,
    workspace=None,
    raw_output=False,
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
    sparse : list, default=None
        Per layer, None (a dense product) or an object computing the layer's
        products over its kept weights (``_kernels.SparseLayer``). Such a layer
        reads its input and writes its output feature-major: those activations
        are transposed views of C-contiguous arrays.
    workspace : Workspace, default=None
        Write every layer's output into the workspace's arrays (None: new
        arrays).
    raw_output : bool, default=False
        Leave the output layer as its product alone, before the bias and the
        output activation (:func:`loss_and_gradients` finishes it, fused with
        the loss).

    Returns
    -------
    activations : list of ndarray
        ``[X, hidden_1, ..., output]``; the last item holds probabilities (or
        the raw output, see ``raw_output``).
    """
    ws = _NoWorkspace if workspace is None else workspace
    activations = [X]
    hidden = ACTIVATIONS[activation]
    last = len(coefs) - 1
    sparse = sparse or [None] * len(coefs)
    fused = kernels is not None and activation == "relu"
    n_samples = X.shape[0]
    for i, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        A = activations[-1]
        fan_out = coef.shape[1]
        dtype = coef.dtype if A.dtype == coef.dtype else np.result_type(A, coef)
        if sparse[i] is not None:
            if not A.T.flags.c_contiguous:  # the data, one row per sample
                AT = ws.array("input_t", A.shape[::-1], dtype)
                np.copyto(AT, A.T)
                activations[-1] = A = AT.T  # for the gradient, in backward
            ZT = ws.array(("z", i), (fan_out, n_samples), dtype)
            Z = sparse[i].forward(A.T, ZT).T
        elif not isinstance(A, np.ndarray):
            Z = np.asarray(A @ coef)
        elif i == last or (i < last and sparse[i + 1] is not None):
            # The output comes out transposed (column-major): the softmax and
            # the loss then reduce each row over contiguous columns, several
            # times faster than along rows of a few outputs. (A sparse layer
            # next reads it that way too.)
            ZT = ws.array(("z", i), (fan_out, n_samples), dtype)
            Z = np.matmul(coef.T, A.T, out=ZT).T
        else:
            Z = np.matmul(A, coef, out=ws.array(("z", i), (n_samples, fan_out), dtype))
        if i == last:
            if not raw_output:
                Z += intercept
                ACTIVATIONS[out_activation](Z)
        elif fused and Z.flags.c_contiguous:
            kernels["bias_relu"](Z, intercept)
        elif fused and Z.T.flags.c_contiguous:
            kernels["bias_relu_rows"](Z.T, intercept)
        else:
            Z += intercept
            hidden(Z)
        activations.append(Z)
    return activations


@functools.cache
def _eps(dtype):
    return np.finfo(dtype).eps


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
    eps = _eps(P.dtype)
    # np.clip(P, eps, 1 - eps), without its wrapper's per-call cost.
    P = np.minimum(np.maximum(P, eps), 1 - eps)
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
    sparse=None,
    workspace=None,
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
        Compiled kernels, see :func:`forward`; with a softmax output, the
        softmax, the loss and the output delta then run fused (same results).
    sparse : list, default=None
        Per layer, None or the object computing the layer's products over its
        kept weights (see :func:`forward`); that layer's gradient is then
        packed over its kept weights (``sparse[i].index``), and
        ``penalty_gradient`` must be False.
    workspace : Workspace, default=None
        Write activations, deltas and gradients into the workspace's arrays:
        the returned gradients are then overwritten by the next call.

    Returns
    -------
    loss : float
    coef_grads : list of ndarray
    intercept_grads : list of ndarray
    """
    if sparse is not None and any(sparse) and penalty_gradient and alpha:
        raise ValueError(
            "A sparse layer computes a packed gradient without the L2 term: pass "
            "penalty_gradient=False and let the optimizer add it."
        )
    ws = _NoWorkspace if workspace is None else workspace
    fuse = kernels is not None and out_activation == "softmax"
    activations = forward(
        X,
        coefs,
        intercepts,
        activation,
        out_activation,
        kernels,
        sparse,
        workspace,
        raw_output=fuse,
    )
    out = activations[-1]
    sparse_out = sparse is not None and sparse[-1] is not None
    if fuse and out.T.flags.c_contiguous:
        data_loss, delta, bias_grad = _softmax_loss(
            kernels, out, intercepts[-1], Y, sample_weight, denom, ws, sparse_out
        )
    else:
        if fuse:
            out += intercepts[-1]
            ACTIVATIONS[out_activation](out)
        data_loss = LOSS_SUMS[out_activation](Y, out, out_activation, sample_weight)
        # For softmax + cross-entropy, logistic + binary cross-entropy,
        # identity + squared error and exp + Poisson deviance the output delta
        # is simply P - Y (as in MLPRegressor, not divided by the number of
        # outputs). Dividing it by ``denom`` here scales every gradient below
        # at the cost of one small array.
        delta = np.subtract(out, Y, out=ws.array("delta", Y.shape, out.dtype))
        if sample_weight is not None:
            delta *= sample_weight[:, np.newaxis]
        delta /= denom
        bias_grad = None
    if sparse is None:
        penalty = sum(float(np.vdot(c, c)) for c in coefs)
    else:  # a sparse layer sums over its kept weights only
        penalty = sum(
            float(np.vdot(c, c)) if s is None else s.sum_squares()
            for c, s in zip(coefs, sparse)
        )
    loss = (data_loss + 0.5 * alpha * penalty) / denom
    l2 = alpha / denom if alpha and penalty_gradient else 0.0
    coef_grads, intercept_grads = backward(
        activations, delta, coefs, activation, l2, masks, kernels, sparse, ws, bias_grad
    )
    return loss, coef_grads, intercept_grads


def _softmax_loss(kernels, Z, intercept, Y, sample_weight, denom, ws, transposed):
    """The softmax output, its summed cross-entropy, the output delta and its
    bias gradient, fused around NumPy's exp (``_kernels.softmax_loss``); the
    same results as :func:`log_loss_sum` and the NumPy delta. ``Z`` is the
    output layer's product, a transposed view, finished in place. The delta is
    C-contiguous, or a transposed view with ``transposed`` (for a sparse output
    layer)."""
    ZT = Z.T
    n_outputs, n_samples = ZT.shape
    dtype = ZT.dtype.type
    scratch = ws.array("softmax", (n_samples,), ZT.dtype)
    kernels["softmax_shift"](ZT, intercept, scratch)
    np.exp(ZT, out=ZT)
    eps = dtype(np.finfo(dtype).eps)
    per_sample = ws.array("per_sample", (n_samples,), ZT.dtype)
    if transposed:
        delta = ws.array("delta", (n_outputs, n_samples), ZT.dtype).T
    else:
        delta = ws.array("delta", (n_samples, n_outputs), ZT.dtype)
    bias_grad = ws.array("output_bias_grad", (n_outputs,), ZT.dtype)
    kernels["softmax_loss"](
        ZT,
        Y,
        sample_weight,
        dtype(denom),
        eps,
        1 - eps,
        scratch,
        per_sample,
        delta,
        bias_grad,
    )
    return -float(per_sample.sum(dtype=np.float64)), delta, bias_grad


def backward(
    activations,
    delta,
    coefs,
    activation,
    l2,
    masks,
    kernels,
    sparse=None,
    workspace=None,
    bias_grad=None,
):
    """Backpropagate the output ``delta``: the gradients of every layer.

    ``activations`` come from :func:`forward` (modified in place); ``l2`` adds
    ``l2 * W`` to each weight gradient, ``masks`` zero the pruned weights'
    gradients; ``kernels``, ``sparse`` and ``workspace`` as in
    :func:`loss_and_gradients`. ``bias_grad`` is the output layer's, if
    already summed.
    """
    ws = _NoWorkspace if workspace is None else workspace
    derivative = DERIVATIVES[activation]
    fused = kernels is not None and activation == "relu"
    n_layers = len(coefs)
    sparse = sparse or [None] * n_layers
    coef_grads = [None] * n_layers
    intercept_grads = [None] * n_layers
    n_samples = delta.shape[0]
    if bias_grad is None:
        out = ws.array("output_bias_grad", delta.shape[1:], delta.dtype)
        bias_grad = np.add.reduce(delta, axis=0, out=out)
    for i in range(n_layers - 1, -1, -1):
        intercept_grads[i] = bias_grad
        A = activations[i]
        coef = coefs[i]
        dtype = delta.dtype
        if sparse[i] is not None:
            DT = delta.T
            if not DT.flags.c_contiguous:
                DT = ws.array(("delta_t", i), DT.shape, dtype)
                np.copyto(DT, delta.T)
            grad = ws.array(("coef_grad", i), sparse[i].index.shape, dtype)
            coef_grads[i] = sparse[i].gradient(A.T, DT, grad)
        else:
            if isinstance(A, np.ndarray):
                grad = np.matmul(
                    A.T, delta, out=ws.array(("coef_grad", i), coef.shape, dtype)
                )
            else:
                grad = np.asarray(A.T @ delta)
            if l2:
                grad += l2 * coef
            if masks is not None and masks[i] is not None:
                grad *= masks[i]
            coef_grads[i] = grad
        if i == 0:
            break
        fan_in = coef.shape[0]
        if sparse[i] is not None:
            out = ws.array(("delta", i), (fan_in, n_samples), dtype)
            delta = sparse[i].backward(DT, out).T
        elif sparse[i - 1] is not None:
            # Transposed product: the sparse layer below reads delta.T row by
            # row, and the derivative then meets an activation of the same
            # layout.
            out = ws.array(("delta", i), (fan_in, n_samples), dtype)
            delta = np.matmul(coef, delta.T, out=out).T
        else:
            out = ws.array(("delta", i), (n_samples, fan_in), dtype)
            delta = np.matmul(delta, coef.T, out=out)
        A = activations[i]
        bias_grad = ws.array(("bias_grad", i - 1), (fan_in,), dtype)
        if fused and delta.flags.c_contiguous and A.flags.c_contiguous:
            # The relu derivative and the bias gradient in one pass.
            kernels["relu_backward"](A, delta, bias_grad)
        elif fused and delta.T.flags.c_contiguous and A.T.flags.c_contiguous:
            kernels["relu_backward_rows"](A.T, delta.T, bias_grad)
        else:
            derivative(A, delta)
            np.add.reduce(delta, axis=0, out=bias_grad)
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
