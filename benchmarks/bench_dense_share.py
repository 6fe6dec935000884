"""Another benchmark with the dense phase's share of ``max_iter`` fixed.

The dense phase of a fixed-target schedule lasts until the stopping rule sees a
plateau, or at most ``dense_share(sparsity)`` of ``max_iter``: ``1 - sparsity``,
kept between ``DENSE_SHARE_MIN`` (0.2) and ``DENSE_SHARE_MAX`` (0.7)
(``skprune/_pruning/schedules.py``). This script runs one of the other
benchmarks with that share fixed instead, so that the rule can be compared with
a fixed share on the same data and seeds; ``--share 0.5`` is the rule it
replaced (half of ``max_iter`` at every target). Without ``--share`` it runs the
benchmark as it is.

Examples (``benchmarks/results/dense_share.md``)::

    python benchmarks/bench_dense_share.py --share 0.5 bench_defaults.py \\
        --data-dir ../shared/data --seeds 10 --sets iris vowel letter wine breast_cancer
    python benchmarks/bench_dense_share.py --share 0.5 bench_accuracy.py mnist \\
        --mnist ../shared/data/mnist.npz --epochs 30 --sparsities 0.98 --seeds 3 \\
        --skip-dense --params '{"pruning_scope": "erk"}'

Everything after the script's name is passed to it.
"""

import argparse
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--share",
        type=float,
        help="the dense phase's fixed share of max_iter, in (0, 1] "
        "(default: the rule, unchanged)",
    )
    parser.add_argument(
        "script", help="a benchmark of this directory, e.g. bench_defaults.py"
    )
    parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.share is not None and not 0 < args.share <= 1:
        parser.error(f"--share {args.share}: expected a share in (0, 1]")
    script = HERE / args.script
    if script.parent != HERE or not script.is_file():
        parser.error(f"{args.script}: not a benchmark in {HERE}")

    from skprune._pruning import schedules

    if args.share is not None:
        schedules.DENSE_SHARE = args.share
        schedules.DENSE_SHARE_MIN = schedules.DENSE_SHARE_MAX = args.share
    rule = (
        f"fixed at {args.share} of max_iter"
        if args.share is not None
        else f"1 - sparsity within [{schedules.DENSE_SHARE_MIN}, "
        f"{schedules.DENSE_SHARE_MAX}] (auto: {schedules.DENSE_SHARE})"
    )
    print(f"dense phase: {rule}", file=sys.stderr, flush=True)
    sys.path.insert(0, str(HERE))
    sys.argv = [str(script), *args.args]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
