"""The table builder of ``benchmarks/bench_sparse_tabular.py``: which network
each row fits (a row fitting the wrong network would go unnoticed in a
results file)."""

import argparse
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    if not (BENCHMARKS / "bench_sparse_tabular.py").exists():
        pytest.skip("benchmarks/ is not in this checkout")
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_sparse_tabular
    finally:
        sys.path.remove(str(BENCHMARKS))
    return bench_sparse_tabular


def _fitted_shapes(jobs):
    """Per row: its kind, sparsity and the hidden sizes of the model it builds."""
    out = []
    for job in jobs:
        model = job["make"](0)
        out.append(
            (
                job["kind"],
                job["sparsity"],
                tuple(model.hidden_layer_sizes),
                job["hidden"],
            )
        )
    return out


@pytest.mark.parametrize("hidden", [(100,), (300,), (20, 10)])
def test_every_row_builds_the_network_it_reports(bench, hidden):
    jobs, n_dense = bench.make_jobs(
        [0.9, 0.95], [{}, {"pruning_scope": "erk"}], 16, 26, 5, hidden
    )
    assert n_dense == bench.coef_count(16, hidden, 26)
    for kind, sparsity, built, reported in _fitted_shapes(jobs):
        assert built == tuple(reported)
        if kind in ("dense", "pruned"):
            assert built == hidden
        else:
            assert kind == "equal"
            assert built == bench.equal_nonzeros_hidden(
                16, hidden, 26, (1 - sparsity) * n_dense
            )
            assert built != hidden
    kinds = [job["kind"] for job in jobs]
    assert kinds == ["dense"] + ["equal", "pruned", "pruned"] * 2


def test_one_hidden_layer_scales_to_the_kept_share(bench):
    # h' = round((1 - s) h) for one layer: 420 of 4200 weights at (100,).
    assert bench.equal_nonzeros_hidden(16, (100,), 26, 420) == (10,)
    assert bench.equal_nonzeros_hidden(16, (3000,), 26, 12600) == (300,)


def test_pruned_rows_get_the_sparsity_and_config(bench):
    jobs, _ = bench.make_jobs([0.95], [{"pruning_scope": "erk"}], 16, 26, 7, (50,))
    (pruned,) = [job for job in jobs if job["kind"] == "pruned"]
    model = pruned["make"](3)
    assert model.sparsity == 0.95
    assert model.pruning_scope == "erk"
    assert model.max_iter == 7
    assert model.random_state == 3


@pytest.mark.parametrize(
    "text", ['{"hidden_layer_sizes": [5]}', '{"sparsity": 0.5}', '{"max_iter": 3}']
)
def test_configs_may_not_set_what_the_benchmark_sets(bench, text):
    with pytest.raises(argparse.ArgumentTypeError, match="set by the benchmark"):
        bench.parse_config(text)
