"""Wall time of the default fit on digits against MLPClassifier, alternating.

Digits (stratified 75/25 split, random_state=0, standardized on the training
part); MLPClassifier(), PrunedMLPClassifier() and PrunedMLPClassifier(sparsity=0),
all with random_state=0, fitted ``--rounds`` times in alternating order (reversed
on odd rounds) after one untimed warm-up fit; medians and their ratios.
``--auto`` adds PrunedMLPClassifier(sparsity="auto") (its search and its refit;
its epochs are the refit's ``n_iter_``). ``--layered-step`` adds the default fit
with the NumPy optimizer stepping layer by layer instead of once over its flat
state (``_optim.optimizers``; the same bits, so the same epochs), with the
median of the per-round ratio of the two.

    python benchmarks/digits_fit_time.py --rounds 9
    python benchmarks/digits_fit_time.py --rounds 9 --auto
    python benchmarks/digits_fit_time.py --rounds 21 --layered-step
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
from skprune._optim import optimizers

LAYERED = "PrunedMLPClassifier(), NumPy step layer by layer"


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
    if args.layered_step:
        models[LAYERED] = models["PrunedMLPClassifier()"]
    flat_ready = optimizers._Optimizer._flat_ready
    times = {name: [] for name in models}
    epochs = {}
    for r in range(args.rounds):
        order = list(models) if r % 2 == 0 else list(models)[::-1]
        for name in order:
            layered = name == LAYERED
            optimizers._Optimizer._flat_ready = (
                (lambda self: False) if layered else flat_ready
            )
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
    if args.layered_step:
        ratio = np.median(
            np.array(times[LAYERED]) / np.array(times["PrunedMLPClassifier()"])
        )
        print(f"\nper-round ratio, layer by layer / flat step: {ratio:.3f}")


if __name__ == "__main__":
    main()
