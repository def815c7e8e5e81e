# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""A GLTR-style Lanczos solver for the trust-region subproblem (pytree-native, jitted)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.compiled import compiled_call
from complexity_optax._src.common.types import PyTree
from complexity_optax._src.trust_region.steihaug import SteihaugResult

__all__ = ["lanczos_subproblem"]

#: The largest Krylov dimension (the small problem is solved densely at every iteration).
MAX_KRYLOV_DIM = 256


class _TridiagSolution(NamedTuple):
    h: jax.Array  # coordinates in the Lanczos basis
    model: jax.Array  # m(h) = gamma h_1 + h^T T h / 2
    on_boundary: jax.Array
    negative_curvature: jax.Array


def _tridiagonal_tr(alphas, betas, active, gamma, radius) -> _TridiagSolution:
    """Exact solution of min gamma h_1 + h^T T h / 2 s.t. ||h|| <= radius (eigh + bisection).

    Inactive rows (beyond the current Krylov dimension) are decoupled with a large diagonal.
    All lengths are divided by the radius, so that no square of it is formed.
    """
    k = alphas.shape[0]
    scale = jnp.max(jnp.abs(jnp.where(active, alphas, 0.0))) + jnp.max(jnp.abs(betas)) + 1.0
    diag = jnp.where(active, alphas, 4.0 * scale)
    off = jnp.where(active[1:] & active[:-1], betas[:-1], 0.0)
    t = jnp.diag(diag) + jnp.diag(off, 1) + jnp.diag(off, -1)
    lam, vec = jnp.linalg.eigh(t)
    c = (gamma / radius) * vec[0]  # the gradient e_1 gamma in the eigenbasis, in radius units
    lam_min = lam[0]
    tiny = jnp.finfo(lam.dtype).eps * scale

    def norm_at(shift):
        d = lam + shift
        y = jnp.where(d > tiny, -c / jnp.where(d > tiny, d, 1.0), 0.0)
        return y, jnp.sqrt(jnp.sum(y * y))

    lo = jnp.maximum(0.0, -lam_min)
    y_lo, n_lo = norm_at(lo)
    # ||h(lo)|| is infinite unless the gradient has no component on the singular directions.
    c_norm = jnp.sqrt(jnp.sum(c * c))
    reaches = jnp.any(((lam + lo) <= tiny) & (jnp.abs(c) > jnp.finfo(lam.dtype).eps * c_norm))
    n_lo = jnp.where(reaches, jnp.inf, n_lo)
    interior = (lam_min > tiny) & (n_lo <= 1.0)
    hard = ~interior & (n_lo < 1.0)  # the boundary is not reachable by the shift alone
    hi = lo + jnp.sqrt(jnp.sum(c * c)) + tiny

    def bisect(_, bounds):
        a, b = bounds
        mid = 0.5 * (a + b)
        _, n_mid = norm_at(mid)
        return jnp.where(n_mid > 1.0, mid, a), jnp.where(n_mid > 1.0, b, mid)

    _, b = jax.lax.fori_loop(0, 100, bisect, (lo, hi))
    y_b, n_b = norm_at(b)
    y_b = y_b / jnp.where(n_b > 0, n_b, 1.0)  # exactly on the boundary
    tau = jnp.sqrt(jnp.maximum(1.0 - n_lo**2, 0.0))
    y_hard = y_lo + tau * jax.nn.one_hot(0, k, dtype=lam.dtype)
    y = jnp.where(interior, y_lo, jnp.where(hard, y_hard, y_b))
    model = radius**2 * (jnp.dot(c, y) + 0.5 * jnp.sum(lam * y * y))
    return _TridiagSolution(h=radius * (vec @ y), model=model, on_boundary=~interior,
                            negative_curvature=lam_min < 0)


class _Lanczos(NamedTuple):
    q_prev: PyTree
    q: PyTree
    beta_prev: jax.Array
    j: jax.Array
    alphas: jax.Array
    betas: jax.Array
    done: jax.Array


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
    r"""Solves the trust-region subproblem on a Lanczos Krylov space (GLTR-style).

    $$
    \min_s\; g^\top s + \tfrac12 s^\top H s \quad\text{s.t.}\quad \|s\|_M \le \Delta
    $$

    on $\hat H = M^{-1/2} H M^{-1/2}$, $\hat g = M^{-1/2} g$: Lanczos builds an orthonormal
    basis $Q_k$ of $\mathcal K_k(\hat H, \hat g)$ and the tridiagonal $T_k = Q_k^\top \hat H Q_k$;
    the small problem $\min_{\|h\| \le \Delta} \|\hat g\| h_1 + \frac12 h^\top T_k h$ is solved
    exactly at every iteration (eigendecomposition of $T_k$ and bisection on the secular
    equation $\|(T_k + \lambda I)^{-1} \|\hat g\| e_1\| = \Delta$, with the hard case of $T_k$
    handled by a step along its lowest eigenvector). The iteration stops when the model
    gradient $\beta_k |h_k|$ is at most $\|g\| \min(\mathrm{rtol}, \|g\|^\theta)$, on an invariant
    subspace, or after `max_iters`. Unlike Steihaug CG it does not stop at the first boundary
    crossing or negative curvature, so it keeps (nearly) the exact model decrease on indefinite
    problems.

    The basis is not stored: a second Lanczos pass forms $s = M^{-1/2} Q_k h$, so the cost is
    $2k$ Hessian-vector products (`iterations`) and a few parameter-sized buffers.
    `max_iters` is the Krylov dimension (static, at most 256).

    Args:
      hvp_fn: `v -> H v` on pytrees like `grad`.
      grad: the model gradient `g`.
      radius: the trust-region radius $\Delta > 0$ (a non-number is a `TypeError`, NaN a
        `ValueError`, both naming `radius`).
      preconditioner: `None` or the positive diagonal `M` (a pytree like `grad`).
      max_iters: the largest Krylov dimension, a Python int in `[1, 256]`.
      rtol: the forcing constant of the stopping test, `>= 0` and finite.
      theta: its exponent, `>= 0` and finite.

    Returns:
      A `SteihaugResult` (`iterations` counts HVPs, both passes).

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax import lanczos_subproblem
      >>> h = jnp.array([-1.0, 2.0])          # indefinite
      >>> res = lanczos_subproblem(lambda v: h * v, jnp.array([1.0, 1.0]), 1.0, max_iters=2)
      >>> bool(res.hit_boundary), round(float(jnp.linalg.norm(res.step)), 4)
      (True, 1.0)

    References:
      Gould, Lucidi, Roma & Toint, "Solving the trust-region subproblem using the Lanczos
      method", SIAM J. Optim. 9(2), 1999; Conn, Gould & Toint, *Trust-Region Methods*, SIAM
      2000, Sec. 7.5.4.
    """
    if not isinstance(max_iters, int) or isinstance(max_iters, bool):
        raise TypeError(f"max_iters must be a Python int (the Krylov dimension), got {max_iters!r}")
    checks.check_int("max_iters", max_iters, minimum=1)
    # Concrete values of any kind are checked (a string is a TypeError naming it); traced ones
    # (the trust-region state under jit) are not. The radius is only checked for its kind and
    # NaN: a state radius that shrank to 0 is the caller's to handle.
    checks.check_real("radius", radius, allow_inf=True, dtype=None)
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
    k_max = int(min(max_iters, max(n, 1), MAX_KRYLOV_DIM))
    radius = jnp.asarray(radius, dtype)

    if preconditioner is None:
        to_hat = lambda v: v
    else:
        inv_sqrt = jax.tree.map(lambda m: (1.0 / jnp.sqrt(m)).astype(m.dtype), preconditioner)
        to_hat = lambda v: optax.tree.cast_like(optax.tree.mul(v, inv_sqrt), v)
    hat_hvp = lambda v: to_hat(hvp_fn(to_hat(v)))
    g_hat = to_hat(grad)
    gamma = optax.tree.norm(g_hat).astype(dtype)
    g_norm = optax.tree.norm(grad).astype(dtype)
    tol = g_norm * jnp.minimum(jnp.asarray(rtol, dtype), g_norm ** jnp.asarray(theta, dtype))
    safe_gamma = jnp.where(gamma > 0, gamma, 1.0)
    q1 = optax.tree.scale(1.0 / safe_gamma, g_hat)
    index = jnp.arange(k_max)

    def lanczos_step(st: _Lanczos):
        w = hat_hvp(st.q)
        w = optax.tree.sub(w, optax.tree.scale(st.beta_prev, st.q_prev))
        alpha = optax.tree.vdot(st.q, w).astype(dtype)
        w = optax.tree.sub(w, optax.tree.scale(alpha, st.q))
        beta = optax.tree.norm(w).astype(dtype)
        q_next = optax.tree.scale(1.0 / jnp.where(beta > 0, beta, 1.0), w)
        return alpha, beta, q_next

    def body(st: _Lanczos) -> _Lanczos:
        alpha, beta, q_next = lanczos_step(st)
        finite = jnp.isfinite(alpha) & jnp.isfinite(beta)
        alphas = st.alphas.at[st.j].set(jnp.where(finite, alpha, 0.0))
        betas = st.betas.at[st.j].set(jnp.where(finite, beta, 0.0))
        active = index <= st.j
        sol = _tridiagonal_tr(alphas, betas, active, gamma, radius)
        residual = jnp.abs(beta * sol.h[st.j])
        scale = jnp.max(jnp.abs(alphas)) + jnp.max(jnp.abs(betas))
        invariant = ~(beta > jnp.finfo(dtype).eps * scale)
        done = ~finite | invariant | ~(residual > tol) | (st.j + 1 >= k_max)
        return _Lanczos(q_prev=st.q, q=q_next, beta_prev=beta, j=st.j + 1, alphas=alphas,
                        betas=betas, done=done)

    zeros = optax.tree.zeros_like(g_hat)
    init = _Lanczos(q_prev=zeros, q=q1, beta_prev=jnp.zeros((), dtype), j=jnp.zeros((), jnp.int32),
                    alphas=jnp.zeros(k_max, dtype), betas=jnp.zeros(k_max, dtype),
                    done=~(gamma > 0) | ~jnp.isfinite(gamma))
    first = jax.lax.while_loop(lambda st: ~st.done, body, init)
    k = first.j
    sol = _tridiagonal_tr(first.alphas, first.betas, index < k, gamma, radius)
    h = jnp.where(index < k, sol.h, 0.0)

    # Second pass: s_hat = sum_j h_j q_j, regenerating the basis.
    def body2(carry):
        st, s_hat = carry
        s_hat = optax.tree.add(s_hat, optax.tree.scale(h[st.j], st.q))
        _, beta, q_next = lanczos_step(st)
        st = st._replace(q_prev=st.q, q=q_next, beta_prev=beta, j=st.j + 1)
        return st, s_hat

    init2 = init._replace(done=jnp.asarray(False))
    _, s_hat = jax.lax.while_loop(lambda c: c[0].j < k, body2, (init2, zeros))
    step = to_hat(s_hat)
    ran = k > 0
    step = optax.tree.where(ran, step, optax.tree.zeros_like(grad))
    return SteihaugResult(
        step=optax.tree.cast_like(step, grad),
        model_decrease=jnp.where(ran, jnp.maximum(-sol.model, 0.0), 0.0).astype(dtype),
        iterations=(2 * k).astype(jnp.int32),
        hit_boundary=ran & sol.on_boundary,
        negative_curvature=ran & sol.negative_curvature,
    )
