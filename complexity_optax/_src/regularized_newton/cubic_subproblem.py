# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""The ARC subproblem: the global minimiser of the cubic model in a Lanczos subspace.

Given the gradient $g$, Hessian-vector products $v \mapsto Hv$, $\sigma > 0$ and a positive
diagonal $A$ (the identity for the sphere), the step approximately minimises

$$
m(s) = g^\top s + \tfrac12 s^\top H s + \tfrac{\sigma}{3}\|s\|_A^3 .
$$

With $s = A^{-1/2} y$ this is the spherical problem for $\hat g = A^{-1/2} g$ and
$\hat H = A^{-1/2} H A^{-1/2}$. Lanczos from $q_1 = \hat g / \|\hat g\|$ gives
$Q_j^\top \hat H Q_j = T_j$ (tridiagonal), and in the subspace $y = Q_j u$ the model is
$\|\hat g\| e_1^\top u + \tfrac12 u^\top T_j u + \tfrac\sigma3 \|u\|^3$, whose global minimiser
satisfies (Cartis, Gould & Toint 2011, Thm. 3.1)

$$
(T_j + \lambda I) u = -\|\hat g\| e_1, \qquad \lambda = \sigma \|u\|, \qquad
T_j + \lambda I \succeq 0 .
$$

$\lambda$ is the root of the secular equation $\varphi(\lambda) = 1/\|u(\lambda)\| - \sigma/\lambda$
on $\lambda > \max(0, -\lambda_{\min}(T_j))$, found by Newton's method safeguarded by bisection,
each iteration two $O(j)$ tridiagonal solves (`solve_cubic_tridiagonal`, which also handles the
"hard case"). The subspace
grows until the model gradient $\|\nabla m(s)\| = \beta_j |e_j^\top u|$ satisfies the "TC.s" rule
$\|\nabla m(s)\| \le \kappa \min(1, \|s\|_A) \|g\|$ (measured in the $A^{-1}$-norm), the space is
invariant, or the cap is reached.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from complexity_optax._src.common import checks
from complexity_optax._src.common import lanczos as krylov
from complexity_optax._src.common.tree import compute_dtype
from complexity_optax._src.common.types import MatVec, PyTree

__all__ = ["CubicSubproblemResult", "cubic_subproblem", "solve_cubic_tridiagonal"]

_SECULAR_ITERATIONS = 60


class CubicSubproblemResult(NamedTuple):
    r"""Outcome of `cubic_subproblem`.

    Attributes:
      step: $s$, a pytree like the gradient.
      model_decrease: $-m(s) = -(g^\top s + \tfrac12 s^\top H s + \tfrac\sigma3\|s\|_A^3) \ge 0$.
      multiplier: $\lambda = \sigma \|s\|_A$.
      step_norm: $\|s\|_A$.
      model_grad_norm: $\|\nabla m(s)\|$ in the subspace's (scaled) coordinates.
      iterations: Lanczos columns built, i.e. Hessian-vector products used (int32).
    """

    step: PyTree
    model_decrease: jax.Array
    multiplier: jax.Array
    step_norm: jax.Array
    model_grad_norm: jax.Array
    iterations: jax.Array


def _tridiagonal_matvec(d: jax.Array, e: jax.Array, u: jax.Array) -> jax.Array:
    """`T u` for the symmetric tridiagonal `T` with diagonal `d` and off-diagonal `e`."""
    out = d * u
    out = out.at[:-1].add(e * u[1:])
    return out.at[1:].add(e * u[:-1])


#: Sizes of the leading blocks the cubic secular equation is solved on besides the whole
#: (`cubic_subproblem`): one more compiled solve (~0.6 s of compilation on this CPU) for a
#: Krylov cap above 32, none below.
_SOLVE_BUCKETS = (32,)


def cauchy_point(alpha: jax.Array, gnorm: jax.Array, sigma: jax.Array
                 ) -> tuple[jax.Array, jax.Array]:
    r"""The minimiser of the cubic model along $-g$: $t > 0$ minimising
    $-\gamma t + \tfrac12 \alpha t^2 + \tfrac\sigma3 t^3$ ($\alpha = q_1^\top H q_1$), and that
    model value.

    $t$ is the positive root of $\sigma t^2 + \alpha t - \gamma = 0$, formed without
    cancellation: $2\gamma / (\alpha + \sqrt{\alpha^2 + 4\sigma\gamma})$ for $\alpha \ge 0$,
    $(-\alpha + \sqrt{\alpha^2 + 4\sigma\gamma}) / (2\sigma)$ otherwise.

    Examples:
      >>> import jax.numpy as jnp
      >>> t, m = cauchy_point(jnp.float32(1.0), jnp.float32(2.0), jnp.float32(1.0))
      >>> float(t), round(float(m), 4)    # t^2 + t - 2 = 0; m = -2 + 1/2 + 1/3
      (1.0, -1.1667)
    """
    root = jnp.sqrt(alpha * alpha + 4.0 * sigma * gnorm)
    t = jnp.where(alpha >= 0, 2.0 * gnorm / jnp.where(alpha + root > 0, alpha + root, 1.0),
                  (root - alpha) / (2.0 * sigma))
    return t, -gnorm * t + 0.5 * alpha * t * t + sigma / 3.0 * t ** 3


def solve_cubic_tridiagonal(
    diagonal: jax.Array, off_diagonal: jax.Array, gnorm: jax.Array, sigma: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""Global minimiser of $\gamma e_1^\top u + \tfrac12 u^\top T u + \tfrac\sigma3\|u\|^3$.

    $T$ is symmetric tridiagonal. Its smallest eigenvalue comes from
    `jax.scipy.linalg.eigh_tridiagonal` (bisection), then Newton's method on
    $\varphi(\lambda) = 1/\|u(\lambda)\| - \sigma/\lambda$,
    $u(\lambda) = -(T + \lambda I)^{-1}\gamma e_1$, safeguarded by bisection on
    $(\max(0, -\lambda_{\min}), \max(0, -\lambda_{\min}) + \sqrt{\sigma\gamma}]$ (where $\varphi$
    changes sign), each iteration two tridiagonal solves ($O(k)$). In the hard case ($e_1$
    orthogonal to the eigenvector $v$ of $\lambda_{\min} < 0$, so
    $\|u(-\lambda_{\min})\| < -\lambda_{\min}/\sigma$) the deficit is filled along $v$ (from inverse
    iteration). For a Lanczos tridiagonal with nonzero off-diagonal this case does not occur in
    exact arithmetic.

    Args:
      diagonal: the diagonal of $T$, shape `(k,)`.
      off_diagonal: its off-diagonal, shape `(k - 1,)`.
      gnorm: $\gamma = \|g\| \ge 0$.
      sigma: $\sigma > 0$.

    Returns:
      `(u, lam, model)`: the minimiser, $\lambda = \sigma\|u\|$ and the model value at $u$.

    Examples:
      >>> import jax.numpy as jnp
      >>> u, lam, model = solve_cubic_tridiagonal(
      ...     jnp.ones(1), jnp.zeros(0), jnp.float32(2.0), jnp.float32(1.0))
      >>> u.round(5), lam.round(5)   # (1 + |u|) u = -2  =>  u = -1, lambda = 1
      (Array([-1.], dtype=float32), Array(1., dtype=float32))
    """
    checks.check_positive("gnorm", gnorm, allow_zero=True)
    checks.check_positive("sigma", sigma)
    d, e = diagonal, off_diagonal
    dtype = d.dtype
    k = d.shape[0]
    eps = jnp.finfo(dtype).eps
    gnorm = jnp.asarray(gnorm, dtype)
    sigma = jnp.asarray(sigma, dtype)
    if k > 1:
        lam_min = jax.scipy.linalg.eigh_tridiagonal(
            d, e, eigvals_only=True, select="i", select_range=(0, 0))[0]
    else:
        lam_min = d[0]
    lower = jnp.concatenate([jnp.zeros((1,), dtype), e])
    upper = jnp.concatenate([e, jnp.zeros((1,), dtype)])

    def solve(lam, rhs):
        return jax.lax.linalg.tridiagonal_solve(lower, d + lam, upper, rhs[:, None])[:, 0]

    rhs = jnp.zeros((k,), dtype).at[0].set(-gnorm)
    scale = jnp.max(jnp.abs(d)) + 2.0 * jnp.max(jnp.abs(e), initial=0.0) + 1.0
    lo0 = jnp.maximum(0.0, -lam_min)
    hi0 = lo0 + jnp.sqrt(sigma * gnorm) + eps * scale

    def phi_and_slope(lam):
        u = solve(lam, rhs)
        psi = jnp.maximum(jnp.linalg.norm(u), jnp.finfo(dtype).tiny)
        w = solve(lam, u)
        dpsi = -jnp.dot(u, w) / psi
        return 1.0 / psi - sigma / lam, -dpsi / (psi * psi) + sigma / (lam * lam)

    def body(carry):
        lam, lo, hi, it, _ = carry
        phi, slope = phi_and_slope(lam)
        lo = jnp.where(phi < 0, lam, lo)
        hi = jnp.where(phi >= 0, lam, hi)
        newton = lam - phi / jnp.where(slope > 0, slope, 1.0)
        inside = (newton > lo) & (newton < hi) & jnp.isfinite(newton) & (slope > 0)
        new = jnp.where(inside, newton, 0.5 * (lo + hi))
        # Converged when the iterate moves by less than the resolution of lambda.
        done = jnp.abs(new - lam) <= 4.0 * eps * jnp.maximum(lam, eps * scale)
        return new, lo, hi, it + 1, done

    def cond(carry):
        return (carry[3] < _SECULAR_ITERATIONS) & ~carry[4]

    lam, _, _, _, _ = jax.lax.while_loop(
        cond, body, (0.5 * (lo0 + hi0), lo0, hi0, jnp.zeros((), jnp.int32), jnp.asarray(False)))
    u = solve(lam, rhs)
    u = jnp.where(jnp.all(jnp.isfinite(u)), u, 0.0)
    # Hard case: ||u|| stays below lam / sigma at the left end of the bracket.
    deficit = (lam / sigma) ** 2 - jnp.dot(u, u)
    near_pole = (lam - lo0) <= jnp.sqrt(eps) * scale
    hard = (lam_min < 0) & near_pole & (deficit > 0)

    def fill(u):
        shift = lam_min - 16.0 * eps * scale  # just below lambda_min: T - shift I is PD
        v = jnp.ones((k,), dtype)
        for _ in range(3):  # inverse iteration
            v = solve(-shift, v)
            v = v / jnp.linalg.norm(v)
        return u + jnp.sqrt(jnp.maximum(deficit, 0.0)) * v

    u = jax.lax.cond(hard, fill, lambda u: u, u)
    norm = jnp.linalg.norm(u)
    model = (gnorm * u[0] + 0.5 * jnp.dot(u, _tridiagonal_matvec(d, e, u))
             + sigma / 3.0 * norm ** 3)
    return u.astype(dtype), (sigma * norm).astype(dtype), model.astype(dtype)


def cubic_subproblem(
    hvp_fn: MatVec,
    grad: PyTree,
    sigma: Any,
    *,
    diagonal: PyTree | None = None,
    max_iters: int = 20,
    kappa: float = 0.1,
) -> CubicSubproblemResult:
    r"""Approximate global minimiser of the (ellipsoidal) cubic model, by Lanczos.

    See the module docstring for the maths. The whole solve is one `lax.while_loop` over
    Lanczos columns (one Hessian-vector product each, with full re-orthogonalisation), each
    followed by an exact solve of the small cubic problem on the tridiagonal.

    Args:
      hvp_fn: $v \mapsto Hv$ on pytrees like `grad`.
      grad: $g$, a pytree of floating arrays with at least one element (an empty pytree or one
        of only size-0 leaves is a `ValueError`: there is no subproblem; a zero gradient gives
        a zero step).
      sigma: $\sigma > 0$, a scalar (may be traced).
      diagonal: $A$, a pytree like `grad` (same structure and shapes) with finite entries
        $> 0$, or `None` for the identity.
      max_iters: the cap on Lanczos columns (HVPs), a Python int $\ge 1$ (static).
      kappa: $\kappa$ of the stopping rule, in $(0, 1]$.

    Returns:
      A `CubicSubproblemResult`, computed in at least float32.

    Raises:
      TypeError: `hvp_fn` is not callable; `grad` has a non-floating leaf.
      ValueError: `grad` is empty or (concrete and) not finite; `hvp_fn` returns a pytree
        unlike `grad`; `sigma` or `kappa` is not a scalar in range; `diagonal` does not match
        `grad` or has an entry that is not finite and positive.

    Examples:
      >>> import jax.numpy as jnp
      >>> h = jnp.diag(jnp.array([2.0, -1.0]))
      >>> res = cubic_subproblem(lambda v: h @ v, jnp.array([1.0, 1.0]), 1.0, max_iters=2)
      >>> lam = res.multiplier    # (H + lam I) s = -g with lam = sigma ||s||, H + lam I >= 0
      >>> bool(jnp.allclose(h @ res.step + lam * res.step, -jnp.ones(2), atol=1e-5))
      True
      >>> bool(lam >= 1.0), int(res.iterations)
      (True, 2)

    References:
      Cartis, Gould & Toint, "Adaptive cubic regularisation methods for unconstrained
      optimization. Part I", Math. Program. 127, 2011 (Sec. 6, the Lanczos-based solve);
      Gould, Lucidi, Roma & Toint, "Solving the trust-region subproblem using the Lanczos
      method", SIAM J. Optim. 9, 1999.
    """
    checks.check_callable("hvp_fn", hvp_fn, "a callable v -> Hv")
    checks.check_pytree("grad", grad)
    checks.check_int("max_iters", max_iters, minimum=1)
    checks.check_scalar("kappa", kappa)
    checks.check_in_interval("kappa", kappa, 0.0, 1.0, low_inclusive=False)
    checks.check_scalar("sigma", sigma)
    checks.check_positive("sigma", sigma)
    checks.check_finite_tree("grad", grad)
    if diagonal is not None:
        checks.check_like("diagonal", diagonal, "grad", grad)
        checks.check_positive_tree("diagonal", diagonal)
    hvp_fn = checks.checked_matvec("hvp_fn", hvp_fn, "grad")
    leaves = jax.tree.leaves(grad)
    dtype = compute_dtype(jnp.result_type(*leaves))
    grad_c = jax.tree.map(lambda x: jnp.asarray(x).astype(dtype), grad)
    if diagonal is None:
        inv_sqrt = None
        start = grad_c
        def matvec(v):
            return hvp_fn(v)
    else:
        inv_sqrt = jax.tree.map(lambda a: jax.lax.rsqrt(jnp.asarray(a).astype(dtype)), diagonal)
        def scale(v):
            return jax.tree.map(lambda x, d: x * d, v, inv_sqrt)
        start = scale(grad_c)
        def matvec(v):
            return scale(hvp_fn(scale(v)))
    sigma = jnp.asarray(sigma, dtype)

    def model_solution(st: krylov.LanczosState, gnorm):
        diagonal, off_diagonal, _ = krylov.padded_tridiagonal_bands(st)
        # The rows at and after `size` are decoupled padding, so the solution on the leading
        # block of the smallest bucket that holds `size` rows is the solution: a small solve
        # while the Krylov space is small, not one on all `max_iters` rows at every column.
        k = diagonal.shape[0]
        buckets = sorted({b for b in _SOLVE_BUCKETS if b < k} | {k})

        def on_block(b):
            def solve(_):
                u, lam, model = solve_cubic_tridiagonal(diagonal[:b], off_diagonal[:b - 1],
                                                        gnorm, sigma)
                return jnp.zeros((k,), u.dtype).at[:b].set(u), lam, model
            return solve

        u, lam, model = jax.lax.switch(
            jnp.searchsorted(jnp.asarray(buckets), st.size), [on_block(b) for b in buckets],
            None)
        last = jnp.maximum(st.size - 1, 0)
        model_grad = jnp.abs(st.betas[last] * u[last])
        return u, lam, model, model_grad

    state0, gnorm = krylov.lanczos_init(start, max_iters)

    def stop(st: krylov.LanczosState):
        _, lam, _, model_grad = model_solution(st, gnorm)
        return model_grad <= kappa * jnp.minimum(1.0, lam / sigma) * gnorm

    def cond(st):
        return (st.size < max_iters) & ~st.broke_down & (gnorm > 0) & ((st.size == 0) | ~stop(st))

    final = jax.lax.while_loop(cond, lambda st: krylov.lanczos_step(matvec, st), state0)
    u, lam, model, model_grad = model_solution(final, gnorm)
    # The Cauchy point: the model's minimiser along -g (u = -t e_1), in closed form. A computed
    # solution that decreases the model less (a secular solve ruined by rounding, as with a
    # Hessian of condition 1e17 in float64) is replaced by it, so the step always decreases the
    # model at least as much as the Cauchy point (Cartis, Gould & Toint's requirement).
    t_c, cauchy_model = cauchy_point(final.alphas[0], gnorm, sigma)
    use_cauchy = ~(model <= cauchy_model) & (final.size > 0)
    u = jnp.where(use_cauchy, jnp.zeros_like(u).at[0].set(-t_c), u)
    lam = jnp.where(use_cauchy, sigma * t_c, lam)
    model = jnp.where(use_cauchy, cauchy_model, model)
    # Its model gradient in the Krylov space is beta_1 t e_2 (the first row vanishes by t's choice).
    model_grad = jnp.where(use_cauchy, jnp.abs(final.betas[0]) * t_c, model_grad)
    nonzero = gnorm > 0
    # Only the Krylov rows (before `size`) carry the step.
    y = krylov.combine(final.basis, u, final.size)
    step = y if inv_sqrt is None else jax.tree.map(lambda x, d: x * d, y, inv_sqrt)
    step = jax.tree.map(lambda s: jnp.where(nonzero, s, 0.0), step)
    zero = jnp.zeros((), dtype)
    return CubicSubproblemResult(
        step=step,
        model_decrease=jnp.where(nonzero, -model, zero),
        multiplier=jnp.where(nonzero, lam, zero),
        step_norm=jnp.where(nonzero, lam / sigma, zero),
        model_grad_norm=jnp.where(nonzero, model_grad, zero),
        iterations=final.size,
    )
