"""Export to ONNX through skl2onnx (optional extra: ``pip install "skprune[onnx]"``).

Importing this module registers skl2onnx converters (shape calculator and
converter) for :class:`~skprune.PrunedMLPClassifier` and
:class:`~skprune.PrunedMLPRegressor`, so ``skl2onnx.to_onnx`` handles them,
alone or at the end of a Pipeline. The graph holds the compacted network: the
hidden layers as stored after pruning, and only the input features that a kept
weight reads.
"""

import numpy as np

try:
    from skl2onnx import to_onnx as _skl2onnx_to_onnx
    from skl2onnx import update_registered_converter
    from skl2onnx.common._apply_operation import apply_cast, apply_concat, apply_sub
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
        guess_proto_type,
    )
    from skl2onnx.proto import onnx_proto
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        'ONNX export needs skl2onnx and onnx: pip install "skprune[onnx]"'
    ) from exc

from sklearn.utils.validation import check_is_fitted

from ._classifier import PrunedMLPClassifier
from ._regressor import PrunedMLPRegressor

_ACTIVATIONS = {
    "identity": "Identity",
    "tanh": "Tanh",
    "logistic": "Sigmoid",
    "relu": "Relu",
    "softmax": "Softmax",
    "exp": "Exp",
}


def _is_multilabel(model):
    return model._label_binarizer.y_type_ == "multilabel-indicator"


def _string_classes(model):
    return model.classes_.dtype.kind in "OUS"


def _check_one_input(operator):
    if len(operator.inputs) != 1:
        raise ValueError(
            f"{type(operator.raw_operator).__name__} takes one input matrix, but "
            f"the graph gives it {len(operator.inputs)} inputs (skl2onnx makes one "
            "per column of a DataFrame). Pass X_sample as an array, e.g. "
            "X.to_numpy(dtype=np.float32)[:1], and run the model on arrays."
        )


def _output_type(operator):
    """The tensor type the graph computes in: double for double input, else float."""
    if isinstance(operator.inputs[0].type, DoubleTensorType):
        return DoubleTensorType
    return FloatTensorType


def shape_calculator(operator):
    """Classifier output types: labels, then probabilities (one column per class)."""
    _check_one_input(operator)
    model = operator.raw_operator
    n_rows = operator.inputs[0].get_first_dimension()
    n_classes = len(model.classes_)
    if _is_multilabel(model):
        operator.outputs[0].type = Int64TensorType([n_rows, n_classes])
    elif _string_classes(model):
        operator.outputs[0].type = StringTensorType([n_rows])
    else:
        operator.outputs[0].type = Int64TensorType([n_rows])
    operator.outputs[1].type = _output_type(operator)([n_rows, n_classes])


def regressor_shape_calculator(operator):
    """Regressor output type: predictions of shape (n_samples, n_outputs).

    As skl2onnx's regressors, a single output is a column, not a vector.
    """
    _check_one_input(operator)
    n_rows = operator.inputs[0].get_first_dimension()
    n_outputs = operator.raw_operator.n_outputs_
    operator.outputs[0].type = _output_type(operator)([n_rows, n_outputs])


def _compute_types(operator):
    """(ONNX element type, NumPy dtype) of the graph's computation."""
    proto_dtype = guess_proto_type(operator.inputs[0].type)
    if proto_dtype == onnx_proto.TensorProto.DOUBLE:
        return proto_dtype, np.float64
    return onnx_proto.TensorProto.FLOAT, np.float32


def _emit_used_features(scope, container, current, used):
    """Gather the input columns ``used``; return the gathered tensor's name."""
    indices = scope.get_unique_variable_name("used_features")
    container.add_initializer(
        indices, onnx_proto.TensorProto.INT64, [used.size], used.astype(np.int64)
    )
    gathered = scope.get_unique_variable_name("used_input")
    container.add_node(
        "Gather",
        [current, indices],
        gathered,
        axis=1,
        name=scope.get_unique_operator_name("Gather"),
    )
    return gathered


def _emit_network(scope, operator, container):
    """Emit the forward pass of the stored network; return the output's name.

    The output activation is applied (softmax, logistic, identity or exp),
    as ``predict_proba`` or ``predict`` applies it.
    """
    model = operator.raw_operator
    proto_dtype, np_dtype = _compute_types(operator)
    name = scope.get_unique_variable_name
    current = name("input")
    apply_cast(scope, operator.inputs[0].full_name, current, container, to=proto_dtype)

    coefs = [np.asarray(c, dtype=np_dtype) for c in model.coefs_]
    used = np.flatnonzero(np.any(coefs[0] != 0, axis=1))
    if used.size < coefs[0].shape[0]:
        # Read only the input features some kept weight uses.
        current = _emit_used_features(scope, container, current, used)
        coefs[0] = coefs[0][used]

    last = len(coefs) - 1
    for i, (coef, intercept) in enumerate(zip(coefs, model.intercepts_)):
        weight, bias = name("coefficient"), name("intercepts")
        container.add_initializer(weight, proto_dtype, coef.shape, coef.ravel())
        container.add_initializer(
            bias, proto_dtype, [1, intercept.size], np.asarray(intercept, np_dtype)
        )
        product, total = name("mul_result"), name("add_result")
        container.add_node(
            "MatMul",
            [current, weight],
            product,
            name=scope.get_unique_operator_name("MatMul"),
        )
        container.add_node(
            "Add", [product, bias], total, name=scope.get_unique_operator_name("Add")
        )
        hidden = model._fit_activation
        kind = _ACTIVATIONS[hidden if i < last else model.out_activation_]
        current = name("activations")
        container.add_node(
            kind, total, current, name=scope.get_unique_operator_name(kind)
        )
    return current


def _emit_identity(scope, container, source, target):
    container.add_node(
        "Identity", source, target, name=scope.get_unique_operator_name("Identity")
    )


def _emit_clip(scope, container, current, proto_dtype, np_dtype):
    """As predict_proba: logistic probabilities strictly inside (0, 1)."""
    name = scope.get_unique_variable_name
    eps = float(np.finfo(np_dtype).eps)
    low, high, clipped = name("low"), name("high"), name("clipped")
    container.add_initializer(low, proto_dtype, [], [eps])
    container.add_initializer(high, proto_dtype, [], [1 - eps])
    container.add_node(
        "Clip",
        [current, low, high],
        clipped,
        name=scope.get_unique_operator_name("Clip"),
    )
    return clipped


def _emit_multilabel(scope, operator, container, current, proto_dtype):
    """Probabilities as they are; a label is on where its probability exceeds 0.5."""
    _emit_identity(scope, container, current, operator.outputs[1].full_name)
    # Greater runs in float and double, unlike ai.onnx.ml's Binarizer.
    half = scope.get_unique_variable_name("half")
    binary = scope.get_unique_variable_name("binary")
    container.add_initializer(half, proto_dtype, [], [0.5])
    container.add_node(
        "Greater",
        [current, half],
        binary,
        name=scope.get_unique_operator_name("Greater"),
    )
    labels = operator.outputs[0].full_name
    apply_cast(scope, binary, labels, container, to=onnx_proto.TensorProto.INT64)


def _emit_labels(scope, operator, container):
    """Labels: the class of the largest probability, as predict."""
    model = operator.raw_operator
    name = scope.get_unique_variable_name
    if _string_classes(model):
        class_type = onnx_proto.TensorProto.STRING
        values = np.array([str(c).encode("utf-8") for c in model.classes_])
    else:
        class_type = onnx_proto.TensorProto.INT64
        values = model.classes_.astype(np.int64)
    classes_name, argmax, picked = name("classes"), name("argmax"), name("picked")
    container.add_initializer(classes_name, class_type, values.shape, values)
    container.add_node(
        "ArgMax",
        operator.outputs[1].full_name,
        argmax,
        axis=1,
        keepdims=0,
        name=scope.get_unique_operator_name("ArgMax"),
    )
    container.add_node(
        "ArrayFeatureExtractor",
        [classes_name, argmax],
        picked,
        op_domain="ai.onnx.ml",
        name=scope.get_unique_operator_name("ArrayFeatureExtractor"),
    )
    shape = name("shape")
    container.add_initializer(shape, onnx_proto.TensorProto.INT64, [1], [-1])
    container.add_node(
        "Reshape",
        [picked, shape],
        operator.outputs[0].full_name,
        name=scope.get_unique_operator_name("Reshape"),
    )


def converter(scope, operator, container):
    """Classifier: the stored network's probabilities, then the labels."""
    model = operator.raw_operator
    proto_dtype, np_dtype = _compute_types(operator)
    current = _emit_network(scope, operator, container)
    if model.out_activation_ == "logistic":
        current = _emit_clip(scope, container, current, proto_dtype, np_dtype)
    if _is_multilabel(model):
        _emit_multilabel(scope, operator, container, current, proto_dtype)
        return
    probabilities = operator.outputs[1].full_name
    if model.n_outputs_ == 1:  # binary: P(negative), P(positive)
        name = scope.get_unique_variable_name
        one, negative = name("unity"), name("negative_class_proba")
        container.add_initializer(one, proto_dtype, [], [1])
        apply_sub(scope, [one, current], negative, container, broadcast=1)
        apply_concat(scope, [negative, current], probabilities, container, axis=1)
    else:
        _emit_identity(scope, container, current, probabilities)
    _emit_labels(scope, operator, container)


def regressor_converter(scope, operator, container):
    """Regressor: the stored network's output (identity or exp), as predict."""
    current = _emit_network(scope, operator, container)
    _emit_identity(scope, container, current, operator.outputs[0].full_name)


update_registered_converter(
    PrunedMLPClassifier,
    "SkprunePrunedMLPClassifier",
    shape_calculator,
    converter,
    options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
)
update_registered_converter(
    PrunedMLPRegressor,
    "SkprunePrunedMLPRegressor",
    regressor_shape_calculator,
    regressor_converter,
)


def _final_estimator(model):
    return model.steps[-1][1] if hasattr(model, "steps") else model


def _check_sample(model, X_sample):
    """Refuse a sample the graph could be built from but would not run on."""
    n_features = getattr(model, "n_features_in_", None)
    shape = np.shape(X_sample)
    if n_features is not None and len(shape) == 2 and shape[1] != n_features:
        raise ValueError(
            f"X_sample has {shape[1]} features, but the model was fitted on "
            f"{n_features}: pass a few rows of the data it predicts on."
        )
    if getattr(X_sample, "dtype", None) == np.float16:
        raise ValueError(
            "X_sample is float16, which the graph cannot compute in: pass "
            "float32 (or float64) rows, e.g. X_sample.astype(np.float32)."
        )


def to_onnx(model, X_sample, *, zipmap=False, **kwargs):
    """Convert a fitted skprune model (or a Pipeline ending in one) to ONNX.

    Parameters
    ----------
    model : PrunedMLPClassifier, PrunedMLPRegressor or Pipeline
        Fitted.
    X_sample : ndarray of shape (n_samples, n_features)
        A few rows of input: their dtype (float32 or float64) sets the graph's
        input and compute type. An array, not a DataFrame (skl2onnx would give
        the network one input per column).
    zipmap : bool, default=False
        Classifiers only: whether probabilities come out as a list of dicts
        (skl2onnx's ZipMap) instead of an array.
    **kwargs
        Passed to :func:`skl2onnx.to_onnx` (``target_opset``, ...).

    Returns
    -------
    onnx_model : onnx.ModelProto
        Run it with onnxruntime. A classifier's outputs are ``label`` and
        ``probabilities``; a regressor's is ``variable``, of shape
        (n_samples, n_outputs) (a column for a single output, where
        ``predict`` returns a vector).

    Raises
    ------
    ValueError
        For ``zipmap=True`` with a regressor, a DataFrame ``X_sample`` (for a
        skprune model alone), or an ``X_sample`` of another number of features
        or of float16.
    sklearn.exceptions.NotFittedError
        For a model (or a Pipeline) that is not fitted.

    Examples
    --------
    >>> import numpy as np, onnxruntime
    >>> from sklearn.datasets import load_iris
    >>> from skprune import PrunedMLPClassifier
    >>> from skprune.onnx import to_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype(np.float32)
    >>> clf = PrunedMLPClassifier(sparsity=0.5, solver="lbfgs", random_state=0)
    >>> onx = to_onnx(clf.fit(X, y), X[:1])
    >>> session = onnxruntime.InferenceSession(onx.SerializeToString())
    >>> labels, proba = session.run(None, {"X": X})
    >>> bool((labels == clf.predict(X)).all())
    True

    A regressor's single output is a column:

    >>> from skprune import PrunedMLPRegressor
    >>> reg = PrunedMLPRegressor(sparsity=0.5, solver="lbfgs", random_state=0)
    >>> reg = reg.fit(X[:, :3], X[:, 3])
    >>> session = onnxruntime.InferenceSession(
    ...     to_onnx(reg, X[:1, :3]).SerializeToString()
    ... )
    >>> (prediction,) = session.run(None, {"X": X[:, :3]})
    >>> prediction.shape
    (150, 1)
    >>> bool(np.allclose(prediction.ravel(), reg.predict(X[:, :3]), atol=1e-5))
    True
    """
    check_is_fitted(model)
    _check_sample(model, X_sample)
    options = kwargs.pop("options", None)
    if isinstance(_final_estimator(model), PrunedMLPRegressor):
        if zipmap:
            raise ValueError(
                "zipmap applies to classifiers' probabilities; a "
                "PrunedMLPRegressor has none. Leave zipmap=False."
            )
    elif options is None:
        options = {PrunedMLPClassifier: {"zipmap": zipmap}}
    return _skl2onnx_to_onnx(model, X_sample, options=options, **kwargs)
