"""The drop-in benchmark: MLPClassifier against PrunedMLPClassifier, both as shipped.

What it measures: replace ``MLPClassifier()`` by ``PrunedMLPClassifier()`` and change
nothing else. What do you lose in test accuracy, how sparse is the network, how
many epochs and how much fit time does it take, and how often does it warn that it
did not converge? Both estimators get their own defaults (hidden (100,), adam,
``max_iter=200``); ``--config`` runs PrunedMLPClassifier with overridden parameters
instead, and ``--epochs`` sets ``max_iter`` for both.

The panel (``--sets``; sizes are train / test, features, classes):

``digits``         1347 / 450, 64, 10     scikit-learn bundled data; per seed a
``breast_cancer``   426 / 143, 30, 2      stratified 75/25 ``train_test_split`` with
``wine``            133 / 45, 13, 3       ``random_state=seed``, StandardScaler
``iris``            112 / 38, 4, 3        fitted on the training part.
``letter``        16000 / 4000, 16, 26    UCI Letter Recognition, canonical split (the
                                          first 16000 rows train, the last 4000
                                          test), standardized on the training part.
``vowel``           528 / 462, 10, 11     Deterding vowels, canonical speaker-
                                          independent split, standardized on train.
``mnist10k``      10000 / 10000, 784, 10  MNIST, pixels / 255 (not standardized); per
                                          seed 10,000 training images drawn without
                                          replacement (``default_rng(seed)``), the
                                          canonical 10,000 test images.
``make10``         2250 / 750, 50, 3      ``make_classification(n_samples=3000,
                                          n_features=50, n_informative=10,
                                          n_redundant=0, n_classes=3,
                                          random_state=0)``: 10 informative features,
                                          40 pure noise (easy to prune).
``make40``         2250 / 750, 60, 3      the same with ``n_features=60,
                                          n_informative=40``: 40 informative, 20 noise
                                          (much less to prune away).

The two ``make`` sets are generated once (other arguments at their defaults:
``n_clusters_per_class=2``, ``flip_y=0.01``, ``class_sep=1.0``); per seed a
stratified 75/25 split with that seed, standardized on the training part. On
``letter``, ``vowel`` and ``mnist10k`` the test set is the same for every seed.

Data files (nothing is downloaded for letter and vowel; a set whose file is missing
is skipped with a note): ``--letter PATH`` / ``--vowel PATH`` / ``--mnist PATH``,
else ``--data-dir DIR`` (``DIR/letter.npz``, ``DIR/vowel.npz``, ``DIR/mnist.npz``),
else the environment variables ``SKPRUNE_LETTER``, ``SKPRUNE_VOWEL``,
``SKPRUNE_MNIST``, else ``SKPRUNE_DATA`` (a directory). Without any MNIST path,
``load_mnist`` tries OpenML.

Per set and seed, ``MLPClassifier(random_state=seed)`` and every configuration
``PrunedMLPClassifier(random_state=seed, **overrides)`` are fitted one after the
other: MLPClassifier first on even seeds, the configurations in reverse order and
MLPClassifier last on odd seeds, so neither side always runs on a warm (or a busy)
machine. Recorded per fit: test accuracy, ``sparsity_`` (0 for MLPClassifier),
``layer_sparsity_``, ``n_iter_``, the fit's wall time (``perf_counter``), the number
of ConvergenceWarnings it raised, and any exception (a failed pruned fit becomes an
error in its row; the run goes on). Before the first seed of each set every model
gets an untimed 3-epoch warm-up fit on (at most) 2000 training rows, so that
one-off costs such as compiling skprune's numba kernels (networks of 50,000
weights or more, e.g. mnist10k) do not land in a timed fit; ``--no-warmup`` skips
it.

The table: accuracy mean ± std over seeds (%), Δ = mean over seeds of the paired
difference pruned - MLP (accuracy points), mean ``sparsity_``, mean ``n_iter_``,
median fit time, the ratio of the median fit times MLP / pruned, the seeds with a
ConvergenceWarning, and the rule: "ok" if Δ ≥ -0.5 points, else "LOSES".
``--auto-table`` adds, per set, the largest fixed sparsity that keeps the rule
against ``sparsity="auto"``.

    python benchmarks/bench_defaults.py --data-dir ../shared/data --seeds 5 \\
        --out benchmarks/results/defaults.md --json benchmarks/results/defaults.json
    python benchmarks/bench_defaults.py --data-dir ../shared/data \\
        --config s80:sparsity=0.8 --config erk90:sparsity=0.9,pruning_scope=erk \\
        --reference-cache benchmarks/results/mlp_reference.json
    python benchmarks/bench_defaults.py --data-dir ../shared/data --sets vowel letter \\
        --fixed 0 0.5 0.7 0.8 0.9 0.95 --auto-table \\
        --reference-cache benchmarks/results/mlp_reference.json

``--config NAME:key=value,key=value`` (repeatable; values go through
``ast.literal_eval`` when they parse, else stay strings, so ``sparsity=auto`` and
``hidden_layer_sizes=(100,50)`` both work); without ``--config`` the only
configuration is ``defaults`` (no overrides). ``--fixed 0.5 0.8`` adds the
configurations ``s50: sparsity=0.5`` and ``s80: sparsity=0.8``. Configurations
whose parameters come out identical are run once.

``--reference-cache FILE.json`` keeps the MLPClassifier fits (key: set, seed,
``max_iter``, scikit-learn version) so that runs with other configurations do not
refit it; the pruned fits are still timed, but the MLPClassifier times of a cache
hit come from an earlier run, not from alternating fits, and the table says so.
"""

import argparse
import ast
import json
import os
import platform
import re
import shlex
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
from _common import (
    environment,
    load_letter,
    load_mnist,
    load_vowel,
    markdown_table,
    versions,
)
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skprune import PrunedMLPClassifier

SETS = [
    "digits",
    "breast_cancer",
    "wine",
    "iris",
    "letter",
    "vowel",
    "mnist10k",
    "make10",
    "make40",
]
BUNDLED = {
    "digits": load_digits,
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
    "iris": load_iris,
}
MAKE = {
    "make10": dict(n_features=50, n_informative=10),
    "make40": dict(n_features=60, n_informative=40),
}
PREPROCESSING = {
    **dict.fromkeys(
        [*BUNDLED, *MAKE],
        "stratified 75/25 split per seed (random_state=seed), standardized on train",
    ),
    "letter": "canonical split (first 16000 / last 4000), standardized on train",
    "vowel": "canonical split, standardized on train",
    "mnist10k": "pixels / 255; per seed 10,000 training images drawn with "
    "default_rng(seed), the canonical 10,000 test images",
}
RULE = -0.5  # accuracy points: a configuration "keeps accuracy" if Δ ≥ RULE
EPS = 1e-9
MLP = "MLPClassifier"


# --- data ---------------------------------------------------------------------


def data_paths(args):
    """Letter / vowel / mnist files: flag, --data-dir, own variable, SKPRUNE_DATA."""
    env_dir = os.environ.get("SKPRUNE_DATA")
    paths = {}
    for name in ("letter", "vowel", "mnist"):
        candidates = [
            getattr(args, name, None),
            args.data_dir and str(Path(args.data_dir) / f"{name}.npz"),
            os.environ.get(f"SKPRUNE_{name.upper()}"),
            env_dir and str(Path(env_dir) / f"{name}.npz"),
        ]
        paths[name] = next((c for c in candidates if c), None)
    return paths


def standardized(X_train, X_test, y_train, y_test):
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def seeded_split(X, y):
    def split(seed):
        parts = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
        return standardized(*parts)

    return split


def fixed_split(X_train, X_test, y_train, y_test):
    data = standardized(X_train, X_test, y_train, y_test)
    return lambda seed: data


def load_set(name, paths):
    """``(split, None)`` with ``split(seed) -> (X_train, X_test, y_train, y_test)``,
    or ``(None, reason)`` when the data is not available."""
    if name in BUNDLED:
        return seeded_split(*BUNDLED[name](return_X_y=True)), None
    if name in MAKE:
        X, y = make_classification(
            n_samples=3000, n_redundant=0, n_classes=3, random_state=0, **MAKE[name]
        )
        return seeded_split(X, y), None
    if name == "letter":
        X, y = load_letter(paths["letter"])
        if X is None:
            return None, f"{y} (give --letter PATH, --data-dir or SKPRUNE_LETTER)"
        return fixed_split(X[:16000], X[16000:], y[:16000], y[16000:]), None
    if name == "vowel":
        train, test = load_vowel(paths["vowel"])
        if train is None:
            return None, f"{test} (give --vowel PATH, --data-dir or SKPRUNE_VOWEL)"
        return fixed_split(train[0], test[0], train[1], test[1]), None
    assert name == "mnist10k", name
    try:
        X_train, y_train, X_test, y_test = load_mnist(paths["mnist"])
    except SystemExit as exc:  # load_mnist's message for a missing file / network
        return None, str(exc)

    def split(seed):
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(len(X_train), 10000, replace=False))
        return X_train[rows], X_test, y_train[rows], y_test

    return split, None


# --- configurations -----------------------------------------------------------


@dataclass
class Config:
    name: str
    overrides: dict

    def describe(self):
        if not self.overrides:
            return "PrunedMLPClassifier() (its defaults)"
        args = ", ".join(f"{k}={v!r}" for k, v in self.overrides.items())
        return f"PrunedMLPClassifier({args})"


def literal(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_config(text):
    """``NAME:key=value,key=value`` -> Config; a comma only splits before ``key=``."""
    name, _, body = text.partition(":")
    name = name.strip()
    if not name:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME:key=value,...")
    overrides = {}
    if body.strip():
        for item in re.split(r",(?=\s*[A-Za-z_]\w*\s*=)", body):
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise argparse.ArgumentTypeError(f"{text!r}: {item!r} is not key=value")
            overrides[key.strip()] = literal(value.strip())
    return Config(name, overrides)


def build_configs(args, parser):
    """The configurations to run, validated, with duplicates (same parameters) dropped.

    Returns ``(configs, params, notes)``; ``params[name]`` is the configuration's
    full ``get_params()`` (what identifies it)."""
    configs = list(args.config or [Config("defaults", {})])
    explicit = [c.name for c in configs]
    if len(set(explicit)) < len(explicit) or MLP in explicit:
        parser.error(f"--config names must be unique and not {MLP!r}")
    for x in args.fixed or []:
        name = f"s{100 * x:g}"
        name = name if name not in explicit else f"{name}_fixed"
        configs.append(Config(name, {"sparsity": x}))
    base = {"max_iter": args.epochs} if args.epochs else {}
    params, seen, unique, notes = {}, {}, [], []
    for config in configs:
        if "random_state" in config.overrides:
            parser.error(f"--config {config.name}: random_state is set per seed")
        try:
            full = PrunedMLPClassifier(**{**base, **config.overrides}).get_params()
        except Exception as exc:
            parser.error(f"--config {config.name}: {type(exc).__name__}: {exc}")
        key = repr(sorted(full.items()))
        if key in seen:
            notes.append(
                f"{config.name} has the same parameters as {seen[key]}: run once, "
                f"as {seen[key]}"
            )
            continue
        seen[key] = config.name
        params[config.name] = full
        unique.append(config)
    if args.auto_table and not any(p["sparsity"] == "auto" for p in params.values()):
        auto = Config("auto", {"sparsity": "auto"})
        params[auto.name] = PrunedMLPClassifier(**base, sparsity="auto").get_params()
        unique.append(auto)
    return unique, params, notes


# --- fitting ------------------------------------------------------------------


def fit_one(make, data, extra=None):
    """Fit ``make()`` on ``data``; a record of the outcome (never raises).

    ``extra(model)``, if given, returns more entries for the record of a
    fitted model."""
    X_train, X_test, y_train, y_test = data
    record = dict(
        accuracy=None,
        sparsity=None,
        layer_sparsity=None,
        n_iter=None,
        seconds=None,
        convergence_warnings=0,
        other_warnings=[],
        error=None,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            model = make()
            start = time.perf_counter()
            model.fit(X_train, y_train)
        except Exception as exc:
            model = None
            record["error"] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc(file=sys.stderr)
        record["seconds"] = time.perf_counter() - start
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            record["convergence_warnings"] += 1
        else:
            record["other_warnings"].append(f"{w.category.__name__}: {w.message}")
    if model is None:
        return record
    try:
        record["accuracy"] = float(model.score(X_test, y_test))
        record["n_iter"] = int(model.n_iter_)
        record["sparsity"] = float(getattr(model, "sparsity_", 0.0))
        layers = getattr(model, "layer_sparsity_", None)
        if layers is not None:
            record["layer_sparsity"] = [float(v) for v in np.ravel(layers)]
        if extra is not None:
            record.update(extra(model))
    except Exception as exc:
        record["error"] = f"after fit: {type(exc).__name__}: {exc}"
        traceback.print_exc(file=sys.stderr)
    return record


class ReferenceCache:
    """MLPClassifier fits by set, seed, max_iter and scikit-learn version (JSON)."""

    FIELDS = ("accuracy", "sparsity", "n_iter", "seconds", "convergence_warnings")

    def __init__(self, path):
        self.path = Path(path) if path else None
        self.entries = {}
        self.hits = []  # (set, seed, entry)
        if self.path and self.path.exists():
            self.entries = json.loads(self.path.read_text()).get("entries", {})

    @staticmethod
    def key(set_name, seed, max_iter):
        return (
            f"{set_name}|seed={seed}|max_iter={max_iter}|sklearn={sklearn.__version__}"
        )

    def get(self, key, data):
        entry = self.entries.get(key)
        if entry is None or (entry["n_train"], entry["n_test"]) != _sizes(data):
            return None
        return entry

    def put(self, key, record, data):
        if self.path is None:
            return
        entry = {f: record[f] for f in self.FIELDS}
        entry["n_train"], entry["n_test"] = _sizes(data)
        entry["host"] = f"{platform.node()} ({os.cpu_count()} cpus)"
        entry["date"] = time.strftime("%Y-%m-%d %H:%M:%S")
        self.entries[key] = entry
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps({"format": 1, "entries": self.entries}, indent=1))
        os.replace(tmp, self.path)


def _sizes(data):
    return len(data[0]), len(data[1])


def run(args, sets, configs, paths, cache):
    """Fit everything; return (records, per-set info)."""
    base = {"max_iter": args.epochs} if args.epochs else {}
    max_iter = MLPClassifier(**base).max_iter
    records, info = [], {}
    for name in sets:
        split, reason = load_set(name, paths)
        if split is None:
            info[name] = {"skipped": reason}
            print(f"NOTE {name}: skipped ({reason})", file=sys.stderr, flush=True)
            continue
        for seed in range(args.seeds):
            data = split(seed)
            if seed == 0:
                X_train, X_test, y_train, _ = data
                info[name] = {
                    "n_train": len(X_train),
                    "n_test": len(X_test),
                    "n_features": X_train.shape[1],
                    "n_classes": len(np.unique(y_train)),
                    "preprocessing": PREPROCESSING[name],
                }
            if seed == 0 and args.warmup:
                warm_up(data, configs, base)
            key = cache.key(name, seed, max_iter)
            hit = cache.get(key, data)
            jobs = configs if hit else [None, *configs]
            if hit:
                cache.hits.append((name, seed, hit))
                records.append(
                    dict(
                        {f: hit[f] for f in cache.FIELDS},
                        layer_sparsity=None,
                        other_warnings=[],
                        error=None,
                        set=name,
                        seed=seed,
                        config=None,
                        position=None,
                        cached=True,
                    )
                )
            if seed % 2:
                jobs = jobs[::-1]
            for position, config in enumerate(jobs):
                if config is None:
                    label = MLP

                    def make(seed=seed):
                        return MLPClassifier(random_state=seed, **base)
                else:
                    label = config.name

                    def make(seed=seed, config=config):
                        params = {**base, **config.overrides}
                        return PrunedMLPClassifier(random_state=seed, **params)

                record = fit_one(make, data)
                record.update(
                    set=name,
                    seed=seed,
                    config=None if config is None else config.name,
                    position=position,
                    cached=False,
                )
                records.append(record)
                if config is None and record["error"] is None:
                    cache.put(key, record, data)
                progress(record, label)
    return records, info


def warm_up(data, configs, base):
    """Untimed short fits of every model, so that one-off costs (importing numba,
    compiling its kernels, first BLAS calls) do not land in the first timed fit."""
    X_train, _, y_train, _ = data
    X, y = X_train[:2000], y_train[:2000]
    models = [MLPClassifier(**{**base, "max_iter": 3})]
    models += [
        PrunedMLPClassifier(**{**base, **c.overrides, "max_iter": 3}) for c in configs
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in models:
            try:
                model.fit(X, y)
            except Exception:
                pass  # the timed fit reports it


_shown = set()


def progress(record, label):
    where = f"{record['set']} seed {record['seed']} {label}"
    if record["error"]:
        line = f"{where}: ERROR {record['error']}"
    else:
        line = (
            f"{where}: accuracy {record['accuracy']:.4f}, sparsity_ "
            f"{record['sparsity']:.3f}, n_iter_ {record['n_iter']}, "
            f"{record['seconds']:.2f} s"
        )
        if record["convergence_warnings"]:
            line += f", {record['convergence_warnings']} ConvergenceWarning"
    print(line, file=sys.stderr, flush=True)
    for message in record["other_warnings"]:
        if message not in _shown:
            _shown.add(message)
            print(f"  warning (shown once): {message}", file=sys.stderr, flush=True)


# --- tables -------------------------------------------------------------------


def summarize(records, sets, configs):
    """``stats[set][config name or None]``: the numbers of one table row."""
    stats = {}
    for name in sets:
        rows = [r for r in records if r["set"] == name]
        if not rows:
            continue
        reference = {r["seed"]: r for r in rows if r["config"] is None}
        stats[name] = {}
        for config in [None, *configs]:
            mine = [r for r in rows if r["config"] == (config and config.name)]
            ok = [r for r in mine if r["error"] is None]
            pairs = [
                (r["accuracy"] - reference[r["seed"]]["accuracy"]) * 100
                for r in ok
                if r["seed"] in reference and reference[r["seed"]]["error"] is None
            ]
            stats[name][config and config.name] = {
                "n": len(mine),
                "errors": [r for r in mine if r["error"] is not None],
                "accuracy": np.array([r["accuracy"] for r in ok]) * 100,
                "delta": np.mean(pairs) if pairs else None,
                "pairs": dict(
                    zip([r["seed"] for r in ok], [r["accuracy"] * 100 for r in ok])
                ),
                "sparsity": np.mean([r["sparsity"] for r in ok]) if ok else None,
                "n_iter": np.mean([r["n_iter"] for r in ok]) if ok else None,
                "time": np.median([r["seconds"] for r in ok]) if ok else None,
                "warned": sum(r["convergence_warnings"] > 0 for r in mine),
                "cached": sum(r["cached"] for r in mine),
            }
    return stats


def rule(s):
    if s["errors"]:
        return f"ERROR ({len(s['errors'])}/{s['n']})"
    if s["delta"] is None:
        return "—"
    return "ok" if s["delta"] >= RULE - EPS else "LOSES"


def _fmt(value, spec, missing="—"):
    return missing if value is None else format(value, spec)


def _ratio(a, b):
    return None if a is None or not b else a / b


def main_table(stats, configs):
    header = [
        "set",
        "model",
        "accuracy (%)",
        "Δ vs MLP (points)",
        "sparsity_",
        "epochs (n_iter_)",
        "fit time, median (s)",
        "time ratio MLP/pruned",
        "ConvergenceWarnings",
        "rule",
    ]
    rows = []
    for name, by_config in stats.items():
        mlp = by_config[None]
        mark = " †" if mlp["cached"] else ""
        for config in [None, *configs]:
            s = by_config[config and config.name]
            acc = s["accuracy"]
            is_mlp = config is None
            ratio = None if is_mlp else _ratio(mlp["time"], s["time"])
            rows.append(
                [
                    name,
                    MLP + mark if is_mlp else config.name,
                    f"{acc.mean():.2f} ± {acc.std():.2f}" if len(acc) else "—",
                    "—" if is_mlp else _fmt(s["delta"], "+.2f"),
                    _fmt(s["sparsity"], ".3f"),
                    _fmt(s["n_iter"], ".0f"),
                    _fmt(s["time"], ".3g"),
                    "—"
                    if is_mlp
                    else _fmt(ratio, ".2f") + ("" if ratio is None else mark),
                    f"{s['warned']}/{s['n']}",
                    "—" if is_mlp else rule(s),
                ]
            )
    return markdown_table(header, rows)


def summary_lines(stats, configs):
    lines = []
    for config in configs:
        per_set = {name: by[config.name] for name, by in stats.items()}
        deltas = {n: s["delta"] for n, s in per_set.items() if s["delta"] is not None}
        sparsities = [
            s["sparsity"] for s in per_set.values() if s["sparsity"] is not None
        ]
        failing = [f"{n} ({rule(s)})" for n, s in per_set.items() if rule(s) != "ok"]
        worst = min(deltas, key=deltas.get) if deltas else None
        mean_sparsity = np.mean(sparsities) if sparsities else None
        lines.append(
            f"- **{config.name}**: worst Δ "
            + (f"{deltas[worst]:+.2f} ({worst})" if worst else "—")
            + f", mean sparsity_ {_fmt(mean_sparsity, '.3f')}"
            + ", every set passes the rule: "
            + ("yes" if not failing else "**no**: " + ", ".join(failing))
        )
    return lines


def auto_tables(stats, configs, params):
    """Per auto configuration: the best fixed target per set against auto."""
    out = []
    for auto in [c for c in configs if params[c.name]["sparsity"] == "auto"]:
        others = {k: v for k, v in params[auto.name].items() if k != "sparsity"}
        fixed = [
            c
            for c in configs
            if isinstance(params[c.name]["sparsity"], (int, float))
            and not isinstance(params[c.name]["sparsity"], bool)
            and {k: v for k, v in params[c.name].items() if k != "sparsity"} == others
        ]
        fixed.sort(key=lambda c: params[c.name]["sparsity"])
        targets = ", ".join(f"{c.name}={params[c.name]['sparsity']:g}" for c in fixed)
        out.append(
            f"\n### {auto.name} against the fixed sparsities with the same other "
            f"parameters ({targets or 'none'})\n"
        )
        if not fixed:
            out.append(
                "No fixed-sparsity configuration has the same other parameters as "
                f"{auto.name}: give some with --fixed."
            )
            continue
        zero = next((c for c in fixed if params[c.name]["sparsity"] == 0), None)
        header = [
            "set",
            "best fixed target (Δ ≥ -0.5)",
            "its accuracy (%)",
            "its sparsity_",
            "auto sparsity_",
            "auto accuracy (%)",
            "auto Δ vs MLP",
            "auto Δ vs best fixed",
            "auto time / MLP time",
            "auto time / sparsity=0 time",
        ]
        rows = []
        for name, by in stats.items():
            a, mlp = by[auto.name], by[None]
            keep = [c for c in fixed if rule(by[c.name]) == "ok"]
            best = keep[-1] if keep else None
            b = best and by[best.name]
            paired = (
                [a["pairs"][s] - b["pairs"][s] for s in a["pairs"] if s in b["pairs"]]
                if b
                else []
            )
            mark = " †" if mlp["cached"] else ""
            to_mlp = _ratio(a["time"], mlp["time"])
            rows.append(
                [
                    name,
                    f"{params[best.name]['sparsity']:g} ({best.name})"
                    if best
                    else "none",
                    f"{b['accuracy'].mean():.2f}" if b else "—",
                    _fmt(b["sparsity"] if b else None, ".3f"),
                    _fmt(a["sparsity"], ".3f"),
                    f"{a['accuracy'].mean():.2f}" if len(a["accuracy"]) else "—",
                    _fmt(a["delta"], "+.2f") + ("" if not a["errors"] else " (errors)"),
                    _fmt(np.mean(paired) if paired else None, "+.2f"),
                    _fmt(to_mlp, ".2f") + ("" if to_mlp is None else mark),
                    _fmt(
                        _ratio(a["time"], by[zero.name]["time"]) if zero else None,
                        ".2f",
                    ),
                ]
            )
        out.append(markdown_table(header, rows))
        out.append(
            "\nbest fixed target: the largest fixed sparsity whose Δ vs MLP ≥ -0.5 "
            "points (no errors); Δ vs best fixed: mean over seeds of the paired "
            "difference auto - best fixed (points); times: ratios of median fit times"
            + ("" if zero else "; no sparsity=0 configuration, so no last column")
            + "."
        )
    return out


def report(args, stats, info, configs, params, notes, records, cache, elapsed):
    mlp_defaults = MLPClassifier().get_params()
    pruned_defaults = PrunedMLPClassifier().get_params()
    own = {
        k: v
        for k, v in pruned_defaults.items()
        if k not in mlp_defaults or mlp_defaults[k] != v
    }
    lines = [
        "# Drop-in: MLPClassifier against PrunedMLPClassifier, both with their "
        "defaults\n",
        "```text",
        environment(),
        versions(),
        "command: python " + shlex.join(sys.argv),
        f"wall time: {elapsed:.0f} s",
        "```\n",
        f"{args.seeds} seed{'s' if args.seeds > 1 else ''} "
        f"(0{f'..{args.seeds - 1}' if args.seeds > 1 else ''}); per set and seed "
        "both estimators get "
        "random_state=seed. MLPClassifier with its defaults (hidden_layer_sizes="
        f"{mlp_defaults['hidden_layer_sizes']}, solver={mlp_defaults['solver']!r}, "
        f"max_iter={args.epochs or mlp_defaults['max_iter']}"
        + (" from --epochs" if args.epochs else "")
        + "). PrunedMLPClassifier's own defaults: "
        + ", ".join(f"{k}={v!r}" for k, v in own.items())
        + ". Fit order per seed: MLPClassifier then the configurations on even "
        "seeds, the reverse on odd seeds"
        + (
            "; every model had an untimed 3-epoch warm-up fit per set first.\n"
            if args.warmup
            else "; no warm-up fits (--no-warmup).\n"
        ),
        "Configurations:\n",
        *[f"- **{c.name}**: {c.describe()}" for c in configs],
        "",
        "Panel:\n",
    ]
    for name, item in info.items():
        if "skipped" in item:
            lines.append(f"- {name}: **skipped** ({item['skipped']})")
        else:
            lines.append(
                f"- {name}: {item['n_train']} train / {item['n_test']} test, "
                f"{item['n_features']} features, {item['n_classes']} classes; "
                f"{item['preprocessing']}"
            )
    lines += ["", "## Results\n", main_table(stats, configs), ""]
    lines.append(
        "accuracy: mean ± std over seeds; Δ: mean over seeds of the paired "
        "difference pruned - MLPClassifier, in accuracy points; rule: ok if "
        "Δ ≥ -0.5, else LOSES (ERROR: some fits raised); time ratio: median "
        "MLPClassifier fit time / median pruned fit time (> 1: the pruned fit is "
        "faster); ConvergenceWarnings: seeds whose fit raised at least one."
    )
    if cache.hits:
        hosts = sorted({f"{e['host']}, {e['date'][:10]}" for _, _, e in cache.hits})
        cached_sets = sorted({s for s, _, _ in cache.hits}, key=list(info).index)
        lines.append(
            f"\n† MLPClassifier fits taken from the reference cache "
            f"{args.reference_cache} ({len(cache.hits)} of them, sets: "
            f"{', '.join(cached_sets)}; recorded on {'; '.join(hosts)}): accuracy "
            "and epochs are those of the same deterministic fit, but their times "
            "come from an earlier run, so the time ratios marked † are not from "
            "alternating runs."
        )
    errors = {}
    for r in records:
        if r["error"]:
            errors.setdefault((r["set"], r["config"] or MLP, r["error"]), []).append(
                r["seed"]
            )
    if errors:
        lines.append("\nErrors:\n")
        for (name, config, message), seeds in errors.items():
            lines.append(f"- {name} / {config}, seeds {seeds}: `{message[:300]}`")
    other = {}
    for r in records:
        for message in r["other_warnings"]:
            other[message] = other.get(message, 0) + 1
    if other:
        lines.append("\nOther warnings raised during the fits (count):\n")
        lines += [f"- {n} × `{m[:200]}`" for m, n in other.items()]
    if notes:
        lines.append("")
        lines += [f"NOTE {note}" for note in notes]
    lines += ["", "## Summary per configuration\n", *summary_lines(stats, configs)]
    if args.auto_table:
        lines += ["", "## auto against the best fixed sparsity"]
        lines += auto_tables(stats, configs, params)
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the module docstring for the panel and the table's columns.",
    )
    parser.add_argument(
        "--sets",
        nargs="+",
        choices=SETS,
        default=SETS,
        metavar="SET",
        help=f"data sets to run (default: all of {', '.join(SETS)})",
    )
    parser.add_argument(
        "--seeds", type=int, default=5, help="number of seeds, 0..N-1 (default 5)"
    )
    parser.add_argument(
        "--config",
        action="append",
        type=parse_config,
        metavar="NAME:key=value,...",
        help="a PrunedMLPClassifier configuration (repeatable); default: one "
        "configuration 'defaults' without overrides",
    )
    parser.add_argument(
        "--fixed",
        type=float,
        nargs="+",
        metavar="SPARSITY",
        help="add configurations sNN: sparsity=x for each x",
    )
    parser.add_argument(
        "--auto-table",
        action="store_true",
        help="second table: sparsity='auto' against the best fixed sparsity "
        "(adds a configuration auto: sparsity='auto' if there is none)",
    )
    parser.add_argument(
        "--epochs", type=int, help="max_iter of both estimators (default: 200)"
    )
    parser.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="skip the untimed 3-epoch warm-up fit of every model per set",
    )
    parser.add_argument(
        "--data-dir", help="directory of letter/vowel/mnist.npz (or SKPRUNE_DATA)"
    )
    parser.add_argument("--letter", help="letter.npz (or SKPRUNE_LETTER)")
    parser.add_argument("--vowel", help="vowel.npz (or SKPRUNE_VOWEL)")
    parser.add_argument("--mnist", help="mnist.npz (or SKPRUNE_MNIST)")
    parser.add_argument(
        "--reference-cache",
        metavar="FILE.json",
        help="reuse / store the MLPClassifier fits here",
    )
    parser.add_argument("--out", metavar="FILE.md", help="also write the markdown")
    parser.add_argument("--json", metavar="FILE", help="dump the per-seed records")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    if args.data_dir and not Path(args.data_dir).is_dir():
        parser.error(f"--data-dir {args.data_dir}: not a directory")

    configs, params, notes = build_configs(args, parser)
    paths = data_paths(args)
    sets = list(dict.fromkeys(args.sets))
    cache = ReferenceCache(args.reference_cache)
    start = time.perf_counter()
    records, info = run(args, sets, configs, paths, cache)
    elapsed = time.perf_counter() - start

    stats = summarize(records, sets, configs)
    text = report(args, stats, info, configs, params, notes, records, cache, elapsed)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    if args.json:
        dump = {
            "command": "python " + shlex.join(sys.argv),
            "environment": environment(),
            "versions": versions(),
            "args": {k: v for k, v in vars(args).items() if k != "config"},
            "configs": {
                c.name: {"overrides": c.overrides, "params": params[c.name]}
                for c in configs
            },
            "sets": info,
            "records": records,
        }
        Path(args.json).write_text(json.dumps(dump, indent=1, default=str))


if __name__ == "__main__":
    main()
