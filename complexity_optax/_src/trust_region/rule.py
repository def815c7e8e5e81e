# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""The one trust-region rule: ratio, acceptance, radius update, safeguards, validation, presets.

Both entry points, the mini-batch transformation `trust_region` and the full-batch solver
`minimize_trust_region` (and the optimistix solver `TrustRegionMinimiser`), call
`assess_step` once per outer iteration and validate their hyperparameters with `validate`.

Two named presets reproduce published constants:

* `"kohler2019"`: the authors' code (jonaskohler/AdaptiveNormsNewton, `trust_region.py`, the
  RMSProp MLP configs): $\eta_1 = 0.01$, $\eta_2 = 0.95$, $\gamma_{inc} = 1.1$,
  $\gamma_{dec} = 1/1.75$, shrink only on rejection, grow on every very successful step,
  $\rho = 1$ whenever $|f(\theta) - f(\theta + s)| < 10^{-15}$ and $|m(0) - m(s)| < 10^{-15}$,
  at most 50 CG iterations stopped by the relative model-decrease gain
  (`precon_stopping_criterion`) with $\kappa = 0.1$, $\Delta_{max} = 10$.
* `"scipy"`: `scipy.optimize.minimize(method="trust-ncg")`: $\eta = 0.15$ with strict
  acceptance $\rho > \eta$, shrink by $1/4$ when $\rho < 1/4$, grow by 2 when $\rho > 3/4$ and
  the step is on the boundary, $\Delta_0 = 1$, $\Delta_{max} = 1000$, CG forcing
  $\min(0.5, \sqrt{\|g\|})\,\|g\|$ with no iteration cap.

On top of either preset, the rule is precision-safe (neither preset is, as published): a decrease
that the float type of $f$ cannot resolve is not read as a ratio, a step that rounds back to
$\theta$ is detected (it makes the radius grow instead of shrink), and the radius never falls
below $\epsilon_\theta \|\theta\|$ (the resolution of the parameters, in the trust-region norm).
"""

from __future__ import annotations

import enum
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.tree import compute_dtype

__all__ = [
    "PRESETS",
    "StepAssessment",
    "StepChecks",
    "StepOutcome",
    "TrustRegionPreset",
    "assess_step",
    "configure_rule",
    "evaluate_if_moved",
    "forcing_exponent",
    "get_preset",
    "radius_floor",
    "resolve_rule",
    "step_checks",
    "update_radius",
    "validate",
    "validate_acceptance",
]



class TrustRegionPreset(NamedTuple):
    """Constants of a trust-region rule (see `PRESETS`).

    Attributes:
      eta1: acceptance threshold $\\eta_1$.
      eta2: very-successful threshold $\\eta_2$.
      increase: $\\gamma_{inc} > 1$.
      decrease: $\\gamma_{dec} \\in (0, 1)$, a factor that multiplies the radius.
      shrink_below: shrink also accepted steps with $\\rho$ below this (scipy: 0.25).
      grow_on_boundary_only: grow only when the step reached the boundary (scipy).
      strict_acceptance: accept on $\\rho > \\eta_1$ (scipy) instead of $\\ge$ (the authors).
      tiny_decrease: the authors' absolute safeguard ($\\rho = 1$ when both decreases are
        below it in absolute value); 0 disables it. The precision-safe relative safeguard is
        applied in any case.
      initial_radius: $\\Delta_0$ (`None`: per ellipsoid, see `trust_region`).
      max_radius: $\\Delta_{max}$.
      max_cg_iters: the CG cap (`None`: as many as the problem needs, clamped to int32).
      cg_rtol: $\\kappa$ of the CG stopping rule.
      cg_forcing_exponent: $\\theta$ of the residual rule $\\|r\\| \\le \\|g\\| \\min(\\kappa,
        \\|g\\|^\\theta)$.
      cg_stop: `"residual"` (that rule) or `"model_gain"` (the authors' relative model-decrease
        gain rule, with $\\min(\\sqrt{\\|g\\|}, \\kappa)$).
    """

    eta1: float
    eta2: float
    increase: float
    decrease: float
    shrink_below: float
    grow_on_boundary_only: bool
    strict_acceptance: bool
    tiny_decrease: float
    initial_radius: float | None
    max_radius: float
    max_cg_iters: int | None
    cg_rtol: float
    cg_forcing_exponent: float
    cg_stop: str


#: The named presets. ``"kohler2019"`` is the authors' code with the RMSProp-run shrink factor
#: 1/1.75 (their sphere runs divide by 1.5, their Adagrad runs by 1.25); ``"scipy"`` is
#: ``scipy.optimize.minimize(method="trust-ncg")``.
PRESETS: dict[str, TrustRegionPreset] = {
    "kohler2019": TrustRegionPreset(
        eta1=0.01, eta2=0.95, increase=1.1, decrease=1.0 / 1.75, shrink_below=0.0,
        grow_on_boundary_only=False, strict_acceptance=False, tiny_decrease=1e-15,
        initial_radius=None, max_radius=10.0, max_cg_iters=50, cg_rtol=0.1,
        cg_forcing_exponent=0.5, cg_stop="model_gain"),
    "scipy": TrustRegionPreset(
        eta1=0.15, eta2=0.75, increase=2.0, decrease=0.25, shrink_below=0.25,
        grow_on_boundary_only=True, strict_acceptance=True, tiny_decrease=0.0,
        initial_radius=1.0, max_radius=1000.0, max_cg_iters=None, cg_rtol=0.5,
        cg_forcing_exponent=0.5, cg_stop="residual"),
}


def get_preset(name: str) -> TrustRegionPreset:
    """The preset called `name` (`"kohler2019"` or `"scipy"`).

    Examples:
      >>> get_preset("scipy").eta1
      0.15
    """
    checks.check_choice("preset", name, tuple(PRESETS))
    return PRESETS[name]


class StepOutcome(enum.IntEnum):
    """What the rule made of one trial step (`TrustRegionState.last_outcome`)."""

    ACCEPTED = 0  #: accepted on its ratio.
    REJECTED = 1  #: rejected on its ratio (or a non-positive predicted decrease).
    NONFINITE = 2  #: non-finite trial value, step or model decrease: rejected.
    NO_MOVE = 3  #: the step rounds back to the current parameters: nothing to accept.
    UNRESOLVED = 4  #: both decreases are below the resolution of f: accepted with rho = 1.
    STATIONARY = 5  #: a zero step (zero gradient): nothing to do.
    SKIPPED = 6  #: non-finite inputs (gradient or value): the step was not attempted.


class StepChecks(NamedTuple):
    """What `step_checks` found about a trial step (scalar bools)."""

    finite: jax.Array  #: every entry of the step is finite.
    nonzero: jax.Array  #: some entry of the (finite) step is non-zero; False if not finite.
    moved: jax.Array  #: some entry of the trial point differs from the parameters'.


class StepAssessment(NamedTuple):
    """Output of `assess_step`."""

    rho: jax.Array  #: the ratio (0 when not finite).
    accepted: jax.Array  #: whether to move to the trial point.
    radius: jax.Array  #: the next radius.
    outcome: jax.Array  #: a `StepOutcome` (int32).
    at_precision_floor: jax.Array  #: no resolvable progress is possible at this radius.


def radius_floor(params_norm: jax.Array, params_dtype: Any, radius_dtype: Any) -> jax.Array:
    r"""The smallest radius the rule uses: $\epsilon_\theta \|\theta\|$, in the trust-region norm.

    $\epsilon_\theta$ is the machine epsilon of the parameters' dtype (bfloat16: $2^{-7}$),
    so a step of this length can still change $\theta$; the smallest normal number of the
    radius dtype keeps it positive at $\theta = 0$.

    Examples:
      >>> import jax.numpy as jnp
      >>> float(radius_floor(jnp.float32(2.0), jnp.bfloat16, jnp.float32))
      0.015625
    """
    eps = jnp.finfo(params_dtype).eps
    tiny = jnp.finfo(radius_dtype).tiny
    return jnp.maximum(jnp.asarray(eps, radius_dtype) * params_norm.astype(radius_dtype),
                       jnp.asarray(tiny, radius_dtype) * 4)


def update_radius(
    radius: jax.Array,
    rho: jax.Array,
    hit_boundary: jax.Array,
    *,
    eta1: Any,
    eta2: Any,
    increase: Any,
    decrease: Any,
    max_radius: Any,
    shrink_below: Any = 0.0,
    grow_on_boundary_only: bool = False,
    min_radius: Any = 0.0,
) -> jax.Array:
    r"""The next trust-region radius from the ratio $\rho$ = actual / predicted decrease.

    $$
    \Delta' = \begin{cases}
      \max(\gamma_{dec}\,\Delta,\ \Delta_{min}) & \rho < \max(\eta_1, \rho_{shrink}) \\
      \min(\gamma_{inc}\,\Delta,\ \Delta_{max}) & \rho \ge \eta_2
        \ (\text{and the step reached the boundary, if required}) \\
      \Delta & \text{otherwise.}
    \end{cases}
    $$

    Shrinking takes precedence; a non-finite $\rho$ should be passed as $-\infty$.

    Args:
      radius: the current radius $\Delta$.
      rho: the ratio $\rho$.
      hit_boundary: whether the step reached the boundary of the region.
      eta1: acceptance threshold $\eta_1$.
      eta2: very-successful threshold $\eta_2$.
      increase: growth factor $\gamma_{inc} > 1$.
      decrease: shrink factor $0 < \gamma_{dec} < 1$.
      max_radius: $\Delta_{max}$.
      shrink_below: $\rho_{shrink}$, shrink also when accepted with a ratio below it.
      grow_on_boundary_only: grow only when the step reached the boundary.
      min_radius: $\Delta_{min}$, a floor for the shrunk radius.

    Returns:
      The new radius, in the dtype of `radius`.

    Examples:
      >>> import jax.numpy as jnp
      >>> rule = dict(eta1=0.15, eta2=0.75, increase=2.0, decrease=0.25, max_radius=10.0)
      >>> [float(update_radius(jnp.float32(1.0), jnp.float32(r), True, **rule))
      ...  for r in (0.1, 0.5, 0.9)]
      [0.25, 1.0, 2.0]
    """
    shrink = rho < jnp.maximum(eta1, shrink_below)
    grow = rho >= eta2
    if grow_on_boundary_only:
        grow = grow & hit_boundary
    new_radius = jnp.where(
        shrink,
        jnp.maximum(decrease * radius, min_radius),
        jnp.where(grow, jnp.minimum(increase * radius, max_radius), radius),
    )
    return new_radius.astype(radius.dtype)


def step_checks(step: Any, params: Any, trial_params: Any) -> StepChecks:
    r"""`StepChecks`: whether every entry of `step` is finite, whether some entry is non-zero,
    and whether some entry of `trial_params` differs from `params`'.

    Each floating leaf costs two reductions that XLA fuses with the elementwise work before them
    (reads, no parameter-sized array written):

    * $\sum_i a_i / (1 + a_i)$ with $a = |s|$ is NaN exactly when some $s_i$ is NaN or
      $\pm\infty$ ($\infty/\infty$), cannot overflow (each term is below 1), and is $> 0$
      exactly when some $s_i \ne 0$ (a sum of non-negative terms never rounds to 0), for a
      finite step (`assess_step` reads `nonzero` only then);
    * $\sum_i |t_i - p_i| > 0$ exactly when some finite $t_i \ne p_i$ (the difference of two
      distinct floats is not 0); $p$ passes an optimisation barrier, without which XLA folds
      $(p + s) - p$ to $s$ when $p$ is a compile-time constant (parameters closed over).

    A comparison would be written out as a mask before its reduction on XLA's CPU backend. Only
    bfloat16/float16 leaves compare (counts of $t_i \ne p_i$ as 0/1 floats): formed in float32,
    $t - p$ may be $s$ itself, because XLA may drop the rounding of $t = p + s$ to the narrow
    dtype (excess precision). Integer leaves are finite and compare.

    Examples:
      >>> import jax.numpy as jnp
      >>> p = jnp.array([1.0, 2.0])
      >>> tiny = jnp.array([0.0, 1e-9])              # below the resolution of p
      >>> [bool(c) for c in step_checks(tiny, p, p + tiny)]
      [True, True, False]
      >>> [bool(c) for c in step_checks(jnp.array([0.0, jnp.inf]), p, p)]
      [False, False, False]
    """
    finite, nonzero, moved = [], [], []
    for s, p, t in zip(jax.tree.leaves(step), jax.tree.leaves(params),
                       jax.tree.leaves(trial_params), strict=False):
        s, p, t = jnp.asarray(s), jnp.asarray(p), jnp.asarray(t)
        if not s.size:
            continue
        if not jnp.issubdtype(s.dtype, jnp.inexact):
            nonzero.append(jnp.sum((s != 0).astype(jnp.float32)) > 0)
            moved.append(jnp.sum((t != p).astype(jnp.float32)) > 0)
            continue
        a = jnp.abs(s.astype(compute_dtype(s.dtype)))
        bounded = jnp.sum(a / (1 + a))
        finite.append(jnp.isfinite(bounded))
        nonzero.append(bounded > 0)
        if compute_dtype(t.dtype) != t.dtype:
            moved.append(jnp.sum((t != p).astype(jnp.float32)) > 0)
        else:
            # The barrier keeps XLA from reassociating (p + s) - p to s when p is a constant.
            moved.append(jnp.sum(jnp.abs(t - jax.lax.optimization_barrier(p))) > 0)
    def every(flags, empty):
        return jnp.all(jnp.stack(flags)) if flags else jnp.asarray(empty)
    def some(flags):
        return jnp.any(jnp.stack(flags)) if flags else jnp.asarray(False)
    return StepChecks(every(finite, True), some(nonzero), some(moved))


def evaluate_if_moved(fn: Any, params: Any, step: Any, value: jax.Array,
                      found: StepChecks, *, has_aux: bool = False, aux: Any = None) -> Any:
    r"""$f(\theta + s)$ when the finite step moves $\theta$; else `value` $= f(\theta)$ (in
    `value`'s dtype). With `has_aux`, `fn` returns (value, aux) and so does this function
    (`aux`, the auxiliary output at $\theta$, when $\theta$ did not move).

    A step that rounds back to $\theta$ (or is zero) has $f(\theta + s) = f(\theta)$, and a
    non-finite one is rejected whatever its value, so neither is evaluated. The trial point is
    formed inside the branch (`fn(optax.apply_updates(params, step))`), which also keeps the
    evaluation its own XLA computation: fused as the caller's `fn` alone would be, not merged
    with the linearisation at $\theta$.

    Examples:
      >>> import jax.numpy as jnp
      >>> f = lambda x: jnp.sum(x**2)
      >>> p, s = jnp.array([1.0, 2.0]), jnp.array([0.5, 0.0])
      >>> float(evaluate_if_moved(f, p, s, f(p), step_checks(s, p, p + s)))
      6.25
      >>> float(evaluate_if_moved(f, p, 0 * s, f(p), step_checks(0 * s, p, p)))
      5.0
    """
    dtype = jnp.asarray(value).dtype  # f at theta and at theta + s: one function, one dtype

    def trial(p, s):
        out = fn(optax.apply_updates(p, s))
        out, out_aux = out if has_aux else (out, None)
        return jnp.asarray(out).astype(dtype), out_aux

    evaluated = jax.lax.cond(found.finite & found.moved, trial,
                             lambda p, s: (jnp.asarray(value).astype(dtype), aux), params, step)
    return evaluated if has_aux else evaluated[0]


def assess_step(
    *,
    value: jax.Array,
    trial_value: jax.Array,
    predicted: jax.Array,
    step: Any,
    params: Any,
    trial_params: Any,
    radius: jax.Array,
    hit_boundary: jax.Array,
    min_radius: jax.Array,
    rule: TrustRegionPreset,
    max_radius: Any = None,
    increase: Any = None,
    found: StepChecks | None = None,
) -> StepAssessment:
    r"""Ratio, acceptance and next radius of one trial step, precision-safe.

    With $a = f(\theta) - f(\theta + s)$ and $p = m(0) - m(s)$ and the resolution
    $\tau_f = 4\epsilon_f \max(|f(\theta)|, |f(\theta+s)|)$ of $f$ (and the preset's
    absolute `tiny_decrease`):

    * non-finite $f(\theta+s)$, $p$ or $s$: rejected, the radius shrinks (not below the floor);
    * $s = 0$: stationary, nothing changes;
    * $\theta + s = \theta$ in the parameters' dtype: the step is below their resolution; nothing
      is accepted and the radius grows by $\max(\gamma_{inc}, 2)$ (at least to the floor);
    * $|a| \le \tau$ and $p \le \tau$: the decrease is unresolvable, $\rho = 1$ (accepted);
    * otherwise $\rho = a / p$ ($-\infty$ when $p \le 0$) and the preset's rule applies.

    `at_precision_floor` is true when no resolvable progress is possible: the step was
    unresolvable or did not move $\theta$, and it was not limited by the radius (interior, or
    the radius is at $\Delta_{max}$); or it moved $\theta$ and was rejected with the radius
    already at the floor (its ratio is rounding noise). This holds for the model's step: the
    callers report it as convergence only when the subproblem solve was not truncated by its
    iteration cap (`SteihaugResult.capped`), see `TrustRegionStatus.PRECISION_FLOOR`.

    Examples:
      >>> import jax.numpy as jnp
      >>> out = assess_step(value=jnp.float32(1.0), trial_value=jnp.float32(0.5),
      ...     predicted=jnp.float32(0.5), step=jnp.ones(1), params=jnp.zeros(1),
      ...     trial_params=jnp.ones(1), radius=jnp.float32(1.0), hit_boundary=True,
      ...     min_radius=jnp.float32(1e-7), rule=get_preset("scipy"))
      >>> float(out.rho), bool(out.accepted), float(out.radius)
      (1.0, True, 2.0)
    """
    dtype = radius.dtype
    max_radius = rule.max_radius if max_radius is None else max_radius
    increase = rule.increase if increase is None else increase
    value = jnp.asarray(value)
    fdtype = jnp.result_type(value.dtype, jnp.float32)
    value = value.astype(fdtype)
    trial_value = jnp.asarray(trial_value).astype(fdtype)
    predicted = jnp.asarray(predicted).astype(fdtype)
    actual = value - trial_value
    if found is None:
        found = step_checks(step, params, trial_params)
    step_finite, nonzero, moved = found
    finite = jnp.isfinite(trial_value) & jnp.isfinite(predicted) & step_finite
    resolution = 4 * jnp.finfo(fdtype).eps * jnp.maximum(
        jnp.abs(value), jnp.where(jnp.isfinite(trial_value), jnp.abs(trial_value), 0.0))
    threshold = jnp.maximum(resolution, jnp.asarray(rule.tiny_decrease, fdtype))
    unresolved = (jnp.abs(actual) <= threshold) & (jnp.abs(predicted) <= threshold)
    rho = jnp.where(predicted > 0, actual / jnp.where(predicted > 0, predicted, 1.0), -jnp.inf)
    rho = jnp.where(unresolved, 1.0, rho)
    rho = jnp.where(finite & ~jnp.isnan(rho), rho, -jnp.inf)

    eta1 = jnp.asarray(rule.eta1, fdtype)
    accept_ratio = (rho > eta1) if rule.strict_acceptance else (rho >= eta1)
    ruled = update_radius(
        radius, rho, hit_boundary, eta1=rule.eta1, eta2=rule.eta2, increase=increase,
        decrease=rule.decrease, max_radius=max_radius, shrink_below=rule.shrink_below,
        grow_on_boundary_only=rule.grow_on_boundary_only, min_radius=min_radius)
    grown = jnp.minimum(jnp.maximum(jnp.maximum(increase, 2.0) * radius, min_radius),
                        max_radius).astype(dtype)
    no_move = finite & nonzero & ~moved
    stationary = finite & ~nonzero
    new_radius = jnp.where(stationary, radius, jnp.where(no_move, grown, ruled))
    new_radius = jnp.maximum(new_radius, jnp.minimum(min_radius, max_radius)).astype(dtype)
    accepted = finite & nonzero & moved & accept_ratio

    outcome = jnp.where(
        ~finite, StepOutcome.NONFINITE,
        jnp.where(stationary, StepOutcome.STATIONARY,
                  jnp.where(no_move, StepOutcome.NO_MOVE,
                            jnp.where(unresolved, StepOutcome.UNRESOLVED,
                                      jnp.where(accepted, StepOutcome.ACCEPTED,
                                                StepOutcome.REJECTED))))).astype(jnp.int32)
    limited = hit_boundary & (radius < max_radius)
    # Rejected at the floor radius: the step is a few units in the last place of theta, so its
    # ratio is rounding noise and shrinking further is impossible. Only a step that moved theta
    # counts: one that rounded back (NO_MOVE) makes the radius grow, so a radius below the floor
    # (initial_radius=1e-9: the audit's solve stopped at its starting point) is no floor.
    stuck = finite & nonzero & moved & ~accepted & (radius <= 2 * min_radius)
    at_floor = (finite & nonzero & (no_move | unresolved) & ~limited) | stuck
    return StepAssessment(
        rho=jnp.where(jnp.isfinite(rho), rho, 0.0).astype(jnp.float32),
        accepted=accepted, radius=new_radius, outcome=outcome, at_precision_floor=at_floor)


def resolve_rule(preset: str | None, base: TrustRegionPreset, **given: Any) -> TrustRegionPreset:
    """The rule: explicit arguments over the named `preset` over `base` (library defaults)."""
    if preset is not None:
        checks.check_choice("preset", preset, tuple(PRESETS))
        base = PRESETS[preset]
    return base._replace(**{k: v for k, v in given.items() if v is not None})


def forcing_exponent(cg_forcing_exponent: Any, cg_theta: Any, stacklevel: int = 3) -> Any:
    """`cg_forcing_exponent`, or the deprecated `cg_theta` with a `DeprecationWarning`."""
    if cg_theta is None:
        return cg_forcing_exponent
    warnings.warn("cg_theta is deprecated (removed in the next release): use "
                  "cg_forcing_exponent", DeprecationWarning, stacklevel=stacklevel)
    if cg_forcing_exponent is not None:
        raise TypeError("cg_theta: give cg_forcing_exponent or its deprecated alias cg_theta, "
                        "not both")
    checks.check_positive("cg_theta", cg_theta, allow_zero=True)
    return cg_theta


def configure_rule(preset: str | None, base: TrustRegionPreset, *, radius_norm: str,
                   diagonal_floor: Any, subproblem: str, cg_theta: Any = None,
                   default_initial_radius: float | None = None,
                   **given: Any) -> TrustRegionPreset:
    """The one construction path of the trust-region entry points (`trust_region`,
    `minimize_trust_region`, `TrustRegionMinimiser`): the deprecated `cg_theta` alias, explicit
    arguments over the named `preset` over `base`, `initial_radius` defaulted, then `validate`,
    the radius norm and the subproblem solver checked. Errors name the parameter.

    Examples:
      >>> rule = configure_rule("scipy", PRESETS["scipy"], radius_norm="scaled",
      ...                       diagonal_floor=1e-3, subproblem="steihaug", eta1=0.2)
      >>> rule.eta1, rule.eta2, rule.initial_radius
      (0.2, 0.75, 1.0)
    """
    from complexity_optax._src.trust_region.shape import check_radius_norm
    from complexity_optax._src.trust_region.subproblem import check_subproblem

    given["cg_forcing_exponent"] = forcing_exponent(given.get("cg_forcing_exponent"), cg_theta,
                                                    stacklevel=4)
    rule = resolve_rule(preset, base, **given)
    if rule.initial_radius is None and default_initial_radius is not None:
        rule = rule._replace(initial_radius=default_initial_radius)
    validate(initial_radius=rule.initial_radius, max_radius=rule.max_radius, eta1=rule.eta1,
             eta2=rule.eta2, increase=rule.increase, decrease=rule.decrease,
             shrink_below=rule.shrink_below, max_cg_iters=rule.max_cg_iters,
             cg_rtol=rule.cg_rtol, cg_forcing_exponent=rule.cg_forcing_exponent,
             cg_stop=rule.cg_stop)
    check_radius_norm(radius_norm, diagonal_floor)
    check_subproblem(subproblem, rule.max_cg_iters)
    return rule


def clamp_int32(value: int) -> int:
    """`value` clamped to the int32 range (step and iteration limits are int32 in the loops)."""
    return int(min(max(int(value), 1), checks.INT32_MAX))


def validate_acceptance(eta1: Any, eta2: Any, increase: Any, decrease: Any, *,
                        eta1_may_be_zero: bool) -> None:
    r"""The acceptance thresholds and the growth/shrink factors of an adaptive second-order
    rule (the trust region's radius, ARC's sigma): $0 \le \eta_1 \le \eta_2 < 1$ ($\eta_1 > 0$
    unless `eta1_may_be_zero`), `increase` $> 1$, `decrease` in $(0, 1)$. Traced values pass.

    Examples:
      >>> validate_acceptance(0.5, 0.25, 2.0, 0.5, eta1_may_be_zero=True)
      Traceback (most recent call last):
      ...
      ValueError: eta1 must be <= eta2, got eta1=0.5 > eta2=0.25
    """
    checks.check_in_interval("eta1", eta1, 0.0, 1.0, low_inclusive=eta1_may_be_zero,
                             high_inclusive=False)
    checks.check_in_interval("eta2", eta2, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    checks.check_positive("increase", increase)
    inc = checks.concrete_float(increase)
    if inc is not None and inc <= 1.0:
        raise ValueError(f"increase must be > 1, got {increase!r}")
    checks.check_in_interval("decrease", decrease, 0.0, 1.0, low_inclusive=False,
                             high_inclusive=False)
    e1, e2 = checks.concrete_float(eta1), checks.concrete_float(eta2)
    if e1 is not None and e2 is not None and e1 > e2:
        raise ValueError(f"eta1 must be <= eta2, got eta1={eta1!r} > eta2={eta2!r}")


def validate(
    *,
    initial_radius: Any,
    max_radius: Any,
    eta1: Any,
    eta2: Any,
    increase: Any,
    decrease: Any,
    shrink_below: Any = 0.0,
    max_cg_iters: Any = None,
    cg_rtol: Any = 0.1,
    cg_forcing_exponent: Any = 0.5,
    cg_stop: str = "residual",
) -> None:
    """The one construction-time validation of the rule's hyperparameters.

    Messages start with the parameter's name; traced values (`inject_hyperparams`) and
    schedules pass unchecked.

    Examples:
      >>> validate(initial_radius=1.0, max_radius=float("inf"), eta1=0.1, eta2=0.5,
      ...          increase=2.0, decrease=0.5)
      Traceback (most recent call last):
      ...
      ValueError: max_radius must be finite, got inf
    """
    if initial_radius is not None:
        checks.check_positive("initial_radius", initial_radius)
    checks.check_positive("max_radius", max_radius)
    validate_acceptance(eta1, eta2, increase, decrease, eta1_may_be_zero=True)
    e2 = checks.concrete_float(eta2)
    checks.check_in_interval("shrink_below", shrink_below, 0.0, 1.0, high_inclusive=False)
    sb = checks.concrete_float(shrink_below)
    if sb is not None and e2 is not None and sb > e2:
        raise ValueError(f"shrink_below must be <= eta2, got {shrink_below!r} > {eta2!r}")
    if max_cg_iters is not None:
        checks.check_int_or_array("max_cg_iters", max_cg_iters, minimum=1)
    checks.check_in_interval("cg_rtol", cg_rtol, 0.0, 1.0, low_inclusive=False,
                             high_inclusive=False)
    checks.check_positive("cg_forcing_exponent", cg_forcing_exponent, allow_zero=True)
    checks.check_choice("cg_stop", cg_stop, ("residual", "model_gain"))
    r0, rmax = checks.concrete_float(initial_radius), checks.concrete_float(max_radius)
    if r0 is not None and rmax is not None and r0 > rmax:
        raise ValueError(
            f"initial_radius must be <= max_radius, got {initial_radius!r} > {max_radius!r}")
