# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Preconditioned Steihaug-Toint truncated conjugate gradients for the trust-region subproblem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.compiled import compiled_call
from complexity_optax._src.common.types import PyTree


class SteihaugResult(NamedTuple):
    """Outcome of `steihaug_cg`.

    Attributes:
      step: the step `s`, a pytree like the gradient.
      model_decrease: `m(0) - m(s) = -(g^T s + 1/2 s^T H s) >= 0`.
      iterations: number of Hessian-vector products used (int32).
      hit_boundary: whether `s` lies on the trust-region boundary `||s||_M = radius`.
      negative_curvature: whether a direction with `p^T H p <= 0` (or a non-finite product)
        was met.
    """

    step: PyTree
    model_decrease: jax.Array
    iterations: jax.Array
    hit_boundary: jax.Array
    negative_curvature: jax.Array


class _CGState(NamedTuple):
    s: PyTree  # current iterate
    r: PyTree  # model gradient at s: g + H s
    p: PyTree  # search direction
    rv: jax.Array  # r^T M^{-1} r
    s_m_s: jax.Array  # ||s||_M^2 / radius^2 (scaled, so that no square overflows)
    s_m_p: jax.Array  # s^T M p / radius
    p_m_p: jax.Array  # ||p||_M^2
    decrease: jax.Array  # m(0) - m(s)
    iterations: jax.Array
    done: jax.Array
    hit_boundary: jax.Array
    negative_curvature: jax.Array


def _check_hyperparameters(max_iters: Any, rtol: Any, theta: Any, stop: str) -> None:
    if isinstance(max_iters, int) or not isinstance(max_iters, jax.Array):
        checks.check_int("max_iters", max_iters, minimum=1)
    # Concrete values of any kind are checked (a string is a TypeError naming it); traced ones
    # (the trust-region state under jit) pass.
    checks.check_positive("rtol", rtol, allow_zero=True)
    checks.check_positive("theta", theta, allow_zero=True)
    checks.check_choice("stop", stop, ("residual", "model_gain"))


def _dot(x: PyTree, y: PyTree, dtype: Any) -> jax.Array:
    """$x^\top y$ in `dtype`: an elementwise product summed, leaf by leaf.

    A sum rather than `optax.tree.vdot`'s `jnp.vdot`: XLA fuses an elementwise reduction into the
    loop that produces its operands (the residual update, the HVP's last elementwise op), while a
    dot is a separate library call that needs them written out first (one more pass over n).
    """
    terms = [jnp.sum(a.astype(dtype) * b.astype(dtype))
             for a, b in zip(jax.tree.leaves(x), jax.tree.leaves(y))]
    return sum(terms) if terms else jnp.zeros((), dtype)


def _axpy(x: PyTree, a: jax.Array, y: PyTree) -> PyTree:
    """`x + a y` leaf by leaf, keeping the dtypes of `x`."""
    return jax.tree.map(lambda xi, yi: (xi + a * yi).astype(xi.dtype), x, y)


def boundary_root(s_m_s: jax.Array, s_m_p: jax.Array, p_m_p: jax.Array, radius: jax.Array):
    r"""Positive root `tau` of `||s + tau p||_M = radius` for `||s||_M <= radius`.

    Solves $p_{Mp} \tau^2 + 2 s_{Mp} \tau + (s_{Ms} - \Delta^2) = 0$ for its non-negative
    root, in the cancellation-free form
    $\tau = (\Delta^2 - s_{Ms}) / (s_{Mp} + \sqrt{d})$ when $s_{Mp} \ge 0$ and
    $\tau = (\sqrt{d} - s_{Mp}) / p_{Mp}$ otherwise, with
    $d = s_{Mp}^2 + p_{Mp} (\Delta^2 - s_{Ms})$.

    Examples:
      >>> import jax.numpy as jnp
      >>> float(boundary_root(jnp.array(0.0), jnp.array(0.0), jnp.array(4.0), jnp.array(1.0)))
      0.5

    References:
      Conn, Gould & Toint, "Trust-Region Methods", SIAM 2000, Sec. 7.5.
    """
    gap = jnp.maximum(radius**2 - s_m_s, 0.0)
    sqrt_d = jnp.sqrt(jnp.maximum(s_m_p**2 + p_m_p * gap, 0.0))
    safe = lambda x: jnp.where(x > 0, x, 1.0)
    tau_pos = gap / safe(s_m_p + sqrt_d)
    tau_neg = (sqrt_d - s_m_p) / safe(p_m_p)
    return jnp.where(s_m_p >= 0, tau_pos, tau_neg)


def steihaug_cg(
    hvp_fn: Callable[[PyTree], PyTree],
    grad: PyTree,
    radius: Any,
    *,
    preconditioner: PyTree | None = None,
    max_iters: int = 50,
    rtol: Any = 0.1,
    theta: Any = 0.5,
    stop: str = "residual",
) -> SteihaugResult:
    r"""Approximately solves the trust-region subproblem by preconditioned Steihaug-Toint CG.

    Minimises the quadratic model over the ellipsoid of the diagonal `M`,

    $$
    \min_s\; m(s) = g^\top s + \tfrac12 s^\top H s \quad\text{s.t.}\quad
    \|s\|_M = \sqrt{\textstyle\sum_i M_i s_i^2} \le \Delta,
    $$

    by conjugate gradients preconditioned with the same `M` (Conn, Gould & Toint, Alg. 7.5.1),
    which makes $\|s_k\|_M$ increase monotonically along the iterates. The quantities
    $s_k^\top M p_k$, $p_k^\top M p_k$ and $\|s_k\|_M^2$ follow the
    recurrences (CGT 7.5.5-7.5.7)

    $$
    \|s_k + \alpha p_k\|_M^2 = \|s_k\|_M^2 + 2\alpha\, s_k^\top M p_k + \alpha^2 p_k^\top M p_k,
    \quad s_{k+1}^\top M p_{k+1} = \beta_k (s_k^\top M p_k + \alpha_k p_k^\top M p_k),
    \quad p_{k+1}^\top M p_{k+1} = r_{k+1}^\top M^{-1} r_{k+1} + \beta_k^2 p_k^\top M p_k,
    $$

    so that no extra reductions are needed. The loop stops

    * on non-positive curvature $p^\top H p \le 0$: the step goes to the boundary along
      `p` (positive root of $\|s + \tau p\|_M = \Delta$);
    * when the next iterate would leave the region: the step stops on the boundary (positive
      root);
    * when the Euclidean residual satisfies
      $\|r_k\| \le \|r_0\| \min(\mathrm{rtol}, \|r_0\|^\theta)$ (interior solution);
    * with `stop="model_gain"` instead of the residual test (the authors'
      `precon_stopping_criterion`): when the last iteration added at most
      $\min(\sqrt{\|g\|}, \mathrm{rtol})$ of the model decrease accumulated before it;
    * after `max_iters` Hessian-vector products (current iterate).

    The $M$-norm quantities are kept divided by $\Delta$ ($\|s\|_M^2/\Delta^2$,
    $s^\top M p/\Delta$), so any finite radius works: no $\Delta^2$ is ever formed (a radius
    above $\sqrt{\text{float max}}$ no longer overflows).

    A zero gradient gives the zero step with 0 iterations. A non-finite `p^T H p` stops the
    loop with the current iterate (counted as negative curvature), so the step is never NaN.
    The model decrease is accumulated along the iterations (no extra product).

    This is plain Steihaug CG on $\hat s = M^{1/2} s$, $\hat g = M^{-1/2} g$,
    $\hat H = M^{-1/2} H M^{-1/2}$ with a spherical constraint.

    Args:
      hvp_fn: `v -> H v` on pytrees like `grad`.
      grad: the model gradient `g`.
      radius: the trust-region radius $\Delta > 0$ (finite), in `M`-norm units.
      preconditioner: `None` (identity) or a pytree like `grad` holding the positive diagonal
        `M`.
      max_iters: maximum number of CG iterations (Hessian-vector products), `>= 1`.
      rtol: the forcing constant $\kappa \ge 0$ of the residual test; `0` disables it
        (pure truncation after `max_iters`, or an exactly zero residual).
      theta: the exponent $\theta$ of the residual test.
      stop: `"residual"` (the test above) or `"model_gain"` (the authors' rule).

    Returns:
      A `SteihaugResult`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax import steihaug_cg
      >>> h = jnp.array([2.0, 4.0])                  # H = diag(2, 4)
      >>> res = steihaug_cg(lambda v: h * v, jnp.array([2.0, 4.0]), 10.0, rtol=1e-6)
      >>> res.step.round(4), res.hit_boundary          # the Newton step -H^{-1} g
      (Array([-1., -1.], dtype=float32), Array(False, dtype=bool))

    References:
      Steihaug, "The conjugate gradient method and trust regions in large scale optimization",
      SIAM J. Numer. Anal., 1983; Toint, "Towards an efficient sparsity exploiting Newton method
      for minimization", 1981; Conn, Gould & Toint, "Trust-Region Methods", SIAM 2000, Alg. 7.5.1;
      Kohler, Adolphs & Lucchi, "Adaptive norms for deep learning with regularized Newton
      methods", arXiv:1905.09201.
    """
    _check_hyperparameters(max_iters, rtol, theta, stop)
    # The radius only for its kind and NaN: a state radius that shrank to 0 is the caller's.
    checks.check_real("radius", radius, allow_inf=True, dtype=None)
    leaves = jax.tree.leaves(grad)
    dtype = jnp.result_type(*leaves) if leaves else jnp.float32
    # Cast before the compiled body, as the eager code did: a Python float rounds once.
    radius, rtol, theta = (jnp.asarray(x, dtype) for x in (radius, rtol, theta))
    return compiled_call(lambda *args: _steihaug_cg(hvp_fn, *args, max_iters, stop),
                         grad, radius, preconditioner, rtol, theta)


def _steihaug_cg(hvp_fn, grad, radius, preconditioner, rtol, theta, max_iters, stop):
    """`steihaug_cg` after its checks (one compiled program when called eagerly)."""
    leaves = jax.tree.leaves(grad)
    dtype = jnp.result_type(*leaves) if leaves else jnp.float32
    radius = jnp.asarray(radius, dtype)
    rtol = jnp.asarray(rtol, dtype)
    theta = jnp.asarray(theta, dtype)
    zero = jnp.zeros((), dtype)
    model_gain = stop == "model_gain"

    if preconditioner is None:
        precondition = lambda r: r
    else:
        precondition = lambda r: optax.tree.cast_like(optax.tree.div(r, preconditioner), r)

    v0 = precondition(grad)
    rv0 = _dot(grad, v0, dtype)
    # Without a preconditioner r^T M^{-1} r is r^T r: the Euclidean norm needs no other pass.
    euclidean = (lambda r, rv: jnp.sqrt(jnp.maximum(rv, 0.0))) if preconditioner is None else (
        lambda r, rv: optax.tree.norm(r).astype(dtype))
    r0_norm = euclidean(grad, rv0)
    if model_gain:
        gain_tol = jnp.minimum(jnp.sqrt(r0_norm), rtol)
        tol = zero
    else:
        tol = r0_norm * jnp.minimum(rtol, r0_norm**theta)
    init = _CGState(
        s=optax.tree.zeros_like(grad),
        r=grad,
        p=optax.tree.scale(-1.0, v0),
        rv=rv0,
        s_m_s=zero,
        s_m_p=zero,
        p_m_p=rv0,
        decrease=zero,
        iterations=jnp.zeros((), jnp.int32),
        done=~(r0_norm > tol) | ~jnp.isfinite(rv0),
        hit_boundary=jnp.zeros((), bool),
        negative_curvature=jnp.zeros((), bool),
    )

    def body(st: _CGState) -> _CGState:
        hp = hvp_fn(st.p)
        p_h_p = _dot(st.p, hp, dtype)
        finite = jnp.isfinite(p_h_p)
        nonpositive = finite & (p_h_p <= 0)
        alpha = st.rv / jnp.where(p_h_p > 0, p_h_p, 1.0)
        a = alpha / radius  # alpha in radius units
        s_m_s_next = st.s_m_s + 2 * a * st.s_m_p + a * a * st.p_m_p
        outside = finite & ~nonpositive & ~(s_m_s_next < 1)
        to_boundary = nonpositive | outside
        # Boundary step s + tau p (tau = radius * t); model change -tau r^T v + tau^2/2 p^T H p.
        t = boundary_root(st.s_m_s, st.s_m_p, st.p_m_p, jnp.ones((), dtype))
        tau = t * radius
        tau = jnp.where(jnp.isfinite(tau), tau, 0.0)  # e.g. an infinite radius: stay at s.
        tau_p_h_p = jnp.where(finite, p_h_p, 0.0)
        boundary_decrease = st.decrease + tau * (st.rv - 0.5 * tau * tau_p_h_p)
        # Interior step s + alpha p.
        step = jnp.where(to_boundary, tau, jnp.where(finite, alpha, 0.0))
        s = _axpy(st.s, step, st.p)
        interior_decrease = jnp.where(finite, st.decrease + 0.5 * alpha * st.rv, st.decrease)
        decrease = jnp.where(to_boundary, boundary_decrease, interior_decrease)
        r = _axpy(st.r, alpha, hp)
        v = precondition(r)
        rv = _dot(r, v, dtype)
        beta = rv / jnp.where(st.rv > 0, st.rv, 1.0)
        iterations = st.iterations + 1
        if model_gain:
            gained = decrease - st.decrease
            converged = (st.iterations > 0) & ~(gained > gain_tol * st.decrease)
            converged = converged | ~(rv > 0)
        else:
            converged = ~(euclidean(r, rv) > tol)  # also true for a non-finite residual
        done = to_boundary | ~finite | converged | (iterations >= max_iters)
        return _CGState(
            s=s,
            r=r,
            p=_axpy(optax.tree.scale(-1.0, v), beta, st.p),
            rv=rv,
            s_m_s=jnp.where(to_boundary, jnp.ones((), dtype), s_m_s_next),
            s_m_p=beta * (st.s_m_p + a * st.p_m_p),
            p_m_p=rv + beta**2 * st.p_m_p,
            decrease=decrease,
            iterations=iterations,
            done=done,
            hit_boundary=to_boundary,
            negative_curvature=nonpositive | ~finite,
        )

    final = jax.lax.while_loop(lambda st: ~st.done, body, init)
    return SteihaugResult(
        step=final.s,
        model_decrease=jnp.maximum(final.decrease, 0.0),
        iterations=final.iterations,
        hit_boundary=final.hit_boundary,
        negative_curvature=final.negative_curvature,
    )
