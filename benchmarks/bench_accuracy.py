"""Test accuracy of pruned networks against dense MLPClassifier.

Two data sets:

``digits``  scikit-learn's bundled digits (8x8 images, 10 classes); for each seed a
            stratified 75/25 split, standardized on the training part. Dense
            MLPClassifier against every criterion x schedule at several
            sparsities, mean +- std over seeds, with achieved sparsity and fit time.
            Always includes the random-criterion baseline (Blalock et al. 2020).

``mnist``   LeNet-300-100 (hidden layers (300, 100)) on the canonical 60k/10k split,
            pixels / 255 (with ``--standardize``, then shifted and scaled by the
            usual MNIST mean 0.1307 and std 0.3081). Give the data with
            ``--mnist PATH`` or ``SKPRUNE_MNIST``.

``regression``  PrunedMLPRegressor against MLPRegressor, both with their defaults
            (hidden (100,), adam, max_iter=200; PrunedMLPRegressor computes in
            float32), test R² on diabetes, Friedman #1 (2000 samples, noise 1.0,
            generated once with random_state=0) and UCI Abalone (``--abalone PATH``
            or ``SKPRUNE_ABALONE``; skipped when absent). Per seed: an 80/20 split
            with that seed, X standardized on the training part, y standardized
            with the training mean and std (the same for both estimators; R² is
            unchanged by it), ``random_state=seed``. Rows: the defaults and fixed
            sparsities; ConvergenceWarnings are counted per row. Sets where the
            defaults lose more than ``--target`` R² get a second table (pruning
            schedules x sparsities) unless ``--no-explore``.

    python benchmarks/bench_accuracy.py digits [--seeds 5] [--out FILE.md]
    python benchmarks/bench_accuracy.py mnist --mnist ../shared/data/mnist.npz \\
        --epochs 50 --sparsities 0.92 0.98
    python benchmarks/bench_accuracy.py regression --abalone ../shared/data/abalone.npz

Every configuration is run with the same ``max_iter`` as the dense reference.
"""

import argparse
import itertools
import json
import sys
import time
import warnings

import numpy as np
from _common import environment, load_abalone, load_mnist, markdown_table, versions
from sklearn.datasets import load_diabetes, load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier, PrunedMLPRegressor

CRITERIA = ["magnitude", "taylor", "obd", "random"]
SCHEDULES = ["gradual", "iterative", "oneshot", "lottery", "greedy"]


def digits_splits(n_seeds):
    X, y = load_digits(return_X_y=True)
    for seed in range(n_seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed
        )
        scaler = StandardScaler().fit(X_train)
        yield seed, scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def evaluate(make, splits):
    """Fit ``make(seed)`` on every split; return accuracies, sparsities, times."""
    acc, sparsity, seconds = [], [], []
    for seed, X_train, X_test, y_train, y_test in splits:
        model = make(seed)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds.append(time.perf_counter() - start)
        acc.append(model.score(X_test, y_test))
        sparsity.append(getattr(model, "sparsity_", 0.0))
    return np.array(acc), np.array(sparsity), np.array(seconds)


def row(name, acc, sparsity, seconds, target=None, error=False):
    value = (1 - acc) * 100 if error else acc * 100
    cells = [name]
    if target is not None:
        cells.append(f"{target:g}")
    cells += [
        f"{value.mean():.2f} ± {value.std():.2f}",
        f"{sparsity.mean():.3f}",
        f"{seconds.mean():.2f}",
    ]
    return cells


def run_digits(args):
    splits = list(digits_splits(args.seeds))
    results = []
    dense = evaluate(lambda s: MLPClassifier(random_state=s), splits)
    results.append({"model": "MLPClassifier (dense)", "sparsity": 0.0, **_pack(dense)})
    print(f"dense MLPClassifier: {dense[0].mean():.4f}", file=sys.stderr)
    configs = []
    for sparsity in args.sparsities:
        for criterion, schedule in itertools.product(args.criteria, args.schedules):
            configs.append(
                (
                    f"{criterion} / {schedule}",
                    sparsity,
                    dict(pruning=criterion, pruning_schedule=schedule),
                )
            )
        for scope in args.scopes:
            configs.append(
                (
                    f"magnitude / gradual / scope={scope}",
                    sparsity,
                    dict(pruning_scope=scope),
                )
            )
    for sparsity in args.neuron_sparsities:
        for criterion in args.criteria:
            configs.append(
                (
                    f"{criterion} / gradual / neuron",
                    sparsity,
                    dict(pruning=criterion, granularity="neuron"),
                )
            )
    if not args.skip_auto:
        configs.append(("magnitude / auto", "auto", {}))
    extra = json.loads(args.params) if args.params else {}
    for name, sparsity, params in configs:
        if extra:
            params, name = {**params, **extra}, f"{name} {json.dumps(extra)}"
        outcome = evaluate(
            lambda s, p=params, sp=sparsity: PrunedMLPClassifier(
                sparsity=sp, random_state=s, **p
            ),
            splits,
        )
        results.append({"model": name, "sparsity": sparsity, **_pack(outcome)})
        print(
            f"{name} @ {sparsity}: {outcome[0].mean():.4f} "
            f"(sparsity {outcome[1].mean():.3f})",
            file=sys.stderr,
            flush=True,
        )
    return results


def run_mnist(args):
    X_train, y_train, X_test, y_test = load_mnist(args.mnist)
    if args.standardize:
        # The usual MNIST normalisation (mean and std of the training pixels).
        X_train = (X_train - 0.1307) / 0.3081
        X_test = (X_test - 0.1307) / 0.3081
    splits = [(seed, X_train, X_test, y_train, y_test) for seed in range(args.seeds)]
    results = []
    common = dict(hidden_layer_sizes=(300, 100), max_iter=args.epochs)
    if not args.skip_dense:
        dense = evaluate(lambda s: MLPClassifier(random_state=s, **common), splits)
        results.append(
            {"model": "MLPClassifier (dense)", "sparsity": 0.0, **_pack(dense)}
        )
        print(
            f"dense MLPClassifier: error {100 * (1 - dense[0].mean()):.2f}%",
            file=sys.stderr,
            flush=True,
        )
    extra = json.loads(args.params) if args.params else {}
    for sparsity in args.sparsities:
        params = dict(common, **extra)
        outcome = evaluate(
            lambda s, sp=sparsity, p=params: PrunedMLPClassifier(
                sparsity=sp, random_state=s, **p
            ),
            splits,
        )
        name = "PrunedMLPClassifier " + (json.dumps(extra) if extra else "(defaults)")
        results.append({"model": name, "sparsity": sparsity, **_pack(outcome)})
        print(
            f"{name} @ {sparsity}: error {100 * (1 - outcome[0].mean()):.2f}% "
            f"(sparsity {outcome[1].mean():.4f}, {outcome[2].mean():.0f}s)",
            file=sys.stderr,
            flush=True,
        )
    return results


# --- regression ---------------------------------------------------------------

REGRESSION_SETS = ["diabetes", "friedman1", "abalone"]
DEFAULT = "default"  # the estimator's default sparsity, whatever it is


def regression_data(name, abalone=None):
    """``(X, y)`` of a regression set, or ``(None, reason)`` to skip it."""
    if name == "diabetes":
        return load_diabetes(return_X_y=True)
    if name == "friedman1":
        return make_friedman1(n_samples=2000, noise=1.0, random_state=0)
    return load_abalone(abalone)


def regression_splits(X, y, n_seeds):
    """Seeded 80/20 splits; X standardized, y standardized on the training part."""
    for seed in range(n_seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.2, random_state=seed
        )
        scaler = StandardScaler().fit(X_train)
        mean, std = y_train.mean(), y_train.std()
        yield (
            seed,
            scaler.transform(X_train),
            scaler.transform(X_test),
            (y_train - mean) / std,
            (y_test - mean) / std,
        )


def fit_counting(model, X, y):
    """Fit; return seconds and the number of ConvergenceWarnings (others re-shown)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    n_conv = 0
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            n_conv += 1
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return seconds, n_conv


def _sparsity(text):
    """A ``--sparsities`` value: a number, or ``auto``."""
    return "auto" if text == "auto" else float(text)


def regression_models(sparsities, schedules=("gradual",)):
    """(label, schedule, sparsity, factory) for every configuration, dense first."""
    models = [("MLPRegressor", None, 0.0, lambda s: MLPRegressor(random_state=s))]
    for schedule in schedules:
        for sparsity in sparsities:
            params = {} if sparsity == DEFAULT else {"sparsity": sparsity}
            if schedule != "gradual":
                params["pruning_schedule"] = schedule
            label = "PrunedMLPRegressor" + (
                f" {json.dumps(params)}" if params else " (defaults)"
            )
            models.append(
                (
                    label,
                    schedule,
                    sparsity,
                    lambda s, p=params: PrunedMLPRegressor(random_state=s, **p),
                )
            )
    return models


def evaluate_regression(models, splits, data_name):
    """Fit every model on every split, alternating models within a seed."""
    records = [
        {
            "data": data_name,
            "model": label,
            "schedule": schedule,
            "sparsity": sparsity,
            "r2": [],
            "achieved": [],
            "n_iter": [],
            "seconds": [],
            "convergence_warnings": 0,
        }
        for label, schedule, sparsity, _ in models
    ]
    for seed, X_train, X_test, y_train, y_test in splits:
        for record, (_, _, _, make) in zip(records, models):
            model = make(seed)
            seconds, n_conv = fit_counting(model, X_train, y_train)
            record["r2"].append(model.score(X_test, y_test))
            record["achieved"].append(float(getattr(model, "sparsity_", 0.0)))
            record["n_iter"].append(int(model.n_iter_))
            record["seconds"].append(seconds)
            record["convergence_warnings"] += n_conv
        print(f"{data_name} seed {seed} done", file=sys.stderr, flush=True)
    for record in records:
        if record["sparsity"] == DEFAULT:
            record["default_sparsity"] = PrunedMLPRegressor().sparsity
    return records


def regression_table(records, dense, target, seeds):
    header = [
        "data",
        "model",
        "sparsity",
        "test R²",
        "ΔR² vs MLPRegressor",
        f"within {target:g}",
        "achieved sparsity",
        "epochs (n_iter_)",
        "fit (s)",
        f"ConvergenceWarnings (of {seeds})",
    ]
    rows = []
    for r in records:
        r2 = np.array(r["r2"])
        base = np.array(dense[r["data"]]["r2"])
        delta = r2 - base  # paired by seed
        is_dense = r is dense[r["data"]]
        sparsity = r["sparsity"]
        if sparsity == DEFAULT:
            sparsity = f"default ({r['default_sparsity']})"
        n_iter = np.array(r["n_iter"])
        rows.append(
            [
                r["data"],
                r["model"],
                "—" if is_dense else f"{sparsity}",
                f"{r2.mean():.4f} ± {r2.std():.4f}",
                "—" if is_dense else f"{delta.mean():+.4f} ± {delta.std():.4f}",
                "—" if is_dense else ("yes" if delta.mean() >= -target else "**no**"),
                f"{np.mean(r['achieved']):.3f}",
                f"{n_iter.mean():.0f} ± {n_iter.std():.0f}",
                f"{np.mean(r['seconds']):.2f}",
                str(r["convergence_warnings"]),
            ]
        )
    return markdown_table(header, rows)


def meets_target(record, dense, target):
    delta = np.mean(record["r2"]) - np.mean(dense[record["data"]]["r2"])
    return delta >= -target


def run_regression(args):
    main_sparsities = [DEFAULT] + args.sparsities
    results, explore, dense, notes = [], [], {}, []
    for name in args.sets:
        X, y = regression_data(name, args.abalone)
        if X is None:
            notes.append(f"{name}: skipped ({y})")
            print(f"{name}: SKIPPED ({y})", file=sys.stderr, flush=True)
            continue
        splits = list(regression_splits(X, y, args.seeds))
        records = evaluate_regression(regression_models(main_sparsities), splits, name)
        dense[name] = records[0]
        results += records
        default = next(r for r in records if r["sparsity"] == DEFAULT)
        if args.no_explore or meets_target(default, dense, args.target):
            continue
        # The defaults miss the target: which schedule / sparsity reaches it?
        done = {(r["schedule"], r["sparsity"]) for r in records[1:]}
        wanted = [
            (label, schedule, sparsity, make)
            for label, schedule, sparsity, make in regression_models(
                [DEFAULT] + args.explore_sparsities, args.explore_schedules
            )[1:]
            if (schedule, sparsity) not in done
        ]
        print(f"{name}: exploring {len(wanted)} configurations", file=sys.stderr)
        extra = evaluate_regression([regression_models([])[0]] + wanted, splits, name)
        # The dense reference is refitted with the same seeds (deterministic), so
        # it is dropped here; the paired differences use the first one.
        known = [r for r in records[1:] if r["schedule"] in args.explore_schedules]
        explore += sorted(
            known + extra[1:],
            key=lambda r: (
                args.explore_schedules.index(r["schedule"]),
                -1 if r["sparsity"] == DEFAULT else r["sparsity"],
            ),
        )
    return results, explore, dense, notes


def report_regression(args, results, explore, dense, notes):
    print(
        f"{args.seeds} seeds; per seed an 80/20 split with that seed and "
        "random_state=seed for both estimators; X standardized on the training part "
        "(StandardScaler), y standardized with the training mean and std (the same "
        "for both estimators; R² is invariant to it). Both estimators with their "
        "defaults (hidden (100,), adam, max_iter=200; PrunedMLPRegressor in float32, "
        "MLPRegressor in float64). ΔR²: mean ± std over seeds of the paired "
        f"difference; target: ΔR² ≥ -{args.target:g}. friedman1: make_friedman1("
        "n_samples=2000, noise=1.0, random_state=0).\n"
    )
    for note in notes:
        print(f"NOTE {note}\n")
    print("## PrunedMLPRegressor against MLPRegressor\n")
    print(regression_table(results, dense, args.target, args.seeds))
    print()
    for name, record in dense.items():
        default = next(
            r for r in results if r["data"] == name and r["sparsity"] == DEFAULT
        )
        delta = np.mean(default["r2"]) - np.mean(record["r2"])
        verdict = "MET" if delta >= -args.target else "NOT MET"
        print(f"- {name}: defaults ΔR² = {delta:+.4f}: target {verdict}")
    if not explore and not args.no_explore:
        print(
            "\nNo second table: the defaults are within the target on every set, "
            "so no schedules x sparsities exploration was run."
        )
    if explore:
        print(
            "\n## For information: schedules x sparsities on the sets where the "
            "defaults miss the target\n"
        )
        print(regression_table(explore, dense, args.target, args.seeds))


def _pack(outcome):
    acc, sparsity, seconds = outcome
    return {
        "accuracy": acc.tolist(),
        "achieved": sparsity.tolist(),
        "seconds": seconds.tolist(),
    }


def table(results, error=False):
    header = [
        "model",
        "sparsity",
        "test error (%)" if error else "test accuracy (%)",
        "achieved sparsity",
        "fit (s)",
    ]
    rows = [
        row(
            r["model"],
            np.array(r["accuracy"]),
            np.array(r["achieved"]),
            np.array(r["seconds"]),
            target=r["sparsity"] if r["sparsity"] != "auto" else None,
            error=error,
        )
        if r["sparsity"] != "auto"
        else [r["model"], "auto"]
        + row(
            "",
            np.array(r["accuracy"]),
            np.array(r["achieved"]),
            np.array(r["seconds"]),
            error=error,
        )[1:]
        for r in results
    ]
    return markdown_table(header, rows)


def sparsity_check(results, tolerance=0.005):
    """One line: does ``sparsity_`` equal the requested sparsity in every fit?"""
    worst, where = 0.0, None
    for r in results:
        if r["sparsity"] in ("auto", 0.0):
            continue
        gaps = np.abs(np.array(r["achieved"]) - r["sparsity"])
        if gaps.max() > worst:
            worst, where = float(gaps.max()), f"{r['model']} @ {r['sparsity']}"
    verdict = "yes" if worst <= tolerance else "**no**"
    return (
        f"sparsity_ within {tolerance} of the requested sparsity in every fit: "
        f"{verdict} (largest gap {worst:.4f}{', ' + where if where else ''})"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="data", required=True)
    digits = sub.add_parser("digits")
    digits.add_argument("--seeds", type=int, default=5)
    digits.add_argument(
        "--sparsities", type=float, nargs="+", default=[0.5, 0.8, 0.9, 0.95, 0.98]
    )
    digits.add_argument("--criteria", nargs="+", default=CRITERIA)
    digits.add_argument("--schedules", nargs="+", default=SCHEDULES)
    digits.add_argument(
        "--scopes",
        nargs="+",
        default=["erk", "global"],
        help="extra magnitude/gradual rows with these scopes",
    )
    digits.add_argument("--neuron-sparsities", type=float, nargs="*", default=[0.5])
    digits.add_argument("--skip-auto", action="store_true")
    mnist = sub.add_parser("mnist")
    mnist.add_argument("--mnist", help="path to mnist.npz (or SKPRUNE_MNIST)")
    mnist.add_argument("--epochs", type=int, default=50)
    mnist.add_argument("--sparsities", type=float, nargs="+", default=[0.92, 0.98])
    mnist.add_argument("--seeds", type=int, default=3)
    mnist.add_argument(
        "--standardize",
        action="store_true",
        help="standardize pixels ((x/255 - 0.1307) / 0.3081) instead of x/255",
    )
    mnist.add_argument("--skip-dense", action="store_true")
    regression = sub.add_parser("regression")
    regression.add_argument("--seeds", type=int, default=5)
    regression.add_argument(
        "--sparsities",
        type=_sparsity,
        nargs="+",
        default=[0.5, 0.8, 0.9, 0.95],
        help="fixed sparsities, or 'auto'",
    )
    regression.add_argument("--sets", nargs="+", default=REGRESSION_SETS)
    regression.add_argument(
        "--abalone", help="path to abalone.npz (or SKPRUNE_ABALONE)"
    )
    regression.add_argument("--target", type=float, default=0.01)
    regression.add_argument("--no-explore", action="store_true")
    regression.add_argument(
        "--explore-sparsities",
        type=float,
        nargs="+",
        default=[0.3, 0.5, 0.6, 0.7, 0.8, 0.9],
    )
    regression.add_argument(
        "--explore-schedules", nargs="+", default=["gradual", "iterative"]
    )
    regression.add_argument("--out", help="also write the results (JSON) here")
    for p in (digits, mnist):
        p.add_argument(
            "--params",
            help="JSON dict of extra PrunedMLPClassifier parameters for every "
            "pruned model, e.g. '{\"pruning_steps\": 20}'",
        )
        p.add_argument("--out", help="also write the results (JSON) here")
    args = parser.parse_args(argv)
    if args.data == "regression":
        return main_regression(args)

    warnings.simplefilter("ignore", ConvergenceWarning)
    start = time.perf_counter()
    results = run_digits(args) if args.data == "digits" else run_mnist(args)
    elapsed = time.perf_counter() - start

    print(environment())
    print(versions())
    print(f"command: python benchmarks/bench_accuracy.py {' '.join(sys.argv[1:])}")
    print(f"wall time: {elapsed:.0f} s\n")
    print(table(results, error=args.data == "mnist"))
    print()
    print(sparsity_check(results))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)


def main_regression(args):
    start = time.perf_counter()
    results, explore, dense, notes = run_regression(args)
    elapsed = time.perf_counter() - start
    print(environment())
    print(versions())
    print(f"command: python benchmarks/bench_accuracy.py {' '.join(sys.argv[1:])}")
    print(f"wall time: {elapsed:.0f} s\n")
    report_regression(args, results, explore, dense, notes)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(
                {"args": vars(args), "results": results, "explore": explore},
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()
