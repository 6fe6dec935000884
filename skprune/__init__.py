"""skprune: scikit-learn MLPs that prune themselves while they train.

The pruned network is stored as ``scipy.sparse`` matrices, so it really is smaller
and faster than the dense one.
"""

from ._classifier import PrunedMLPClassifier
from ._regressor import PrunedMLPRegressor

__version__ = "0.1.0.dev0"

#: Types to pass as ``trusted=`` to ``skops.io.load`` for a skprune model; every
#: other object in the file is scikit-learn's or plain NumPy/SciPy data.
TRUSTED_TYPES = [
    "skprune._classifier.PrunedMLPClassifier",
    "skprune._regressor.PrunedMLPRegressor",
    # The class's module in files saved by earlier versions.
    "skprune._mlp.PrunedMLPClassifier",
]


def to_onnx(model, X_sample, **kwargs):
    """Convert a fitted model to ONNX; see :func:`skprune.onnx.to_onnx`.

    Needs the ``onnx`` extra: ``pip install "skprune[onnx]"``.
    """
    from .onnx import to_onnx as _to_onnx

    return _to_onnx(model, X_sample, **kwargs)


__all__ = [
    "PrunedMLPClassifier",
    "PrunedMLPRegressor",
    "TRUSTED_TYPES",
    "to_onnx",
    "__version__",
]
