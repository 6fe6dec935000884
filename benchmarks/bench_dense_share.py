"""Another benchmark with the dense phase's share of ``max_iter`` fixed.

The dense phase of a fixed-target schedule lasts until the stopping rule sees a
plateau, or at most ``dense_share(sparsity)`` of ``max_iter``: ``1 - sparsity``,
kept between ``DENSE_SHARE_MIN`` (0.5) and ``DENSE_SHARE_MAX`` (0.7)
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

``--floor LO --min-steps K`` tries a rule not in the library: the share
``1 - sparsity`` kept within ``[LO, DENSE_SHARE_MAX]``, but never fewer epochs
than it takes to make ``K`` optimizer steps (minibatches), up to half of
``max_iter``: a short dense phase at high targets where epochs hold many
minibatches, the current one where they hold one or two::

    python benchmarks/bench_dense_share.py --floor 0.2 --min-steps 100 \
        bench_defaults.py --data-dir ../shared/data --seeds 5 --config s90:sparsity=0.9

Everything after the script's name is passed to it.
"""

import argparse
import math
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
        args.floor is not None and args.share is not None
    ):
        parser.error("give --floor and --min-steps together, without --share")
    if args.floor is not None and not (0 < args.floor <= 1 and args.min_steps >= 1):
        parser.error("--floor must be in (0, 1] and --min-steps at least 1")

    from skprune._pruning import schedules

    if args.floor is not None:
        _step_floor(schedules, args.floor, args.min_steps)
    if args.share is not None:
        schedules.DENSE_SHARE = args.share
        schedules.DENSE_SHARE_MIN = schedules.DENSE_SHARE_MAX = args.share
    if args.share is not None:
        rule = f"fixed at {args.share} of max_iter"
    elif args.floor is not None:
        rule = (
            f"1 - sparsity within [{args.floor}, {schedules.DENSE_SHARE_MAX}], at "
            f"least {args.min_steps} optimizer steps up to half of max_iter"
        )
    else:
        rule = (
            f"1 - sparsity within [{schedules.DENSE_SHARE_MIN}, "
            f"{schedules.DENSE_SHARE_MAX}] (auto: {schedules.DENSE_SHARE})"
        )
    print(f"dense phase: {rule}", file=sys.stderr, flush=True)
    run_benchmark(script, args.args)


def _step_floor(schedules, floor, min_steps):
    """Replace the dense phase's cap by the step-floor rule (see above)."""
    from skprune._optim.loop import batch_size_for

    original = schedules.Schedule.cap

    def cap(self, pruner, plan, state):
        if plan.phase != "dense" or pruner.auto:
            return original(self, pruner, plan, state)
        max_iter = pruner.max_iter
        share = min(max(1.0 - pruner.sparsity, floor), schedules.DENSE_SHARE_MAX)
        n_samples = pruner.train_data[0].shape[0]
        settings = pruner.trainer.settings
        steps = -(-n_samples // batch_size_for(settings.batch_size, n_samples))
        need = -(-min_steps // steps)
        limit = max(
            1,
            math.ceil(share * max_iter),
            min(math.ceil(schedules.DENSE_SHARE * max_iter), need),
        )
        return limit - (state.n_iter - plan.phase_start)

    schedules.Schedule.cap = cap


if __name__ == "__main__":
    main()
