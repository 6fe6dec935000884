"""Export to ONNX through skl2onnx (optional extra: ``pip install "skprune[onnx]"``).

Importing this module registers a skl2onnx converter (shape calculator and
converter) for :class:`~skprune.PrunedMLPClassifier`, so ``skl2onnx.to_onnx``
handles it, alone or inside a Pipeline. The graph holds the compacted network:
the hidden layers as stored after pruning, and only the input features that a
kept weight reads.
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

from ._mlp import PrunedMLPClassifier

_ACTIVATIONS = {
    "identity": "Identity",
    "tanh": "Tanh",
    "logistic": "Sigmoid",
    "relu": "Relu",
    "softmax": "Softmax",
}


def _is_multilabel(model):
    return model._label_binarizer.y_type_ == "multilabel-indicator"


def _string_classes(model):
    return model.classes_.dtype.kind in "OUS"


def shape_calculator(operator):
    """Output types: labels, then probabilities (one column per class)."""
    model = operator.raw_operator
    if len(operator.inputs) != 1:
        raise ValueError(
            f"PrunedMLPClassifier takes one input matrix, but the graph gives it "
            f"{len(operator.inputs)} inputs (skl2onnx makes one per column of a "
            "DataFrame). Pass X_sample as an array, e.g. "
            "X.to_numpy(dtype=np.float32)[:1], and run the model on arrays."
        )
    n_rows = operator.inputs[0].get_first_dimension()
    n_classes = len(model.classes_)
    if _is_multilabel(model):
        operator.outputs[0].type = Int64TensorType([n_rows, n_classes])
    elif _string_classes(model):
        operator.outputs[0].type = StringTensorType([n_rows])
    else:
        operator.outputs[0].type = Int64TensorType([n_rows])
    proba_type = (
        DoubleTensorType
        if isinstance(operator.inputs[0].type, DoubleTensorType)
        else FloatTensorType
    )
    operator.outputs[1].type = proba_type([n_rows, n_classes])


def converter(scope, operator, container):
    """Emit the forward pass of the stored (compacted, pruned) network."""
    model = operator.raw_operator
    proto_dtype = guess_proto_type(operator.inputs[0].type)
    if proto_dtype != onnx_proto.TensorProto.DOUBLE:
        proto_dtype = onnx_proto.TensorProto.FLOAT
    np_dtype = (
        np.float64 if proto_dtype == onnx_proto.TensorProto.DOUBLE else np.float32
    )

    name = scope.get_unique_variable_name
    current = name("input")
    apply_cast(scope, operator.inputs[0].full_name, current, container, to=proto_dtype)

    coefs = [np.asarray(c, dtype=np_dtype) for c in model.coefs_]
    used = np.flatnonzero(np.any(coefs[0] != 0, axis=1))
    if used.size < coefs[0].shape[0]:
        # Read only the input features some kept weight uses.
        indices = name("used_features")
        container.add_initializer(
            indices, onnx_proto.TensorProto.INT64, [used.size], used.astype(np.int64)
        )
        gathered = name("used_input")
        container.add_node(
            "Gather",
            [current, indices],
            gathered,
            axis=1,
            name=scope.get_unique_operator_name("Gather"),
        )
        current = gathered
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

    if model.out_activation_ == "logistic":
        # As predict_proba: probabilities strictly inside (0, 1).
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
        current = clipped

    probabilities = operator.outputs[1].full_name
    labels = operator.outputs[0].full_name
    if _is_multilabel(model):
        container.add_node(
            "Identity",
            current,
            probabilities,
            name=scope.get_unique_operator_name("Identity"),
        )
        # As predict: a label is on where its probability exceeds 0.5 (Greater
        # runs in float and double, unlike ai.onnx.ml's Binarizer).
        half, binary = name("half"), name("binary")
        container.add_initializer(half, proto_dtype, [], [0.5])
        container.add_node(
            "Greater",
            [current, half],
            binary,
            name=scope.get_unique_operator_name("Greater"),
        )
        apply_cast(scope, binary, labels, container, to=onnx_proto.TensorProto.INT64)
        return

    if coefs[-1].shape[1] == 1:  # binary: P(negative), P(positive)
        one, negative = name("unity"), name("negative_class_proba")
        container.add_initializer(one, proto_dtype, [], [1])
        apply_sub(scope, [one, current], negative, container, broadcast=1)
        apply_concat(scope, [negative, current], probabilities, container, axis=1)
    else:
        container.add_node(
            "Identity",
            current,
            probabilities,
            name=scope.get_unique_operator_name("Identity"),
        )

    classes = model.classes_
    if _string_classes(model):
        class_type = onnx_proto.TensorProto.STRING
        values = np.array([str(c).encode("utf-8") for c in classes])
    else:
        class_type = onnx_proto.TensorProto.INT64
        values = classes.astype(np.int64)
    classes_name, argmax, picked = name("classes"), name("argmax"), name("picked")
    container.add_initializer(classes_name, class_type, values.shape, values)
    container.add_node(
        "ArgMax",
        probabilities,
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
        labels,
        name=scope.get_unique_operator_name("Reshape"),
    )


update_registered_converter(
    PrunedMLPClassifier,
    "SkprunePrunedMLPClassifier",
    shape_calculator,
    converter,
    options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
)


def to_onnx(model, X_sample, *, zipmap=False, **kwargs):
    """Convert a fitted PrunedMLPClassifier (or a Pipeline ending in one) to ONNX.

    Parameters
    ----------
    model : PrunedMLPClassifier or Pipeline
        Fitted.
    X_sample : ndarray of shape (n_samples, n_features)
        A few rows of input: their dtype (float32 or float64) sets the graph's
        input and compute type. An array, not a DataFrame (skl2onnx would give
        the network one input per column).
    zipmap : bool, default=False
        Whether probabilities come out as a list of dicts (skl2onnx's ZipMap)
        instead of an array.
    **kwargs
        Passed to :func:`skl2onnx.to_onnx` (``target_opset``, ...).

    Returns
    -------
    onnx_model : onnx.ModelProto
        Outputs ``label`` and ``probabilities``; run it with onnxruntime.

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
    """
    check_is_fitted(model)
    options = kwargs.pop("options", None)
    if options is None:
        options = {PrunedMLPClassifier: {"zipmap": zipmap}}
    return _skl2onnx_to_onnx(model, X_sample, options=options, **kwargs)
