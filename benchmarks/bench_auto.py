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

``--first none``: a ladder geometric from 0. Two variants that are not in the
library, to compare judges on the same fits:

- ``--smoothed ratio``: each held-out sample's smoothed score is the probability
  of its true class divided by the largest class probability (1 for every
  correctly classified sample, whatever its confidence) instead of the
  probability of its true class;
- ``--recovery-share S`` and ``--patience N``: a step is judged once the
  training loss has won back the share S of what the step cost it, or has not
  improved for N epochs (the gradual rounds' ``RECOVERY_SHARE`` = 0.5 and
  ``ROUND_PATIENCE`` = 2, which the search shares); the refit keeps the
  gradual rounds' own rule.

The search's held-out share is the estimator's ``validation_fraction``: set it
in the configuration (``--config "auto:sparsity='auto',validation_fraction=0.2"``).
Everything after the script's name is passed to it; without options it runs
the benchmark as it is.
"""

import argparse
import sys

import numpy as np
from _common import benchmark_script, run_benchmark


def _first(text):
    return None if text == "none" else float(text)


def _ratio_scores(Y_val, proba, out_activation):
    """The probability of the true class over the largest class probability
    (per label, for logistic outputs, averaged)."""
    if out_activation == "logistic":
        q = Y_val * proba + (1 - Y_val) * (1 - proba)
        return (q / np.maximum(q, 1 - q)).mean(axis=1)
    return (Y_val * proba).sum(axis=1) / proba.max(axis=1)


def _recovery_rule(share, patience):
    """``Gradual.recovered`` with another share and patience, for the search."""

    def recovered(self, pruner, plan, loss, plateau):
        before, first = plan.before_loss, plan.round_first
        if before is None or first is None:
            return plan.round_count >= patience
        rise = max(first - before, 0.0)
        return loss <= before + (1.0 - share) * rise or plan.round_count >= patience

    return recovered


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retries", type=int, help="AUTO_RETRIES (default 2)")
    parser.add_argument("--z", type=float, help="AUTO_Z (default 1.0)")
    parser.add_argument(
        "--first", type=_first, default=False, help="AUTO_FIRST, or 'none'"
    )
    parser.add_argument(
        "--smoothed",
        choices=("probability", "ratio"),
        default="probability",
        help="the held-out samples' smoothed score (classifiers)",
    )
    parser.add_argument(
        "--recovery-share", type=float, help="the search's recovery share (0.5)"
    )
    parser.add_argument(
        "--patience", type=int, help="the search's recovery patience (2)"
    )
    parser.add_argument(
        "script", help="a benchmark of this directory, e.g. bench_defaults.py"
    )
    parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.retries is not None and args.retries < 0:
        parser.error(f"--retries {args.retries}: must be at least 0")
    if args.recovery_share is not None and not 0.0 <= args.recovery_share <= 1.0:
        parser.error(f"--recovery-share {args.recovery_share}: must be in [0, 1]")
    if args.patience is not None and args.patience < 1:
        parser.error(f"--patience {args.patience}: must be at least 1")
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
    if args.smoothed == "ratio":
        from skprune import PrunedMLPClassifier

        PrunedMLPClassifier._score_contributions = staticmethod(_ratio_scores)
    share = args.recovery_share
    if share is None:
        share = schedules.RECOVERY_SHARE
    patience = schedules.ROUND_PATIENCE if args.patience is None else args.patience
    if args.recovery_share is not None or args.patience is not None:
        schedules.Auto.recovered = _recovery_rule(share, patience)
    print(
        f"bench_auto: AUTO_RETRIES={schedules.AUTO_RETRIES}, "
        f"AUTO_Z={schedules.AUTO_Z}, AUTO_FIRST={schedules.AUTO_FIRST}, "
        f"smoothed={args.smoothed}, recovery share={share}, patience={patience}",
        file=sys.stderr,
    )
    run_benchmark(script, args.args)


if __name__ == "__main__":
    main()
