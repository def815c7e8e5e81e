# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""`TrustRegionMinimiser`: the ellipsoidal trust region as an `optimistix.AbstractMinimiser`.

Needs the optional `optimistix` extra (`pip install complexity_optax[optimistix]`); the
package imports without it and this module is loaded on first use of the name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
import optimistix as optx

from complexity_optax._src.common.ellipsoids import Ellipsoid, get_ellipsoid
from complexity_optax._src.common.hvp import value_grad_and_hvp
from complexity_optax._src.common.tree import all_finite
from complexity_optax._src.trust_region.rule import (
    PRESETS,
    StepOutcome,
    clamp_int32,
    configure_rule,
)
from complexity_optax._src.trust_region.shape import norm_diagonal, tree_norm_in
from complexity_optax._src.trust_region.step import trust_region_step
from complexity_optax._src.trust_region.subproblem import (
    default_max_iters,
)

__all__ = ["TrustRegionMinimiser"]


class _State(eqx.Module):
    first_step: jax.Array
    fresh: jax.Array
    ellipsoid_state: Any
    radius: jax.Array
    value: jax.Array  # f at y, from the last step's linearisation or trial evaluation
    pending_terminate: jax.Array  # the last step decided the solve is over (checked at y)
    pending_result: Any
    terminate: jax.Array
    result: Any
    num_accepted: jax.Array
    num_hvps: jax.Array


class TrustRegionMinimiser(optx.AbstractMinimiser):
    r"""Ellipsoidal trust-region Newton-CG for `optimistix.minimise`.

    Each `step` linearises `fn` once at the current point (value, gradient and exact
    Hessian-vector products), solves the subproblem in the trust-region norm (Steihaug CG or
    Lanczos), evaluates the trial point and applies the shared rule `assess_step` (the same as
    `minimize_trust_region`, scipy trust-ncg's constants by default). A rejected step keeps
    $y$ and shrinks the radius; it never terminates the solve.

    Termination (checked at the start of a step, at the current point): after an accepted step,
    not limited by the radius (interior), whose change satisfies optimistix's Cauchy test
    $|\Delta y| \le \text{atol} + \text{rtol}\,|y|$ and $|\Delta f| \le \text{atol} +
    \text{rtol}\,|f|$ (in `norm`); or when the gradient is exactly zero; or at the precision
    floor (no decrease resolvable in the float type, see `assess_step`). A non-finite start, a
    model that predicts no decrease, or the precision floor reached by a subproblem solve
    truncated at `max_cg_iters` end with `RESULTS.nonlinear_divergence`. A small radius grows:
    accepted boundary steps with $\rho > 3/4$ double it (scipy's rule), steps below the
    parameters' resolution grow it too.

    Differentiating through `optx.minimise` uses optimistix's implicit adjoint (the optimality
    condition $\nabla f(y^\star) = 0$), as for its own minimisers.

    Examples:
      >>> import jax.numpy as jnp, optimistix as optx
      >>> from complexity_optax import TrustRegionMinimiser
      >>> fn = lambda y, args: jnp.sum((y - args) ** 2) + jnp.sum((y - args) ** 4)
      >>> sol = optx.minimise(fn, TrustRegionMinimiser(rtol=1e-6, atol=1e-6), jnp.zeros(3),
      ...                     args=jnp.array([1.0, 2.0, 3.0]))
      >>> sol.value.round(4)
      Array([1., 2., 3.], dtype=float32)

    References:
      Kohler, Adolphs & Lucchi, [Adaptive norms for deep learning with regularized Newton
      methods](https://arxiv.org/abs/1905.09201); Nocedal & Wright, *Numerical Optimization*,
      2006, Alg. 4.1 and 7.2.
    """

    rtol: float
    atol: float
    norm: Callable = eqx.field(static=True)
    ellipsoid: Ellipsoid = eqx.field(static=True)
    preset: Any = eqx.field(static=True)
    initial_radius: float
    max_radius: float
    max_cg_iters: Any = eqx.field(static=True)
    radius_norm: str = eqx.field(static=True)
    diagonal_floor: float = eqx.field(static=True)
    subproblem: str = eqx.field(static=True)

    def __init__(self, rtol: float, atol: float, *, norm: Callable = optx.max_norm,
                 ellipsoid: Ellipsoid | str = "identity", preset: str | None = None,
                 initial_radius: float | None = None, max_radius: float | None = None,
                 max_cg_iters: int | None = None, radius_norm: str = "scaled",
                 diagonal_floor: float = 1e-3, subproblem: str = "steihaug", **rule: Any):
        """Args: `rtol`, `atol` (Cauchy termination), `norm` (optimistix norm), the
        ellipsoid, `preset` (`None`/`"scipy"` or `"kohler2019"`) and any rule constant
        of `minimize_trust_region` (`eta1`, `eta2`, `increase`, `decrease`,
        `shrink_below`, `cg_rtol`, `cg_forcing_exponent`, `cg_stop`) as keywords."""
        self.rtol = rtol
        self.atol = atol
        self.norm = norm
        self.ellipsoid = get_ellipsoid(ellipsoid)
        resolved = configure_rule(preset, PRESETS["scipy"], radius_norm=radius_norm,
                                  diagonal_floor=diagonal_floor, subproblem=subproblem,
                                  default_initial_radius=1.0, initial_radius=initial_radius,
                                  max_radius=max_radius, max_cg_iters=max_cg_iters, **rule)
        self.preset = resolved._replace(initial_radius=None)
        self.initial_radius = float(resolved.initial_radius)
        self.max_radius = float(resolved.max_radius)
        self.max_cg_iters = resolved.max_cg_iters
        self.radius_norm = radius_norm
        self.diagonal_floor = float(diagonal_floor)
        self.subproblem = subproblem

    def init(self, fn, y, args, options, f_struct, aux_struct, tags):
        dtype = f_struct.dtype
        return _State(
            first_step=jnp.array(True), fresh=jnp.array(True),
            ellipsoid_state=self.ellipsoid.init(y),
            radius=jnp.asarray(self.initial_radius, dtype),
            value=jnp.zeros(f_struct.shape, dtype),
            pending_terminate=jnp.array(False), pending_result=optx.RESULTS.successful,
            terminate=jnp.array(False), result=optx.RESULTS.successful,
            num_accepted=jnp.zeros((), jnp.int32), num_hvps=jnp.zeros((), jnp.int32))

    def step(self, fn, y, args, options, state, tags):
        value, grad, hvp_fn, aux = value_grad_and_hvp(lambda p: fn(p, args), y, has_aux=True)
        finite = jnp.isfinite(value) & all_finite(grad)
        grad_zero = ~(tree_norm_in(grad, None) > 0)
        stop_now = state.pending_terminate | grad_zero | (state.first_step & ~finite)
        result_now = optx.RESULTS.where(
            state.first_step & ~finite, optx.RESULTS.nonlinear_divergence,
            optx.RESULTS.where(state.pending_terminate, state.pending_result,
                               optx.RESULTS.successful))
        ell_state = jax.tree.map(lambda a, b: jnp.where(state.fresh, a, b),
                                 self.ellipsoid.update(grad, state.ellipsoid_state),
                                 state.ellipsoid_state)
        n = sum(leaf.size for leaf in jax.tree.leaves(y))
        max_iters = clamp_int32(default_max_iters(self.subproblem, n, self.max_cg_iters))
        rule = self.preset._replace(max_radius=self.max_radius)
        diag = norm_diagonal(self.ellipsoid.diagonal(ell_state), self.radius_norm,
                             self.diagonal_floor)
        out = trust_region_step(
            self.subproblem, hvp_fn, grad, value, y, state.radius, diagonal=diag,
            trial_fn=lambda p: fn(p, args), rule=rule, max_iters=max_iters, has_aux=True, aux=aux)
        sub, verdict = out.solve, out.assessment
        trial, trial_value, trial_aux = out.trial, out.trial_value, out.trial_aux
        accepted = verdict.accepted & ~stop_now
        y_diff = optax.tree.sub(trial, y)
        f_diff = trial_value - value
        scale_y = jax.tree.map(lambda a: self.atol + self.rtol * jnp.abs(a), trial)
        small_y = self.norm(jax.tree.map(lambda d, s: d / s, y_diff, scale_y)) < 1
        small_f = jnp.abs(f_diff) < self.atol + self.rtol * jnp.abs(trial_value)
        # Only a step that the radius did not limit measures convergence: a boundary step is
        # as short as the radius, so with initial_radius=1e-9 the first accepted step passed the
        # Cauchy test at the starting point (audit: "successful" after 2 steps, f = 2057,
        # ||g|| = 2069 on the 10-d Rosenbrock).
        cauchy = accepted & ~sub.hit_boundary & small_y & small_f
        bad_model = (((verdict.outcome == StepOutcome.REJECTED) & ~(sub.model_decrease > 0))
                     | (verdict.outcome == StepOutcome.STATIONARY)) & ~grad_zero
        # The precision floor is a convergence only for a solve that met its own stopping test
        # (see `TrustRegionStatus.PRECISION_FLOOR`); a truncated one (`capped`) is a failure.
        floor = verdict.at_precision_floor
        pending = ~stop_now & (cauchy | floor | bad_model)
        pending_result = optx.RESULTS.where(
            (bad_model & ~cauchy & ~floor) | (floor & sub.capped & ~cauchy),
            optx.RESULTS.nonlinear_divergence, optx.RESULTS.successful)
        new_y = jax.tree.map(lambda a, b: jnp.where(accepted, a, b), trial, y)
        new_aux = jax.tree.map(lambda a, b: jnp.where(accepted, a, b), trial_aux, aux)
        new_state = _State(
            first_step=jnp.array(False), fresh=accepted, ellipsoid_state=ell_state,
            radius=jnp.where(stop_now, state.radius, verdict.radius),
            value=jnp.where(accepted, trial_value, value),
            pending_terminate=pending, pending_result=pending_result,
            terminate=stop_now, result=result_now,
            num_accepted=state.num_accepted + accepted.astype(jnp.int32),
            num_hvps=state.num_hvps + jnp.where(stop_now, 0, sub.iterations))
        return new_y, new_state, new_aux

    def terminate(self, fn, y, args, options, state, tags):
        return state.terminate, state.result

    def postprocess(self, fn, y, aux, args, options, state, tags, result):
        return y, aux, {"num_accepted": state.num_accepted, "num_hvps": state.num_hvps,
                        "radius": state.radius}
