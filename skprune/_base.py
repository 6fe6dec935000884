"""The shared estimator: parameters, validation and the fit/partial_fit orchestration.

No training loop lives here: ``fit`` validates, builds a ``TrainState``, hands it
to the loop in ``_optim`` with its callbacks (the stopping rule, the reporter,
the ``_pruning.Pruner``, scikit-learn's callbacks), and commits the finished
state as the fitted attributes (``_fitted``). The classifier and the regressor
(``_classifier``, ``_regressor``) add what depends on the target.
"""

import math
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

from ._core import init_params, predict_proba_dense
from ._fitted import FittedNetwork
from ._optim import (
    DivergenceError,
    HeldOutScore,
    LoopSettings,
    Progress,
    Reporter,
    SklearnCallbacks,
    StoppingRule,
    Trainer,
    TrainState,
    batch_size_for,
    make_optimizer,
    run_lbfgs,
    run_stochastic,
)
from ._pruning import CRITERIA, GRANULARITIES, SCHEDULES, SCOPES, Pruner
from ._pruning.masks import overall_sparsity
from ._pruning.schedules import RigL
from ._sparse import check_sparse_input

try:  # scikit-learn >= 1.9; its ``_fit_context`` manages the callbacks' run
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - older scikit-learn: no callbacks

    class CallbackSupportMixin:
        pass


# What scikit-learn's callback machinery keeps on the estimator during a fit.
_CALLBACK_RUN = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


STOCHASTIC_SOLVERS = ("sgd", "adam")

# ``sparsity="auto"`` needs at least this many held-out samples, and as many
# left to train on; without them (too small a data set, a ``validation_fraction``
# near 1, or ``partial_fit``) it prunes gradually to ``AUTO_STAND_IN``, half the
# weights, within the range the search reaches on the drop-in panel (0.30 to
# 0.75, benchmarks/results/auto.md).
AUTO_MIN_HELD_OUT = 10
AUTO_STAND_IN = 0.5

# ``from_mlp``: unless ``max_iter`` is given, the pruning fit may last this share
# of the epochs the MLP trained (and at least ``FROM_MLP_MIN_ITER``).
FROM_MLP_SHARE = 0.3
FROM_MLP_MIN_ITER = 10

# Largest alpha / mean(sample_weight) that float32 training can take: its
# squares in Adam's second moment stay below float32's 3.4e38.
MAX_FLOAT32_L2 = 1e15
DTYPES = {"float32": np.float32, "float64": np.float64}

# The pruning parameters, shared by both estimators (after the MLP's own, which
# come from scikit-learn's classes).
PRUNING_CONSTRAINTS = {
    "sparsity": [Interval(Real, 0, 1, closed="left"), StrOptions({"auto"})],
    "pruning": [StrOptions(set(CRITERIA))],
    "pruning_scope": [StrOptions(set(SCOPES))],
    "granularity": [StrOptions(set(GRANULARITIES))],
    "pruning_schedule": [StrOptions(set(SCHEDULES))],
    "pruning_steps": [Interval(Integral, 1, None, closed="left")],
    "finetune_iter": [Interval(Integral, 0, None, closed="left")],
    "pruning_tol": [Interval(Real, 0, None, closed="left")],
    "dtype": [StrOptions(set(DTYPES)), None],
}


def mlp_constraints(sklearn_class):
    """scikit-learn's parameter constraints of ``sklearn_class``, then ours."""
    return {**sklearn_class._parameter_constraints, **PRUNING_CONSTRAINTS}


def store_params(estimator, params):
    """``__init__``'s body: keep every argument as given, as scikit-learn asks."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class BasePrunedMLP(CallbackSupportMixin, FittedNetwork, BaseEstimator):
    """Shared base of the pruned MLPs. Do not use it directly.

    Subclasses provide ``_validate_input`` (targets to a float matrix ``Y``),
    ``_out_activation``, ``_score_outputs`` (the early-stopping score of
    predicted outputs), ``_score_contributions`` (each sample's smoothed share
    of it, for ``sparsity="auto"``'s judge), ``_stratify`` (how the held-out
    split is drawn) and
    ``_sklearn_counterpart`` (for ``from_mlp``).
    """

    _parameter_constraints = mlp_constraints(MLPClassifier)

    # ------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y, pruning as it trains.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values: class labels or a label indicator matrix
            (multilabel) for the classifier, real numbers for the regressor.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, non-negative.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight, incremental, classes=None):
        # Before validation converts it: scipy's compiled code trusts the indices.
        check_sparse_input(X)
        with self._all_or_nothing():
            if incremental:
                self._check_partial_fit(X, y, classes)
            return self._fit_unsafe(X, y, sample_weight, incremental)

    def set_params(self, **params):
        self.__dict__.pop("_params_checked", None)
        return super().set_params(**params)

    def _check_partial_fit(self, X, y, classes):
        # scikit-learn's fit context validates the parameters of an unfitted
        # estimator only; a fitted one may have had them set or loaded since
        # (set_params and loading drop the mark): check them once.
        if self.__sklearn_is_fitted__() and not self.__dict__.get("_params_checked"):
            self._validate_params()
        self._params_checked = True
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")

    def _check_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    @contextmanager
    def _all_or_nothing(self):
        """A call that fails (bad input, divergence, ...) leaves the estimator
        exactly as it was, fitted or not."""
        saved = dict(self.__dict__)
        try:
            yield
        except BaseException:
            # scikit-learn's callback context is torn down after this call
            # (by ``_fit_context``), so it stays.
            running = {k: v for k, v in self.__dict__.items() if k in _CALLBACK_RUN}
            self.__dict__.clear()
            self.__dict__.update(saved)
            self.__dict__.update(running)
            raise

    def _compute_dtype(self):
        if self.dtype is None:
            return (np.float64, np.float32)
        return DTYPES[self.dtype]

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if np.any(np.array(sizes) <= 0):
            raise ValueError("hidden_layer_sizes must be > 0, got %s." % sizes)
        return sizes

    def _validate_sample_weight(self, sample_weight, X, y):
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
        return sample_weight

    def _check_weight_scale(self, sample_weight, dtype):
        """Refuse weights so small that the L2 gradient overflows float32.

        As in MLPClassifier, the L2 term is divided by the weight total, so
        weights of mean 1e-30 make its gradient ``alpha / sum(weights) * W``
        about 1e27 times the weights: representable in float64, not once Adam
        squares it in float32.
        """
        stochastic = self.solver in STOCHASTIC_SOLVERS
        if sample_weight is None or not self.alpha or not stochastic:
            return
        if np.dtype(dtype) != np.float32:
            return
        mean = float(np.mean(sample_weight, dtype=np.float64))
        if self.alpha / mean > MAX_FLOAT32_L2:
            raise ValueError(
                f"sample_weight averages {mean:.3g}: the L2 penalty's gradient, "
                f"alpha / sum(sample_weight) = {self.alpha / mean:.3g} times the "
                "weights per sample, is too large for float32 arithmetic. Fit "
                "with dtype='float64' (MLPClassifier's precision), or give "
                "weights of a larger scale."
            )

    def _check_continuation(self, hidden_sizes):
        fitted = {
            "hidden_layer_sizes": self._fit_hidden_layer_sizes,
            "activation": self._fit_activation,
        }
        now = {"hidden_layer_sizes": tuple(hidden_sizes), "activation": self.activation}
        for name in fitted:
            if fitted[name] != now[name]:
                raise ValueError(
                    f"{name} changed from {fitted[name]!r} to {now[name]!r} "
                    "since the network was fitted; warm_start and partial_fit "
                    "continue the fitted network. Set warm_start=False to train "
                    "a new one."
                )

    def _fit_unsafe(self, X, y, sample_weight, incremental):
        hidden_sizes = self._hidden_sizes()
        first_pass = not self.__sklearn_is_fitted__() or (
            not self.warm_start and not incremental
        )
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        sample_weight = self._validate_sample_weight(sample_weight, X, y)
        self._check_weight_scale(sample_weight, X.dtype)
        if not first_pass:
            self._check_continuation(hidden_sizes)
        data = (X, y, Y, sample_weight)
        run = dict(hidden_sizes=hidden_sizes, incremental=incremental)
        if self._searches_then_refits(incremental, first_pass, X.shape[0]):
            # sparsity="auto": search on a held-out split, then train the
            # network at the sparsity found on all the data, as a fit with
            # that fixed target would (GridSearchCV's refit).
            schedule = self._refit_schedule()
            self._check_schedule(schedule, issubclass(SCHEDULES[schedule], RigL))
            # The search ends when it has found its sparsity (or at max_iter)
            # without a ConvergenceWarning: only the refit may say it did not
            # converge.
            search, start_iter, interrupted, pruner = self._run(
                data, first_pass=True, search=True, **run
            )
            if not interrupted:
                with pruner.trained_shape(search):
                    found = overall_sparsity(search.masks, search.coefs)
                history = [dict(record, search=True) for record in search.history]
                del search, pruner  # its data split, network and optimizer
                Reporter(self.verbose).message(
                    "sparsity='auto': the search kept %.4f of the weights removed; "
                    "training on all the data at that sparsity" % found
                )
                state, start_iter, interrupted, _ = self._run(
                    data, first_pass=True, sparsity=found, history=history, **run
                )
            else:
                state = search
        else:
            state, start_iter, interrupted, _ = self._run(
                data, first_pass=first_pass, **run
            )
        if interrupted:
            warnings.warn(
                "Training interrupted by user; the model keeps the weights of the "
                "last completed iteration (%d)." % state.n_iter
            )
        self._commit(state, hidden_sizes, first_pass, start_iter)
        return self

    def _searches_then_refits(self, incremental, first_pass, n_samples):
        """Whether this call is ``sparsity="auto"``'s search and refit: a fit
        of a new network with data to hold out (a warm start or ``from_mlp``
        searches from the trained network instead, ``partial_fit`` keeps or
        stands in, see ``_make_pruner``)."""
        return (
            self.sparsity == "auto"
            and not incremental
            and first_pass
            and self._can_hold_out(n_samples)
        )

    def _run(
        self,
        data,
        *,
        hidden_sizes,
        incremental,
        first_pass,
        search=False,
        sparsity=None,
        history=None,
    ):
        """Train once over ``data``: ``(state, start_iter, interrupted, pruner)``.

        ``search``: ``sparsity="auto"``'s search only (it stops once the
        sparsity is found; scikit-learn's callbacks see the refit).
        ``sparsity``: train toward this fixed target instead of the parameter
        (the refit), with ``history`` as the first records.
        """
        X, y, Y, sample_weight = data
        rng = check_random_state(self.random_state)
        settings = LoopSettings.from_estimator(self)
        stochastic = self.solver in STOCHASTIC_SOLVERS
        if first_pass:
            state = self._initial_state(X, Y, hidden_sizes, rng, incremental)
        else:
            state = self._resume_state(X.dtype)
        if history:
            state.history = list(history)
        start_iter = state.n_iter
        self._prepare_optimizer(state, settings, stochastic, incremental)
        pruner = self._make_pruner(rng, incremental, X.shape[0], sparsity)
        pruner.search_only = search
        train, validation_data = (X, Y, sample_weight), None
        if (stochastic and self.early_stopping) or pruner.needs_validation:
            reason = self._split_reason(pruner)
            *train, validation_data = self._split_validation(
                X, Y, sample_weight, rng, reason
            )
        self._start_pruner(
            pruner, state, train, validation_data, stochastic, incremental, first_pass
        )
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            interrupted = self._train(
                state,
                settings,
                pruner,
                train,
                validation_data,
                rng,
                incremental,
                (X, y, first_pass),
                (X, Y, sample_weight),
                sklearn_callbacks=not search,
            )
        if not incremental:
            pruner.finish(state)
        return state, start_iter, interrupted, pruner

    def _initial_state(self, X, Y, hidden_sizes, rng, incremental):
        """A new network: drawn at random, or from weights assigned before fit."""
        layer_units = [X.shape[1], *hidden_sizes, Y.shape[1]]
        assigned = "_initial_coefs" in self.__dict__
        if assigned and (incremental or self.warm_start):
            coefs, intercepts = self._assigned_network(layer_units, X.dtype)
            masks = [None if np.all(c != 0) else c != 0 for c in coefs]
        else:
            coefs, intercepts = init_params(layer_units, self.activation, rng, X.dtype)
            masks = [None] * len(coefs)
        return TrainState(
            coefs=coefs,
            intercepts=intercepts,
            masks=masks,
            activation=self.activation,
            out_activation=self._out_activation(Y),
        )

    def _assigned_network(self, layer_units, dtype):
        coefs = self._initial_coefs
        intercepts = self.__dict__.get("_initial_intercepts")
        shapes = list(zip(layer_units[:-1], layer_units[1:]))
        if [c.shape for c in coefs] != shapes or intercepts is None:
            raise ValueError(
                "The weights assigned before fitting do not fit this network: "
                f"coefs_ shapes {[c.shape for c in coefs]}, intercepts_ "
                f"{'missing' if intercepts is None else 'given'}; the data and "
                f"hidden_layer_sizes need shapes {shapes} and one intercept "
                "vector per layer."
            )
        return (
            [np.array(c, dtype=dtype) for c in coefs],
            [np.array(b, dtype=dtype) for b in intercepts],
        )

    def _prepare_optimizer(self, state, settings, stochastic, incremental):
        if not stochastic:
            state.optimizer = None
            return
        if state.optimizer is None or not incremental:
            state.attach_optimizer(make_optimizer(self.solver, state.params, settings))
        if not incremental:
            state.best_loss = None
            state.no_improvement_count = 0
        if self.early_stopping:
            if state.validation_scores is None:
                state.validation_scores = []
        else:
            state.validation_scores = None

    def _make_pruner(self, rng, incremental, n_samples, sparsity=None):
        """The pruner of this call; ``sparsity``: a fixed target instead of the
        parameter (``sparsity="auto"``'s refit, with its schedule)."""
        schedule = self.pruning_schedule
        if sparsity is None:
            sparsity = self.sparsity
        else:
            schedule = self._refit_schedule()
        if sparsity == "auto" and incremental and self._searched():
            # The search of an earlier fit chose the sparsity: keep it.
            sparsity = 0.0
        elif sparsity == "auto" and (incremental or not self._can_hold_out(n_samples)):
            # No held-out data to judge steps on: prune gradually to the
            # stand-in target (partial_fit, or too few samples to spare any).
            if not incremental:
                warnings.warn(
                    f"sparsity='auto' judges its steps on held-out data, but "
                    f"{n_samples} samples leave too few to hold out "
                    f"validation_fraction={self.validation_fraction} and train "
                    f"on the rest (at least {AUTO_MIN_HELD_OUT} each); the network "
                    f"is pruned to sparsity={AUTO_STAND_IN} instead.",
                    UserWarning,
                )
            sparsity, schedule = AUTO_STAND_IN, "gradual"
        pruner = Pruner(
            criterion=self.pruning,
            scope=self.pruning_scope,
            granularity=self.granularity,
            schedule=schedule,
            sparsity=sparsity,
            n_steps=self.pruning_steps,
            finetune_iter=self.finetune_iter,
            tol=self.pruning_tol,
            rng=rng,
        )
        self._check_schedule(schedule, pruner.moves_weights)
        if pruner.needs_validation and incremental:
            raise ValueError(
                "The greedy search (pruning_schedule='greedy') judges each step "
                "on held-out data and is not available in partial_fit. Use fit, "
                "or another pruning_schedule."
            )
        return pruner

    def _refit_schedule(self):
        """The schedule of ``sparsity="auto"``'s refit: ``pruning_schedule``,
        except the greedy search (the sparsity is found), which is gradual."""
        schedule = self.pruning_schedule
        return "gradual" if SCHEDULES[schedule].needs_validation else schedule

    def _check_schedule(self, schedule, moves_weights):
        if moves_weights and self.solver not in STOCHASTIC_SOLVERS:
            raise ValueError(
                f"pruning_schedule={schedule!r} moves weights at epoch ends, "
                f"which solver={self.solver!r} does not have. Use solver='adam' "
                "or 'sgd', or another pruning_schedule."
            )
        if moves_weights and self.granularity == "neuron":
            raise ValueError(
                f"pruning_schedule={schedule!r} drops and regrows single weights, "
                "and granularity='neuron' removes whole hidden units. Use "
                "granularity='weight' with it, or another pruning_schedule for "
                "neuron pruning."
            )

    def _searched(self):
        """Whether the fitted network's sparsity was chosen by an auto search."""
        history = self.__dict__.get("pruning_history_") or []
        return any("reference_score" in record for record in history)

    def _can_hold_out(self, n_samples):
        """Whether ``validation_fraction`` of ``n_samples`` makes a held-out set
        (an explicit ``validation_fraction=0`` is refused later, with a reason)."""
        if self.validation_fraction <= 0:
            return True
        n_val = int(np.ceil(self.validation_fraction * n_samples))
        return n_val >= AUTO_MIN_HELD_OUT and n_samples - n_val >= AUTO_MIN_HELD_OUT

    def _start_pruner(
        self, pruner, state, train, validation_data, stochastic, incr, first_pass
    ):
        X_train = train[0]
        pruner.start(
            state,
            max_iter=self.max_iter,
            stochastic=stochastic,
            train_data=tuple(train),
            validation_data=validation_data,
            validation_score=(
                None
                if validation_data is None
                else self._validation_scorer(*validation_data)
            ),
            validation_contributions=(
                None
                if validation_data is None
                else self._validation_contributions(*validation_data)
            ),
            batch_size=batch_size_for(self.batch_size, X_train.shape[0]),
            resume=incr,
            # A network fitted before this call (warm start, from_mlp) has
            # learned: its first round is due at once.
            trained=not first_pass and state.n_iter > 0,
        )

    def _train(
        self,
        state,
        settings,
        pruner,
        train,
        validation_data,
        rng,
        incr,
        data,
        full,
        sklearn_callbacks=True,
    ):
        """Run the loop with its callbacks; return True if interrupted.

        ``full`` is the call's whole training data: ``sparsity='auto'`` without
        early stopping fine-tunes on it once its search has ended (a warm
        start's search). ``sklearn_callbacks=False`` leaves scikit-learn's callbacks
        out (the search before ``sparsity="auto"``'s refit).
        """
        reporter = Reporter(self.verbose)
        early_stopping = self.solver in STOCHASTIC_SOLVERS and self.early_stopping
        callbacks = [reporter, pruner]
        if early_stopping:
            callbacks.insert(0, HeldOutScore(self._validation_scorer(*validation_data)))
        if incr:
            callbacks.append(Progress(reporter, pruner.progress))
        if self.solver in STOCHASTIC_SOLVERS:
            callbacks.append(StoppingRule(reporter, incr))
        X_all, y, first_pass = data  # the call's data, for scikit-learn's callbacks
        task = "partial_fit: " + pruner.progress(state) if incr else "fit"
        bridge = (
            self._sklearn_callbacks(X_all, y, incr, first_pass, task)
            if sklearn_callbacks
            else None
        )
        if bridge is not None:
            callbacks.append(bridge)
        trainer = Trainer(state, settings, callbacks, early_stopping)
        trainer.quiet = pruner.search_only
        if pruner.auto and not early_stopping:
            trainer.full_data = full
        X, Y, sw = train
        try:
            if self.solver in STOCHASTIC_SOLVERS:
                return run_stochastic(trainer, X, Y, sw, rng=rng, incremental=incr)
            return run_lbfgs(trainer, X, Y, sw, pruner=pruner)
        except DivergenceError:
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed, or "
                "learning_rate_init may be too large. The model was left as it "
                "was before this call."
            ) from None
        finally:
            if bridge is not None:
                bridge.context.call_on_fit_task_end(estimator=self, X=X_all, y=y)

    def _sklearn_callbacks(self, X, y, incremental, first_pass, task="fit"):
        """The bridge to callbacks set with ``set_callbacks``, or None.

        ``task`` names the root task (``partial_fit`` says where its pruning
        schedule stands, which a progress bar shows).
        """
        if not hasattr(self, "_init_callback_context"):
            return None
        if not (
            hasattr(self, "_skl_callbacks") or hasattr(self, "_parent_callback_ctx")
        ):
            return None
        max_subtasks = 1 if incremental else self.max_iter + (self.solver == "lbfgs")
        context = self._init_callback_context(task_name=task, max_subtasks=max_subtasks)
        context.call_on_fit_task_begin(estimator=self, X=X, y=y)
        return SklearnCallbacks(
            context,
            self,
            X,
            y,
            lambda state: {
                **self._fitted_attributes(state, first_pass),
                "_state": None,
            },
        )

    def _split_reason(self, pruner):
        if pruner.auto:
            return "sparsity='auto'"
        if pruner.needs_validation:
            return "the greedy pruning search (pruning_schedule='greedy')"
        return "early stopping"

    def _split_validation(self, X, Y, sample_weight, rng, reason):
        """Hold out ``validation_fraction`` of the data, as MLPClassifier does."""
        return split_validation(
            X, Y, sample_weight, rng, self.validation_fraction, self._stratify, reason
        )

    def _stratify(self, Y, n_val, n_samples):
        return None

    @staticmethod
    def _held_out_outputs(X_val, state):
        """The outputs of the network in ``state`` on the held-out rows."""
        return predict_proba_dense(
            X_val, state.coefs, state.intercepts, state.activation, state.out_activation
        )

    def _validation_scorer(self, X_val, Y_val, sw_val):
        def validation(state):
            out = self._held_out_outputs(X_val, state)
            if not np.isfinite(out).all():
                return np.nan
            return self._score_outputs(Y_val, out, sw_val)

        return validation

    def _validation_contributions(self, X_val, Y_val, sw_val):
        """Each held-out sample's smoothed score of a network state
        (``_score_contributions``, what ``sparsity="auto"`` pairs against the
        reference network's); a sample whose output is not finite scores
        -inf."""

        def contributions(state):
            out = self._held_out_outputs(X_val, state)
            with np.errstate(invalid="ignore", over="ignore"):
                values = self._score_contributions(Y_val, out, state.out_activation)
            return np.where(np.isfinite(values), values, -np.inf)

        return contributions

    def _prepare_X(self, X):
        if sp.issparse(X) and X.format != "csr":
            X = X.tocsr()  # row batches
        return X

    # ------------------------------------------------------------ from_mlp
    @classmethod
    def from_mlp(cls, mlp, **params):
        """Start from a fitted scikit-learn MLP; the next ``fit`` prunes it.

        The returned estimator has ``mlp``'s hyperparameters (overridden by
        ``params``, except ``hidden_layer_sizes`` and ``activation``, which are
        the network's), ``warm_start=True`` and ``mlp``'s weights, and predicts as
        ``mlp`` does (up to the compute ``dtype``). Calling ``fit`` then prunes
        the trained network from its current weights, its first round at once
        (the network has learned), and fine-tunes it within ``max_iter`` epochs:
        unless ``params`` set it, 30 % of the epochs ``mlp`` trained
        (``FROM_MLP_SHARE``; at least ``FROM_MLP_MIN_ITER``). Optimizer moments
        start afresh.

        Parameters
        ----------
        mlp : sklearn.neural_network.MLPClassifier or MLPRegressor
            A fitted network of the kind this estimator replaces.
        **params
            Parameters of this estimator to set, e.g. ``sparsity=0.9,
            max_iter=30``.

        Returns
        -------
        estimator : object
            Fitted (dense) and ready to be pruned by ``fit``.
        """
        return _from_mlp(cls, mlp, params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _from_mlp(cls, mlp, params):
    """``cls.from_mlp``: a ``cls`` fitted (dense) with the network of ``mlp``."""
    from sklearn.utils.validation import check_is_fitted

    counterpart = cls._sklearn_counterpart()
    if not isinstance(mlp, counterpart):
        raise TypeError(
            f"from_mlp expects a fitted sklearn.neural_network."
            f"{counterpart.__name__}, got {type(mlp).__name__}."
        )
    check_is_fitted(mlp)
    names = set(cls._get_param_names())
    settings = {k: v for k, v in mlp.get_params().items() if k in names}

    def architecture(name, value):
        if name == "hidden_layer_sizes":
            return tuple(int(v) for v in np.atleast_1d(value))
        return value

    for name in ("hidden_layer_sizes", "activation"):
        if name in params and architecture(name, params[name]) != architecture(
            name, settings[name]
        ):
            raise ValueError(
                f"from_mlp continues the network of mlp, whose {name} is "
                f"{settings[name]!r}; {name}={params[name]!r} cannot be "
                f"changed. Train a new {cls.__name__} instead."
            )
    if "max_iter" not in params and getattr(mlp, "n_iter_", 0):
        # Pruning a trained network takes a fraction of its training.
        settings["max_iter"] = max(
            FROM_MLP_MIN_ITER, math.floor(FROM_MLP_SHARE * mlp.n_iter_)
        )
    settings.update(params)
    settings["warm_start"] = True
    est = cls(**settings)
    est._validate_params()
    dtype = est._compute_dtype()
    if isinstance(dtype, tuple):
        dtype = mlp.coefs_[0].dtype
    est._adopt_targets(mlp)
    est.n_features_in_ = mlp.n_features_in_
    if hasattr(mlp, "feature_names_in_"):
        est.feature_names_in_ = mlp.feature_names_in_
    state = TrainState(
        coefs=[np.array(c, dtype=dtype) for c in mlp.coefs_],
        intercepts=[np.array(b, dtype=dtype) for b in mlp.intercepts_],
        masks=[None] * len(mlp.coefs_),
        activation=mlp.activation,
        out_activation=mlp.out_activation_,
        n_iter=mlp.n_iter_,
        t=getattr(mlp, "t_", 0),
        loss=mlp.loss_,
        loss_curve=list(getattr(mlp, "loss_curve_", [])),
        best_loss=getattr(mlp, "best_loss_", None),
        no_improvement_count=getattr(mlp, "_no_improvement_count", 0),
        validation_scores=getattr(mlp, "validation_scores_", None),
        best_validation_score=getattr(mlp, "best_validation_score_", None),
    )
    hidden_sizes = [c.shape[1] for c in mlp.coefs_[:-1]]
    est._commit(state, hidden_sizes, first_pass=True)
    est._fit_hidden_layer_sizes = tuple(est._hidden_sizes())
    return est


def split_validation(X, Y, sample_weight, rng, fraction, stratify, reason):
    """Hold out ``fraction`` of the data, as MLPClassifier does.

    ``stratify(Y, n_val, n_samples)`` gives the labels to stratify on, or None;
    ``reason`` names what the held-out data is for, in error messages.
    """
    if fraction <= 0:
        raise ValueError(
            f"validation_fraction=0 leaves no held-out data for {reason}. "
            "Set validation_fraction > 0 (e.g. 0.1)."
        )
    n_val = int(np.ceil(fraction * X.shape[0]))
    if n_val < 2 or X.shape[0] - n_val < 1:
        raise ValueError(
            f"The validation set is too small for {reason}: "
            f"validation_fraction={fraction} of {X.shape[0]} "
            "samples. Increase 'validation_fraction' or the size of your "
            "dataset."
        )
    arrays = [X, Y] if sample_weight is None else [X, Y, sample_weight]
    parts = train_test_split(
        *arrays,
        random_state=rng,
        test_size=fraction,
        stratify=stratify(Y, n_val, X.shape[0]),
    )
    X_train, X_val, Y_train, Y_val = parts[:4]
    sw_train, sw_val = (None, None) if sample_weight is None else parts[4:]
    for part, weights in (("training", sw_train), ("held-out", sw_val)):
        if weights is not None and not np.any(weights > 0):
            raise ValueError(
                f"After holding out validation_fraction="
                f"{fraction} of the samples for {reason}, "
                f"every {part} sample has zero weight. Give more samples a "
                "non-zero sample_weight, or change validation_fraction or "
                "random_state."
            )
    return X_train, Y_train, sw_train, (X_val, Y_val, sw_val)
