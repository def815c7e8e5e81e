# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The strength λ of an L² penalty λ‖θ‖²: resolving it to a schedule, and adding its gradient 2λθ.

Shared by `complexity_optax._src.complexity_annealing.weight_decay` and
`complexity_optax._src.complexity_annealing.two_step`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks

Strength = (float | Callable[[jax.typing.ArrayLike], jax.typing.ArrayLike]
            | optax.schedules.StatefulSchedule)
Mask = Any | Callable[[optax.Params], Any] | None


class ConstantStrength:
    """A constant λ as a stateful schedule (empty state)."""

    def __init__(self, value: jax.typing.ArrayLike):
        self.value = value  # may be a traced array (inside optax.inject_hyperparams)

    def init(self) -> optax.EmptyState:
        return optax.EmptyState()

    def update(self, state: optax.EmptyState, **extra_args: Any) -> optax.EmptyState:
        del extra_args
        return state

    def __call__(self, state: optax.EmptyState, **extra_args: Any) -> jax.Array:
        del state, extra_args
        return jnp.asarray(self.value, jnp.float32)


def resolve_strength(
    strength: Strength, name: str = "strength"
) -> optax.schedules.StatefulSchedule:
    """Returns `strength` as an `optax.schedules.StatefulSchedule`.

    A float λ ≥ 0 becomes a constant, a step-count schedule `count -> λ` is wrapped in
    `optax.schedules.WrappedSchedule` (its own int32 count), and a stateful schedule (such as
    `complexity_optax.matched_annealing`) is returned as is.
    """
    if isinstance(strength, optax.schedules.StatefulSchedule):
        return strength
    if callable(strength):
        return optax.schedules.WrappedSchedule(checks.scalar_schedule(name, strength))
    if not is_traced(strength):  # traced inside inject_hyperparams: checked at (concrete) init
        checks.check_positive(name, strength, allow_zero=True)
        # The penalty gradient is 2λθ: 2λ must fit in float32 (1e39 would give inf updates).
        checks.check_representable(name, strength, factor=2.0)
    checks.check_scalar(name, strength)
    return ConstantStrength(strength)


def check_mask(mask: Mask) -> None:
    """Raises unless `mask` is `None`, a callable or a pytree of bools (optax semantics)."""
    checks.check_mask("mask", mask)


is_traced = checks.is_traced


def schedule_strength(
    schedule: optax.schedules.StatefulSchedule,
    schedule_state: Any,
    previous: jax.Array,
    extra_args: dict[str, Any],
) -> tuple[jax.Array, Any]:
    """This step's λ (float32) and the advanced schedule state, as `inject_hyperparams` does.

    A non-finite λ (a faulty schedule) is replaced by `previous`, so it never reaches the state.
    """
    lam = checks.scalar_output("strength", schedule(schedule_state, **extra_args)).astype(
        jnp.float32)
    lam = jnp.where(jnp.isfinite(lam), lam, previous)
    return lam, schedule.update(schedule_state, **extra_args)


def initial_strength(schedule: optax.schedules.StatefulSchedule, schedule_state: Any) -> jax.Array:
    """λ at init (float32 scalar): the schedule's value on its initial state, with no extra args."""
    return checks.scalar_output("strength", schedule(schedule_state)).astype(jnp.float32)


def initial_state(schedule: optax.schedules.StatefulSchedule, state_type: Any) -> Any:
    """`state_type(count=0, strength=λ₀, schedule_state=...)`: the shared init of the annealed
    penalty's states (`ComplexityWeightDecayState`, `TwoStepAnnealingState`)."""
    schedule_state = schedule.init()
    return state_type(
        count=jnp.zeros([], jnp.int32),
        strength=initial_strength(schedule, schedule_state),
        schedule_state=schedule_state,
    )


def _add_scaled_params(scale: jax.Array) -> optax.GradientTransformation:
    """Stateless `u ↦ u + scale·θ`, computed in the params' dtype, returned in the updates'."""

    def update_fn(updates, state, params=None):
        def leaf(u, p):
            if u is None:
                return None
            return (u + scale.astype(p.dtype) * p).astype(u.dtype)

        return jax.tree.map(leaf, updates, params, is_leaf=lambda x: x is None), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def add_penalty_gradient(updates: Any, params: Any, strength: jax.Array, mask: Mask = None) -> Any:
    """Returns `updates + 2·strength·params` on the leaves selected by `mask` (optax semantics).

    `mask` is `None` (all leaves), a pytree of bools or a callable
    `params -> pytree of bools`, applied through `optax.masked`. The sum is computed in each
    parameter's dtype.
    """
    if params is None:
        raise ValueError(checks.NO_PARAMS_MSG)
    tx = _add_scaled_params(2.0 * jnp.asarray(strength, jnp.float32))
    if mask is not None:
        tx = optax.masked(tx, mask)
    new_updates, _ = tx.update(updates, tx.init(params), params)
    return new_updates
