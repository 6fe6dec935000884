"""Optional compiled kernels for the optimizer step and the hidden layers.

A NumPy optimizer step is a dozen passes over every weight (each ufunc reads and
writes the whole array); on a 784-300-100-10 network that is as long as the
minibatch's forward pass. With `numba <https://numba.pydata.org>`_ installed (the
``fast`` extra: ``pip install "skprune[fast]"``) the step runs as one fused,
vectorized loop instead: the L2 term, the mask or the kept-weight index, the
moments and the weight update in a single pass. A hidden relu layer likewise
adds its bias and clips in one pass.

The kernels perform the same floating-point operations, in the same order and
the same precision, as the NumPy code in ``_optim`` and ``_core``, so both give
the same bits
(``tests/test_kernels.py`` checks it). Which one runs is decided per fit:

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


def _build():
    """Compile (or load from numba's cache) the kernels; None without numba."""
    try:
        from numba import njit
    except ImportError:
        return None

    # Serial loops: LLVM vectorizes them (``error_model="numpy"`` lets it, by
    # giving division NumPy's semantics instead of raising), which makes one
    # pass of a single thread several times faster than a dozen NumPy passes.
    # No threads of our own: they would compete with the BLAS threads (numba's
    # OpenMP layer spins between parallel regions) for no gain on this loop.
    jit = njit(cache=True, nogil=True, error_model="numpy")

    # Each kernel updates ``p`` (flat) in place. ``g`` is the data gradient, to
    # which ``l2 * p`` is added; ``mask`` (or None) multiplies the result. The
    # ``_kept`` variants step only the weights listed in ``idx``, whose state
    # alone is stored. Scalars come in the arrays' dtype, so float32 stays
    # float32 throughout.

    @jit
    def adam(p, g, mask, m, v, l2, b1, c1, b2, c2, eps, neg_lr):
        for i in range(p.size):
            gi = g[i] + l2 * p[i]
            if mask is not None:
                gi = gi * mask[i]
            mi = m[i] * b1 + gi * c1
            vi = v[i] * b2 + (gi * gi) * c2
            m[i] = mi
            v[i] = vi
            p[i] = p[i] + (mi / (np.sqrt(vi) + eps)) * neg_lr

    @jit
    def adam_kept(p, g, idx, m, v, l2, b1, c1, b2, c2, eps, neg_lr):
        for k in range(idx.size):
            i = idx[k]
            gi = g[i] + l2 * p[i]
            mk = m[k] * b1 + gi * c1
            vk = v[k] * b2 + (gi * gi) * c2
            m[k] = mk
            v[k] = vk
            p[i] = p[i] + (mk / (np.sqrt(vk) + eps)) * neg_lr

    @jit
    def sgd(p, g, mask, vel, l2, mu, lr, nesterov):
        for i in range(p.size):
            gi = g[i] + l2 * p[i]
            if mask is not None:
                gi = gi * mask[i]
            vi = vel[i] * mu - gi * lr
            vel[i] = vi
            if nesterov:
                p[i] = p[i] + (vi * mu - lr * gi)
            else:
                p[i] = p[i] + vi

    @jit
    def sgd_kept(p, g, idx, vel, l2, mu, lr, nesterov):
        for k in range(idx.size):
            i = idx[k]
            gi = g[i] + l2 * p[i]
            vk = vel[k] * mu - gi * lr
            vel[k] = vk
            if nesterov:
                p[i] = p[i] + (vk * mu - lr * gi)
            else:
                p[i] = p[i] + vk

    @jit
    def bias_relu(Z, b):
        # Z = maximum(Z + b, 0) as NumPy computes it (NaN and -0.0 kept).
        n_rows, n_cols = Z.shape
        for r in range(n_rows):
            for j in range(n_cols):
                z = Z[r, j] + b[j]
                Z[r, j] = z if (z >= 0 or z != z) else 0

    return {
        "bias_relu": bias_relu,
        "adam": adam,
        "adam_kept": adam_kept,
        "sgd": sgd,
        "sgd_kept": sgd_kept,
    }


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
        _KERNELS = _build() or False
    return _KERNELS or None


def numba_available():
    """True if numba is installed, so that the kernels can be used."""
    return compiled() is not None
