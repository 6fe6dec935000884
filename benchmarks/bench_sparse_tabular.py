"""High sparsity on tabular data: pruned networks against two dense baselines.

For each data set (``--sets``) and sparsity s (``--sparsities``, default 0.9 0.95
0.98), test accuracy of ``PrunedMLPClassifier(sparsity=s, random_state=seed,
max_iter=E, **config)`` for every configuration of ``--configs`` (JSON dicts of
extra parameters; default ``{}``, ``{"pruning_scope": "erk"}`` and
``{"pruning_schedule": "rigl", "pruning_scope": "erk"}``) against

1. the dense ``MLPClassifier(hidden_layer_sizes=H, random_state=seed,
   max_iter=E)`` (its defaults otherwise; H is ``--hidden``, default (100,),
   MLPClassifier's default; the pruned networks get the same H), and
2. the *equal-nonzeros* dense baseline: ``MLPClassifier`` with the hidden sizes
   scaled by a common factor so that its weight count (coefs only, no biases)
   equals the (1 - s) * n_weights the pruned networks keep. With one hidden
   layer of h units, d inputs and k outputs that is
   ``h' = max(1, round((1 - s) * h))``; see ``equal_nonzeros_hidden``.

The sets (sizes train / test, features, classes):

``digits``  1347 / 450, 64, 10   scikit-learn bundled digits; per seed a stratified
                                 75/25 split with ``random_state=seed``.
``letter``  16000 / 4000, 16, 26 UCI Letter Recognition, canonical split (first
                                 16000 rows train, last 4000 test), the same split
                                 for every seed.
``vowel``   528 / 462, 10, 11    Deterding vowels, canonical speaker-independent
                                 split from the file.

All are standardized with a StandardScaler fitted on the training part (as in
``bench_defaults.py``). Data files (nothing is downloaded; a missing file skips
that set with a note): ``--letter PATH`` / ``--vowel PATH``, else ``--data-dir
DIR`` (``DIR/letter.npz``, ``DIR/vowel.npz``), else ``SKPRUNE_LETTER`` /
``SKPRUNE_VOWEL``.

Per set, every model gets an untimed 3-epoch warm-up fit first (``--no-warmup``
skips it). Per seed the fits run in one order on even seeds and in the reverse
order on odd seeds. ConvergenceWarnings are suppressed and counted per fit.

The issue's target: at 90 % of the weights removed, the pruned network is no more
than 1 accuracy point below the dense MLPClassifier on letter and digits (Δ: mean
over seeds of the paired difference pruned - dense, ≥ -1 point).

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python \\
        benchmarks/bench_sparse_tabular.py --data-dir ../shared/data --epochs 100 \\
        --seeds 3 --out benchmarks/results/sparse_tabular.json \\
        --md benchmarks/results/sparse_tabular.md
"""

import argparse
import json
import math
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _common import environment, markdown_table, versions
from bench_defaults import data_paths, load_set
from bench_defaults import fit_one as defaults_fit_one
from sklearn.neural_network import MLPClassifier

from skprune import PrunedMLPClassifier

SETS = ["digits", "letter", "vowel"]
TARGET_SETS = ["letter", "digits"]
TARGET_SPARSITY = 0.9
TARGET_POINTS = -1.0  # Δ vs dense, accuracy points
DEFAULT_CONFIGS = [
    {},
    {"pruning_scope": "erk"},
    {"pruning_schedule": "rigl", "pruning_scope": "erk"},
]
HIDDEN = (100,)  # MLPClassifier's default
EPS = 1e-9
RESERVED = ("sparsity", "random_state", "max_iter", "hidden_layer_sizes")
PREPROCESSING = {
    "digits": "stratified 75/25 split per seed (random_state=seed), "
    "standardized on train",
    "letter": "canonical split (first 16000 / last 4000), standardized on train; "
    "the same split for every seed",
    "vowel": "canonical speaker-independent split, standardized on train",
}


# --- the equal-nonzeros baseline ------------------------------------------------


def coef_count(n_features, hidden, n_outputs):
    """Number of weights (coefs, no biases) of a dense MLP."""
    sizes = [n_features, *hidden, n_outputs]
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def equal_nonzeros_hidden(n_features, hidden, n_outputs, n_weights):
    """Hidden sizes ``max(1, round(c * h_i))``, with one scale c for all hidden
    layers, such that the dense network has ``n_weights`` weights (coefs only).

    The weight count of the scaled network is ``a c² + b c`` with ``a`` the sum
    of the products of consecutive hidden sizes and ``b = d h_1 + h_L k``; c is
    its positive root (``n_weights / b`` for one hidden layer, which gives
    ``h' = round((1 - s) h)`` for ``n_weights = (1 - s) h (d + k)``).
    """
    hidden = list(hidden)
    if not hidden:
        raise ValueError("no hidden layer to scale")
    a = sum(x * y for x, y in zip(hidden[:-1], hidden[1:]))
    b = n_features * hidden[0] + hidden[-1] * n_outputs
    if a == 0:
        c = n_weights / b
    else:
        c = (-b + math.sqrt(b * b + 4 * a * n_weights)) / (2 * a)
    return tuple(max(1, round(c * h)) for h in hidden)


# --- models -------------------------------------------------------------------------


def config_label(config):
    if not config:
        return "pruned (defaults)"
    return "pruned " + ", ".join(f"{k}={v!r}" for k, v in config.items())


def parse_config(text):
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: not JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a JSON object")
    clash = [k for k in RESERVED if k in value]
    if clash:
        hint = "; use --hidden" if "hidden_layer_sizes" in clash else ""
        raise argparse.ArgumentTypeError(
            f"{text!r}: {', '.join(clash)} are set by the benchmark{hint}"
        )
    return value


def make_jobs(sparsities, configs, n_features, n_classes, epochs, hidden=HIDDEN):
    """The rows of one set's table: ``(row key, description, factory(seed))``.

    ``hidden`` is the hidden layer sizes of the dense and pruned networks
    (MLPClassifier's default ``(100,)`` unless ``--hidden`` says otherwise).
    """
    hidden = tuple(hidden)
    n_dense = coef_count(n_features, hidden, n_classes)
    jobs = [
        dict(
            kind="dense",
            label=f"dense MLPClassifier (h={','.join(map(str, hidden))})",
            sparsity=None,
            config=None,
            hidden=hidden,
            weights=n_dense,
            make=lambda seed, hidden=hidden: MLPClassifier(
                hidden_layer_sizes=hidden, random_state=seed, max_iter=epochs
            ),
        )
    ]
    full = hidden
    for s in sparsities:
        hidden = equal_nonzeros_hidden(n_features, full, n_classes, (1 - s) * n_dense)
        jobs.append(
            dict(
                kind="equal",
                label=f"equal-nonzeros dense (h'={','.join(map(str, hidden))})",
                sparsity=s,
                config=None,
                hidden=hidden,
                weights=coef_count(n_features, hidden, n_classes),
                make=lambda seed, hidden=hidden: MLPClassifier(
                    hidden_layer_sizes=hidden, random_state=seed, max_iter=epochs
                ),
            )
        )
        for config in configs:
            jobs.append(
                dict(
                    kind="pruned",
                    label=config_label(config),
                    sparsity=s,
                    config=config,
                    hidden=full,
                    weights=None,
                    make=lambda seed, s=s, config=config, full=full: (
                        PrunedMLPClassifier(
                            hidden_layer_sizes=full,
                            sparsity=s,
                            random_state=seed,
                            max_iter=epochs,
                            **config,
                        )
                    ),
                )
            )
    for i, job in enumerate(jobs):
        job["key"] = i
    return jobs, n_dense


def fit_one(make, seed, data):
    """Fit ``make(seed)``: ``bench_defaults.fit_one``'s record, with the weight
    counts (never raises)."""
    record = defaults_fit_one(lambda: make(seed), data, extra=weight_counts)
    for key in ("kept_weights", "stored_weights"):
        record.setdefault(key, None)
    return record


def weight_counts(model):
    """Kept weights (from ``sparsity_``) and weights actually stored."""
    if not hasattr(model, "sparse_coefs_"):
        n = int(sum(c.size for c in model.coefs_))
        return {"kept_weights": n, "stored_weights": n}
    n_dense = coef_count(
        model.n_features_in_, model.hidden_layer_sizes, model.n_outputs_
    )
    return {
        "kept_weights": int(round((1 - model.sparsity_) * n_dense)),
        "stored_weights": int(sum(c.nnz for c in model.sparse_coefs_)),
    }


def warm_up(data, jobs):
    """Untimed 3-epoch fits of every model (one-off costs out of the timed fits)."""
    X_train, _, y_train, _ = data
    X, y = X_train[:2000], y_train[:2000]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for job in jobs:
            try:
                job["make"](0).set_params(max_iter=3).fit(X, y)
            except Exception:
                pass  # the timed fit reports it


def progress(name, seed, job, record):
    where = f"{name} seed {seed} s={job['sparsity']} {job['label']}"
    if record["error"]:
        line = f"{where}: ERROR {record['error']}"
    else:
        line = (
            f"{where}: accuracy {record['accuracy']:.4f}, sparsity_ "
            f"{record['sparsity']:.3f}, weights {record['kept_weights']}, "
            f"n_iter_ {record['n_iter']}, {record['seconds']:.2f} s"
        )
        if record["convergence_warnings"]:
            line += f", {record['convergence_warnings']} ConvergenceWarning"
    print(line, file=sys.stderr, flush=True)


def run(args, sets, configs, paths):
    records, info, all_jobs = [], {}, {}
    for name in sets:
        split, reason = load_set(name, paths)
        if split is None:
            info[name] = {"skipped": reason}
            print(f"NOTE {name}: skipped ({reason})", file=sys.stderr, flush=True)
            continue
        data0 = split(0)
        X_train, X_test, y_train, _ = data0
        n_features, n_classes = X_train.shape[1], len(np.unique(y_train))
        jobs, n_dense = make_jobs(
            args.sparsities, configs, n_features, n_classes, args.epochs, args.hidden
        )
        all_jobs[name] = jobs
        info[name] = {
            "n_train": len(X_train),
            "n_test": len(X_test),
            "n_features": n_features,
            "n_classes": n_classes,
            "dense_weights": n_dense,
            "preprocessing": PREPROCESSING[name],
        }
        if args.warmup:
            warm_up(data0, jobs)
        for seed in range(args.seeds):
            data = split(seed)
            order = jobs if seed % 2 == 0 else jobs[::-1]
            for position, job in enumerate(order):
                record = fit_one(job["make"], seed, data)
                record.update(
                    set=name,
                    seed=seed,
                    row=job["key"],
                    kind=job["kind"],
                    label=job["label"],
                    requested_sparsity=job["sparsity"],
                    config=job["config"],
                    hidden=list(job["hidden"]),
                    position=position,
                )
                records.append(record)
                progress(name, seed, job, record)
    return records, info, all_jobs


# --- report -----------------------------------------------------------------------


def summarize(records, name, jobs):
    rows = [r for r in records if r["set"] == name]
    dense = {
        r["seed"]: r["accuracy"]
        for r in rows
        if r["kind"] == "dense" and r["error"] is None
    }
    stats = {}
    for job in jobs:
        mine = [r for r in rows if r["row"] == job["key"]]
        ok = [r for r in mine if r["error"] is None]
        pairs = [
            (r["accuracy"] - dense[r["seed"]]) * 100 for r in ok if r["seed"] in dense
        ]
        stats[job["key"]] = dict(
            n=len(mine),
            errors=len(mine) - len(ok),
            accuracy=np.array([r["accuracy"] for r in ok]) * 100,
            delta=float(np.mean(pairs)) if pairs else None,
            sparsity=float(np.mean([r["sparsity"] for r in ok])) if ok else None,
            weights=float(np.mean([r["kept_weights"] for r in ok])) if ok else None,
            stored=float(np.mean([r["stored_weights"] for r in ok])) if ok else None,
            n_iter=float(np.mean([r["n_iter"] for r in ok])) if ok else None,
            time=float(np.median([r["seconds"] for r in ok])) if ok else None,
            warnings=sum(r["convergence_warnings"] for r in mine),
            warned=sum(r["convergence_warnings"] > 0 for r in mine),
        )
    return stats


def _fmt(value, spec, missing="—"):
    return missing if value is None else format(value, spec)


def meets(s):
    return (
        s["delta"] is not None and not s["errors"] and s["delta"] >= TARGET_POINTS - EPS
    )


def set_table(name, jobs, stats):
    header = [
        "model",
        "sparsity requested",
        "sparsity_",
        "weights (coefs)",
        "accuracy (%)",
        "Δ vs dense (points)",
        "epochs (n_iter_)",
        "fit time, median (s)",
        "ConvergenceWarnings (fits warned / fits)",
        "target at 90 % (Δ ≥ -1)",
    ]
    rows = []
    for job in jobs:
        s = stats[job["key"]]
        acc = s["accuracy"]
        target = "—"
        if (
            name in TARGET_SETS
            and job["kind"] == "pruned"
            and job["sparsity"] is not None
            and abs(job["sparsity"] - TARGET_SPARSITY) < EPS
        ):
            target = "met" if meets(s) else "**not met**"
        weights = (
            f"{job['weights']}"
            if job["kind"] != "pruned"
            else _fmt(s["weights"], ".0f")
            + (
                f" (stored {s['stored']:.0f})"
                if s["stored"] is not None and abs(s["stored"] - s["weights"]) > 0.5
                else ""
            )
        )
        rows.append(
            [
                job["label"],
                "—" if job["sparsity"] is None else f"{job['sparsity']:g}",
                _fmt(s["sparsity"], ".3f") if job["kind"] == "pruned" else "—",
                weights,
                (f"{acc.mean():.2f} ± {acc.std():.2f}" if len(acc) else "—")
                + (f" ({s['errors']} errors)" if s["errors"] else ""),
                "—" if job["kind"] == "dense" else _fmt(s["delta"], "+.2f"),
                _fmt(s["n_iter"], ".0f"),
                _fmt(s["time"], ".3g"),
                f"{s['warnings']} ({s['warned']}/{s['n']})",
                target,
            ]
        )
    return markdown_table(header, rows)


def target_lines(name, jobs, stats):
    if name not in TARGET_SETS:
        return []
    at = [
        j
        for j in jobs
        if j["kind"] == "pruned"
        and j["sparsity"] is not None
        and abs(j["sparsity"] - TARGET_SPARSITY) < EPS
    ]
    if not at:
        return [f"Target (90 %, Δ ≥ -1 point): no pruned row at {TARGET_SPARSITY}."]
    default = next((j for j in at if not j["config"]), None)
    scored = [j for j in at if stats[j["key"]]["delta"] is not None]
    best = max(scored, key=lambda j: stats[j["key"]]["delta"]) if scored else None
    out = []
    if default is not None:
        s = stats[default["key"]]
        out.append(
            f"- default config at 90 %: Δ {_fmt(s['delta'], '+.2f')} points: "
            + ("**met**" if meets(s) else "**not met**")
        )
    if best is not None:
        s = stats[best["key"]]
        out.append(
            f"- best config at 90 % ({best['label']}): Δ {s['delta']:+.2f} points: "
            + ("**met**" if meets(s) else "**not met**")
        )
    return [f"Target (at 90 %, no more than 1 point below dense) on {name}:\n", *out]


def report(args, info, all_jobs, records, elapsed, configs):
    lines = [
        "# High sparsity on tabular data: pruned against dense and "
        "equal-nonzeros dense\n",
        "```text",
        environment(),
        versions(),
        "command: " + command(),
        f"wall time: {elapsed:.0f} s",
        "```\n",
        "The host may have been running other jobs during this run: the fit times "
        "are indicative only.\n",
        f"{args.seeds} seed{'s' if args.seeds > 1 else ''} "
        f"(0{f'..{args.seeds - 1}' if args.seeds > 1 else ''}); every model gets "
        f"random_state=seed and max_iter={args.epochs}. Dense: MLPClassifier with "
        f"hidden_layer_sizes={tuple(args.hidden)} and its defaults otherwise (adam). "
        "Equal-nonzeros dense: MLPClassifier whose hidden sizes, scaled by one "
        "factor (h' = max(1, round((1 - s) * h)) for one hidden layer, the "
        "positive root of a quadratic for several: equal_nonzeros_hidden), give it "
        "(1 - s) of the dense weight count (coefs, no biases), about what the "
        "pruned networks keep. Pruned: PrunedMLPClassifier(hidden_layer_sizes="
        f"{tuple(args.hidden)}, sparsity=s, random_state=seed, "
        f"max_iter={args.epochs}, **config), configs:\n",
        *[f"- `{json.dumps(c)}`: {config_label(c)}" for c in configs],
        "",
        "Fit order per seed: the table's rows top to bottom on even seeds, bottom "
        "to top on odd seeds"
        + (
            "; every model had an untimed 3-epoch warm-up fit per set first."
            if args.warmup
            else "; no warm-up fits (--no-warmup)."
        ),
        "",
        "Columns: accuracy mean ± std over seeds; Δ: mean over seeds of the paired "
        "difference against the dense MLPClassifier, in accuracy points; weights: "
        "the weight count (coefs only) of the dense models, the kept weights "
        "(1 - sparsity_) * n_weights of the pruned ones (mean over seeds); "
        "ConvergenceWarnings: total number suppressed (fits that raised one / "
        "fits). Target: at 90 %, Δ ≥ -1 point (letter and digits).\n",
    ]
    for name, item in info.items():
        lines.append(f"## {name}\n")
        if "skipped" in item:
            lines.append(f"**skipped**: {item['skipped']}\n")
            continue
        lines.append(
            f"{item['n_train']} train / {item['n_test']} test, {item['n_features']} "
            f"features, {item['n_classes']} classes; {item['preprocessing']}. "
            f"Dense network: {item['dense_weights']} weights.\n"
        )
        stats = summarize(records, name, all_jobs[name])
        lines.append(set_table(name, all_jobs[name], stats))
        target = target_lines(name, all_jobs[name], stats)
        if target:
            lines += ["", *target]
        lines.append("")
    errors = {}
    for r in records:
        if r["error"]:
            key = (r["set"], r["label"], r["requested_sparsity"], r["error"])
            errors.setdefault(key, []).append(r["seed"])
    if errors:
        lines.append("## Errors\n")
        for (name, label, s, message), seeds in errors.items():
            lines.append(
                f"- {name} / {label} / s={s}, seeds {seeds}: `{message[:300]}`"
            )
        lines.append("")
    other = {}
    for r in records:
        for message in r["other_warnings"]:
            other[message] = other.get(message, 0) + 1
    if other:
        lines.append("## Other warnings raised during the fits (count)\n")
        lines += [f"- {n} × `{m[:200]}`" for m, n in other.items()]
        lines.append("")
    return "\n".join(lines)


def command():
    threads = [
        f"{v}={os.environ[v]}"
        for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
        if v in os.environ
    ]
    return " ".join([*threads, "python", shlex.join(sys.argv)])


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sets",
        nargs="+",
        choices=SETS,
        default=SETS,
        metavar="SET",
        help=f"data sets (default: {' '.join(SETS)})",
    )
    parser.add_argument(
        "--sparsities",
        nargs="+",
        type=float,
        default=[0.9, 0.95, 0.98],
        help="sparsities of the pruned rows (default: 0.9 0.95 0.98)",
    )
    parser.add_argument(
        "--configs",
        nargs="+",
        type=parse_config,
        default=DEFAULT_CONFIGS,
        metavar="JSON",
        help="PrunedMLPClassifier configurations, JSON dicts of extra parameters "
        "(default: '{}' '{\"pruning_scope\": \"erk\"}' "
        '\'{"pruning_schedule": "rigl", "pruning_scope": "erk"}\')',
    )
    parser.add_argument(
        "--epochs", type=int, default=100, help="max_iter of every model (100)"
    )
    parser.add_argument(
        "--hidden",
        nargs="+",
        type=int,
        default=list(HIDDEN),
        metavar="H",
        help="hidden layer sizes of the dense and pruned networks "
        "(default: 100, MLPClassifier's default)",
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="number of seeds, 0..N-1 (default 3)"
    )
    parser.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="skip the untimed 3-epoch warm-up fit of every model per set",
    )
    parser.add_argument("--data-dir", help="directory of letter.npz and vowel.npz")
    parser.add_argument("--letter", help="letter.npz (or SKPRUNE_LETTER)")
    parser.add_argument("--vowel", help="vowel.npz (or SKPRUNE_VOWEL)")
    parser.add_argument("--out", metavar="FILE.json", help="write the per-fit records")
    parser.add_argument("--md", metavar="FILE.md", help="write the markdown report")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    if any(h < 1 for h in args.hidden):
        parser.error("--hidden sizes must be at least 1")
    if any(not 0 < s < 1 for s in args.sparsities):
        parser.error("--sparsities must be in (0, 1)")
    if args.data_dir and not Path(args.data_dir).is_dir():
        parser.error(f"--data-dir {args.data_dir}: not a directory")
    configs = list({json.dumps(c, sort_keys=True): c for c in args.configs}.values())
    for config in configs:
        try:
            PrunedMLPClassifier(**config)
        except Exception as exc:
            parser.error(f"--configs {json.dumps(config)}: {exc}")
    sets = list(dict.fromkeys(args.sets))
    sparsities = list(dict.fromkeys(args.sparsities))
    args.sparsities = sparsities

    start = time.perf_counter()
    records, info, all_jobs = run(args, sets, configs, data_paths(args))
    elapsed = time.perf_counter() - start

    text = report(args, info, all_jobs, records, elapsed, configs)
    print(text)
    if args.md:
        Path(args.md).write_text(text)
    if args.out:
        summary = {
            name: [
                {k: job[k] for k in ("label", "kind", "sparsity", "config", "hidden")}
                | {"weights": job["weights"]}
                | {
                    k: (v.tolist() if isinstance(v, np.ndarray) else v)
                    for k, v in summarize(records, name, jobs)[job["key"]].items()
                }
                for job in jobs
            ]
            for name, jobs in all_jobs.items()
        }
        dump = {
            "command": command(),
            "wall_time_s": elapsed,
            "environment": environment(),
            "versions": versions(),
            "args": vars(args),
            "configs": configs,
            "sets": info,
            "summary": summary,
            "records": records,
        }
        Path(args.out).write_text(json.dumps(dump, indent=1, default=str))


if __name__ == "__main__":
    main()
