"""``python -m skprune``: prune an MLP on real data and compare it with scikit-learn's.

With no arguments, trains scikit-learn's ``MLPClassifier`` and
``PrunedMLPClassifier`` at a few sparsities (plus random pruning, the baseline) on
the digits data bundled with scikit-learn, then prints accuracy, achieved
sparsity, hidden sizes after pruning, pickled size, fit and predict time, each
against ``MLPClassifier``, and saves the accuracy-vs-sparsity plot when
matplotlib is installed. ``--data FILE.csv --target COLUMN`` runs the same
comparison on your own table: a classification, or, for a numeric target that
is not class labels (``--task``), a regression comparing ``PrunedMLPRegressor``
with ``MLPRegressor`` by R². Run ``python -m skprune --help`` for every option.

This module owns the command line and nothing the estimators need: the table of
options (``OPTIONS``), the one CSV reader (``load_csv``, pandas), the train/test
split, the models compared (``make_models``), their measurements and the
printed table, plot and saved model.

Exit status: 0 on success, 2 for bad usage or input (one short line on stderr:
echoed values are cut to ``CLIP`` characters, a message to ``MAX_MESSAGE``), 130
when stopped by Ctrl-C (SIGINT: one line, nothing half-written). A data file is
checked block by block before pandas parses it: no NUL byte, no line longer
than ``MAX_LINE_BYTES``. Output files are checked before any training and
written to a temporary file beside the target, then renamed into place.
"""

import argparse
import contextlib
import math
import os
import pickle
import statistics
import sys
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass

import numpy as np

PROG = "python -m skprune"
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
DEFAULT_SPARSITIES = (0.5, 0.9, 0.95)
TASKS = ("auto", "classification", "regression")
SCORES = {"classification": "accuracy", "regression": "R²"}
DEFAULT_PLOT = "skprune_tradeoff.png"
BASELINE = "random"
CLIP = 60
MAX_MESSAGE = 1000
MAX_LINE_BYTES = 10 * 2**20  # the longest line (row) of --data read
READ_BLOCK = 2**20  # bytes read at a time when checking --data
PANDAS_HINT = 'pip install "skprune[cli]"'
PLOT_HINT = 'pip install "skprune[plot]"'


class UsageError(Exception):
    """Bad command line or input: reported as one line, exit status 2."""


class Interrupt:
    """Ctrl-C while the command line runs: a SIGINT handler that stops the run.

    Estimators catch ``KeyboardInterrupt`` in ``fit`` and keep a truncated model
    (with a warning), which would only cut the current model short. The
    handler remembers the signal before raising ``KeyboardInterrupt`` as
    Python's own does; :meth:`check`, after each fit, raises it again, so the
    run ends (exit status 130) whatever ``fit`` did with it.

    Attributes
    ----------
    seen : bool
        Whether SIGINT came.
    saved : list of str
        The files written so far, for the last message.
    """

    def __init__(self):
        self.seen = False
        self.saved = []

    def __call__(self, signum, frame):
        self.seen = True
        raise KeyboardInterrupt

    def check(self):
        """Raise ``KeyboardInterrupt`` if SIGINT came, even if it was caught."""
        if self.seen:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def installed(self):
        """Handle SIGINT within the block (in the main thread only: Python's rule)."""
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.signal(signal.SIGINT, self)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)

    def message(self):
        """The one line said on Ctrl-C: what was saved, if anything."""
        if not self.saved:
            return "interrupted: nothing was saved"
        return f"interrupted: only {' and '.join(self.saved)} saved, nothing else"


class _Parser(argparse.ArgumentParser):
    # One line instead of argparse's usage block: the error says what to fix.
    def error(self, message):
        raise UsageError(f"{message} (see {PROG} --help)")


def _clip(value, width=CLIP):
    """``repr(value)`` cut to ``width`` characters: input is never echoed whole.

    Examples
    --------
    >>> _clip("x" * 10**6, width=12)
    "'xxxxxxxx..."
    """
    if isinstance(value, str):
        value = value[: width + 1]  # repr of a 100 MB cell would copy it
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _options(name):
    """The values a string parameter of PrunedMLPClassifier accepts, sorted."""
    from sklearn.utils._param_validation import StrOptions

    from skprune import PrunedMLPClassifier

    for constraint in PrunedMLPClassifier._parameter_constraints[name]:
        if isinstance(constraint, StrOptions):
            return sorted(constraint.options)
    raise KeyError(name)  # pragma: no cover - the parameter names are a contract


def _number(text, convert, low, high, closed, what):
    """``convert(text)`` if it lies in [low, high) (``closed``) or (low, high)."""
    try:
        value = convert(text)
    except ValueError:
        value = math.nan
    if not (low <= value if closed else low < value) or not value < high:
        raise argparse.ArgumentTypeError(f"must be {what}, got {_clip(text)}")
    return value


def _sparsity(text):
    if text == "auto":
        return text
    return _number(text, float, 0, 1, True, "a number in [0, 1) or 'auto'")


def _positive_int(text):
    return _number(text, int, 1, math.inf, True, "a positive integer")


def _seed(text):
    return _number(text, int, 0, 2**32, True, "an integer in [0, 2**32)")


def _fraction(text):
    return _number(text, float, 0, 1, False, "a number in (0, 1)")


@dataclass(frozen=True)
class Option:
    """One command-line option: its ``add_argument`` settings, as a table row.

    ``param`` names the PrunedMLPClassifier parameter the option sets; that
    parameter's string options are the choices (or ``choices`` gives them).
    ``exclusive`` options of a group exclude each other. A default other than
    None ends the help text.
    """

    flag: str
    help: str
    type: object = None
    default: object = None
    metavar: str = None
    nargs: str = None
    action: str = None
    param: str = None
    choices: tuple = None
    exclusive: bool = False

    @property
    def dest(self):
        return self.flag[2:].replace("-", "_")

    def settings(self):
        """Keyword arguments of ``add_argument``."""
        kwargs = dict(type=self.type, default=self.default, metavar=self.metavar)
        kwargs.update(nargs=self.nargs, action=self.action, help=self.help)
        if self.param is not None:
            kwargs["choices"] = _options(self.param)
        if self.choices is not None:
            kwargs["choices"] = list(self.choices)
        if self.default is not None:
            shown = self.default
            if isinstance(shown, tuple):
                shown = " ".join(str(v) for v in shown)
            kwargs["help"] = f"{self.help} (default: {shown})"
        return {k: v for k, v in kwargs.items() if v is not None}


# Groups of options, in the order ``--help`` lists them.
OPTIONS = {
    "data": (
        Option(
            "--data",
            "CSV file with a header row and one row per sample; every column but "
            "--target must be numeric (default: scikit-learn's digits; needs pandas)",
            metavar="FILE.csv",
        ),
        Option(
            "--target",
            "name of the target column of --data: class labels, or numbers to predict",
            metavar="COLUMN",
        ),
        Option(
            "--task",
            "what --target holds: 'auto' is regression for non-integer numbers "
            "(sklearn's type_of_target 'continuous'), classification otherwise; "
            "regression compares PrunedMLPRegressor with MLPRegressor by R²",
            default="auto",
            choices=TASKS,
        ),
        Option(
            "--test-size",
            "share of the samples held out for testing",
            type=_fraction,
            default=0.25,
            metavar="F",
        ),
    ),
    "model": (
        Option(
            "--sparsity",
            "target sparsities in [0, 1), or 'auto'",
            type=_sparsity,
            default=DEFAULT_SPARSITIES,
            metavar="S",
            nargs="+",
        ),
        Option("--pruning", "pruning criterion", default="magnitude", param="pruning"),
        Option(
            "--schedule",
            "pruning schedule",
            default="gradual",
            param="pruning_schedule",
        ),
        Option("--scope", "pruning scope", default="layer", param="pruning_scope"),
        Option(
            "--granularity",
            "prune single weights or whole hidden units",
            default="weight",
            param="granularity",
        ),
        Option(
            "--hidden-layer-sizes",
            "hidden layer sizes of both networks",
            type=_positive_int,
            default=(100,),
            metavar="N",
            nargs="+",
        ),
        Option(
            "--max-iter",
            "training epochs of both networks",
            type=_positive_int,
            default=200,
            metavar="N",
        ),
        Option(
            "--no-baseline",
            "do not train the random-pruning baseline",
            action="store_true",
        ),
        Option(
            "--threads",
            "BLAS/OpenMP threads for both models (default: the libraries' own "
            "choice); 1 avoids threads competing for a busy machine's cores",
            type=_positive_int,
            metavar="N",
        ),
        Option(
            "--seed",
            "random seed of the split and of every model",
            type=_seed,
            default=0,
            metavar="N",
        ),
    ),
    "output": (
        Option(
            "--plot",
            f"where to save the score-vs-sparsity plot (default: {DEFAULT_PLOT}; "
            "needs matplotlib)",
            metavar="PATH",
            exclusive=True,
        ),
        Option("--no-plot", "do not save a plot", exclusive=True, action="store_true"),
        Option(
            "--save",
            "save the pruned model of the last --sparsity, with its scaler, as a "
            "skops file (needs skops)",
            metavar="PATH",
        ),
        Option("--quiet", "no progress messages on stderr", action="store_true"),
    ),
}


def build_parser():
    """The argument parser: one ``add_argument`` per row of ``OPTIONS``."""
    from skprune import __version__

    parser = _Parser(
        prog=PROG,
        description=(
            "Train scikit-learn's MLPClassifier and skprune's PrunedMLPClassifier "
            "(MLPRegressor and PrunedMLPRegressor for a regression) on the same "
            "data and compare accuracy (R²), sparsity, size and speed. Without "
            "--data, uses the digits data bundled with scikit-learn."
        ),
        epilog=(
            "Exit status: 0 on success, 2 for bad usage or input, 130 when "
            "interrupted (Ctrl-C; nothing is saved). "
            "Example: python -m skprune --data iris.csv --target species "
            "--sparsity 0.8 0.9"
        ),
    )
    parser.add_argument("--version", action="version", version=f"skprune {__version__}")
    for title, options in OPTIONS.items():
        group = parser.add_argument_group(title)
        exclusive = None
        for option in options:
            if option.exclusive and exclusive is None:
                exclusive = group.add_mutually_exclusive_group()
            into = exclusive if option.exclusive else group
            into.add_argument(option.flag, **option.settings())
    return parser


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------


def load_digits_data():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X, y, "digits"


# Missing values, once a cell's surrounding spaces are gone and case ignored;
# pandas' own NA words ("NaN", "#N/A", "<NA>", ...) are missing values too.
_MISSING = ("", "na", "nan", "null", "none", "n/a")


def _is_missing(cell):
    import pandas as pd

    return pd.isna(cell) or (isinstance(cell, str) and cell.strip().lower() in _MISSING)


def _read_header(path, read_csv):
    """The column names of the file's first non-blank line, spaces stripped."""
    import pandas as pd

    try:
        first = read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise UsageError(
            f"{path} is empty: expected a header row and data rows"
        ) from None
    names = [name.strip() for name in first.iloc[0]]
    seen = set()
    for name in names:
        if name in seen:
            raise UsageError(
                f"{path} has two columns named {_clip(name)}: column names must "
                "be distinct"
            )
        seen.add(name)
    return names


def _split_columns(columns, target, path):
    if target not in columns:
        shown = ", ".join(_clip(c, 30) for c in columns[:10])
        more = f", ... ({len(columns)} columns)" if len(columns) > 10 else ""
        raise UsageError(
            f"column {_clip(target)} not found in {path}; its columns are: "
            f"{shown}{more}"
        )
    features = [c for c in columns if c != target]
    if not features:
        raise UsageError(f"{path} has no feature column besides {_clip(target)}")
    return features


def _features(df, features, path):
    """The feature columns as floats; a UsageError names the first bad cell."""
    import pandas as pd

    columns = []
    for name in features:
        values = df[name]
        if pd.api.types.is_bool_dtype(values):  # True/False are not numbers
            columns.append(np.full(len(values), np.nan))
        elif pd.api.types.is_numeric_dtype(values):
            columns.append(values.to_numpy(dtype=np.float64))
        else:  # text: padded numbers, padded missing-value words, or words
            numbers = pd.to_numeric(values.str.strip(), errors="coerce")
            columns.append(numbers.to_numpy(dtype=np.float64))
    X = np.column_stack(columns)
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        row, col = bad[0]  # the first in reading order
        cell, column = df[features[col]].iloc[row], _clip(features[col])
        if np.isnan(X[row, col]) and not _is_missing(cell):
            raise UsageError(
                f"feature column {column} of {path} is not numeric (data row "
                f"{row + 1}: {_clip(str(cell).strip())}); encode it as numbers or "
                "remove the column"
            )
        raise UsageError(
            f"feature column {column} of {path} has a missing or infinite value "
            f"(data row {row + 1}); impute or remove such values first"
        )
    return X


def _target_text(values, target, path):
    """The target column's cells, spaces stripped; a UsageError for a missing one."""
    text = values.str.strip()
    missing = np.flatnonzero(text.isna() | text.str.lower().isin(_MISSING))
    if missing.size:
        raise UsageError(
            f"target column {_clip(target)} of {path} has a missing value (data "
            f"row {missing[0] + 1}); remove the rows without a label"
        )
    return text.to_numpy(dtype=object)


def _labels(text):
    """Class labels: numbers when every label is one, exactly, else the text."""
    import pandas as pd

    numbers = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(np.float64)
    # Numbers only when that keeps every label apart and exact: "01" and "1",
    # "inf", "True" or integers beyond 2**53 stay text.
    if not np.isfinite(numbers).all():
        return text
    if np.unique(numbers).size != np.unique(text).size:
        return text
    if np.all(numbers == np.round(numbers)):
        if np.abs(numbers).max() >= 2**53:
            return text
        return numbers.astype(np.int64)
    return numbers


def _regression_targets(text, target, path):
    """Regression targets as floats; a UsageError names the first bad cell."""
    import pandas as pd

    numbers = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(numbers))
    if bad.size:
        row = bad[0]
        kind = "infinite" if np.isinf(numbers[row]) else "not numeric"
        raise UsageError(
            f"target column {_clip(target)} of {path} is {kind} (data row "
            f"{row + 1}: {_clip(text[row])}): a regression needs finite numbers; "
            "use --task classification for class labels"
        )
    if np.ptp(numbers) == 0:
        raise UsageError(
            f"target column {_clip(target)} of {path} has a single value "
            f"({numbers[0]:.6g}): a regression needs a target that varies"
        )
    return numbers


def resolve_task(y, task="auto"):
    """``task``, or for ``"auto"`` the task ``y`` calls for.

    Regression when scikit-learn's ``type_of_target(y)`` is ``"continuous"``
    or ``"continuous-multioutput"`` (numbers that are not all integers),
    classification otherwise.

    Examples
    --------
    >>> resolve_task(np.array([0.5, 1.7, 2.0]))
    'regression'
    >>> resolve_task(np.array([1, 2, 2])), resolve_task(np.array(["a", "b"]))
    ('classification', 'classification')
    >>> resolve_task(np.array([1, 2, 2]), "regression")
    'regression'
    """
    from sklearn.utils.multiclass import type_of_target

    if task != "auto":
        return task
    if type_of_target(y) in ("continuous", "continuous-multioutput"):
        return "regression"
    return "classification"


def _longest_line(chunk, carried):
    """The longest line of a block of a file: ``(index, length, last length)``.

    ``carried`` bytes of the block's first line came in earlier blocks. Line
    ``k`` of the block follows its ``k``-th newline; the last line goes on in
    the next block, so its length is what the next call carries.

    Examples
    --------
    >>> _longest_line(b"ab\\ncdef\\ng", carried=0)
    (1, 4, 1)
    >>> _longest_line(b"b\\ncd", carried=5)
    (0, 6, 2)
    """
    ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == ord("\n"))
    starts = np.concatenate(([0], ends + 1))
    lengths = np.append(ends, len(chunk)) - starts
    lengths[0] += carried
    k = int(np.argmax(lengths))
    return k, int(lengths[k]), int(lengths[-1])


def _check_text_file(path, max_line=MAX_LINE_BYTES, block=READ_BLOCK):
    """Refuse, reading ``block`` bytes at a time, a file pandas should not parse.

    A NUL byte (a binary file, or UTF-16 text) or a line longer than
    ``max_line`` bytes is a UsageError; memory stays within a few blocks
    whatever the file holds.
    """
    line, carried, offset = 1, 0, 0  # the block's first line: number, bytes before
    with open(path, "rb") as file:
        while chunk := file.read(block):
            nul = chunk.find(b"\0")
            if nul >= 0:
                raise UsageError(
                    f"cannot read {path}: it is not UTF-8 text (a NUL byte at byte "
                    f"{offset + nul}: a binary file, or UTF-16); save it as a "
                    "UTF-8 CSV file"
                )
            k, longest, carried = _longest_line(chunk, carried)
            if longest > max_line:
                raise UsageError(
                    f"line {line + k} of {path} is longer than "
                    f"{max_line / 2**20:g} MiB, the most one row may hold: is it "
                    "a CSV table with one sample per line? Remove or split that "
                    "line"
                )
            line += chunk.count(b"\n")
            offset += len(chunk)


def load_csv(path, target, task="auto"):
    """Read features and target from a CSV file with a header row, with pandas.

    Spaces around a cell or a column name are ignored. Empty, NA, NaN, null,
    None and n/a cells (any case) and pandas' other NA words are missing values,
    which no column may have. Labels are read as written and become numbers only
    when every label converts exactly and distinct labels stay distinct; a
    regression target (see :func:`resolve_task`) is read as floats.

    Parameters
    ----------
    path : str
        The CSV file, UTF-8.
    target : str
        Name of the column holding the target; every other column is a
        feature and must be numeric.
    task : {"auto", "classification", "regression"}, default="auto"
        What the target is: class labels, or numbers to predict; ``"auto"``
        decides by :func:`resolve_task`.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Class labels, or floats for a regression.
    name : str
        The file's base name.

    Raises
    ------
    UsageError
        With a one-line message, for pandas not installed, a missing file, a
        file that is not CSV (a NUL byte, a line longer than
        ``MAX_LINE_BYTES``, not UTF-8), duplicate column names, a missing
        column, a non-numeric or missing feature value, a missing label,
        labels that are not classes, or a regression target that is not
        numbers.
    """
    X, y, name, _ = _read_csv(path, target, task)
    return X, y, name


def _read_csv(path, target, task):
    """:func:`load_csv`'s ``(X, y, name)`` and the names of the columns of ``X``."""
    if not os.path.exists(path):
        raise UsageError(f"data file not found: {path}")
    if not os.path.isfile(path):
        raise UsageError(f"--data must be a file, {path} is not")
    _check_text_file(path)
    if not _has_module("pandas"):
        raise UsageError(f"--data needs pandas, which is not installed: {PANDAS_HINT}")
    import pandas as pd

    def read_csv(*args, **kwargs):
        return pd.read_csv(*args, skipinitialspace=True, encoding="utf-8", **kwargs)

    try:
        names = _read_header(path, read_csv)
        features = _split_columns(names, target, path)
        with warnings.catch_warnings():
            # A first data row longer than the header: pandas would drop cells.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = read_csv(
                path,
                header=0,
                low_memory=False,  # one type per column, not one per chunk
                names=list(range(len(names))),
                index_col=False,
                dtype={names.index(target): str},  # "01" and "True" as written
            )
    except UnicodeDecodeError:
        raise UsageError(f"cannot read {path}: it is not UTF-8 text") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        reason = " ".join(str(exc).split())[:200]
        if isinstance(exc, pd.errors.ParserWarning):
            reason = "a data row has more fields than the header"
        raise UsageError(f"cannot read {path} as CSV: {reason}") from None
    if len(df) == 0:
        raise UsageError(f"{path} has a header row but no data rows")
    df.columns = names
    X = _features(df, features, path)
    text = _target_text(df[target], target, path)
    y = _labels(text)
    if resolve_task(y, task) == "regression":
        y = _regression_targets(text, target, path)
    else:
        _check_labels(y, target, path)
    return X, y, os.path.basename(path), features


def _check_labels(y, target, path):
    from sklearn.utils.multiclass import type_of_target

    if type_of_target(y) == "continuous":
        raise UsageError(
            f"target column {_clip(target)} of {path} holds continuous values (e.g. "
            f"{y[0].item()!r}): a classifier needs class labels; --task regression "
            "(or auto) predicts numbers"
        )
    if np.unique(y).size < 2:
        raise UsageError(
            f"target column {_clip(target)} of {path} has a single class; a "
            "classifier needs at least two"
        )


def _check_class_counts(y):
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        rare = classes[np.argmin(counts)]
        rare = rare.item() if isinstance(rare, np.generic) else rare
        raise UsageError(
            f"class {_clip(rare)} has a single sample: every class needs at least two, "
            "one to train on and one to test on"
        )


def _frame(X, columns):
    """``X`` as a DataFrame with those column names, or ``X`` for no names."""
    if columns is None:
        return X
    import pandas as pd

    return pd.DataFrame(X, columns=list(columns), copy=False)


def split_data(X, y, test_size, seed, task="classification", columns=None):
    """Train/test split, standardized on the training part.

    Stratified by class for a classification; a plain shuffled split for a
    regression (the target is left as it is). With ``columns``, the names of
    the features, the scaler is fitted on a DataFrame: a pipeline starting with
    it knows its columns (``feature_names_in_``) and checks them in ``predict``.
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    stratify = None
    if task == "classification":
        _check_class_counts(y)
        stratify = y
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=test_size, stratify=stratify, random_state=seed
        )
    except ValueError as exc:
        reason = str(exc).strip().splitlines()[0]
        raise UsageError(
            f"cannot split {len(y)} samples into train and test sets: {reason}"
        ) from None
    with np.errstate(over="ignore", invalid="ignore"):
        scaler = StandardScaler().fit(_frame(X_train, columns))
        X_train = scaler.transform(_frame(X_train, columns))
        X_test = scaler.transform(_frame(X_test, columns))
    if not (np.isfinite(X_train).all() and np.isfinite(X_test).all()):
        raise UsageError(
            f"the features are too large to standardize (largest magnitude "
            f"{np.abs(X).max():.3g}): rescale them, e.g. to their logarithm"
        )
    return scaler, X_train, X_test, y_train, y_test


# ----------------------------------------------------------------------------
# Models and measurements
# ----------------------------------------------------------------------------


def estimator_classes(task):
    """``(scikit-learn's dense MLP, skprune's pruned one)`` for ``task``."""
    if task == "regression":
        from sklearn.neural_network import MLPRegressor

        from skprune import PrunedMLPRegressor

        return MLPRegressor, PrunedMLPRegressor
    from sklearn.neural_network import MLPClassifier

    from skprune import PrunedMLPClassifier

    return MLPClassifier, PrunedMLPClassifier


def make_models(args, task="classification"):
    """The models compared, as ``(name, target sparsity, estimator)`` triples.

    The one place that builds estimators: the dense reference first (target
    None), then one pruned model per criterion and ``--sparsity``, its pruning
    settings taken from the options with a ``param`` in ``OPTIONS``. ``task``
    picks the pair of classes (:func:`estimator_classes`).
    """
    dense_class, pruned_class = estimator_classes(task)
    common = dict(
        hidden_layer_sizes=tuple(args.hidden_layer_sizes),
        max_iter=args.max_iter,
        random_state=args.seed,
    )
    pruning = {
        o.param: getattr(args, o.dest)
        for group in OPTIONS.values()
        for o in group
        if o.param
    }
    models = [(dense_class.__name__, None, dense_class(**common))]
    criteria = [args.pruning]
    if not args.no_baseline and args.pruning != BASELINE:
        criteria.append(BASELINE)
    for criterion in criteria:
        name = f"pruned {criterion}" + (
            " (baseline)" if criterion != args.pruning else ""
        )
        for sparsity in args.sparsity:
            settings = {**pruning, "pruning": criterion, "sparsity": sparsity}
            estimator = pruned_class(**common, **settings)
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


def measure(model, X_train, y_train, X_test, y_test, interrupt=None):
    """Fit ``model`` and measure it; a dict of the table's columns and more.

    With an :class:`Interrupt`, a Ctrl-C that ``fit`` caught (keeping a
    truncated model) raises ``KeyboardInterrupt`` once ``fit`` returns, and
    its warning is dropped.
    """
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
        if interrupt is not None:
            interrupt.check()
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
        "score": model.score(X_test, y_test),  # accuracy, or R² (regressors)
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
    SCORES["classification"],  # the score column: SCORES[task]
    "sparsity",
    "hidden",
    "pickle (KiB)",
    "fit (s)",
    "predict (ms)",
)


def _with_ratio(value, reference, fmt):
    ratio = value / reference if reference else math.nan
    return f"{value:{fmt}} ({ratio:.2f}x)"


def format_table(rows, task="classification"):
    """Plain-text table; each measure also as a ratio against the dense model.

    The score column is ``SCORES[task]``: accuracy, or R² for a regression.
    """
    columns = (*COLUMNS[:2], SCORES[task], *COLUMNS[3:])
    dense = rows[0][2]
    lines = []
    cells = []
    for name, target, m in rows:
        cells.append(
            (
                name,
                "-" if target is None else str(target),
                _with_ratio(m["score"], dense["score"], ".4f"),
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
    widths = [max(len(r[i]) for r in (columns, *cells)) for i in range(len(columns))]
    for r in (columns, *cells):
        left, right = r[:2], r[2:]
        text = [c.ljust(w) for c, w in zip(left, widths)]
        text += [c.rjust(w) for c, w in zip(right, widths[2:])]
        lines.append("  ".join(text).rstrip())
    return "\n".join(lines)


def save_plot(path, rows, args, data_name, task="classification"):
    """The score against achieved sparsity, with the dense score and the baseline."""
    from matplotlib.figure import Figure

    from skprune.plot import plot_sparsity_tradeoff

    score = SCORES[task]

    def curve(name):
        points = [(m["sparsity"], m["score"]) for n, _, m in rows if n == name]
        return ([p[0] for p in points], [p[1] for p in points]) if points else None

    main_name = rows[1][0]
    baseline = next((curve(n) for n, _, _ in rows[1:] if n != main_name), None)
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.subplots()
    plot_sparsity_tradeoff(
        {f"{args.pruning}, {args.schedule} schedule": curve(main_name)},
        dense_score=rows[0][2]["score"],
        baseline=baseline,
        ax=ax,
        score_label=f"test {score}",
    )
    ax.set_title(f"{data_name}: test {score} against achieved sparsity", fontsize=11)
    extension = os.path.splitext(path)[1].lstrip(".").lower()  # see _plot_file
    with _atomic_file(path, "--plot") as file:
        fig.savefig(file, format=extension, dpi=100)


def save_model(path, scaler, estimator):
    """Save ``make_pipeline(scaler, estimator)`` as a skops file, atomically."""
    import skops.io
    from sklearn.pipeline import make_pipeline

    with _atomic_file(path, "--save") as file:
        # Deflate: the schema.json (fitted attributes as JSON) compresses well.
        skops.io.dump(
            make_pipeline(scaler, estimator), file, compression=zipfile.ZIP_DEFLATED
        )


def _new_file_mode():
    """The permissions ``open(path, "w")`` gives a new file: 0o666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def _atomic_file(path, option):
    """A binary file to write, renamed to ``path`` once the block completes.

    The file is a temporary one in ``path``'s folder: ``path`` is either left as
    it was (the block failed or was interrupted; the temporary file is removed)
    or replaced whole. An ``OSError`` is a UsageError naming ``option``.
    """
    folder, name = os.path.split(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(
            dir=folder, prefix=f".{name[:64]}.", suffix=".part"
        )
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write it ({exc})") from None
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _new_file_mode())
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise UsageError(f"{option} {path}: cannot write it ({exc})") from None
        raise


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
    """Refuse, before any training, an output file that could not be written.

    A folder, a missing folder, a path under a file, or a folder where no file
    can be created (a temporary one is made and removed to find out).
    """
    if not path:
        raise UsageError(f"{option} needs a file name")
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: expected a file name, not a folder")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        what = (
            f"{folder} is a file, not a folder"
            if os.path.exists(folder)
            else f"folder {folder} does not exist"
        )
        raise UsageError(f"{option} {path}: {what}")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(
            f"{option} {path}: cannot write in folder {folder} ({reason})"
        ) from None


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


def _plot_path(args, progress):
    """Where the plot goes, or None: no plot asked for, or matplotlib missing."""
    if args.no_plot:
        return None
    path = DEFAULT_PLOT if args.plot is None else args.plot
    _check_output_path(path, "--plot")
    if _has_module("matplotlib"):
        return _plot_file(path)
    if args.plot is not None:
        raise UsageError(
            f"--plot needs matplotlib, which is not installed: {PLOT_HINT}"
        )
    progress(f"no plot: matplotlib is not installed ({PLOT_HINT})")
    return None


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------


def _check_args(args):
    """Refuse, before any work, options that do not go together."""
    if (args.data is None) != (args.target is None):
        raise UsageError(
            "--data and --target go together: --data FILE.csv --target COLUMN"
        )
    if args.data is None and args.task == "regression":
        raise UsageError(
            "--task regression needs --data FILE.csv --target COLUMN: the "
            "built-in digits demo is a classification"
        )
    if args.save is not None:
        if not _has_module("skops"):
            raise UsageError(
                "--save needs skops, which is not installed: "
                'pip install "skprune[skops]"'
            )
        _check_output_path(args.save, "--save")


def load_data(args):
    """``(X, y, data name, task, feature names)``: digits, or ``--data``.

    The feature names are the CSV's column names, None for digits.
    """
    if args.data is None:
        X, y, data_name = load_digits_data()
        columns = None
    else:
        X, y, data_name, columns = _read_csv(args.data, args.target, args.task)
    return X, y, data_name, resolve_task(y, args.task), columns


def _describe(data_name, X, y, task):
    target = (
        f"{np.unique(y).size} classes"
        if task == "classification"
        else f"a numeric target from {y.min():.4g} to {y.max():.4g} (regression)"
    )
    return f"data: {data_name}: {X.shape[0]} samples, {X.shape[1]} features, {target}"


def fit_models(models, data, args, progress, score, interrupt=None):
    """Fit and measure each model in turn; one ``(name, target, measures)`` each.

    ``interrupt`` (an :class:`Interrupt`) stops the loop on Ctrl-C.
    """
    rows = []
    with _thread_limit(args.threads):
        for k, (name, target, model) in enumerate(models, start=1):
            label = name if target is None else f"{name}, sparsity={target}"
            progress(f"[{k}/{len(models)}] fitting {label} ...")
            try:
                m = measure(model, *data, interrupt=interrupt)
            except ValueError as exc:
                # The estimator's own message, e.g. a sparsity too high for a layer.
                raise UsageError(
                    f"{label}: {str(exc).strip().splitlines()[0]}"
                ) from None
            note = "" if m["converged"] else f" (stopped at max_iter={args.max_iter})"
            progress(
                f"      {m['fit_seconds']:.2f} s, {m['n_iter']} iterations{note}, "
                f"test {score} {m['score']:.4f}, sparsity {m['sparsity']:.3f}"
            )
            rows.append((name, target, m))
    return rows


def run(args, err, interrupt=None):
    """Check, load, fit, print the table, save; return the exit status.

    ``interrupt`` (an :class:`Interrupt`) stops the fits on Ctrl-C and records
    the files saved.
    """
    interrupt = Interrupt() if interrupt is None else interrupt

    def progress(text):
        if not args.quiet:
            print(text, file=err, flush=True)

    _check_args(args)
    plot_path = _plot_path(args, progress)
    X, y, data_name, task, columns = load_data(args)
    scaler, X_train, X_test, y_train, y_test = split_data(
        X, y, args.test_size, args.seed, task, columns
    )
    print(
        f"{_describe(data_name, X, y, task)}; {len(y_train)} for training, "
        f"{len(y_test)} for testing"
    )

    models = make_models(args, task)
    score = SCORES[task]
    data = (X_train, y_train, X_test, y_test)
    rows = fit_models(models, data, args, progress, score, interrupt)

    print()
    print(format_table(rows, task))
    print()
    print(
        f"Ratios in brackets are against {models[0][0]} (test {score}; sizes; times)."
    )
    print(
        "sparsity: share of the dense network's weights removed (achieved, all "
        "layers); hidden: hidden layer sizes after pruning."
    )

    if plot_path is not None:
        save_plot(plot_path, rows, args, data_name, task)
        plot_path = os.path.abspath(plot_path)
        interrupt.saved.append(f"the plot ({plot_path})")
        print(f"plot saved to {plot_path}")
    if args.save is not None:
        # The main criterion's model at the last sparsity given.
        name, target, estimator = [t for t in models if t[0] == models[1][0]][-1]
        save_model(args.save, scaler, estimator)
        interrupt.saved.append(f"the model ({os.path.abspath(args.save)})")
        print(
            f"model ({name}, sparsity={target}, with its StandardScaler) saved to "
            f"{os.path.abspath(args.save)}; load it with "
            "skops.io.load(path, trusted=skprune.TRUSTED_TYPES)"
        )
    return EXIT_OK


def _one_line(message):
    """``message`` on one line of at most ``MAX_MESSAGE`` characters."""
    message = " ".join(str(message).splitlines())
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return message


def main(argv=None):
    """Run the command line; return the exit status.

    0 on success, 2 for bad usage or input, 130 when interrupted (SIGINT,
    Ctrl-C): each error is one line on stderr, without a traceback.
    """
    err = sys.stderr
    interrupt = Interrupt()
    try:
        with interrupt.installed():
            args = build_parser().parse_args(argv)
            return run(args, err, interrupt)
    except UsageError as exc:
        # One bounded line whatever the input: argparse and pandas echo it too.
        print(f"{PROG}: error: {_one_line(exc)}", file=err)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: {_one_line(interrupt.message())}", file=err)
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
