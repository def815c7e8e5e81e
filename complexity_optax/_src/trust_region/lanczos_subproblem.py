# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""A GLTR-style Lanczos solver for the trust-region subproblem (pytree-native, jitted)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common import lanczos as krylov
from complexity_optax._src.common.functions import call as compiled_call
from complexity_optax._src.common.tree import tree_dot
from complexity_optax._src.common.types import PyTree
from complexity_optax._src.trust_region.steihaug import SteihaugResult, check_radius

__all__ = ["MAX_KRYLOV_DIM", "check_krylov_dim", "lanczos_subproblem", "tridiagonal_tr"]

#: The largest Krylov dimension: the basis is stored (`max_iters` parameter-sized vectors) and
#: on the boundary the small problem is solved densely (an eigendecomposition of the
#: `max_iters`-square tridiagonal matrix) at every iteration. A larger `max_iters` is a
#: `ValueError`.
MAX_KRYLOV_DIM = 256

#: Points per multisection round on the logarithm of the shift (see `_rounds`).
_GRID = 32


def _rounds(dtype: Any) -> int:
    """Multisection rounds that shrink a log-interval of 4 ln(1/eps) + 64 nats (the widest the
    secular equation uses) below eps: ceil(log(width / eps) / log(_GRID - 1)); 7 for float32,
    13 for float64."""
    import math

    eps = float(jnp.finfo(dtype).eps)
    width = 4 * math.log(1 / eps) + 64
    return math.ceil(math.log(width / eps) / math.log(_GRID - 1))

#: Up to this many parameters the Lanczos vectors are fully reorthogonalised; above it the
#: 3-term recurrence alone (GLTR's choice) keeps an iteration O(n), as a CG iteration.
_FULL_REORTH_MAX_N = 4096


def check_krylov_dim(max_iters: Any) -> None:
    """Raises unless `max_iters` is a Python int in `[1, MAX_KRYLOV_DIM]` (no silent clamp).

    Examples:
      >>> check_krylov_dim(300)
      Traceback (most recent call last):
      ...
      ValueError: max_iters must be <= 256 for the Lanczos subproblem (MAX_KRYLOV_DIM), got 300
    """
    if not isinstance(max_iters, int) or isinstance(max_iters, bool):
        raise TypeError(f"max_iters must be a Python int (the Krylov dimension), got {max_iters!r}")
    checks.check_int("max_iters", max_iters, minimum=1)
    if max_iters > MAX_KRYLOV_DIM:
        raise ValueError(f"max_iters must be <= {MAX_KRYLOV_DIM} for the Lanczos subproblem "
                         f"(MAX_KRYLOV_DIM), got {max_iters}")


class TridiagonalSolution(NamedTuple):
    """Output of `tridiagonal_tr`: the solution in units of the radius."""

    h: jax.Array  #: coordinates $h/\Delta$ in the Lanczos basis (zero beyond the active rows).
    model: jax.Array  #: $(\gamma h_1 + \frac12 h^\top T h) / \Delta^2$ at the solution.
    on_boundary: jax.Array  #: $\|h\| = \Delta$.
    negative_curvature: jax.Array  #: $\lambda_{min}(T) < 0$.


def tridiagonal_tr(alphas: jax.Array, betas: jax.Array, active: jax.Array, gamma: jax.Array,
                   radius: jax.Array) -> TridiagonalSolution:
    r"""Exact solution of $\min_{\|h\| \le \Delta} \gamma h_1 + \frac12 h^\top T h$.

    $T$ is the symmetric tridiagonal matrix with diagonal `alphas` and off-diagonal `betas`
    restricted to the `active` rows (a prefix); the other rows are decoupled. With
    $T = V \Lambda V^\top$ ($\lambda_1 \le \dots$), $c = \gamma V^\top e_1 / \Delta$ and
    $y = V^\top h / \Delta$ (everything in units of the radius: no $\Delta^2$ is formed, so any
    finite radius works), the solution is (Moré & Sorensen 1983)

    * interior: $y = -\Lambda^{-1} c$ when $\lambda_1 > 0$ and $\|\Lambda^{-1} c\| \le 1$;
    * boundary: $y_i = -c_i / (d_i + \delta)$, $d_i = \lambda_i - \lambda_1 \ge 0$, with the
      shift $\delta = \lambda_1 + \mu > \max(\lambda_1, 0)$ the root of
      $\|y(\delta)\| = 1$, by multisection on $\log\delta$ (parametrised by $\delta$ rather than
      $\mu$, so that $d_1 + \delta = \delta$ carries no cancellation however close $\mu$ is to
      $-\lambda_1$: the nearly hard case);
    * hard case: $y_i = -c_i / d_i$ for $d_i > 0$, plus the lowest eigenvector times
      $\sqrt{1 - \|y\|^2}$.

    The boundary and hard-case candidates are both formed and the one with the lower model
    value is kept (both are feasible), so no threshold decides the hard case.

    Examples:
      >>> import jax.numpy as jnp
      >>> sol = tridiagonal_tr(jnp.array([-1.0, 2.0]), jnp.array([0.0, 0.0]),
      ...                      jnp.array([True, True]), jnp.float32(0.0), jnp.float32(3.0))
      >>> [round(float(x), 4) for x in jnp.abs(sol.h)], round(float(sol.model), 4)
      ([1.0, 0.0], -0.5)
    """
    k = alphas.shape[0]
    dtype = alphas.dtype
    eps = jnp.finfo(dtype).eps
    a = jnp.where(active, alphas, 0.0)
    b = jnp.where(active[1:], betas[:-1], 0.0)
    scale = jnp.max(jnp.abs(a)) + 2 * jnp.max(jnp.abs(b), initial=0.0)
    # Inactive rows: a diagonal far above the spectrum, uncoupled and with c = 0 there.
    diag = jnp.where(active, a, 4.0 * scale + 1.0)
    t = jnp.diag(diag) + jnp.diag(b, 1) + jnp.diag(b, -1)
    lam, vec = jnp.linalg.eigh(t)
    c = (gamma / radius) * vec[0]
    c = jnp.where(jnp.isfinite(c), c, 0.0)
    lam1 = lam[0]
    d = lam - lam1  # >= 0, d[0] == 0 exactly
    c_norm = jnp.sqrt(jnp.sum(c * c))
    tiny = jnp.finfo(dtype).tiny

    def model(y):
        return jnp.dot(c, y) + 0.5 * jnp.sum(lam * y * y)

    # Interior (Newton) solution.
    pd = lam1 > 0
    y_in = -c / jnp.where(pd, lam, 1.0)
    n_in = jnp.sqrt(jnp.sum(y_in * y_in))
    interior = pd & (n_in <= 1.0)

    # Boundary: ||c / (d + delta)|| = 1 for delta > delta_lo = max(lambda_1, 0).
    delta_lo = jnp.maximum(lam1, 0.0)
    delta_hi = jnp.maximum(c_norm, tiny)  # ||y(delta)|| <= ||c|| / delta <= 1 there
    # The lower end of the search: the shift can be as small as |c_1| (the nearly hard case),
    # never below the smallest normal number; below eps^4 ||c|| it is the hard case.
    log_lo = jnp.log(jnp.maximum(jnp.maximum(delta_lo, tiny), delta_hi * eps**4))
    log_lo = jnp.minimum(log_lo, jnp.log(delta_hi))
    log_hi = jnp.log(delta_hi)

    # Multisection on log(delta): each round evaluates the secular function at _GRID points at
    # once (one fused (points x K) evaluation) and keeps the cell where it crosses 1, so the
    # log-interval shrinks by _GRID - 1 per round: a few sequential rounds instead of ~60
    # bisection steps (the small solve runs at every Lanczos iteration).
    grid = jnp.linspace(0.0, 1.0, _GRID, dtype=dtype)
    rounds = _rounds(dtype)

    def norms_at(deltas):
        deltas = jnp.maximum(jnp.maximum(deltas, delta_lo), tiny)
        return jnp.sqrt(jnp.sum(jnp.square(c[None, :] / (d[None, :] + deltas[:, None])), axis=1))

    lo, log_b = log_lo, log_hi
    for _ in range(rounds):
        points = lo + (log_b - lo) * grid
        count = jnp.sum((norms_at(jnp.exp(points)) > 1.0).astype(jnp.int32))
        cell = jnp.clip(count - 1, 0, _GRID - 2)
        lo, log_b = points[cell], points[cell + 1]
    # (exp of log(tiny) may round below tiny, which XLA flushes to 0: clamp.)
    delta_b = jnp.maximum(jnp.maximum(jnp.exp(log_b), delta_lo), tiny)
    y_b = -c / (d + delta_b)
    n_b = jnp.sqrt(jnp.sum(y_b * y_b))
    y_b = y_b / jnp.where(n_b > 0, n_b, 1.0)  # onto the boundary (a relative change <= eps)
    # Hard case: no component on the lowest eigenspace (d ~ 0), the lowest eigenvector fills
    # the rest of the radius.
    low = d <= eps * (scale + jnp.abs(lam1))
    y_h = jnp.where(low, 0.0, -c / jnp.where(low, 1.0, d))
    n_h = jnp.sqrt(jnp.sum(y_h * y_h))
    y_h = jnp.where(n_h > 1.0, y_h / jnp.where(n_h > 0, n_h, 1.0), y_h)
    fill = jnp.sqrt(jnp.maximum(1.0 - jnp.minimum(n_h, 1.0) ** 2, 0.0))
    # The sign of the eigenvector component that does not increase the model: -sign(c_1).
    sign = jnp.where(c[0] > 0, -1.0, 1.0)
    y_h = y_h + sign * fill * jax.nn.one_hot(0, k, dtype=dtype)
    m_b = model(y_b)
    y_bd = jnp.where((model(y_h) < m_b) | ~jnp.isfinite(m_b), y_h, y_b)
    y = jnp.where(interior, y_in, y_bd)
    y = jnp.where(jnp.all(jnp.isfinite(y)), y, jnp.zeros_like(y))
    h = jnp.where(active, vec @ y, 0.0)
    return TridiagonalSolution(h=h, model=model(y), on_boundary=~interior,
                               negative_curvature=lam1 < 0)


def _newton_solution(alphas: jax.Array, betas: jax.Array, active: jax.Array, gamma: jax.Array,
                     radius: jax.Array) -> TridiagonalSolution:
    r"""`tridiagonal_tr`'s solution when $T$ (the `active` rows) is positive definite and its
    Newton step $y = -\gamma T^{-1} e_1$ lies inside the radius (the interior phase's case):
    one tridiagonal solve. The inactive rows are decoupled identity rows (zero there)."""
    dtype = alphas.dtype
    diag = jnp.where(active, alphas, 1.0)
    upper = jnp.where(active[:-1] & active[1:], betas[:-1], 0.0)
    zero = jnp.zeros((1,), dtype)
    rhs = jnp.zeros_like(alphas).at[0].set(-gamma / radius)
    h = jax.lax.linalg.tridiagonal_solve(jnp.concatenate([zero, upper]), diag,
                                         jnp.concatenate([upper, zero]), rhs[:, None])[:, 0]
    h = jnp.where(active & jnp.all(jnp.isfinite(h)), h, 0.0)
    return TridiagonalSolution(h=h, model=0.5 * (gamma / radius) * h[0],
                               on_boundary=jnp.asarray(False),
                               negative_curvature=jnp.asarray(False))


class _Lanczos(NamedTuple):
    process: krylov.LanczosState  # the package's one Lanczos process on H_hat, from g_hat
    residual: jax.Array  # |beta_j h_j| of the last small solve (the Lagrangian's gradient)
    converged: jax.Array
    invariant: jax.Array
    done: jax.Array
    # The interior phase (direct Lanczos, "D-Lanczos": CG in Lanczos form): while T_j is
    # positive definite and its Newton step y_j (T_j y_j = -gamma e_1) lies inside the radius,
    # the residual is |beta_j z_j / d_j| and ||y_j|| follows scalar recurrences: no small
    # eigenproblem is solved and no vector beyond the Lanczos ones is formed.
    pivot: jax.Array  # d_j, the last pivot of T_j = L D L^T
    z: jax.Array  # z_j of L z = -gamma e_1
    pp: jax.Array  # ||p_j||^2 of the D-Lanczos direction p_j = q_j - l_j p_{j-1}
    xp: jax.Array  # y_j . p_j (coordinates: x_j = Q_j y_j = sum_i (z_i / d_i) p_i)
    yy: jax.Array  # ||y_j||^2
    interior: jax.Array  # still in the interior phase


def lanczos_subproblem(
    hvp_fn: Callable[[PyTree], PyTree],
    grad: PyTree,
    radius: Any,
    *,
    preconditioner: PyTree | None = None,
    max_iters: int = 50,
    rtol: Any = 0.1,
    theta: Any = 0.5,
) -> SteihaugResult:
    r"""Solves the trust-region subproblem on a Lanczos Krylov space (GLTR).

    $$
    \min_s\; m(s) = g^\top s + \tfrac12 s^\top H s \quad\text{s.t.}\quad \|s\|_M \le \Delta
    $$

    on $\hat H = M^{-1/2} H M^{-1/2}$, $\hat g = M^{-1/2} g$: Lanczos builds a basis $Q_k$ of
    $\mathcal K_k(\hat H, \hat g)$ (fully reorthogonalised up to 4,096 parameters, the 3-term
    recurrence alone above, as GLTR) and $T_k = Q_k^\top \hat H Q_k$; while $T_k$ is positive
    definite and its Newton step is inside the radius, the residual and the step's length follow
    from the recurrences of CG in Lanczos form ($T_k = LDL^\top$, D-Lanczos: $O(1)$ per
    iteration); after that the small problem
    $\min_{\|h\| \le \Delta} \|\hat g\| h_1 + \frac12 h^\top T_k h$ is solved exactly at every
    iteration (`tridiagonal_tr`: interior, boundary with the nearly hard case, hard case). The
    iteration stops when the gradient of the Lagrangian in the full space,
    $\|(\hat H + \mu I) Q_k h + \hat g\| = \beta_k |h_k|$, is at most
    $\|\hat g\| \min(\mathrm{rtol}, \|\hat g\|^\theta)$ (norms of the preconditioned
    gradient $\hat g$: the Euclidean ones without a preconditioner), on an invariant subspace
    ($\beta_k \approx 0$), or after `max_iters` Lanczos steps (`capped`). Unlike Steihaug CG it
    does not stop at the first boundary crossing or negative curvature.

    **The hard case in a Krylov space.** $\mathcal K_k(\hat H, \hat g)$ only contains the
    eigenvectors that $\hat g$ has a component on. When $\hat g$ is exactly orthogonal to the
    lowest eigenvector, no Krylov method sees it (GLTR neither: Gould, Lucidi, Roma & Toint
    1999, Sec. 5); Lanczos then stops on an invariant subspace and the step is the exact
    solution of the problem restricted to that subspace (what the method can promise, and what
    the tests check against). With a tiny component (the nearly hard case) the lowest
    eigenvector is in the space and the boundary solution along it is found.

    **Guarantees.** The reported `model_decrease` is $-(g^\top s + \frac12 s^\top H s)$ of the
    returned step, evaluated with one more Hessian-vector product (in units of the radius, so
    it does not overflow before the decrease itself does); if it is below the decrease of the
    Cauchy step (the first Lanczos direction, known in closed form) or not finite, the Cauchy
    step is returned instead, so the step always decreases the model at least as much as
    the Cauchy point. A radius that is not $> 0$ (traced) gives the zero step; an infinite one
    (traced) the Newton step of a positive definite $T_k$, else the Cauchy step along the
    gradient if it has positive curvature there, else the zero step (never NaN).

    The basis is stored: memory is `max_iters` parameter-sized vectors. An iteration costs one
    HVP and $O(n)$ vector work (plus $O(k n)$ for the reorthogonalisation up to 4,096
    parameters, and $O(K^3)$ for the small eigenproblem once on the boundary, $K$ =
    `max_iters`); the step is formed once at the end ($O(k n)$), clamped to the radius, and
    its model decrease evaluated. `iterations` counts the HVPs: $k$ Lanczos steps plus the
    one that evaluates the model.

    Args:
      hvp_fn: `v -> H v` on pytrees like `grad`.
      grad: the model gradient `g`.
      radius: the trust-region radius $\Delta \ge 0$, finite (a concrete negative, NaN or
        infinite one is a `ValueError` naming `radius`; a non-number a `TypeError`).
      preconditioner: `None` or the positive diagonal `M` (a pytree like `grad`).
      max_iters: the largest Krylov dimension, a Python int in `[1, MAX_KRYLOV_DIM]` (a
        larger one is a `ValueError`: no silent clamp). At most $n$ steps happen: the Krylov
        space of dimension $n$ is invariant.
      rtol: the forcing constant of the stopping test, `>= 0` and finite.
      theta: its exponent, `>= 0` and finite.

    Returns:
      A `SteihaugResult`; `capped` when `max_iters` steps ran without meeting the test.

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax import lanczos_subproblem
      >>> h = jnp.array([-1.0, 2.0])          # indefinite
      >>> res = lanczos_subproblem(lambda v: h * v, jnp.array([1.0, 1.0]), 1.0, max_iters=2)
      >>> bool(res.hit_boundary), round(float(jnp.linalg.norm(res.step)), 4)
      (True, 1.0)

    References:
      Gould, Lucidi, Roma & Toint, "Solving the trust-region subproblem using the Lanczos
      method", SIAM J. Optim. 9(2), 1999; Moré & Sorensen, "Computing a trust region step",
      SIAM J. Sci. Stat. Comput. 4(3), 1983; Conn, Gould & Toint, *Trust-Region Methods*, SIAM
      2000, Sec. 7.5.4.
    """
    check_krylov_dim(max_iters)
    check_radius(radius)
    checks.check_positive("rtol", rtol, allow_zero=True)
    checks.check_positive("theta", theta, allow_zero=True)
    leaves = jax.tree.leaves(grad)
    dtype = jnp.result_type(*leaves) if leaves else jnp.float32
    # Cast before the compiled body, as the eager code did: a Python float rounds once.
    radius, rtol, theta = (jnp.asarray(x, dtype) for x in (radius, rtol, theta))
    return compiled_call(lambda *args: _lanczos_subproblem(hvp_fn, *args, max_iters),
                         grad, radius, preconditioner, rtol, theta)


def _lanczos_subproblem(hvp_fn, grad, radius, preconditioner, rtol, theta, max_iters):
    """`lanczos_subproblem` after its checks (one compiled program when called eagerly)."""
    leaves = jax.tree.leaves(grad)
    dtype = jnp.result_type(*leaves) if leaves else jnp.float32
    n = sum(leaf.size for leaf in leaves)
    k_max = int(max(1, min(max_iters, n)))  # a Krylov space of dimension n is invariant
    radius = jnp.asarray(radius, dtype)

    if preconditioner is None:
        def to_hat(v):
            return v
    else:
        inv_sqrt = jax.tree.map(lambda m: (1.0 / jnp.sqrt(m)).astype(m.dtype), preconditioner)
        def to_hat(v):
            return optax.tree.cast_like(optax.tree.mul(v, inv_sqrt), v)
    def hat_hvp(v):
        return to_hat(hvp_fn(to_hat(v)))
    g_hat = to_hat(grad)
    gamma = jnp.sqrt(jnp.maximum(tree_dot(g_hat, g_hat, dtype), 0.0))
    tol = gamma * jnp.minimum(rtol, gamma**theta)
    ok = (gamma > 0) & jnp.isfinite(gamma) & (radius > 0)
    index = jnp.arange(k_max)
    # Full reorthogonalisation (O(j n) per step) keeps Q_k orthonormal to rounding; above
    # _FULL_REORTH_MAX_N parameters GLTR's 3-term recurrence (O(n) per step, as CG) is used:
    # the final step is then checked against the true model (one more HVP) and the Cauchy step.
    full_reorth = n <= _FULL_REORTH_MAX_N
    # The radius the small problem sees: an infinite one becomes sqrt(float max) (the interior
    # Newton step is unaffected unless longer; a boundary step is then dropped below).
    finite_radius = jnp.isfinite(radius)
    big = jnp.sqrt(jnp.finfo(dtype).max).astype(dtype)
    work_radius = jnp.where(finite_radius & ok, radius, jnp.where(ok, big, 1.0))

    def body(st: _Lanczos) -> _Lanczos:
        j = st.process.size
        beta_prev = jnp.where(j > 0, st.process.betas[jnp.maximum(j - 1, 0)], 0.0)
        process = krylov.lanczos_step(hat_hvp, st.process, reorthogonalize=full_reorth)
        alpha, beta = process.alphas[j], process.betas[j]
        finite = jnp.isfinite(alpha) & jnp.isfinite(beta)
        # D-Lanczos: T_j = L D L^T, l_j = beta_{j-1} / d_{j-1}, d_j = alpha_j - l_j beta_{j-1};
        # with p_j = q_j - l_j p_{j-1} and q_j orthogonal to p_{j-1}, x_{j-1}:
        # ||p_j||^2 = 1 + l_j^2 ||p_{j-1}||^2, x_{j-1}.p_j = -l_j x_{j-1}.p_{j-1}, and
        # x_j = x_{j-1} + c_j p_j (c_j = z_j / d_j) gives ||x_j||^2 (= ||y_j||^2).
        first = j == 0
        safe_pivot = jnp.where(st.pivot != 0, st.pivot, 1.0)
        ell = jnp.where(first, 0.0, beta_prev / safe_pivot)
        pivot = alpha - ell * beta_prev
        z = jnp.where(first, -gamma, -ell * st.z)
        positive = st.interior & finite & (pivot > 0)
        c = z / jnp.where(positive, pivot, 1.0)
        pp = 1.0 + ell * ell * st.pp
        x_dot_p = -ell * st.xp  # x_{j-1} . p_j
        yy = st.yy + 2.0 * c * x_dot_p + c * c * pp
        inside = jnp.sqrt(jnp.maximum(yy, 0.0)) <= work_radius
        interior = positive & (inside | ~finite_radius)

        def interior_residual(_):
            return jnp.abs(beta * c)

        def boundary_residual(_):
            # (Only while every column is finite: a non-finite one ends the solve.)
            sol = tridiagonal_tr(process.alphas, process.betas, index <= j, gamma, work_radius)
            h_last = jnp.sum(jnp.where(index == j, sol.h, 0.0))
            return jnp.abs(beta * h_last) * work_radius

        residual = jax.lax.cond(interior | ~finite, interior_residual, boundary_residual, None)
        invariant = process.broke_down
        converged = ~(residual > tol)
        done = ~finite | invariant | converged | (j + 1 >= k_max)
        return _Lanczos(process=process, residual=residual,
                        converged=converged & finite, invariant=invariant & finite,
                        done=done, pivot=pivot, z=z, pp=pp, xp=x_dot_p + c * pp, yy=yy,
                        interior=interior)

    # q_1 = M^{-1/2} g / gamma (zero when the solve cannot run): gamma is passed, not recomputed.
    process0, _ = krylov.lanczos_init(g_hat, k_max, norm=jnp.where(ok, gamma, 0.0))
    q1 = process0.q
    process0 = process0._replace(alphas=process0.alphas.astype(dtype),
                                 betas=process0.betas.astype(dtype),
                                 norm_estimate=process0.norm_estimate.astype(dtype))
    init = _Lanczos(process=process0, residual=jnp.zeros((), dtype),
                    converged=jnp.asarray(False), invariant=jnp.asarray(False),
                    done=~ok, pivot=jnp.ones((), dtype), z=jnp.zeros((), dtype),
                    pp=jnp.zeros((), dtype), xp=jnp.zeros((), dtype), yy=jnp.zeros((), dtype),
                    interior=jnp.asarray(True))
    final = jax.lax.while_loop(lambda st: ~st.done, body, init)
    size = final.process.size  # Lanczos steps run (one product each)
    # A non-finite column (the last one: it stopped the solve, and the process' `finite` flag
    # says so) is not part of T: the step is the solution on the columns before it.
    k = jnp.where(final.process.finite, size, jnp.maximum(size - 1, 0))
    # Still in the interior phase: the Newton step of T_k, one O(k) tridiagonal solve (the
    # eigendecomposition of the K-square T would cost O(K^3) for a known answer).
    sol = jax.lax.cond(final.interior, _newton_solution, tridiagonal_tr, final.process.alphas,
                       final.process.betas, index < k, gamma, work_radius)
    # An infinite radius admits only an interior (Newton) step.
    h = jnp.where(finite_radius | ~sol.on_boundary, sol.h, 0.0)
    # u = s / radius in the original variables: M^{-1/2} Q_k (h / radius).
    u_hat = krylov.combine(final.process.basis, h.astype(dtype), k)
    # Without full reorthogonalisation Q_k may drift from orthonormal: never past the radius.
    u_norm = jnp.sqrt(jnp.maximum(tree_dot(u_hat, u_hat, dtype), 0.0))
    u_hat = jax.tree.map(lambda a: (a / jnp.maximum(u_norm, 1.0)).astype(a.dtype), u_hat)
    u = to_hat(u_hat)
    hu = hvp_fn(u)
    # m(s) = radius (g^T u) + radius^2 (u^T H u) / 2, so the decrease over radius is
    # -(g^T u + radius u^T H u / 2): formed without radius^2.
    g_u, u_h_u = tree_dot(grad, u, dtype), tree_dot(u, hu, dtype)
    decrease = -work_radius * (g_u + 0.5 * work_radius * u_h_u)
    # The Cauchy step along -M^{-1} g: alpha_1 = q_1^T H_hat q_1 (the first Lanczos entry),
    # t = min(gamma / alpha_1, radius) (radius if alpha_1 <= 0), decrease t gamma - t^2 alpha_1/2.
    alpha1 = final.process.alphas[0]
    t_newton = gamma / jnp.where(alpha1 > 0, alpha1, 1.0)
    t_c = jnp.where(alpha1 > 0, jnp.minimum(t_newton, work_radius), work_radius)
    t_c = jnp.where(finite_radius | (alpha1 > 0), t_c, 0.0)
    cauchy_decrease = t_c * (gamma - 0.5 * t_c * alpha1)
    use_cauchy = ~(decrease >= cauchy_decrease)
    ran = ok & (k > 0) & ~(use_cauchy & ~jnp.isfinite(cauchy_decrease))
    scale_step = jnp.where(use_cauchy, 0.0, work_radius)
    step = jax.tree.map(
        lambda x, q: (scale_step * x - jnp.where(use_cauchy, t_c, 0.0) * q).astype(x.dtype),
        u, to_hat(q1))
    step = optax.tree.where(ran, step, optax.tree.zeros_like(grad))
    model_decrease = jnp.where(use_cauchy, cauchy_decrease, decrease)
    model_decrease = jnp.where(ran & jnp.isfinite(model_decrease),
                               jnp.maximum(model_decrease, 0.0), 0.0)
    boundary = jnp.where(use_cauchy, t_c >= work_radius, sol.on_boundary & finite_radius)
    return SteihaugResult(
        step=optax.tree.cast_like(step, grad),
        model_decrease=model_decrease.astype(dtype),
        iterations=jnp.where(ran, size + 1, 0).astype(jnp.int32),
        hit_boundary=ran & boundary,
        negative_curvature=ran & sol.negative_curvature,
        # Not capped at k = n: the Krylov space is then the whole space (the solve is exact).
        capped=ran & ~final.converged & ~final.invariant & (size >= max_iters) & (size < n),
    )
