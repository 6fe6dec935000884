"""``python -m skprune``: prune an MLP on real data and compare it with MLPClassifier.

With no arguments, trains scikit-learn's ``MLPClassifier`` and
``PrunedMLPClassifier`` at a few sparsities (plus random pruning, the baseline) on
the digits data bundled with scikit-learn, then prints accuracy, achieved
sparsity, hidden sizes after pruning, pickled size, fit and predict time, each
against ``MLPClassifier``, and saves the accuracy-vs-sparsity plot when
matplotlib is installed. ``--data FILE.csv --target COLUMN`` runs the same
comparison on your own table. Run ``python -m skprune --help`` for every option.

Exit status: 0 on success, 2 for bad usage or input (one line on stderr).
"""

import argparse
import contextlib
import csv
import math
import os
import pickle
import statistics
import sys
import time
import warnings
import zipfile

import numpy as np

PROG = "python -m skprune"
EXIT_OK = 0
EXIT_USAGE = 2
DEFAULT_SPARSITIES = (0.5, 0.9, 0.95)
DEFAULT_PLOT = "skprune_tradeoff.png"
BASELINE = "random"


class UsageError(Exception):
    """Bad command line or input: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    # One line instead of argparse's usage block: the error says what to fix.
    def error(self, message):
        raise UsageError(f"{message} (see {PROG} --help)")


def _options(name):
    """The values a string parameter of PrunedMLPClassifier accepts, sorted."""
    from sklearn.utils._param_validation import StrOptions

    from skprune import PrunedMLPClassifier

    for constraint in PrunedMLPClassifier._parameter_constraints[name]:
        if isinstance(constraint, StrOptions):
            return sorted(constraint.options)
    raise KeyError(name)  # pragma: no cover - the parameter names are a contract


def _sparsity(text):
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a number in [0, 1) or 'auto', got {text!r}"
        )
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text!r}")
    return value


def build_parser():
    parser = _Parser(
        prog=PROG,
        description=(
            "Train scikit-learn's MLPClassifier and skprune's PrunedMLPClassifier "
            "on the same data and compare accuracy, sparsity, size and speed. "
            "Without --data, uses the digits data bundled with scikit-learn."
        ),
        epilog=(
            "Exit status: 0 on success, 2 for bad usage or input. "
            "Example: python -m skprune --data iris.csv --target species "
            "--sparsity 0.8 0.9"
        ),
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        metavar="FILE.csv",
        help="CSV file with a header row and one row per sample; every column "
        "but --target must be numeric (default: scikit-learn's digits)",
    )
    data.add_argument(
        "--target", metavar="COLUMN", help="name of the class label column of --data"
    )
    data.add_argument(
        "--test-size",
        type=_fraction,
        default=0.25,
        metavar="F",
        help="share of the samples held out for testing (default: 0.25)",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--sparsity",
        type=_sparsity,
        nargs="+",
        default=list(DEFAULT_SPARSITIES),
        metavar="S",
        help="target sparsities in [0, 1), or 'auto' (default: "
        + " ".join(str(s) for s in DEFAULT_SPARSITIES)
        + ")",
    )
    model.add_argument(
        "--pruning",
        choices=_options("pruning"),
        default="magnitude",
        help="pruning criterion (default: magnitude)",
    )
    model.add_argument(
        "--schedule",
        choices=_options("pruning_schedule"),
        default="gradual",
        help="pruning schedule (default: gradual)",
    )
    model.add_argument(
        "--scope",
        choices=_options("pruning_scope"),
        default="layer",
        help="pruning scope (default: layer)",
    )
    model.add_argument(
        "--granularity",
        choices=_options("granularity"),
        default="weight",
        help="prune single weights or whole hidden units (default: weight)",
    )
    model.add_argument(
        "--hidden-layer-sizes",
        type=_positive_int,
        nargs="+",
        default=[100],
        metavar="N",
        help="hidden layer sizes of both networks (default: 100)",
    )
    model.add_argument(
        "--max-iter",
        type=_positive_int,
        default=200,
        metavar="N",
        help="training epochs of both networks (default: 200)",
    )
    model.add_argument(
        "--no-baseline",
        action="store_true",
        help="do not train the random-pruning baseline",
    )
    model.add_argument(
        "--threads",
        type=_positive_int,
        metavar="N",
        help="BLAS/OpenMP threads for both models (default: the libraries' own "
        "choice); 1 avoids threads competing for a busy machine's cores",
    )
    model.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed of the split and of every model (default: 0)",
    )
    from skprune import __version__

    parser.add_argument("--version", action="version", version=f"skprune {__version__}")
    output = parser.add_argument_group("output")
    plot = output.add_mutually_exclusive_group()
    plot.add_argument(
        "--plot",
        metavar="PATH",
        help=f"where to save the accuracy-vs-sparsity plot (default: {DEFAULT_PLOT}; "
        "needs matplotlib)",
    )
    plot.add_argument("--no-plot", action="store_true", help="do not save a plot")
    output.add_argument(
        "--save",
        metavar="PATH",
        help="save the pruned model of the last --sparsity, with its scaler, as a "
        "skops file (needs skops)",
    )
    output.add_argument(
        "--quiet", action="store_true", help="no progress messages on stderr"
    )
    return parser


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------


def load_digits_data():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X, y, "digits"


def _check_file(path):
    if not os.path.exists(path):
        raise UsageError(f"data file not found: {path}")
    if not os.path.isfile(path):
        raise UsageError(f"--data must be a file, {path} is not")


def _target_values(values, target, path):
    """Class labels from the target column: numbers when they all are numbers."""
    values = np.asarray(values, dtype=object)
    missing = [
        i
        for i, v in enumerate(values)
        if v is None or v != v or (isinstance(v, str) and v.lower() in _MISSING)
    ]
    if missing:
        raise UsageError(
            f"target column {target!r} of {path} has a missing value (data row "
            f"{missing[0] + 1}); remove the rows without a label"
        )
    text = np.array([str(v).strip() for v in values])
    try:
        numbers = text.astype(float)
    except ValueError:
        return text
    # Numbers only when that keeps every label apart and exact: "01" and "1",
    # or "inf", stay text.
    distinct = np.unique(text)
    if not np.isfinite(numbers).all() or np.unique(numbers).size != distinct.size:
        return text
    if np.all(numbers == np.round(numbers)):
        if np.abs(numbers).max() >= 2**53:  # beyond exact float integers
            return text
        return numbers.astype(np.int64)
    return numbers


# Cells the csv reader treats as missing values (pandas reads these as NaN too).
_MISSING = ("", "na", "nan", "null", "none", "n/a")


def _missing_feature(path, column, row):
    return UsageError(
        f"feature column {column!r} of {path} has a missing or infinite value "
        f"(data row {row}); impute or remove such values first"
    )


def _non_numeric(path, column, row, value):
    return UsageError(
        f"feature column {column!r} of {path} is not numeric (data row {row}: "
        f"{value!r}); encode it as numbers or remove the column"
    )


def _split_columns(columns, target, path):
    if target not in columns:
        shown = ", ".join(repr(c) for c in columns[:10])
        more = f", ... ({len(columns)} columns)" if len(columns) > 10 else ""
        raise UsageError(
            f"column {target!r} not found in {path}; its columns are: {shown}{more}"
        )
    features = [c for c in columns if c != target]
    if not features:
        raise UsageError(f"{path} has no feature column besides {target!r}")
    return features


def _read_csv_stdlib(path, target):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [row for row in csv.reader(f) if any(cell.strip() for cell in row)]
    if not rows:
        raise UsageError(f"{path} is empty: expected a header row and data rows")
    header, data = [c.strip() for c in rows[0]], rows[1:]
    features = _split_columns(header, target, path)
    if not data:
        raise UsageError(f"{path} has a header row but no data rows")
    t = header.index(target)
    cols = [header.index(c) for c in features]
    X = np.empty((len(data), len(cols)))
    y = []
    for i, row in enumerate(data):
        if len(row) != len(header):
            raise UsageError(
                f"data row {i + 1} of {path} has {len(row)} fields, the header has "
                f"{len(header)}"
            )
        y.append(row[t].strip())
        for j, c in enumerate(cols):
            cell = row[c].strip()
            try:
                X[i, j] = float(cell)
            except ValueError:
                if cell.lower() in _MISSING:
                    raise _missing_feature(path, features[j], i + 1) from None
                raise _non_numeric(path, features[j], i + 1, cell) from None
            if not math.isfinite(X[i, j]):
                raise _missing_feature(path, features[j], i + 1)
    return X, _target_values(y, target, path)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _read_csv_pandas(path, target):
    import pandas as pd

    try:
        header = pd.read_csv(path, nrows=0).columns
        # The labels as written ("01", "True"), as the csv reader sees them.
        as_text = {c: str for c in header if str(c).strip() == target}
        df = pd.read_csv(path, dtype=as_text)
    except pd.errors.EmptyDataError:
        raise UsageError(
            f"{path} is empty: expected a header row and data rows"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UsageError(f"cannot read {path} as CSV: {first}") from None
    df.columns = [str(c).strip() for c in df.columns]
    features = _split_columns(list(df.columns), target, path)
    if len(df) == 0:
        raise UsageError(f"{path} has a header row but no data rows")
    for column in features:
        values = df[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(
            values
        ):
            # Like the csv engine: surrounding spaces do not count, and the
            # missing-value words are missing values, not text.
            values = values.map(_strip)
            missing = values.map(
                lambda v: isinstance(v, str) and v.lower() in _MISSING
            ).to_numpy(dtype=bool)
            numbers = pd.to_numeric(values.mask(missing), errors="coerce")
            bad = np.flatnonzero(
                numbers.isna().to_numpy() & values.notna().to_numpy() & ~missing
            )
            if bad.size or pd.api.types.is_bool_dtype(df[column]):
                row = int(bad[0]) if bad.size else 0
                raise _non_numeric(path, column, row + 1, str(values.iloc[row]))
            df[column] = numbers
    X = df[features].to_numpy(dtype=np.float64)
    finite = np.isfinite(X)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise _missing_feature(path, features[col], int(row) + 1)
    y = df[target].to_numpy(dtype=object)
    y = [None if (isinstance(v, float) and v != v) else _strip(v) for v in y]
    return X, _target_values(y, target, path)


def load_csv(path, target, engine="auto"):
    """Read features and labels from a CSV file with a header row.

    Parameters
    ----------
    path : str
        The CSV file.
    target : str
        Name of the column holding the class labels; every other column is a
        feature and must be numeric.
    engine : {'auto', 'pandas', 'csv'}, default='auto'
        'auto' uses pandas when it is installed (faster on large files) and the
        standard ``csv`` module otherwise; both give the same errors.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    name : str

    Raises
    ------
    UsageError
        With a one-line message, for a missing file, a missing column, a
        non-numeric or missing feature value, or a missing label.
    """
    _check_file(path)
    if engine == "auto":
        try:
            import pandas  # noqa: F401
        except ImportError:
            engine = "csv"
        else:
            engine = "pandas"
    read = _read_csv_pandas if engine == "pandas" else _read_csv_stdlib
    try:
        X, y = read(path, target)
    except UnicodeDecodeError:
        raise UsageError(f"cannot read {path}: it is not UTF-8 text") from None
    _check_labels(y, target, path)
    return X, y, os.path.basename(path)


def _check_labels(y, target, path):
    from sklearn.utils.multiclass import type_of_target

    kind = type_of_target(y)
    if kind == "continuous":
        raise UsageError(
            f"target column {target!r} of {path} holds continuous values (e.g. "
            f"{np.asarray(y)[0].item()!r}): a classifier needs class labels"
        )
    n_classes = np.unique(y).size
    if n_classes < 2:
        raise UsageError(
            f"target column {target!r} of {path} has a single class; a classifier "
            "needs at least two"
        )


def split_data(X, y, test_size, seed):
    """Stratified train/test split, standardized on the training part."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        rare = classes[np.argmin(counts)].item()
        raise UsageError(
            f"class {rare!r} has a single sample: every class needs at least two, "
            "one to train on and one to test on"
        )
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=test_size, stratify=y, random_state=seed
        )
    except ValueError as exc:
        reason = str(exc).strip().splitlines()[0]
        raise UsageError(
            f"cannot split {len(y)} samples into train and test sets: {reason}"
        ) from None
    with np.errstate(over="ignore", invalid="ignore"):
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if not (np.isfinite(X_train).all() and np.isfinite(X_test).all()):
        raise UsageError(
            f"the features are too large to standardize (largest magnitude "
            f"{np.abs(X).max():.3g}): rescale them, e.g. to their logarithm"
        )
    return scaler, X_train, X_test, y_train, y_test


# ----------------------------------------------------------------------------
# Models and measurements
# ----------------------------------------------------------------------------


def make_models(args):
    """``(name, target, estimator)`` triples: the dense reference first."""
    from sklearn.neural_network import MLPClassifier

    from skprune import PrunedMLPClassifier

    common = dict(
        hidden_layer_sizes=tuple(args.hidden_layer_sizes),
        max_iter=args.max_iter,
        random_state=args.seed,
    )
    models = [("MLPClassifier", None, MLPClassifier(**common))]
    criteria = [args.pruning]
    if not args.no_baseline and args.pruning != BASELINE:
        criteria.append(BASELINE)
    for criterion in criteria:
        name = f"pruned {criterion}" + (
            " (baseline)" if criterion != args.pruning else ""
        )
        for sparsity in args.sparsity:
            estimator = PrunedMLPClassifier(
                **common,
                sparsity=sparsity,
                pruning=criterion,
                pruning_schedule=args.schedule,
                pruning_scope=args.scope,
                granularity=args.granularity,
            )
            models.append((name, sparsity, estimator))
    return models


def time_predict(model, X, min_seconds=0.2, max_runs=50):
    """Median seconds of one ``predict(X)`` call, over enough runs to be stable."""
    model.predict(X)  # warm-up: caches, lazy imports
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (
        time.perf_counter() - start < min_seconds and len(times) < max_runs
    ):
        t0 = time.perf_counter()
        model.predict(X)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(model, X_train, y_train, X_test, y_test):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
    for w in caught:  # other warnings go on to the user
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if hasattr(model, "sparse_coefs_"):
        hidden = model.hidden_layer_sizes_
        n_weights = sum(c.nnz for c in model.sparse_coefs_)
    else:
        hidden = tuple(c.shape[1] for c in model.coefs_[:-1])
        n_weights = sum(c.size for c in model.coefs_)
    return {
        "accuracy": model.score(X_test, y_test),
        "sparsity": getattr(model, "sparsity_", 0.0),
        "hidden": hidden,
        "weights": n_weights,
        "pickle_bytes": len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)),
        "fit_seconds": fit_seconds,
        "predict_seconds": time_predict(model, X_test),
        "n_iter": model.n_iter_,
        "converged": not any(
            issubclass(w.category, ConvergenceWarning) for w in caught
        ),
    }


# ----------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------

COLUMNS = (
    "model",
    "target",
    "accuracy",
    "sparsity",
    "hidden",
    "pickle (KiB)",
    "fit (s)",
    "predict (ms)",
)


def _with_ratio(value, reference, fmt):
    ratio = value / reference if reference else math.nan
    return f"{value:{fmt}} ({ratio:.2f}x)"


def format_table(rows):
    """Plain-text table; each measure also as a ratio against MLPClassifier."""
    dense = rows[0][2]
    lines = []
    cells = []
    for name, target, m in rows:
        cells.append(
            (
                name,
                "-" if target is None else str(target),
                _with_ratio(m["accuracy"], dense["accuracy"], ".4f"),
                f"{m['sparsity']:.3f}",
                ",".join(str(h) for h in m["hidden"]),
                _with_ratio(
                    m["pickle_bytes"] / 1024, dense["pickle_bytes"] / 1024, ".1f"
                ),
                _with_ratio(m["fit_seconds"], dense["fit_seconds"], ".2f"),
                _with_ratio(
                    m["predict_seconds"] * 1e3, dense["predict_seconds"] * 1e3, ".2f"
                ),
            )
        )
    widths = [max(len(r[i]) for r in (COLUMNS, *cells)) for i in range(len(COLUMNS))]
    for r in (COLUMNS, *cells):
        left, right = r[:2], r[2:]
        text = [c.ljust(w) for c, w in zip(left, widths)]
        text += [c.rjust(w) for c, w in zip(right, widths[2:])]
        lines.append("  ".join(text).rstrip())
    return "\n".join(lines)


def save_plot(path, rows, args, data_name):
    from matplotlib.figure import Figure

    from skprune.plot import plot_sparsity_tradeoff

    def curve(name):
        points = [(m["sparsity"], m["accuracy"]) for n, _, m in rows if n == name]
        return ([p[0] for p in points], [p[1] for p in points]) if points else None

    main_name = rows[1][0]
    baseline = next((curve(n) for n, _, _ in rows[1:] if n != main_name), None)
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.subplots()
    plot_sparsity_tradeoff(
        {f"{args.pruning}, {args.schedule} schedule": curve(main_name)},
        dense_score=rows[0][2]["accuracy"],
        baseline=baseline,
        ax=ax,
    )
    ax.set_title(f"{data_name}: test accuracy against achieved sparsity", fontsize=11)
    fig.savefig(path, dpi=100)


def save_model(path, scaler, estimator):
    import skops.io
    from sklearn.pipeline import make_pipeline

    # Deflate: the file's schema.json (fitted attributes as JSON) compresses well.
    skops.io.dump(
        make_pipeline(scaler, estimator), path, compression=zipfile.ZIP_DEFLATED
    )


def _thread_limit(n_threads):
    """Context limiting BLAS/OpenMP threads to ``n_threads`` (None: no limit)."""
    if n_threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    return threadpool_limits(limits=n_threads)


def _has_module(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _check_output_path(path, option):
    if not path:
        raise UsageError(f"{option} needs a file name")
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: expected a file name, not a folder")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: folder {folder} does not exist")


def _plot_file(path):
    """The file the plot goes to: PNG unless ``path`` names another format."""
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    if not extension:
        return path + ".png"
    if extension not in formats:
        raise UsageError(
            f"--plot {path}: matplotlib cannot write .{extension} files; use one "
            f"of {', '.join('.' + f for f in sorted(formats))}"
        )
    return path


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------


def run(args, err):
    def progress(text):
        if not args.quiet:
            print(text, file=err, flush=True)

    if (args.data is None) != (args.target is None):
        raise UsageError(
            "--data and --target go together: --data FILE.csv --target COLUMN"
        )
    if args.save is not None:
        if not _has_module("skops"):
            raise UsageError(
                "--save needs skops, which is not installed: "
                'pip install "skprune[skops]"'
            )
        _check_output_path(args.save, "--save")
    plot_path = None
    if not args.no_plot:
        plot_path = DEFAULT_PLOT if args.plot is None else args.plot
        _check_output_path(plot_path, "--plot")
        if _has_module("matplotlib"):
            plot_path = _plot_file(plot_path)
        else:
            if args.plot is not None:
                raise UsageError(
                    "--plot needs matplotlib, which is not installed: "
                    'pip install "skprune[plot]"'
                )
            progress(
                'no plot: matplotlib is not installed (pip install "skprune[plot]")'
            )
            plot_path = None

    if args.data is None:
        X, y, data_name = load_digits_data()
    else:
        X, y, data_name = load_csv(args.data, args.target)
    scaler, X_train, X_test, y_train, y_test = split_data(
        X, y, args.test_size, args.seed
    )
    n_classes = np.unique(y).size
    print(
        f"data: {data_name}: {X.shape[0]} samples, {X.shape[1]} features, "
        f"{n_classes} classes; {len(y_train)} for training, {len(y_test)} for testing"
    )

    models = make_models(args)
    rows = []
    with _thread_limit(args.threads):
        for k, (name, target, model) in enumerate(models, start=1):
            label = name if target is None else f"{name}, sparsity={target}"
            progress(f"[{k}/{len(models)}] fitting {label} ...")
            try:
                m = measure(model, X_train, y_train, X_test, y_test)
            except ValueError as exc:
                # The estimator's own message, e.g. a sparsity too high for a layer.
                raise UsageError(
                    f"{label}: {str(exc).strip().splitlines()[0]}"
                ) from None
            note = "" if m["converged"] else f" (stopped at max_iter={args.max_iter})"
            progress(
                f"      {m['fit_seconds']:.2f} s, {m['n_iter']} iterations{note}, "
                f"test accuracy {m['accuracy']:.4f}, sparsity {m['sparsity']:.3f}"
            )
            rows.append((name, target, m))

    print()
    print(format_table(rows))
    print()
    print("Ratios in brackets are against MLPClassifier (test accuracy; sizes; times).")
    print(
        "sparsity: share of the dense network's weights removed (achieved, all "
        "layers); hidden: hidden layer sizes after pruning."
    )

    if plot_path is not None:
        save_plot(plot_path, rows, args, data_name)
        print(f"plot saved to {os.path.abspath(plot_path)}")
    if args.save is not None:
        # The main criterion's model at the last sparsity given.
        name, target, estimator = [t for t in models if t[0] == models[1][0]][-1]
        save_model(args.save, scaler, estimator)
        print(
            f"model ({name}, sparsity={target}, with its StandardScaler) saved to "
            f"{os.path.abspath(args.save)}; load it with "
            "skops.io.load(path, trusted=skprune.TRUSTED_TYPES)"
        )
    return EXIT_OK


def main(argv=None):
    """Run the command line; return the exit status (0 ok, 2 bad usage or input)."""
    err = sys.stderr
    try:
        args = build_parser().parse_args(argv)
        return run(args, err)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=err)
        return EXIT_USAGE
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
