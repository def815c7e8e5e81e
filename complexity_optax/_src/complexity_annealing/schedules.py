# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Step-count schedules for the strength of an annealed L² penalty.

Every function here returns a plain optax-style schedule: a pure, jit-friendly callable
`count -> strength` (a float32 scalar). The strength is λ in the penalty λ‖θ‖², whose gradient is
2λθ; `optax.add_decayed_weights(weight_decay)` adds `weight_decay · θ`, so the optax weight
decay that matches a strength λ is `weight_decay = 2λ`.
"""

from __future__ import annotations

import fractions
import math
import numbers
from collections.abc import Callable

import jax
import jax.numpy as jnp

from complexity_optax._src.common import checks

Schedule = Callable[[jax.typing.ArrayLike], jax.Array]
ScalarOrSchedule = float | Schedule


def check_init_strength(init_strength, *, peak: float = 1.0) -> None:
    """Raises unless `init_strength` is a finite number ≥ 0 (schedules are not accepted).

    `peak` is the largest multiple of λ₀ the schedule reaches (2 for cosine annealing); the
    penalty gradient 2λθ needs 2·peak·λ₀ to fit in float32, so larger values are rejected.
    """
    if callable(init_strength):
        raise TypeError(
            f"init_strength must be a real number, got the callable {init_strength!r}"
        )
    checks.check_positive("init_strength", init_strength, allow_zero=True)
    checks.check_representable("init_strength", init_strength, factor=2.0 * peak)
    checks.check_scalar("init_strength", init_strength)


def _cosine_phase(count, period: float):
    """`(t mod T)/T` in [0, 1) as float32, with t counted exactly in integers.

    An integer count (int32 from optax) is reduced modulo the period in integer arithmetic: T is
    written as a fraction p/q (exact for an integer period) with p·q < 2³¹, and
    (t mod T)/T = ((t mod p)·q mod p)/p. So the phase keeps full float32 precision at any step
    (λ at the restart t = 2·10⁹ is exactly 2λ₀), where `float32(t)·2π/T` loses it from t ≈ 10⁷.
    A Python int is reduced exactly in Python; a float count in float32.
    """
    if isinstance(count, numbers.Integral) and not isinstance(count, bool):
        return jnp.asarray(math.fmod(count, period) / period if period > checks.INT32_MAX
                           else _python_phase(int(count), period), jnp.float32)
    count = jnp.asarray(count)
    if not jnp.issubdtype(count.dtype, jnp.integer):
        t = count.astype(jnp.float32)
        return (jnp.mod(t, period) / period).astype(jnp.float32)
    if period > checks.INT32_MAX:  # no restart within an int32 count: t/T directly
        return (count.astype(jnp.float32) / period).astype(jnp.float32)
    p, q = _period_fraction(period)
    if count.dtype.itemsize < 4:
        count = count.astype(jnp.int32)
    r = jnp.mod(jnp.mod(count, p) * q, p)
    return (r.astype(jnp.float32) / p).astype(jnp.float32)


def _traced_cosine_phase(count, period):
    """`_cosine_phase` for a traced period: exact integer counting when T is an integer."""
    period = jnp.asarray(period, jnp.float32)
    count = jnp.asarray(count)
    t = count.astype(jnp.float32)
    float_phase = jnp.mod(t, period) / period
    if not jnp.issubdtype(count.dtype, jnp.integer):
        return float_phase.astype(jnp.float32)
    rounded = jnp.round(period)
    p = jnp.clip(rounded, 1.0, float(checks.INT32_MAX)).astype(jnp.int32)
    int_phase = jnp.mod(count.astype(jnp.int32), p).astype(jnp.float32) / p.astype(jnp.float32)
    return jnp.where(rounded == period, int_phase, float_phase).astype(jnp.float32)


def _period_fraction(period: float) -> tuple[int, int]:
    """T ≈ p/q with p·q < 2³¹ (exact for an integer T)."""
    max_q = max(1, math.isqrt(checks.INT32_MAX // (math.ceil(period) + 1)))
    fraction = fractions.Fraction(period).limit_denominator(max_q)
    return max(fraction.numerator, 1), fraction.denominator


def _python_phase(count: int, period: float) -> float:
    p, q = _period_fraction(period)
    return ((count % p) * q % p) / p


def cosine_annealing(init_strength: float, period: float) -> Schedule:
    r"""Cosine annealing of the penalty strength with warm restarts (Algorithm 2).

    $$
    \lambda_t = \lambda_0 \left(1 + \cos\left(\frac{2\pi t}{T}\right)\right),
    $$

    so λ starts at 2λ₀, reaches 0 at t = T/2 and is back at 2λ₀ at t = T ("warm restarts in
    curvature", mirroring SGDR for the learning rate). The strength is that of λ‖θ‖² (gradient 2λθ;
    the optax weight decay is 2λ).

    Args:
        init_strength: λ₀ ≥ 0 (2λ₀ must fit in float32).
        period: the restart period T ≥ 1, in steps (a static number). Steps are counted in
            integers, so the schedule is exact at any int32 step count.

    Returns:
        A schedule `count -> λ_count` (float32).

    Examples:
        >>> import complexity_optax as co
        >>> schedule = co.cosine_annealing(0.5, period=100)
        >>> float(schedule(0)), float(schedule(50))
        (1.0, 0.0)

    References:
        Richemond & Guo, *Combining learning rate decay and weight decay with complexity gradient
        descent - Part I*, 2019 (arXiv:1902.02881), Algorithm 2.
    """
    check_init_strength(init_strength, peak=2.0)
    if callable(period):
        raise TypeError(f"period must be a real number, got the callable {period!r}")
    checks.check_positive("period", period)
    checks.check_scalar("period", period)
    if not checks.is_traced(period):  # traced inside inject_hyperparams: checked at init
        if checks.concrete_float(period) is None:
            raise TypeError(f"period must be a real scalar, got {period!r}")
        period = checks.concrete_float(period)
        if period < 1:
            raise ValueError(f"period must be >= 1 (a restart period in steps), got {period!r}")
    lam0 = checks.scalar(init_strength)
    phase_fn = _traced_cosine_phase if checks.is_traced(period) else _cosine_phase

    def schedule(count):
        phase = phase_fn(count, period)
        value = lam0 * (1.0 + jnp.cos(2.0 * math.pi * phase))
        return jnp.maximum(value, 0.0).astype(jnp.float32)

    return schedule


def power_law_annealing(init_strength: float, exponent: float = 0.5) -> Schedule:
    r"""Power-law decay of the penalty strength, matched to a power-law learning rate.

    $$
    \lambda_t = \lambda_0 \, (1 + t)^{-\eta}.
    $$

    From the symmetry |dε/ε| = |dλ/λ| between the learning rate ε and the strength λ (eq. 17 of the
    reference), a learning rate ε_t ∝ (1 + t)^(−η) calls for the same power law on λ; η = ½ is the
    default. The strength is that of λ‖θ‖² (gradient 2λθ; the optax weight decay is 2λ).

    Args:
        init_strength: λ₀ ≥ 0.
        exponent: η ≥ 0 (0 gives the constant λ₀).

    Returns:
        A schedule `count -> λ_count` (float32).

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
    checks.check_scalar("exponent", exponent)
    lam0 = checks.scalar(init_strength)
    eta = checks.scalar(exponent)

    def schedule(count):
        t = jnp.asarray(count, jnp.float32)
        return (lam0 * jnp.power(1.0 + t, -eta)).astype(jnp.float32)

    return schedule


def lr_matched_annealing(init_strength: float, learning_rate: ScalarOrSchedule) -> Schedule:
    r"""Penalty strength proportional to the learning rate.

    $$
    \lambda_t = \lambda_0 \, \frac{\epsilon(t)}{\epsilon(0)},
    $$

    with ε the learning rate: the general form of the matching |dε/ε| = |dλ/λ| (eq. 17 of the
    reference). A constant learning rate gives the constant λ₀. The strength is that of λ‖θ‖²
    (gradient 2λθ; the optax weight decay is 2λ).

    Args:
        init_strength: λ₀ ≥ 0.
        learning_rate: a float > 0 or an optax schedule with ε(0) > 0.

    Returns:
        A schedule `count -> λ_count` (float32).

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
        checks.check_scalar("learning_rate", learning_rate)

        def constant(count):
            del count
            return jnp.asarray(lam0, jnp.float32)

        return constant

    learning_rate = checks.scalar_schedule("learning_rate", learning_rate)
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
    """`schedule(0)` evaluated eagerly, or `None` if the schedule cannot run outside `jit`."""
    try:
        return schedule(jnp.zeros([], jnp.int32))
    except Exception:  # pylint: disable=broad-except
        return None
