"""Probe: fine-tuning changes on LeNet-300-100 / MNIST at high sparsity.

Not a library feature: this script wraps the training loop's callbacks from the
outside to try, on the gradual schedule, what the library does not do:

- ``--decay linear|cosine``: after the last pruning round, the Adam learning
  rate falls from ``--lr`` to 2 % of it at ``max_iter`` (``rounds``: from the
  first round on; ``all``: from the first epoch);
- ``--distill W``: from the first round on, the targets become
  ``(1 - W) * one-hot + W * p``, with ``p`` the dense network's probabilities
  at the end of its dense phase (distillation at temperature 1);
- ``--floor S``: the dense phase may end at ``S`` of ``max_iter`` (the
  library's ``DENSE_SHARE_FLOOR``, 0.2) from ``sparsity=0.95`` on;
- ``--regrow A``: after the last round, RigL's drop-and-regrow of the kept
  weights at each epoch end (``Pruner.move_weights``, gradient regrowth),
  the fraction decaying from ``A`` along RigL's cosine to zero at 3/4 of the
  epochs left;
- ``--erk-power P``: ERK densities in proportion to
  ``((n_in + n_out) / (n_in n_out)) ** P`` (1: ERK; above 1 the smaller
  layers keep more, below 1 it tends to the uniform per-layer share);
- ``--float64-pixels``: the same images as float64 ``x / 255.0``, values a
  last bit away from the benchmarks' float32 pixels.

Defaults otherwise (pixels / 255, ``pruning_scope="erk"`` unless ``--params``
says otherwise), 30 epochs, test error per seed::

    python benchmarks/probe_finetuning.py --mnist ../shared/data/mnist.npz \\
        --sparsity 0.98 --lr 0.003 --decay linear --seeds 0 1 2
"""

import argparse
import json
import math
import time
import warnings

import numpy as np
from _common import load_mnist

import skprune._base as base
import skprune._pruning.allocation as allocation
import skprune._pruning.schedules as schedules
from skprune import PrunedMLPClassifier
from skprune._core import predict_proba_dense
from skprune._optim.callbacks import Callback
from skprune._optim.loop import Trainer
from skprune._pruning.schedules import update_fraction


class DenseSnapshot(Callback):
    """Before the pruner: the weights at each epoch end of the dense phase."""

    def __init__(self, shared):
        self.shared = shared

    def on_epoch_end(self, trainer, epoch):
        state = trainer.state
        if not state.history:
            self.shared["dense"] = (
                [c.copy() for c in state.coefs],
                [b.copy() for b in state.intercepts],
            )


class Finetuning(Callback):
    """After the pruner: distillation targets and the learning-rate decay."""

    def __init__(self, shared, args):
        self.shared, self.args = shared, args

    def on_epoch_end(self, trainer, epoch):
        state, shared, args = trainer.state, self.shared, self.args
        if args.distill and "distilled" not in shared and state.history:
            coefs, intercepts = shared["dense"]
            P = predict_proba_dense(
                shared["X"], coefs, intercepts, state.activation, state.out_activation
            )
            Y = shared["Y"]  # the loop reads it minibatch by minibatch
            Y[...] = (1 - args.distill) * Y + args.distill * P.astype(Y.dtype)
            shared["distilled"] = state.n_iter
        pruner = next(c for c in trainer.callbacks if type(c).__name__ == "Pruner")
        if args.regrow and not pruner.pending:
            start = shared.setdefault("regrow_start", state.n_iter)
            horizon = math.ceil(0.75 * (trainer.settings.max_iter - start))
            fraction = update_fraction(state.n_iter - start, horizon, args.regrow)
            if state.n_iter > start and fraction > 0:
                with pruner.trained_shape(state):
                    pruner.move_weights(state, fraction, "gradient")
                shared["regrowths"] = shared.get("regrowths", 0) + 1
        if args.decay == "none":
            return
        if args.decay == "all":
            start = 0
        elif args.decay == "rounds":
            if not state.history:
                return
            start = shared.setdefault("decay_start", state.n_iter - 1)
        else:
            if pruner.pending:
                return
            start = shared.setdefault("decay_start", state.n_iter)
        frac = min(
            1.0, (state.n_iter - start) / max(trainer.settings.max_iter - start, 1)
        )
        if args.decay == "cosine":
            factor = 0.5 * (1 + np.cos(np.pi * frac))
        else:
            factor = 1 - frac
        state.optimizer.learning_rate_init = args.lr * max(factor, 0.02)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mnist", help="path to mnist.npz (or SKPRUNE_MNIST)")
    p.add_argument("--sparsity", type=float, default=0.98)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument(
        "--decay", choices=["none", "linear", "cosine", "rounds", "all"], default="none"
    )
    p.add_argument("--distill", type=float, default=0.0)
    p.add_argument("--floor", type=float, default=None)
    p.add_argument("--regrow", type=float, default=0.0)
    p.add_argument("--erk-power", type=float, default=1.0)
    p.add_argument("--params", default='{"pruning_scope": "erk"}')
    p.add_argument(
        "--float64-pixels",
        action="store_true",
        help="pixels as x / 255.0 in float64 (the fit casts them), instead of "
        "the benchmarks' float32 x * float32(1 / 255)",
    )
    args = p.parse_args()
    if args.floor is not None:
        schedules.DENSE_SHARE_FLOOR = args.floor
    if args.erk_power != 1.0:

        def erk_densities(shapes, keep):
            """The library's ERK rule with raw densities to the power."""
            raw = [((a + b) / (a * b)) ** args.erk_power for a, b in shapes]
            return allocation.proportional_densities(shapes, raw, keep)

        allocation.erk_densities = erk_densities
    X_train, y_train, X_test, y_test = load_mnist(args.mnist)
    if args.float64_pixels:
        X_train, X_test = (np.rint(X * 255) / 255.0 for X in (X_train, X_test))
    shared = {}
    plain_init = Trainer.__init__

    def init(self, state, settings, callbacks, early_stopping=False):
        callbacks = [DenseSnapshot(shared), *callbacks, Finetuning(shared, args)]
        plain_init(self, state, settings, callbacks, early_stopping)

    plain_run = base.run_stochastic

    def run(trainer, X, Y, sample_weight, **kwargs):
        shared["X"], shared["Y"] = X, Y
        return plain_run(trainer, X, Y, sample_weight, **kwargs)

    base.Trainer.__init__ = init
    base.run_stochastic = run
    errors = []
    for seed in args.seeds:
        shared.clear()
        model = PrunedMLPClassifier(
            hidden_layer_sizes=(300, 100),
            sparsity=args.sparsity,
            max_iter=args.epochs,
            learning_rate_init=args.lr,
            random_state=seed,
            **json.loads(args.params),
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X_train, y_train)
        errors.append(100 * (1 - model.score(X_test, y_test)))
        print(
            f"seed {seed}: error {errors[-1]:.2f} %, sparsity_ {model.sparsity_:.4f}, "
            f"n_iter_ {model.n_iter_}, {time.perf_counter() - start:.1f} s, "
            f"topology updates after the last round: {shared.get('regrowths', 0)}",
            flush=True,
        )
    print(f"{vars(args)}: mean error {np.mean(errors):.2f} %")


if __name__ == "__main__":
    main()
