"""Learning-rate rewinding against plain fine-tuning (Renda et al. 2020).

The oneshot, iterative and lottery schedules rewind the learning-rate schedule
after each round: the learning rate follows its rule again from where it stood
when the plan was laid out (the start of training), instead of going on from
where the clock has brought it. This compares both on the same fits: the
"fine-tuning" rows switch the schedules' rewinding off
(``rewinds_learning_rate = False`` on the schedule classes, an internal switch
kept for this comparison). For the lottery schedule a third row rewinds the
rate to where the weights rewind to, the end of the first epoch (Frankle et
al.), instead of to the start of the fit.

Only a learning rate that changes over training is affected: SGD with
``learning_rate="invscaling"`` (``adaptive`` only lowers its rate once the
rounds are over, and Adam's rate is constant, so rewinding leaves them as they
are; ``tests/test_rewinding.py`` checks that those fits are identical).

Data: scikit-learn's digits (a stratified 75/25 split per seed) and, with
``--letter PATH`` or ``SKPRUNE_LETTER``, UCI Letter (first 16000 / last 4000);
both standardized on the training part. Hidden (100,), ``solver="sgd"``,
``learning_rate="invscaling"``, the given ``learning_rate_init`` values, sparsity
0.9, ``max_iter`` per set, each model with ``random_state=seed``. The dense
MLPClassifier with the same settings is the reference row.

    python benchmarks/bench_rewinding.py --letter ../shared/data/letter.npz \\
        --out benchmarks/results/rewinding.md
"""

import argparse
import contextlib
import sys
import time
import warnings

import numpy as np
from _common import environment, load_letter, markdown_table, versions
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier
from skprune._pruning import Pruner, schedules

REWINDING = (schedules.Oneshot, schedules.Iterative)  # Lottery inherits Iterative


def splits(name, n_seeds, letter_path):
    """``(seed, X_train, X_test, y_train, y_test)`` per seed, or a reason."""
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        out = []
        for seed in range(n_seeds):
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.25, stratify=y, random_state=seed
            )
            scaler = StandardScaler().fit(X_train)
            out.append(
                (seed, scaler.transform(X_train), scaler.transform(X_test))
                + (y_train, y_test)
            )
        return out, None
    X, y = load_letter(letter_path)
    if X is None:
        return None, y
    scaler = StandardScaler().fit(X[:16000])
    X_train, X_test = scaler.transform(X[:16000]), scaler.transform(X[16000:])
    return [(s, X_train, X_test, y[:16000], y[16000:]) for s in range(n_seeds)], None


# Fine-tuning, and the shipped rewinding (the rate back to the start of the fit).
VARIANTS = ["fine-tuning", "rewinding"]
# Lottery only: the rate rewound to where the weights rewind to (the end of the
# first epoch), as Frankle et al. rewind both; compared and not shipped.
LOTTERY_VARIANTS = ["rewinding to the weights' point"]


def set_rewinding(on):
    for cls in REWINDING:
        cls.rewinds_learning_rate = on


@contextlib.contextmanager
def variant(label):
    """Switch the schedules to ``label`` for one fit."""
    original = Pruner.record_rewind

    def record_both(self, state):
        original(self, state)
        self.record_learning_rate(state)

    set_rewinding(label != "fine-tuning")
    if label in LOTTERY_VARIANTS:
        Pruner.record_rewind = record_both
    try:
        yield
    finally:
        Pruner.record_rewind = original
        set_rewinding(True)


def fit_score(model, X_train, X_test, y_train, y_test):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    return model.score(X_test, y_test), time.perf_counter() - start


def run(args):
    rows = []
    for name, max_iter in (("digits", args.digits_epochs), ("letter", args.epochs)):
        data, reason = splits(name, args.seeds, args.letter)
        if data is None:
            print(f"{name} skipped: {reason}", file=sys.stderr)
            continue
        for lr in args.learning_rates:
            common = dict(
                solver="sgd",
                learning_rate="invscaling",
                learning_rate_init=lr,
                max_iter=max_iter,
            )
            dense = [
                fit_score(MLPClassifier(random_state=s, **common), *rest)[0]
                for s, *rest in data
            ]
            rows.append([name, lr, "dense MLPClassifier", "—", _pct(dense), "—"])
            for schedule in args.schedules:
                variants = VARIANTS + (
                    LOTTERY_VARIANTS if schedule == "lottery" else []
                )
                results = {}
                # Alternate the order of the variants, seed by seed.
                for s, *rest in data:
                    for label in variants if s % 2 == 0 else variants[::-1]:
                        model = PrunedMLPClassifier(
                            sparsity=args.sparsity,
                            pruning_schedule=schedule,
                            random_state=s,
                            **common,
                        )
                        with variant(label):
                            results.setdefault(label, []).append(
                                fit_score(model, *rest)
                            )
                base = np.mean([a for a, _ in results["fine-tuning"]])
                for label in variants:
                    acc = [a for a, _ in results[label]]
                    gain = 100 * (np.mean(acc) - base)
                    rows.append(
                        [
                            name,
                            lr,
                            f"{schedule}, {label}",
                            args.sparsity,
                            _pct(acc),
                            "—" if label == "fine-tuning" else f"{gain:+.2f}",
                        ]
                    )
                print(*rows[-len(variants) :], sep="\n", file=sys.stderr, flush=True)
    return rows


def _pct(values):
    return f"{100 * np.mean(values):.2f} ± {100 * np.std(values):.2f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letter", help="letter.npz (or SKPRUNE_LETTER)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sparsity", type=float, default=0.9)
    parser.add_argument("--epochs", type=int, default=100, help="letter max_iter")
    parser.add_argument("--digits-epochs", type=int, default=200)
    parser.add_argument("--learning-rates", type=float, nargs="+", default=[0.1, 0.5])
    parser.add_argument(
        "--schedules", nargs="+", default=["oneshot", "iterative", "lottery"]
    )
    parser.add_argument("--out", help="also write the markdown report here")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = run(args)
    header = [
        "data",
        "learning_rate_init",
        "model",
        "sparsity",
        "accuracy (%)",
        "rewinding gain (points)",
    ]
    report = "\n".join(
        [
            "```text",
            environment(),
            versions(),
            "command: python benchmarks/bench_rewinding.py "
            + " ".join(sys.argv[1:] if argv is None else argv),
            f"wall time: {time.perf_counter() - start:.0f} s",
            "```",
            "",
            f"{args.seeds} seeds; solver='sgd', learning_rate='invscaling'; "
            f"digits max_iter={args.digits_epochs}, letter max_iter={args.epochs}; "
            "accuracy mean ± std over seeds.",
            "",
            markdown_table(header, rows),
            "",
        ]
    )
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)


if __name__ == "__main__":
    main()
