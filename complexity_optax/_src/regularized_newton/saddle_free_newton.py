# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Saddle-free Newton (Dauphin et al. 2014) in a Lanczos subspace, with a damping line search.

With $|H| = \sum_i |\lambda_i| v_i v_i^\top$, the step $-|H|^{-1} g$ rescales the gradient by the
magnitude of the curvature but keeps the sign of a descent direction along negative curvature,
so saddles repel (plain Newton, $-H^{-1} g$, is attracted by them). In practice (the paper's
Algorithm 1) $H$ is replaced by its projection on a $k$-dimensional Krylov subspace: Lanczos from
$q_1 = g / \|g\|$ gives $V$ and $T = V^\top H V$, and

$$
\Delta\theta(\lambda) = -V\,(|T| + \lambda I)^{-1} V^\top g,\qquad
|T| = U |\Lambda| U^\top \text{ for } T = U \Lambda U^\top .
$$

Gradient component outside the subspace: the Lanczos space is started at $g$, so $g = V V^\top g$
exactly and no component of the gradient is dropped (the paper's variant with a Krylov space of
the top eigenvectors drops it). When the space is invariant (breakdown, or $k = n$),
$\Delta\theta(0) = -|H|^{-1} g$ exactly.

Damping: $\lambda = \delta \cdot \max_i |\Lambda_i|$ (relative to the curvature scale, so the
same $\delta$ works in every dtype and problem scale), with $\delta$ chosen by a line search over
the candidates $\delta_0 \cdot c^j$, $j = 0, \dots, J - 1$: the candidate with the lowest
$f(\theta + \eta\,\Delta\theta(\lambda))$ is taken (the least damped among those within the
resolution $4\varepsilon|f|$ of the dtype of the lowest, so that rounding does not decide) unless
$f$ rises by more than that resolution; then the step is rejected (zero update). Large damping tends
to the gradient step $-\eta g / \lambda$, so a grid that reaches large $\delta$ always contains a
decreasing step away from stationary points.

Flat curvature: when $T = 0$ (no curvature at all in the Krylov space, e.g. a linear loss, where
$\max|\Lambda| = 0$ leaves the relative damping without a scale), the curvature scale is taken
as 1, so $\lambda = \delta$ and the step is the Levenberg-Marquardt step with zero curvature,
the gradient step $\Delta\theta = -g/\delta$. For a linear loss $f = c + a^\top\theta$ the line
search then takes the least damped candidate $\delta_0$ (the lowest value), and one step
decreases $f$ by exactly $\eta\|a\|^2/\delta_0$. (Directions of zero curvature next to non-zero
ones already get $-g_i/(\delta\max|\Lambda|)$.)

Precision: bfloat16/float16 parameters are handled in float32 (the Lanczos data, the direction
and the values), the trial points are $\theta + \eta\Delta\theta$ rounded to the parameters'
dtype and evaluated as rounded; float64 is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks, functions
from complexity_optax._src.common import lanczos as krylov
from complexity_optax._src.common.batch_model import batch_update
from complexity_optax._src.common.counters import saturating_add, step_counts
from complexity_optax._src.common.solver_loop import Attempt, linearise_fn, run_solver_loop
from complexity_optax._src.common.status import check_result
from complexity_optax._src.common.tree import all_finite, upcast, working_precision
from complexity_optax._src.common.types import MatVec, PyTree
from complexity_optax._src.regularized_newton import result as R
from complexity_optax._src.regularized_newton.cubic_regularization import (
    max_steps_limit,
    unresolvable_move,
)

__all__ = [
    "SaddleFreeNewtonState",
    "minimize_saddle_free_newton",
    "saddle_free_direction",
    "saddle_free_newton",
]


class SaddleFreeKrylov(NamedTuple):
    r"""The Lanczos data of one step: basis, eigen-pairs of `T` and `Vᵀg` in its eigenbasis.

    Attributes:
      basis: the stacked Lanczos basis $V$.
      eigenvalues: eigenvalues of the (padded) $T$.
      eigenvectors: eigenvectors of $T$ (columns).
      coefficients: $U^\top V^\top g$.
      scale: $\max_i |\Lambda_i|$ over the computed rows; 1 when it is 0 (flat curvature).
      size: Lanczos columns computed = Hessian-vector products used (int32).
    """

    basis: PyTree
    eigenvalues: jax.Array
    eigenvectors: jax.Array
    coefficients: jax.Array
    scale: jax.Array
    size: jax.Array


def saddle_free_krylov(hvp_fn: MatVec, grad: PyTree, krylov_dim: int) -> SaddleFreeKrylov:
    """Runs `krylov_dim` Lanczos steps from `grad` (fewer on breakdown) and diagonalises T."""
    state, gnorm = krylov.run_lanczos(hvp_fn, grad, krylov_dim)
    t, valid = krylov.padded_tridiagonal(state)
    evals, evecs = jnp.linalg.eigh(t)
    # The padding block is uncoupled and its eigenvectors have no weight on e_1.
    coefficients = gnorm * evecs[0, :]
    in_valid = jnp.abs(evecs[:, :]).T @ valid.astype(evecs.dtype) > 0.5
    scale = jnp.max(jnp.where(in_valid, jnp.abs(evals), 0.0))
    # Flat curvature (T = 0, e.g. a linear loss): a unit curvature scale, so λ = δ and the step
    # is the gradient step -g/δ (see the module docstring).
    scale = jnp.where(scale > 0, scale, jnp.ones_like(scale))
    return SaddleFreeKrylov(state.basis, evals, evecs, coefficients, scale, state.size)


def _direction(k: SaddleFreeKrylov, damping: jax.Array) -> PyTree:
    """$-V U (|\\Lambda| + \\lambda)^{-1} U^\\top V^\\top g$ with $\\lambda = \\delta\\,$scale."""
    dtype = k.eigenvalues.dtype
    shift = jnp.abs(k.eigenvalues) + damping * k.scale
    floor = jnp.finfo(dtype).eps * jnp.maximum(k.scale, jnp.finfo(dtype).tiny)
    u = -k.eigenvectors @ (k.coefficients / jnp.maximum(shift, floor))
    # Only the Krylov rows (before `size`) carry the step.
    return krylov.combine(k.basis, u, k.size)


def saddle_free_direction(
    hvp_fn: MatVec, grad: PyTree, *, krylov_dim: int, damping: Any = 0.0
) -> PyTree:
    r"""The saddle-free Newton direction $-V(|T| + \lambda I)^{-1}V^\top g$ in a Krylov space.

    Args:
      hvp_fn: $v \mapsto Hv$ on pytrees like `grad`.
      grad: $g$, a pytree of floating arrays with at least one element (an empty one is a
        `ValueError`).
      krylov_dim: Lanczos steps $k \ge 1$ (static).
      damping: $\delta \ge 0$, a scalar; $\lambda = \delta \max_i |\Lambda_i(T)|$.

    Returns:
      The direction, a pytree like `grad` (in at least float32).

    Examples:
      >>> import jax.numpy as jnp
      >>> h = jnp.diag(jnp.array([2.0, -4.0]))
      >>> d = saddle_free_direction(lambda v: h @ v, jnp.array([2.0, 4.0]), krylov_dim=2)
      >>> d.round(4)                              # -|H|^{-1} g; Newton would give (-1, +1)
      Array([-1., -1.], dtype=float32)

    References:
      Dauphin, Pascanu, Gulcehre, Cho, Ganguli & Bengio, "Identifying and attacking the saddle
      point problem in high-dimensional non-convex optimization", NeurIPS 2014 (Sec. 6, Alg. 1).
    """
    checks.check_callable("hvp_fn", hvp_fn, "a callable v -> Hv")
    checks.check_pytree("grad", grad)
    checks.check_finite_tree("grad", grad)
    hvp_fn = checks.checked_matvec("hvp_fn", hvp_fn, "grad")
    checks.check_int("krylov_dim", krylov_dim, minimum=1)
    checks.check_scalar("damping", damping)
    checks.check_positive("damping", damping, allow_zero=True)
    grad = upcast(grad)
    k = saddle_free_krylov(hvp_fn, grad, krylov_dim)
    return _direction(k, jnp.asarray(damping, k.eigenvalues.dtype))


def damping_floor(last: jax.Array, damping: Any, growth: Any, num_damping: int) -> jax.Array:
    r"""The lowest relative damping of the next grid of the full-batch solvers: the grid
    recentred on the last accepted $\delta$, never above the first grid.

    $\delta_0' = \max(\epsilon, \min(\delta_{last} / \text{growth}^{\lfloor m/2\rfloor},
    \delta_0))$ for $m$ = `num_damping` (and $\delta_0$ before any accepted step): when the
    least damped candidates win, the grid moves down by the decades they won by, as
    Levenberg-Marquardt moves its damping, so badly scaled problems (curvatures $10^{-9}$ of the
    largest, where $\delta_0 = 10^{-4}$ keeps the Newton step along the small ones $10^5$
    times too short) reach the undamped step; a run that needs more damping has the first
    grid's range again.

    Examples:
      >>> import jax.numpy as jnp
      >>> [f"{float(damping_floor(jnp.float32(d), 1e-4, 10.0, 8)):.3g}"
      ...  for d in (0.0, 1e-2, 1e-4, 10.0)]     # none yet, 1e-2, 1e-4 (eps-floored), 10
      ['0.0001', '1e-06', '1.19e-07', '0.0001']
    """
    last = jnp.asarray(last)
    eps = jnp.finfo(last.dtype).eps
    shifted = last / jnp.asarray(growth, last.dtype) ** (num_damping // 2)
    floor = jnp.where(last > 0, jnp.minimum(shifted, jnp.asarray(damping, last.dtype)),
                      jnp.asarray(damping, last.dtype))
    return jnp.maximum(floor, eps)


def _candidates(damping, growth, num_damping: int, dtype) -> jax.Array:
    return jnp.asarray(damping, dtype) * jnp.asarray(growth, dtype) ** jnp.arange(
        num_damping, dtype=dtype)


def resolution(value: jax.Array) -> jax.Array:
    """Differences of `f` below this are rounding: `4·eps·|f|` in `value`'s dtype."""
    return 4.0 * jnp.finfo(value.dtype).eps * jnp.abs(value)


def at_precision_floor(params: PyTree, trial: PyTree, step: PyTree, value: jax.Array,
                       trial_value: jax.Array) -> jax.Array:
    r"""Whether a step that did not decrease f shows no resolvable progress is possible: it
    moves no parameter by more than one unit in its last place (`unresolvable_move`), or its
    value is within the resolution of f of $f(\theta)$ ($|f(\theta + s) - f(\theta)| \le
    4\epsilon_f|f|$, the trust region's "unresolved" test): near a minimum in float32 the best
    damped step's decrease $\approx \|g\|^2 / (2\lambda)$ falls below it while $\|g\|$ is
    still above a float32 `gtol` (chained Rosenbrock n = 10 at its local minimum f = 3.9866:
    $\|g\| = 2\cdot10^{-4}$).

    Examples:
      >>> import jax.numpy as jnp
      >>> p = jnp.array([1.0, 2.0])
      >>> bool(at_precision_floor(p, p + 1e-3, 1e-3 + 0 * p, jnp.float32(4.0), jnp.float32(4.0)))
      True
      >>> bool(at_precision_floor(p, p + 1e-3, 1e-3 + 0 * p, jnp.float32(4.0), jnp.float32(5.0)))
      False
    """
    value = jnp.asarray(value)
    close = jnp.abs(jnp.asarray(trial_value).astype(value.dtype) - value) <= resolution(value)
    return all_finite(step) & (unresolvable_move(params, trial) | close)


def _line_search(evaluate, k: SaddleFreeKrylov, scale_step, damping, growth,
                 num_damping: int, value: jax.Array):
    """Values at every damping candidate; returns (step, its value, its damping).

    `evaluate(step)` is $f$ at the trial point of `step` (as the caller will round it).

    The chosen candidate is the least damped one whose value is within the resolution of `f`
    (`resolution` of `value`) of the lowest: values that rounding cannot tell apart do not
    decide, so float32 and float64 runs pick the same step.
    """
    dtype = k.eigenvalues.dtype
    deltas = _candidates(damping, growth, num_damping, dtype)

    def trial(delta):
        step = jax.tree.map(lambda s: scale_step * s, _direction(k, delta))
        value = jnp.asarray(evaluate(step))
        finite = jnp.isfinite(value) & all_finite(step)
        return jnp.where(finite, value.astype(dtype), jnp.inf)

    values = jax.lax.map(trial, deltas)
    tol = resolution(jnp.asarray(value, dtype))
    best = jnp.argmax(values <= jnp.min(values) + tol)
    delta = deltas[best]
    step = jax.tree.map(lambda s: scale_step * s, _direction(k, delta))
    return step, values[best], delta


class SaddleFreeNewtonState(NamedTuple):
    r"""State of `saddle_free_newton`.

    Attributes:
      step_count: `update` calls (int32).
      accepted_count: steps that decreased the batch loss (int32).
      gradient_count: gradients consumed, one per `update` (int32).
      hvp_count: Hessian-vector products (Lanczos columns) used (int32).
      value_count: loss evaluations of the damping line search (forward passes, int32).
      last_damping: the relative damping $\delta$ of the last accepted step (float32).
      last_decrease: the decrease of the batch loss of the last step (float32, $\ge 0$).
    """

    step_count: jax.Array
    accepted_count: jax.Array
    gradient_count: jax.Array
    hvp_count: jax.Array
    value_count: jax.Array
    last_damping: jax.Array
    last_decrease: jax.Array


def _validate(learning_rate, krylov_dim, damping, damping_growth, num_damping) -> None:
    checks.check_positive("learning_rate", learning_rate)
    for name, v in (("krylov_dim", krylov_dim), ("num_damping", num_damping)):
        checks.check_int_or_array(name, v, minimum=1)
    checks.check_positive("damping", damping, allow_zero=True)
    checks.check_positive("damping_growth", damping_growth)
    growth = checks.concrete_float(damping_growth)
    if growth is not None and growth <= 1.0:
        raise ValueError(f"damping_growth must be > 1, got {damping_growth!r}")
    for name, value in (("learning_rate", learning_rate), ("damping", damping),
                        ("damping_growth", damping_growth)):
        checks.check_scalar(name, value)


def saddle_free_newton(
    learning_rate: float = 1.0,
    *,
    krylov_dim: int = 10,
    damping: float = 1e-3,
    damping_growth: float = 10.0,
    num_damping: int = 4,
) -> optax.GradientTransformationExtraArgs:
    r"""Stochastic saddle-free Newton: $-\eta V(|T| + \lambda I)^{-1} V^\top g$ on the batch.

    Each `update` runs `krylov_dim` Lanczos steps on Hessian-vector products of
    `value_fn` at `params` (from the gradient of that linearisation; the incoming `updates` are
    only checked to be finite, so clipping before it in a chain does not change the step), forms
    the direction of
    `saddle_free_direction` for the relative dampings
    $\delta_j = $ `damping` $\cdot$ `damping_growth`$^j$, $j < $ `num_damping`, evaluates
    the batch loss at each $\theta + \eta\,\Delta\theta(\delta_j)$ and returns the best step
    unless it raises the batch loss by more than rounding ($4\varepsilon|f|$), else zero (the
    line-search safeguard of Dauphin et al.; see the module docstring for the tie-breaking). The
    gradient lies in the Krylov space (it starts it), so nothing of it is dropped.

    `update(updates, state, params, *, value=None, value_fn, full_params=None, **extra_args)`:
    ``value_fn(params, **kw)`` is the batch loss (extra keyword arguments it names are passed
    on); under `optax.masked` / `multi_transform` pass `full_params=` (all parameters). A non-finite
    gradient or value skips the step (zero update; only `step_count` moves).

    Args:
      learning_rate: $\eta > 0$ multiplying the Newton-type step (1 is the full step).
      krylov_dim: Lanczos steps $k \ge 1$ per update (static; the basis holds $k$
        parameter-sized vectors).
      damping: the smallest relative damping $\delta_0 \ge 0$.
      damping_growth: the ratio $c > 1$ of the damping grid.
      num_damping: grid size $J \ge 1$ (static): $J$ loss evaluations per update.

    Returns:
      A `GradientTransformationExtraArgs` with a `SaddleFreeNewtonState`. Params with no
      element (an empty pytree, or only size-0 leaves) are a no-op: zero updates, the state
      unchanged, `value_fn` not called. Non-scalar hyperparameters (an array of several values)
      are a `ValueError` naming the parameter.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> import complexity_optax as co
      >>> def loss(p):                       # a saddle at 0: curvature +1 and -1
      ...   return 0.5 * (p[0] ** 2 - p[1] ** 2) + 0.25 * p[1] ** 4
      >>> params = jnp.array([1.0, 0.1])
      >>> opt = co.saddle_free_newton(damping=0.0, num_damping=1, krylov_dim=2)
      >>> state = opt.init(params)
      >>> updates, state = opt.update(jax.grad(loss)(params), state, params, value_fn=loss)
      >>> bool(jnp.abs(params + updates)[1] > 0.1)   # away from the saddle along p[1]
      True

    References:
      Dauphin, Pascanu, Gulcehre, Cho, Ganguli & Bengio, "Identifying and attacking the saddle
      point problem in high-dimensional non-convex optimization", NeurIPS 2014.
    """
    _validate(learning_rate, krylov_dim, damping, damping_growth, num_damping)
    krylov_dim, num_damping = int(krylov_dim), int(num_damping)

    def init_fn(params: optax.Params) -> SaddleFreeNewtonState:
        del params
        zero_i = jnp.zeros([], jnp.int32)
        zero_f = jnp.zeros([], jnp.float32)
        return SaddleFreeNewtonState(zero_i, zero_i, zero_i, zero_i, zero_i, zero_f, zero_f)

    def step(model, state, params):
        k = saddle_free_krylov(model.hvp_fn, model.grads, krylov_dim)
        dtype = k.eigenvalues.dtype
        value_c = model.value.astype(dtype)
        def evaluate(st):
            return model.loss(model.work(optax.apply_updates(
                params, optax.tree.cast_like(st, params))))
        new_step, best, delta = _line_search(evaluate, k, jnp.asarray(learning_rate, dtype),
                                             damping, damping_growth, num_damping, value_c)
        new_step = optax.tree.cast_like(new_step, params)
        decrease = value_c - best
        # Accepted unless the loss rises above rounding: a Newton step near the minimum whose
        # decrease float32 cannot resolve is still taken, as float64 takes it.
        accepted = model.finite & (decrease >= -resolution(value_c)) & jnp.isfinite(best) & (
            all_finite(new_step))
        return new_step, accepted, SaddleFreeNewtonState(
            **step_counts(state, accepted, jnp.where(model.finite, k.size, 0)),
            value_count=saturating_add(state.value_count,
                                       jnp.where(model.finite, num_damping, 0)),
            last_damping=jnp.where(accepted, delta, state.last_damping).astype(jnp.float32),
            last_decrease=jnp.where(accepted, jnp.maximum(decrease, 0.0), 0.0).astype(
                jnp.float32),
        )

    update_fn = batch_update("saddle_free_newton", step)
    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


class _Hyper(NamedTuple):
    damping: Any
    damping_growth: Any
    max_steps: Any
    gtol: Any


def minimize_saddle_free_newton(
    fun: Callable[..., jax.Array],
    x0: PyTree,
    *args: Any,
    krylov_dim: int | None = None,
    damping: float = 1e-4,
    damping_growth: float = 10.0,
    num_damping: int = 8,
    max_steps: int | None = None,
    gtol: float = 1e-5,
    throw: bool = False,
) -> R.NewtonResult:
    r"""Minimises a smooth function by saddle-free Newton steps, full batch.

    Each step is $\theta \leftarrow \theta - V(|T| + \lambda I)^{-1}V^\top g$ with the Lanczos
    basis $V$ of $\mathcal K_k(H, g)$, $T = V^\top H V$ and the relative damping
    $\delta = \lambda / \max|\Lambda(T)|$ picked from the grid
    `damping` $\cdot$ `damping_growth`$^j$ ($j <$ `num_damping`) by the lowest value of
    $f$ (see `saddle_free_newton`). If no candidate decreases $f$ the solve stops with status 2,
    or with `STATUS_PRECISION_FLOOR` (converged) when the chosen step moves no parameter by more
    than one unit in its last place (no resolvable progress: how a bfloat16 solve ends).

    Precision: bfloat16/float16 `x0` is solved in float32 arithmetic with the iterates kept in
    their own dtype (trial points rounded once, evaluated as rounded), like
    `minimize_trust_region`; float64 under `jax.enable_x64` stays float64.

    Counts (the outer loop of `minimize_trust_region`, `common.solver_loop`): per step one
    linearisation (value, gradient and the HVPs), at most $k$ HVPs and `num_damping` values
    of the line search, whose chosen value is the trial value; one more linearisation at the
    end.

    Args:
      fun: scalar `fun(params, *args)`.
      x0: the starting point, a pytree of float arrays.
      *args: extra arguments of `fun`.
      krylov_dim: Lanczos steps per iteration, default $\min(n, 20)$ (the dense
        eigendecomposition of the $k \times k$ tridiagonal is the cost that grows with $k$).
      damping: the smallest relative damping $\delta_0 \ge 0$.
      damping_growth: grid ratio $> 1$.
      num_damping: grid size $\ge 1$ (the default spans $10^{-4}$ to $10^{3}$).
      max_steps: iterations, default $200 n$, clamped to the int32 range (`max_steps_limit`).
      gtol: stop when $\|g\| \le$ `gtol`.
      throw: raise a `RuntimeError` with the message when the status is not successful,
        eagerly and under `jax.jit` (`check_result`), as `minimize_trust_region`.

    Returns:
      A `NewtonResult` (`regularization` is the last relative damping $\delta$).

    Examples:
      >>> import jax.numpy as jnp
      >>> import complexity_optax as co
      >>> f = lambda x: 0.5 * (x[0] ** 2 - x[1] ** 2) + 0.25 * x[1] ** 4   # saddle at 0
      >>> res = co.minimize_saddle_free_newton(f, jnp.array([1.0, 1e-3]), gtol=1e-5)
      >>> bool(res.converged), jnp.abs(res.params).round(3)   # a minimum at x[1] = +-1
      (True, Array([0., 1.], dtype=float32))

    References:
      Dauphin et al., "Identifying and attacking the saddle point problem in high-dimensional
      non-convex optimization", NeurIPS 2014.
    """
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {fun!r}")
    n = optax.tree.size(x0)
    if n == 0:
        raise ValueError("x0 must hold at least one parameter")
    checks.check_pytree("x0", x0)
    krylov_dim = min(n, 20) if krylov_dim is None else krylov_dim
    _validate(1.0, krylov_dim, damping, damping_growth, num_damping)
    max_steps = max_steps_limit(n, max_steps)
    checks.check_positive("gtol", gtol, allow_zero=True)
    checks.check_scalar("gtol", gtol)
    hyper = _Hyper(float(damping), float(damping_growth), int(max_steps), float(gtol))
    x0 = jax.tree.map(jnp.asarray, x0)
    checks.check_bool("throw", throw)
    result = _solve(functions.as_pytree(fun), int(krylov_dim), int(num_damping), x0, args, hyper)
    return check_result(result, "minimize_saddle_free_newton", throw)


def _solve_impl(fun, krylov_dim: int, num_damping: int, x0: PyTree, args: tuple,
                h: _Hyper) -> R.NewtonResult:
    _, dtype, work = working_precision(x0)

    def rounded(params, step):
        return jax.tree.map(lambda x, s: (x + s).astype(x.dtype), params, step)

    def attempt(params, lin, damping, fresh):
        del fresh
        k = saddle_free_krylov(lin.hvp_fn, lin.grad, krylov_dim)

        def evaluate(step):
            return fun(work(rounded(params, step)), *args)

        # The line search's value at its chosen step is the trial value (inf if not finite).
        shifted = damping > 0  # the grid moved below the first one (`damping_floor`)
        step, trial_value, delta = _line_search(
            evaluate, k, jnp.asarray(1.0, k.eigenvalues.dtype),
            damping_floor(damping, h.damping, h.damping_growth, num_damping),
            h.damping_growth, num_damping, lin.value)
        trial = rounded(params, step)
        trial_value = jnp.asarray(trial_value).astype(dtype)
        accept = trial_value < lin.value
        stopped = jnp.where(at_precision_floor(params, trial, step, lin.value, trial_value),
                            R.STATUS_PRECISION_FLOOR, R.STATUS_NONPOSITIVE_PREDICTED_DECREASE)
        # A failed search on a moved grid is retried on the first grid (damping 0 resets it);
        # only the first grid's failure ends the solve.
        pending = jnp.where(accept | shifted, R.RUNNING, stopped)
        return Attempt(trial, accept, jnp.where(accept, delta.astype(dtype), 0.0), k.size,
                       jnp.asarray(num_damping, jnp.int32), jnp.asarray(False), pending)

    final = run_solver_loop(linearise_fn(fun, args, work), attempt, x0,
                            jnp.zeros((), dtype), dtype=dtype,
                            gtol=jnp.asarray(h.gtol, dtype),
                            max_steps=jnp.asarray(h.max_steps, jnp.int32))
    return R.NewtonResult.from_loop(final, final.method)


# One compilation per code of `fun`, statics and argument shapes: `fun` is a pytree
# (`common.functions.as_pytree`), so a new closure over new arrays reuses it (jax's own cache).
_solve = jax.jit(_solve_impl, static_argnums=(1, 2))
