"""Wall time of the default fit on digits against MLPClassifier, alternating.

Digits (stratified 75/25 split, random_state=0, standardized on the training
part); MLPClassifier(), PrunedMLPClassifier() and PrunedMLPClassifier(sparsity=0),
all with random_state=0, fitted ``--rounds`` times in alternating order (reversed
on odd rounds) after one untimed warm-up fit; medians and their ratios.
``--auto`` adds PrunedMLPClassifier(sparsity="auto") (its search and its refit;
its epochs are the refit's ``n_iter_``). ``--layered-step`` adds the default fit
with the NumPy optimizer stepping layer by layer instead of once over its flat
state (``_optim.optimizers``), ``--minibatch-gather`` the default fit with each
minibatch gathered on its own instead of the data put in each epoch's order at
once (``_optim.loop.EPOCH_GATHER_MAX_BYTES``): the same bits, so the same
epochs; each with the median of its per-round ratio to the default fit.

    python benchmarks/digits_fit_time.py --rounds 9
    python benchmarks/digits_fit_time.py --rounds 9 --auto
    python benchmarks/digits_fit_time.py --rounds 21 --layered-step --minibatch-gather
"""

import argparse
import time
import warnings

import numpy as np
from _common import environment, versions
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier
from skprune._optim import loop, optimizers

# The default fit without one of its small-network fast paths (the same bits,
# so the same epochs): flag, row name, and how to turn the path off.
WITHOUT = {
    "layered_step": (
        "PrunedMLPClassifier(), NumPy step layer by layer",
        lambda: setattr(optimizers._Optimizer, "_flat_ready", lambda self, g: False),
    ),
    "minibatch_gather": (
        "PrunedMLPClassifier(), minibatches gathered one by one",
        lambda: setattr(loop, "EPOCH_GATHER_MAX_BYTES", 0),
    ),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--auto", action="store_true", help='add PrunedMLPClassifier(sparsity="auto")'
    )
    parser.add_argument(
        "--layered-step",
        action="store_true",
        help="add the default fit with the optimizer's step layer by layer",
    )
    parser.add_argument(
        "--minibatch-gather",
        action="store_true",
        help="add the default fit with each minibatch gathered on its own",
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    X_train = StandardScaler().fit_transform(X_train)
    PrunedMLPClassifier(max_iter=3).fit(X_train, y_train)
    models = {
        "MLPClassifier()": lambda: MLPClassifier(random_state=0),
        "PrunedMLPClassifier()": lambda: PrunedMLPClassifier(random_state=0),
        "PrunedMLPClassifier(sparsity=0)": lambda: PrunedMLPClassifier(
            sparsity=0, random_state=0
        ),
    }
    if args.auto:
        models['PrunedMLPClassifier(sparsity="auto")'] = lambda: PrunedMLPClassifier(
            sparsity="auto", random_state=0
        )
    variants = {
        WITHOUT[flag][0]: WITHOUT[flag][1] for flag in WITHOUT if getattr(args, flag)
    }
    for name in variants:
        models[name] = models["PrunedMLPClassifier()"]
    saved = optimizers._Optimizer._flat_ready, loop.EPOCH_GATHER_MAX_BYTES
    times = {name: [] for name in models}
    epochs = {}
    for r in range(args.rounds):
        order = list(models) if r % 2 == 0 else list(models)[::-1]
        for name in order:
            optimizers._Optimizer._flat_ready, loop.EPOCH_GATHER_MAX_BYTES = saved
            if name in variants:
                variants[name]()
            start = time.perf_counter()
            model = models[name]().fit(X_train, y_train)
            times[name].append(time.perf_counter() - start)
            epochs[name] = model.n_iter_
    print(environment())
    print(versions())
    print(f"rounds: {args.rounds}\n")
    reference = np.median(times["MLPClassifier()"])
    print("| model | epochs | median fit (s) | MLPClassifier / model |")
    print("|---|---|---|---|")
    for name, values in times.items():
        median = np.median(values)
        print(f"| {name} | {epochs[name]} | {median:.3f} | {reference / median:.2f} |")
    default = np.array(times["PrunedMLPClassifier()"])
    for name in variants:
        ratio = np.median(np.array(times[name]) / default)
        print(f"\nper-round ratio, {name} / PrunedMLPClassifier(): {ratio:.3f}")


if __name__ == "__main__":
    main()
