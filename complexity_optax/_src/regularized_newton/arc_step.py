# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""The one ARC step: cubic subproblem, rounded trial point, ratio, acceptance and $\sigma$.

The optax transformation `cubic_regularization` and the full-batch solver `minimize_cubic`
linearise the loss their own way and keep their own state, then call `arc_step`, so that the
two give the same iterates on the same problem (`tests/test_second_order_entry_points.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.tree import all_finite, compute_dtype
from complexity_optax._src.regularized_newton.cubic_subproblem import (
    CubicSubproblemResult,
    cubic_subproblem,
)

__all__ = ["ArcStep", "arc_step", "cubic_ratio", "sigma_bounds", "update_sigma"]


def sigma_bounds(min_sigma: Any) -> tuple[Any, jax.Array]:
    """`(σ_min, σ_max)`: σ never leaves them; σ_max = √(float32 max) keeps σ‖s‖³ finite."""
    return min_sigma, jnp.sqrt(jnp.asarray(jnp.finfo(jnp.float32).max, jnp.float32))


def update_sigma(
    sigma: jax.Array,
    rho: jax.Array,
    *,
    eta1: Any = 0.1,
    eta2: Any = 0.9,
    increase: Any = 2.0,
    decrease: Any = 0.5,
    min_sigma: Any = 1e-8,
) -> jax.Array:
    r"""The next cubic weight $\sigma$ from the ratio $\rho$ (Cartis, Gould & Toint's rule).

    $$
    \sigma' = \begin{cases}
      \max(\gamma_{dec}\,\sigma,\ \sigma_{\min}) & \rho > \eta_2 \text{ (very successful)} \\
      \sigma & \eta_1 \le \rho \le \eta_2 \text{ (successful)} \\
      \min(\gamma_{inc}\,\sigma,\ \sigma_{\max}) & \rho < \eta_1 \text{ (unsuccessful)}
    \end{cases}
    $$

    with $\sigma_{\max} = \sqrt{\text{float32 max}}$ (so the cubic term stays finite). A
    non-finite $\rho$ must be passed as $-\infty$ (an unsuccessful step).

    Examples:
      >>> import jax.numpy as jnp
      >>> [float(update_sigma(jnp.float32(1.0), jnp.float32(r))) for r in (0.95, 0.5, 0.0)]
      [0.5, 1.0, 2.0]
    """
    # Concrete hyperparameters are validated (traced ones, inside the solvers, were at
    # construction).
    checks.check_positive("min_sigma", min_sigma)
    checks.check_in_interval("eta1", eta1, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    checks.check_in_interval("eta2", eta2, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    checks.check_positive("increase", increase)
    checks.check_in_interval("decrease", decrease, 0.0, 1.0, low_inclusive=False,
                             high_inclusive=False)
    lo, hi = sigma_bounds(min_sigma)
    new = jnp.where(
        rho > eta2, jnp.maximum(decrease * sigma, lo),
        jnp.where(rho >= eta1, sigma, jnp.minimum(increase * sigma, hi)))
    return new.astype(sigma.dtype)


def cubic_ratio(value, trial_value, predicted):
    """ρ, with ρ = 1 when both decreases are below the resolution of f (dtype-relative)."""
    tol = 4.0 * jnp.finfo(value.dtype).eps * jnp.abs(value)
    actual = value - trial_value
    both_tiny = (jnp.abs(actual) <= tol) & (jnp.abs(predicted) <= tol)
    safe = jnp.where(predicted > 0, predicted, 1.0)
    rho = jnp.where(both_tiny, 1.0, jnp.where(predicted > 0, actual / safe, -jnp.inf))
    return jnp.where(jnp.isfinite(rho), rho, -jnp.inf)


class ArcStep(NamedTuple):
    """Output of `arc_step`."""

    step: Any  #: $s$, cast to the parameters' dtypes.
    trial: Any  #: $\theta + s$, rounded to the parameters' dtypes.
    trial_value: jax.Array  #: $f(\theta + s)$ (as `trial_fn` returns it).
    trial_extra: Any  #: the second output of `trial_fn` (the full-batch gradient, or None).
    solve: CubicSubproblemResult  #: the subproblem's step, decrease and Lanczos count.
    finite: jax.Array  #: the step, the trial value and `trial_extra` are finite.
    rho: jax.Array  #: the ratio ($-\infty$ when not finite or nothing was predicted).
    accepted: jax.Array  #: $\rho \ge \eta_1$ and a positive predicted decrease.
    sigma: jax.Array  #: the next $\sigma$ (`update_sigma`), in `sigma`'s dtype.


def arc_step(
    hvp_fn: Callable[[Any], Any],
    grad: Any,
    value: jax.Array,
    params: Any,
    sigma: jax.Array,
    *,
    diagonal: Any,
    trial_fn: Callable[[Any], tuple[jax.Array, Any]],
    max_krylov: int,
    kappa: Any,
    eta1: Any,
    eta2: Any,
    increase: Any,
    decrease: Any,
    min_sigma: Any,
) -> ArcStep:
    r"""One ARC iteration after the linearisation at $\theta$.

    The step $s$ minimises $m(s) = f + g^\top s + \tfrac12 s^\top H s +
    \tfrac{\sigma}{3}\|s\|_A^3$ in a Lanczos subspace (`cubic_subproblem`); the trial point
    $\theta + s$ is rounded once to the parameters' dtypes and evaluated as rounded; then

    $$
    \rho = \frac{f(\theta) - f(\theta + s)}{f(\theta) - m(s)},\qquad
    \text{accept iff } \rho \ge \eta_1 \text{ and } f(\theta) - m(s) > 0,
    $$

    ($\rho = 1$ when both decreases are below the resolution of $f$, `cubic_ratio`; a non-finite
    trial value, step or `trial_extra` is $\rho = -\infty$) and $\sigma$ follows
    `update_sigma`.

    Args:
      hvp_fn: $v \mapsto Hv$ at $\theta$.
      grad: $g$ at $\theta$.
      value: $f(\theta)$.
      params: $\theta$ in the parameters' dtypes.
      sigma: $\sigma$; the next one has its dtype.
      diagonal: the ellipsoid's diagonal $A$ (`None` for the sphere).
      trial_fn: $\theta' \mapsto (f(\theta'), \text{extra})$; `extra` may be `None`.
      max_krylov, kappa: the subproblem's Lanczos cap and stopping constant.
      eta1, eta2, increase, decrease, min_sigma: the $\sigma$ rule.

    Returns:
      An `ArcStep`.

    Examples:
      >>> import jax.numpy as jnp
      >>> f = lambda x: jnp.sum(x ** 2)
      >>> x = jnp.array([1.0, -2.0])
      >>> out = arc_step(lambda v: 2 * v, 2 * x, f(x), x, jnp.float32(1e-3), diagonal=None,
      ...                trial_fn=lambda t: (f(t), None), max_krylov=2, kappa=0.1, eta1=0.1,
      ...                eta2=0.9, increase=2.0, decrease=0.5, min_sigma=1e-8)
      >>> bool(out.accepted), float(out.sigma), out.trial.round(2)
      (True, 0.0005000000237487257, Array([ 0., -0.], dtype=float32))

    References:
      Cartis, Gould & Toint, "Adaptive cubic regularisation methods for unconstrained
      optimization. Part I", Math. Program. 127, 2011 (Algorithm 2.1).
    """
    solve = cubic_subproblem(hvp_fn, grad, sigma, diagonal=diagonal, max_iters=max_krylov,
                             kappa=kappa)
    step = optax.tree.cast_like(solve.step, params)
    trial = optax.apply_updates(params, step)
    trial_value, extra = trial_fn(trial)
    trial_value = jnp.asarray(trial_value)
    value_c = jnp.asarray(value).astype(compute_dtype(jnp.asarray(value).dtype))
    predicted = solve.model_decrease
    finite = jnp.isfinite(trial_value) & all_finite(step) & all_finite(extra)
    rho = jnp.where(finite, cubic_ratio(value_c, trial_value.astype(value_c.dtype), predicted),
                    -jnp.inf)
    accepted = (rho >= eta1) & (predicted > 0)
    new_sigma = update_sigma(sigma, rho, eta1=eta1, eta2=eta2, increase=increase,
                             decrease=decrease, min_sigma=min_sigma)
    return ArcStep(step=step, trial=trial, trial_value=trial_value, trial_extra=extra,
                   solve=solve, finite=finite, rho=rho, accepted=accepted, sigma=new_sigma)
