# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Mini-batch (ellipsoidal) trust region as an optax ``GradientTransformationExtraArgs``.

One call of ``update`` is one outer iteration of the stochastic trust-region method of Kohler,
Adolphs & Lucchi (2019), Algorithm 1, as implemented in the authors' code: the ellipsoid is updated
with the gradient, the subproblem

    min_s  m(s) = f + gᵀs + ½ sᵀHs   subject to   ‖s‖_A = sqrt(Σ A s²) ≤ Δ

is solved approximately by preconditioned Steihaug–Toint CG (preconditioner M = A) on exact
Hessian-vector products of ``value_fn`` at ``params``, the trial point is evaluated on the same
batch, and the step is returned if the ratio ρ = (f(θ) − f(θ+s)) / (m(0) − m(s)) is large enough;
otherwise the update is zero and the radius shrinks.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Union

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.kwargs import fn_kwargs
from complexity_optax._src.trust_region.ellipsoids import Ellipsoid, get_ellipsoid
from complexity_optax._src.trust_region.hvp import value_grad_and_hvp
from complexity_optax._src.trust_region.rule import all_finite, update_radius
from complexity_optax._src.trust_region.steihaug import steihaug_cg

# Default Δ_0 per named ellipsoid (authors' configs, parameters/method/*/fc/TR_*.txt). The
# RMSProp/Adam ellipsoid has A ≈ |g|, so its radius is in A-norm units and is much smaller.
DEFAULT_INITIAL_RADIUS = {"identity": 0.05, "adagrad": 0.05, "rmsprop": 1e-4, "adam": 1e-4}

# Authors' safeguard: if both the actual and the predicted decrease are below this in absolute
# value, the step is treated as perfectly predicted (ρ = 1).
_TINY_DECREASE = 1e-15

# The radius never shrinks below this, so that Δ² stays a normal float32 number and a run that
# was rejected many times in a row can still recover (Δ = 0 would be a fixed point).
MIN_RADIUS = 1e-18

_INT32_MAX = jnp.iinfo(jnp.int32).max


class TrustRegionState(NamedTuple):
    """State of :func:`trust_region`.

    Attributes:
      radius: current trust-region radius Δ (float32 scalar), in the norm of the ellipsoid.
      ellipsoid_state: the ellipsoid's own state (e.g. the RMSProp second moment).
      step_count: number of ``update`` calls (int32).
      accepted_count: number of accepted steps (int32).
      gradient_count: number of gradients consumed, one per ``update`` call (int32).
      hvp_count: number of Hessian-vector products used by the CG solves (int32).
        Backpropagations in the authors' accounting are ``gradient_count + hvp_count``
        (one HVP counted as one backprop); the trial evaluation is one forward pass per step.
      last_rho: ρ of the last step (float32); 0 when the last step had non-finite values.
      last_model_decrease: m(0) − m(s) of the last step (float32, ≥ 0).
    """

    radius: jax.Array
    ellipsoid_state: Any
    step_count: jax.Array
    accepted_count: jax.Array
    gradient_count: jax.Array
    hvp_count: jax.Array
    last_rho: jax.Array
    last_model_decrease: jax.Array


def _is_concrete_int_array(value: Any) -> bool:
    """True for a (possibly traced) integer jax/numpy array, as ``inject_hyperparams`` passes."""
    dtype = getattr(value, "dtype", None)
    return dtype is not None and jnp.issubdtype(dtype, jnp.integer) and jnp.ndim(value) == 0


def _validate(
    initial_radius, max_radius, eta1, eta2, increase, decrease, max_cg_iters, cg_rtol, cg_theta
) -> None:
    """Construction-time checks; values that are not concrete (traced) pass unchecked."""
    if initial_radius is not None:
        checks.check_positive("initial_radius", initial_radius)
    checks.check_positive("max_radius", max_radius, allow_inf=True)
    checks.check_in_interval("eta1", eta1, 0.0, 1.0, high_inclusive=False)
    checks.check_positive("eta2", eta2)
    checks.check_positive("increase", increase)
    checks.check_in_interval("decrease", decrease, 0.0, 1.0, low_inclusive=False,
                             high_inclusive=False)
    checks.check_in_interval("cg_rtol", cg_rtol, 0.0, 1.0, low_inclusive=False)
    checks.check_positive("cg_theta", cg_theta, allow_zero=True)
    if not _is_concrete_int_array(max_cg_iters):
        checks.check_int("max_cg_iters", max_cg_iters, minimum=1)
    inc = checks.concrete_float(increase)
    if inc is not None and inc <= 1.0:
        raise ValueError(f"increase must be > 1, got {increase!r}")
    e1, e2 = checks.concrete_float(eta1), checks.concrete_float(eta2)
    if e1 is not None and e2 is not None and e1 > e2:
        raise ValueError(f"eta1 must be <= eta2, got eta1={eta1!r} > eta2={eta2!r}")
    r0, rmax = checks.concrete_float(initial_radius), checks.concrete_float(max_radius)
    if r0 is not None and rmax is not None and r0 > rmax:
        raise ValueError(
            f"initial_radius must be <= max_radius, got {initial_radius!r} > {max_radius!r}")


def _default_initial_radius(ell: Ellipsoid) -> float:
    if ell.name in DEFAULT_INITIAL_RADIUS:
        return DEFAULT_INITIAL_RADIUS[ell.name]
    raise ValueError(
        f"initial_radius must be given for the ellipsoid {ell.name!r} (defaults exist only for "
        f"{sorted(DEFAULT_INITIAL_RADIUS)})")


value_fn_kwargs = fn_kwargs


def _saturating_add(count: jax.Array, increment: jax.Array) -> jax.Array:
    increment = jnp.asarray(increment, jnp.int32)
    return jnp.where(count <= _INT32_MAX - increment, count + increment, _INT32_MAX).astype(
        jnp.int32)


def trust_region(
    *,
    ellipsoid: Union[str, Ellipsoid] = "rmsprop",
    initial_radius: Optional[float] = None,
    max_radius: float = 10.0,
    eta1: float = 0.01,
    eta2: float = 0.95,
    increase: float = 1.1,
    decrease: float = 1.0 / 1.5,
    max_cg_iters: int = 50,
    cg_rtol: float = 0.1,
    cg_theta: float = 0.5,
) -> optax.GradientTransformationExtraArgs:
    r"""Stochastic ellipsoidal trust region (Steihaug–Toint CG on exact Hessian-vector products).

    Each ``update`` is one outer iteration on the batch that ``value_fn`` closes over (or receives
    through extra keyword arguments). With g the gradient, H the Hessian of ``value_fn`` at θ and
    A the positive diagonal of the ellipsoid (updated with g first, as the authors do):

    .. math::

      s \approx \arg\min_{\|s\|_A \le \Delta} m(s) = f(\theta) + g^\top s + \tfrac12 s^\top H s,
      \qquad \rho = \frac{f(\theta) - f(\theta + s)}{m(0) - m(s)},

    where the subproblem is solved by preconditioned Steihaug–Toint CG with preconditioner A and
    :math:`\|s\|_A = \sqrt{\sum_i A_i s_i^2}`. If both decreases are below 1e-15 in absolute value,
    ρ = 1 (the authors' safeguard). The update is ``s`` if ρ ≥ η₁ (accepted), else zero. Radius:
    Δ ← min(γ_inc Δ, Δ_max) if ρ ≥ η₂ (whether or not s is on the boundary, as in the authors'
    code; scipy grows only on the boundary), unchanged if η₁ ≤ ρ < η₂, Δ ← γ_dec Δ on rejection
    (``decrease`` is a factor < 1 that multiplies the radius, as in ``minimize_trust_region``;
    the authors' code divides by 1.25–1.75, i.e. ``decrease`` = 0.8–0.57).

    A non-finite trial value f(θ + s) is a rejection (the radius shrinks). A non-finite gradient or
    ``value`` skips the step altogether: zero update, the ellipsoid and the radius are unchanged.

    ``update(updates, state, params, *, value=None, value_fn, **extra_args)``:

    * ``updates`` is the gradient of ``value_fn`` at ``params`` (on the same batch); ``value``,
      if given, is ``value_fn(params)`` (otherwise it comes from the linearisation).
    * ``value_fn(params, **kw)`` returns the scalar loss on the current batch; it is linearised
      once per step (``jax.linearize`` of its gradient) so each CG iteration costs one tangent pass.
    * extra keyword arguments whose names are parameters of ``value_fn`` are passed on to it
      (e.g. ``batch=``); the others are ignored.

    Args:
      ellipsoid: "rmsprop" (default), "adam", "adagrad", "identity" (spherical trust region), or
        an ``Ellipsoid``.
      initial_radius: Δ₀ in the ellipsoid's norm. ``None`` picks the authors' value: 0.05 for
        "identity" and "adagrad", 1e-4 for "rmsprop" and "adam" (A ≈ |g| there, so the A-norm of
        a step is much smaller than its Euclidean norm); required for a custom ellipsoid.
      max_radius: Δ_max.
      eta1: acceptance threshold η₁ ∈ [0, 1).
      eta2: "very successful" threshold η₂ ≥ η₁.
      increase: γ_inc > 1 multiplying the radius after a very successful step.
      decrease: γ_dec ∈ (0, 1) multiplying the radius after a rejection.
      max_cg_iters: cap on CG iterations (HVPs) per step.
      cg_rtol: κ in the CG stopping rule ‖r_k‖ ≤ ‖r_0‖ min(κ, ‖r_0‖^θ).
      cg_theta: θ in that rule.

    Returns:
      A ``GradientTransformationExtraArgs`` whose state is a :class:`TrustRegionState`.

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
      Kohler, Adolphs & Lucchi, `Adaptive norms for deep learning with regularized Newton methods
      <https://arxiv.org/abs/1905.09201>`_, 2019 (Algorithm 1; code: jonaskohler/AdaptiveNormsNewton).
      Conn, Gould & Toint, *Trust-Region Methods*, SIAM 2000 (Algorithm 7.5.1).
    """
    ell = get_ellipsoid(ellipsoid)
    _validate(initial_radius, max_radius, eta1, eta2, increase, decrease, max_cg_iters, cg_rtol,
              cg_theta)
    radius0 = _default_initial_radius(ell) if initial_radius is None else initial_radius

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
        )

    def update_fn(updates, state, params=None, *, value=None, value_fn=None, **extra_args):
        if params is None:
            raise ValueError("params: trust_region.update needs the current parameters")
        if value_fn is None:
            raise ValueError("value_fn: trust_region.update needs value_fn=, the loss on the batch")
        kwargs = value_fn_kwargs(value_fn, extra_args)

        def loss(p):
            return value_fn(p, **kwargs)

        lin_value, _, hvp_fn = value_grad_and_hvp(loss, params)
        value = lin_value if value is None else jnp.asarray(value)
        inputs_finite = all_finite(updates) & jnp.isfinite(value)
        grads = optax.tree.where(inputs_finite, updates, optax.tree.zeros_like(updates))

        ell_state = optax.tree.where(
            inputs_finite, ell.update(grads, state.ellipsoid_state), state.ellipsoid_state)
        preconditioner = ell.diagonal(ell_state)  # None for the sphere (identity)
        solve = steihaug_cg(hvp_fn, grads, state.radius, preconditioner=preconditioner,
                            max_iters=max_cg_iters, rtol=cg_rtol, theta=cg_theta)
        step = solve.step
        trial_value = loss(optax.apply_updates(params, step))

        actual = value - trial_value
        predicted = solve.model_decrease
        both_tiny = (jnp.abs(actual) < _TINY_DECREASE) & (jnp.abs(predicted) < _TINY_DECREASE)
        safe_predicted = jnp.where(predicted > 0, predicted, 1.0)
        rho = jnp.where(both_tiny, 1.0, jnp.where(predicted > 0, actual / safe_predicted, -1.0))
        valid = (inputs_finite & jnp.isfinite(trial_value) & jnp.isfinite(rho)
                 & jnp.isfinite(predicted) & all_finite(step))
        accepted = valid & (rho >= eta1)

        # The authors' rule: shrink only on rejection (an invalid step is one), grow on every
        # very successful step; inputs that are not finite leave the radius as it was.
        new_radius = update_radius(
            state.radius, jnp.where(valid, rho, -jnp.inf), solve.hit_boundary, eta1=eta1,
            eta2=eta2, increase=increase, decrease=decrease, max_radius=max_radius,
            min_radius=MIN_RADIUS,
        )
        new_radius = jnp.where(inputs_finite, new_radius, state.radius)

        new_updates = optax.tree.where(accepted, step, optax.tree.zeros_like(step))
        new_updates = optax.tree.cast_like(new_updates, updates)
        iterations = jnp.where(inputs_finite, solve.iterations, 0)
        new_state = TrustRegionState(
            radius=new_radius.astype(state.radius.dtype),
            ellipsoid_state=optax.tree.cast_like(ell_state, state.ellipsoid_state),
            step_count=_saturating_add(state.step_count, 1),
            accepted_count=_saturating_add(state.accepted_count, accepted),
            gradient_count=_saturating_add(state.gradient_count, 1),
            hvp_count=_saturating_add(state.hvp_count, iterations),
            last_rho=jnp.where(valid, rho, 0.0).astype(state.last_rho.dtype),
            last_model_decrease=jnp.where(valid, predicted, 0.0).astype(
                state.last_model_decrease.dtype),
        )
        return new_updates, new_state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)
