"""Optimizers: tiny objects with ``update_params``, as in scikit-learn.

SGD (with (Nesterov) momentum and MLPClassifier's learning-rate rules) and Adam.
Their state lives next to the parameters, dense or for the kept weights only,
and pruned weights never move: the state of a pruned weight is zeroed (or
dropped) when masks are applied. With the optional compiled kernels
(``_kernels``) a step is one fused pass per layer, with the same results.
Without them the state lives in one flat array per name and a step runs each
ufunc once over all the parameters (same results): on a 64-100-10 network the
default digits fit is 1.03-1.16 times faster than stepping layer by layer
(``benchmarks/digits_fit_time.py --layered-step``), on 784-300-100-10 the
same (0.995).
"""

import functools
import itertools
import operator

import numpy as np

from .._kernels import compiled, use_kernels

# A layer keeping at most this share of its weights has its optimizer state stored
# for the kept weights only: the update gathers their gradients and scatters the
# step back, which is cheaper than a dense update once most weights are pruned.
# The fused kernels make the dense update so cheap that scattered access only pays
# at a much lower density; but with the kernels, compressed state also lets the
# input layer compute its products over the kept weights only. Measured on a
# 784-300-100-10 network, a whole minibatch step (products, backpropagation and
# update) costs the same both ways at about 0.15.
COMPRESS_DENSITY = 0.5
KERNEL_COMPRESS_DENSITY = 0.15


class _Optimizer:
    """Shared bookkeeping: per parameter, dense state or state of kept weights.

    ``self.index[i]`` is None for dense state (with ``self.masks[i]`` the mask
    to apply to the gradient, or None), or the flat indices of the kept weights
    whose state alone is stored.
    """

    state_names = ()
    _flat = _flat_views = _gradient_views = None
    # Samples the learning-rate schedule's clock is behind the samples seen,
    # after learning-rate rewinding (:meth:`rewind_schedule`).
    clock_offset = 0

    def _init_state(self, params):
        self.index = [None] * len(params)
        self.masks = [None] * len(params)
        # Fused compiled steps (same results, see ``_kernels``) when available.
        self.use_kernels = use_kernels(sum(p.size for p in params))
        self._scratch = [np.empty_like(p) for p in params]
        for name in self.state_names:
            setattr(self, name, [np.zeros_like(p) for p in params])
        self._flatten()

    def _flatten(self):
        """Without the kernels, put the state of every parameter in one flat
        array per name (the per-parameter arrays become views of it, with
        their values), so that a step runs each of its ufuncs once over all
        the parameters instead of once per parameter: on a small network the
        calls, not the arithmetic, are the cost. Only while no state is
        compressed and all parameters share a dtype; ``_flat_ready`` says
        when the views still hold."""
        self._flat = self._flat_views = None
        names = (*self.state_names, "_scratch")
        arrays = self._scratch
        if (
            self.use_kernels
            or not arrays
            or not all(map(operator.is_, self.index, _NONES))
            or len({a.dtype for a in arrays}) != 1
        ):
            return
        dtype, size = arrays[0].dtype, sum(a.size for a in arrays)
        flat = {name: np.empty(size, dtype=dtype) for name in (*names, "_gradients")}
        for name in names:
            current = getattr(self, name)
            np.concatenate([a.reshape(-1) for a in current], out=flat[name])
            setattr(self, name, _views(flat[name], current))
        self._gradient_views = _views(flat["_gradients"], arrays)
        self._flat = flat
        # The views, to tell whether each list still holds them.
        self._flat_views = [(name, tuple(getattr(self, name))) for name in names]

    def _flat_ready(self, grads):
        """Whether one step over the flat state arrays may serve all the
        parameters: no compressed state, gradients of the state's dtype, and
        every state array still the view it was (compressing a layer's
        state replaces some of them; the steps then go parameter by
        parameter, and the flat arrays are let go)."""
        flat = self._flat
        if flat is None:
            return False
        dtype = flat["_scratch"].dtype
        ready = (
            all(map(operator.is_, self.index, _NONES))
            and all(g.dtype == dtype for g in grads)
            and all(
                all(map(operator.is_, getattr(self, name), views))
                for name, views in self._flat_views
            )
        )
        if not ready:
            self._flat = self._flat_views = self._gradient_views = None
        return ready

    def __getstate__(self):
        # A pickle (or a copy) copies each view on its own: the flat arrays
        # are left out and rebuilt from the copies (``__setstate__``).
        state = self.__dict__.copy()
        for name in ("_flat", "_flat_views", "_gradient_views"):
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._flatten()

    def apply_masks(self, masks):
        """Zero (or drop) the state of pruned weights so they never move again.

        A weight kept now but pruned before (regrown by dynamic sparse
        training) starts with zero state.
        """
        for i, mask in enumerate(masks):
            if mask is None:
                continue
            kept = np.flatnonzero(mask)
            old = self.index[i]
            limit = KERNEL_COMPRESS_DENSITY if self.use_kernels else COMPRESS_DENSITY
            if old is None and kept.size > limit * mask.size:
                self.masks[i] = mask.astype(self._scratch[i].dtype)
                for name in self.state_names:
                    getattr(self, name)[i] *= self.masks[i]
                continue
            # The kept entries' state, from dense state or from the previously
            # kept entries (zero for an entry that was not kept).
            for name in self.state_names:
                states = getattr(self, name)
                states[i] = _kept_state(states[i], old, kept)
            self.index[i] = kept
            self.masks[i] = None
            self._scratch[i] = np.empty(kept.size, dtype=self._scratch[i].dtype)

    def remap(self, layouts):
        """Move the state to a network of another shape (units removed or put back).

        ``layouts[i]`` is None for a parameter that keeps its shape, or a
        :class:`~skprune._optim.state.Layout` mapping its rows and columns to
        their places in the new shape. Only units without any kept weight are
        ever removed, so every kept weight has a place: compressed state keeps
        its values and only its flat indices move; dense state is gathered or
        scattered (zeros at the new places: their weights are pruned).
        """
        for i, layout in enumerate(layouts):
            if layout is None:
                continue
            if self.index[i] is not None:
                self.index[i] = layout.move_flat(self.index[i])
                continue
            for name in self.state_names:
                states = getattr(self, name)
                states[i] = layout.move(states[i])
            if self.masks[i] is not None:
                self.masks[i] = layout.move(self.masks[i])
            self._scratch[i] = np.empty(layout.shape, dtype=self._scratch[i].dtype)
        self._flatten()

    def reset(self):
        """Forget the moments (keeping which weights are pruned), as if new."""
        for name in self.state_names:
            for state in getattr(self, name):
                state[...] = 0
        self.learning_rate = float(self.learning_rate_init)
        self.t = 0
        self.clock_offset = 0

    def schedule_state(self, time_step):
        """Where the learning-rate schedule stands after ``time_step`` samples:
        what :meth:`rewind_schedule` restores."""
        return {
            "learning_rate": float(self.learning_rate),
            "time_step": int(time_step - self.clock_offset),
        }

    def rewind_schedule(self, saved, time_step):
        """Learning-rate rewinding (Renda et al. 2020): from ``time_step`` on,
        the learning rate follows its schedule again from the point ``saved``
        (a :meth:`schedule_state`); weights and moments are kept.

        Returns the learning rate rewound to, or None for a constant rate
        (Adam's, SGD's ``constant``), which rewinding leaves as it is.
        """
        return None

    def update_params(self, params, grads, l2=None):
        """Take one step; ``params`` are modified in place.

        Parameters
        ----------
        params : list of ndarray
        grads : list of ndarray
            Gradients of the loss (they may be overwritten). For a parameter
            whose state is compressed, the gradient may come packed: a 1-D
            array over the kept weights ``self.index[i]`` (a sparse layer
            computes only those).
        l2 : list of float, default=None
            Per parameter, the coefficient ``c`` of an L2 term whose gradient
            ``c * param`` is added to ``grads`` here, where it is cheapest (for a
            layer with compressed state, on the kept weights only).
        """
        self._begin_step()
        kernels = compiled() if self.use_kernels else None
        # Without the kernels, and while the flat state holds: the gradients
        # are copied into one flat array, take their L2 term and mask layer by
        # layer as below, and the step runs once over all of them (the same
        # operations on every weight as layer by layer, so the same results).
        flat = self._flat if kernels is None and self._flat_ready(grads) else None
        if flat is not None:
            np.concatenate([g.reshape(-1) for g in grads], out=flat["_gradients"])
            grads = self._gradient_views
        scalars = None  # the kernels' per-step scalars, in the parameters' dtype
        for i, (p, g) in enumerate(zip(params, grads)):
            c = 0.0 if l2 is None else l2[i]
            idx = self.index[i]
            if kernels is not None and p.flags.c_contiguous and g.flags.c_contiguous:
                if scalars is None:
                    scalars = self._kernel_scalars(p.dtype.type)
                self._kernel_step(
                    kernels, i, p.reshape(-1), g.reshape(-1), p.dtype.type(c), scalars
                )
            elif idx is None:
                out = self._scratch[i]
                if c:
                    g += np.multiply(p, c, out=out)
                if self.masks[i] is not None:
                    g *= self.masks[i]
                if flat is None:
                    self._step(g, out, *self._state(i))
                    p += out
            else:
                if g.size == p.size:  # else already packed: kept weights only
                    g = g.ravel()[idx]
                if c:
                    g += c * p.ravel()[idx]
                self._step(g, self._scratch[i], *self._state(i))
                p.reshape(-1)[idx] += self._scratch[i]
        if flat is not None:
            names = ("_gradients", "_scratch", *self.state_names)
            self._step(*(flat[name] for name in names))
            for p, out in zip(params, self._scratch):
                p += out

    def _state(self, i):
        """The state arrays of parameter ``i``, in ``state_names`` order."""
        return tuple(getattr(self, name)[i] for name in self.state_names)

    def _begin_step(self):
        pass

    def _flat_mask(self, i):
        mask = self.masks[i]
        return None if mask is None else mask.reshape(-1)


class SGD(_Optimizer):
    """Stochastic gradient descent with (Nesterov) momentum, in place.

    Learning-rate rules follow MLPClassifier: ``constant``, ``invscaling``
    (``learning_rate_init / (t + 1) ** power_t`` with ``t`` the samples seen) and
    ``adaptive`` (divide by 5 on a plateau, stop below 1e-6).
    """

    state_names = ("velocities",)

    def __init__(
        self,
        params,
        learning_rate_init=0.1,
        lr_schedule="constant",
        momentum=0.9,
        nesterov=True,
        power_t=0.5,
    ):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self._init_state(params)

    def _step(self, g, out, v):
        mu, lr = self.momentum, self.learning_rate
        v *= mu
        np.multiply(g, lr, out=out)
        v -= out
        if self.nesterov:
            np.multiply(v, mu, out=out)
            out -= lr * g
        else:
            out[...] = v

    def _kernel_scalars(self, dt):
        return dt(self.momentum), dt(self.learning_rate), bool(self.nesterov)

    def _kernel_step(self, kernels, i, p, g, c, scalars):
        idx = self.index[i]
        vel = self.velocities[i].reshape(-1)
        if idx is None:
            kernels["sgd"](p, g, self._flat_mask(i), vel, c, *scalars)
        else:
            kernels["sgd_kept"](p, g, idx, g.size != p.size, vel, c, *scalars)

    def rewind_schedule(self, saved, time_step):
        """``invscaling`` restarts its clock at ``saved``; ``adaptive`` takes back
        the rate it had (see :meth:`_Optimizer.rewind_schedule`)."""
        if self.lr_schedule == "constant":
            return None
        self.learning_rate = float(saved["learning_rate"])
        self.clock_offset = int(time_step) - int(saved["time_step"])
        return self.learning_rate

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            clock = time_step - self.clock_offset
            self.learning_rate = (
                float(self.learning_rate_init) / (clock + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, reporter):
        """Return True to stop; with ``adaptive`` shrink the rate instead."""
        if self.lr_schedule != "adaptive":
            reporter.message(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            reporter.message(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        reporter.message(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2014), in place, with MLPClassifier's bias correction."""

    state_names = ("ms", "vs")

    def __init__(
        self, params, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8
    ):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self._init_state(params)

    def _begin_step(self):
        self.t += 1
        # A Python float: a NumPy float64 scalar would make every float32 update
        # that uses it compute in float64.
        self.learning_rate = float(
            self.learning_rate_init
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )

    def _kernel_scalars(self, dt):
        b1, b2 = self.beta_1, self.beta_2
        return (
            dt(b1),
            dt(1 - b1),
            dt(b2),
            dt(1 - b2),
            dt(_representable(self.epsilon, dt)),
            dt(-self.learning_rate),
        )

    def _kernel_step(self, kernels, i, p, g, c, scalars):
        m, v = self.ms[i].reshape(-1), self.vs[i].reshape(-1)
        idx = self.index[i]
        if idx is None:
            kernels["adam"](p, g, self._flat_mask(i), m, v, c, *scalars)
        else:
            kernels["adam_kept"](p, g, idx, g.size != p.size, m, v, c, *scalars)

    def _step(self, g, out, m, v):
        b1, b2 = self.beta_1, self.beta_2
        m *= b1
        np.multiply(g, 1 - b1, out=out)
        m += out
        v *= b2
        np.multiply(g, g, out=out)
        out *= 1 - b2
        v += out
        np.sqrt(v, out=out)
        out += _representable(self.epsilon, out.dtype)
        np.divide(m, out, out=out)
        out *= -self.learning_rate

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, reporter):
        reporter.message(msg + " Stopping.")
        return True


_NONES = itertools.repeat(None)


def _views(flat, params):
    """Views of ``flat``, one per parameter, each of its shape, in order."""
    views, start = [], 0
    for p in params:
        views.append(flat[start : start + p.size].reshape(p.shape))
        start += p.size
    return views


def _kept_state(state, old, kept):
    """State of the weights at flat positions ``kept``: from dense ``state``
    (``old`` None), or from ``state`` stored for the positions ``old``."""
    if old is None:
        return np.ascontiguousarray(state.ravel()[kept])
    at = np.searchsorted(old, kept)
    found = at < old.size
    found[found] = old[at[found]] == kept[found]
    if found.all():
        return np.ascontiguousarray(state[at])
    out = np.zeros(kept.size, dtype=state.dtype)
    out[found] = state[at[found]]
    return out


def _representable(epsilon, dtype):
    """``epsilon``, or the smallest normal number of ``dtype`` if it is smaller.

    A tiny ``epsilon`` (1e-300) is valid, but rounds to zero in float32, where
    a weight with no gradient yet would then take the step 0 / 0.
    """
    return max(epsilon, _tiny(np.dtype(dtype)))


@functools.cache
def _tiny(dtype):
    return float(np.finfo(dtype).tiny)


def make_optimizer(solver, params, settings):
    """Build the optimizer named by ``solver`` from the loop's ``settings``."""
    s = settings
    if solver == "sgd":
        return SGD(
            params,
            s.learning_rate_init,
            s.learning_rate,
            s.momentum,
            s.nesterovs_momentum,
            s.power_t,
        )
    return Adam(params, s.learning_rate_init, s.beta_1, s.beta_2, s.epsilon)
