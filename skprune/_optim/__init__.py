"""Training: optimizers, the training state, the loop and its callbacks.

``optimizers`` (SGD, Adam), ``state`` (:class:`TrainState`), ``loop`` (the
epoch loop and L-BFGS, emitting events) and ``callbacks`` (stopping rule,
reporter, held-out score, the bridge to ``sklearn.callback``). Plain NumPy and
SciPy: nothing here imports ``sklearn.base``.
"""

from .callbacks import (
    Callback,
    EpochEnd,
    HeldOutScore,
    NoImprovement,
    Progress,
    Reporter,
    SklearnCallbacks,
    StoppingRule,
)
from .loop import LoopSettings, Trainer, batch_size_for, run_lbfgs, run_stochastic
from .optimizers import (
    COMPRESS_DENSITY,
    KERNEL_COMPRESS_DENSITY,
    SGD,
    Adam,
    make_optimizer,
)
from .state import DivergenceError, TrainState

__all__ = [
    "COMPRESS_DENSITY",
    "KERNEL_COMPRESS_DENSITY",
    "SGD",
    "Adam",
    "Callback",
    "DivergenceError",
    "EpochEnd",
    "HeldOutScore",
    "LoopSettings",
    "NoImprovement",
    "Progress",
    "Reporter",
    "SklearnCallbacks",
    "StoppingRule",
    "TrainState",
    "Trainer",
    "batch_size_for",
    "make_optimizer",
    "run_lbfgs",
    "run_stochastic",
]
