"""A stand-in for the batch loss that raises KeyboardInterrupt at its n-th call."""

import skprune._optim.loop as loop


class InterruptAt:
    """Replaces ``skprune._optim.loop.loss_and_gradients`` (monkeypatch it in)."""

    def __init__(self, n):
        self.n, self.calls = n, 0
        self.real = loop.loss_and_gradients

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return self.real(*args, **kwargs)
