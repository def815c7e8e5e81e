# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Annealed weight decay: adds the gradient 2λ_iθ of the penalty λ_i‖θ‖² to the updates."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.complexity_annealing import strength as strength_lib


class ComplexityWeightDecayState(NamedTuple):
    """State of `complexity_weight_decay`.

    Attributes:
        count: number of updates so far (int32).
        strength: λ of the last update (λ at init before the first one), float32: log it to follow
            the λ trajectory (`optax.tree.get(opt_state, "strength")` finds it inside a chain).
        schedule_state: the state of the strength's stateful schedule.
    """

    count: jax.Array
    strength: jax.Array
    schedule_state: Any


def complexity_weight_decay(
    strength: strength_lib.Strength, *, mask: strength_lib.Mask = None
) -> optax.GradientTransformationExtraArgs:
    r"""Adds the gradient of an annealed L² penalty λ_i‖θ‖² to the updates.

    $$
    u_i \leftarrow u_i + 2\lambda_i\,\theta_i,
    $$

    the gradient of f_i(θ) = L(θ) + λ_i‖θ‖² given the gradient of L in `u`. Note the factor 2:
    `optax.add_decayed_weights(weight_decay)` adds `weight_decay · θ`, so it matches this
    transformation for `weight_decay = 2λ`. Chain it before the learning-rate scaling, e.g.
    `optax.chain(complexity_weight_decay(s), optax.sgd(lr))`.

    λ_i comes from `strength`: a float (constant), a step-count schedule `count -> λ` (counted
    from 0 at the first update) or a stateful schedule such as
    `complexity_optax.matched_annealing`, which receives the update's extra arguments (e.g.
    `value=loss`) exactly as in `optax.inject_hyperparams`: λ_i = schedule(state, **extra_args),
    then the schedule state advances. A non-finite λ from a faulty schedule is replaced by the
    previous one. λ is computed in float32; the update is computed in each parameter's dtype and
    returned in the updates' dtype (bfloat16 in, bfloat16 out). Unknown extra arguments are ignored.

    Args:
        strength: λ ≥ 0, a schedule, or an `optax.schedules.StatefulSchedule`.
        mask: `None` (all leaves), a pytree of bools, or a callable `params -> pytree of bools`
            selecting the leaves that are penalised (applied with `optax.masked`).

    Returns:
        An `optax.GradientTransformationExtraArgs`; `update` requires `params`.

    Examples:
        >>> import jax.numpy as jnp
        >>> import complexity_optax as co
        >>> tx = co.complexity_weight_decay(0.5)
        >>> params = jnp.array([1.0, -2.0])
        >>> updates, state = tx.update(jnp.zeros(2), tx.init(params), params)
        >>> updates.tolist()
        [1.0, -2.0]

    References:
        Richemond & Guo, *Combining learning rate decay and weight decay with complexity gradient
        descent - Part I*, 2019 (arXiv:1902.02881), Algorithms 1-2.
    """
    schedule = strength_lib.resolve_strength(strength)
    strength_lib.check_mask(mask)

    def init_fn(params):
        del params
        return strength_lib.initial_state(schedule, ComplexityWeightDecayState)

    def update_fn(updates, state, params=None, **extra_args):
        if params is None:
            raise ValueError(checks.NO_PARAMS_MSG)
        lam, schedule_state = strength_lib.schedule_strength(
            schedule, state.schedule_state, state.strength, extra_args
        )
        updates = strength_lib.add_penalty_gradient(updates, params, lam, mask)
        return updates, ComplexityWeightDecayState(
            count=optax.safe_increment(state.count),
            strength=lam,
            schedule_state=schedule_state,
        )

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)
