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
from sklearn import config_context, get_config
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import assert_all_finite, check_is_fitted, validate_data

from ._core import HIDDEN_ACTIVATIONS
from ._optim import TrainState
from ._pruning import Plan, kept_counts, sparsity_against
from ._sparse import (
    InferenceNetwork,
    check_sparse_input,
    check_stored_network,
    compact_network,
    expand_network,
    feature_importances,
    pack_csr,
    to_csr,
    unpack_csr,
)

# The layout of the pickled state (what ``__getstate__`` returns), stored in it
# as ``_skprune_layout`` beside the ``_skprune_version`` that wrote it. Change
# the number whenever a stored attribute changes name, type or meaning, and
# teach ``_upgrade_state`` to read the previous layouts it safely can.
#
# 1. Files without a number (skprune before versioned pickles): the weights are
#    ``_sparse_coefs`` (``pack_csr`` dicts) and ``_intercepts``, or, in the
#    oldest files, ``sparse_coefs_`` and ``intercepts_``; read as layout 2.
# 2. As 1, with ``_skprune_layout`` and ``_skprune_version``.
STATE_LAYOUT = 2

# TrainState field -> fitted attribute, copied at the end of every call and read
# back when training goes on (warm start, partial_fit, after loading).
STATE_ATTRIBUTES = (
    ("t", "t_"),
    ("loss", "loss_"),
    ("loss_curve", "loss_curve_"),
    ("best_loss", "best_loss_"),
    ("validation_scores", "validation_scores_"),
    ("best_validation_score", "best_validation_score_"),
    ("no_improvement_count", "_no_improvement_count"),
    ("history", "pruning_history_"),
    ("out_activation", "out_activation_"),
    ("activation", "_fit_activation"),
)

# Continuing to train a loaded model rebuilds its network as trained, of the
# sizes the file declares: refused above EXPANSION_FLOOR weights when that is
# also more than EXPANSION_LIMIT times the values it stores (a network of ten
# million weights pruned beyond 99.99 %).
EXPANSION_LIMIT = 10_000
EXPANSION_FLOOR = 10**7

# Defaults for the record of files saved before these attributes were stored.
RECORD_DEFAULTS = {"_no_improvement_count": 0}


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
        # New matrix objects over the stored (read-only) arrays: rebinding
        # ``.data`` on one cannot reach the model.
        return WeightList(
            [_frozen_csr(sp.csr_array(c, copy=False)) for c in self._sparse_coefs],
            "sparse_coefs_",
        )

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
            assigned = self.__dict__.get("_initial_intercepts")
            if not fitted and assigned is not None:
                _check_intercepts(assigned, [c.shape[1] for c in checked], None)
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
        if state is not None and state.plan.unfinished:
            self._pending_plan = state.plan.to_dict()
        kept = [c.nnz for c in self._sparse_coefs]
        self.layer_sparsity_, self.sparsity_ = sparsity_against(kept, self._dense_sizes)
        self.feature_importances_ = feature_importances(self._sparse_coefs)
        self._inference = self._build_inference()

    # -------------------------------------------------- state <-> attributes
    def _fitted_attributes(self, state, first_pass, start_iter=0):
        """The fitted attributes of the model in ``state`` (a dict).

        Sparsity counts the weights the pruning removed from the dense network
        it started as; storage may drop a few more (the weights of units left
        dead), which ``sparse_coefs_`` shows.
        """
        if first_pass:
            dense_sizes = state.dense_sizes()
            call_ends = []
        else:
            dense_sizes = self._dense_sizes
            call_ends = list(self.__dict__.get("_call_ends", []))
        coefs, intercepts, masks, units = compact_network(
            state.coefs, state.intercepts, state.masks, state.activation, True
        )
        if state.units is not None:  # units removed during training
            units = [trained[u] for trained, u in zip(state.units, units)]
        sparse_coefs = [_frozen_csr(to_csr(c, m)) for c, m in zip(coefs, masks)]
        per_layer, sparsity = sparsity_against(
            kept_counts(state.masks, state.coefs), dense_sizes
        )
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

    def _check_expansion(self):
        """Refuse to rebuild a network as trained far larger than what is stored.

        The trained sizes are declared, not stored arrays: a damaged or crafted
        file could otherwise make training allocate any amount of memory.
        """
        declared = sum(int(n) for n in self._dense_sizes)
        stored = sum(c.nnz for c in self._sparse_coefs) + sum(
            b.size for b in self._intercepts
        )
        limit = max(EXPANSION_FLOOR, EXPANSION_LIMIT * stored)
        if declared > limit:
            raise ValueError(
                f"This model says it was trained as a network of {declared} "
                f"weights (hidden layers {tuple(self._fit_hidden_layer_sizes)}) "
                f"but stores {stored} values: continuing to train it would "
                f"allocate the whole network, more than {EXPANSION_FLOOR} weights "
                f"and {EXPANSION_LIMIT} times what it stores, so a loaded model "
                "is not trained further (a damaged or crafted file could declare "
                "any size). Predict with it as it is, or refit it."
            )

    def _resume_state(self, dtype):
        """The training state to continue from (warm start, partial_fit)."""
        cached = self.__dict__.get("_state")
        if cached is not None:
            cached = cached.copy()
            coefs, intercepts, masks = cached.coefs, cached.intercepts, cached.masks
            plan, optimizer = cached.plan, cached.optimizer
            # Units removed during training stay removed.
            units, trained_sizes = cached.units, cached.trained_sizes
        else:
            # Rebuild the network as trained (removed units back in place,
            # pruned) from the stored one, with the unfinished pruning schedule
            # if any; optimizer moments start afresh.
            self._check_expansion()
            coefs, intercepts, masks = expand_network(
                self._sparse_coefs,
                self._intercepts,
                self._kept_units,
                self._fit_hidden_layer_sizes,
                self._intercepts[0].dtype,
            )
            plan = Plan.from_dict(self.__dict__.get("_pending_plan") or {})
            optimizer = units = trained_sizes = None
        values = {
            f: _copy(self.__dict__.get(a, RECORD_DEFAULTS[a]))
            if a in RECORD_DEFAULTS
            else _copy(getattr(self, a))
            for f, a in STATE_ATTRIBUTES
        }
        state = TrainState(
            coefs=coefs,
            intercepts=intercepts,
            masks=masks,
            n_iter=self.__dict__.get("_call_ends", [self.n_iter_])[-1],
            optimizer=optimizer,
            plan=plan,
            units=units,
            trained_sizes=trained_sizes,
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

    def _plain_input(self, X):
        """Whether ``validate_data`` would return ``X`` itself, and say nothing.

        True for a float32 or float64 ndarray of the fitted width with at least
        one row, when no feature names were fitted and the values are finite
        (or the user set ``assume_finite``). Such input skips ``validate_data``,
        which takes most of a one-row ``predict``; anything else goes through
        it, so every error and warning is scikit-learn's own.
        """
        if not (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float64, np.float32)
            and X.shape[0] > 0
            and X.shape[1] == self.__dict__.get("n_features_in_")
            and "feature_names_in_" not in self.__dict__
        ):
            return False
        if get_config()["assume_finite"]:
            return True
        # check_array's own first test: a finite sum means finite values. When
        # it fails, validate_data looks at each value and words the error.
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.isfinite(X.sum()))

    def _forward(self, X):
        """Validated ``X`` through the stored network: the output activations."""
        # Built when the weights are stored, so that it also says the model is
        # fitted; a copy made for a callback in the middle of training builds
        # its own for each call.
        inference = self.__dict__.get("_inference")
        if inference is None:
            check_is_fitted(self)
            inference = self._build_inference()
        if not self._plain_input(X):
            # Before validate_data, which may convert the matrix (scipy's
            # compiled conversions trust its indices).
            check_sparse_input(X)
            # float64 and float32 input is not copied here: chunks are converted
            # to the compute dtype one at a time, which bounds predict's memory.
            X = validate_data(
                self,
                X,
                accept_sparse=["csr"],
                dtype=(np.float64, np.float32),
                reset=False,
            )
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = inference.predict_proba(X)
        if not np.isfinite(out).all():
            data = X.data if sp.issparse(X) else X
            if get_config()["assume_finite"]:
                # The finite check was skipped on the user's word: a NaN or an
                # infinity in X is the likelier cause, said as the check says it.
                with config_context(assume_finite=False):
                    assert_all_finite(
                        data, estimator_name=type(self).__name__, input_name="X"
                    )
            # X is finite, so the computation overflowed.
            dtype = np.dtype(self._intercepts[0].dtype)
            raise ValueError(
                f"X holds values too large for this model's {dtype} computation "
                f"(largest magnitude {np.max(np.abs(data)):.3g}; {dtype} overflows "
                f"above {np.finfo(dtype).max:.3g} and the network's sums sooner): "
                "its outputs are not finite. Scale the input (e.g. with "
                "StandardScaler in a Pipeline) or fit with dtype='float64'."
            )
        return out

    # ------------------------------------------------------------ pickling
    def __copy__(self):
        # A shallow copy of a live estimator (scikit-learn's callbacks make one
        # to score the model mid-fit) is not a file: no packing, no load checks.
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        return copy

    def __getstate__(self):
        # object.__getstate__ may return the live __dict__: copy before dropping.
        state = dict(super().__getstate__())
        # Training state (dense weights, optimizer moments), the predict cache and
        # callbacks are derived or only needed while training: not stored.
        training = state.pop("_state", None)
        state.pop("_inference", None)
        state.pop("_params_checked", None)  # a loaded model is checked anew
        for name in ("_skl_callbacks", "_callback_fit_ctx", "_parent_callback_ctx"):
            state.pop(name, None)
        if training is not None:
            state.pop("_pending_plan", None)  # superseded by the live state
            if training.plan.unfinished:
                # An unfinished schedule (partial_fit) continues after loading.
                state["_pending_plan"] = training.plan.to_dict()
        if "_sparse_coefs" in state:
            # Plain arrays with the narrowest index type: smaller files, and
            # nothing but numpy for skops to trust.
            state["_sparse_coefs"] = [pack_csr(c) for c in state["_sparse_coefs"]]
            state["_intercepts"] = [np.array(b) for b in state["_intercepts"]]
        from . import __version__

        state["_skprune_version"] = __version__
        state["_skprune_layout"] = STATE_LAYOUT
        return state

    def __setstate__(self, state):
        # pickle, joblib, skops and deepcopy all come here: nothing from the
        # file is used (or stored on self) before the whole state is checked.
        try:
            state = _upgrade_state(state)
            if "_sparse_coefs" in state:
                self._check_stored_state(state)
            elif "_initial_coefs" in state or "_initial_intercepts" in state:
                _check_initial_weights(state)
        except ValueError as exc:
            raise ValueError(
                f"Cannot load this {type(self).__name__}: {exc} The file is damaged "
                "or was not written by skprune."
            ) from None
        if "_sparse_coefs" in state:
            state["_sparse_coefs"] = [
                _frozen_csr(unpack_csr(c)) for c in state["_sparse_coefs"]
            ]
            state["_intercepts"] = [_frozen(np.array(b)) for b in state["_intercepts"]]
        super().__setstate__(state)
        if "_sparse_coefs" in self.__dict__:
            self._inference = self._build_inference()

    def _check_stored_state(self, state):
        """Check a loaded fitted state against itself (see ``__setstate__``)."""
        missing = sorted(set(STORED_ATTRIBUTES) - set(state))
        if missing:
            raise ValueError(f"the stored model lacks {missing}.")
        shapes = check_stored_network(
            state["_sparse_coefs"], state["_intercepts"], state["n_features_in_"]
        )
        trained = _check_architecture(state, shapes)
        if isinstance(self, ClassifierMixin):
            expected = _check_classes(state, shapes[-1][1])
        else:
            from ._regressor import LOSSES  # the subclass's table; no cycle at run time

            # The fitted output activation: ``loss`` may have been set anew since.
            expected = sorted(set(LOSSES.values()))
        out = state["out_activation_"]
        if isinstance(expected, str):
            expected = [expected]
        if not isinstance(out, str) or out not in expected:
            raise ValueError(
                f"out_activation_ is {out!r:.60}, but this "
                f"model's outputs need {' or '.join(map(repr, expected))}."
            )
        activation = state["_fit_activation"]
        if not isinstance(activation, str) or activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(
                f"the hidden activation {activation!r:.60} is not one of "
                f"{list(HIDDEN_ACTIVATIONS)}."
            )
        names = state.get("feature_names_in_")
        if names is not None and np.shape(names) != (shapes[0][0],):
            raise ValueError(
                f"feature_names_in_ has shape {np.shape(names)}; the model has "
                f"{shapes[0][0]} features."
            )
        _check_training_record(state)
        _check_pending_plan(state.get("_pending_plan"), trained)


# What a fitted state must hold (checked by ``_check_stored_state``).
STORED_ATTRIBUTES = (
    "_sparse_coefs",
    "_intercepts",
    "n_features_in_",
    "n_outputs_",
    "n_layers_",
    "hidden_layer_sizes_",
    "_fit_hidden_layer_sizes",
    "_kept_units",
    "_dense_sizes",
    "_fit_activation",
    "out_activation_",
)


def _upgrade_state(state):
    """The pickled ``state`` in the current layout (a new dict), or ValueError."""
    if not isinstance(state, dict):
        raise ValueError(f"the stored state is a {type(state).__name__}, not a dict.")
    state = dict(state)
    version = state.pop("_skprune_version", "an unknown version")
    layout = state.pop("_skprune_layout", 1)
    if isinstance(layout, (bool, np.bool_)) or not isinstance(
        layout, (int, np.integer)
    ):
        raise ValueError(f"its state layout {layout!r:.60} is not a number.")
    if not 1 <= layout <= STATE_LAYOUT:
        raise ValueError(
            f"it was saved by skprune {version!s:.40} with state layout {layout}, "
            f"and this skprune reads layouts 1 to {STATE_LAYOUT}. Load it with the "
            "skprune version that saved it."
        )
    # Layout 1, oldest files: before the weights became assignable attributes.
    for old, new in (
        ("sparse_coefs_", "_sparse_coefs"),
        ("intercepts_", "_intercepts"),
    ):
        if old in state:
            state[new] = state.pop(old)
    # Never stored by __getstate__: derived, or training-only.
    for name in ("_state", "_inference", "_params_checked"):
        state.pop(name, None)
    return state


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _reals(value):
    return isinstance(value, list) and all(_is_real(v) for v in value)


# What training goes on from (partial_fit, warm_start), when stored: a test per
# attribute, and what it must be. Files from earlier versions may lack some.
TRAINING_RECORD = {
    "t_": (lambda v: _is_int(v) and 0 <= v < 2**62, "a sample count"),
    "loss_": (lambda v: v is None or _is_real(v), "a number or None"),
    "loss_curve_": (_reals, "a list of numbers"),
    "best_loss_": (lambda v: v is None or _is_real(v), "a number or None"),
    "validation_scores_": (lambda v: v is None or _reals(v), "a list of numbers"),
    "best_validation_score_": (
        lambda v: v is None or _is_real(v),
        "a number or None",
    ),
    "_no_improvement_count": (
        lambda v: _is_int(v) and 0 <= v < 2**62,
        "an epoch count",
    ),
    "pruning_history_": (
        lambda v: isinstance(v, list) and all(isinstance(r, dict) for r in v),
        "a list of dicts",
    ),
    "_call_ends": (
        lambda v: (
            isinstance(v, list)
            and len(v) > 0
            and all(_is_int(i) and 0 <= i < 2**62 for i in v)
            and all(a <= b for a, b in zip(v, v[1:]))
        ),
        "a non-empty list of increasing iteration counts",
    ),
}


def _check_training_record(state):
    """The stored training record, which training goes on from."""
    for name, (valid, what) in TRAINING_RECORD.items():
        if name in state and not valid(state[name]):
            raise ValueError(f"{name} must be {what}, got {state[name]!r:.60}.")


def _int_sequence(value, what, length):
    if not isinstance(value, (tuple, list, np.ndarray)) or len(value) != length:
        raise ValueError(f"{what} must hold {length} integers, got {value!r:.80}.")
    sizes = []
    for v in value:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{what} must hold integers, got {value!r:.80}.")
        sizes.append(int(v))
    return sizes


def _check_architecture(state, shapes):
    """Sizes and unit positions against the checked layer shapes.

    Returns the layer sizes of the network as trained (inputs, hidden, outputs).
    """
    widths = [shape[1] for shape in shapes]
    n_hidden = len(shapes) - 1
    declared = {
        "n_outputs_": ([state["n_outputs_"]], [widths[-1]]),
        "n_layers_": ([state["n_layers_"]], [len(shapes) + 1]),
        "hidden_layer_sizes_": (state["hidden_layer_sizes_"], widths[:-1]),
    }
    for name, (value, actual) in declared.items():
        if _int_sequence(value, name, len(actual)) != actual:
            raise ValueError(
                f"{name} is {value!r:.80}; the stored layers say {actual}."
            )
    trained = _int_sequence(
        state["_fit_hidden_layer_sizes"], "_fit_hidden_layer_sizes", n_hidden
    )
    units = state["_kept_units"]
    if not isinstance(units, (list, tuple)) or len(units) != n_hidden:
        raise ValueError(
            f"_kept_units must hold one array per hidden layer ({n_hidden})."
        )
    for h, (kept, size) in enumerate(zip(units, trained)):
        if not (
            isinstance(kept, np.ndarray) and kept.ndim == 1 and kept.dtype.kind in "iu"
        ):
            raise ValueError(f"_kept_units[{h}] must be a 1-D array of integers.")
        if kept.size != widths[h]:
            raise ValueError(
                f"_kept_units[{h}] has {kept.size} positions for {widths[h]} units."
            )
        if kept.size and (
            kept.min() < 0 or kept.max() >= size or np.any(kept[1:] <= kept[:-1])
        ):
            raise ValueError(
                f"_kept_units[{h}] must be increasing positions in [0, {size}) "
                "(_fit_hidden_layer_sizes)."
            )
    sizes = [shapes[0][0], *trained, widths[-1]]
    dense = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    if _int_sequence(state["_dense_sizes"], "_dense_sizes", len(dense)) != dense:
        raise ValueError(
            f"_dense_sizes {list(state['_dense_sizes'])!r:.80} do not match the "
            f"network as trained ({sizes})."
        )
    return sizes


def _check_classes(state, n_outputs):
    """A classifier's classes against its outputs; returns the out activation."""
    classes = state.get("classes_")
    binarizer = state.get("_label_binarizer")
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or not classes.size:
        raise ValueError(
            f"classes_ must be a non-empty 1-D array, got {classes!r:.60}."
        )
    if not isinstance(binarizer, LabelBinarizer) or not hasattr(binarizer, "y_type_"):
        raise ValueError("the label binarizer is missing or not fitted.")
    binarized = getattr(binarizer, "classes_", None)
    if not (
        isinstance(binarized, np.ndarray)
        and binarized.shape == classes.shape
        and np.array_equal(binarized, classes)
    ):
        raise ValueError("classes_ differ from the label binarizer's classes.")
    y_type = binarizer.y_type_
    expected = {"binary": 1, "multiclass": classes.size}.get(y_type, classes.size)
    if y_type not in ("binary", "multiclass", "multilabel-indicator") or (
        y_type == "multiclass" and classes.size < 3
    ):
        raise ValueError(
            f"the label binarizer's target type {y_type!r:.40} is invalid."
        )
    if n_outputs != expected:
        raise ValueError(
            f"the output layer has {n_outputs} units for {classes.size} classes "
            f"({y_type}); it needs {expected}."
        )
    return "softmax" if y_type == "multiclass" else "logistic"


def _fraction(value):
    return _is_real(value) and 0 <= value <= 1


def _optional(test):
    return lambda v: v is None or test(v)


def _count(value):
    return _is_int(value) and 0 <= value < 2**62


def _plateau(value):
    return (
        isinstance(value, (list, tuple))
        and len(value) == 3
        and _count(value[0])
        and all(v is None or _is_real(v) for v in value[1:])
    )


# The plain entries of a stored plan (``Plan``): a test each, and what it must be.
PLAN_FIELDS = {
    "settings": (_optional(lambda v: isinstance(v, dict)), "a dict or None"),
    "targets": (
        lambda v: isinstance(v, (list, tuple)) and all(_fraction(t) for t in v),
        "a list of sparsities in [0, 1]",
    ),
    "phase": (lambda v: v in ("dense", "ready", "rounds"), "a phase name"),
    "phase_start": (_count, "an iteration count"),
    "end": (_optional(_count), "an iteration count"),
    "plateau": (_optional(_plateau), "a count and two best values"),
    "before_loss": (_optional(_is_real), "a number or None"),
    "round_first": (_optional(_is_real), "a number or None"),
    "round_best": (_optional(_is_real), "a number or None"),
    "round_count": (_count, "an epoch count"),
    "finetune_until": (_optional(_count), "an iteration count"),
    "reference_loss": (_optional(_is_real), "a number or None"),
    "ladder": (
        _optional(
            lambda v: isinstance(v, (list, tuple)) and all(_fraction(t) for t in v)
        ),
        "a list of sparsities in [0, 1]",
    ),
    "search_round": (_optional(_count), "a round count"),
    "reference_score": (_optional(_is_real), "a number or None"),
    "proposed": (_optional(_fraction), "a sparsity in [0, 1] or None"),
    "retries": (_count, "a count"),
    "starting": (lambda v: isinstance(v, (bool, np.bool_)), "True or False"),
}


def _check_pending_plan(plan, sizes):
    """An unfinished pruning plan: known entries, rewinds of the trained shapes."""
    if plan is None:
        return
    if not isinstance(plan, dict):
        raise ValueError(f"the pruning plan is a {type(plan).__name__}, not a dict.")
    try:
        Plan.from_dict(plan)  # refuses unknown entries
    except TypeError as exc:
        raise ValueError(f"the pruning plan is invalid ({exc}).") from None
    if plan.get("checkpoint") is not None:
        # Only a fit's search holds a checkpoint, and it ends with the fit.
        raise ValueError("the pruning plan holds a search checkpoint.")
    for name, (valid, what) in PLAN_FIELDS.items():
        if name in plan and not valid(plan[name]):
            raise ValueError(
                f"the pruning plan's {name} must be {what}, got {plan[name]!r:.60}."
            )
    regrowth = plan.get("regrowth")
    if regrowth is not None and not (
        isinstance(regrowth, (list, tuple))
        and len(regrowth) == 2
        and all(isinstance(i, (int, np.integer)) and i >= 0 for i in regrowth)
    ):
        raise ValueError("the pruning plan's regrowth is not two iteration counts.")
    learning_rate = plan.get("learning_rate_rewind")
    if learning_rate is not None and not (
        isinstance(learning_rate, dict)
        and set(learning_rate) == {"learning_rate", "time_step"}
        and isinstance(learning_rate["learning_rate"], (float, np.floating))
        and np.isfinite(learning_rate["learning_rate"])
        and learning_rate["learning_rate"] >= 0
        and _count(learning_rate["time_step"])
    ):
        raise ValueError(
            "the pruning plan's learning-rate rewind point is not a learning rate "
            "and a sample count."
        )
    rewind = plan.get("rewind")
    if rewind is None:
        return
    if not isinstance(rewind, (tuple, list)) or not all(
        isinstance(part, (tuple, list)) for part in rewind
    ):
        raise ValueError("the pruning plan's rewind weights are not lists of arrays.")
    shapes = [
        *((a, b) for a, b in zip(sizes[:-1], sizes[1:])),
        *((b,) for b in sizes[1:]),
    ]
    arrays = [*rewind[0], *rewind[1]] if len(rewind) == 2 else []
    if len(arrays) != len(shapes) or any(
        not isinstance(a, np.ndarray)
        or a.shape != s
        or a.dtype not in (np.float32, np.float64)
        for a, s in zip(arrays, shapes)
    ):
        raise ValueError(
            "the pruning plan's rewind weights do not match the network as trained."
        )


def _check_initial_weights(state):
    """Weights assigned before fitting, as an assignment would check them."""
    coefs = state.get("_initial_coefs")
    if coefs is not None:
        state["_initial_coefs"] = [
            _frozen(c) for c in _check_coefs(coefs, None, False, None)
        ]
    widths = None if coefs is None else [c.shape[1] for c in state["_initial_coefs"]]
    intercepts = state.get("_initial_intercepts")
    if intercepts is not None:
        state["_initial_intercepts"] = [
            _frozen(b) for b in _check_intercepts(intercepts, widths, None)
        ]


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
            cast = values.astype(dtype)
            csr = to_csr(cast, cast != 0)
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
