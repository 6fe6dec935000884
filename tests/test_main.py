"""``python -m skprune``: the table it prints, the files it writes, its errors."""

import subprocess
import sys

import numpy as np
import pytest

from skprune.__main__ import UsageError, load_csv, main

# Small and quick: one sparsity, a narrow layer, a few epochs.
FAST = ["--quiet", "--no-plot", "--max-iter", "8", "--hidden-layer-sizes", "16"]
COLUMNS = [
    "model",
    "target",
    "accuracy",
    "sparsity",
    "hidden",
    "pickle (KiB)",
    "fit (s)",
    "predict (ms)",
]


def table(stdout):
    """The printed table as a header and rows of cells (split on 2+ spaces)."""
    import re

    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("model "))
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows[0], rows[1:]


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_digits_table_has_a_row_per_model_and_ratios_against_the_dense_one(capsys):
    code, out, err = run([*FAST, "--sparsity", "0.8"], capsys)
    assert code == 0
    assert err == ""  # --quiet: nothing on stderr
    assert "digits: 1797 samples, 64 features, 10 classes" in out
    header, rows = table(out)
    assert header == COLUMNS
    assert [r[:2] for r in rows] == [
        ["MLPClassifier", "-"],
        ["pruned magnitude", "0.8"],
        ["pruned random (baseline)", "0.8"],
    ]
    dense, pruned, _ = rows
    # Every measure is followed by its ratio against MLPClassifier.
    for cell in dense[2:3] + dense[5:]:
        assert cell.endswith("(1.00x)")
    for cell in pruned[2:3] + pruned[5:]:
        value, ratio = cell.split()
        float(value), float(ratio.strip("()x"))
    assert dense[3] == "0.000"
    sparsity = float(pruned[3])
    # The share of all the weights removed: the target, to the printed digits.
    assert sparsity == pytest.approx(0.8, abs=1e-3)
    assert int(pruned[4]) <= 16
    # The pruned model is stored sparse: its pickle is much smaller.
    pickle_ratio = float(pruned[5].split()[1].strip("()x"))
    assert pickle_ratio < 0.5


def test_progress_goes_to_stderr_unless_quiet(capsys):
    argv = [a for a in FAST if a != "--quiet"]
    code, out, err = run([*argv, "--sparsity", "0.5", "--no-baseline"], capsys)
    assert code == 0
    assert "[1/2] fitting MLPClassifier" in err
    assert "[2/2] fitting pruned magnitude, sparsity=0.5" in err
    assert "fitting" not in out
    _, rows = table(out)
    assert len(rows) == 2


def test_options_reach_the_estimator(capsys):
    argv = [*FAST, "--no-baseline", "--sparsity", "0.5", "0.7", "--threads", "1"]
    argv += ["--pruning", "obd", "--schedule", "oneshot", "--granularity", "neuron"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    _, rows = table(out)
    assert [r[:2] for r in rows[1:]] == [["pruned obd", "0.5"], ["pruned obd", "0.7"]]
    # Neuron granularity removes hidden units: 16 -> 8 and 16 -> 5.
    assert [r[4] for r in rows[1:]] == ["8", "5"]


def test_plot_is_saved_where_asked(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "tradeoff.png"
    argv = [a for a in FAST if a != "--no-plot"] + ["--sparsity", "0.5", "0.8"]
    code, out, _ = run([*argv, "--plot", str(path)], capsys)
    assert code == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot saved to {path}" in out


def test_plot_without_extension_is_a_png_and_says_so(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    argv = [a for a in FAST if a != "--no-plot"] + ["--sparsity", "0.5"]
    code, out, _ = run([*argv, "--no-baseline", "--plot", str(tmp_path / "t")], capsys)
    assert code == 0
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    assert f"plot saved to {tmp_path / 't.png'}" in out


def test_save_writes_a_skops_pipeline_that_predicts_raw_data(tmp_path, capsys):
    skops_io = pytest.importorskip("skops.io")
    from sklearn.datasets import load_digits

    import skprune

    path = tmp_path / "model.skops"
    argv = ["--quiet", "--no-plot", "--no-baseline", "--hidden-layer-sizes", "32"]
    argv += ["--max-iter", "40", "--sparsity", "0.3", "0.5", "--save", str(path)]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert f"saved to {path}" in out
    # What the printed hint says: skprune's types are all that needs trusting.
    assert "trusted=skprune.TRUSTED_TYPES" in out
    model = skops_io.load(path, trusted=skprune.TRUSTED_TYPES)
    _, rows = table(out)
    assert model[-1].sparsity_ == pytest.approx(float(rows[-1][3]), abs=1e-3)
    assert model[-1].sparsity_ == pytest.approx(0.5)  # the last --sparsity
    # The scaler is part of the saved pipeline: raw pixels are predicted well.
    X, y = load_digits(return_X_y=True)
    assert model.score(X, y) > 0.85


def test_save_without_skops_names_the_extra(tmp_path, capsys, monkeypatch):
    import skprune.__main__ as cli

    monkeypatch.setattr(cli, "_has_module", lambda name: name != "skops")
    code, out, err = run([*FAST, "--save", str(tmp_path / "m.skops")], capsys)
    assert code == 2
    assert out == ""  # refused before any training
    assert err.count("\n") == 1
    assert 'pip install "skprune[skops]"' in err


def test_without_matplotlib_the_table_comes_without_a_plot(capsys, monkeypatch):
    import skprune.__main__ as cli

    monkeypatch.setattr(cli, "_has_module", lambda name: name != "matplotlib")
    argv = ["--max-iter", "2", "--hidden-layer-sizes", "8", "--sparsity", "0.5"]
    code, out, err = run([*argv, "--no-baseline"], capsys)
    assert code == 0
    assert 'no plot: matplotlib is not installed (pip install "skprune[plot]")' in err
    assert "plot saved" not in out
    # Asking for a plot explicitly is an error, before any training.
    code, out, err = run([*FAST[:1], "--plot", "p.png"], capsys)
    assert code == 2 and out == ""
    assert 'pip install "skprune[plot]"' in err


@pytest.mark.parametrize(
    "labels, message",
    [
        ("xyzz", "class 'x' has a single sample"),
        ("aabbccddee", "cannot split 10 samples"),  # 3 test rows for 5 classes
    ],
)
def test_too_few_samples_to_split_is_bad_input(tmp_path, capsys, labels, message):
    rows = "".join(f"{i},{c}\n" for i, c in enumerate(labels))
    path = write(tmp_path, "a,label\n" + rows)
    code, _, err = run([*FAST, "--data", path, "--target", "label"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and message in err, err


# -- CSV input -----------------------------------------------------------------


def write(tmp_path, text, name="data.csv"):
    pytest.importorskip("pandas")  # --data reads tables with pandas
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def iris_csv(tmp_path):
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True).frame
    data["species"] = np.array(["setosa", "versicolor", "virginica"])[data["target"]]
    path = tmp_path / "iris.csv"
    data.drop(columns="target").to_csv(path, index=False)
    return str(path)


def test_own_csv_runs_end_to_end(tmp_path, capsys):
    path = iris_csv(tmp_path)
    argv = [*FAST, "--data", path, "--target", "species", "--sparsity", "0.5"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert "iris.csv: 150 samples, 4 features, 3 classes" in out
    _, rows = table(out)
    assert len(rows) == 3


def test_load_csv_reads_numbers_and_labels(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2.5,x\n3,-4,y\n5,6e-1,x\n")
    X, y, name = load_csv(path, "label")
    np.testing.assert_array_equal(X, [[1, 2.5], [3, -4], [5, 0.6]])
    assert list(y) == ["x", "y", "x"]
    assert name == "data.csv"
    # Integer labels stay integers.
    path = write(tmp_path, "f,c\n0.1,1\n0.2,0\n")
    assert load_csv(path, "c")[1].dtype.kind == "i"


PADDED_CSV = [
    # (text, expected labels or an error pattern)
    ("a, label\n1.0, x\n2.0,  y \n3, x\n", ["x", "y", "x"]),
    ("a ,label\n 1 , 0\n2,  1\n", [0, 1]),
    ('a, "label"\n 1, "x, y"\n2, z\n', ["x, y", "z"]),
    ("a,b, label\n1.0, NA ,x\n2.0,3,y\n", r"feature column 'b' .* missing"),
    ("a, label\n1.0, x\n2.0, y\n3, NA\n", r"target column 'label' .* missing"),
    ("a,b,label\n1,4,x\n2, oops ,y\n", r"not numeric \(data row 2: 'oops'\)"),
]


@pytest.mark.parametrize("text, expected", PADDED_CSV)
def test_spaces_around_cells_and_names_are_ignored(tmp_path, text, expected):
    path = write(tmp_path, text)
    if isinstance(expected, str):
        with pytest.raises(UsageError, match=expected):
            load_csv(path, "label")
    else:
        assert load_csv(path, "label")[1].tolist() == expected


@pytest.mark.parametrize("cell", ["", "NA", " nan ", "None", "NULL", "n/a", "#N/A"])
def test_missing_value_words_are_missing_values(tmp_path, cell):
    path = write(tmp_path, f"a,b,label\n1,2,x\n3,{cell},y\n")
    with pytest.raises(UsageError, match=r"'b' .* missing .* \(data row 2\)"):
        load_csv(path, "label")


BAD_CSV = [
    ("a,b,label\n1,2,x\n3,4,y\n", "species", r"column 'species' not found in .*"),
    ("a,b,label\n1,2,x\n3,oops,y\n", "label", r"feature column 'b' .* not numeric"),
    ("a,b,label\n1,True,x\n3,False,y\n", "label", r"'b' .* not numeric .*'True'"),
    ("a,b,label\n1,2,x\n3,,y\n", "label", r"feature column 'b' .* missing"),
    ("a,b,label\n1,2,x\n3,inf,y\n", "label", r"missing or infinite value"),
    ("a,b,label\n1,2,x\n3,4\n", "label", r"target column 'label' .* missing"),
    ("a,label\n1,x,7\n2,y\n", "label", r"more fields than the header"),
    ("a,label\n1,x\n2,y,7\n", "label", r"Expected 2 fields in line 3, saw 3"),
    ("a,label\n1,x\n2,\n", "label", r"target column 'label' .* missing"),
    ("a,label\n1,x\n2,NaN\n", "label", r"target column 'label' .* missing"),
    ("a,label\n1,x\n2,x\n", "label", r"single class"),
    ("a,a ,label\n1,2,x\n3,4,y\n", "label", r"two columns named 'a'"),
    ("", "label", r"is empty"),
    ("\n\n", "label", r"is empty"),
    ("a,label\n", "label", r"header row but no data rows"),
    ("label\nx\ny\n", "label", r"no feature column"),
]


@pytest.mark.parametrize("text, target, match", BAD_CSV)
def test_load_csv_errors_say_what_is_wrong(tmp_path, text, target, match):
    path = write(tmp_path, text)
    with pytest.raises(UsageError, match=match) as info:
        load_csv(path, target)
    assert "\n" not in str(info.value)


BAD_TARGETS = [
    # (text, --task, error pattern)
    ("a,label\n1,0.5\n2,1.7\n", "classification", r"continuous .*--task regression"),
    ("a,label\n1,3\n2, x\n", "regression", r"not numeric \(data row 2: 'x'\)"),
    ("a,label\n1,3\n2,True\n", "regression", r"not numeric .*--task classification"),
    ("a,label\n1,3\n2,-inf\n", "regression", r"'label' .* infinite \(data row 2"),
    ("a,label\n1,2\n2,2.0\n", "regression", r"single value \(2\)"),
    ("a,label\n1,2\n2,NA\n", "regression", r"'label' .* missing value"),
]


@pytest.mark.parametrize("text, task, match", BAD_TARGETS)
def test_targets_that_do_not_fit_the_task_are_refused(tmp_path, text, task, match):
    path = write(tmp_path, text)
    with pytest.raises(UsageError, match=match) as info:
        load_csv(path, "label", task)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "cells, task, expected",
    [
        (["0.5", "1.7", "2"], "auto", [0.5, 1.7, 2.0]),  # continuous: regression
        (["3", "1", "2"], "auto", [3, 1, 2]),  # integers: class labels
        (["01", " 1", "3"], "regression", [1.0, 1.0, 3.0]),  # numbers, as numbers
        (["0.5", "1.7", "0.5"], "classification", r"continuous values"),
    ],
)
def test_the_task_decides_how_the_target_is_read(tmp_path, cells, task, expected):
    rows = "".join(f"{i},{cell}\n" for i, cell in enumerate(cells))
    path = write(tmp_path, "a,label\n" + rows)
    if isinstance(expected, str):
        with pytest.raises(UsageError, match=expected):
            load_csv(path, "label", task)
        return
    y = load_csv(path, "label", task)[1]
    assert y.tolist() == expected
    assert all(type(a) is type(b) for a, b in zip(y.tolist(), expected))


def test_non_numeric_error_names_the_row_and_value(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,x\n3,oops,y\n")
    with pytest.raises(UsageError, match=r"data row 2: 'oops'"):
        load_csv(path, "label")


def test_a_word_deep_in_a_long_numeric_column_is_found(tmp_path, recwarn):
    # pandas reads long files in chunks; a column's type must not change midway.
    rows = "".join(f"{i},{i % 2}\n" for i in range(300_000))
    path = write(tmp_path, "a,label\n" + rows + "oops,1\n")
    with pytest.raises(UsageError, match=r"'a' .* \(data row 300001: 'oops'\)"):
        load_csv(path, "label")
    assert not recwarn.list  # no DtypeWarning on the way


def test_non_utf8_file_is_bad_input(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("a,label\n1,caf\xe9\n2,th\xe9\n".encode("latin-1"))
    with pytest.raises(UsageError, match="not UTF-8 text"):
        load_csv(str(path), "label")


def test_utf8_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("label,a\nx,1\ny,2\n".encode("utf-8-sig"))
    assert load_csv(str(path), "label")[1].tolist() == ["x", "y"]


def test_without_pandas_data_names_the_extra(tmp_path, capsys, monkeypatch):
    import skprune.__main__ as cli

    monkeypatch.setattr(cli, "_has_module", lambda name: name != "pandas")
    path = write(tmp_path, "a,label\n1,x\n2,y\n")
    code, out, err = run([*FAST, "--data", path, "--target", "label"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert 'pip install "skprune[cli]"' in err


# -- bad input: exit status 2 and one line -------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--data", "no/such/file.csv", "--target", "y"], "data file not found"),
        (["--sparsity", "1.5"], "argument --sparsity: must be a number in [0, 1)"),
        (["--sparsity", "dense"], "argument --sparsity"),
        (["--pruning", "largest"], "argument --pruning: invalid choice"),
        (["--max-iter", "0"], "argument --max-iter: must be a positive integer"),
        (["--data", "x.csv"], "--data and --target go together"),
        (["--task", "regression"], "--task regression needs --data"),
        (["--task", "ordinal"], "argument --task: invalid choice"),
        (["--plot", "no/such/dir/p.png"], "does not exist"),
        (["--plot", "tradeoff.xyz"], "matplotlib cannot write .xyz files"),
        (["--plot", "."], "expected a file name, not a folder"),
        (["--save", "."], "expected a file name, not a folder"),
        (["--save", ""], "--save needs a file name"),
        (["--no-such-option"], "unrecognized arguments"),
    ],
)
def test_bad_usage_exits_2_with_one_line(argv, message, capsys):
    code, out, err = run([*FAST[:1], *argv], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("python -m skprune: error: ")
    assert message in err


@pytest.mark.parametrize(
    "text, message",
    [
        ("a,b,label\n1,2,x\n3,4,y\n", "column 'species' not found"),
        ("a,b,species\n1,2,x\n3,zz,y\n", "feature column 'b'"),
    ],
)
def test_bad_csv_exits_2_with_one_line(tmp_path, text, message, capsys):
    path = write(tmp_path, text)
    code, out, err = run([*FAST, "--data", path, "--target", "species"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and message in err


def test_features_too_large_to_standardize_are_bad_input(tmp_path, capsys):
    rows = "".join(f"{(-1) ** i * 1e308},{i},{'xz'[i // 4]}\n" for i in range(8))
    path = write(tmp_path, "a,b,species\n" + rows)
    code, _, err = run([*FAST, "--data", path, "--target", "species"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "too large to standardize" in err


@pytest.mark.parametrize(
    "labels, expected",
    [
        (["inf", "1", "2"], ["inf", "1", "2"]),
        (["01", "1", "01"], ["01", "1", "01"]),
        (["1.0", "1", "2"], ["1.0", "1", "2"]),
        (["True", "False", "True"], ["True", "False", "True"]),
        (["12345678901234567890", "1", "1"], ["12345678901234567890", "1", "1"]),
        (["3", "1", " 2"], [3, 1, 2]),
    ],
)
def test_labels_become_numbers_only_when_exact(tmp_path, labels, expected):
    rows = "".join(f"{i},{label}\n" for i, label in enumerate(labels))
    y = load_csv(write(tmp_path, "a,label\n" + rows), "label")[1]
    assert y.tolist() == expected
    assert all(type(a) is type(b) for a, b in zip(y.tolist(), expected))


HUGE = "x" * 3_000_000


@pytest.mark.parametrize(
    "text, target, message",
    [
        (f"a,b,label\n1,2,x\n3,{HUGE},y\n", "label", "'b' of"),  # a huge cell
        (f"a,label\n1,{HUGE}\n2,y\n3,y\n", "label", "single sample"),  # a label
        (f"a,{HUGE},label\n1,2,x\n3,4,y\n", "species", "not found"),  # a name
        (f"a,{HUGE},label\n1,2,x\n3,no,y\n", "label", "not numeric"),
        (f"a,{HUGE},{HUGE}\n1,2,x\n3,4,y\n", "label", "two columns named"),
        ("a,label\n1,x\n2,y\n", HUGE, "not found"),  # a huge --target
    ],
)
def test_errors_never_echo_a_huge_value(tmp_path, capsys, text, target, message):
    path = write(tmp_path, text)
    code, out, err = run([*FAST, "--data", path, "--target", target], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err
    assert len(err) < 500, len(err)
    assert "xxx..." in err


def test_a_huge_option_value_is_not_echoed_whole(capsys):
    code, _, err = run(["--sparsity", HUGE], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "argument --sparsity" in err
    assert len(err) < 300
    code, _, err = run(["--pruning", HUGE], capsys)  # argparse's own message
    assert code == 2 and err.count("\n") == 1 and len(err) < 1100


def test_duplicate_column_names_exit_2_with_one_line(tmp_path, capsys):
    path = write(tmp_path, "a,b,a,label\n1,2,3,x\n4,5,6,y\n")
    code, out, err = run([*FAST, "--data", path, "--target", "label"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "two columns named 'a': column names must be distinct" in err


def test_too_high_sparsity_for_the_layers_warns_and_prunes_that_far(capsys):
    argv = ["--quiet", "--no-plot", "--max-iter", "2", "--hidden-layer-sizes", "2"]
    argv += ["--no-baseline", "--sparsity", "0.9", "--granularity", "neuron"]
    with pytest.warns(UserWarning, match="sparsity=0.9 cannot be reached"):
        code, out, _ = run(argv, capsys)
    assert code == 0
    _, rows = table(out)
    # One of the two hidden units is removed: half of the weights.
    assert rows[-1][:2] == ["pruned magnitude", "0.9"]
    assert float(rows[-1][3]) == pytest.approx(0.5) and rows[-1][4] == "1"


def test_help_returns_0(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    assert "--sparsity" in out and "--data" in out
    assert "--task {auto,classification,regression}" in out


def test_module_entry_point_sets_the_exit_status():
    result = subprocess.run(
        [sys.executable, "-m", "skprune", "--sparsity", "1.5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().endswith("(see python -m skprune --help)")


# -- regression ----------------------------------------------------------------


def friedman_csv(tmp_path, rounded=False):
    """A regression table: 10 numeric features and a numeric target ``y``."""
    from sklearn.datasets import make_friedman1

    X, y = make_friedman1(n_samples=160, random_state=0)
    y = np.round(y) if rounded else y
    columns = [f"x{i}" for i in range(X.shape[1])]
    rows = [",".join(f"{v:.17g}" for v in (*x, t)) for x, t in zip(X, y)]
    return write(tmp_path, ",".join([*columns, "y"]) + "\n" + "\n".join(rows) + "\n")


def test_numeric_target_is_a_regression_with_plot_and_saved_model(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    skops_io = pytest.importorskip("skops.io")
    import skprune

    path = friedman_csv(tmp_path)
    plot, model_file = tmp_path / "r2.png", tmp_path / "reg.skops"
    argv = [a for a in FAST if a != "--no-plot"] + ["--max-iter", "30"]
    argv += ["--data", path, "--target", "y", "--sparsity", "0.5"]
    argv += ["--plot", str(plot), "--save", str(model_file)]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert "data.csv: 160 samples, 10 features, a numeric target from" in out
    assert "(regression); 120 for training, 40 for testing" in out
    header, rows = table(out)
    assert header == [*COLUMNS[:2], "R²", *COLUMNS[3:]]
    assert [r[:2] for r in rows] == [
        ["MLPRegressor", "-"],
        ["pruned magnitude", "0.5"],
        ["pruned random (baseline)", "0.5"],
    ]
    assert rows[0][2].endswith("(1.00x)")
    assert "Ratios in brackets are against MLPRegressor (test R²;" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = skops_io.load(model_file, trusted=skprune.TRUSTED_TYPES)
    assert type(model[-1]) is skprune.PrunedMLPRegressor
    assert model[-1].sparsity_ == pytest.approx(float(rows[1][3]), abs=1e-3)
    # The saved pipeline takes raw features, by column name, and predicts numbers.
    import pandas as pd

    prediction = model.predict(pd.read_csv(path).drop(columns="y"))
    assert prediction.shape == (160,) and prediction.dtype.kind == "f"
    assert len(np.unique(prediction)) > 100


def test_forced_regression_on_integer_targets_splits_without_strata(tmp_path, capsys):
    path = friedman_csv(tmp_path, rounded=True)  # integers: classes under auto
    argv = [*FAST, "--data", path, "--target", "y", "--sparsity", "0.5"]
    code, _, err = run(argv, capsys)
    assert code == 2  # a class seen once cannot be stratified
    assert err.count("\n") == 1 and "has a single sample" in err
    code, out, _ = run([*argv, "--no-baseline", "--task", "regression"], capsys)
    assert code == 0
    header, rows = table(out)
    assert header[2] == "R²"
    assert [r[0] for r in rows] == ["MLPRegressor", "pruned magnitude"]
    float(rows[1][2].split()[0])  # an R² value


def test_regression_on_a_non_numeric_target_is_one_line(tmp_path, capsys):
    argv = [*FAST, "--data", iris_csv(tmp_path), "--target", "species"]
    code, out, err = run([*argv, "--task", "regression"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert (
        "target column 'species' of " in err
        and "is not numeric (data row 1: 'setosa')" in err
        and "use --task classification" in err
    )


# -- Ctrl-C: exit status 130, one line, nothing saved --------------------------


def test_ctrl_c_during_a_fit_stops_the_run_with_130_and_one_line(tmp_path):
    """A real SIGINT, while a pruned model trains in a ``python -m skprune``."""
    import os
    import signal
    import time

    saved = tmp_path / "model.skops"
    argv = ["--no-plot", "--hidden-layer-sizes", "32", "--max-iter", "300"]
    argv += ["--sparsity", "0.5", "0.9", "--save", str(saved), "--threads", "1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "skprune", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        progress = []
        # The dense fit, then a pruned one: skprune's fit is under way.
        while not (progress and progress[-1].startswith("[2/5] fitting pruned")):
            progress.append(process.stderr.readline())
            assert progress[-1], "the run ended before the pruned fit"
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, rest = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, (out, rest)
    assert rest == "python -m skprune: interrupted: nothing was saved\n"
    assert "Traceback" not in "".join(progress)
    assert "model (" not in out and "saved" not in out
    assert list(tmp_path.iterdir()) == []  # no model, no temporary file


def interrupted_mlp():
    """An MLPClassifier that gets SIGINT at its third epoch, which its fit catches."""
    import signal

    from sklearn.neural_network import MLPClassifier

    class InterruptedMLP(MLPClassifier):
        def _update_no_improvement_count(self, *args):
            if self.n_iter_ == 3:
                signal.raise_signal(signal.SIGINT)
            return super()._update_no_improvement_count(*args)

    return InterruptedMLP


def test_ctrl_c_caught_by_fit_still_stops_the_run(tmp_path, capsys, monkeypatch):
    import signal

    import skprune.__main__ as cli
    from skprune import PrunedMLPClassifier

    classes = (interrupted_mlp(), PrunedMLPClassifier)
    monkeypatch.setattr(cli, "estimator_classes", lambda task: classes)
    code, out, err = run([*FAST, "--save", str(tmp_path / "m.skops")], capsys)
    assert code == 130
    # One line: no "Training interrupted by user" warning, no traceback.
    assert err == "python -m skprune: interrupted: nothing was saved\n"
    assert "accuracy" not in out and list(tmp_path.iterdir()) == []
    # main puts Python's own handler back.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_while_saving_leaves_no_file_and_says_what_was_saved(
    tmp_path, capsys, monkeypatch
):
    pytest.importorskip("matplotlib")
    skops_io = pytest.importorskip("skops.io")
    import signal

    def dump(obj, file, **kwargs):
        file.write(b"PK half a model")
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(skops_io, "dump", dump)
    plot, model = tmp_path / "p.png", tmp_path / "m.skops"
    model.write_bytes(b"the previous model")
    argv = [a for a in FAST if a != "--no-plot"] + ["--sparsity", "0.5"]
    argv += ["--no-baseline", "--plot", str(plot), "--save", str(model)]
    code, out, err = run(argv, capsys)
    assert code == 130
    assert err == (
        f"python -m skprune: interrupted: only the plot ({plot}) saved, nothing else\n"
    )
    assert model.read_bytes() == b"the previous model"  # left as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.skops", "p.png"]


# -- output files: checked before training, written whole ----------------------


@pytest.mark.parametrize(
    "where, message",
    [
        ("file.txt/model.skops", "file.txt is a file, not a folder"),
        ("missing/model.skops", "missing does not exist"),
        (".", "expected a file name, not a folder"),
    ],
)
@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_unwritable_outputs_are_refused_before_training(
    tmp_path, capsys, monkeypatch, option, where, message
):
    pytest.importorskip("skops")
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("a file")
    argv = [a for a in FAST if a != "--no-plot"]
    if option == "--save":
        argv += ["--no-plot"]
    code, out, err = run([*argv, option, where], capsys)
    assert code == 2 and out == ""  # before any training
    assert err.count("\n") == 1 and message in err, err


def test_a_folder_where_no_file_can_be_made_is_refused(tmp_path, capsys, monkeypatch):
    # Tests may run as root, who can write in a read-only folder: fake the refusal.
    pytest.importorskip("skops")
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    code, out, err = run([*FAST, "--save", str(tmp_path / "m.skops")], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert f"cannot write in folder {tmp_path} (Permission denied)" in err


def test_a_failed_save_leaves_the_old_file_and_no_temporary(
    tmp_path, capsys, monkeypatch
):
    skops_io = pytest.importorskip("skops.io")

    def dump(obj, file, **kwargs):
        file.write(b"PK half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(skops_io, "dump", dump)
    model = tmp_path / "m.skops"
    model.write_bytes(b"the previous model")
    argv = [*FAST, "--sparsity", "0.5", "--no-baseline", "--save", str(model)]
    code, _, err = run(argv, capsys)
    assert code == 2
    assert err.count("\n") == 1 and "No space left on device" in err
    assert model.read_bytes() == b"the previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["m.skops"]


def test_the_saved_model_knows_the_csv_columns(tmp_path, capsys):
    skops_io = pytest.importorskip("skops.io")
    import warnings

    import pandas as pd

    import skprune

    path, model_file = iris_csv(tmp_path), tmp_path / "iris.skops"
    argv = [*FAST, "--data", path, "--target", "species", "--sparsity", "0.5"]
    code, _, _ = run([*argv, "--no-baseline", "--save", str(model_file)], capsys)
    assert code == 0
    model = skops_io.load(model_file, trusted=skprune.TRUSTED_TYPES)
    X = pd.read_csv(path).drop(columns="species")
    assert list(model.feature_names_in_) == list(X.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        labels = model.predict(X)
    assert set(labels) <= {"setosa", "versicolor", "virginica"}
    with pytest.raises(ValueError, match="feature names"):  # columns are checked
        model.predict(X[X.columns[::-1]])


# -- files from strangers: bounded memory, one short line ----------------------


def test_check_text_file_finds_a_long_line_across_blocks(tmp_path):
    from skprune.__main__ import _check_text_file

    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,2\n" + b"3" * 11 + b",4\n5,6\n")
    _check_text_file(path, max_line=13, block=4)  # 13 bytes: the longest line
    with pytest.raises(UsageError, match="line 3 of .* longer than"):
        _check_text_file(path, max_line=12, block=4)
    path.write_bytes(b"a,b\n" * 5 + b"1\x002\n")
    with pytest.raises(UsageError, match="a NUL byte at byte 21"):
        _check_text_file(path, block=4)


MEMORY_PROBE = """
import contextlib, io, json, resource, sys
import pandas, skprune.__main__ as cli

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

before, results = peak(), []
for path in sys.argv[1:]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(["--quiet", "--no-plot", "--data", path, "--target", "y"])
    results.append([code, err.getvalue()])
print(json.dumps({"growth_mib": (peak() - before) / 1024, "results": results}))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB: Linux")
def test_binary_files_and_huge_cells_are_refused_in_bounded_memory(tmp_path):
    pytest.importorskip("pandas")
    import json

    size = 30 * 2**20
    nul = tmp_path / "nul.csv"
    nul.write_bytes(bytes(size))
    cell = tmp_path / "cell.csv"
    with open(cell, "wb") as file:
        file.write(b"a,b,y\n1,2,x\n3,")
        file.write(b"7" * size)
        file.write(b",y\n4,5,x\n")
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(nul), str(cell)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (nul_code, nul_err), (cell_code, cell_err) = report["results"]
    assert nul_code == cell_code == 2
    assert nul_err.count("\n") == cell_err.count("\n") == 1
    assert len(nul_err) < 300 and len(cell_err) < 300
    assert "not UTF-8 text (a NUL byte at byte 0" in nul_err
    assert "line 3 of" in cell_err and "longer than 10 MiB" in cell_err
    # Neither file was read whole: reading either would take more than its 30 MiB.
    assert report["growth_mib"] < 15, report
