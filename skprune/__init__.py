"""skprune: a scikit-learn MLP classifier that prunes itself while it trains.

The pruned network is stored as ``scipy.sparse`` matrices, so it really is smaller
and faster than the dense one.
"""

from ._mlp import PrunedMLPClassifier

__version__ = "0.1.0.dev0"

__all__ = ["PrunedMLPClassifier", "__version__"]
