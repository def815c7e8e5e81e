# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Mini-batch (ellipsoidal) trust region as an optax `GradientTransformationExtraArgs`.

One call of `update` is one outer iteration of the stochastic trust-region method of Kohler,
Adolphs & Lucchi (2019), Algorithm 1, as implemented in the authors' code: the ellipsoid is updated
with the gradient, the subproblem

    min_s  m(s) = f + gᵀs + ½ sᵀHs   subject to   ‖s‖_A = sqrt(Σ A s²) ≤ Δ

is solved approximately by preconditioned Steihaug–Toint CG (preconditioner M = A) on exact
Hessian-vector products of `value_fn` at `params`, the trial point is evaluated on the same
batch, and the step is returned if the ratio ρ = (f(θ) − f(θ+s)) / (m(0) − m(s)) is large enough;
otherwise the update is zero and the radius shrinks.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.batch_model import batch_update
from complexity_optax._src.common.counters import step_counts
from complexity_optax._src.common.ellipsoids import (
    Ellipsoid,
    get_ellipsoid,
    rmsprop_ellipsoid,
)
from complexity_optax._src.common.tree import upcast
from complexity_optax._src.trust_region.rule import (
    StepOutcome,
    TrustRegionPreset,
    clamp_int32,
    configure_rule,
)
from complexity_optax._src.trust_region.shape import norm_diagonal
from complexity_optax._src.trust_region.step import trust_region_step
from complexity_optax._src.trust_region.subproblem import (
    default_max_iters,
)

# Default Δ_0 per named ellipsoid (authors' configs, parameters/method/*/fc/TR_*.txt). The
# RMSProp/Adam ellipsoid has A ≈ |g|, so its radius in the raw A-norm is much smaller.
DEFAULT_INITIAL_RADIUS = {"identity": 0.05, "adagrad": 0.05, "rmsprop": 1e-4, "adam": 1e-4}

#: The authors' absolute safeguard (kept for reference; the rule now uses it only in the
#: ``"kohler2019"`` preset, on top of the precision-relative one).
_TINY_DECREASE = 1e-15

#: Kept for compatibility: the absolute lower bound of the radius. The rule's floor is now
#: relative, ``eps(params dtype) * ||params||`` in the trust-region norm (`radius_floor`).
MIN_RADIUS = 1e-18


#: The library defaults of `trust_region` (no ``preset``): the authors' sphere constants for
#: their MNIST MLP with their code's default residual CG rule (``precon_stopping_criterion``
#: off). ``preset="kohler2019"`` gives their RMSProp configs instead.
LIBRARY_DEFAULTS = TrustRegionPreset(
    eta1=0.01, eta2=0.95, increase=1.1, decrease=1.0 / 1.5, shrink_below=0.0,
    grow_on_boundary_only=False, strict_acceptance=False, tiny_decrease=0.0,
    initial_radius=None, max_radius=10.0, max_cg_iters=50, cg_rtol=0.1,
    cg_forcing_exponent=0.5, cg_stop="residual")

#: The authors' RMSProp ellipsoid: v_0 = 1e-10, v_t = 0.8 v_{t-1} + 0.2 g^2, A = sqrt(v_t).
AUTHORS_RMSPROP = {"decay": 0.8, "eps": 0.0, "initial_accumulator": 1e-10}


class TrustRegionState(NamedTuple):
    """State of `trust_region`.

    Attributes:
      radius: current trust-region radius Δ (float32 scalar), in the trust-region norm
        (see `radius_norm`).
      ellipsoid_state: the ellipsoid's own state (e.g. the RMSProp second moment).
      step_count: number of `update` calls (int32, saturating).
      accepted_count: number of accepted steps (int32).
      gradient_count: number of gradients computed, one linearisation per `update` (int32).
      hvp_count: number of Hessian-vector products used by the subproblem solves (int32).
        Backpropagations in the authors' accounting are `gradient_count + hvp_count`
        (one HVP counted as one backprop); the trial evaluation is one forward pass per step.
      last_rho: ρ of the last step (float32); 0 when the last step had non-finite values.
      last_model_decrease: m(0) − m(s) of the last step (float32, ≥ 0).
      last_outcome: a `StepOutcome` code (int32) of the last step: accepted, rejected,
        non-finite, no move (below the parameters' resolution), unresolved (below f's
        resolution, accepted with ρ = 1), stationary, skipped.
    """

    radius: jax.Array
    ellipsoid_state: Any
    step_count: jax.Array
    accepted_count: jax.Array
    gradient_count: jax.Array
    hvp_count: jax.Array
    last_rho: jax.Array
    last_model_decrease: jax.Array
    last_outcome: jax.Array


def _default_initial_radius(ell: Ellipsoid, radius_norm: str) -> float:
    if radius_norm == "scaled":
        return DEFAULT_INITIAL_RADIUS["identity"]
    if ell.name in DEFAULT_INITIAL_RADIUS:
        return DEFAULT_INITIAL_RADIUS[ell.name]
    raise ValueError(
        f"initial_radius must be given for the ellipsoid {ell.name!r} (defaults exist only for "
        f"{sorted(DEFAULT_INITIAL_RADIUS)}, or with radius_norm='scaled')")


def trust_region(
    *,
    preset: str | None = None,
    ellipsoid: str | Ellipsoid | None = None,
    initial_radius: float | None = None,
    max_radius: float | None = None,
    eta1: float | None = None,
    eta2: float | None = None,
    increase: float | None = None,
    decrease: float | None = None,
    max_cg_iters: int | None = None,
    cg_rtol: float | None = None,
    cg_forcing_exponent: float | None = None,
    cg_stop: str | None = None,
    radius_norm: str = "ellipsoid",
    diagonal_floor: float = 0.0,
    subproblem: str = "steihaug",
    cg_theta: float | None = None,
) -> optax.GradientTransformationExtraArgs:
    r"""Stochastic ellipsoidal trust region (Steihaug–Toint CG on exact Hessian-vector products).

    Each `update` is one outer iteration on the batch that `value_fn` closes over (or receives
    through extra keyword arguments). One linearisation of `value_fn` at θ gives the value f,
    the gradient g and the Hessian-vector products $Hv$; with $A$ the ellipsoid's diagonal
    (updated with g first, as the authors do) and $D$ the trust-region norm built from it
    (`radius_norm`):

    $$
    s \approx \arg\min_{\|s\|_D \le \Delta} m(s) = f + g^\top s + \tfrac12 s^\top H s,
    \qquad \rho = \frac{f(\theta) - f(\theta + s)}{m(0) - m(s)}.
    $$

    The update is `s` if accepted, else zero. Ratio, acceptance and radius update are the one
    rule `assess_step` shared with `minimize_trust_region`: precision-safe (a decrease below the
    resolution of f counts as ρ = 1, a step that rounds back to θ grows the radius, the radius
    never falls below $\epsilon_\theta \|\theta\|_D$), so no sequence of rejections can stall
    the run. With bfloat16/float16 parameters the solver works in float32 (value_fn receives
    float32 parameters) and the trial point is the rounded $\theta + s$ that the caller gets.

    Defaults (no `preset`): the authors' sphere constants for their MNIST MLP (η₁ = 0.01,
    η₂ = 0.95, γ_inc = 1.1, γ_dec = 1/1.5, Δ_max = 10, 50 CG iterations stopped by the residual
    rule with κ = 0.1, the default of their code). `preset="kohler2019"` is their RMSProp
    configs exactly: γ_dec = 1/1.75, the relative model-decrease-gain CG stop
    (`precon_stopping_criterion`), their absolute ρ safeguard 1e-15 (on top of the relative
    one) and their ellipsoid `rmsprop_ellipsoid(decay=0.8, eps=0, initial_accumulator=1e-10)`.
    `preset="scipy"` is scipy trust-ncg's rule. Explicit arguments override the preset.

    A non-finite incoming gradient or `value` skips the step (zero update, ellipsoid and
    radius kept); a non-finite trial value is a rejection.

    `update(updates, state, params, *, value=None, value_fn, full_params=None, **extra_args)`:

    * `updates`: only checked to be finite. The model's gradient comes from the same
      linearisation as its HVPs (one gradient per step), so a step is always the trust-region
      step of `value_fn`; a caller that does not need the gradient itself may pass
      `optax.tree.zeros_like(params)`. Consequently transformations chained before this one
      (clipping) and `optax.MultiSteps` accumulation do not change the step: MultiSteps makes
      one trust-region step on the last batch every k calls. To limit steps, use `max_radius`.
    * `value_fn(params, **kw)` returns the scalar loss on the current batch; extra keyword
      arguments whose names are parameters of `value_fn` are passed on (e.g. `batch=`).
    * Under `optax.masked` or `optax.multi_transform` the trainable subset arrives with
      `optax.MaskedNode` leaves: pass `full_params=` (all parameters); the frozen leaves are
      taken from it and held fixed, and the curvature is that of the trainable subset.

    Args:
      preset: `None` (library defaults above), `"kohler2019"` or `"scipy"`.
      ellipsoid: "rmsprop" (default), "adam", "adagrad", "identity" (spherical trust region), or
        an `Ellipsoid`.
      initial_radius: Δ₀. `None` picks the authors' value: 0.05 for "identity" and "adagrad",
        1e-4 for "rmsprop" and "adam" in the raw A-norm; 0.05 with `radius_norm="scaled"`.
      max_radius: Δ_max, finite.
      eta1: acceptance threshold η₁ ∈ [0, 1).
      eta2: "very successful" threshold η₂ ∈ [η₁, 1).
      increase: γ_inc > 1 multiplying the radius after a very successful step.
      decrease: γ_dec ∈ (0, 1) multiplying the radius after a rejection.
      max_cg_iters: cap on CG iterations (HVPs) per step (`"lanczos"`: the Krylov dimension,
        at most 256); with `preset="scipy"` (no cap in scipy) the default of
        `minimize_trust_region`, `max(10 n, 100)` (Lanczos: `min(n, 100)`).
      cg_rtol: κ in the CG stopping rule.
      cg_forcing_exponent: θ in the residual rule ‖r_k‖ ≤ ‖r_0‖ min(κ, ‖r_0‖^θ).
      cg_stop: "residual" or "model_gain" (the authors' relative model-decrease gain).
      radius_norm: "ellipsoid" (raw ‖s‖_A, the authors') or "scaled" (‖s‖_D with D = A/mean(A):
        parameter units, the same as the sphere's).
      diagonal_floor: lower bound of D relative to its mean ("scaled") or to its maximum
        ("ellipsoid"); 0 keeps A as it is.
      subproblem: "steihaug" (truncated CG) or "lanczos" (GLTR, `lanczos_subproblem`: stores
        `max_cg_iters` parameter-sized basis vectors).
      cg_theta: deprecated alias of `cg_forcing_exponent`.

    Returns:
      A `GradientTransformationExtraArgs` whose state is a `TrustRegionState`.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> from complexity_optax import trust_region
      >>> def loss(p, batch):
      ...   return jnp.mean((batch @ p['w'] - 1.0) ** 2)
      >>> batch = jnp.array([[1.0, 2.0], [3.0, 1.0]])
      >>> params = {'w': jnp.zeros(2)}
      >>> opt = trust_region(ellipsoid="identity", initial_radius=1.0)
      >>> state = opt.init(params)
      >>> value, grads = jax.value_and_grad(loss)(params, batch)
      >>> updates, state = opt.update(grads, state, params, value=value, value_fn=loss,
      ...                             batch=batch)
      >>> params = optax.apply_updates(params, updates)
      >>> bool(loss(params, batch) < value), int(state.accepted_count)
      (True, 1)

    References:
      Kohler, Adolphs & Lucchi, [Adaptive norms for deep learning with regularized Newton
      methods](https://arxiv.org/abs/1905.09201), 2019 (Algorithm 1; code:
      jonaskohler/AdaptiveNormsNewton). Conn, Gould & Toint, *Trust-Region Methods*, SIAM 2000
      (Algorithm 7.5.1).
    """
    rule = configure_rule(preset, LIBRARY_DEFAULTS, radius_norm=radius_norm,
                          diagonal_floor=diagonal_floor, subproblem=subproblem,
                          cg_theta=cg_theta, initial_radius=initial_radius,
                          max_radius=max_radius, eta1=eta1, eta2=eta2, increase=increase,
                          decrease=decrease, max_cg_iters=max_cg_iters, cg_rtol=cg_rtol,
                          cg_forcing_exponent=cg_forcing_exponent, cg_stop=cg_stop)
    if ellipsoid is None:
        ellipsoid = rmsprop_ellipsoid(**AUTHORS_RMSPROP) if preset == "kohler2019" else "rmsprop"
    ell = get_ellipsoid(ellipsoid)
    radius0 = (_default_initial_radius(ell, radius_norm) if rule.initial_radius is None
               else rule.initial_radius)
    r0, rmax = checks.concrete_float(radius0), checks.concrete_float(rule.max_radius)
    if r0 is not None and rmax is not None and r0 > rmax:
        raise ValueError(f"initial_radius must be <= max_radius, got {radius0!r} > {rmax!r}")

    def cg_cap(params: Any) -> int:
        # `None` (the scipy preset: no cap in scipy) is the default of `minimize_trust_region`
        # (`default_max_iters`: max(10 n, 100) CG iterations; Lanczos min(n, 100)), n static.
        return clamp_int32(default_max_iters(subproblem, optax.tree.size(params),
                                             rule.max_cg_iters))

    def init_fn(params: optax.Params) -> TrustRegionState:
        zero_i = jnp.zeros([], jnp.int32)
        zero_f = jnp.zeros([], jnp.float32)
        return TrustRegionState(
            radius=jnp.asarray(radius0, jnp.float32),
            ellipsoid_state=ell.init(params),
            step_count=zero_i,
            accepted_count=zero_i,
            gradient_count=zero_i,
            hvp_count=zero_i,
            last_rho=zero_f,
            last_model_decrease=zero_f,
            last_outcome=jnp.asarray(StepOutcome.SKIPPED, jnp.int32),
        )

    def step_fn(model, state, params):
        inputs_finite, grads = model.finite, model.grads
        ell_state = optax.tree.where(
            inputs_finite, ell.update(grads, state.ellipsoid_state), state.ellipsoid_state)
        diag = norm_diagonal(ell.diagonal(ell_state), radius_norm, diagonal_floor)
        out = trust_region_step(
            subproblem, model.hvp_fn, grads, model.value, params, state.radius, diagonal=diag,
            trial_fn=lambda t: model.loss(model.work(t)), rule=rule, max_iters=cg_cap(params),
            work_params=upcast(params))
        solve, verdict = out.solve, out.assessment
        accepted = inputs_finite & verdict.accepted
        new_radius = jnp.where(inputs_finite, verdict.radius, state.radius)
        iterations = jnp.where(inputs_finite, solve.iterations, 0)
        valid = inputs_finite & (verdict.outcome != StepOutcome.NONFINITE)
        new_state = TrustRegionState(
            radius=new_radius.astype(state.radius.dtype),
            ellipsoid_state=optax.tree.cast_like(ell_state, state.ellipsoid_state),
            **step_counts(state, accepted, iterations),
            last_rho=jnp.where(valid, verdict.rho, 0.0).astype(state.last_rho.dtype),
            last_model_decrease=jnp.where(valid, solve.model_decrease, 0.0).astype(
                state.last_model_decrease.dtype),
            last_outcome=jnp.where(inputs_finite, verdict.outcome,
                                   StepOutcome.SKIPPED).astype(jnp.int32),
        )
        return out.step, accepted, new_state

    return optax.GradientTransformationExtraArgs(init_fn, batch_update("trust_region", step_fn))
