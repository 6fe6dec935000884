"""The pruning plan: a schedule's progress, kept between ``partial_fit`` calls.

A :class:`Plan` is plain data: it pickles (and goes through skops) as a dict of
numbers, lists and arrays (:meth:`Plan.to_dict`), and a dict saved by an earlier
version loads back with :meth:`Plan.from_dict`.
"""

import copy
from collections import deque
from dataclasses import dataclass, field, fields

# The rounds still to come, consumed from the front: deques, so that a plan of
# many rounds costs linear time (lists in ``to_dict``).
QUEUES = ("targets", "positions", "caps")


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
    positions : list of int or None
        Fixed schedules (gradual): where each round is due, in samples seen
        (stochastic solvers) or iterations (L-BFGS). None for phase schedules.
    phase_start : int
        Phase schedules: the iteration at which the current phase began.
    caps : list of int
        Phase schedules: the most epochs each remaining phase may last.
    finetune_until : int or None
        The iteration until which training goes on after the last round,
        whatever the stopping rule says.
    rewind : tuple or None
        Lottery: copies of the weights and biases to rewind to.
    reference_loss : float or None
        Greedy: the held-out loss each step is compared with.
    ladder : list of float or None
        Greedy: the levels a layer climbs, one rung per search round.
    search_round : int or None
        Greedy: the number of the last search round.
    """

    settings: dict = None
    targets: list = field(default_factory=list)
    positions: list = None
    phase_start: int = 0
    caps: list = field(default_factory=list)
    finetune_until: int = None
    rewind: tuple = None
    reference_loss: float = None
    ladder: list = None
    search_round: int = None

    def __setattr__(self, name, value):
        if name in QUEUES and value is not None and not isinstance(value, deque):
            value = deque(value)
        super().__setattr__(name, value)

    @property
    def pending(self):
        """True while rounds remain."""
        return bool(self.targets)

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
        """A plan from :meth:`to_dict` (unknown keys are refused)."""
        if isinstance(data, cls):
            return data
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(
                f"The stored pruning plan has unknown entries {sorted(unknown)}; it "
                "was saved by another version of skprune."
            )
        return cls(**data)
