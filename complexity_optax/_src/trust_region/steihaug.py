# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Preconditioned Steihaug-Toint truncated conjugate gradients for the trust-region subproblem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.functions import call as compiled_call
from complexity_optax._src.common.tree import tree_dot
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
      capped: whether the solve stopped at its iteration cap `max_iters` with its own stopping
        test unmet (interior, not converged): the step is then a truncated one, not the
        solver's answer (`minimize_trust_region` counts these in `num_cg_capped`).
    """

    step: PyTree
    model_decrease: jax.Array
    iterations: jax.Array
    hit_boundary: jax.Array
    negative_curvature: jax.Array
    capped: Any = False


class _CGState(NamedTuple):
    s: PyTree  # current iterate s_k
    r: PyTree  # model gradient after the interior step: r_{k+1} = g + H (s_k + alpha_k p_k)
    p: PyTree  # search direction p_k
    rv: jax.Array  # r_k^T M^{-1} r_k
    s_m_s: jax.Array  # ||s_k||_M^2 / radius^2 (scaled, so that no square overflows)
    s_m_p: jax.Array  # s_k^T M p_k / radius
    p_m_p: jax.Array  # ||p_k||_M^2
    decrease: jax.Array  # m(0) - m(s_k)
    iterations: jax.Array  # Hessian-vector products so far (k + 1)


class _Decision(NamedTuple):
    """What iteration k makes of `H p_k`: its step along p_k and whether CG stops there."""

    alpha: jax.Array  # r_k^T v_k / p_k^T H p_k
    a: jax.Array  # alpha / radius
    s_m_s_next: jax.Array  # ||s_k + alpha p_k||_M^2 / radius^2
    rv_next: jax.Array  # r_{k+1}^T M^{-1} r_{k+1} after the interior step
    step: jax.Array  # the multiple of p_k added to s_k: the boundary root, alpha, or 0
    decrease: jax.Array  # m(0) - m(s_k + step p_k)
    to_boundary: jax.Array  # negative curvature or leaving the region: stop on the boundary
    finite: jax.Array  # p_k^T H p_k is finite
    nonpositive: jax.Array  # p_k^T H p_k <= 0
    converged: jax.Array  # the stopping test is met after the interior step
    done: jax.Array  # CG stops at iteration k


def _check_hyperparameters(max_iters: Any, rtol: Any, theta: Any, stop: str) -> None:
    if isinstance(max_iters, int) or not isinstance(max_iters, jax.Array):
        checks.check_int("max_iters", max_iters, minimum=1)
    # Concrete values of any kind are checked (a string is a TypeError naming it); traced ones
    # (the trust-region state under jit) pass.
    checks.check_positive("rtol", rtol, allow_zero=True)
    checks.check_positive("theta", theta, allow_zero=True)
    checks.check_choice("stop", stop, ("residual", "model_gain"))


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
    def safe(x):
        return jnp.where(x > 0, x, 1.0)
    tau_pos = gap / safe(s_m_p + sqrt_d)
    tau_neg = (sqrt_d - s_m_p) / safe(p_m_p)
    return jnp.where(s_m_p >= 0, tau_pos, tau_neg)


def check_radius(radius: Any) -> None:
    """Raises unless a concrete `radius` is a finite real number `>= 0` (0: the zero step).

    A traced radius (the trust-region state under jit) passes; the solvers then give the zero
    step for any radius that is not `> 0` (never a step along $+g$).

    Examples:
      >>> check_radius(-1.0)
      Traceback (most recent call last):
      ...
      ValueError: radius must be a finite number >= 0, got -1.0
    """
    checks.check_real("radius", radius, allow_inf=True, dtype=None)  # kind and NaN
    value = checks.concrete_float(radius)
    if value is not None and not (0.0 <= value < float("inf")):
        raise ValueError(f"radius must be a finite number >= 0, got {radius!r}")


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

    A zero gradient gives the zero step with 0 iterations (the first HVP is formed before the
    loop, so it is computed and discarded then). A non-finite `p^T H p` stops the
    loop with the current iterate (counted as negative curvature), so the step is never NaN.
    The model decrease is accumulated along the iterations (no extra product).

    This is plain Steihaug CG on $\hat s = M^{1/2} s$, $\hat g = M^{-1/2} g$,
    $\hat H = M^{-1/2} H M^{-1/2}$ with a spherical constraint.

    Args:
      hvp_fn: `v -> H v` on pytrees like `grad`.
      grad: the model gradient `g`.
      radius: the trust-region radius $\Delta \ge 0$, finite, in `M`-norm units (a concrete
        negative or non-finite one is a `ValueError` naming `radius`; traced, any radius that is
        not $> 0$ gives the zero step, and $+\infty$ the unconstrained CG iterate).
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
    check_radius(radius)
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
        def precondition(r):
            return r
    else:
        def precondition(r):
            return optax.tree.cast_like(optax.tree.div(r, preconditioner), r)

    v0 = precondition(grad)
    rv0 = tree_dot(grad, v0, dtype)
    # Without a preconditioner r^T M^{-1} r is r^T r: the Euclidean norm needs no other pass.
    euclidean = (lambda r, rv: jnp.sqrt(jnp.maximum(rv, 0.0))) if preconditioner is None else (
        lambda r, rv: optax.tree.norm(r).astype(dtype))
    r0_norm = euclidean(grad, rv0)
    if model_gain:
        gain_tol = jnp.minimum(jnp.sqrt(r0_norm), rtol)
        tol = zero
    else:
        tol = r0_norm * jnp.minimum(rtol, r0_norm**theta)
    # The loop is rotated: its state is iteration k carried up to its decision (s_k, p_k, the
    # residual r_{k+1} of the interior step, the scalars), and its body runs only when iteration
    # k goes on. So the last iteration forms no direction p_{k+1} that nobody reads: CG ends
    # with s_k + step p_k. A step that stops at k = 0 (the boundary, common in training) writes
    # p_0, H p_0, r_1 and the step, where the unrotated loop also wrote s_0 = 0, p_1 and a
    # copy of its state. H p_k stays a temporary of the body, so the loop holds s, r and p.
    def iterate(s: PyTree, r: PyTree, p: PyTree, rv, s_m_s, s_m_p, p_m_p, decrease, iterations):
        """Iteration k from (s_k, r_k, p_k): one HVP, then the step and whether CG stops."""
        hp = hvp_fn(p)
        p_h_p = tree_dot(p, hp, dtype)
        finite = jnp.isfinite(p_h_p)
        nonpositive = finite & (p_h_p <= 0)
        alpha = rv / jnp.where(p_h_p > 0, p_h_p, 1.0)
        a = alpha / radius  # alpha in radius units
        s_m_s_next = s_m_s + 2 * a * s_m_p + a * a * p_m_p
        outside = finite & ~nonpositive & ~(s_m_s_next < 1)
        to_boundary = nonpositive | outside
        # Boundary step s + tau p (tau = radius * t); model change -tau r^T v + tau^2/2 p^T H p.
        t = boundary_root(s_m_s, s_m_p, p_m_p, jnp.ones((), dtype))
        tau = t * radius
        tau = jnp.where(jnp.isfinite(tau), tau, 0.0)  # e.g. an infinite radius: stay at s.
        tau_p_h_p = jnp.where(finite, p_h_p, 0.0)
        boundary_decrease = decrease + tau * (rv - 0.5 * tau * tau_p_h_p)
        interior_decrease = jnp.where(finite, decrease + 0.5 * alpha * rv, decrease)
        new_decrease = jnp.where(to_boundary, boundary_decrease, interior_decrease)
        r_next = _axpy(r, alpha, hp)
        rv_next = tree_dot(r_next, precondition(r_next), dtype)
        if model_gain:
            gained = new_decrease - decrease
            converged = (iterations > 1) & ~(gained > gain_tol * decrease)
            converged = converged | ~(rv_next > 0)
        else:
            converged = ~(euclidean(r_next, rv_next) > tol)  # also true for a non-finite one
        state = _CGState(s=s, r=r_next, p=p, rv=rv, s_m_s=s_m_s, s_m_p=s_m_p, p_m_p=p_m_p,
                         decrease=decrease, iterations=iterations)
        decision = _Decision(
            alpha=alpha, a=a, s_m_s_next=s_m_s_next, rv_next=rv_next,
            step=jnp.where(to_boundary, tau, jnp.where(finite, alpha, 0.0)),
            decrease=new_decrease, to_boundary=to_boundary, finite=finite,
            nonpositive=nonpositive, converged=converged,
            done=to_boundary | ~finite | converged | (iterations >= max_iters))
        return state, decision

    def current_iterate(st: _CGState) -> PyTree:
        """s_k: the state's slot, or 0 at k = 0 (the slot then holds the gradient, unread)."""
        return jax.tree.map(lambda s: jnp.where(st.iterations > 1, s, jnp.zeros((), s.dtype)),
                            st.s)

    def body(carry: tuple[_CGState, _Decision]) -> tuple[_CGState, _Decision]:
        st, d = carry  # iteration k goes on: the interior step, then p_{k+1}
        beta = d.rv_next / jnp.where(st.rv > 0, st.rv, 1.0)
        p = _axpy(optax.tree.scale(-1.0, precondition(st.r)), beta, st.p)
        return iterate(s=_axpy(current_iterate(st), d.alpha, st.p), r=st.r, p=p, rv=d.rv_next,
                       s_m_s=d.s_m_s_next, s_m_p=beta * (st.s_m_p + d.a * st.p_m_p),
                       p_m_p=d.rv_next + beta**2 * st.p_m_p, decrease=d.decrease,
                       iterations=st.iterations + 1)

    # A zero (or non-finite) gradient, or a residual already below the tolerance: no iteration.
    # Nor for a radius that is not > 0 (traced: a negative one would give tau < 0, uphill).
    ran = (r0_norm > tol) & jnp.isfinite(rv0) & (radius > 0)
    # s_0 = 0 is not formed: its slot holds the gradient (dead once r_1 and p_0 exist), and
    # `current_iterate` reads 0 there. The benchmark's Rosenbrock step (n = 1e6) holds 5
    # parameter-sized temporaries with the sphere, against 7 for the unrotated loop with s_0.
    first, d0 = iterate(s=grad, r=grad, p=optax.tree.scale(-1.0, v0),
                        rv=rv0, s_m_s=zero, s_m_p=zero, p_m_p=rv0, decrease=zero,
                        iterations=jnp.ones((), jnp.int32))
    final, d = jax.lax.while_loop(lambda c: ~c[1].done, body,
                                  (first, d0._replace(done=d0.done | ~ran)))
    step = jnp.where(ran, d.step, zero)
    moves = step != 0  # (a NaN direction times a zero step would be NaN)
    return SteihaugResult(
        step=jax.tree.map(lambda s, p: jnp.where(moves, (s + step * p).astype(s.dtype), s),
                          current_iterate(final), final.p),
        model_decrease=jnp.where(ran, jnp.maximum(d.decrease, 0.0), zero),
        iterations=jnp.where(ran, final.iterations, 0),
        hit_boundary=ran & d.to_boundary,
        negative_curvature=ran & (d.nonpositive | ~d.finite),
        capped=ran & d.finite & ~d.to_boundary & ~d.converged
        & (final.iterations >= max_iters),
    )
