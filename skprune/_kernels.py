"""Optional compiled kernels: the optimizer step, relu layers, sparse input layer.

A NumPy optimizer step is a dozen passes over every weight (each ufunc reads and
writes the whole array); on a 784-300-100-10 network that is as long as the
minibatch's forward pass. With `numba <https://numba.pydata.org>`_ installed (the
``fast`` extra: ``pip install "skprune[fast]"``) the step runs as one fused,
vectorized loop instead: the L2 term, the mask or the kept-weight index, the
moments and the weight update in a single pass. A hidden relu layer likewise
adds its bias and clips in one pass, and on the way back applies its derivative
and sums its bias gradient in one pass. These kernels perform the same
floating-point operations, in the same order and the same precision, as the
NumPy code in ``_optim`` and ``_core``, so both give the same bits
(``tests/test_kernels.py`` checks it).

Once pruning has left the input layer with few weights (its optimizer state is
then stored for the kept weights only), :class:`SparseInputLayer` computes that
layer's two products per minibatch over the kept weights alone, so training gets
faster as the network gets sparser. These products sum in another order than
BLAS, so from then on results agree with the NumPy code to rounding, not to the
bit.

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
# ``packed`` (``g[k]``, as the sparse input layer computes it). Scalars come in
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
    # The same in the sparse input layer's transposed layout, (fan_out,
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


# -- the sparse input layer's products ----------------------------------------
# They run through the kept weights eight at a time, so that each pass over a
# minibatch row does eight weights' work (the rows come from L2 cache: loads,
# not arithmetic, set the pace). The sums are reassociated (compiled with
# fastmath, which lets the reduction vectorize); their order differs from
# BLAS's anyway, and is fixed, so results are reproducible.


def sparse_forward(XT, W, cidx, crows, cptr, ZT):
    # ZT = (X @ W).T over the kept weights, W flat; column j's kept weights
    # sit at W[cidx[cptr[j]:cptr[j + 1]]], in rows crows[cptr[j]:cptr[j + 1]].
    n_batch = XT.shape[1]
    for j in range(cptr.size - 1):
        z = ZT[j]
        z[:] = 0
        start, end = cptr[j], cptr[j + 1]
        eights = start + (end - start) // 8 * 8
        for k in range(start, eights, 8):
            w0, w1, w2, w3, w4, w5, w6, w7 = take8(W, cidx, k)
            x0, x1, x2, x3, x4, x5, x6, x7 = take8(XT, crows, k)
            for n in range(n_batch):
                z[n] += ((w0 * x0[n] + w1 * x1[n]) + (w2 * x2[n] + w3 * x3[n])) + (
                    (w4 * x4[n] + w5 * x5[n]) + (w6 * x6[n] + w7 * x7[n])
                )
        for k in range(eights, end):
            w0, x0 = W[cidx[k]], XT[crows[k]]
            for n in range(n_batch):
                z[n] += w0 * x0[n]


def sparse_gradient(XT, DT, indptr, cols, out):
    # out[k] = XT[r] . DT[cols[k]] for each kept weight k, of row r (the kept
    # weights in row-major order: row r's are indptr[r]:indptr[r + 1]).
    n_batch = XT.shape[1]
    for r in range(indptr.size - 1):
        x = XT[r]
        zero = x[0] - x[0]  # in the data's dtype (x is finite)
        start, end = indptr[r], indptr[r + 1]
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


_HELPERS = ("adam_one", "sgd_one", "relu_one", "take8")
_KERNEL_NAMES = (
    "adam",
    "adam_kept",
    "sgd",
    "sgd_kept",
    "bias_relu",
    "bias_relu_rows",
    "relu_backward",
)
_FASTMATH_KERNEL_NAMES = ("sparse_forward", "sparse_gradient")


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


class SparseInputLayer:
    """The input layer's two products over its kept weights only.

    Once the input layer keeps so few weights that the optimizer stores their
    state alone (see ``_optim.KERNEL_COMPRESS_DENSITY``), its products for a
    minibatch, ``X @ W`` forward and ``X.T @ delta`` for the gradient, are
    computed for the kept weights only: work in proportion to what is left of
    the layer. The minibatch is gathered transposed, one row per feature, so that
    both products run over contiguous rows; the gradient comes out packed, one
    value per kept weight, as the optimizer stores it.

    Parameters
    ----------
    kernels : dict
        ``compiled()``.
    X : ndarray of shape (n_samples, n_features)
        The training data, in the weights' dtype.
    coef : ndarray of shape (n_features, fan_out)
        The input layer's weights (read at every product: the optimizer updates
        them in place).
    index : ndarray of int
        The kept weights' flat positions in ``coef``, ascending.
    """

    def __init__(self, kernels, X, coef, index):
        fan_in, fan_out = coef.shape
        self.kernels = kernels
        self.X = X
        self.coef = coef
        self.index = index
        rows, self.cols = np.divmod(index, fan_out)
        self.indptr = _pointers(rows, fan_in)
        # The same weights by column, for the forward product.
        order = np.argsort(self.cols, kind="stable")
        self.cindex, self.crows = index[order], rows[order]
        self.cptr = _pointers(self.cols, fan_out)
        self.XT = None

    def matches(self, coef, index):
        """True if this layer still describes ``coef`` pruned to ``index``."""
        return coef is self.coef and index is self.index

    def load(self, rows):
        """Gather the minibatch ``X[rows]``, transposed (NumPy's copy of the
        transposed view beat a plain compiled loop)."""
        self.XT = np.empty((self.X.shape[1], rows.size), dtype=self.coef.dtype)
        np.copyto(self.XT, self.X[rows].T)

    def product(self):
        """``X[rows] @ coef`` of shape (n_batch, fan_out), as a transposed view."""
        ZT = np.empty((self.coef.shape[1], self.XT.shape[1]), dtype=self.coef.dtype)
        self.kernels["sparse_forward"](
            self.XT, self.coef.reshape(-1), self.cindex, self.crows, self.cptr, ZT
        )
        return ZT.T

    def gradient(self, delta):
        """``(X[rows].T @ delta)`` at the kept weights, packed."""
        DT = np.ascontiguousarray(delta.T)  # a view when delta is F-ordered
        out = np.empty(self.index.size, dtype=self.coef.dtype)
        self.kernels["sparse_gradient"](self.XT, DT, self.indptr, self.cols, out)
        return out


def _pointers(groups, n_groups):
    """CSR-style pointers of sorted group labels: group g is ptr[g]:ptr[g + 1]."""
    ptr = np.zeros(n_groups + 1, dtype=np.intp)
    np.cumsum(np.bincount(groups, minlength=n_groups), out=ptr[1:])
    return ptr
