"""The pruning plan: a schedule's progress, kept between ``partial_fit`` calls.

A :class:`Plan` is plain data: it pickles (and goes through skops) as a dict of
numbers, lists and arrays (:meth:`Plan.to_dict`), and a dict saved by an earlier
version loads back with :meth:`Plan.from_dict`.
"""

import copy
from collections import deque
from dataclasses import dataclass, field, fields

# The rounds still to come, consumed from the front: a deque, so that a plan of
# many rounds costs linear time (a list in ``to_dict``).
QUEUES = ("targets",)

# Entries of plans saved by earlier versions that the timing no longer uses.
RETIRED = ("positions", "caps")


@dataclass
class Plan:
    """Where a schedule stands.

    Attributes
    ----------
    settings : dict or None
        The parameters the plan was laid out from (see ``Pruner.settings``);
        None for a plan saved without them, taken to match.
    targets : list of float
        Targets of the rounds still to come.
    phase : {"dense", "ready", "rounds"}
        "dense" until the network has learned, "ready" for a network that
        arrived trained (the first round is due at once), then "rounds".
    phase_start : int
        The iteration at which the current phase (or round's recovery) began.
    end : int
        The iteration at which ``max_iter`` ends training for this plan.
    plateau : list or None
        The no-improvement test's counters ``[count, best_loss,
        best_validation_score]``, kept between ``partial_fit`` calls.
    before_loss : float or None
        Training loss just before the last round.
    round_first : float or None
        Training loss of the first epoch after the last round.
    round_best, round_count : float, int
        Best training loss since the last round, and epochs without improving it
        by ``tol``.
    finetune_until : int or None
        The iteration until which training goes on after the last round,
        whatever the stopping rule says.
    rewind : tuple or None
        Lottery: copies of the weights and biases to rewind to.
    learning_rate_rewind : dict or None
        Iterative, oneshot and lottery: where the learning-rate schedule stood
        at the point rounds rewind it to (the optimizer's ``schedule_state``:
        ``learning_rate`` and ``time_step``).
    reference_loss : float or None
        Greedy: the held-out loss each step is compared with.
    ladder : list of float or None
        Greedy: the levels a layer climbs, one rung per search round.
    search_round : int or None
        Greedy: the number of the last search round.
    reference_score : float or None
        Auto: the held-out score the proposed step is judged against: at the
        end of the dense phase for the first step, then that of the first
        step's network once it has recovered.
    proposed : float or None
        Auto: the target of the step awaiting its judgement.
    retries : int
        Auto: recovery intervals the proposed step got beyond the first.
    checkpoint : tuple or None
        Auto: the weights, biases and masks of the last kept step.
    starting : bool
        Auto: the proposed step is the first, to the default's sparsity,
        kept unless it is shown to lose; its network then becomes the
        reference.
    regrowth : list or None
        RigL and SET: ``[start, end]``, the iterations between which the
        sparse topology is updated at each epoch end (None once it is over).
    """

    settings: dict = None
    targets: list = field(default_factory=list)
    phase: str = "dense"
    phase_start: int = 0
    end: int = None
    plateau: list = None
    before_loss: float = None
    round_first: float = None
    round_best: float = None
    round_count: int = 0
    finetune_until: int = None
    rewind: tuple = None
    learning_rate_rewind: dict = None
    reference_loss: float = None
    ladder: list = None
    search_round: int = None
    reference_score: float = None
    proposed: float = None
    retries: int = 0
    checkpoint: tuple = None
    starting: bool = False
    regrowth: list = None

    def __setattr__(self, name, value):
        if name in QUEUES and value is not None and not isinstance(value, deque):
            value = deque(value)
        super().__setattr__(name, value)

    @property
    def pending(self):
        """True while rounds remain (or a step awaits its judgement)."""
        return bool(self.targets) or self.proposed is not None

    @property
    def unfinished(self):
        """True while rounds remain or the topology is still being updated:
        the plan goes on in the next ``partial_fit`` call (or after loading)."""
        return self.pending or self.regrowth is not None

    @property
    def rounds_left(self):
        return len(self.targets)

    def to_dict(self):
        """The plan as plain data: numbers, lists, tuples of arrays."""
        return {
            f.name: (
                list(getattr(self, f.name))
                if isinstance(getattr(self, f.name), deque)
                else copy.deepcopy(getattr(self, f.name))
            )
            for f in fields(self)
        }

    @classmethod
    def from_dict(cls, data):
        """A plan from :meth:`to_dict` (unknown keys are refused).

        A plan saved by an earlier version, timed by ``max_iter``, goes on
        with its remaining targets under the convergence-driven timing.
        """
        if isinstance(data, cls):
            return data
        names = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k not in RETIRED}
        unknown = set(data) - names
        if unknown:
            raise ValueError(
                f"The stored pruning plan has unknown entries {sorted(unknown)}; it "
                "was saved by another version of skprune."
            )
        plan = cls(**data)
        if plan.pending and "phase" not in data:
            plan.phase = "rounds"
        return plan
