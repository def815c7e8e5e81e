# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""The one trust-region step: subproblem, trial point, trial value, radius floor, assessment.

The optax transformation `trust_region`, the full-batch solver `minimize_trust_region` and the
optimistix solver `TrustRegionMinimiser` linearise the loss their own way (a mini-batch
`value_fn`, a full-batch `fun` with `args`, optimistix's `fn(y, args)`) and keep their own
state, then call `trust_region_step` for everything in between, so that the three give the
same iterates on the same problem (`tests/test_second_order_entry_points.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.trust_region.rule import (
    StepAssessment,
    TrustRegionPreset,
    assess_step,
    evaluate_if_moved,
    radius_floor,
    step_checks,
)
from complexity_optax._src.trust_region.shape import tree_norm_in
from complexity_optax._src.trust_region.steihaug import SteihaugResult
from complexity_optax._src.trust_region.subproblem import solve_subproblem

__all__ = ["TrustRegionStep", "trust_region_step"]


class TrustRegionStep(NamedTuple):
    """Output of `trust_region_step`."""

    step: Any  #: $s$, cast to the parameters' dtypes.
    trial: Any  #: $\theta + s$, rounded to the parameters' dtypes.
    trial_value: jax.Array  #: $f(\theta + s)$ in `value`'s dtype ($f(\theta)$ if it did not move).
    trial_aux: Any  #: the auxiliary output at the trial point (`aux` if it did not move).
    solve: SteihaugResult  #: the subproblem solver's result (iterations, boundary, cap).
    assessment: StepAssessment  #: ratio, acceptance, next radius, outcome, precision floor.


def trust_region_step(
    subproblem: str,
    hvp_fn: Callable[[Any], Any],
    grad: Any,
    value: jax.Array,
    params: Any,
    radius: jax.Array,
    *,
    diagonal: Any,
    trial_fn: Callable[[Any], Any],
    rule: TrustRegionPreset,
    max_iters: Any,
    work_params: Any = None,
    has_aux: bool = False,
    aux: Any = None,
) -> TrustRegionStep:
    r"""One trust-region iteration after the linearisation at $\theta$.

    With the gradient $g$, the Hessian-vector product $v \mapsto Hv$ and the norm's diagonal
    $M$ (`diagonal`, from the ellipsoid), it solves

    $$
    \min_{\|s\|_M \le \Delta}\; g^\top s + \tfrac12 s^\top H s
    $$

    with the named solver (`"steihaug"` or `"lanczos"`, `rule`'s CG constants), rounds the
    trial point $\theta + s$ to the parameters' dtypes, evaluates $f(\theta + s)$ only if that
    point differs from $\theta$ (`evaluate_if_moved`), and applies the rule `assess_step` with the
    radius floor $\epsilon_\theta \|\theta\|_M$ (`radius_floor`).

    Args:
      subproblem: `"steihaug"` or `"lanczos"`.
      hvp_fn: $v \mapsto Hv$ at $\theta$ (in the solver's precision).
      grad: $g$ at $\theta$ (solver's precision).
      value: $f(\theta)$; its dtype is the dtype of the ratio's arithmetic.
      params: $\theta$ in the parameters' own dtypes.
      radius: $\Delta$; the next radius has its dtype.
      diagonal: the norm's diagonal $M$ (a pytree like `params`, or `None` for the sphere).
      trial_fn: $\theta' \mapsto f(\theta')$, or $(f(\theta'), \text{aux})$ with `has_aux`.
      rule: the preset's constants (`TrustRegionPreset`).
      max_iters: the subproblem solver's iteration cap (an int or an int32 array).
      work_params: $\theta$ in the solver's precision (float32 for bfloat16 parameters), for
        the radius floor; `params` if `None`.
      has_aux: whether `trial_fn` returns (value, aux).
      aux: with `has_aux`, the auxiliary output at $\theta$ (kept when $\theta$ does not move).

    Returns:
      A `TrustRegionStep`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax._src.trust_region.rule import get_preset
      >>> f = lambda x: jnp.sum(x ** 2)
      >>> x = jnp.array([1.0, -2.0])
      >>> out = trust_region_step("steihaug", lambda v: 2 * v, 2 * x, f(x), x, jnp.float32(10.0),
      ...                         diagonal=None, trial_fn=f, rule=get_preset("scipy"),
      ...                         max_iters=10)
      >>> out.trial, float(out.trial_value), bool(out.assessment.accepted)
      (Array([0., 0.], dtype=float32), 0.0, True)

    References:
      Nocedal & Wright, *Numerical Optimization*, 2006, Alg. 4.1; Kohler, Adolphs & Lucchi,
      [Adaptive norms for deep learning with regularized Newton
      methods](https://arxiv.org/abs/1905.09201), Alg. 1.
    """
    solve = solve_subproblem(subproblem, hvp_fn, grad, radius, preconditioner=diagonal,
                             max_iters=max_iters, rtol=rule.cg_rtol,
                             theta=rule.cg_forcing_exponent, stop=rule.cg_stop)
    step = optax.tree.cast_like(solve.step, params)
    trial = optax.apply_updates(params, step)
    found = step_checks(step, params, trial)
    evaluated = evaluate_if_moved(trial_fn, params, step, value, found, has_aux=has_aux,
                                  aux=aux)
    trial_value, trial_aux = evaluated if has_aux else (evaluated, None)
    work = params if work_params is None else work_params
    floor = radius_floor(tree_norm_in(work, diagonal), jnp.result_type(*jax.tree.leaves(params)),
                         jnp.asarray(radius).dtype)
    assessment = assess_step(
        value=value, trial_value=trial_value, predicted=solve.model_decrease, step=step,
        params=params, trial_params=trial, radius=radius, hit_boundary=solve.hit_boundary,
        min_radius=floor, rule=rule, found=found)
    return TrustRegionStep(step=step, trial=trial, trial_value=trial_value, trial_aux=trial_aux,
                           solve=solve, assessment=assessment)
