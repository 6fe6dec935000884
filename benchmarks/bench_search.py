"""Wall time of a 16-candidate GridSearchCV over pruning settings, three ways.

Serial (``n_jobs=1``), joblib's default process pool (``n_jobs=2``, loky), and
joblib's ``dask`` backend on a ``distributed.LocalCluster`` of 2 single-threaded
worker processes. Digits data, 3-fold CV. BLAS is limited to one thread in every
worker so that the parallel runs do not oversubscribe the 2 cores; the serial run
uses one thread too, for a like-for-like ratio.

The scheduling overhead is the wall time minus the ideal: the summed fit and score
time of all 48 fits divided by the number of workers.

    python benchmarks/bench_search.py [--repeats 3]
"""

import argparse
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from _common import environment, markdown_table, versions  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from skprune import PrunedMLPClassifier  # noqa: E402

GRID = {
    "sparsity": [0.5, 0.8, 0.9, 0.95],
    "pruning": ["magnitude", "random"],
    "pruning_schedule": ["gradual", "iterative"],
}


def _one_blas_thread():
    threadpool_limits(1)  # the limit object stays in the worker, not returned


def search(n_jobs):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    estimator = PrunedMLPClassifier((64,), max_iter=60, random_state=0)
    start = time.perf_counter()
    result = GridSearchCV(estimator, GRID, cv=3, n_jobs=n_jobs).fit(X, y)
    wall = time.perf_counter() - start
    work = float(
        np.sum(
            result.cv_results_["mean_fit_time"] + result.cv_results_["mean_score_time"]
        )
        * result.n_splits_
    )
    return wall, work, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)

    import distributed

    times = {"n_jobs=1": [], "n_jobs=2 (loky)": [], "dask, 2 workers": []}
    work = {name: [] for name in times}
    scores = {}
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(_one_blas_thread)
        for _ in range(args.repeats):
            with threadpool_limits(1):
                for name, backend, n_jobs in [
                    ("n_jobs=1", None, 1),
                    ("n_jobs=2 (loky)", "loky", 2),
                    ("dask, 2 workers", "dask", -1),
                ]:
                    if backend is None:
                        wall, spent, result = search(n_jobs)
                    else:
                        with joblib.parallel_backend(backend):
                            wall, spent, result = search(n_jobs)
                    times[name].append(wall)
                    work[name].append(spent)
                    scores[name] = result.cv_results_["mean_test_score"]

    print(environment())
    print(versions())
    print(
        f"GridSearchCV, {np.prod([len(v) for v in GRID.values()])} candidates x "
        f"3 folds on digits; median of {args.repeats} alternating runs\n"
    )
    serial = np.median(times["n_jobs=1"])
    rows = []
    for name, walls in times.items():
        wall = np.median(walls)
        workers = 1 if name == "n_jobs=1" else 2
        ideal = np.median(work[name]) / workers
        rows.append(
            [
                name,
                f"{wall:.2f}",
                f"{serial / wall:.2f}x",
                f"{ideal:.2f}",
                f"{wall - ideal:.2f}",
            ]
        )
    print(
        markdown_table(
            [
                "backend",
                "wall (s)",
                "speed-up vs n_jobs=1",
                "ideal (s)",
                "overhead (s)",
            ],
            rows,
        )
    )
    same = all(np.array_equal(scores["n_jobs=1"], s) for s in scores.values())
    print(f"\nidentical cv scores on every backend: {same}")


if __name__ == "__main__":
    main()
