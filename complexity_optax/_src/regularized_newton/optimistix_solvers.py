# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""`CubicRegularizationMinimiser` and `SaddleFreeNewtonMinimiser` for `optimistix.minimise`.

The regularised-Newton solvers as `optimistix.AbstractMinimiser`s, beside
`TrustRegionMinimiser`: each `step` linearises `fn` once at the current point (value, gradient,
exact Hessian-vector products) and takes the step of the full-batch solver (`arc_step` for ARC,
the damped saddle-free step of `minimize_saddle_free_newton`), so `optx.minimise` and the
`minimize_*` functions give the same iterates. Needs the optional `optimistix` extra; the
package imports without it and this module is loaded on first use of the names.

Termination (checked at the start of a step, at the current point), as `TrustRegionMinimiser`:
after an accepted step whose change satisfies optimistix's Cauchy test
$|\Delta y| \le \text{atol} + \text{rtol}\,|y|$ and $|\Delta f| \le \text{atol} +
\text{rtol}\,|f|$ (in `norm`); when the gradient is exactly zero; or at the precision floor (the
step moves no parameter by more than one unit in its last place and cannot decrease f). A
non-finite start, or a model that predicts no decrease (ARC) / no candidate that decreases f
(saddle-free Newton) away from the precision floor, end with `RESULTS.nonlinear_divergence`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
import optimistix as optx

from complexity_optax._src.common import checks
from complexity_optax._src.common.ellipsoids import Ellipsoid, get_ellipsoid
from complexity_optax._src.common.hvp import value_grad_and_hvp
from complexity_optax._src.common.tree import all_finite
from complexity_optax._src.regularized_newton.arc_step import arc_step
from complexity_optax._src.regularized_newton.cubic_regularization import (
    _validate_rule,
    unresolvable_move,
)
from complexity_optax._src.regularized_newton.saddle_free_newton import (
    _line_search,
    _validate,
    at_precision_floor,
    damping_floor,
    saddle_free_krylov,
)

__all__ = ["CubicRegularizationMinimiser", "SaddleFreeNewtonMinimiser"]


class _State(eqx.Module):
    first_step: jax.Array
    fresh: jax.Array  # the point is new: fold its gradient into the ellipsoid
    ellipsoid_state: Any
    regularization: jax.Array  # sigma (ARC) or the last relative damping (saddle-free Newton)
    pending_terminate: jax.Array
    pending_result: Any
    terminate: jax.Array
    result: Any
    num_accepted: jax.Array
    num_hvps: jax.Array


def _cauchy(minimiser, y, trial, value, trial_value) -> jax.Array:
    scale = jax.tree.map(lambda a: minimiser.atol + minimiser.rtol * jnp.abs(a), trial)
    small_y = minimiser.norm(jax.tree.map(lambda t, a, s: (t - a) / s, trial, y, scale)) < 1
    small_f = jnp.abs(trial_value - value) < minimiser.atol + minimiser.rtol * jnp.abs(trial_value)
    return small_y & small_f


def _head(state: _State, value, grad):
    """What the start of a step decides at the current point: (stop now, its result, g == 0)."""
    finite = jnp.isfinite(value) & all_finite(grad)
    grad_zero = ~(optax.tree.norm(grad) > 0)
    stop_now = state.pending_terminate | grad_zero | (state.first_step & ~finite)
    result_now = optx.RESULTS.where(
        state.first_step & ~finite, optx.RESULTS.nonlinear_divergence,
        optx.RESULTS.where(state.pending_terminate, state.pending_result,
                           optx.RESULTS.successful))
    return stop_now, result_now, grad_zero


def _next_state(state, *, stop_now, result_now, accepted, regularization, ellipsoid_state,
                converged, floor, failed, hvps):
    pending = ~stop_now & (converged | floor | failed)
    pending_result = optx.RESULTS.where(failed & ~converged & ~floor,
                                        optx.RESULTS.nonlinear_divergence,
                                        optx.RESULTS.successful)
    return _State(
        first_step=jnp.array(False), fresh=accepted, ellipsoid_state=ellipsoid_state,
        regularization=jnp.where(stop_now, state.regularization, regularization),
        pending_terminate=pending, pending_result=pending_result,
        terminate=stop_now, result=result_now,
        num_accepted=state.num_accepted + accepted.astype(jnp.int32),
        num_hvps=state.num_hvps + jnp.where(stop_now, 0, hvps).astype(jnp.int32))


def _init_state(ellipsoid_state, regularization, dtype) -> _State:
    return _State(
        first_step=jnp.array(True), fresh=jnp.array(True), ellipsoid_state=ellipsoid_state,
        regularization=jnp.asarray(regularization, dtype),
        pending_terminate=jnp.array(False), pending_result=optx.RESULTS.successful,
        terminate=jnp.array(False), result=optx.RESULTS.successful,
        num_accepted=jnp.zeros((), jnp.int32), num_hvps=jnp.zeros((), jnp.int32))


def _postprocess(y, aux, state, name):
    return y, aux, {"num_accepted": state.num_accepted, "num_hvps": state.num_hvps,
                    name: state.regularization}


class CubicRegularizationMinimiser(optx.AbstractMinimiser):
    r"""Adaptive cubic regularisation (ARC) for `optimistix.minimise`.

    Each step minimises $m(s) = f + g^\top s + \tfrac12 s^\top H s +
    \tfrac{\sigma}{3}\|s\|_A^3$ in a Lanczos subspace and applies Cartis, Gould & Toint's
    acceptance and $\sigma$ rule (`arc_step`, the step of `minimize_cubic` and
    `cubic_regularization`). A rejected step keeps $y$ and doubles $\sigma$; it never ends the
    solve. `stats` holds `num_accepted`, `num_hvps` and the final `sigma`.

    Examples:
      >>> import jax.numpy as jnp, optimistix as optx
      >>> from complexity_optax import CubicRegularizationMinimiser
      >>> fn = lambda y, args: jnp.sum((y - args) ** 2) + jnp.sum((y - args) ** 4)
      >>> sol = optx.minimise(fn, CubicRegularizationMinimiser(rtol=1e-6, atol=1e-6),
      ...                     jnp.zeros(3), args=jnp.array([1.0, 2.0, 3.0]))
      >>> sol.value.round(4)
      Array([1., 2., 3.], dtype=float32)

    References:
      Cartis, Gould & Toint, "Adaptive cubic regularisation methods for unconstrained
      optimization. Part I", Math. Program. 127, 2011 (Algorithm 2.1).
    """

    rtol: float
    atol: float
    norm: Callable = eqx.field(static=True)
    ellipsoid: Ellipsoid = eqx.field(static=True)
    initial_sigma: float
    min_sigma: float
    eta1: float
    eta2: float
    increase: float
    decrease: float
    max_krylov: Any = eqx.field(static=True)
    kappa: float

    def __init__(self, rtol: float, atol: float, *, norm: Callable = optx.max_norm,
                 ellipsoid: Ellipsoid | str = "identity", initial_sigma: float = 1.0,
                 min_sigma: float = 1e-8, eta1: float = 0.1, eta2: float = 0.9,
                 increase: float = 2.0, decrease: float = 0.5, max_krylov: int | None = None,
                 kappa: float = 0.1):
        """Args: `rtol`, `atol` (Cauchy termination), `norm` (optimistix norm), and the
        constants of `minimize_cubic` (`max_krylov` defaults to $\\min(n, 100)$)."""
        _validate_rule(initial_sigma, min_sigma, eta1, eta2, increase, decrease, kappa)
        if max_krylov is not None:
            checks.check_int("max_krylov", max_krylov, minimum=1)
        self.rtol, self.atol, self.norm = rtol, atol, norm
        self.ellipsoid = get_ellipsoid(ellipsoid)
        self.initial_sigma, self.min_sigma = float(initial_sigma), float(min_sigma)
        self.eta1, self.eta2 = float(eta1), float(eta2)
        self.increase, self.decrease = float(increase), float(decrease)
        self.max_krylov, self.kappa = max_krylov, float(kappa)

    def init(self, fn, y, args, options, f_struct, aux_struct, tags):
        return _init_state(self.ellipsoid.init(y), self.initial_sigma, f_struct.dtype)

    def step(self, fn, y, args, options, state, tags):
        value, grad, hvp_fn, aux = value_grad_and_hvp(lambda p: fn(p, args), y, has_aux=True)
        stop_now, result_now, grad_zero = _head(state, value, grad)
        ell_state = optax.tree.where(state.fresh,
                                     self.ellipsoid.update(grad, state.ellipsoid_state),
                                     state.ellipsoid_state)
        n = optax.tree.size(y)
        max_krylov = min(n, 100) if self.max_krylov is None else self.max_krylov
        out = arc_step(hvp_fn, grad, value, y, state.regularization,
                       diagonal=self.ellipsoid.diagonal(ell_state),
                       trial_fn=lambda p: fn(p, args), max_krylov=max_krylov, kappa=self.kappa,
                       eta1=self.eta1, eta2=self.eta2, increase=self.increase,
                       decrease=self.decrease, min_sigma=self.min_sigma)
        accepted = out.accepted & ~stop_now
        converged = accepted & _cauchy(self, y, out.trial, value, out.trial_value)
        floor = unresolvable_move(y, out.trial) & out.finite & (
            ~out.accepted | (out.sigma >= state.regularization))
        failed = ~(out.solve.model_decrease > 0) & ~grad_zero
        new_y = optax.tree.where(accepted, out.trial, y)
        new_aux = optax.tree.where(accepted, out.trial_extra, aux)
        new_state = _next_state(state, stop_now=stop_now, result_now=result_now,
                                accepted=accepted, regularization=out.sigma,
                                ellipsoid_state=ell_state, converged=converged, floor=floor,
                                failed=failed, hvps=out.solve.iterations)
        return new_y, new_state, new_aux

    def terminate(self, fn, y, args, options, state, tags):
        return state.terminate, state.result

    def postprocess(self, fn, y, aux, args, options, state, tags, result):
        return _postprocess(y, aux, state, "sigma")


class SaddleFreeNewtonMinimiser(optx.AbstractMinimiser):
    r"""Saddle-free Newton for `optimistix.minimise`.

    Each step is $y \leftarrow y - V(|T| + \lambda I)^{-1}V^\top g$ with the Lanczos basis
    $V$ of $\mathcal K_k(H, g)$, $T = V^\top H V$ and the relative damping picked from the grid
    `damping` $\cdot$ `damping_growth`$^j$ by the lowest value of f (the step of
    `minimize_saddle_free_newton`); the step is taken when it decreases f. `stats` holds
    `num_accepted`, `num_hvps` and the last relative `damping`.

    Examples:
      >>> import jax.numpy as jnp, optimistix as optx
      >>> from complexity_optax import SaddleFreeNewtonMinimiser
      >>> fn = lambda y, args: 0.5 * (y[0] ** 2 - y[1] ** 2) + 0.25 * y[1] ** 4  # saddle at 0
      >>> sol = optx.minimise(fn, SaddleFreeNewtonMinimiser(rtol=1e-6, atol=1e-6),
      ...                     jnp.array([1.0, 1e-3]))
      >>> jnp.abs(sol.value).round(3)
      Array([0., 1.], dtype=float32)

    References:
      Dauphin et al., "Identifying and attacking the saddle point problem in high-dimensional
      non-convex optimization", NeurIPS 2014.
    """

    rtol: float
    atol: float
    norm: Callable = eqx.field(static=True)
    krylov_dim: Any = eqx.field(static=True)
    damping: float
    damping_growth: float
    num_damping: int = eqx.field(static=True)

    def __init__(self, rtol: float, atol: float, *, norm: Callable = optx.max_norm,
                 krylov_dim: int | None = None, damping: float = 1e-4,
                 damping_growth: float = 10.0, num_damping: int = 8):
        """Args: `rtol`, `atol` (Cauchy termination), `norm` (optimistix norm), and the
        constants of `minimize_saddle_free_newton` (`krylov_dim` defaults to $\\min(n, 20)$)."""
        _validate(1.0, 1 if krylov_dim is None else krylov_dim, damping, damping_growth,
                  num_damping)
        self.rtol, self.atol, self.norm = rtol, atol, norm
        self.krylov_dim = krylov_dim
        self.damping, self.damping_growth = float(damping), float(damping_growth)
        self.num_damping = int(num_damping)

    def init(self, fn, y, args, options, f_struct, aux_struct, tags):
        return _init_state(None, 0.0, f_struct.dtype)

    def step(self, fn, y, args, options, state, tags):
        value, grad, hvp_fn, aux = value_grad_and_hvp(lambda p: fn(p, args), y, has_aux=True)
        stop_now, result_now, grad_zero = _head(state, value, grad)
        n = optax.tree.size(y)
        k = saddle_free_krylov(hvp_fn, grad, min(n, 20) if self.krylov_dim is None
                               else self.krylov_dim)

        def evaluate(step):
            return fn(optax.apply_updates(y, optax.tree.cast_like(step, y)), args)[0]

        floor = damping_floor(state.regularization, self.damping, self.damping_growth,
                              self.num_damping)
        step, _, delta = _line_search(evaluate, k, jnp.asarray(1.0, k.eigenvalues.dtype),
                                      floor, self.damping_growth, self.num_damping, value)
        trial = optax.apply_updates(y, optax.tree.cast_like(step, y))
        trial_value, trial_aux = fn(trial, args)
        finite = jnp.isfinite(trial_value) & all_finite(step)
        decreased = finite & (trial_value < value)
        accepted = decreased & ~stop_now
        converged = accepted & _cauchy(self, y, trial, value, trial_value)
        # A failed search on a moved grid is retried on the first grid (as
        # `minimize_saddle_free_newton`: damping 0 resets it); only the first grid's ends it.
        shifted = state.regularization > 0
        floor = ~decreased & ~shifted & at_precision_floor(y, trial, step, value, trial_value)
        failed = ~decreased & ~shifted & ~floor & ~grad_zero
        new_y = optax.tree.where(accepted, trial, y)
        new_aux = optax.tree.where(accepted, trial_aux, aux)
        new_state = _next_state(state, stop_now=stop_now, result_now=result_now,
                                accepted=accepted,
                                regularization=jnp.where(accepted, delta, 0.0
                                                         ).astype(state.regularization.dtype),
                                ellipsoid_state=None, converged=converged, floor=floor,
                                failed=failed, hvps=k.size)
        return new_y, new_state, new_aux

    def terminate(self, fn, y, args, options, state, tags):
        return state.terminate, state.result

    def postprocess(self, fn, y, aux, args, options, state, tags, result):
        return _postprocess(y, aux, state, "damping")
