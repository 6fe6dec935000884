"""The fitted network as the estimator's attributes, and the only copy of it.

:class:`FittedNetwork` owns the mapping between a finished ``TrainState`` and
the fitted attributes (:meth:`FittedNetwork._commit`, and back with
:meth:`FittedNetwork._resume_state`), the weights as attributes that can be
assigned (``coefs_``, ``intercepts_``, ``sparse_coefs_``), what is pickled, and
the forward pass ``predict`` runs. Everything derived from the weights (the
inference network, the dense ``coefs_``) is rebuilt from the stored weights, so
``predict`` always reflects them.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from ._optim import TrainState
from ._pruning import Plan, kept_counts, sparsity_against
from ._sparse import (
    InferenceNetwork,
    compact_network,
    expand_network,
    feature_importances,
    pack_csr,
    to_csr,
    unpack_csr,
)

# TrainState field -> fitted attribute, copied at the end of every call and read
# back when training goes on (warm start, partial_fit, after loading).
STATE_ATTRIBUTES = (
    ("t", "t_"),
    ("loss", "loss_"),
    ("loss_curve", "loss_curve_"),
    ("best_loss", "best_loss_"),
    ("validation_scores", "validation_scores_"),
    ("best_validation_score", "best_validation_score_"),
    ("history", "pruning_history_"),
    ("out_activation", "out_activation_"),
    ("activation", "_fit_activation"),
)


def _copy(value):
    return list(value) if isinstance(value, list) else value


class WeightList(list):
    """A fitted model's list of weight arrays: read it, or assign a whole new list.

    Changing one entry in place would leave the model unchanged, so it raises
    and says what to do instead.
    """

    def __init__(self, items, name):
        super().__init__(items)
        self._name = name

    def _refuse(self, *args, **kwargs):
        raise TypeError(
            f"{self._name} cannot be changed in place. Assign a whole new list, "
            f"e.g. est.{self._name} = [...], which is checked and takes effect."
        )

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __reduce__(self):
        return (list, (list(self),))


def _frozen(array):
    array = np.asarray(array)
    array.setflags(write=False)
    return array


def _frozen_csr(csr):
    for part in (csr.data, csr.indices, csr.indptr):
        part.setflags(write=False)
    return csr


class FittedNetwork:
    """Mixin: the fitted attributes, their assignment, pickling and ``_forward``."""

    # ---------------------------------------------------------- the weights
    def __sklearn_is_fitted__(self):
        return "_sparse_coefs" in self.__dict__

    @property
    def sparse_coefs_(self):
        """The stored weight matrices (``scipy.sparse.csr_array``), layer by layer.

        Stored entries are the kept weights. Assign a list of sparse matrices of
        the same shapes to replace them.
        """
        if "_sparse_coefs" not in self.__dict__:
            check_is_fitted(self)
        return WeightList(self._sparse_coefs, "sparse_coefs_")

    @sparse_coefs_.setter
    def sparse_coefs_(self, value):
        self._assign(coefs=value, sparse=True)

    @property
    def coefs_(self):
        """Dense weight matrices (read-only), derived from ``sparse_coefs_``.

        Zeros are pruned weights. Assign a list of arrays of the same shapes to
        replace the weights; an assigned zero is a pruned weight.
        """
        if "_sparse_coefs" in self.__dict__:
            return WeightList(
                [_frozen(c.toarray()) for c in self._sparse_coefs], "coefs_"
            )
        if "_initial_coefs" in self.__dict__:
            return WeightList(
                [_frozen(c.copy()) for c in self._initial_coefs], "coefs_"
            )
        check_is_fitted(self)

    @coefs_.setter
    def coefs_(self, value):
        self._assign(coefs=value, sparse=False)

    @property
    def intercepts_(self):
        """The bias vector of each layer (read-only); assign a new list to change it."""
        for name in ("_intercepts", "_initial_intercepts"):
            if name in self.__dict__:
                return WeightList(self.__dict__[name], "intercepts_")
        check_is_fitted(self)

    @intercepts_.setter
    def intercepts_(self, value):
        self._assign(intercepts=value)

    def _assign(self, coefs=None, intercepts=None, sparse=False):
        """Check and store assigned weights (all or nothing), then rebuild."""
        fitted = self.__sklearn_is_fitted__()
        if fitted:
            shapes = [c.shape for c in self._sparse_coefs]
            dtype = self._intercepts[0].dtype
        else:
            shapes = None
            dtype = None
        if coefs is not None:
            checked = _check_coefs(coefs, shapes, sparse, dtype)
            if fitted:
                self._sparse_coefs = [_frozen_csr(c) for c in checked]
            else:
                self._initial_coefs = [_frozen(c) for c in checked]
        if intercepts is not None:
            if fitted:
                widths = [s[1] for s in shapes]
            elif "_initial_coefs" in self.__dict__:
                widths = [c.shape[1] for c in self._initial_coefs]
            else:
                widths = None
            checked = _check_intercepts(intercepts, widths, dtype)
            name = "_intercepts" if fitted else "_initial_intercepts"
            self.__dict__[name] = [_frozen(b) for b in checked]
        if not fitted:
            return
        # The training state no longer matches the weights: training goes on
        # from the attributes (optimizer moments start afresh), the unfinished
        # pruning plan with it.
        state = self.__dict__.pop("_state", None)
        if state is not None and state.plan.pending:
            self._pending_plan = state.plan.to_dict()
        kept = [c.nnz for c in self._sparse_coefs]
        self.layer_sparsity_, self.sparsity_ = sparsity_against(kept, self._dense_sizes)
        self.feature_importances_ = feature_importances(self._sparse_coefs)
        self._inference = self._build_inference()

    # -------------------------------------------------- state <-> attributes
    def _fitted_attributes(self, state, first_pass, start_iter=0):
        """The fitted attributes of the model in ``state`` (a dict).

        Sparsity counts the kept weights of the network as trained against the
        dense network it started as; storage is compacted further.
        """
        if first_pass:
            dense_sizes = np.array([c.size for c in state.coefs])
            call_ends = []
        else:
            dense_sizes = self._dense_sizes
            call_ends = list(self.__dict__.get("_call_ends", []))
        per_layer, sparsity = sparsity_against(
            kept_counts(state.masks, state.coefs), dense_sizes
        )
        coefs, intercepts, masks, units = compact_network(
            state.coefs, state.intercepts, state.masks, state.activation, True
        )
        sparse_coefs = [_frozen_csr(to_csr(c, m)) for c, m in zip(coefs, masks)]
        attributes = {
            "_dense_sizes": dense_sizes,
            # Original positions of the stored units (to continue training after
            # loading), in the narrowest integer type.
            "_kept_units": [
                u.astype(np.min_scalar_type(max(int(u.max(initial=0)), 1)))
                for u in units
            ],
            "_sparse_coefs": sparse_coefs,
            "_intercepts": [_frozen(b) for b in intercepts],
            "_inference": None,
            "n_layers_": len(sparse_coefs) + 1,
            "n_outputs_": sparse_coefs[-1].shape[1],
            "hidden_layer_sizes_": tuple(int(c.shape[1]) for c in sparse_coefs[:-1]),
            "layer_sparsity_": per_layer,
            "sparsity_": sparsity,
            "n_iter_": state.n_iter - start_iter,
            # Iterations since the network was created at the end of each call
            # (its last entry is the running total; L-BFGS segments end there).
            "_call_ends": [*call_ends, state.n_iter],
            "feature_importances_": feature_importances(sparse_coefs),
        }
        for field, attribute in STATE_ATTRIBUTES:
            attributes[attribute] = _copy(getattr(state, field))
        return attributes

    def _commit(self, state, hidden_sizes, first_pass, start_iter=0):
        """Store the finished state as the fitted model.

        ``n_iter_`` counts the iterations of this call, from ``start_iter``.
        """
        attributes = self._fitted_attributes(state, first_pass, start_iter)
        if first_pass:
            self._fit_hidden_layer_sizes = tuple(hidden_sizes)
        for name in ("_pending_plan", "_initial_coefs", "_initial_intercepts"):
            self.__dict__.pop(name, None)
        self.__dict__.update(attributes)
        self._inference = self._build_inference()
        # Kept to continue training: the network in its trained shape (folded
        # units included) and the optimizer moments. Rebuilt from the
        # attributes when missing (after loading, or after weights were set).
        self._state = state

    def _resume_state(self, dtype):
        """The training state to continue from (warm start, partial_fit)."""
        cached = self.__dict__.get("_state")
        if cached is not None:
            cached = cached.copy()
            coefs, intercepts, masks = cached.coefs, cached.intercepts, cached.masks
            plan, optimizer = cached.plan, cached.optimizer
        else:
            # Rebuild the network as trained (removed units back in place,
            # pruned) from the stored one, with the unfinished pruning schedule
            # if any; optimizer moments start afresh.
            coefs, intercepts, masks = expand_network(
                self._sparse_coefs,
                self._intercepts,
                self._kept_units,
                self._fit_hidden_layer_sizes,
                self._intercepts[0].dtype,
            )
            plan = Plan.from_dict(self.__dict__.get("_pending_plan") or {})
            optimizer = None
        values = {f: _copy(getattr(self, a)) for f, a in STATE_ATTRIBUTES}
        state = TrainState(
            coefs=coefs,
            intercepts=intercepts,
            masks=masks,
            n_iter=self.__dict__.get("_call_ends", [self.n_iter_])[-1],
            optimizer=optimizer,
            plan=plan,
            **values,
        )
        if state.coefs[0].dtype != dtype:
            state.coefs = [c.astype(dtype) for c in state.coefs]
            state.intercepts = [b.astype(dtype) for b in state.intercepts]
            state.optimizer = None
        return state

    # ------------------------------------------------------------ predict
    def _build_inference(self):
        return InferenceNetwork(
            self._sparse_coefs,
            self._intercepts,
            self._fit_activation,
            self.out_activation_,
        )

    def _forward(self, X):
        """Validated ``X`` through the stored network: the output activations."""
        from sklearn.utils.validation import validate_data

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
        # Built when the weights are stored; a copy made for a callback in the
        # middle of training builds its own for each call.
        inference = self.__dict__.get("_inference") or self._build_inference()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = inference.predict_proba(X)
        if not np.isfinite(out).all():
            # X is finite (checked above), so the computation overflowed.
            dtype = np.dtype(self._intercepts[0].dtype)
            data = X.data if sp.issparse(X) else X
            raise ValueError(
                f"X holds values too large for this model's {dtype} computation "
                f"(largest magnitude {np.max(np.abs(data)):.3g}; {dtype} overflows "
                f"above {np.finfo(dtype).max:.3g} and the network's sums sooner): "
                "its outputs are not finite. Scale the input (e.g. with "
                "StandardScaler in a Pipeline) or fit with dtype='float64'."
            )
        return out

    # ------------------------------------------------------------ pickling
    def __getstate__(self):
        # object.__getstate__ may return the live __dict__: copy before dropping.
        state = dict(super().__getstate__())
        # Training state (dense weights, optimizer moments), the predict cache and
        # callbacks are derived or only needed while training: not stored.
        training = state.pop("_state", None)
        state.pop("_inference", None)
        for name in ("_skl_callbacks", "_callback_fit_ctx", "_parent_callback_ctx"):
            state.pop(name, None)
        if training is not None:
            state.pop("_pending_plan", None)  # superseded by the live state
            if training.plan.pending:
                # An unfinished schedule (partial_fit) continues after loading.
                state["_pending_plan"] = training.plan.to_dict()
        if "_sparse_coefs" in state:
            # Plain arrays with the narrowest index type: smaller files, and
            # nothing but numpy for skops to trust.
            state["_sparse_coefs"] = [pack_csr(c) for c in state["_sparse_coefs"]]
            state["_intercepts"] = [np.array(b) for b in state["_intercepts"]]
        return state

    def __setstate__(self, state):
        state = dict(state)
        # Files written before the weights became assignable attributes.
        for old, new in (
            ("sparse_coefs_", "_sparse_coefs"),
            ("intercepts_", "_intercepts"),
        ):
            if old in state:
                state[new] = state.pop(old)
        if "_sparse_coefs" in state:
            state["_sparse_coefs"] = [
                _frozen_csr(unpack_csr(c)) for c in state["_sparse_coefs"]
            ]
            state["_intercepts"] = [_frozen(np.array(b)) for b in state["_intercepts"]]
        super().__setstate__(state)
        if "_sparse_coefs" in self.__dict__:
            self._inference = self._build_inference()


def _check_coefs(coefs, shapes, sparse, dtype):
    """Assigned weights as a list of CSR (fitted) or dense arrays (before fit)."""
    if not isinstance(coefs, (list, tuple)) or not len(coefs):
        raise TypeError(
            "Weights must be assigned as a list with one matrix per layer, got "
            f"{type(coefs).__name__}."
        )
    if shapes is not None and len(coefs) != len(shapes):
        raise ValueError(
            f"The model has {len(shapes)} weight matrices; got {len(coefs)}. "
            "Assign one matrix per layer."
        )
    checked = []
    for i, coef in enumerate(coefs):
        if sparse and not sp.issparse(coef):
            raise TypeError(
                f"sparse_coefs_[{i}] must be a scipy.sparse matrix, got "
                f"{type(coef).__name__}; assign dense arrays to coefs_ instead."
            )
        csr = sp.csr_array(coef) if sp.issparse(coef) else None
        values = csr.data if csr is not None else np.asarray(coef)
        if values.dtype.kind not in "fiub" or (csr is None and values.ndim != 2):
            raise ValueError(
                f"Weight matrix {i} must be a 2-D array of real numbers, got "
                f"{values.dtype} data with shape {np.shape(coef)}."
            )
        if not np.isfinite(values).all():
            raise ValueError(f"Weight matrix {i} holds NaN or infinite values.")
        shape = csr.shape if csr is not None else values.shape
        if shapes is not None and tuple(shape) != tuple(shapes[i]):
            raise ValueError(
                f"Weight matrix {i} has shape {tuple(shape)}; the model's has "
                f"{tuple(shapes[i])}. Assign matrices of the fitted shapes."
            )
        if i and tuple(shape)[0] != checked[-1].shape[1]:
            raise ValueError(
                f"Weight matrix {i} has {shape[0]} rows but matrix {i - 1} has "
                f"{checked[-1].shape[1]} columns; consecutive layers must match."
            )
        if shapes is None:  # before fit: dense, zeros are pruned weights
            dense = csr.toarray() if csr is not None else values
            checked.append(np.array(dense, dtype=np.float64))
            continue
        if csr is None:
            csr = to_csr(values.astype(dtype), values != 0)
        else:
            csr = sp.csr_array(csr, dtype=dtype, copy=True)
            csr.sum_duplicates()
            csr.sort_indices()
            csr.check_format(full_check=True)
            csr = sp.csr_array(
                (csr.data, csr.indices.astype(np.int32), csr.indptr.astype(np.int32)),
                shape=csr.shape,
            )
        checked.append(csr)
    return checked


def _check_intercepts(intercepts, widths, dtype):
    if not isinstance(intercepts, (list, tuple)) or not len(intercepts):
        raise TypeError(
            "intercepts_ must be assigned as a list with one vector per layer, got "
            f"{type(intercepts).__name__}."
        )
    if widths is not None and len(intercepts) != len(widths):
        raise ValueError(
            f"The model has {len(widths)} layers; got {len(intercepts)} intercept "
            "vectors. Assign one per layer."
        )
    checked = []
    for i, b in enumerate(intercepts):
        b = np.asarray(b)
        if b.dtype.kind not in "fiub" or b.ndim != 1:
            raise ValueError(
                f"intercepts_[{i}] must be a 1-D array of real numbers, got "
                f"{b.dtype} data with shape {b.shape}."
            )
        if not np.isfinite(b).all():
            raise ValueError(f"intercepts_[{i}] holds NaN or infinite values.")
        if widths is not None and b.shape[0] != widths[i]:
            raise ValueError(
                f"intercepts_[{i}] has {b.shape[0]} values; layer {i} has "
                f"{widths[i]} units."
            )
        checked.append(np.array(b, dtype=dtype or np.float64))
    return checked
