# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Adaptive cubic regularisation (ARC): an optax transformation and a full-batch solver.

One iteration at $\theta$ with gradient $g$, Hessian $H$ (through Hessian-vector products) and
the positive diagonal $A$ of an ellipsoid (the identity for the sphere) computes the step $s$ of
`cubic_subproblem` for the model

$$
m(s) = f(\theta) + g^\top s + \tfrac12 s^\top H s + \tfrac{\sigma}{3}\|s\|_A^3 ,
$$

the ratio $\rho = (f(\theta) - f(\theta + s)) / (f(\theta) - m(s))$, accepts the step if
$\rho \ge \eta_1$ and updates $\sigma$ by `update_sigma`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks, functions
from complexity_optax._src.common.batch_model import batch_update
from complexity_optax._src.common.counters import step_counts
from complexity_optax._src.common.ellipsoids import Ellipsoid, get_ellipsoid
from complexity_optax._src.common.solver_loop import Attempt, linearise_fn, run_solver_loop
from complexity_optax._src.common.status import check_result
from complexity_optax._src.common.tree import compute_dtype, working_precision
from complexity_optax._src.common.types import PyTree
from complexity_optax._src.regularized_newton import result as R
from complexity_optax._src.regularized_newton.arc_step import arc_step, update_sigma
from complexity_optax._src.trust_region.rule import clamp_int32, validate_acceptance

__all__ = [
    "CubicRegularizationState", "cubic_regularization", "max_steps_limit", "minimize_cubic",
    "update_sigma",
]

def max_steps_limit(n: int, max_steps: int | None = None) -> int:
    r"""The outer-step limit of the full-batch solvers: `max_steps`, default $200n$ (scipy's rule).

    The loops count in int32, so the limit is clamped to $[1, 2^{31} - 1]$ (the rule of
    `minimize_trust_region`): the default $200n$ would overflow above $n = 10\,737\,418$
    parameters. A pure function of the integers (no arrays are built).

    Examples:
      >>> max_steps_limit(3), max_steps_limit(3, 50), max_steps_limit(10**8)
      (600, 50, 2147483647)
    """
    if max_steps is not None:
        checks.check_int("max_steps", max_steps, minimum=1)
    return clamp_int32(200 * int(n) if max_steps is None else max_steps)


def unresolvable_move(params: PyTree, trial: PyTree) -> jax.Array:
    r"""Whether `trial` moves no entry of `params` by more than one unit in the last place.

    $|t_i - \theta_i| \le \varepsilon\max(|\theta_i|, |t_i|)$ (plus the smallest normal number)
    in the parameters' own dtype: a step that cannot be made shorter in that dtype.
    """
    def one(x, t):
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.inexact):
            return jnp.asarray(True)
        info = jnp.finfo(x.dtype)
        w = compute_dtype(x.dtype)
        xw, tw = x.astype(w), jnp.asarray(t).astype(w)
        bound = float(info.eps) * jnp.maximum(jnp.abs(xw), jnp.abs(tw)) + float(info.tiny)
        return jnp.all(jnp.abs(tw - xw) <= bound)

    flags = [one(x, t)
             for x, t in zip(jax.tree.leaves(params), jax.tree.leaves(trial), strict=False)]
    return jnp.all(jnp.stack(flags)) if flags else jnp.asarray(True)


def _sigma_dtype(params: Any) -> Any:
    """$\\sigma$'s dtype in the optax state: the compute dtype of the parameters (float32 for
    bfloat16/float16/float32 parameters, float64 for float64 ones), so that the transformation
    and `minimize_cubic` weigh the same cubic term."""
    leaves = [x for x in jax.tree.leaves(params)
              if jnp.issubdtype(jnp.result_type(x), jnp.floating)]
    return compute_dtype(jnp.result_type(*leaves)) if leaves else jnp.float32


def _validate_rule(initial_sigma, min_sigma, eta1, eta2, increase, decrease, kappa) -> None:
    checks.check_positive("initial_sigma", initial_sigma)
    checks.check_positive("min_sigma", min_sigma)
    validate_acceptance(eta1, eta2, increase, decrease, eta1_may_be_zero=False)
    checks.check_in_interval("kappa", kappa, 0.0, 1.0, low_inclusive=False)
    for name, value in (("initial_sigma", initial_sigma), ("min_sigma", min_sigma),
                        ("eta1", eta1), ("eta2", eta2), ("increase", increase),
                        ("decrease", decrease), ("kappa", kappa)):
        checks.check_scalar(name, value)
    s0, smin = checks.concrete_float(initial_sigma), checks.concrete_float(min_sigma)
    if s0 is not None and smin is not None and s0 < smin:
        raise ValueError(f"initial_sigma must be >= min_sigma={min_sigma!r}, got {initial_sigma!r}")


class CubicRegularizationState(NamedTuple):
    r"""State of `cubic_regularization`.

    Attributes:
      sigma: the cubic weight $\sigma$ (float32 scalar).
      ellipsoid_state: the ellipsoid's own state.
      step_count: `update` calls (int32).
      accepted_count: accepted steps (int32).
      gradient_count: gradients consumed, one per `update` (int32).
      hvp_count: Hessian-vector products (Lanczos columns) used (int32).
      last_rho: $\rho$ of the last step (float32; 0 when the step had non-finite values).
      last_model_decrease: $f - m(s)$ of the last step (float32, $\ge 0$).
    """

    sigma: jax.Array
    ellipsoid_state: Any
    step_count: jax.Array
    accepted_count: jax.Array
    gradient_count: jax.Array
    hvp_count: jax.Array
    last_rho: jax.Array
    last_model_decrease: jax.Array


def cubic_regularization(
    *,
    ellipsoid: str | Ellipsoid = "identity",
    initial_sigma: float = 1.0,
    min_sigma: float = 1e-8,
    eta1: float = 0.1,
    eta2: float = 0.9,
    increase: float = 2.0,
    decrease: float = 0.5,
    max_krylov: int = 20,
    kappa: float = 0.1,
) -> optax.GradientTransformationExtraArgs:
    r"""Stochastic adaptive cubic regularisation (ARC) on exact Hessian-vector products.

    Each `update` is one ARC iteration on the batch `value_fn` sees: with $g$ and $H$ the
    gradient and Hessian of `value_fn` at `params` (one linearisation; the incoming `updates`
    are only checked to be finite, so clipping before it in a chain does not change the step)
    and $A$ the ellipsoid's diagonal (updated with $g$ first),

    $$
    s \approx \arg\min_s\ g^\top s + \tfrac12 s^\top H s + \tfrac{\sigma}{3}\|s\|_A^3,\qquad
    \rho = \frac{f(\theta) - f(\theta + s)}{f(\theta) - m(s)},
    $$

    the model minimised in a Lanczos subspace of at most `max_krylov` columns
    (`cubic_subproblem`). The update is $s$ if $\rho \ge \eta_1$, else zero; $\sigma$ follows
    `update_sigma` (halved after a very successful step, doubled after an unsuccessful one: the
    defaults $\eta_1 = 0.1$, $\eta_2 = 0.9$, $\gamma = 2$, $\sigma_0 = 1$ are those of the
    numerical section of Cartis, Gould & Toint, Part I, as also used by Kohler & Lucchi's
    sub-sampled ARC).

    `update(updates, state, params, *, value=None, value_fn, full_params=None, **extra_args)`:
    under `optax.masked` / `multi_transform` pass `full_params=` (all parameters).
    ``value_fn(params, **kw)` is the loss on the current batch (extra keyword arguments it names,
    e.g. `batch=``, are passed on; others are ignored). `value` is optional: a non-finite `value`
    skips the step, but $\rho$ always uses the value of the linearisation, computed in the same
    precision (at least float32) as the trial value. A non-finite gradient or value skips the step
    (zero update, $\sigma$ and the ellipsoid unchanged); a non-finite trial value is an unsuccessful
    step ($\sigma$ doubles, parameters unchanged).

    Args:
      ellipsoid: `"identity"` (default, the Euclidean norm), `"rmsprop"`, `"adam"`,
        `"adagrad"` or an `Ellipsoid`.
      initial_sigma: $\sigma_0 > 0$.
      min_sigma: $\sigma_{\min} > 0$, the floor of the decreases.
      eta1: success threshold $\eta_1 \in (0, 1)$.
      eta2: very-successful threshold $\eta_2 \in [\eta_1, 1)$.
      increase: $\gamma_{inc} > 1$, the factor of $\sigma$ after an unsuccessful step.
      decrease: $\gamma_{dec} \in (0, 1)$, the factor after a very successful step.
      max_krylov: Lanczos columns (HVPs) per step, an int $\ge 1$ (static: it sizes the basis,
        `max_krylov` parameter-sized vectors).
      kappa: $\kappa$ of the subspace stopping rule
        $\|\nabla m(s)\| \le \kappa \min(1, \|s\|_A)\|g\|$, in $(0, 1]$.

    Returns:
      A `GradientTransformationExtraArgs` with a `CubicRegularizationState`. Params with no
      element (an empty pytree, or only size-0 leaves) are a no-op: zero updates, the state
      unchanged, `value_fn` not called. Non-scalar hyperparameters (an array of several values)
      are a `ValueError` naming the parameter.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> import complexity_optax as co
      >>> def loss(p, batch):
      ...   return jnp.mean((batch @ p['w'] - 1.0) ** 2)
      >>> batch = jnp.array([[1.0, 2.0], [3.0, 1.0]])
      >>> params = {'w': jnp.zeros(2)}
      >>> opt = co.cubic_regularization()
      >>> state = opt.init(params)
      >>> value, grads = jax.value_and_grad(loss)(params, batch)
      >>> updates, state = opt.update(grads, state, params, value_fn=loss, batch=batch)
      >>> params = optax.apply_updates(params, updates)
      >>> bool(loss(params, batch) < value), int(state.accepted_count), int(state.hvp_count)
      (True, 1, 2)

    References:
      Cartis, Gould & Toint, "Adaptive cubic regularisation methods for unconstrained
      optimization. Part I: motivation, convergence and numerical results", Math. Program. 127,
      2011; Nesterov & Polyak, "Cubic regularization of Newton method and its global
      performance", Math. Program. 108, 2006; Kohler & Lucchi, "Sub-sampled cubic
      regularization for non-convex optimization", ICML 2017; Kohler, Adolphs & Lucchi,
      "Adaptive norms for deep learning with regularized Newton methods", arXiv:1905.09201
      (the ellipsoids).
    """
    ell = get_ellipsoid(ellipsoid)
    _validate_rule(initial_sigma, min_sigma, eta1, eta2, increase, decrease, kappa)
    checks.check_int_or_array("max_krylov", max_krylov, minimum=1)
    max_krylov = int(max_krylov)

    def init_fn(params: optax.Params) -> CubicRegularizationState:
        zero_i = jnp.zeros([], jnp.int32)
        zero_f = jnp.zeros([], jnp.float32)
        return CubicRegularizationState(
            sigma=jnp.asarray(initial_sigma, _sigma_dtype(params)),
            ellipsoid_state=ell.init(params),
            step_count=zero_i, accepted_count=zero_i, gradient_count=zero_i, hvp_count=zero_i,
            last_rho=zero_f, last_model_decrease=zero_f,
        )

    def step(model, state, params):
        ell_state = optax.tree.where(
            model.finite, ell.update(model.grads, state.ellipsoid_state), state.ellipsoid_state)
        out = arc_step(model.hvp_fn, model.grads, model.value, params, state.sigma,
                       diagonal=ell.diagonal(ell_state),
                       trial_fn=lambda t: (model.loss(model.work(t)), None),
                       max_krylov=max_krylov, kappa=kappa, eta1=eta1, eta2=eta2,
                       increase=increase, decrease=decrease, min_sigma=min_sigma)
        sub, rho = out.solve, out.rho
        valid = model.finite & out.finite & (rho > -jnp.inf)
        accepted = model.finite & out.accepted
        sigma = jnp.where(model.finite, out.sigma, state.sigma)
        return out.step, accepted, CubicRegularizationState(
            sigma=sigma.astype(state.sigma.dtype),
            ellipsoid_state=optax.tree.cast_like(ell_state, state.ellipsoid_state),
            **step_counts(state, accepted, jnp.where(model.finite, sub.iterations, 0)),
            last_rho=jnp.where(valid, rho, 0.0).astype(jnp.float32),
            last_model_decrease=jnp.where(valid, sub.model_decrease, 0.0).astype(jnp.float32),
        )

    update_fn = batch_update("cubic_regularization", step)
    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


class _Hyper(NamedTuple):
    initial_sigma: Any
    min_sigma: Any
    eta1: Any
    eta2: Any
    increase: Any
    decrease: Any
    kappa: Any
    max_steps: Any
    gtol: Any


def minimize_cubic(
    fun: Callable[..., jax.Array],
    x0: PyTree,
    *args: Any,
    ellipsoid: str | Ellipsoid = "identity",
    initial_sigma: float = 1.0,
    min_sigma: float = 1e-8,
    eta1: float = 0.1,
    eta2: float = 0.9,
    increase: float = 2.0,
    decrease: float = 0.5,
    max_steps: int | None = None,
    gtol: float = 1e-5,
    max_krylov: int | None = None,
    kappa: float = 0.1,
    throw: bool = False,
) -> R.NewtonResult:
    r"""Minimises a smooth function by adaptive cubic regularisation (ARC), full batch.

    At $\theta_k$ the step minimises the cubic model
    $m_k(s) = f(\theta_k) + g_k^\top s + \tfrac12 s^\top H_k s + \tfrac{\sigma_k}{3}\|s\|_{A_k}^3$
    in a Lanczos subspace (`cubic_subproblem`: the secular equation on the tridiagonal, the
    subspace grown until $\|\nabla m_k(s)\| \le \kappa\min(1, \|s\|)\|g_k\|$), then

    $$
    \rho_k = \frac{f(\theta_k) - f(\theta_k + s)}{f(\theta_k) - m_k(s)},\qquad
    \theta_{k+1} = \theta_k + s \text{ if } \rho_k \ge \eta_1 \text{ else } \theta_k,
    $$

    and $\sigma$ follows `update_sigma` (Cartis, Gould & Toint's defaults: $\eta_1 = 0.1$,
    $\eta_2 = 0.9$, $\sigma$ halved / doubled, $\sigma_0 = 1$). A non-finite trial value or
    gradient is an unsuccessful step. Started at a stationary point ($g = 0$, a saddle included)
    the solve returns at once (status 0): the Lanczos space of $g$ is empty.

    Precision: with bfloat16 or float16 `x0` the arithmetic is float32 (as in
    `minimize_trust_region`): `fun`, its HVPs, the subproblem and $\rho$ see float32 values of
    the parameters, the iterates and the returned `params` stay in their own dtype (a trial point
    is $\theta + s$ rounded once to it, and evaluated as rounded); float64 under
    `jax.enable_x64` is kept float64. When a rejected step (or one after which $\sigma$ cannot
    decrease) moves no parameter by more than one unit in its last place, no progress is
    resolvable: the solve stops with `STATUS_PRECISION_FLOOR` (converged), which is how a
    bfloat16 solve ends near its minimum (its gradient there is about $\|H\|\,2^{-8}\|\theta\|$,
    above a float32 `gtol`).

    The outer loop is the one of `minimize_trust_region` (`common.solver_loop`): per step one
    linearisation (`value_grad_and_hvp`: value, gradient and the HVPs), the Lanczos products on
    it, and one value at the trial point; the same stopping rules in the same order. The solve
    is one `lax.while_loop` in one `jax.jit`, compiled
    once per code of `fun`, ellipsoid, `max_krylov` and argument shapes: `fun` is passed as a
    pytree (`common.functions.as_pytree`), so a new closure over new arrays of the same shapes
    reuses the compilation.

    Args:
      fun: scalar `fun(params, *args)`, twice differentiable.
      x0: the starting point, a pytree of float arrays.
      *args: extra arguments of `fun` (held fixed).
      ellipsoid: `"identity"` (default), `"rmsprop"`, `"adam"`, `"adagrad"` or an
        `Ellipsoid`; the cubic term is $\|s\|_A^3$.
      initial_sigma: $\sigma_0 > 0$.
      min_sigma: $\sigma_{\min} > 0$.
      eta1: success threshold in $(0, 1)$.
      eta2: very-successful threshold in $[\eta_1, 1)$.
      increase: factor of $\sigma$ after an unsuccessful step, $> 1$.
      decrease: factor after a very successful step, in $(0, 1)$.
      max_steps: outer iterations, $\ge 1$; default $200 n$ ($n$ parameters, scipy's rule),
        clamped to the int32 range (`max_steps_limit`).
      gtol: stop when $\|g\| \le$ `gtol`.
      max_krylov: Lanczos columns per step, $\ge 1$; default $\min(n, 100)$.
      kappa: $\kappa$ of the subspace stopping rule, in $(0, 1]$.
      throw: raise a `RuntimeError` with the message when the status is not successful,
        eagerly and under `jax.jit` (`check_result`), as `minimize_trust_region`.

    Returns:
      A `NewtonResult` (`regularization` is the final $\sigma$).

    Examples:
      >>> import jax.numpy as jnp
      >>> import complexity_optax as co
      >>> def rosen(x):
      ...     return jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
      >>> res = co.minimize_cubic(rosen, jnp.array([-1.2, 1.0]), gtol=1e-4)
      >>> bool(res.converged), res.params.round(3)
      (True, Array([1., 1.], dtype=float32))

    References:
      Cartis, Gould & Toint, "Adaptive cubic regularisation methods for unconstrained
      optimization. Part I", Math. Program. 127, 2011 (Algorithm 2.1, Sec. 6);
      Nesterov & Polyak, Math. Program. 108, 2006.
    """
    ell = get_ellipsoid(ellipsoid)
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {fun!r}")
    n = optax.tree.size(x0)
    if n == 0:
        raise ValueError("x0 must hold at least one parameter")
    checks.check_pytree("x0", x0)
    _validate_rule(initial_sigma, min_sigma, eta1, eta2, increase, decrease, kappa)
    max_steps = max_steps_limit(n, max_steps)
    checks.check_positive("gtol", gtol, allow_zero=True)
    checks.check_scalar("gtol", gtol)
    max_krylov = min(n, 100) if max_krylov is None else max_krylov
    checks.check_int("max_krylov", max_krylov, minimum=1)
    hyper = _Hyper(float(initial_sigma), float(min_sigma), float(eta1), float(eta2),
                   float(increase), float(decrease), float(kappa), int(max_steps), float(gtol))
    x0 = jax.tree.map(jnp.asarray, x0)
    checks.check_bool("throw", throw)
    result = _solve(functions.as_pytree(fun), ell, int(max_krylov), x0, args, hyper)
    return check_result(result, "minimize_cubic", throw)


def _solve_impl(fun, ell: Ellipsoid, max_krylov: int, x0: PyTree, args: tuple,
                h: _Hyper) -> R.NewtonResult:
    _, dtype, work = working_precision(x0)

    def trial_value(p):
        return jnp.asarray(fun(work(p), *args)).astype(dtype), None

    def attempt(params, lin, method, fresh):
        ell_state, sigma = method
        ell_state = optax.tree.where(fresh, ell.update(lin.grad, ell_state), ell_state)
        out = arc_step(lin.hvp_fn, lin.grad, lin.value, params, sigma,
                       diagonal=ell.diagonal(ell_state), trial_fn=trial_value,
                       max_krylov=max_krylov, kappa=h.kappa, eta1=h.eta1, eta2=h.eta2,
                       increase=h.increase, decrease=h.decrease, min_sigma=h.min_sigma)
        # No resolvable progress: the step moves nothing by more than an ulp and either was
        # rejected (σ grows, the next step is shorter still) or σ cannot decrease any more.
        floor = unresolvable_move(params, out.trial) & out.finite & (
            ~out.accepted | (out.sigma >= sigma))
        pending = jnp.where(~(out.solve.model_decrease > 0),
                            R.STATUS_NONPOSITIVE_PREDICTED_DECREASE,
                            jnp.where(floor, R.STATUS_PRECISION_FLOOR, R.RUNNING))
        one = jnp.ones((), jnp.int32)
        return Attempt(out.trial, out.accepted, (ell_state, out.sigma), out.solve.iterations,
                       one, jnp.asarray(False), pending)

    method0 = (ell.init(work(x0)), jnp.asarray(h.initial_sigma, dtype))
    final = run_solver_loop(linearise_fn(fun, args, work), attempt, x0, method0,
                            dtype=dtype, gtol=jnp.asarray(h.gtol, dtype),
                            max_steps=jnp.asarray(h.max_steps, jnp.int32))
    return R.NewtonResult.from_loop(final, final.method[1])


# One compilation per code of `fun`, statics and argument shapes: `fun` is a pytree
# (`common.functions.as_pytree`), so a new closure over new arrays reuses it (jax's own cache).
_solve = jax.jit(_solve_impl, static_argnums=(1, 2))
