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


def compact_network(coefs, intercepts, masks, activation):
    """Remove the hidden units that cannot change the output, exactly.

    A hidden unit with no kept outgoing weight is dropped. A hidden unit with no
    kept incoming weight outputs the constant ``activation(bias)``: its
    contribution is folded into the next layer's bias and it is dropped. Both
    are repeated until nothing changes, since removing one unit can leave
    others without weights. Input features are never removed here (the input
    size is part of the estimator's contract); see :func:`used_features`.

    Parameters
    ----------
    coefs, intercepts : lists of ndarray
        Dense weights (pruned entries are zero) and biases. Not modified.
    masks : list of (ndarray of bool or None)
        Kept weights.
    activation : str
        Hidden activation.

    Returns
    -------
    coefs, intercepts, masks : lists
        The compacted network; a hidden layer keeps at least one unit.
    """
    coefs = [c.copy() for c in coefs]
    intercepts = [b.copy() for b in intercepts]
    masks = [np.ones(c.shape, bool) if m is None else m.copy()
             for c, m in zip(coefs, masks)]
    act = ACTIVATIONS[activation]
    changed = True
    while changed:
        changed = False
        for h in range(len(coefs) - 1):  # hidden layer h: columns of coefs[h]
            has_out = masks[h + 1].any(axis=1)
            has_in = masks[h].any(axis=0)
            constant = has_out & ~has_in
            if constant.any():
                value = act(intercepts[h][constant].copy())
                intercepts[h + 1] = intercepts[h + 1] + value @ coefs[h + 1][constant]
            keep = has_out & has_in
            if keep.all():
                continue
            if not keep.any():
                # Nothing reaches the output through this layer: keep one inert
                # unit so that the layer still exists.
                keep[0] = True
                coefs[h][:, 0] = 0
                masks[h][:, 0] = False
                intercepts[h][0] = 0
                coefs[h + 1][0] = 0
                masks[h + 1][0] = False
                if keep.size == 1:
                    continue
            coefs[h], masks[h] = coefs[h][:, keep], masks[h][:, keep]
            intercepts[h] = intercepts[h][keep]
            coefs[h + 1], masks[h + 1] = coefs[h + 1][keep], masks[h + 1][keep]
            changed = True
    return coefs, intercepts, [None if m.all() else m for m in masks]


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


def feature_importances(sparse_coefs):
    """Importance of each input: total |weight| product over its paths to outputs.

    ``|W_0| @ |W_1| @ ... @ |W_L| @ 1``, normalised to sum to one. An input whose
    every path was pruned gets exactly zero, so ``SelectFromModel`` drops it.
    """
    v = np.ones(sparse_coefs[-1].shape[1])
    for W in reversed(sparse_coefs):
        v = abs(W).astype(np.float64) @ v
    total = v.sum()
    return v / total if total > 0 else v
