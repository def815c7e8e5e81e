# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Full-batch (deterministic) ellipsoidal trust-region minimisation with Steihaug-Toint CG."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks, functions
from complexity_optax._src.common.ellipsoids import Ellipsoid, get_ellipsoid
from complexity_optax._src.common.solver_loop import (
    RUNNING,
    Attempt,
    linearise_fn,
    run_solver_loop,
)
from complexity_optax._src.common.status import (
    STATUS_MESSAGES,
    TrustRegionStatus,
    check_result,
    is_successful,
    status_message,
)
from complexity_optax._src.common.tree import working_precision
from complexity_optax._src.common.types import PyTree
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

#: ``status`` codes of `TrustRegionResult` (the values of `TrustRegionStatus`).
STATUS_CONVERGED = int(TrustRegionStatus.CONVERGED)
STATUS_MAX_STEPS = int(TrustRegionStatus.MAX_STEPS)
STATUS_NONPOSITIVE_PREDICTED_DECREASE = int(TrustRegionStatus.NONPOSITIVE_PREDICTED_DECREASE)
STATUS_NONFINITE = int(TrustRegionStatus.NONFINITE)
STATUS_PRECISION_FLOOR = int(TrustRegionStatus.PRECISION_FLOOR)
STATUS_XTOL = int(TrustRegionStatus.XTOL)
STATUS_FTOL = int(TrustRegionStatus.FTOL)
STATUS_CG_CAPPED = int(TrustRegionStatus.CG_CAPPED)

__all__ = ["STATUS_MESSAGES", "TrustRegionResult", "TrustRegionStatus", "minimize_trust_region"]


class TrustRegionResult(NamedTuple):
    """Outcome of `minimize_trust_region`.

    Attributes:
      params: the last accepted point (finite whenever `x0` is), in the dtypes of `x0`.
      value: `fun(params, *args)`, in the solver's precision (at least float32).
      grad: the gradient at `params`, in the solver's precision (float32 leaves for bfloat16
        or float16 parameters).
      grad_norm: its Euclidean norm.
      num_steps: outer iterations (subproblem solves, accepted or rejected), int32.
      num_accepted: accepted steps, int32.
      num_values: function evaluations (linearisations included), int32.
      num_grads: gradient evaluations, int32: one linearisation per outer iteration (it gives
        the value, the gradient and the HVPs) plus the final one at `params`.
      num_hvps: Hessian-vector products, int32 (the authors' backprop count).
      converged: whether `status` is a successful one (gtol, xtol, ftol, precision floor).
      status: int32, a `TrustRegionStatus`; `message` is its text.
      radius: the final trust-region radius (in the trust-region norm).
      aux: the auxiliary output of `fun` at `params` (`has_aux=True`), else `None`.
      num_cg_capped: outer iterations whose subproblem solve stopped at `max_cg_iters` with its
        own stopping test unmet (`SteihaugResult.capped`), int32.
    """

    params: PyTree
    value: jax.Array
    grad: PyTree
    grad_norm: jax.Array
    num_steps: jax.Array
    num_accepted: jax.Array
    num_values: jax.Array
    num_grads: jax.Array
    num_hvps: jax.Array
    converged: jax.Array
    status: jax.Array
    radius: jax.Array
    aux: Any = None
    num_cg_capped: Any = None

    @property
    def message(self) -> str:
        """The human message of `status`."""
        return status_message(int(self.status))


def minimize_trust_region(
    fun: Callable[..., Any],
    x0: PyTree,
    *args: Any,
    preset: str | None = None,
    ellipsoid: Ellipsoid | str = "identity",
    initial_radius: float | None = None,
    max_radius: float | None = None,
    eta1: float | None = None,
    eta2: float | None = None,
    increase: float | None = None,
    decrease: float | None = None,
    shrink_below: float | None = None,
    max_steps: int | None = None,
    gtol: float = 1e-5,
    xtol: float = 0.0,
    ftol: float = 0.0,
    max_cg_iters: int | None = None,
    cg_rtol: float | None = None,
    cg_forcing_exponent: float | None = None,
    cg_stop: str | None = None,
    radius_norm: str = "scaled",
    diagonal_floor: float = 1e-3,
    subproblem: str = "steihaug",
    has_aux: bool = False,
    hessp: Callable[..., PyTree] | None = None,
    callback: Callable[[dict], Any] | None = None,
    callback_every: int = 1,
    throw: bool = False,
    cg_theta: float | None = None,
) -> TrustRegionResult:
    r"""Minimises a smooth function by an (ellipsoidal) trust-region Newton-CG method.

    At the iterate $\theta_k$ one linearisation gives $f(\theta_k)$, the gradient $g_k$ and
    exact Hessian products $H_k v$ (or the user's `hessp`); with $D_k$ the trust-region norm
    built from the ellipsoid (`radius_norm`), a step solves approximately

    $$
    \min_s\; m_k(s) = f(\theta_k) + g_k^\top s + \tfrac12 s^\top H_k s
    \quad\text{s.t.}\quad \|s\|_{D_k} \le \Delta_k
    $$

    by preconditioned Steihaug-Toint CG (or the Lanczos solver), evaluates $f(\theta_k + s)$ and
    applies the one rule `assess_step` shared with `trust_region`. Defaults (`preset=None` or
    `"scipy"`) are scipy's `minimize(method="trust-ncg")`: $\Delta_0 = 1$,
    $\Delta_{max} = 1000$, accept on $\rho > 0.15$, shrink by 1/4 if $\rho < 1/4$, grow by 2 if
    $\rho > 3/4$ on the boundary, CG forcing $\min(0.5, \sqrt{\|g\|})\|g\|$, so step counts match
    scipy's step for step on the sphere where rounding allows. `preset="kohler2019"` is the
    authors' rule.

    Precision-safe: a decrease below the resolution of f is not read as a ratio; a step that
    rounds back to $\theta$ grows the radius; the radius never falls below
    $\epsilon_\theta\|\theta\|_D$, so any run of rejections (non-finite trial points) recovers.
    When no resolvable decrease is left the solve stops with status `PRECISION_FLOOR`
    (successful: the gradient is then at the floor of the dtype's resolution, see
    `TrustRegionStatus`), distinct from `NONPOSITIVE_PREDICTED_DECREASE` (a bad model) and from
    `CG_CAPPED` (the same symptom from a solve truncated by `max_cg_iters`: not converged).
    With bfloat16 or float16 parameters the solver works in float32, as `trust_region` does:
    `fun`, `hessp` and the subproblem see float32 parameters, the iterates and trial points are
    rounded to the parameters' dtype (and evaluated exactly there, `exact_upcast`: XLA's excess
    precision would otherwise evaluate the unrounded point), and the radius floor is relative
    to that dtype's resolution.

    Radius units: for the sphere, $\|s\|$; for an ellipsoid with `radius_norm="scaled"`
    (default) $\|s\|_D$ with $D = \max(A/\bar A, d_{min})$, in the same units as the sphere, so
    the defaults work whatever the scale of the gradients; with `"ellipsoid"` the raw
    $\|s\|_A$ of the authors.

    The whole solve is one `lax.while_loop` in one `jax.jit`. `fun` (and `hessp`) is passed as a
    pytree (`common.functions.as_pytree`): its code is the static part and the arrays it closes
    over, or a `functools.partial`'s arguments, are leaves, so a new closure of the same code over
    new arrays of the same shapes, or new `*args`, reuses the compilation. (A closure over a
    Python float that changes compiles per value: pass an array.)

    Args:
      fun: scalar function `fun(params, *args)` (or `(value, aux)` with `has_aux`).
      x0: starting point, any pytree of float arrays.
      *args: extra arguments of `fun` (held fixed).
      preset: `None`/`"scipy"` or `"kohler2019"`; explicit arguments override it.
      ellipsoid: an `Ellipsoid` or `"identity"`, `"rmsprop"`, `"adam"`,
        `"adagrad"`.
      initial_radius: $\Delta_0$, in `(0, max_radius]`.
      max_radius: $\Delta_{\max}$, finite.
      eta1: acceptance threshold $\eta_1 \in [0, 1)$.
      eta2: growth threshold $\eta_2 \in [\eta_1, 1)$.
      increase: growth factor `> 1`.
      decrease: shrink factor in `(0, 1)`.
      shrink_below: shrink also accepted steps with $\rho$ below it (scipy: 0.25).
      max_steps: maximum outer iterations; default `200 n` (scipy), clamped to int32.
      gtol: stop when $\|g\| \le$ `gtol`.
      xtol: stop when an accepted step has $\|s\| \le$ `xtol` $(\text{xtol} + \|\theta\|)$ (0: off).
      ftol: stop when an accepted step decreases f by at most `ftol` $|f|$ (0: off).
      max_cg_iters: CG iterations per step; default `max(10 n, 100)` clamped to int32
        (`"lanczos"`: the Krylov dimension, default `min(n, 100)`, at most 256)
        (scipy has no cap); solves that hit it are counted in `num_cg_capped`.
      cg_rtol: forcing constant $\kappa$ (scipy 0.5).
      cg_forcing_exponent: forcing exponent (0.5).
      cg_stop: `"residual"` or `"model_gain"`.
      radius_norm: `"scaled"` or `"ellipsoid"` (see above).
      diagonal_floor: lower bound of the scaled diagonal (`"scaled"`), or of $A$ relative to
        its maximum (`"ellipsoid"`).
      subproblem: `"steihaug"` or `"lanczos"`.
      has_aux: `fun` returns `(value, aux)`; the result carries `aux` at `params`.
      hessp: optional `hessp(params, v, *args) -> H v`; then the gradient comes from
        `jax.value_and_grad` and the products from `hessp` (both at the solver's precision:
        float32 parameters for bfloat16/float16 `x0`).
      callback: optional host function called with a dict (`step`, `value`, `grad_norm`,
        `radius`, `params`: the point before that step) every `callback_every` steps
        (`jax.debug.callback`).
      callback_every: the period of `callback`.
      throw: raise a `RuntimeError` with the message when the status is not successful,
        eagerly and under `jax.jit` (`check_result`).
      cg_theta: deprecated alias of `cg_forcing_exponent`.

    Returns:
      A `TrustRegionResult`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax import minimize_trust_region
      >>> def rosen(x):
      ...     return jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
      >>> res = minimize_trust_region(rosen, jnp.array([-1.2, 1.0]), gtol=1e-4)
      >>> bool(res.converged), res.params.round(3), res.message
      (True, Array([1., 1.], dtype=float32), 'converged: gradient norm <= gtol')

    References:
      Kohler, Adolphs & Lucchi, [Adaptive norms for deep learning with regularized Newton
      methods](https://arxiv.org/abs/1905.09201); Nocedal & Wright, *Numerical Optimization*,
      2nd ed., 2006, Alg. 4.1 and 7.2; Conn, Gould & Toint, *Trust-Region Methods*, SIAM 2000.
    """
    ell = get_ellipsoid(ellipsoid)
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {fun!r}")
    if hessp is not None and not callable(hessp):
        raise TypeError(f"hessp must be callable, got {hessp!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {callback!r}")
    n = optax.tree.size(x0)
    if n == 0:
        raise ValueError("x0 must hold at least one parameter")
    rule = configure_rule(preset, PRESETS["scipy"], radius_norm=radius_norm,
                          diagonal_floor=diagonal_floor, subproblem=subproblem,
                          cg_theta=cg_theta, default_initial_radius=1.0,
                          initial_radius=initial_radius, max_radius=max_radius, eta1=eta1,
                          eta2=eta2, increase=increase, decrease=decrease,
                          shrink_below=shrink_below, max_cg_iters=max_cg_iters,
                          cg_rtol=cg_rtol, cg_forcing_exponent=cg_forcing_exponent,
                          cg_stop=cg_stop)
    if max_steps is not None:
        checks.check_int("max_steps", max_steps, minimum=1)
    checks.check_positive("gtol", gtol, allow_zero=True)
    checks.check_positive("xtol", xtol, allow_zero=True)
    checks.check_positive("ftol", ftol, allow_zero=True)
    checks.check_int("callback_every", callback_every, minimum=1)
    checks.check_bool("throw", throw)
    checks.check_bool("has_aux", has_aux)
    steps = clamp_int32(200 * n if max_steps is None else max_steps)
    cg_iters = clamp_int32(default_max_iters(subproblem, n, rule.max_cg_iters))
    rule = rule._replace(max_cg_iters=None, initial_radius=float(rule.initial_radius))
    floats = {k: float(getattr(rule, k)) for k in (
        "eta1", "eta2", "increase", "decrease", "shrink_below", "tiny_decrease",
        "initial_radius", "max_radius", "cg_rtol", "cg_forcing_exponent")}
    floats.update(gtol=float(gtol), xtol=float(xtol), ftol=float(ftol))
    krylov_dim = cg_iters if subproblem == "lanczos" else None  # static: the T_k arrays' size
    static = (rule.grow_on_boundary_only, rule.strict_acceptance, rule.cg_stop, radius_norm,
              float(diagonal_floor), subproblem, bool(has_aux), callback, int(callback_every),
              krylov_dim)
    x0 = jax.tree.map(jnp.asarray, x0)
    hessp_tree = None if hessp is None else functions.as_pytree(hessp)
    result = _solve(functions.as_pytree(fun), hessp_tree, ell, static, x0, args, floats,
                    jnp.asarray(steps, jnp.int32), jnp.asarray(cg_iters, jnp.int32))
    result = check_result(result, "minimize_trust_region", throw)
    return result


def _solve_impl(fun, hessp, ell: Ellipsoid, static: tuple, x0: PyTree, args: tuple,
                h: dict, max_steps: jax.Array, max_cg_iters: jax.Array) -> TrustRegionResult:
    (grow_on_boundary_only, strict, cg_stop, radius_norm, diagonal_floor, subproblem, has_aux,
     callback, callback_every, krylov_dim) = static
    if krylov_dim is not None:
        max_cg_iters = krylov_dim
    # The solver's arithmetic is at least float32 (as in `trust_region`): with bfloat16 or
    # float16 parameters, fun, hessp and the subproblem see float32 parameters, while the
    # iterates and the trial points are rounded to the parameters' dtype.
    _, dtype, work = working_precision(x0)
    def f(v):
        return jnp.asarray(v, dtype)
    rule = PRESETS["scipy"]._replace(
        eta1=f(h["eta1"]), eta2=f(h["eta2"]), increase=f(h["increase"]),
        decrease=f(h["decrease"]), shrink_below=f(h["shrink_below"]),
        grow_on_boundary_only=grow_on_boundary_only, strict_acceptance=strict,
        tiny_decrease=h["tiny_decrease"], max_radius=f(h["max_radius"]), max_cg_iters=None,
        cg_stop=cg_stop, cg_rtol=f(h["cg_rtol"]), cg_forcing_exponent=f(h["cg_forcing_exponent"]))

    def value_only(p):
        out = fun(p, *args)
        return out[0] if has_aux else out

    def attempt(params, lin, method, fresh):
        ell_state, radius = method
        ell_state = optax.tree.where(fresh, ell.update(lin.grad, ell_state), ell_state)
        diag = norm_diagonal(ell.diagonal(ell_state), radius_norm, diagonal_floor)
        out = trust_region_step(
            subproblem, lin.hvp_fn, lin.grad, lin.value, params, radius, diagonal=diag,
            trial_fn=lambda p: jnp.asarray(value_only(work(p))).astype(dtype), rule=rule,
            max_iters=max_cg_iters, work_params=work(params))
        sub, verdict = out.solve, out.assessment
        accepted = verdict.accepted
        actual = lin.value - out.trial_value
        step_norm = tree_norm_in(out.step, None).astype(dtype)
        xtol_met = step_norm <= f(h["xtol"]) * (f(h["xtol"]) + tree_norm_in(params, None)
                                                 .astype(dtype))
        pending = jnp.where(
            verdict.at_precision_floor,
            jnp.where(sub.capped, STATUS_CG_CAPPED, STATUS_PRECISION_FLOOR),
            jnp.where(((verdict.outcome == StepOutcome.REJECTED) & ~(sub.model_decrease > 0))
                      | (verdict.outcome == StepOutcome.STATIONARY),
                      STATUS_NONPOSITIVE_PREDICTED_DECREASE,
                      jnp.where(accepted & xtol_met, STATUS_XTOL,
                                jnp.where(accepted & (actual <= f(h["ftol"]) * jnp.abs(lin.value)),
                                          STATUS_FTOL, RUNNING)))).astype(jnp.int32)
        return Attempt(out.trial, accepted, (ell_state, verdict.radius), sub.iterations,
                       jnp.ones((), jnp.int32), sub.capped, pending)

    report = None
    if callback is not None:
        def report(st, lin, running):
            def call(_):
                jax.debug.callback(lambda step, v, g, r, x: callback(
                    {"step": int(step), "value": float(v), "grad_norm": float(g),
                     "radius": float(r), "params": x}),
                    st.num_steps, lin.value, optax.tree.norm(lin.grad), st.method[1],
                    st.params, ordered=True)
            jax.lax.cond((st.num_steps % callback_every == 0) & running, call,
                         lambda _: None, None)

    linearise = linearise_fn(fun, args, work, has_aux=has_aux, hessp=hessp)
    final = run_solver_loop(linearise, attempt, x0, (ell.init(work(x0)), f(h["initial_radius"])),
                            dtype=dtype, gtol=f(h["gtol"]), max_steps=max_steps, report=report)
    return TrustRegionResult(
        params=final.params, value=final.value, grad=final.grad, grad_norm=final.grad_norm,
        num_steps=final.num_steps, num_accepted=final.num_accepted,
        num_values=final.num_values, num_grads=final.num_grads, num_hvps=final.num_hvps,
        converged=is_successful(final.status), status=final.status, radius=final.method[1],
        aux=final.aux if has_aux else None, num_cg_capped=final.num_capped)


_solve = jax.jit(_solve_impl, static_argnums=(2, 3))
