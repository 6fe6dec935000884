"""Fit time of PrunedMLPClassifier against MLPClassifier, alternating, in one run.

Issue 16's measurement harness. Every table times its candidates in alternation:
one untimed warm-up fit each (it also compiles or loads the numba kernels), then
``--repeats`` rounds in which every candidate runs once, always in the same order,
so that machine noise hits all of them. Each table reports the median, the ratio
of the medians and the median of the per-round ratios (within a round the
candidates run back to back, so a ratio taken round by round is less sensitive to
slow changes in machine load); targets are judged on the per-round median.

**The default table** (always run): synthetic data (10000 x 784, 10 classes),
hidden (300, 100), adam, batch 200, ``--epochs`` epochs (5), early stopping off,
``random_state=0``. Candidates: MLPClassifier (float64, its defaults);
PrunedMLPClassifier with its defaults (float32, gradual magnitude pruning to
``PrunedMLPClassifier().sparsity``), with numba (the ``fast`` extra) and NumPy
only (``SKPRUNE_NUMBA=0``); PrunedMLPClassifier at ``sparsity=0``; the float32
matrix-product floor (the eight products of one minibatch's forward and
backward pass, once per minibatch of the fit: what any implementation built on
NumPy's BLAS pays); and, when ``import torch`` succeeds, the same network and
training in PyTorch on the CPU (:class:`TorchMLP`). Below the table:

- defaults vs MLPClassifier, target >= 4x with numba, >= 2.5x NumPy only;
- defaults as a share of the float32 floor's speed-up (floor time / defaults
  time), target >= 85 %.

**The cost table** (``--cost``): the same data, ``--cost-epochs`` epochs (20),
with ``--holdout`` (2000) more rows drawn from the same generator and held out.
Fit time of ``granularity="weight"`` at sparsity 0.5 / 0.9 / 0.98 / 0.99 and of
``granularity="neuron"`` at 0.5 / 0.8, each relative to the ``sparsity=0`` fit
of the same setting (numba, and NumPy only), with the achieved ``sparsity_``,
``hidden_layer_sizes_``, ``n_iter_``, the pruning rounds' epochs and the
training and held-out accuracy of each fit. Targets (numba rows): neuron 0.8
<= 0.5x, neuron 0.5 <= 0.75x, weight 0.98 <= 0.6x, weight 0.9 <= 0.85x. Under
the default schedule pruning happens during the fit (a dense phase, then the
rounds, then fine-tuning), so the ratios measure the whole fit.

Flags:

- ``--repeats N`` (7): alternating rounds of the default table (and of the
  other tables unless overridden);
- ``--epochs N`` (5), ``--n-samples N`` (10000), ``--n-features N`` (784);
- ``--no-torch``: leave the PyTorch row out even when torch is installed;
- ``--cost``: also the cost table; ``--cost-epochs N`` (20); ``--cost-repeats N``
  (``--repeats``); ``--holdout N`` (2000);
- ``--long-epochs N``: also fits of N epochs at sparsity 0 and 0.98 (with and
  without numba) against MLPClassifier;
- ``--profile``: also a float64 matrix-product row, and a cProfile of one
  skprune fit;
- ``--threads N``: limit the BLAS and OpenMP pools (threadpoolctl) and torch
  to N threads (default: as the machine sets them);
- ``--output PATH``: write the report (first line ``command: ...``) to PATH;
  ``--cost-output PATH``: write the cost table's report there instead.

From the repository root, with ``PYTHONPATH=.`` so that the working tree's
skprune is timed rather than an installed copy (the report names the one it
imported)::

    PYTHONPATH=. python benchmarks/bench_fit.py [--repeats 7] [--cost] [--profile]
        [--long-epochs 20] [--output benchmarks/results/fit.md]
        [--cost-output benchmarks/results/fit_cost.md]
"""

import argparse
import cProfile
import importlib.util
import io
import os
import pstats
import shlex
import sys
import warnings
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from _common import environment, markdown_table, synthetic_data, timed, versions
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

import skprune
from skprune import PrunedMLPClassifier
from skprune._kernels import numba_available

HIDDEN = (300, 100)
DEFAULT_SPARSITY = PrunedMLPClassifier().sparsity
DEFAULTS = f"PrunedMLPClassifier (defaults, sparsity={DEFAULT_SPARSITY})"
NUMPY_ONLY = ", NumPy only"

# Issue 16's targets. Default table: speed-up of the defaults over MLPClassifier
# (with numba, NumPy only) and the defaults' share of the float32 floor's speed.
SPEEDUP_TARGET = {"numba": 4.0, "numpy": 2.5}
FLOOR_SHARE_TARGET = 0.85
# Cost table, numba rows: (granularity, sparsity) -> largest fit time relative
# to the sparsity=0 fit.
COST_TARGETS = {
    ("neuron", 0.8): 0.5,
    ("neuron", 0.5): 0.75,
    ("weight", 0.98): 0.6,
    ("weight", 0.9): 0.85,
}
COST_GRID = [
    ("weight", 0.5),
    ("weight", 0.9),
    ("weight", 0.98),
    ("weight", 0.99),
    ("neuron", 0.5),
    ("neuron", 0.8),
]
# Dynamic sparse training, sparse from the first epoch (no target: shown for
# comparison, with RigL's own allocation).
RIGL_GRID = [0.9, 0.98]
RIGL_PARAMS = dict(pruning_schedule="rigl", pruning_scope="erk")


class MatmulFloor:
    """The (300, 100) network's matrix products alone, as a fake estimator.

    ``fit`` runs the eight products of one minibatch's forward and backward pass
    once per minibatch of a real fit, so that it can be timed in the same
    alternation as the estimators.
    """

    def __init__(self, dtype, n_epochs):
        self.dtype = dtype
        self.n_epochs = n_epochs

    def fit(self, X, y):
        rng = np.random.default_rng(0)
        sizes = [X.shape[1], *HIDDEN, 10]
        Xb = rng.standard_normal((200, X.shape[1])).astype(self.dtype)
        W = [rng.standard_normal(s).astype(self.dtype) for s in zip(sizes, sizes[1:])]
        D = [rng.standard_normal((200, s)).astype(self.dtype) for s in sizes[1:]]
        for _ in range(self.n_epochs * -(-X.shape[0] // 200)):
            A1 = Xb @ W[0]
            A2 = A1 @ W[1]
            A2 @ W[2]  # forward
            A2.T @ D[2], D[2] @ W[2].T, A1.T @ D[1], D[1] @ W[1].T, Xb.T @ D[0]
        return self


def blas_threads():
    """Threads of the first BLAS pool threadpoolctl reports (NumPy's)."""
    from threadpoolctl import threadpool_info

    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    return pools[0]["num_threads"] if pools else os.cpu_count()


def torch_version():
    """torch's version when it is installed, else None (nothing is imported)."""
    if importlib.util.find_spec("torch") is None:
        return None
    try:
        import torch
    except Exception:  # installed but broken: leave the row out
        return None
    return torch.__version__


class TorchMLP:
    """The same network and training in PyTorch (CPU), as a fake estimator.

    784-300-100-10, relu, softmax cross-entropy (mean over the minibatch),
    float32; sklearn's Glorot-uniform initialization (weights and biases drawn
    from ``U(-b, b)``, ``b = sqrt(6 / (fan_in + fan_out))``); Adam with lr 1e-3,
    betas (0.9, 0.999), eps 1e-8; minibatches of 200, reshuffled every epoch.

    The L2 penalty is sklearn's: MLPClassifier adds ``alpha * W / n_batch`` to
    each weight matrix's gradient (biases are not penalized), which is what
    ``torch.optim.Adam``'s ``weight_decay`` does (it adds ``weight_decay * W`` to
    the gradient before the moments) with ``weight_decay = alpha / n_batch``, set
    per minibatch on the weights' parameter group only. It costs no autograd
    node, as a user would write it. (The one difference from sklearn's Adam is
    where ``eps`` sits relative to the bias correction: immaterial here.)
    """

    def __init__(self, n_epochs, n_threads, alpha=1e-4, batch_size=200, seed=0):
        self.n_epochs = n_epochs
        self.n_threads = n_threads
        self.alpha = alpha
        self.batch_size = batch_size
        self.seed = seed

    def fit(self, X, y):
        import torch

        torch.set_num_threads(self.n_threads)
        generator = torch.Generator().manual_seed(self.seed)
        self.classes_, codes = np.unique(y, return_inverse=True)
        X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        y_t = torch.from_numpy(codes.astype(np.int64))
        sizes = [X.shape[1], *HIDDEN, len(self.classes_)]
        layers = []
        for fan_in, fan_out in zip(sizes, sizes[1:]):
            layer = torch.nn.Linear(fan_in, fan_out)
            bound = float(np.sqrt(6 / (fan_in + fan_out)))
            with torch.no_grad():
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)
            layers += [layer, torch.nn.ReLU()]
        self.model_ = model = torch.nn.Sequential(*layers[:-1])
        linear = [m for m in model if isinstance(m, torch.nn.Linear)]
        optimizer = torch.optim.Adam(
            [
                {"params": [m.weight for m in linear]},
                {"params": [m.bias for m in linear], "weight_decay": 0.0},
            ],
            lr=1e-3,
            betas=(0.9, 0.999),
            eps=1e-8,
        )
        weights = optimizer.param_groups[0]
        n_samples = X_t.shape[0]
        for _ in range(self.n_epochs):
            order = torch.randperm(n_samples, generator=generator)
            for start in range(0, n_samples, self.batch_size):
                batch = order[start : start + self.batch_size]
                weights["weight_decay"] = self.alpha / len(batch)
                optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(model(X_t[batch]), y_t[batch])
                loss.backward()
                optimizer.step()
        self.n_iter_ = self.n_epochs
        self.hidden_layer_sizes_ = HIDDEN
        self.sparsity_ = 0.0
        return self

    def score(self, X, y):
        import torch

        with torch.no_grad():
            X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
            codes = self.model_(X_t).argmax(dim=1).numpy()
        return float(np.mean(self.classes_[codes] == y))


FIRST_USE = """
import time
t0 = time.perf_counter()
import numpy as np
from skprune import PrunedMLPClassifier
X = np.random.default_rng(0).standard_normal((400, 784))
y = np.arange(400) % 10
times = []
for _ in range(2):
    start = time.perf_counter()
    PrunedMLPClassifier(hidden_layer_sizes=(300, 100), max_iter=12).fit(X, y)
    times.append(time.perf_counter() - start)
print(times[0] - times[1])
"""


def first_use_overhead():
    """Seconds the first fit of a process loses to numba: cold, then cached."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, SKPRUNE_NUMBA="1")
        env["PYTHONWARNINGS"] = "ignore"
        run = [sys.executable, "-c", FIRST_USE]
        cold, warm = (
            float(
                subprocess.run(
                    run, env=env, capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(2)
        )
    return cold, warm


def alternate(candidates, X, y, repeats):
    """Fit times per candidate, measured in alternation, and the last fits.

    ``candidates`` maps a name to ``(factory, SKPRUNE_NUMBA setting)``. Returns
    ``(times, models)``: the ``repeats`` fit times of each candidate, and the
    estimator of its last timed fit.
    """
    times = {name: [] for name in candidates}
    models = {}
    # One untimed warm-up each (it also compiles or loads the numba kernels),
    # then alternate so that machine noise hits all.
    for make, setting in candidates.values():
        os.environ["SKPRUNE_NUMBA"] = setting
        make().fit(X[:1000], y[:1000])
    for _ in range(repeats):
        for name, (make, setting) in candidates.items():
            os.environ["SKPRUNE_NUMBA"] = setting
            seconds, models[name] = timed(make().fit, X, y)
            times[name].append(seconds)
    os.environ.pop("SKPRUNE_NUMBA")
    return times, models


def ratios(times, name, base):
    """``times[name]`` relative to ``times[base]``: ratio of medians, per round."""
    values, base_values = np.asarray(times[name]), np.asarray(times[base])
    return np.median(values) / np.median(base_values), np.median(values / base_values)


def timing_cells(name, values, of_medians, per_round):
    """A row's first cells: name, median, min, max and the two ratios."""
    return [
        name,
        f"{np.median(values):.3f}",
        f"{min(values):.3f}",
        f"{max(values):.3f}",
        f"{of_medians:.2f}x",
        f"{per_round:.2f}x",
    ]


def table(times, base="MLPClassifier"):
    """Markdown table: medians, and two speed-ups against ``base``."""
    rows = []
    for name, values in times.items():
        of_medians, per_round = ratios(times, base, name)
        rows.append(timing_cells(name, values, of_medians, per_round))
    return markdown_table(
        [
            "estimator",
            "median fit (s)",
            "min",
            "max",
            f"speed-up vs {base} (ratio of medians)",
            "median per-round speed-up",
        ],
        rows,
    )


def verdict(value, target, at_least):
    met = value >= target if at_least else value <= target
    return "yes" if met else "no"


def targets_summary(times, numba):
    """The default table's targets, as lines of text below it."""
    # (row, what the row runs): without numba the defaults are NumPy only.
    rows = [(DEFAULTS, "numba" if numba else "numpy")]
    if numba:
        rows.append((DEFAULTS + NUMPY_ONLY, "numpy"))
    lines = []
    for name, kind in rows:
        of_medians, per_round = ratios(times, "MLPClassifier", name)
        target = SPEEDUP_TARGET[kind]
        label = name if name.endswith(NUMPY_ONLY) else f"{name} ({kind})"
        lines.append(
            f"- {label} vs MLPClassifier: {of_medians:.2f}x (ratio of "
            f"medians), {per_round:.2f}x (median per round); target >= "
            f"{target:g}x: {verdict(per_round, target, True)}"
        )
    for name, _ in rows:
        of_medians, per_round = ratios(times, "matrix products alone, float32", name)
        target = ""
        if name == DEFAULTS:
            met = verdict(per_round, FLOOR_SHARE_TARGET, True)
            target = f"; target >= {FLOOR_SHARE_TARGET:.0%}: {met}"
        lines.append(
            f"- {name} as a share of the float32 floor's speed-up (floor time / "
            f"its time): {of_medians:.0%} (ratio of medians), {per_round:.0%} "
            f"(median per round){target}"
        )
    return "\n".join(lines)


def cost_name(granularity, sparsity, setting):
    label = "dense (sparsity=0)" if sparsity == 0 else f"{granularity} {sparsity}"
    return label + (NUMPY_ONLY if setting == "0" else "")


def pruning_epochs(model):
    """'k rounds, epochs a-b' from the fitted model's pruning history."""
    history = getattr(model, "pruning_history_", None) or []
    epochs = [record["iteration"] for record in history]
    if not epochs:
        return "none"
    return f"{len(epochs)}, epochs {min(epochs)}-{max(epochs)}"


def cost_table(times, models, data, numba, torch_name):
    """Markdown table of the cost run: time relative to sparsity=0, fitted model."""
    X, y, X_test, y_test = data
    rows = []
    for name, values in times.items():
        setting = "0" if name.endswith(NUMPY_ONLY) else ""
        base = cost_name(None, 0, setting)  # the torch row: the numba dense fit
        of_medians, per_round = ratios(times, name, base)
        key = next((k for k in COST_TARGETS if cost_name(*k, setting) == name), None)
        target = f"<= {COST_TARGETS[key]:.2f}x" if key else ""
        if key and numba and setting == "":
            met = verdict(per_round, COST_TARGETS[key], False)
        else:
            met = "-" if key else ""
        model = models[name]
        rows.append(
            [
                *timing_cells(name, values, of_medians, per_round),
                target,
                met,
                f"{model.sparsity_:.3f}",
                str(tuple(model.hidden_layer_sizes_)),
                str(model.n_iter_),
                pruning_epochs(model),
                f"{model.score(X, y):.3f}",
                f"{model.score(X_test, y_test):.3f}",
            ]
        )
    return markdown_table(
        [
            "fit",
            "median fit (s)",
            "min",
            "max",
            "time vs sparsity=0 (ratio of medians)",
            "median per-round ratio",
            "target",
            "target met",
            "sparsity_",
            "hidden_layer_sizes_",
            "n_iter_",
            "pruning rounds",
            "train acc",
            "held-out acc",
        ],
        rows,
    )


def command_line():
    """The command that ran this script, as a shell would take it."""
    env = [
        f"{var}={shlex.quote(os.environ[var])}"
        for var in ("PYTHONPATH", "SKPRUNE_NUMBA", "OMP_NUM_THREADS")
        if var in os.environ
    ]
    command = " ".join([*env, "python", shlex.join(sys.argv)])
    root = Path(__file__).resolve().parents[1]
    if Path.cwd().resolve() != root:
        command = f"cd {shlex.quote(str(Path.cwd()))} && {command}"
    return command


def header(numba, torch_threads):
    """Environment lines shared by every report."""
    lines = [environment(), versions()]
    lines.append(
        f"skprune imported from {Path(skprune.__file__).parent} (this script's "
        f"repository: {Path(__file__).resolve().parents[1]})"
    )
    if numba:
        import numba as numba_module

        lines.append(
            f"numba {numba_module.__version__}: fused kernels (the fast extra); the "
            "NumPy-only rows run with SKPRUNE_NUMBA=0."
        )
    else:
        lines.append("numba not installed: NumPy code only")
    if torch_threads:
        import torch

        lines.append(
            f"torch {torch.__version__}: torch.set_num_threads({torch_threads}) "
            f"(the BLAS pool's threads); torch.get_num_threads() = "
            f"{torch.get_num_threads()}, interop threads = "
            f"{torch.get_num_interop_threads()}"
        )
    return "\n".join(lines)


def load_line(before):
    """The machine's load around a measurement: other processes share its cores."""
    after = os.getloadavg()
    return (
        "\nload average (1, 5, 15 min) before these measurements: "
        + ", ".join(f"{x:.2f}" for x in before)
        + "; after: "
        + ", ".join(f"{x:.2f}" for x in after)
        + f" (on {os.cpu_count()} cpus)"
    )


def write(path, command, text):
    Path(path).write_text(f"command: {command}\n{text}\n")
    print(f"(written to {path})", file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--n-features", type=int, default=784)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--no-torch", action="store_true", help="leave the PyTorch row out"
    )
    parser.add_argument(
        "--cost", action="store_true", help="also the cost table (time vs sparsity=0)"
    )
    parser.add_argument("--cost-epochs", type=int, default=20)
    parser.add_argument(
        "--cost-repeats", type=int, default=None, help="default: --repeats"
    )
    parser.add_argument(
        "--holdout", type=int, default=2000, help="held-out rows of the cost table"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="a float64 matrix-product row and a cProfile of one skprune fit",
    )
    parser.add_argument(
        "--long-epochs",
        type=int,
        default=0,
        help="also time fits of this many epochs at sparsity 0 and 0.98",
    )
    parser.add_argument("--output", help="write the report to this file")
    parser.add_argument("--cost-output", help="write the cost report to this file")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit BLAS and OpenMP pools (and torch) to this many threads",
    )
    args = parser.parse_args(argv)
    # On a shared machine, BLAS threads that outnumber the free cores spin and
    # wait on each other: one thread each is slower but far steadier.
    with threadpool_limits(args.threads) if args.threads else nullcontext():
        measure(args)


def measure(args):
    """Run the tables ``args`` asks for; print them and write the reports."""
    command = command_line()
    load_before = os.getloadavg()
    numba = numba_available()
    torch_name = None
    if not args.no_torch and (version := torch_version()):
        torch_name = f"PyTorch {version} (CPU)"
    threads = blas_threads() if torch_name else None
    warnings.simplefilter("ignore", ConvergenceWarning)

    X, y = synthetic_data(args.n_samples, args.n_features)
    common = dict(
        hidden_layer_sizes=HIDDEN,
        max_iter=args.epochs,
        early_stopping=False,
        random_state=0,
    )
    # name -> (estimator factory, SKPRUNE_NUMBA setting: "" default, "0" NumPy only)
    candidates = {
        "MLPClassifier": (lambda: MLPClassifier(**common), ""),
        DEFAULTS: (lambda: PrunedMLPClassifier(**common), ""),
    }
    if numba:
        candidates[DEFAULTS + NUMPY_ONLY] = (
            lambda: PrunedMLPClassifier(**common),
            "0",
        )
    candidates["PrunedMLPClassifier (sparsity=0)"] = (
        lambda: PrunedMLPClassifier(sparsity=0, **common),
        "",
    )
    for dtype in ("float32", "float64") if args.profile else ("float32",):
        candidates[f"matrix products alone, {dtype}"] = (
            lambda dtype=dtype: MatmulFloor(dtype, args.epochs),
            "",
        )
    if torch_name:
        candidates[torch_name] = (lambda: TorchMLP(args.epochs, threads), "")
    times, _ = alternate(candidates, X, y, args.repeats)

    report = [header(numba, threads)]
    if numba:
        cold, warm = first_use_overhead()
        report.append(
            f"First fit in a new process costs {cold:.2f} s more when the kernels "
            f"compile (empty cache), {warm:.2f} s when they load from the cache "
            "(excluded from the times below: every estimator gets a warm-up fit)"
        )
    report.append(
        f"data: {X.shape[0]}x{X.shape[1]} float64, 10 classes; hidden {HIDDEN}; "
        f"{args.epochs} epochs, adam, batch 200; {args.repeats} alternating runs\n"
    )
    report.append(table(times))
    report.append(
        "\nTargets (judged on the median per-round ratio):\n"
        + targets_summary(times, numba)
    )
    if torch_name:
        report.append(
            f"\n{torch_name}: the same network, data (as float32), initialization, "
            "Adam, L2 term, minibatches and epochs, in a plain training loop "
            f"(bench_fit.TorchMLP); torch threads: {threads}."
        )

    if args.long_epochs:
        long = dict(common, max_iter=args.long_epochs)
        candidates = {"MLPClassifier": (lambda: MLPClassifier(**long), "")}
        for sparsity in (0, 0.98):
            name = f"PrunedMLPClassifier (sparsity={sparsity})"
            make = lambda sparsity=sparsity: PrunedMLPClassifier(  # noqa: E731
                sparsity=sparsity, **long
            )
            candidates[name] = (make, "")
            if numba:
                candidates[name + NUMPY_ONLY] = (make, "0")
        times, _ = alternate(candidates, X, y, args.repeats)
        report.append(
            f"\nLonger training: {args.long_epochs} epochs, same data and network, "
            f"{args.repeats} alternating runs. At sparsity=0.98 the input layer "
            "keeps 2 % of its weights for most of the fit; with numba its "
            "products then run over those weights only.\n"
        )
        report.append(table(times))

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        PrunedMLPClassifier(**common).fit(X, y)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        report.append("\nProfile of one PrunedMLPClassifier fit (by own time):")
        report.append(out.getvalue())
        report.append(
            "The 'matrix products alone' rows above time, in the same alternation, "
            "the eight products of every minibatch's forward and backward pass: "
            "the floor of any implementation built on these BLAS calls."
        )
    report.append(load_line(load_before))
    text = "\n".join(report)
    print(text, flush=True)

    cost_text = None
    if args.cost:
        load_before = os.getloadavg()
        cost_text = cost_report(args, numba, torch_name, threads)
        cost_text += "\n" + load_line(load_before)
        print("\n" + cost_text, flush=True)
    if args.output:
        both = cost_text and not args.cost_output
        write(args.output, command, text + ("\n\n" + cost_text if both else ""))
    if args.cost_output and cost_text:
        write(args.cost_output, command, header(numba, threads) + "\n" + cost_text)


def cost_report(args, numba, torch_name, threads):
    """Run the cost table (issue 16): fit time against sparsity=0, alternating."""
    X_all, y_all = synthetic_data(args.n_samples + args.holdout, args.n_features)
    n = args.n_samples
    data = X_all[:n], y_all[:n], X_all[n:], y_all[n:]
    repeats = args.cost_repeats or args.repeats
    common = dict(
        hidden_layer_sizes=HIDDEN,
        max_iter=args.cost_epochs,
        early_stopping=False,
        random_state=0,
    )
    candidates = {}
    for setting in ("", "0") if numba else ("",):
        for granularity, sparsity in [("weight", 0), *COST_GRID]:
            candidates[cost_name(granularity, sparsity, setting)] = (
                lambda g=granularity, s=sparsity: PrunedMLPClassifier(
                    sparsity=s, granularity=g, **common
                ),
                setting,
            )
        for sparsity in RIGL_GRID:
            candidates[cost_name("rigl erk", sparsity, setting)] = (
                lambda s=sparsity: PrunedMLPClassifier(
                    sparsity=s, **RIGL_PARAMS, **common
                ),
                setting,
            )
    if torch_name:
        candidates[torch_name] = (lambda: TorchMLP(args.cost_epochs, threads), "")
    times, models = alternate(candidates, *data[:2], repeats)
    kind = "numba" if numba else "NumPy only (numba is not installed)"
    lines = [
        f"Cost of pruning: data {n}x{args.n_features} float64 (+{args.holdout} "
        f"held-out rows from the same generator), 10 classes; hidden {HIDDEN}; "
        f"{args.cost_epochs} epochs, adam, batch 200, early_stopping=False, "
        f"random_state=0; {repeats} alternating runs. Rows without a suffix: "
        f"{kind}; each row's time is relative to the dense (sparsity=0) fit of "
        "the same setting"
        + (f" ({torch_name}: relative to the numba dense fit)." if torch_name else ".")
        + "\n",
        cost_table(times, models, data, numba, torch_name),
        "\nTargets are for the fast extra (numba rows) and judged on the median "
        "per-round ratio. Under the default schedule (gradual) pruning happens "
        "during the fit: a dense phase (at most 1 - sparsity of max_iter, kept "
        "within 0.5 and 0.7), the rounds, "
        "then fine-tuning, so a ratio measures the whole fit, dense phase "
        "included. 'pruning rounds': how many, and the epochs (iteration) at "
        "which they ran. 'rigl erk' rows: pruning_schedule='rigl', "
        "pruning_scope='erk' (sparse from the first epoch, no target).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
