"""Sparse storage of a trained network and the forward pass used by ``predict``.

Training works on dense weights with boolean masks; at the end of ``fit`` the kept
weights move into ``scipy.sparse.csr_array`` matrices whose structure *is* the mask
(a kept weight that happens to be 0.0 is stored as an explicit zero), so a stored
model can always be turned back into weights and masks.
"""

import numpy as np
import scipy.sparse as sp

from ._core import ACTIVATIONS

# A layer whose share of kept weights is above this is multiplied as a dense
# matrix at predict time; below it the CSR product is faster.
DENSE_DENSITY_THRESHOLD = 0.3


def to_csr(coef, mask=None):
    """CSR array of the kept weights of ``coef`` (32-bit indices, same dtype).

    Parameters
    ----------
    coef : ndarray of shape (fan_in, fan_out)
    mask : ndarray of bool of the same shape, or None for all weights

    Returns
    -------
    csr : scipy.sparse.csr_array
    """
    if mask is None:
        mask = np.ones(coef.shape, dtype=bool)
    indptr = np.zeros(coef.shape[0] + 1, dtype=np.int32)
    np.cumsum(np.count_nonzero(mask, axis=1), out=indptr[1:])
    indices = np.nonzero(mask)[1].astype(np.int32)
    data = np.ascontiguousarray(coef[mask])
    csr = sp.csr_array((data, indices, indptr), shape=coef.shape, copy=False)
    csr.has_sorted_indices = True
    return csr


def mask_from_csr(csr):
    """Boolean mask of the stored entries of ``csr`` (None if every entry is)."""
    if csr.nnz == csr.shape[0] * csr.shape[1]:
        return None
    mask = np.zeros(csr.shape, dtype=bool)
    rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
    mask[rows, csr.indices] = True
    return mask


def density(csr):
    return csr.nnz / max(csr.shape[0] * csr.shape[1], 1)


def inference_layers(sparse_coefs):
    """Per layer, the operand ``predict`` multiplies by: dense array or CSR."""
    return [
        c.toarray() if density(c) > DENSE_DENSITY_THRESHOLD else c for c in sparse_coefs
    ]


def forward_proba(X, layers, intercepts, activation, out_activation):
    """Output probabilities of the stored network.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    layers : list of (ndarray or csr_array)
        From :func:`inference_layers`.
    intercepts : list of ndarray
    activation, out_activation : str

    Returns
    -------
    proba : ndarray of shape (n_samples, n_outputs)
    """
    hidden = ACTIVATIONS[activation]
    A = X
    last = len(layers) - 1
    for i, (W, b) in enumerate(zip(layers, intercepts)):
        A = A @ W
        if sp.issparse(A):
            A = A.toarray()
        A = np.asarray(A)
        A += b
        if i < last:
            hidden(A)
    return ACTIVATIONS[out_activation](A)
