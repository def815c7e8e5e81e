# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Step-count schedules for the strength of an annealed L² penalty.

Every function here returns a plain optax-style schedule: a pure, jit-friendly callable
``count -> strength`` (a float32 scalar). The strength is λ in the penalty λ‖θ‖², whose gradient is
2λθ; ``optax.add_decayed_weights(weight_decay)`` adds ``weight_decay · θ``, so the optax weight
decay that matches a strength λ is ``weight_decay = 2λ``.
"""

from __future__ import annotations

import math
from typing import Callable, Union

import jax
import jax.numpy as jnp

from complexity_optax._src.common import checks

Schedule = Callable[[jax.typing.ArrayLike], jax.Array]
ScalarOrSchedule = Union[float, Schedule]


def check_init_strength(init_strength) -> None:
    """Raises unless ``init_strength`` is a finite number ≥ 0 (schedules are not accepted)."""
    if callable(init_strength):
        raise TypeError(
            f"init_strength must be a real number, got the callable {init_strength!r}"
        )
    checks.check_positive("init_strength", init_strength, allow_zero=True)


def cosine_annealing(init_strength: float, period: float) -> Schedule:
    r"""Cosine annealing of the penalty strength with warm restarts (Algorithm 2).

    .. math::

        \lambda_t = \lambda_0 \left(1 + \cos\left(\frac{2\pi t}{T}\right)\right),

    so λ starts at 2λ₀, reaches 0 at t = T/2 and is back at 2λ₀ at t = T ("warm restarts in
    curvature", mirroring SGDR for the learning rate). The strength is that of λ‖θ‖² (gradient 2λθ;
    the optax weight decay is 2λ).

    Args:
        init_strength: λ₀ ≥ 0.
        period: the restart period T > 0, in steps.

    Returns:
        A schedule ``count -> λ_count`` (float32).

    Examples:
        >>> import complexity_optax as co
        >>> schedule = co.cosine_annealing(0.5, period=100)
        >>> float(schedule(0)), float(schedule(50))
        (1.0, 0.0)

    References:
        Richemond & Guo, *Combining learning rate decay and weight decay with complexity gradient
        descent - Part I*, 2019 (arXiv:1902.02881), Algorithm 2.
    """
    check_init_strength(init_strength)
    checks.check_positive("period", period)
    lam0 = checks.scalar(init_strength)
    omega = 2.0 * math.pi / checks.scalar(period)

    def schedule(count):
        t = jnp.asarray(count, jnp.float32)
        value = lam0 * (1.0 + jnp.cos(omega * t))
        return jnp.maximum(value, 0.0).astype(jnp.float32)

    return schedule


def power_law_annealing(init_strength: float, exponent: float = 0.5) -> Schedule:
    r"""Power-law decay of the penalty strength, matched to a power-law learning rate.

    .. math::

        \lambda_t = \lambda_0 \, (1 + t)^{-\eta}.

    From the symmetry |dε/ε| = |dλ/λ| between the learning rate ε and the strength λ (eq. 17 of the
    reference), a learning rate ε_t ∝ (1 + t)^(−η) calls for the same power law on λ; η = ½ is the
    default. The strength is that of λ‖θ‖² (gradient 2λθ; the optax weight decay is 2λ).

    Args:
        init_strength: λ₀ ≥ 0.
        exponent: η ≥ 0 (0 gives the constant λ₀).

    Returns:
        A schedule ``count -> λ_count`` (float32).

    Examples:
        >>> import complexity_optax as co
        >>> schedule = co.power_law_annealing(1.0, exponent=0.5)
        >>> float(schedule(3))
        0.5

    References:
        Richemond & Guo, *Combining learning rate decay and weight decay with complexity gradient
        descent - Part I*, 2019 (arXiv:1902.02881), eq. (17).
    """
    check_init_strength(init_strength)
    if callable(exponent):
        raise TypeError(f"exponent must be a real number, got the callable {exponent!r}")
    checks.check_positive("exponent", exponent, allow_zero=True)
    lam0 = checks.scalar(init_strength)
    eta = checks.scalar(exponent)

    def schedule(count):
        t = jnp.asarray(count, jnp.float32)
        return (lam0 * jnp.power(1.0 + t, -eta)).astype(jnp.float32)

    return schedule


def lr_matched_annealing(init_strength: float, learning_rate: ScalarOrSchedule) -> Schedule:
    r"""Penalty strength proportional to the learning rate.

    .. math::

        \lambda_t = \lambda_0 \, \frac{\epsilon(t)}{\epsilon(0)},

    with ε the learning rate: the general form of the matching |dε/ε| = |dλ/λ| (eq. 17 of the
    reference). A constant learning rate gives the constant λ₀. The strength is that of λ‖θ‖²
    (gradient 2λθ; the optax weight decay is 2λ).

    Args:
        init_strength: λ₀ ≥ 0.
        learning_rate: a float > 0 or an optax schedule with ε(0) > 0.

    Returns:
        A schedule ``count -> λ_count`` (float32).

    Examples:
        >>> import optax
        >>> import complexity_optax as co
        >>> lr = optax.exponential_decay(0.1, transition_steps=10, decay_rate=0.5)
        >>> schedule = co.lr_matched_annealing(2.0, lr)
        >>> round(float(schedule(10)), 6)
        1.0

    References:
        Richemond & Guo, *Combining learning rate decay and weight decay with complexity gradient
        descent - Part I*, 2019 (arXiv:1902.02881), eq. (17).
    """
    check_init_strength(init_strength)
    lam0 = checks.scalar(init_strength)
    if not callable(learning_rate):
        checks.check_positive("learning_rate", learning_rate)

        def constant(count):
            del count
            return jnp.asarray(lam0, jnp.float32)

        return constant

    lr0 = checks.concrete_float(_eager_value(learning_rate))
    if lr0 is not None and not (math.isfinite(lr0) and lr0 > 0):
        raise ValueError(f"learning_rate must be > 0 at step 0, got learning_rate(0) = {lr0!r}")

    def schedule(count):
        ratio = jnp.asarray(learning_rate(count), jnp.float32) / jnp.asarray(
            learning_rate(jnp.zeros([], jnp.int32)), jnp.float32
        )
        # A schedule that could not be checked eagerly and starts at 0 gives the constant λ₀.
        ratio = jnp.where(jnp.isfinite(ratio), ratio, 1.0)
        return (lam0 * ratio).astype(jnp.float32)

    return schedule


def _eager_value(schedule: Schedule):
    """``schedule(0)`` evaluated eagerly, or ``None`` if the schedule cannot run outside ``jit``."""
    try:
        return schedule(jnp.zeros([], jnp.int32))
    except Exception:  # pylint: disable=broad-except
        return None
