"""Optional compiled kernels: optimizer steps, relu layers, softmax, sparse layers.

A NumPy optimizer step is a dozen passes over every weight (each ufunc reads and
writes the whole array); on a 784-300-100-10 network that is as long as the
minibatch's forward pass. With `numba <https://numba.pydata.org>`_ installed (the
``fast`` extra: ``pip install "skprune[fast]"``) the step runs as one fused,
vectorized loop instead: the L2 term, the mask or the kept-weight index, the
moments and the weight update in a single pass. A hidden relu layer likewise
adds its bias and clips in one pass, and on the way back applies its derivative
and sums its bias gradient in one pass; a softmax output computes its
normalisation, cross-entropy, delta and bias gradient in one pass after NumPy's
exp. These kernels perform the same floating-point operations, in the same
order and the same precision, as the NumPy code in ``_optim`` and ``_core``, so
both give the same bits (``tests/test_kernels.py`` checks it).

Once pruning has left a layer with few weights (its optimizer state is then
stored for the kept weights only), :class:`SparseLayer` computes that layer's
products per minibatch over the kept weights alone: forward, backward (but for
the input layer) and the weight gradient at the kept weights, so training gets
faster as the network gets sparser. These products sum in another order than
BLAS, so from then on results agree with the NumPy code to rounding, not to the
bit. :func:`sparse_pays` decides per layer, from its shape and density, with
the crossover measured by ``benchmarks/bench_layers.py --calibrate``.

Which one runs is decided per fit:

- ``SKPRUNE_NUMBA=0`` in the environment: always NumPy;
- ``SKPRUNE_NUMBA=1``: numba whenever it is installed;
- unset (the default): numba when it is installed and the network has at least
  ``MIN_WEIGHTS`` weights. Importing numba takes a few tenths of a second and the
  first use compiles the kernels (cached on disk afterwards), which small networks
  would never win back.
"""

import os

import numpy as np

# Smallest network (in weights) for which the kernels are used by default.
MIN_WEIGHTS = 50_000

# A layer's products run over its kept weights (``sparse_pays``) once it keeps
# at most SPARSE_DENSITY of its weights, or SMALL_SPARSE_DENSITY for a layer of
# fewer than SMALL_LAYER_WEIGHTS weights (BLAS is least efficient on small
# matrices). The crossovers, where both cost the same, measured by
# ``benchmarks/bench_layers.py --calibrate`` (minibatch 200, float32, a 2-core
# AMD EPYC shared with other jobs, OpenBLAS Haswell kernel on 2 threads; range
# of three runs): 784x300 input layer 0.135-0.163, 1000x1000 0.132-0.135,
# 256x256 0.16-0.21, 300x100 0.20-0.21, 100x10 above 0.3. Below it a layer's
# cost falls with its density, to about a quarter of the dense cost at 1 %
# (fixed costs remain). With one BLAS thread the dense products take about
# twice as long and the crossovers rise. Sparse products also need the
# optimizer's state of the kept weights alone, kept below
# ``_optim.KERNEL_COMPRESS_DENSITY`` (0.15) only, so small layers go sparse
# from there.
SPARSE_DENSITY = 0.14
SMALL_SPARSE_DENSITY = 0.2
SMALL_LAYER_WEIGHTS = 131_072

_KERNELS = None  # the compiled functions, once built; False if numba is missing


# The kernels' source: plain Python functions, compiled by ``_build`` (which
# imports numba only when the kernels are first wanted). They are module-level
# functions with no closure: numba's disk cache keys a closure on its captured
# variables, and a captured dispatcher hashes differently in every process, so
# kernels built as closures would be compiled anew by every process.
#
# Each optimizer kernel updates ``p`` (flat) in place. ``g`` is the data
# gradient, to which ``l2 * p`` is added; ``mask`` (or None) multiplies the
# result. The ``_kept`` variants step only the weights listed in ``idx``, whose
# state alone is stored; their gradient is either dense (``g[idx[k]]``) or
# ``packed`` (``g[k]``, as the sparse layers compute it). Scalars come in
# the arrays' dtype, so float32 stays float32 throughout.


# -- helpers, inlined into the kernels that call them ------------------------


def adam_one(pi, gi, mi, vi, b1, c1, b2, c2, eps, neg_lr):
    # One weight's Adam step, shared by the dense and the kept-weight loops.
    mi = mi * b1 + gi * c1
    vi = vi * b2 + (gi * gi) * c2
    return mi, vi, pi + (mi / (np.sqrt(vi) + eps)) * neg_lr


def sgd_one(pi, gi, vi, mu, lr, nesterov):
    vi = vi * mu - gi * lr
    if nesterov:
        return vi, pi + (vi * mu - lr * gi)
    return vi, pi + vi


def relu_one(z):
    # maximum(z, 0) as NumPy computes it (NaN and -0.0 kept).
    return z if (z >= 0 or z != z) else 0


def take8(A, idx, k):
    # A[idx[k]], ..., A[idx[k + 7]]: eight values of a vector, or eight rows.
    i = idx[k : k + 8]
    return A[i[0]], A[i[1]], A[i[2]], A[i[3]], A[i[4]], A[i[5]], A[i[6]], A[i[7]]


# -- optimizer steps ------------------------------------------------------------


def adam(p, g, mask, m, v, l2, b1, c1, b2, c2, eps, neg_lr):
    for i in range(p.size):
        gi = g[i] + l2 * p[i]
        if mask is not None:
            gi = gi * mask[i]
        m[i], v[i], p[i] = adam_one(p[i], gi, m[i], v[i], b1, c1, b2, c2, eps, neg_lr)


def adam_kept(p, g, idx, packed, m, v, l2, b1, c1, b2, c2, eps, neg_lr):
    for k in range(idx.size):
        i = idx[k]
        gi = (g[k] if packed else g[i]) + l2 * p[i]
        m[k], v[k], p[i] = adam_one(p[i], gi, m[k], v[k], b1, c1, b2, c2, eps, neg_lr)


def sgd(p, g, mask, vel, l2, mu, lr, nesterov):
    for i in range(p.size):
        gi = g[i] + l2 * p[i]
        if mask is not None:
            gi = gi * mask[i]
        vel[i], p[i] = sgd_one(p[i], gi, vel[i], mu, lr, nesterov)


def sgd_kept(p, g, idx, packed, vel, l2, mu, lr, nesterov):
    for k in range(idx.size):
        i = idx[k]
        gi = (g[k] if packed else g[i]) + l2 * p[i]
        vel[k], p[i] = sgd_one(p[i], gi, vel[k], mu, lr, nesterov)


# -- relu layers ------------------------------------------------------------------


def bias_relu(Z, b):
    # Z = relu(Z + b), one bias per column.
    for r in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            Z[r, j] = relu_one(Z[r, j] + b[j])


def bias_relu_rows(ZT, b):
    # The same in the sparse layers' transposed layout, (fan_out,
    # n_batch): one bias per row.
    for j in range(ZT.shape[0]):
        for r in range(ZT.shape[1]):
            ZT[j, r] = relu_one(ZT[j, r] + b[j])


def relu_backward(A, delta, bias_grad):
    # delta *= (A > 0) in place, and bias_grad = delta.sum(axis=0), in NumPy's
    # order (rows added one after another, from zero).
    bias_grad[:] = 0
    for r in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            delta[r, j] = delta[r, j] * (A[r, j] > 0)  # (kept in delta's dtype)
            bias_grad[j] += delta[r, j]


def relu_backward_rows(AT, DT, bias_grad):
    # The same in the transposed layout of the sparse layers, (fan_out,
    # n_batch): the bias gradient sums along rows (compiled with fastmath, so
    # the sum is reassociated: these layers sum in their own order anyway).
    zero = DT.dtype.type(0)
    for j in range(DT.shape[0]):
        total = zero
        for r in range(DT.shape[1]):
            d = DT[j, r] if AT[j, r] > 0 else zero
            DT[j, r] = d
            total += d
        bias_grad[j] = total


# -- softmax output and its loss --------------------------------------------------
# Around NumPy's exp (numba's exp rounds differently): the bias and the shift by
# the row maximum before it, then the normalisation, the cross-entropy and the
# output delta in one pass after it, with NumPy's results bit for bit. The
# output is transposed, ZT of shape (n_classes, n_batch), as ``_core.forward``
# lays it out.


def softmax_shift(ZT, b, peak):
    # ZT += b (one bias per row), then ZT -= its column maximum (NaN spreads,
    # as in NumPy's max).
    n_classes, n_batch = ZT.shape
    for j in range(n_classes):
        for r in range(n_batch):
            ZT[j, r] = ZT[j, r] + b[j]
    peak[:] = ZT[0]
    for j in range(1, n_classes):
        for r in range(n_batch):
            z = ZT[j, r]
            if z > peak[r] or z != z:
                peak[r] = z
    for j in range(n_classes):
        for r in range(n_batch):
            ZT[j, r] = ZT[j, r] - peak[r]


def softmax_loss(ZT, Y, sw, denom, lo, hi, total, per_sample, delta, bias_grad):
    # After ZT = exp(ZT): ZT /= its column sums (added class after class, as
    # NumPy reduces this layout); per_sample = the cross-entropy of each
    # sample, sum_j xlogy(Y, clip(P, lo, hi)), times its weight: Y is one-hot,
    # so the sum has a single nonzero term and its order does not matter;
    # xlogy computes in the data's dtype, and numba's log is the C library's,
    # as scipy's. Then delta = (P - Y) * sw / denom (``delta`` may be a
    # transposed view) and bias_grad = delta.sum(axis=0), rows added in order.
    n_classes, n_batch = ZT.shape
    total[:] = ZT[0]
    for j in range(1, n_classes):
        for r in range(n_batch):
            total[r] = total[r] + ZT[j, r]
    for j in range(n_classes):
        for r in range(n_batch):
            ZT[j, r] = ZT[j, r] / total[r]
    zero = denom - denom
    for r in range(n_batch):
        loss = zero
        for j in range(n_classes):
            y = Y[r, j]
            if y != 0:
                p = ZT[j, r]
                if p < lo:
                    p = lo
                elif p > hi:
                    p = hi
                loss = loss + y * np.log(p)
        if sw is not None:
            loss = loss * sw[r]
        per_sample[r] = loss
    bias_grad[:] = 0
    for r in range(n_batch):
        for j in range(n_classes):
            d = ZT[j, r] - Y[r, j]
            if sw is not None:
                d = d * sw[r]
            d = d / denom
            delta[r, j] = d
            bias_grad[j] += d


# -- the sparse layers' products ----------------------------------------------
# They run through the kept weights eight at a time, so that each pass over a
# row of the minibatch (feature-major: one row per unit, one column per sample)
# does eight weights' work (the rows come from L1 or L2 cache: loads, not
# arithmetic, set the pace). The sums are reassociated (compiled with fastmath,
# which lets the reduction vectorize); their order differs from BLAS's anyway,
# and is fixed, so results are reproducible.


def sparse_product(src, W, widx, sidx, ptr, out):
    # out[g] = sum over k in ptr[g]:ptr[g + 1] of W[widx[k]] * src[sidx[k]],
    # rows of length n_batch. With the kept weights by column (their rows as
    # sidx) it is the forward product (X @ W).T; by row (their columns as
    # sidx), the backward one (delta @ W.T).T. A group's last weights go four,
    # then two, then one at a time: a sparse layer's groups are short, and each
    # pass over out[g] costs a load and a store per sample.
    n_batch = src.shape[1]
    for g in range(ptr.size - 1):
        z = out[g]
        z[:] = 0
        k, end = ptr[g], ptr[g + 1]
        while k + 8 <= end:
            w0, w1, w2, w3, w4, w5, w6, w7 = take8(W, widx, k)
            x0, x1, x2, x3, x4, x5, x6, x7 = take8(src, sidx, k)
            for n in range(n_batch):
                z[n] += ((w0 * x0[n] + w1 * x1[n]) + (w2 * x2[n] + w3 * x3[n])) + (
                    (w4 * x4[n] + w5 * x5[n]) + (w6 * x6[n] + w7 * x7[n])
                )
            k += 8
        if k + 4 <= end:
            w0, w1, w2, w3 = W[widx[k]], W[widx[k + 1]], W[widx[k + 2]], W[widx[k + 3]]
            x0, x1, x2, x3 = (
                src[sidx[k]],
                src[sidx[k + 1]],
                src[sidx[k + 2]],
                src[sidx[k + 3]],
            )
            for n in range(n_batch):
                z[n] += (w0 * x0[n] + w1 * x1[n]) + (w2 * x2[n] + w3 * x3[n])
            k += 4
        if k + 2 <= end:
            w0, w1, x0, x1 = W[widx[k]], W[widx[k + 1]], src[sidx[k]], src[sidx[k + 1]]
            for n in range(n_batch):
                z[n] += w0 * x0[n] + w1 * x1[n]
            k += 2
        if k < end:
            w0, x0 = W[widx[k]], src[sidx[k]]
            for n in range(n_batch):
                z[n] += w0 * x0[n]


def sparse_gradient(XT, DT, indptr, cols, out):
    # out[k] = XT[r] . DT[cols[k]] for each kept weight k, of row r (the kept
    # weights in row-major order: row r's are indptr[r]:indptr[r + 1]).
    n_batch = XT.shape[1]
    for r in range(indptr.size - 1):
        x = XT[r]
        start, end = indptr[r], indptr[r + 1]
        if start == end:
            continue
        zero = x[0] - x[0]  # in the data's dtype (x is finite)
        eights = start + (end - start) // 8 * 8
        for k in range(start, eights, 8):
            d0, d1, d2, d3, d4, d5, d6, d7 = take8(DT, cols, k)
            t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = zero
            for n in range(n_batch):
                t0 += x[n] * d0[n]
                t1 += x[n] * d1[n]
                t2 += x[n] * d2[n]
                t3 += x[n] * d3[n]
                t4 += x[n] * d4[n]
                t5 += x[n] * d5[n]
                t6 += x[n] * d6[n]
                t7 += x[n] * d7[n]
            out[k : k + 8] = t0, t1, t2, t3, t4, t5, t6, t7
        for k in range(eights, end):
            d0 = DT[cols[k]]
            t0 = zero
            for n in range(n_batch):
                t0 += x[n] * d0[n]
            out[k] = t0


def gather_transposed(X, rows, XT):
    # XT[:, s] = X[rows[s]]: the minibatch gathered feature-major, as the
    # sparse input layer reads it, in one pass over 8 x 8 tiles (eight samples'
    # rows read, eight features' rows written, each tile from and to L1 cache:
    # measured about twice as fast as a sample at a time, or as NumPy's gather
    # then copy of the transposed view).
    n_batch, n_features = rows.size, X.shape[1]
    tail_s, tail_f = n_batch - n_batch % 8, n_features - n_features % 8
    for s0 in range(0, tail_s, 8):
        for f0 in range(0, tail_f, 8):
            for a in range(8):
                r = rows[s0 + a]
                for c in range(8):
                    XT[f0 + c, s0 + a] = X[r, f0 + c]
        for f in range(tail_f, n_features):
            for a in range(8):
                XT[f, s0 + a] = X[rows[s0 + a], f]
    for s in range(tail_s, n_batch):
        for f in range(n_features):
            XT[f, s] = X[rows[s], f]


def kept_sum_squares(W, index):
    # sum(W[index] ** 2), reassociated (fastmath): the L2 penalty of a sparse
    # layer, over its kept weights only.
    total = W[0] - W[0]
    for k in range(index.size):
        w = W[index[k]]
        total += w * w
    return total


_HELPERS = ("adam_one", "sgd_one", "relu_one", "take8")
_KERNEL_NAMES = (
    "adam",
    "adam_kept",
    "sgd",
    "sgd_kept",
    "bias_relu",
    "bias_relu_rows",
    "relu_backward",
    "softmax_shift",
    "softmax_loss",
    "gather_transposed",
)
_FASTMATH_KERNEL_NAMES = (
    "relu_backward_rows",
    "sparse_product",
    "sparse_gradient",
    "kept_sum_squares",
)


def _build(cache=True):
    """The kernels, compiled on first call (or loaded from numba's disk cache)."""
    from numba import njit

    module = globals()
    # The helpers are replaced, in this module, by their compiled versions:
    # the kernels find them there, as globals, when they compile.
    for name in _HELPERS:
        if not hasattr(module[name], "py_func"):
            module[name] = njit(inline="always", error_model="numpy")(module[name])
    # Serial loops: LLVM vectorizes them (``error_model="numpy"`` lets it, by
    # giving division NumPy's semantics instead of raising), which makes one
    # pass of a single thread several times faster than a dozen NumPy passes.
    # No parallel loops: numba's OpenMP layer spins between parallel regions and
    # starves the BLAS threads that run next, and splitting the sparse products
    # over a second thread measured no faster (the BLAS threads hold the cores).
    jit = njit(cache=cache, nogil=True, error_model="numpy")
    fast = njit(cache=cache, nogil=True, error_model="numpy", fastmath=True)
    kernels = {name: jit(module[name]) for name in _KERNEL_NAMES}
    kernels.update({name: fast(module[name]) for name in _FASTMATH_KERNEL_NAMES})
    return kernels


def sparse_pays(shape, n_kept):
    """Whether a layer's products should run over its ``n_kept`` weights only.

    Parameters
    ----------
    shape : tuple of int
        ``(fan_in, fan_out)`` of the layer's weights.
    n_kept : int
        Number of kept weights.

    Returns
    -------
    pays : bool
        True at or below the layer's crossover density, ``SPARSE_DENSITY`` or,
        for a small layer, ``SMALL_SPARSE_DENSITY``.
    """
    n_weights = shape[0] * shape[1]
    small = n_weights < SMALL_LAYER_WEIGHTS
    return n_kept <= (SMALL_SPARSE_DENSITY if small else SPARSE_DENSITY) * n_weights


def use_kernels(n_weights):
    """Whether a network of ``n_weights`` weights should train with the kernels.

    Parameters
    ----------
    n_weights : int
        Number of connection weights of the network being trained.

    Returns
    -------
    use : bool
        False when numba is missing, when ``SKPRUNE_NUMBA=0``, or (by default)
        when the network is smaller than ``MIN_WEIGHTS``.
    """
    setting = os.environ.get("SKPRUNE_NUMBA", "").strip()
    if setting == "0" or (setting != "1" and n_weights < MIN_WEIGHTS):
        return False
    return compiled() is not None


def compiled():
    """The compiled kernels (a dict by name), or None without numba."""
    global _KERNELS
    if _KERNELS is None:
        try:
            _KERNELS = _build()
        except ImportError:
            _KERNELS = False
        except RuntimeError:  # numba found no writable place for its cache
            _KERNELS = _build(cache=False)
    return _KERNELS or None


def numba_available():
    """True if numba is installed, so that the kernels can be used."""
    return compiled() is not None


class SparseLayer:
    """One layer's three products over its kept weights only.

    Once a layer keeps so few weights that the optimizer stores their state
    alone (see ``_optim.KERNEL_COMPRESS_DENSITY``) and sparse products pay for
    its shape (:func:`sparse_pays`), its products for a minibatch are computed
    for the kept weights only: work in proportion to what is left of the layer.
    It reads and writes feature-major arrays, one row per unit and one column
    per sample (the transposes of the minibatch's activations and deltas, as
    ``_core.forward`` and ``_core.backward`` lay them out around it), so that
    every product runs over contiguous rows; the weight gradient comes out
    packed, one value per kept weight, as the optimizer stores it.

    Parameters
    ----------
    kernels : dict
        ``compiled()``.
    coef : ndarray of shape (fan_in, fan_out)
        The layer's weights (read at every product: the optimizer updates them
        in place).
    index : ndarray of int
        The kept weights' flat positions in ``coef``, ascending.
    """

    def __init__(self, kernels, coef, index):
        fan_in, fan_out = coef.shape
        self.kernels = kernels
        self.coef = coef
        self.index = index
        self.weights = coef.reshape(-1)  # a view: sees the optimizer's updates
        rows, self.cols = np.divmod(index, fan_out)
        self.indptr = _pointers(rows, fan_in)
        # The same weights by column, for the forward product.
        order = np.argsort(self.cols, kind="stable")
        self.cindex, self.crows = index[order], rows[order]
        self.cptr = _pointers(self.cols, fan_out)

    def matches(self, coef, index):
        """True if this layer still describes ``coef`` pruned to ``index``.

        The training state replaces its arrays (not only their values) when it
        prunes, removes units or restores a snapshot, and the optimizer its
        ``index``: a new array means a new layer.
        """
        return coef is self.coef and index is self.index

    def gather(self, X, rows, out):
        """``out = X[rows].T``, the input layer's minibatch as it reads it."""
        self.kernels["gather_transposed"](X, rows, out)
        return out

    def sum_squares(self):
        """``sum(coef ** 2)`` over the kept weights (the L2 penalty's part)."""
        return float(self.kernels["kept_sum_squares"](self.weights, self.index))

    def forward(self, AT, out):
        """``out = (A @ coef).T`` from ``AT = A.T``, both C-contiguous."""
        self.kernels["sparse_product"](
            AT, self.weights, self.cindex, self.crows, self.cptr, out
        )
        return out

    def backward(self, DT, out):
        """``out = (delta @ coef.T).T`` from ``DT = delta.T``."""
        self.kernels["sparse_product"](
            DT, self.weights, self.index, self.cols, self.indptr, out
        )
        return out

    def gradient(self, AT, DT, out):
        """``out = (A.T @ delta)`` at the kept weights, packed (of shape
        ``index.shape``)."""
        self.kernels["sparse_gradient"](AT, DT, self.indptr, self.cols, out)
        return out


def _pointers(groups, n_groups):
    """CSR-style pointers of sorted group labels: group g is ptr[g]:ptr[g + 1]."""
    ptr = np.zeros(n_groups + 1, dtype=np.intp)
    np.cumsum(np.bincount(groups, minlength=n_groups), out=ptr[1:])
    return ptr
