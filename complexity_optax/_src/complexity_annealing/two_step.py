# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Two-step (EM-like) annealing: an E step on f_i, then an M step of size (λ_i − λ_{i−1})·η."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.kwargs import fn_kwargs
from complexity_optax._src.common.tree import all_finite
from complexity_optax._src.complexity_annealing import strength as strength_lib

ScalarOrSchedule = float | Callable[[jax.typing.ArrayLike], jax.typing.ArrayLike]


class TwoStepAnnealingState(NamedTuple):
    """State of `two_step_annealing`.

    Attributes:
        count: number of updates so far (int32); the learning-rate schedule is evaluated at it.
        strength: λ of the last update (float32), i.e. λ_{i−1} for the next one; at init λ₀ (the
            schedule's initial value), so λ_{−1} := λ₀ and the first M step has size 0.
        schedule_state: the state of the strength's stateful schedule.
    """

    count: jax.Array
    strength: jax.Array
    schedule_state: Any


def _scale(tree: Any, scalar: jax.Array) -> Any:
    """`scalar · tree`, each leaf in its own dtype."""
    return jax.tree.map(lambda x: scalar.astype(x.dtype) * x, tree)


def _m_step_gradient(updates, params_e, value_fn, grad_fn, extra_args):
    """∇L at the E point: from `grad_fn`, else `jax.grad(value_fn)`, else the reused g."""
    if grad_fn is not None:
        grads = grad_fn(params_e, **fn_kwargs(grad_fn, extra_args))
    elif value_fn is not None:
        kwargs = fn_kwargs(value_fn, extra_args)
        grads = jax.grad(lambda p: value_fn(p, **kwargs))(params_e)
    else:
        return updates
    return optax.tree.cast_like(grads, updates)


def two_step_annealing(
    learning_rate: ScalarOrSchedule,
    strength: strength_lib.Strength,
    *,
    mask: strength_lib.Mask = None,
) -> optax.GradientTransformationExtraArgs:
    r"""Two-step annealing (Algorithm 3): a complete optimizer step, E step then M step.

    With f_i(θ) = L(θ) + λ_i‖θ‖² (gradient ∇L + 2λ_iθ; the optax weight decay is 2λ), learning rate
    η_i and g = ∇L(θ) the incoming updates:

    $$
    \begin{aligned}
    \theta_E &= \theta - \eta_i\,(g + 2\lambda_i\theta)
        \qquad\text{(E step, size } \eta_i\text{)}\\
    \theta^+ &= \theta_E - (\lambda_i - \lambda_{i-1})\,\eta_i\,
        (\nabla L(\theta_E) + 2\lambda_i\theta_E)
        \qquad\text{(M step, size } (\lambda_i - \lambda_{i-1})\eta_i\text{)}
    \end{aligned}
    $$

    and the returned update is θ⁺ − θ: it already contains the −η scaling (like `optax.sgd`), so
    apply it with `optax.apply_updates` and do not chain another learning rate after it. The M
    step has size 0 when λ is constant and is negative (it steps back up f_i) when λ decreases, as
    in the algorithm; the first step has λ_{−1} := λ₀.

    ∇L(θ_E) needs a second gradient. Pass `grad_fn=` (`params -> grad pytree`) or
    `value_fn=` (`params -> loss`, differentiated with `jax.grad`) to `update`; extra
    keyword arguments whose names match the function's parameters after the first (e.g.
    `batch=`) are passed to it, as optax's line searches do, and other extra arguments are
    ignored. With both,
    `grad_fn` is used. With neither, the M step reuses g, i.e. uses g + 2λ_iθ_E: a first-order
    approximation that costs no extra gradient.

    **Guard.** If the gradient at θ_E is not finite (it overflows, or θ_E leaves the loss's
    domain), or the step is not finite however it arose, the step is skipped: the update is zero
    and the state (count, λ, schedule state) is returned unchanged, so a finite loss and finite
    gradients never produce NaN parameters, bare or inside `optax.apply_if_finite`.

    `strength` is a float, a step-count schedule or a stateful schedule (such as
    `complexity_optax.matched_annealing`, fed by `value=`), resolved as in
    `complexity_optax.complexity_weight_decay`; `mask` selects the penalised leaves (all
    leaves take both gradient steps). λ is float32; the update is computed in each leaf's dtype.

    Args:
        learning_rate: η > 0 or an optax schedule of the step count.
        strength: λ ≥ 0, a schedule, or an `optax.schedules.StatefulSchedule`.
        mask: `None`, a pytree of bools or a callable `params -> pytree of bools` (optax
            semantics) selecting the leaves that carry the penalty.

    Returns:
        An `optax.GradientTransformationExtraArgs`; `update` requires `params`.

    Examples:
        >>> import jax
        >>> import jax.numpy as jnp
        >>> import optax
        >>> import complexity_optax as co
        >>> loss = lambda p: jnp.sum(p ** 2)
        >>> tx = co.two_step_annealing(0.1, co.cosine_annealing(0.01, period=100))
        >>> params = jnp.array([1.0, 2.0])
        >>> state = tx.init(params)
        >>> updates, state = tx.update(jax.grad(loss)(params), state, params, value_fn=loss)
        >>> params = optax.apply_updates(params, updates)
        >>> [round(float(x), 3) for x in params]
        [0.796, 1.592]

    References:
        Richemond & Guo, *Combining learning rate decay and weight decay with complexity gradient
        descent - Part I*, 2019 (arXiv:1902.02881), Algorithm 3.
    """
    if not strength_lib.is_traced(learning_rate):  # traced inside inject_hyperparams
        checks.check_positive("learning_rate", learning_rate)
    checks.check_scalar("learning_rate", learning_rate)
    learning_rate = checks.scalar_schedule("learning_rate", learning_rate)
    schedule = strength_lib.resolve_strength(strength)
    strength_lib.check_mask(mask)
    if callable(learning_rate):
        lr_fn = learning_rate
    else:
        def lr_fn(count):
            return learning_rate  # may be traced: inject_hyperparams

    def init_fn(params):
        del params
        return strength_lib.initial_state(schedule, TwoStepAnnealingState)

    def update_fn(updates, state, params=None, **extra_args):
        if params is None:
            raise ValueError(checks.NO_PARAMS_MSG)
        value_fn = extra_args.pop("value_fn", None)
        grad_fn = extra_args.pop("grad_fn", None)
        lr = jnp.reshape(jnp.asarray(lr_fn(state.count), jnp.float32), ())
        lam, schedule_state = strength_lib.schedule_strength(
            schedule, state.schedule_state, state.strength, extra_args
        )
        # E step: θ_E = θ − η (g + 2λθ).
        updates_e = _scale(strength_lib.add_penalty_gradient(updates, params, lam, mask), -lr)
        params_e = jax.tree.map(lambda p, u: p + u.astype(p.dtype), params, updates_e)
        # M step of size (λ_i − λ_{i−1}) η on f_i at θ_E.
        grads_e = _m_step_gradient(updates, params_e, value_fn, grad_fn, extra_args)
        grads_m = strength_lib.add_penalty_gradient(grads_e, params_e, lam, mask)
        m_size = (lam - state.strength) * lr
        new_updates = jax.tree.map(
            lambda u, g: (u - m_size.astype(u.dtype) * g.astype(u.dtype)).astype(u.dtype),
            updates_e,
            grads_m,
        )
        new_state = TwoStepAnnealingState(
            count=optax.safe_increment(state.count),
            strength=lam,
            schedule_state=schedule_state,
        )
        # Guard: a non-finite gradient at the E point (overflow, or a point outside the loss's
        # domain), or a non-finite step however it arose (0·inf in an M step of size 0), skips
        # the whole step: zero update, state unchanged. Finite inputs never give NaN params.
        ok = all_finite(grads_e) & all_finite(new_updates)
        new_updates = optax.tree.where(ok, new_updates, optax.tree.zeros_like(new_updates))
        return new_updates, optax.tree.where(ok, new_state, state)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)
