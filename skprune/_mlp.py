"""Where ``PrunedMLPClassifier`` lived before ``_classifier``: kept so that files
saved by earlier versions (pickle, joblib, skops) still find the class."""

from ._classifier import PrunedMLPClassifier

__all__ = ["PrunedMLPClassifier"]
