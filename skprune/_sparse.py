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
# matrix at predict time; below it the CSR product is faster (measured by
# benchmarks/bench_predict.py --calibrate on the reference machine).
DENSE_DENSITY_THRESHOLD = 0.08

# predict_proba works on row chunks whose activations take about this many bytes:
# BLAS products gain from large blocks, CSR products from blocks that stay in
# cache (measured with benchmarks/bench_predict.py).
CHUNK_BYTES_DENSE = 32 * 2**20
CHUNK_BYTES_SPARSE = 4 * 2**20


def compact_network(coefs, intercepts, masks, activation, return_units=False):
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
    return_units : bool, default=False
        Also return, per hidden layer, the indices of the units kept.

    Returns
    -------
    coefs, intercepts, masks : lists
        The compacted network; a hidden layer keeps at least one unit.
    units : list of ndarray of int
        Only with ``return_units``: original positions of the kept units.
    """
    coefs = [c.copy() for c in coefs]
    intercepts = [b.copy() for b in intercepts]
    masks = [
        np.ones(c.shape, bool) if m is None else m.copy() for c, m in zip(coefs, masks)
    ]
    act = ACTIVATIONS[activation]
    units = [np.arange(c.shape[1]) for c in coefs[:-1]]
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
            units[h] = units[h][keep]
            coefs[h + 1], masks[h + 1] = coefs[h + 1][keep], masks[h + 1][keep]
            changed = True
    masks = [None if m.all() else m for m in masks]
    if return_units:
        return coefs, intercepts, masks, units
    return coefs, intercepts, masks


def expand_network(sparse_coefs, intercepts, units, hidden_sizes, dtype):
    """Undo :func:`compact_network`: the stored network in its trained shape.

    Removed units come back at their original positions with no kept weight and
    a zero bias, which changes nothing downstream (their outgoing weights are
    pruned); a folded constant unit stays folded into the next bias.

    Parameters
    ----------
    sparse_coefs : list of csr_array
        Compacted weights; stored entries are the kept weights.
    intercepts : list of ndarray
        Compacted biases.
    units : list of ndarray of int
        Per hidden layer, the original positions of the stored units.
    hidden_sizes : sequence of int
        Hidden layer sizes of the network as trained.
    dtype : numpy dtype

    Returns
    -------
    coefs, intercepts, masks : lists
        Dense weights, biases and masks (None where every weight is kept).
    """
    n_in = sparse_coefs[0].shape[0]
    n_out = sparse_coefs[-1].shape[1]
    sizes = [n_in, *hidden_sizes, n_out]
    positions = [np.arange(n_in), *units, np.arange(n_out)]
    coefs, biases, masks = [], [], []
    for i, csr in enumerate(sparse_coefs):
        rows, cols = np.ix_(positions[i], positions[i + 1])
        coef = np.zeros((sizes[i], sizes[i + 1]), dtype=dtype)
        coef[rows, cols] = csr.toarray()
        mask = np.zeros(coef.shape, dtype=bool)
        stored = mask_from_csr(csr)
        mask[rows, cols] = True if stored is None else stored
        bias = np.zeros(sizes[i + 1], dtype=dtype)
        bias[positions[i + 1]] = intercepts[i]
        coefs.append(coef)
        biases.append(bias)
        masks.append(None if mask.all() else mask)
    return coefs, biases, masks


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


def pack_csr(csr):
    """The arrays of a CSR matrix, indices in the narrowest unsigned type.

    Used for storage: column indices of a layer narrower than 65536 units fit in
    two bytes instead of four.
    """
    index_dtype = np.uint16 if csr.shape[1] <= np.iinfo(np.uint16).max else np.int32
    return {
        "shape": tuple(int(n) for n in csr.shape),
        "data": csr.data,
        "indices": csr.indices.astype(index_dtype),
        "indptr": csr.indptr.astype(np.int32),
    }


def unpack_csr(packed):
    """Inverse of :func:`pack_csr` (also accepts a CSR matrix as is)."""
    if sp.issparse(packed):
        return sp.csr_array(packed)
    csr = sp.csr_array(
        (packed["data"], packed["indices"].astype(np.int32), packed["indptr"]),
        shape=packed["shape"],
        copy=False,
    )
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


class InferenceNetwork:
    """What ``predict`` multiplies by, prepared once from the stored network.

    Per layer, the operand is a dense matrix when the layer keeps more than
    ``DENSE_DENSITY_THRESHOLD`` of its weights, and CSR otherwise. Activations
    flow as (samples x units) blocks; a CSR layer is applied as ``W.T @ A.T``,
    the CSR-times-dense product scipy does fastest (each stored weight scales a
    contiguous run of samples), at the cost of transposing the block; a single
    row goes through ``W.T @ a`` as a vector instead. Input features that no
    kept weight reads are skipped. Rows are processed in chunks
    (``CHUNK_BYTES_DENSE`` or ``CHUNK_BYTES_SPARSE`` of activations), so memory
    stays bounded whatever the number of rows; a call that fits in one chunk
    computes its output directly.

    Built at the end of ``fit`` and after unpickling; never pickled.
    """

    def __init__(self, sparse_coefs, intercepts, activation, out_activation):
        first = sparse_coefs[0]
        self.n_features = first.shape[0]
        self.used = np.flatnonzero(np.diff(first.indptr) > 0)
        if self.used.size == self.n_features:
            self.used = None
        coefs = list(sparse_coefs)
        if self.used is not None:
            coefs[0] = first[self.used]
        # Dense layers as (fan_in, fan_out) arrays; sparse ones as CSR of W.T.
        self.layers = [
            c.toarray() if density(c) > DENSE_DENSITY_THRESHOLD else sp.csr_array(c.T)
            for c in coefs
        ]
        # Dense input reaches a CSR first layer whole: its unused inputs are
        # empty columns, which cost nothing, while gathering the used ones
        # would copy the input.
        self._gather_dense = self.used is not None and not sp.issparse(self.layers[0])
        if self.used is not None and not self._gather_dense:
            self.layers[0] = sp.csr_array(first.T)
        self._first = coefs[0]
        self._first_dense = None
        self.intercepts = list(intercepts)
        self.activation = activation
        self.out_activation = out_activation
        self.dtype = intercepts[0].dtype
        widths = [self.n_features] + [c.shape[1] for c in coefs]
        budget = (
            CHUNK_BYTES_SPARSE if sp.issparse(self.layers[0]) else CHUNK_BYTES_DENSE
        )
        self.chunk_rows = max(1, budget // (self.dtype.itemsize * sum(widths)))

    def predict_proba(self, X):
        """Output probabilities, computed ``chunk_rows`` rows at a time.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Validated input, any float dtype; converted chunk by chunk, so the
            extra memory does not grow with ``n_samples`` beyond the output.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_outputs)
        """
        n_samples = X.shape[0]
        if n_samples <= self.chunk_rows:
            # The last layer's block is fresh: it becomes the output.
            out = np.ascontiguousarray(self._forward_chunk(X))
        else:
            n_outputs = self.intercepts[-1].shape[0]
            out = np.empty((n_samples, n_outputs), dtype=self.dtype)
            for start in range(0, n_samples, self.chunk_rows):
                stop = min(start + self.chunk_rows, n_samples)
                out[start:stop] = self._forward_chunk(X[start:stop])
        ACTIVATIONS[self.out_activation](out)
        if self.out_activation == "logistic":
            # In float32 the sigmoid reaches exactly 0 or 1 for |z| > 17; keep
            # probabilities strictly inside (0, 1), as a probability should be.
            eps = np.finfo(out.dtype).eps
            np.clip(out, eps, 1 - eps, out=out)
        return out

    def _forward_chunk(self, X):
        """Output pre-activations of a block of rows, in a new array."""
        hidden = ACTIVATIONS[self.activation]
        sparse_input = sp.issparse(X)
        if (sparse_input and self.used is not None) or self._gather_dense:
            X = X[:, self.used]
        last = len(self.layers) - 1
        A = X
        for i, W in enumerate(self.layers):
            if i == 0 and sparse_input:
                # Sparse input: sparse rows times a dense first layer.
                if self._first_dense is None:
                    self._first_dense = self._first.toarray()
                Z = np.asarray(X @ self._first_dense, dtype=self.dtype)
            elif sp.issparse(W) and A.shape[0] == 1:
                # scipy's matrix-vector product: no transposes, and less of
                # its dispatch than a one-column matrix takes.
                Z = (W @ np.asarray(A[0], dtype=self.dtype))[np.newaxis]
            elif sp.issparse(W):
                Z = (W @ np.ascontiguousarray(A.T, dtype=self.dtype)).T
            else:
                Z = np.asarray(A, dtype=self.dtype) @ W
            Z += self.intercepts[i]
            if i < last:
                hidden(Z)
            A = Z
        return A


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


# ---------------------------------------------------------------- validation
# scipy's compiled routines trust a matrix's structure: an index out of range
# reads or writes outside memory. Everything that reaches them from outside
# (a user's X, a loaded file) is checked here first, in O(nnz) without copies.

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    return f"a {type(value).__name__}"


def _index_array(values, what):
    if not (
        isinstance(values, np.ndarray)
        and values.ndim == 1
        and values.dtype.kind in "iu"
    ):
        raise ValueError(
            f"{what} must be a 1-D array of integers, got {_describe(values)}."
        )
    return values


def check_compressed(indptr, indices, shape, name, exact=False, strict=False):
    """Check the structure of a compressed (CSR/CSC) matrix, before any use.

    Parameters
    ----------
    indptr, indices : ndarray
        The matrix's index pointer and minor indices (not modified).
    shape : tuple of (int, int)
        Its (major, minor) sizes: (rows, columns) for CSR.
    name : str
        What the matrix is, for the error message.
    exact : bool, default=False
        Require ``indptr[-1] == len(indices)`` (scipy allows unused entries
        after the last row).
    strict : bool, default=False
        Require indices strictly increasing within each row (sorted, no
        duplicates), as a stored mask is.

    Raises
    ------
    ValueError
        Naming the first thing that is wrong.
    """
    n_major, n_minor = shape
    indptr = _index_array(indptr, f"{name}: indptr")
    indices = _index_array(indices, f"{name}: indices")
    if indptr.size != n_major + 1:
        raise ValueError(
            f"{name}: indptr has {indptr.size} entries; a matrix of shape "
            f"{tuple(shape)} needs {n_major + 1}."
        )
    if indptr[0] != 0:
        raise ValueError(f"{name}: indptr starts at {indptr[0]}, not 0.")
    if np.any(indptr[1:] < indptr[:-1]):
        raise ValueError(f"{name}: indptr decreases; it must be non-decreasing.")
    end = int(indptr[-1])
    if end > indices.size or (exact and end != indices.size):
        raise ValueError(
            f"{name}: indptr ends at {end} but there are {indices.size} indices."
        )
    used = indices[:end]
    if end and (int(used.min()) < 0 or int(used.max()) >= n_minor):
        bad = used.min() if used.min() < 0 else used.max()
        raise ValueError(
            f"{name}: index {bad} is out of range; indices must be in [0, {n_minor})."
        )
    if strict and end > 1:
        rising = used[1:] > used[:-1]
        starts = indptr[1:-1]
        rising[starts[(starts > 0) & (starts < end)] - 1] = True
        if not rising.all():
            raise ValueError(f"{name}: indices are not sorted within rows, or repeat.")


def check_sparse_input(X, name="X"):
    """Refuse a ``scipy.sparse`` matrix whose structure is invalid.

    Cheap (O(nnz), no copy for CSR, CSC, COO and BSR; other formats are
    checked as the COO matrix scipy converts them to). Anything else passes.

    Raises
    ------
    ValueError
        If an index is out of range, ``indptr`` is not a valid index pointer,
        or the arrays' lengths disagree.
    """
    if not sp.issparse(X):
        return
    what = f"{name} (a sparse {X.format} matrix) has an invalid structure"
    shape = tuple(X.shape)
    if X.format in ("csr", "csc", "bsr"):
        data = X.data
        block = (1, 1) if X.format != "bsr" else data.shape[1:]
        expected_ndim = 1 if X.format != "bsr" else 3
        if not isinstance(data, np.ndarray) or data.ndim != expected_ndim:
            raise ValueError(f"{what}: data is {_describe(data)}.")
        if X.format == "bsr" and (shape[0] % block[0] or shape[1] % block[1]):
            raise ValueError(f"{what}: blocks {block} do not tile {shape}.")
        sizes = (shape[0] // block[0], shape[1] // block[1])
        if X.format == "csc":
            sizes = sizes[::-1]
        check_compressed(X.indptr, X.indices, sizes, what)
        if len(data) != X.indices.size:
            raise ValueError(
                f"{what}: {len(data)} stored values but {X.indices.size} indices."
            )
        return
    coo = X if X.format == "coo" else X.tocoo()
    coords = coo.coords if hasattr(coo, "coords") else (coo.row, coo.col)
    if len(coords) != len(shape):
        raise ValueError(f"{what}: {len(coords)} index arrays for shape {shape}.")
    for axis, (index, size) in enumerate(zip(coords, shape)):
        index = _index_array(index, f"{what}: coordinates")
        if index.size != np.size(coo.data):
            raise ValueError(
                f"{what}: {np.size(coo.data)} stored values but {index.size} "
                f"indices along axis {axis}."
            )
        if index.size and (int(index.min()) < 0 or int(index.max()) >= size):
            bad = index.min() if index.min() < 0 else index.max()
            raise ValueError(
                f"{what}: index {bad} along axis {axis} is out of range [0, {size})."
            )


def _stored_size(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} must be an integer, got {value!r:.60}.")
    return int(value)


def _stored_layer(packed, i):
    """The arrays of stored layer ``i`` (a :func:`pack_csr` dict or a CSR)."""
    if sp.issparse(packed):
        if packed.format != "csr":
            raise ValueError(f"layer {i} is a {packed.format} matrix, not CSR.")
        packed = {
            "shape": packed.shape,
            "data": packed.data,
            "indices": packed.indices,
            "indptr": packed.indptr,
        }
    keys = ("shape", "data", "indices", "indptr")
    if not isinstance(packed, dict) or set(packed) != set(keys):
        raise ValueError(
            f"layer {i} must be stored as a dict with keys {list(keys)}, got "
            f"{sorted(packed) if isinstance(packed, dict) else _describe(packed)}."
        )
    shape = packed["shape"]
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise ValueError(f"layer {i}: shape must be two integers, got {shape!r:.60}.")
    shape = tuple(_stored_size(n, f"layer {i}: shape") for n in shape)
    return shape, packed["data"], packed["indices"], packed["indptr"]


def check_stored_network(sparse_coefs, intercepts, n_features):
    """Check the weights of a loaded model before anything is built from them.

    Every size is read from an array actually stored, never from a declared
    shape alone: a layer has as many rows as its ``indptr`` has entries (less
    one) and as many columns as its bias vector has values; its declared shape
    must agree. Nothing is allocated beyond a few temporaries of the stored
    arrays' own sizes.

    Parameters
    ----------
    sparse_coefs : list
        The stored layers: dicts from :func:`pack_csr`, or CSR matrices.
    intercepts : list of ndarray
        The stored biases.
    n_features : int
        The stored number of input features.

    Returns
    -------
    shapes : list of tuple of (int, int)
        The checked shape of each layer.

    Raises
    ------
    ValueError
        Naming the first thing that is wrong.
    """
    for what, value in (("the weights", sparse_coefs), ("the biases", intercepts)):
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(
                f"{what} must be a non-empty list, got {_describe(value)}."
            )
    if len(sparse_coefs) != len(intercepts):
        raise ValueError(
            f"{len(sparse_coefs)} weight matrices but {len(intercepts)} bias vectors."
        )
    n_features = _stored_size(n_features, "n_features_in_")
    shapes, rows, dtype = [], n_features, None
    for i, (packed, bias) in enumerate(zip(sparse_coefs, intercepts)):
        shape, data, indices, indptr = _stored_layer(packed, i)
        for what, values in (("weights", data), ("bias", bias)):
            if not (
                isinstance(values, np.ndarray)
                and values.ndim == 1
                and values.dtype in FLOAT_DTYPES
            ):
                raise ValueError(
                    f"layer {i}: the {what} must be a 1-D float32 or float64 "
                    f"array, got {_describe(values)}."
                )
        dtype = dtype or data.dtype
        if data.dtype != dtype or bias.dtype != dtype:
            raise ValueError(
                f"layer {i}: weights {data.dtype} and bias {bias.dtype}; every "
                f"layer must have the model's dtype {dtype}."
            )
        if shape != (rows, bias.size):
            raise ValueError(
                f"layer {i} declares shape {shape}, but it takes {rows} inputs "
                f"({'n_features_in_' if i == 0 else f'layer {i - 1} units'}) and "
                f"has {bias.size} biases."
            )
        check_compressed(indptr, indices, shape, f"layer {i}", exact=True, strict=True)
        if data.size != indices.size:
            raise ValueError(
                f"layer {i}: {data.size} weights but {indices.size} indices."
            )
        if not (np.isfinite(data).all() and np.isfinite(bias).all()):
            raise ValueError(f"layer {i} holds NaN or infinite weights or biases.")
        shapes.append(shape)
        rows = bias.size
    return shapes
