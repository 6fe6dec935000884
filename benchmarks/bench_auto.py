"""Another benchmark with the constants of ``sparsity="auto"``'s search set.

The search (``skprune/_pruning/schedules.py``, class ``Auto``) proposes steps
along a ladder that starts at ``AUTO_FIRST`` and climbs geometrically to 0.99,
judges each on held-out data (the held-out score, and the paired change of the
held-out samples' smoothed scores ``AUTO_Z`` standard errors below its mean,
both within ``pruning_tol``), gives a failing step ``AUTO_RETRIES`` more
recovery intervals, then reverts it; the network is refitted at the sparsity
found. This script runs one of the other benchmarks with those constants set,
so that the choices can be compared on the same data and seeds
(``benchmarks/results/auto.md``)::

    python benchmarks/bench_auto.py --retries 3 bench_defaults.py \\
        --data-dir ../shared/data --seeds 5 --config "auto:sparsity='auto'"
    python benchmarks/bench_auto.py --retries 2 --first none bench_defaults.py \\
        --data-dir ../shared/data --seeds 5 --config "auto:sparsity='auto'"

``--first none``: a ladder geometric from 0. Everything after the script's name
is passed to it; without options it runs the benchmark as it is.
"""

import argparse
import sys

from _common import benchmark_script, run_benchmark


def _first(text):
    return None if text == "none" else float(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retries", type=int, help="AUTO_RETRIES (default 2)")
    parser.add_argument("--z", type=float, help="AUTO_Z (default 1.0)")
    parser.add_argument(
        "--first", type=_first, default=False, help="AUTO_FIRST, or 'none'"
    )
    parser.add_argument(
        "script", help="a benchmark of this directory, e.g. bench_defaults.py"
    )
    parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    script = benchmark_script(args.script)
    if script is None:
        parser.error(f"{args.script}: not a benchmark of this directory")
    from skprune._pruning import schedules

    for name, value in (
        ("AUTO_RETRIES", args.retries),
        ("AUTO_Z", args.z),
    ):
        if value is not None:
            setattr(schedules, name, value)
    if args.first is not False:
        schedules.AUTO_FIRST = args.first
    print(
        f"bench_auto: AUTO_RETRIES={schedules.AUTO_RETRIES}, "
        f"AUTO_Z={schedules.AUTO_Z}, AUTO_FIRST={schedules.AUTO_FIRST}",
        file=sys.stderr,
    )
    run_benchmark(script, args.args)


if __name__ == "__main__":
    main()
