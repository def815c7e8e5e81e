# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The shared test contract: one registry of every public transformation of the package.

Not collected by pytest (no `test_` prefix). The suites `test_contract.py`,
`test_faults.py`, `test_checkpoint.py` and `sharded_suite.py` run over `REGISTRY`, so
a new transformation gets every check by adding one `Entry` here (and its invalid
hyperparameters to `INVALID_CASES`).

The shared problem is a least-squares regression `mean((x @ kernel + bias - y)²)` on a fixed
batch, with params `{"kernel": (d_in, d_out), "bias": (d_out,)}` (the layout of
`flax.nnx.Linear`, so the same loss works on an `nnx.Optimizer`'s parameter state).

PRNG keys: the registry uses new-style typed keys (`jax.random.key`); in a state they must go
through `jax.random.key_data` / `jax.random.wrap_key_data` to be checkpointed (see
`test_checkpoint.py`).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import complexity_optax as co
from complexity_optax import landscape

# --------------------------------------------------------------------------------------------
# The shared small problem.
# --------------------------------------------------------------------------------------------

D_IN, D_OUT, BATCH = 3, 4, 5


def make_problem(d_in: int = D_IN, d_out: int = D_OUT, batch: int = BATCH, seed: int = 0,
                 dtype: Any = np.float32):
    """Returns `(params, batch)`: deterministic numpy-generated params and a (x, y) batch."""
    rng = np.random.default_rng(seed)
    params = {
        "kernel": jnp.asarray(rng.normal(size=(d_in, d_out)), dtype),
        "bias": jnp.asarray(rng.normal(size=(d_out,)), dtype),
    }
    x = jnp.asarray(rng.normal(size=(batch, d_in)), dtype)
    y = jnp.asarray(rng.normal(size=(batch, d_out)), dtype)
    return params, (x, y)


def loss_fn(params, batch):
    """Least-squares loss `mean((x @ kernel + bias − y)²)` (computed in the params' dtype)."""
    x, y = batch
    kernel, bias = params["kernel"], params["bias"]
    pred = x.astype(kernel.dtype) @ kernel + bias
    return jnp.mean((pred - y.astype(kernel.dtype)) ** 2)


value_and_grad_fn = jax.jit(jax.value_and_grad(loss_fn))

# An unknown extra argument that every update receives: each transformation must ignore it.
UNKNOWN_KWARG = "not_a_known_extra_arg"

# --------------------------------------------------------------------------------------------
# The registry.
# --------------------------------------------------------------------------------------------

FIRST, LAST, COMPLETE = "first", "last", "complete"


@dataclasses.dataclass(frozen=True)
class Entry:
    """One public transformation with small valid hyperparameters.

    Attributes:
      name: unique id (used as the pytest id).
      factory: the public constructor.
      kwargs: the hyperparameters passed to `factory` (keyword arguments).
      role: `"first"` (a gradient transformation chained before `optax.scale(-lr)`),
        `"last"` (a projection chained after it) or `"complete"` (an optimizer that already
        returns the parameter update).
      extra_args: the extra arguments `update` needs: a subset of `("value", "value_fn")`;
        `value_fn` is `loss_fn`, which receives the batch through `batch=`.
      needs_params: whether `update` needs `params`.
      injectable: `{name: (a, b)}`: float hyperparameters `inject_hyperparams` can inject, with
        two values that give different parameters after `NUM_STEPS` steps.
      static_args: the `static_args` for `inject_hyperparams` (integer hyperparameters).
      guards_nan_grads: whether the transformation itself skips a step with non-finite gradients
        (zero update, state unchanged). Otherwise the contract is: wrapped in
        `optax.apply_if_finite` it is safe, and its own state stays finite anyway.
      guard: a one-line description of the guard (for the docs table).
    """

    name: str
    factory: Callable[..., Any]
    kwargs: dict = dataclasses.field(default_factory=dict)
    role: str = FIRST
    extra_args: tuple = ()
    needs_params: bool = True
    injectable: dict = dataclasses.field(default_factory=dict)
    static_args: tuple = ()
    guards_nan_grads: bool = False
    guard: str = "optax.apply_if_finite"

    def build(self, **overrides) -> optax.GradientTransformationExtraArgs:
        """The bare transformation, with `overrides` replacing hyperparameters."""
        return self.factory(**{**self.kwargs, **overrides})

    def optimizer(self, tx=None) -> optax.GradientTransformation:
        """`tx` (default: `build`) as a complete optimizer following its role."""
        tx = self.build() if tx is None else tx
        if self.role == FIRST:
            return optax.chain(tx, optax.scale(-LEARNING_RATE))
        if self.role == LAST:
            return optax.chain(optax.scale(-LEARNING_RATE), tx)
        return tx

    def injected(self, **values) -> optax.GradientTransformationExtraArgs:
        """`inject_hyperparams(factory)` with `values` replacing hyperparameters."""
        factory = optax.inject_hyperparams(self.factory, static_args=self.static_args)
        return factory(**{**self.kwargs, **values})


LEARNING_RATE = 0.1
NUM_STEPS = 3
KEY = jax.random.key(0)  # typed key: see the module docstring.

_SELF_GUARD_TR = "self: non-finite grad/value skips the step (zero update, state kept)"

REGISTRY: tuple[Entry, ...] = (
    Entry("weight_decay_float", co.complexity_weight_decay, {"strength": 0.1},
          injectable={"strength": (0.1, 0.5)}),
    Entry("weight_decay_cosine", co.complexity_weight_decay,
          {"strength": co.cosine_annealing(0.1, period=10)}),
    Entry("weight_decay_power_law", co.complexity_weight_decay,
          {"strength": co.power_law_annealing(0.1, exponent=0.5)}),
    Entry("weight_decay_lr_matched", co.complexity_weight_decay,
          {"strength": co.lr_matched_annealing(0.1, optax.exponential_decay(0.1, 2, 0.5))}),
    Entry("weight_decay_matched", co.complexity_weight_decay,
          {"strength": co.matched_annealing(0.1, memory=3)}, extra_args=("value",)),
    Entry("weight_decay_matched_window", co.complexity_weight_decay,
          {"strength": co.matched_annealing(0.1, memory=2, smoothing="window", warmup_steps=1)},
          extra_args=("value",)),
    Entry("two_step_value_fn", co.two_step_annealing,
          {"learning_rate": 0.1, "strength": co.power_law_annealing(0.2)}, role=COMPLETE,
          extra_args=("value_fn",), injectable={"learning_rate": (0.1, 0.05)}),
    Entry("two_step_no_value_fn", co.two_step_annealing,
          {"learning_rate": 0.1, "strength": 0.05}, role=COMPLETE,
          injectable={"learning_rate": (0.1, 0.05), "strength": (0.05, 0.5)}),
    Entry("two_step_matched", co.two_step_annealing,
          {"learning_rate": 0.1, "strength": co.matched_annealing(0.2, memory=2)},
          role=COMPLETE, extra_args=("value", "value_fn")),
    Entry("sphere_global", co.project_onto_sphere, {"radius": 3.0}, role=LAST,
          injectable={"radius": (3.0, 2.0)}),
    Entry("sphere_default_radius", co.project_onto_sphere, {}, role=LAST),  # radius="init"
    Entry("sphere_sqrt_n", co.project_onto_sphere, {"radius": "sqrt_n"}, role=LAST),
    Entry("sphere_per_leaf", co.project_onto_sphere, {"scope": "per_leaf"}, role=LAST),
    Entry("tangent_global", co.tangent_projection, {}),
    Entry("tangent_per_leaf", co.tangent_projection, {"scope": "per_leaf"}),
    Entry("field_linear", co.add_annealed_field,
          {"scale": optax.linear_schedule(1.0, 0.0, 10), "key": KEY, "relative_to": None},
          needs_params=False),
    Entry("field_grad_relative", co.add_annealed_field, {"scale": 0.5, "key": KEY},
          needs_params=False, injectable={"scale": (0.5, 0.1)}),
    Entry("field_params_relative", co.add_annealed_field,
          {"scale": 0.1, "key": KEY, "relative_to": "params"}),
    Entry("field_resample", co.add_annealed_field,
          {"scale": optax.exponential_decay(1.0, 10, 0.5), "key": KEY, "relative_to": None,
           "resample": True}, needs_params=False),
    # No static_args anywhere below: the integer/structural arguments (memory, an int key,
    # strings, bools) are not numeric hyperparameters of these factories.
    Entry("complexity_sgd_matched", co.complexity_sgd,
          {"learning_rate": 0.1, "strength": co.matched_annealing(0.01, memory=3)},
          role=COMPLETE, extra_args=("value",),
          injectable={"learning_rate": (0.1, 0.05)}),
    Entry("complexity_sgd_cosine", co.complexity_sgd,
          {"learning_rate": 0.1, "strength": co.cosine_annealing(0.01, period=10)},
          role=COMPLETE),
    Entry("complexity_sgd_power_law", co.complexity_sgd,
          {"learning_rate": 0.1, "strength": co.power_law_annealing(0.01), "momentum": 0.5,
           "sphere": False},
          role=COMPLETE, injectable={"momentum": (0.5, 0.9)}),
    Entry("complexity_sgd_lr_matched", co.complexity_sgd,
          {"learning_rate": 0.1, "strength": co.lr_matched_annealing(0.01, 0.1)},
          role=COMPLETE),
    Entry("complexity_sgd_sqrt_n", co.complexity_sgd,
          {"learning_rate": 0.1, "strength": 0.01, "radius": "sqrt_n"},
          role=COMPLETE, injectable={"strength": (0.01, 0.5)}),
    Entry("complexity_sgd_two_step", co.complexity_sgd,
          {"learning_rate": 0.1, "strength": co.power_law_annealing(0.01), "two_step": True},
          role=COMPLETE, extra_args=("value_fn",)),
    Entry("anneal_sgd", co.anneal_sgd,
          {"learning_rate": 0.1, "field_scale": optax.linear_schedule(1.0, 0.0, 10), "key": 0},
          role=COMPLETE, needs_params=False,
          injectable={"learning_rate": (0.1, 0.05)}),
    Entry("anneal_sgd_float_scale", co.anneal_sgd,
          {"learning_rate": 0.1, "field_scale": 0.5, "key": 1}, role=COMPLETE,
          needs_params=False, injectable={"field_scale": (0.5, 0.1)}),
    Entry("anneal_sgd_sphere_resample", co.anneal_sgd,
          {"learning_rate": 0.1, "field_scale": 0.5, "key": KEY, "relative_to": None,
           "sphere": True, "resample": True},
          role=COMPLETE),
    Entry("trust_region_identity", co.trust_region,
          {"ellipsoid": "identity", "initial_radius": 0.5, "max_cg_iters": 8, "max_radius": 10.0},
          role=COMPLETE, extra_args=("value", "value_fn"), static_args=("max_cg_iters",),
          injectable={"max_radius": (10.0, 0.5)}, guards_nan_grads=True, guard=_SELF_GUARD_TR),
    Entry("trust_region_rmsprop", co.trust_region,
          {"ellipsoid": "rmsprop", "max_cg_iters": 8, "increase": 1.1},
          role=COMPLETE, extra_args=("value", "value_fn"), static_args=("max_cg_iters",),
          injectable={"increase": (1.1, 3.0)}, guards_nan_grads=True, guard=_SELF_GUARD_TR),
    Entry("trust_region_kohler2019", co.trust_region,
          {"preset": "kohler2019", "initial_radius": 0.05, "max_cg_iters": 8, "increase": 1.1},
          role=COMPLETE, extra_args=("value", "value_fn"),
          static_args=("max_cg_iters", "preset"), injectable={"increase": (1.1, 3.0)},
          guards_nan_grads=True, guard=_SELF_GUARD_TR),
    Entry("cubic_regularization", co.cubic_regularization, {"max_krylov": 4},
          role=COMPLETE, extra_args=("value", "value_fn"), static_args=("max_krylov",),
          injectable={"initial_sigma": (1.0, 10.0)}, guards_nan_grads=True,
          guard=_SELF_GUARD_TR),
    Entry("saddle_free_newton", co.saddle_free_newton,
          {"learning_rate": 1.0, "krylov_dim": 4, "num_damping": 3},
          role=COMPLETE, extra_args=("value", "value_fn"),
          static_args=("krylov_dim", "num_damping"),
          injectable={"learning_rate": (1.0, 0.5)}, guards_nan_grads=True,
          guard=_SELF_GUARD_TR),
    Entry("entropy_sgd", co.entropy_sgd,
          {"learning_rate": 0.1, "key": KEY, "gamma": 1.0, "inner_steps": 5, "noise": 1e-3},
          role=COMPLETE, extra_args=("value_fn",), static_args=("inner_steps",),
          injectable={"learning_rate": (0.1, 0.05), "gamma": (1.0, 0.3)},
          guards_nan_grads=True,
          guard="self: a non-finite gradient or Langevin mean skips the step (zero update)"),
    Entry("scale_by_local_entropy", co.scale_by_local_entropy,
          {"key": KEY, "gamma": 1.0, "inner_steps": 5, "noise": 1e-3},
          role=FIRST, extra_args=("value_fn",), static_args=("inner_steps",),
          injectable={"gamma": (1.0, 0.3)}, guards_nan_grads=True,
          guard="self: a non-finite gradient or Langevin mean skips the step (zero update)"),
)

ENTRIES = {e.name: e for e in REGISTRY}

#: One entry per public constructor: the variant that exercises most of its machinery (state,
#: extra arguments, stateful schedules, keys). The wrapper and dtype checks (`inject_hyperparams`,
#: `MultiSteps`, `apply_if_finite`, `nnx.Optimizer`, bfloat16/float64, checkpoints) run on these
#: in the default suite and on every entry under `pytest -m slow`; the plain-run, unknown-kwarg
#: and convergence checks run on every entry always.
CORE: frozenset[str] = frozenset({
    "weight_decay_matched", "two_step_matched", "sphere_default_radius", "tangent_per_leaf",
    "field_resample", "complexity_sgd_matched", "anneal_sgd_sphere_resample",
    "trust_region_rmsprop", "cubic_regularization", "saddle_free_newton", "entropy_sgd",
    "scale_by_local_entropy",
})


def tiered(names, core=CORE) -> list:
    """`names` as pytest parameters: those in `core` as they are, the others marked `slow`.

    Items may be names or tuples whose first element is a name (as `parametrize` takes them);
    a tuple is core if it, or its name, is in `core`.
    """
    import pytest  # only the test suites call this

    out = []
    for item in names:
        name = item[0] if isinstance(item, tuple) else item
        out.append(item if item in core or name in core else pytest.param(
            *(item if isinstance(item, tuple) else (item,)), marks=pytest.mark.slow))
    return out


def core_injectable() -> frozenset[tuple[str, str]]:
    """The `(entry, hyperparameter)` pairs of `inject_hyperparams` checks in the default suite:
    per constructor, the first injectable hyperparameter of its `CORE` entry, or of its first
    entry with one when the core entry has none."""
    chosen: dict = {}
    for e in REGISTRY:
        if e.injectable and (e.factory not in chosen or (
                e.name in CORE and chosen[e.factory][0] not in CORE)):
            chosen[e.factory] = (e.name, next(iter(e.injectable)))
    return frozenset(chosen.values())

# --------------------------------------------------------------------------------------------
# Running entries: jitted steps, cached per (entry, wrapper) so that the suites share compiles.
# --------------------------------------------------------------------------------------------

TRACE_COUNTS: dict = {}


def update_kwargs(entry: Entry, value, batch) -> dict:
    """The extra arguments `update` gets for `entry`: what it needs plus an unknown one."""
    kwargs = {UNKNOWN_KWARG: jnp.ones([], jnp.float32)}
    if "value" in entry.extra_args:
        kwargs["value"] = value
    if "value_fn" in entry.extra_args:
        kwargs["value_fn"] = loss_fn
        kwargs["batch"] = batch
    return kwargs


def wrap(entry: Entry, wrapper: str | None) -> optax.GradientTransformation:
    """The entry's optimizer, optionally wrapped (`"apply_if_finite"` or `"multi_steps"`)."""
    tx = entry.optimizer()
    if wrapper is None:
        return tx
    if wrapper == "apply_if_finite":
        return optax.apply_if_finite(tx, max_consecutive_errors=100)
    if wrapper == "multi_steps":
        return optax.MultiSteps(tx, every_k_schedule=2)
    raise ValueError(f"wrapper: unknown {wrapper!r}")


@functools.cache
def jitted_step(name: str, wrapper: str | None = None):
    """`step(params, state, grads, value, batch) -> (params, state, updates)`, jitted.

    `grads` and `value` are inputs (not computed inside) so that fault tests can inject
    NaN/inf; `honest_inputs` computes the real ones. `TRACE_COUNTS[(name, wrapper)]`
    counts the traces.
    """
    entry = ENTRIES[name]
    tx = wrap(entry, wrapper)

    def step(params, state, grads, value, batch):
        TRACE_COUNTS[(name, wrapper)] = TRACE_COUNTS.get((name, wrapper), 0) + 1
        kwargs = update_kwargs(entry, value, batch)
        updates, state = tx.update(grads, state, params, **kwargs)
        return optax.apply_updates(params, updates), state, updates

    return jax.jit(step)


def init_state(name: str, params, wrapper: str | None = None):
    return wrap(ENTRIES[name], wrapper).init(params)


def honest_inputs(params, batch):
    """`(grads, value)` of `loss_fn` at `params`."""
    value, grads = value_and_grad_fn(params, batch)
    return grads, value


def run(name: str, params, batch, num_steps: int = NUM_STEPS, wrapper: str | None = None,
        state=None):
    """Runs `num_steps` jitted steps with honest gradients; returns `(params, state)`."""
    step = jitted_step(name, wrapper)
    state = init_state(name, params, wrapper) if state is None else state
    for _ in range(num_steps):
        grads, value = honest_inputs(params, batch)
        params, state, _ = step(params, state, grads, value, batch)
    return params, state


def all_finite(tree) -> bool:
    """Whether every inexact leaf of `tree` is finite (PRNG keys and ints are skipped)."""
    for leaf in jax.tree.leaves(tree):
        leaf = jnp.asarray(leaf) if not jax.dtypes.issubdtype(
            getattr(leaf, "dtype", None), jax.dtypes.prng_key) else leaf
        if jnp.issubdtype(leaf.dtype, jnp.inexact) and not bool(jnp.all(jnp.isfinite(leaf))):
            return False
    return True


def is_key(x) -> bool:
    """Whether `x` is a new-style typed PRNG key array."""
    return jax.dtypes.issubdtype(getattr(x, "dtype", None), jax.dtypes.prng_key)


def keys_as_data(tree):
    """`tree` with typed PRNG keys replaced by their `jax.random.key_data` (uint32)."""
    return jax.tree.map(lambda x: jax.random.key_data(x) if is_key(x) else x, tree)


def shape_dtype_tree(tree):
    """`(treedef, [(shape, dtype), ...])`: what must stay fixed across steps."""
    leaves, treedef = jax.tree.flatten(tree)
    return treedef, [(jnp.shape(x), jnp.result_type(x)) for x in leaves]


# --------------------------------------------------------------------------------------------
# Invalid hyperparameters: (constructor, kwargs, parameter name) for every public constructor.
# --------------------------------------------------------------------------------------------


def _matvec(v):
    return 2.0 * v


_LIKE = jnp.zeros(4)
_HVP_ARGS = {"hvp_fn": _matvec, "grad": jnp.ones(4), "radius": 1.0}
_TR_FUN = {"fun": lambda x: jnp.sum(x ** 2), "x0": jnp.ones(2)}
_LANDSCAPE_ARGS = {"matvec": _matvec, "like": _LIKE, "key": KEY}

INVALID_CASES: tuple[tuple[Callable[..., Any], dict, str], ...] = (
    # weight-decay schedules
    (co.cosine_annealing, {"init_strength": -1.0, "period": 10}, "init_strength"),
    (co.cosine_annealing, {"init_strength": 0.1, "period": 0}, "period"),
    (co.cosine_annealing, {"init_strength": "a", "period": 10}, "init_strength"),
    (co.power_law_annealing, {"init_strength": float("nan")}, "init_strength"),
    (co.power_law_annealing, {"init_strength": 0.1, "exponent": -0.5}, "exponent"),
    (co.lr_matched_annealing, {"init_strength": -0.1, "learning_rate": 0.1}, "init_strength"),
    (co.lr_matched_annealing, {"init_strength": 0.1, "learning_rate": 0.0}, "learning_rate"),
    (co.lr_matched_annealing, {"init_strength": 0.1, "learning_rate": lambda c: 0.0 * c},
     "learning_rate"),
    (co.matched_annealing, {"init_strength": -1.0}, "init_strength"),
    (co.matched_annealing, {"init_strength": 0.1, "memory": 0}, "memory"),
    (co.matched_annealing, {"init_strength": 0.1, "memory": 2.5}, "memory"),
    (co.matched_annealing, {"init_strength": 0.1, "smoothing": "median"}, "smoothing"),
    (co.matched_annealing, {"init_strength": 0.1, "warmup_steps": -1}, "warmup_steps"),
    (co.matched_annealing, {"init_strength": 0.1, "loss_floor": float("inf")}, "loss_floor"),
    (co.matched_annealing, {"init_strength": 0.1, "max_ratio": 0.0}, "max_ratio"),
    # issue 13: float32 overflow/underflow, int32 limits, arrays of any shape
    (co.cosine_annealing, {"init_strength": 1e39, "period": 10}, "init_strength"),
    (co.cosine_annealing, {"init_strength": 0.1, "period": 1e-39}, "period"),
    (co.cosine_annealing, {"init_strength": 0.1, "period": 0.5}, "period"),
    (co.power_law_annealing, {"init_strength": jnp.asarray([0.1, -0.1])}, "init_strength"),
    (co.matched_annealing, {"init_strength": 0.1, "warmup_steps": 2**31}, "warmup_steps"),
    (co.matched_annealing, {"init_strength": 0.1, "memory": 2**31}, "memory"),
    # weight decay and two-step
    (co.complexity_weight_decay, {"strength": -0.1}, "strength"),
    (co.complexity_weight_decay, {"strength": True}, "strength"),
    (co.complexity_weight_decay, {"strength": 1e39}, "strength"),
    (co.complexity_weight_decay, {"strength": jnp.asarray([0.1, -0.1])}, "strength"),
    (co.complexity_weight_decay, {"strength": 0.1, "mask": "abc"}, "mask"),
    (co.two_step_annealing, {"learning_rate": -0.1, "strength": 0.1}, "learning_rate"),
    (co.two_step_annealing, {"learning_rate": 0.1, "strength": -0.1}, "strength"),
    (co.two_step_annealing, {"learning_rate": jnp.asarray([0.1, -0.1]), "strength": 0.1},
     "learning_rate"),
    (co.two_step_annealing, {"learning_rate": 0.1, "strength": 0.1, "mask": "abc"}, "mask"),
    # sphere and field
    (co.project_onto_sphere, {"radius": 0.0}, "radius"),
    (co.project_onto_sphere, {"scope": "per_tree"}, "scope"),
    (co.tangent_projection, {"scope": "local"}, "scope"),
    (co.sphere_init, {"key": KEY, "params": jnp.zeros(3), "radius": -1.0}, "radius"),
    (co.sphere_init, {"key": KEY, "params": jnp.zeros(3, jnp.int32)}, "params"),
    (co.sphere_init, {"key": KEY, "params": jnp.zeros(3), "radius": "init"}, "radius"),
    (co.project_onto_sphere, {"radius": "unit"}, "radius"),
    (co.add_annealed_field, {"scale": -1.0, "key": KEY}, "scale"),
    (co.add_annealed_field, {"scale": 1e39, "key": KEY}, "scale"),
    (co.add_annealed_field, {"scale": float("inf"), "key": KEY}, "scale"),
    (co.add_annealed_field, {"scale": 1.0, "key": KEY, "relative_to": "loss"}, "relative_to"),
    (co.add_annealed_field, {"scale": 1.0, "key": "seed"}, "key"),
    (co.add_annealed_field, {"scale": 1.0, "key": KEY, "resample": 1}, "resample"),
    # ready-made optimizers
    (co.complexity_sgd, {"learning_rate": 0.0, "strength": 0.1}, "learning_rate"),
    (co.complexity_sgd, {"learning_rate": 0.1, "strength": -0.1}, "strength"),
    (co.complexity_sgd, {"learning_rate": 0.1, "strength": 0.1, "momentum": 1.0}, "momentum"),
    (co.complexity_sgd, {"learning_rate": 0.1, "strength": 0.1, "two_step": True,
                         "momentum": 0.9}, "momentum"),
    (co.complexity_sgd, {"learning_rate": 0.1, "strength": 0.1, "radius": -1.0}, "radius"),
    (co.complexity_sgd, {"learning_rate": 0.1, "strength": 0.1, "radius": 2.0,
                         "sphere": False}, "radius"),
    (co.complexity_sgd, {"learning_rate": 0.1, "strength": 0.1, "sphere": 1}, "sphere"),
    (co.complexity_sgd, {"learning_rate": 0.1, "strength": 0.1, "two_step": "yes"}, "two_step"),
    (co.complexity_sgd, {"learning_rate": 0.1, "strength": 0.1, "scope": "layer"}, "scope"),
    (co.anneal_sgd, {"learning_rate": -1.0, "field_scale": 1.0, "key": KEY}, "learning_rate"),
    (co.anneal_sgd, {"learning_rate": 0.1, "field_scale": -1.0, "key": KEY}, "field_scale"),
    (co.anneal_sgd, {"learning_rate": 0.1, "field_scale": 1.0, "key": KEY, "momentum": -0.1},
     "momentum"),
    (co.anneal_sgd, {"learning_rate": 0.1, "field_scale": 1.0, "key": KEY, "sphere": True,
                     "radius": 0.0}, "radius"),
    (co.anneal_sgd, {"learning_rate": 0.1, "field_scale": 1.0, "key": KEY, "radius": 2.0},
     "radius"),
    (co.anneal_sgd, {"learning_rate": 0.1, "field_scale": 1.0, "key": KEY,
                     "relative_to": "hessian"}, "relative_to"),
    # ellipsoids
    (co.rmsprop_ellipsoid, {"decay": 1.0}, "decay"),
    (co.rmsprop_ellipsoid, {"eps": -1e-8}, "eps"),
    (co.rmsprop_ellipsoid, {"bias_correction": 1}, "bias_correction"),
    (co.rmsprop_ellipsoid, {"eps": 0.0}, "eps"),  # eps = 0 needs initial_accumulator > 0
    (co.rmsprop_ellipsoid, {"initial_accumulator": -1e-10}, "initial_accumulator"),
    (co.adam_ellipsoid, {"decay": -0.1}, "decay"),
    (co.adam_ellipsoid, {"eps": -1.0}, "eps"),
    (co.adagrad_ellipsoid, {"eps": -1.0}, "eps"),
    (co.adagrad_ellipsoid, {"initial_accumulator": -1.0}, "initial_accumulator"),
    (co.adagrad_ellipsoid, {"eps": 0.0}, "eps"),  # eps = 0 needs initial_accumulator > 0
    (co.adam_ellipsoid, {"eps": 0.0}, "eps"),
    (co.get_ellipsoid, {"spec": "lbfgs"}, "ellipsoid"),
    # trust region
    (co.trust_region, {"ellipsoid": "lbfgs"}, "ellipsoid"),
    (co.trust_region, {"preset": "nocedal"}, "preset"),
    (co.trust_region, {"max_radius": float("inf")}, "max_radius"),
    (co.trust_region, {"cg_stop": "never"}, "cg_stop"),
    (co.trust_region, {"cg_forcing_exponent": -1.0}, "cg_forcing_exponent"),
    (co.trust_region, {"radius_norm": "euclidean"}, "radius_norm"),
    (co.trust_region, {"diagonal_floor": 2.0}, "diagonal_floor"),
    (co.trust_region, {"subproblem": "dogleg"}, "subproblem"),
    (co.minimize_trust_region, {**_TR_FUN, "max_radius": float("inf")}, "max_radius"),
    (co.minimize_trust_region, {**_TR_FUN, "xtol": -1.0}, "xtol"),
    (co.minimize_trust_region, {**_TR_FUN, "ftol": -1.0}, "ftol"),
    (co.minimize_trust_region, {**_TR_FUN, "preset": "nocedal"}, "preset"),
    (co.minimize_trust_region, {**_TR_FUN, "hessp": 3.0}, "hessp"),
    (co.minimize_trust_region, {**_TR_FUN, "callback_every": 0}, "callback_every"),
    (co.lanczos_subproblem, {**_HVP_ARGS, "max_iters": 0}, "max_iters"),
    (co.trust_region, {"initial_radius": 0.0}, "initial_radius"),
    (co.trust_region, {"initial_radius": 20.0, "max_radius": 10.0}, "initial_radius"),
    (co.trust_region, {"max_radius": -1.0}, "max_radius"),
    (co.trust_region, {"eta1": 1.0}, "eta1"),
    (co.trust_region, {"eta1": 0.5, "eta2": 0.2}, "eta1"),
    (co.trust_region, {"eta2": 0.0}, "eta2"),
    (co.trust_region, {"increase": 1.0}, "increase"),
    (co.trust_region, {"decrease": 1.0}, "decrease"),
    (co.trust_region, {"max_cg_iters": 0}, "max_cg_iters"),
    (co.trust_region, {"max_cg_iters": 2.0}, "max_cg_iters"),
    (co.trust_region, {"cg_rtol": 0.0}, "cg_rtol"),
    (co.trust_region, {"cg_theta": -1.0}, "cg_theta"),
    (co.steihaug_cg, {**_HVP_ARGS, "max_iters": 0}, "max_iters"),
    (co.steihaug_cg, {**_HVP_ARGS, "rtol": -0.1}, "rtol"),
    (co.steihaug_cg, {**_HVP_ARGS, "theta": -0.5}, "theta"),
    (co.minimize_trust_region, {**_TR_FUN, "initial_radius": -1.0}, "initial_radius"),
    (co.minimize_trust_region, {**_TR_FUN, "initial_radius": 2e3}, "initial_radius"),
    (co.minimize_trust_region, {**_TR_FUN, "max_radius": 0.0}, "max_radius"),
    (co.minimize_trust_region, {**_TR_FUN, "eta1": -0.1}, "eta1"),
    (co.minimize_trust_region, {**_TR_FUN, "eta2": 1.0}, "eta2"),
    (co.minimize_trust_region, {**_TR_FUN, "eta1": 0.8, "eta2": 0.5}, "eta1"),
    (co.minimize_trust_region, {**_TR_FUN, "increase": 0.5}, "increase"),
    (co.minimize_trust_region, {**_TR_FUN, "decrease": 0.0}, "decrease"),
    (co.minimize_trust_region, {**_TR_FUN, "shrink_below": 0.9}, "shrink_below"),
    (co.minimize_trust_region, {**_TR_FUN, "max_steps": 0}, "max_steps"),
    (co.minimize_trust_region, {**_TR_FUN, "gtol": -1.0}, "gtol"),
    (co.minimize_trust_region, {**_TR_FUN, "max_cg_iters": 0}, "max_cg_iters"),
    (co.minimize_trust_region, {**_TR_FUN, "cg_rtol": 1.0}, "cg_rtol"),
    (co.minimize_trust_region, {**_TR_FUN, "cg_theta": -1.0}, "cg_theta"),
    (co.minimize_trust_region, {**_TR_FUN, "ellipsoid": "newton"}, "ellipsoid"),
    (co.minimize_trust_region, {"fun": 3.0, "x0": jnp.ones(2)}, "fun"),
    (co.minimize_trust_region, {"fun": _TR_FUN["fun"], "x0": jnp.ones(0)}, "x0"),
    # regularised Newton: ARC and saddle-free Newton
    (co.cubic_regularization, {"ellipsoid": "lbfgs"}, "ellipsoid"),
    (co.cubic_regularization, {"initial_sigma": 0.0}, "initial_sigma"),
    (co.cubic_regularization, {"min_sigma": -1.0}, "min_sigma"),
    (co.cubic_regularization, {"initial_sigma": 1e-9, "min_sigma": 1e-8}, "initial_sigma"),
    (co.cubic_regularization, {"eta1": 0.0}, "eta1"),
    (co.cubic_regularization, {"eta1": 0.5, "eta2": 0.2}, "eta1"),
    (co.cubic_regularization, {"eta2": 1.0}, "eta2"),
    (co.cubic_regularization, {"increase": 1.0}, "increase"),
    (co.cubic_regularization, {"decrease": 1.0}, "decrease"),
    (co.cubic_regularization, {"max_krylov": 0}, "max_krylov"),
    (co.cubic_regularization, {"max_krylov": 2.0}, "max_krylov"),
    (co.cubic_regularization, {"kappa": 0.0}, "kappa"),
    (co.cubic_subproblem, {"hvp_fn": _matvec, "grad": jnp.ones(4), "sigma": -1.0}, "sigma"),
    (co.cubic_subproblem, {"hvp_fn": _matvec, "grad": jnp.ones(4), "sigma": 1.0,
                           "max_iters": 0}, "max_iters"),
    (co.minimize_cubic, {**_TR_FUN, "initial_sigma": -1.0}, "initial_sigma"),
    (co.minimize_cubic, {**_TR_FUN, "max_steps": 0}, "max_steps"),
    (co.minimize_cubic, {**_TR_FUN, "gtol": -1.0}, "gtol"),
    (co.minimize_cubic, {**_TR_FUN, "max_krylov": 0}, "max_krylov"),
    (co.minimize_cubic, {**_TR_FUN, "ellipsoid": "newton"}, "ellipsoid"),
    (co.minimize_cubic, {"fun": 3.0, "x0": jnp.ones(2)}, "fun"),
    (co.minimize_cubic, {"fun": _TR_FUN["fun"], "x0": jnp.ones(0)}, "x0"),
    (co.saddle_free_newton, {"learning_rate": 0.0}, "learning_rate"),
    (co.saddle_free_newton, {"krylov_dim": 0}, "krylov_dim"),
    (co.saddle_free_newton, {"damping": -1.0}, "damping"),
    (co.saddle_free_newton, {"damping_growth": 1.0}, "damping_growth"),
    (co.saddle_free_newton, {"num_damping": 1.5}, "num_damping"),
    (co.saddle_free_direction, {"hvp_fn": _matvec, "grad": jnp.ones(4), "krylov_dim": 0},
     "krylov_dim"),
    (co.minimize_saddle_free_newton, {**_TR_FUN, "krylov_dim": 0}, "krylov_dim"),
    (co.minimize_saddle_free_newton, {**_TR_FUN, "damping": -1.0}, "damping"),
    (co.minimize_saddle_free_newton, {**_TR_FUN, "max_steps": 0}, "max_steps"),
    (co.minimize_saddle_free_newton, {"fun": 3.0, "x0": jnp.ones(2)}, "fun"),
    # Entropy-SGD
    (co.entropy_sgd, {"learning_rate": -0.1, "key": KEY}, "learning_rate"),
    (co.entropy_sgd, {"learning_rate": 0.1, "key": "seed"}, "key"),
    (co.entropy_sgd, {"learning_rate": 0.1, "key": KEY, "gamma": 0.0}, "gamma"),
    (co.entropy_sgd, {"learning_rate": 0.1, "key": KEY, "inner_steps": 0}, "inner_steps"),
    (co.entropy_sgd, {"learning_rate": 0.1, "key": KEY, "inner_lr": 0.0}, "inner_lr"),
    (co.entropy_sgd, {"learning_rate": 0.1, "key": KEY, "noise": -1e-4}, "noise"),
    (co.entropy_sgd, {"learning_rate": 0.1, "key": KEY, "scoping": -1e-3}, "scoping"),
    (co.entropy_sgd, {"learning_rate": 0.1, "key": KEY, "mean_decay": 0.0}, "mean_decay"),
    (co.entropy_sgd, {"learning_rate": 0.1, "key": KEY, "momentum": 1.0}, "momentum"),
    (co.entropy_sgd, {"learning_rate": 0.1, "key": KEY, "gamma": optax.constant_schedule(1.0),
                      "scoping": 1e-3}, "scoping"),
    (co.scale_by_local_entropy, {"key": KEY, "inner_steps": 2.0}, "inner_steps"),
    (co.scoping_schedule, {"gamma": -1.0, "scoping": 1e-3}, "gamma"),
    (co.scoping_schedule, {"gamma": 1.0, "scoping": -1.0}, "scoping"),
    # round three (item 5): non-scalar hyperparameters, bad callables and pytrees, int64 seeds
    (co.cubic_subproblem, {"hvp_fn": None, "grad": jnp.ones(4), "sigma": 1.0}, "hvp_fn"),
    (co.cubic_subproblem, {"hvp_fn": _matvec, "grad": {}, "sigma": 1.0}, "grad"),
    (co.cubic_subproblem, {"hvp_fn": _matvec, "grad": jnp.ones(4, jnp.int32), "sigma": 1.0},
     "grad"),
    (co.cubic_subproblem, {"hvp_fn": _matvec, "grad": jnp.ones(4), "sigma": jnp.ones(2)},
     "sigma"),
    (co.cubic_subproblem, {"hvp_fn": _matvec, "grad": jnp.ones(4), "sigma": 1.0,
                           "diagonal": jnp.zeros(4)}, "diagonal"),
    (co.cubic_subproblem, {"hvp_fn": _matvec, "grad": jnp.ones(4), "sigma": 1.0,
                           "diagonal": jnp.ones(3)}, "diagonal"),
    (co.saddle_free_direction, {"hvp_fn": None, "grad": jnp.ones(4), "krylov_dim": 2},
     "hvp_fn"),
    (co.saddle_free_direction, {"hvp_fn": _matvec, "grad": jnp.zeros(0), "krylov_dim": 2},
     "grad"),
    (co.saddle_free_direction, {"hvp_fn": _matvec, "grad": jnp.ones(4), "krylov_dim": 2,
                                "damping": jnp.ones(2)}, "damping"),
    (co.minimize_cubic, {"fun": _TR_FUN["fun"], "x0": jnp.ones(2, jnp.int32)}, "x0"),
    (co.minimize_cubic, {**_TR_FUN, "gtol": jnp.ones(2)}, "gtol"),
    (co.minimize_saddle_free_newton, {"fun": _TR_FUN["fun"], "x0": jnp.ones(2, jnp.int32)},
     "x0"),
    (co.cubic_regularization, {"initial_sigma": jnp.ones(2)}, "initial_sigma"),
    (co.saddle_free_newton, {"learning_rate": jnp.ones(2)}, "learning_rate"),
    (co.entropy_sgd, {"learning_rate": 0.1, "key": 2**64}, "key"),
    (co.entropy_sgd, {"learning_rate": jnp.full((2,), 0.1), "key": KEY}, "learning_rate"),
    (co.scale_by_local_entropy, {"key": KEY, "noise": jnp.full((2,), 1e-4)}, "noise"),
    (co.scoping_schedule, {"gamma": jnp.ones(2), "scoping": 1e-3}, "gamma"),
    (co.add_annealed_field, {"scale": 1.0, "key": 2**64}, "key"),
    (co.add_annealed_field, {"scale": jnp.full((2,), 0.5), "key": KEY}, "scale"),
    (co.anneal_sgd, {"learning_rate": 0.1, "field_scale": 1.0, "key": KEY,
                     "momentum": jnp.full((2,), 0.5)}, "momentum"),
    (co.sphere_init, {"key": 2**64, "params": jnp.zeros(3)}, "key"),
    (co.project_onto_sphere, {"radius": jnp.ones(2)}, "radius"),
    (co.complexity_sgd, {"learning_rate": jnp.full((2,), 0.1), "strength": 0.1},
     "learning_rate"),
    (co.complexity_weight_decay, {"strength": jnp.full((2,), 0.1)}, "strength"),
    (co.two_step_annealing, {"learning_rate": jnp.full((2,), 0.1), "strength": 0.1},
     "learning_rate"),
    (co.power_law_annealing, {"init_strength": jnp.full((2,), 0.1)}, "init_strength"),
    (co.matched_annealing, {"init_strength": 0.1, "max_ratio": jnp.full((2,), 2.0)},
     "max_ratio"),
    # landscape: spin glasses and theory
    (landscape.pure_p_spin, {"key": KEY, "n": 0, "p": 3}, "n"),
    (landscape.pure_p_spin, {"key": KEY, "n": 4, "p": 0}, "p"),
    (landscape.pure_p_spin, {"key": KEY, "n": 4, "p": 3, "field": -1.0}, "field"),
    (landscape.pure_p_spin, {"key": KEY, "n": 1000, "p": 4}, "n"),
    (landscape.mixed_p_spin, {"key": KEY, "n": 4, "coefficients": {3: 0.0}}, "coefficients"),
    (landscape.mixed_p_spin, {"key": KEY, "n": 4, "coefficients": {0: 1.0}}, "coefficients"),
    (landscape.mixed_p_spin, {"key": KEY, "n": 4, "coefficients": {3: float("inf")}},
     "coefficients"),
    (landscape.threshold_energy, {"p": 1}, "p"),
    (landscape.ground_state_energy, {"p": 1}, "p"),
    (landscape.critical_energy, {"p": 3, "k": -1}, "k"),
    (landscape.complexity, {"u": -1.7, "p": 1}, "p"),
    (landscape.complexity, {"u": -1.7, "p": 3, "k": -2}, "k"),
    (landscape.index_at_energy, {"u": -1.7, "p": 2.5}, "p"),
    (landscape.pure_p_spin, {"key": KEY, "n": 4, "p": 3, "dtype": jnp.int32}, "dtype"),
    (landscape.semicircle_density, {"x": 0.0, "radius": 0.0}, "radius"),
    (landscape.semicircle_cdf, {"x": 0.0, "radius": -1.0}, "radius"),
    (landscape.alpha_from_mean_eigenvalue, {"mean_eig": 0.0, "radius": float("nan")}, "radius"),
    (landscape.critical_energy_scale, {"f0": 1.0, "f1": -1.0, "f2": 0.0}, "f2"),
    (landscape.complexity_constant_p, {"f0": 1.0, "f1": -1.0, "f2": 1.0, "n": 0}, "n"),
    (landscape.complexity_constant_q, {"f0": 1.0, "f1": 0.0, "f2": 1.0}, "f1"),
    (landscape.complexity_matrix, {"f0": 1.0, "f1": -2.0, "f2": 1.0}, "f2"),
    (landscape.mean_eigenvalue_at_energy_density,
     {"eps": 0.1, "f0": -1.0, "f1": -1.0, "f2": 1.0}, "f0"),
    (landscape.index_at_energy_density, {"eps": 0.1, "eps_c": 0.0}, "eps_c"),
    (landscape.positive_fraction_at_energy_density, {"eps": 0.1, "eps_c": float("nan")},
     "eps_c"),
    # landscape: geometry
    (landscape.random_direction, {"key": KEY, "params": _LIKE, "normalization": "unit"},
     "normalization"),
    (landscape.curve_point, {"start": _LIKE, "control": _LIKE, "end": _LIKE, "t": 0.5,
                             "kind": "spline"}, "kind"),
    (landscape.fit_connecting_curve, {"loss_fn": lambda p: 0.0, "start": _LIKE, "end": _LIKE,
                                      "key": KEY, "num_steps": 0}, "num_steps"),
    # landscape: Hessian tools
    (landscape.hutchinson_trace, {**_LANDSCAPE_ARGS, "num_samples": 1}, "num_samples"),
    (landscape.hutchinson_trace, {**_LANDSCAPE_ARGS, "batch_size": 0}, "batch_size"),
    (landscape.hutchinson_diagonal, {**_LANDSCAPE_ARGS, "num_samples": 0}, "num_samples"),
    (landscape.mean_eigenvalue, {**_LANDSCAPE_ARGS, "num_samples": 0}, "num_samples"),
    (landscape.lanczos, {**_LANDSCAPE_ARGS, "num_steps": 0}, "num_steps"),
    (landscape.lanczos, {**_LANDSCAPE_ARGS, "num_steps": 5}, "num_steps"),
    (landscape.top_eigenvalues, {**_LANDSCAPE_ARGS, "k": 0}, "k"),
    (landscape.top_eigenvalues, {**_LANDSCAPE_ARGS, "k": 5}, "k"),
    (landscape.top_eigenvalues, {**_LANDSCAPE_ARGS, "k": 2, "num_steps": 1}, "num_steps"),
    (landscape.lanczos_quadrature, {**_LANDSCAPE_ARGS, "num_probes": 0}, "num_probes"),
    (landscape.lanczos_quadrature, {**_LANDSCAPE_ARGS, "num_steps": 9}, "num_steps"),
    (landscape.spectral_density, {**_LANDSCAPE_ARGS, "num_steps": 2, "num_points": 1},
     "num_points"),
    (landscape.spectral_density, {**_LANDSCAPE_ARGS, "num_steps": 2, "sigma": 0.0}, "sigma"),
    (landscape.index_fraction, {**_LANDSCAPE_ARGS, "num_probes": 0}, "num_probes"),
    (landscape.diagonal_share, {**_LANDSCAPE_ARGS, "num_columns": 0}, "num_columns"),
    (landscape.diagonal_share, {**_LANDSCAPE_ARGS, "num_columns": 5}, "num_columns"),
    (landscape.diagonal_share, {"matvec": _matvec, "like": _LIKE, "num_columns": 2}, "key"),
    (landscape.wigner_diagonal_share, {"dimension": 0}, "dimension"),
    (landscape.wigner_diagonal_share, {"dimension": 4, "diagonal_std": 0.0}, "diagonal_std"),
    (landscape.wigner_diagonal_share, {"dimension": 4, "off_diagonal_std": -1.0},
     "off_diagonal_std"),
    (landscape.ols_diagonal_share, {"num_features": 0, "num_examples": 4}, "num_features"),
    (landscape.ols_diagonal_share, {"num_features": 4, "num_examples": 0}, "num_examples"),
    (landscape.spectral_index, {**_LANDSCAPE_ARGS, "num_steps": 2, "tau": -1.0}, "tau"),
    (landscape.spectral_index, {**_LANDSCAPE_ARGS, "num_steps": 2, "relative_tau": -1.0},
     "relative_tau"),
    (landscape.spectral_index, {**_LANDSCAPE_ARGS, "num_steps": 2, "tolerance": 2.0},
     "tolerance"),
    (landscape.spectral_index, {**_LANDSCAPE_ARGS, "num_steps": 5}, "num_steps"),
    (landscape.hutchpp_trace, {**_LANDSCAPE_ARGS, "num_matvecs": 4}, "num_matvecs"),
    (landscape.hutchpp_trace, {**_LANDSCAPE_ARGS, "num_matvecs": 6, "rank": 3}, "rank"),
    (landscape.hutchpp_diagonal, {**_LANDSCAPE_ARGS, "num_matvecs": 9, "rank": 0}, "rank"),
    (landscape.eigenpairs, {**_LANDSCAPE_ARGS, "which": "middle"}, "which"),
    (landscape.bottom_eigenvalues, {**_LANDSCAPE_ARGS, "k": 0}, "k"),
    (landscape.lanczos_tridiagonals, {**_LANDSCAPE_ARGS, "num_probes": 0}, "num_probes"),
    (landscape.log_spectral_density, {**_LANDSCAPE_ARGS, "num_steps": 2, "floor": -1.0},
     "floor"),
    (landscape.block_operator, {"matvec": _matvec, "like": _LIKE, "select": lambda p: False},
     "select"),
)


def constructor_name(fn: Callable[..., Any]) -> str:
    """The public dotted name of a constructor, e.g. `co.trust_region`."""
    name = getattr(fn, "__name__", repr(fn))
    if getattr(landscape, name, None) is fn:
        return f"co.landscape.{name}"
    return f"co.{name}"


def invalid_case_id(case) -> str:
    fn, kwargs, param = case
    return f"{constructor_name(fn).split('.')[-1]}-{param}"


# --------------------------------------------------------------------------------------------
# Run-time faults: each case maps (params, batch) to (params, grads, value) for one step.
# --------------------------------------------------------------------------------------------


def _poison(tree, bad):
    """`tree` with its first scalar replaced by `bad`."""
    leaves, treedef = jax.tree.flatten(tree)
    leaves[0] = leaves[0].reshape(-1).at[0].set(bad).reshape(leaves[0].shape)
    return jax.tree.unflatten(treedef, leaves)


def public_transformations(module=co) -> dict[str, Callable[..., Any]]:
    """The callables of `module.__all__` annotated to return an optax `GradientTransformation`.

    Every public constructor is annotated (`test_contract.py` checks it), so this is the list a
    new transformation cannot stay out of: each of these must be the `factory` of an
    `Entry` of `REGISTRY`.
    """
    found = {}
    for name in module.__all__:
        obj = getattr(module, name)
        if not callable(obj) or isinstance(obj, type):
            continue
        annotation = inspect.signature(obj).return_annotation
        text = annotation if isinstance(annotation, str) else getattr(
            annotation, "__name__", str(annotation))
        if "GradientTransformation" in text:
            found[name] = obj
    return found


def make_convergence_problem(seed: int = 0, dtype: Any = np.float32):
    """A well-conditioned least-squares problem `(params, batch)` for the convergence check.

    16 examples, 3 inputs, 2 outputs: the Hessian of `loss_fn` (per output
    `2AᵀA/(n·d_out)`, `A = [x, 1]`) has eigenvalues in about [0.26, 1.73] at `seed=0`, so
    a step of `LEARNING_RATE` contracts the error by at least ~0.97 per step; the exact
    minimum is `least_squares_minimum`.
    """
    return make_problem(d_in=3, d_out=2, batch=16, seed=seed, dtype=dtype)


def least_squares_minimum(params, batch):
    """The exact minimiser of `loss_fn` (numpy lstsq with an intercept column)."""
    x, y = (np.asarray(a, np.float64) for a in batch)
    design = np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    dtype = params["kernel"].dtype
    return {"kernel": jnp.asarray(solution[:-1], dtype), "bias": jnp.asarray(solution[-1], dtype)}


def _nan_grads(params, batch):
    grads, value = honest_inputs(params, batch)
    return params, _poison(grads, jnp.nan), value


def _inf_grads(params, batch):
    grads, value = honest_inputs(params, batch)
    return params, _poison(grads, jnp.inf), value


def _nan_value(params, batch):
    grads, _ = honest_inputs(params, batch)
    return params, grads, jnp.asarray(jnp.nan, jnp.float32)


def _zero_params(params, batch):
    zeros = jax.tree.map(jnp.zeros_like, params)
    grads, value = honest_inputs(zeros, batch)
    return zeros, grads, value


def _zero_grads_at_minimum(params, batch):
    minimum = least_squares_minimum(params, batch)
    _, value = honest_inputs(minimum, batch)
    return minimum, jax.tree.map(jnp.zeros_like, params), value


def _exploding_loss(params, batch):
    grads, _ = honest_inputs(params, batch)
    return params, jax.tree.map(lambda g: g * 1e12, grads), jnp.asarray(1e30, jnp.float32)


FAULT_CASES: dict[str, Callable[..., Any]] = {
    "nan_grads": _nan_grads,
    "inf_grads": _inf_grads,
    "nan_value": _nan_value,
    "zero_params": _zero_params,
    "zero_grads_at_minimum": _zero_grads_at_minimum,
    "exploding_loss": _exploding_loss,
}
NON_FINITE_GRAD_CASES = ("nan_grads", "inf_grads")


def guard_wrapper(entry: Entry, case: str) -> str | None:
    """The wrapper the contract promises safety under: none if the entry guards itself."""
    if case in NON_FINITE_GRAD_CASES and not entry.guards_nan_grads:
        return "apply_if_finite"
    return None


def own_state(state):
    """`state` without optax's own momentum buffers (`optax.trace`), which we do not guard."""
    return jax.tree.map(lambda x: None if isinstance(x, optax.TraceState) else x, state,
                        is_leaf=lambda x: isinstance(x, optax.TraceState))


def run_fault(name: str, case: str, params, batch, *, wrapper: str | None = "guard"):
    """One honest step, then the faulty step, then one honest step.

    Returns ``(params_before_fault, state_before_fault, params_after_fault, state_after_fault,
    params_final, state_final)`. `wrapper="guard"`` uses `guard_wrapper`.
    """
    entry = ENTRIES[name]
    if wrapper == "guard":
        wrapper = guard_wrapper(entry, case)
    step = jitted_step(name, wrapper)
    state = init_state(name, params, wrapper)
    grads, value = honest_inputs(params, batch)
    params, state, _ = step(params, state, grads, value, batch)
    p0, g0, v0 = FAULT_CASES[case](params, batch)
    state0 = state
    p1, state1, _ = step(p0, state0, g0, v0, batch)
    grads, value = honest_inputs(p1, batch)
    p2, state2, _ = step(p1, state1, grads, value, batch)
    return p0, state0, p1, state1, p2, state2
