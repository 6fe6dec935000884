"""skprune: a scikit-learn MLP classifier that prunes itself while it trains.

The pruned network is stored as ``scipy.sparse`` matrices, so it really is smaller
and faster than the dense one.
"""

from ._mlp import PrunedMLPClassifier

__version__ = "0.1.0.dev0"

#: Types to pass as ``trusted=`` to ``skops.io.load`` for a skprune model; every
#: other object in the file is scikit-learn's or plain NumPy/SciPy data.
TRUSTED_TYPES = ["skprune._mlp.PrunedMLPClassifier"]

__all__ = ["PrunedMLPClassifier", "TRUSTED_TYPES", "__version__"]
