"""Another benchmark with the dense phase's rule changed.

The dense phase of a fixed-target schedule lasts until the stopping rule sees a
plateau, or at most ``dense_cap`` epochs (``skprune/_pruning/schedules.py``):
``1 - sparsity`` of ``max_iter``, kept between ``DENSE_SHARE_MIN`` (0.5) and
``DENSE_SHARE_MAX`` (0.7); from ``DENSE_FLOOR_FROM`` (0.95) on, the gradual
schedule may go lower, down to ``DENSE_SHARE_FLOOR`` (0.2), as long as the
phase makes ``DENSE_MIN_STEPS`` (100) optimizer steps, up to half of
``max_iter`` (the step floor). This script
runs one of the other benchmarks with that rule changed, so that rules can be
compared on the same data and seeds (``benchmarks/results/dense_share.md``):

- ``--share X``: the share fixed at X for every schedule and target
  (``--share 0.5``: half of ``max_iter`` everywhere, the rule before
  ``1 - sparsity``);
- ``--no-step-floor``: the gradual schedule without the step floor (the
  share within [0.5, 0.7] for every schedule, the rule before the step floor);
- ``--floor LO --min-steps K``: the step floor with another floor and step
  count, at every target above 0.5 and for every fixed-target schedule (not
  only the gradual one, not only from 0.95; sections 5 and 6 of
  ``dense_share.md`` were measured so)::

    python benchmarks/bench_dense_share.py --no-step-floor bench_accuracy.py mnist \\
        --mnist ../shared/data/mnist.npz --epochs 30 --sparsities 0.98 --seeds 3 \\
        --skip-dense --params '{"pruning_scope": "erk"}'
    python benchmarks/bench_dense_share.py --floor 0.2 --min-steps 100 \\
        bench_accuracy.py mnist --mnist ../shared/data/mnist.npz --epochs 30 \\
        --sparsities 0.98 --seeds 3 --skip-dense \\
        --params '{"pruning_schedule": "iterative", "pruning_scope": "erk"}'

Without an option it runs the benchmark as it is. Everything after the
script's name is passed to it.
"""

import argparse
import sys

from _common import benchmark_script, run_benchmark


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--share",
        type=float,
        help="the dense phase's fixed share of max_iter, in (0, 1] "
        "(default: the rule, unchanged)",
    )
    parser.add_argument(
        "--no-step-floor",
        action="store_true",
        help="the gradual schedule without its step floor",
    )
    parser.add_argument(
        "--floor", type=float, help="with --min-steps: the lowest share, in (0, 1]"
    )
    parser.add_argument(
        "--min-steps",
        type=int,
        help="with --floor: optimizer steps the dense phase takes at least "
        "(up to half of max_iter)",
    )
    parser.add_argument(
        "script", help="a benchmark of this directory, e.g. bench_defaults.py"
    )
    parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.share is not None and not 0 < args.share <= 1:
        parser.error(f"--share {args.share}: expected a share in (0, 1]")
    script = benchmark_script(args.script)
    if script is None:
        parser.error(f"{args.script}: not a benchmark of this directory")

    if (args.floor is None) != (args.min_steps is None) or (
        sum([args.floor is not None, args.share is not None, args.no_step_floor]) > 1
    ):
        parser.error(
            "give --floor and --min-steps together, or --share, or --no-step-floor"
        )
    if args.floor is not None and not (0 < args.floor <= 1 and args.min_steps >= 1):
        parser.error("--floor must be in (0, 1] and --min-steps at least 1")
    from skprune._pruning import schedules

    if args.floor is not None:
        schedules.DENSE_SHARE_FLOOR = args.floor
        schedules.DENSE_MIN_STEPS = args.min_steps
        schedules.DENSE_FLOOR_FROM = 0.0  # wherever 1 - sparsity allows it
        schedules.Schedule.step_floor = True  # every fixed-target schedule
        rule = (
            f"1 - sparsity within [{args.floor}, {schedules.DENSE_SHARE_MAX}], at "
            f"least {args.min_steps} optimizer steps up to half of max_iter, "
            "every fixed-target schedule"
        )
    elif args.share is not None:
        schedules.DENSE_SHARE = args.share
        schedules.DENSE_SHARE_MIN = schedules.DENSE_SHARE_MAX = args.share
        schedules.DENSE_SHARE_FLOOR = args.share
        schedules.DENSE_MIN_STEPS = 0
        rule = f"fixed at {args.share} of max_iter"
    elif args.no_step_floor:
        schedules.DENSE_SHARE_FLOOR = schedules.DENSE_SHARE_MIN
        schedules.DENSE_MIN_STEPS = 0
        rule = (
            f"1 - sparsity within [{schedules.DENSE_SHARE_MIN}, "
            f"{schedules.DENSE_SHARE_MAX}], no step floor"
        )
    else:
        rule = (
            f"1 - sparsity within [{schedules.DENSE_SHARE_MIN}, "
            f"{schedules.DENSE_SHARE_MAX}], gradual from "
            f"{schedules.DENSE_FLOOR_FROM} down to "
            f"{schedules.DENSE_SHARE_FLOOR} with {schedules.DENSE_MIN_STEPS} "
            f"optimizer steps (auto: {schedules.DENSE_SHARE})"
        )
    print(f"dense phase: {rule}", file=sys.stderr, flush=True)
    run_benchmark(script, args.args)


if __name__ == "__main__":
    main()
