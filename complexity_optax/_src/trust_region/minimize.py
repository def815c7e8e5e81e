# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Full-batch (deterministic) ellipsoidal trust-region minimisation with Steihaug-Toint CG."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.trust_region.ellipsoids import Ellipsoid, get_ellipsoid
from complexity_optax._src.trust_region.hvp import value_grad_and_hvp
from complexity_optax._src.trust_region.rule import all_finite, update_radius
from complexity_optax._src.trust_region.steihaug import steihaug_cg

from complexity_optax._src.common.types import PyTree  # noqa: E402

#: ``status`` codes of :class:`TrustRegionResult`.
STATUS_CONVERGED = 0  # ||grad|| <= gtol
STATUS_MAX_STEPS = 1  # max_steps outer iterations were used
STATUS_NONPOSITIVE_PREDICTED_DECREASE = 2  # the subproblem predicted no decrease (m(s) >= m(0))
STATUS_NONFINITE = 3  # the value or gradient at the starting point is not finite
_RUNNING = -1

STATUS_MESSAGES = {
    STATUS_CONVERGED: "converged: gradient norm <= gtol",
    STATUS_MAX_STEPS: "stopped: max_steps reached",
    STATUS_NONPOSITIVE_PREDICTED_DECREASE: "stopped: non-positive predicted decrease",
    STATUS_NONFINITE: "stopped: non-finite value or gradient at the starting point",
}


class TrustRegionResult(NamedTuple):
    """Outcome of :func:`minimize_trust_region`.

    Attributes:
      params: the last accepted point (finite whenever ``x0`` is).
      value: ``fun(params, *args)``.
      grad_norm: Euclidean norm of the gradient at ``params``.
      num_steps: outer iterations (subproblem solves, accepted or rejected), int32.
      num_hvps: Hessian-vector products used by CG, int32 (the authors' backprop count).
      num_grads: gradient evaluations, int32: one at ``x0``, one linearisation per outer step
        and one value-and-gradient evaluation per trial point.
      converged: ``status == STATUS_CONVERGED``.
      status: int32; 0 converged (``grad_norm <= gtol``), 1 ``max_steps`` reached, 2
        non-positive predicted decrease, 3 non-finite value or gradient at ``x0``
        (see ``STATUS_MESSAGES``).
      radius: the final trust-region radius (in the ellipsoid's norm).
    """

    params: PyTree
    value: jax.Array
    grad_norm: jax.Array
    num_steps: jax.Array
    num_hvps: jax.Array
    num_grads: jax.Array
    converged: jax.Array
    status: jax.Array
    radius: jax.Array


class _Hyper(NamedTuple):
    initial_radius: Any
    max_radius: Any
    eta1: Any
    eta2: Any
    increase: Any
    decrease: Any
    shrink_below: Any
    max_steps: Any
    gtol: Any
    max_cg_iters: Any
    cg_rtol: Any
    cg_theta: Any


class _LoopState(NamedTuple):
    params: PyTree
    value: jax.Array
    grad: PyTree
    grad_norm: jax.Array
    ellipsoid_state: PyTree
    radius: jax.Array
    num_steps: jax.Array
    num_hvps: jax.Array
    num_grads: jax.Array
    status: jax.Array


_INT_FIELDS = ("max_steps", "max_cg_iters")


def _validate(h: _Hyper) -> None:
    checks.check_positive("initial_radius", h.initial_radius)
    checks.check_positive("max_radius", h.max_radius)
    if h.initial_radius > h.max_radius:
        raise ValueError(
            f"initial_radius must be <= max_radius={h.max_radius}, got {h.initial_radius}"
        )
    checks.check_in_interval("eta1", h.eta1, 0.0, 1.0, high_inclusive=False)
    checks.check_in_interval("eta2", h.eta2, 0.0, 1.0, high_inclusive=False)
    if h.eta1 > h.eta2:
        raise ValueError(f"eta1 must be <= eta2={h.eta2}, got {h.eta1}")
    checks.check_positive("increase", h.increase)
    if h.increase <= 1:
        raise ValueError(f"increase must be > 1, got {h.increase}")
    checks.check_in_interval(
        "decrease", h.decrease, 0.0, 1.0, low_inclusive=False, high_inclusive=False
    )
    checks.check_in_interval("shrink_below", h.shrink_below, 0.0, h.eta2)
    checks.check_int("max_steps", h.max_steps, minimum=1)
    checks.check_positive("gtol", h.gtol, allow_zero=True)
    checks.check_int("max_cg_iters", h.max_cg_iters, minimum=1)
    checks.check_in_interval("cg_rtol", h.cg_rtol, 0.0, 1.0, low_inclusive=False,
                             high_inclusive=False)
    checks.check_positive("cg_theta", h.cg_theta, allow_zero=True)


def minimize_trust_region(
    fun: Callable[..., jax.Array],
    x0: PyTree,
    *args: Any,
    ellipsoid: Ellipsoid | str = "identity",
    initial_radius: float = 1.0,
    max_radius: float = 1e3,
    eta1: float = 0.15,
    eta2: float = 0.75,
    increase: float = 2.0,
    decrease: float = 0.25,
    shrink_below: float = 0.25,
    max_steps: int | None = None,
    gtol: float = 1e-5,
    max_cg_iters: int | None = None,
    cg_rtol: float = 0.5,
    cg_theta: float = 0.5,
) -> TrustRegionResult:
    r"""Minimises a smooth function by an (ellipsoidal) trust-region Newton-CG method.

    At the iterate :math:`\theta_k` with gradient :math:`g_k`, exact Hessian products
    :math:`H_k v` and the diagonal :math:`A_k` of the ellipsoid, a step solves approximately

    .. math::
        \min_s\; m_k(s) = f(\theta_k) + g_k^\top s + \tfrac12 s^\top H_k s
        \quad\text{s.t.}\quad \|s\|_{A_k} \le \Delta_k

    by preconditioned Steihaug-Toint CG (:func:`steihaug_cg`, forcing term
    :math:`\|r\| \le \|g\| \min(\text{cg\_rtol}, \|g\|^{\text{cg\_theta}})`), then

    .. math::
        \rho_k = \frac{f(\theta_k) - f(\theta_k + s)}{m_k(0) - m_k(s)},\qquad
        \theta_{k+1} = \theta_k + s \text{ if } \rho_k \ge \eta_1 \text{ else } \theta_k,

    and the radius is updated by the rule of Nocedal & Wright's Algorithm 4.1 (scipy's
    ``trust-ncg`` with its defaults): :math:`\Delta \leftarrow \text{decrease}\cdot\Delta` if
    :math:`\rho < \max(\eta_1, \text{shrink\_below})` (always on rejection; with
    ``shrink_below=0`` only on rejection, as in the authors' code);
    :math:`\Delta \leftarrow \min(\text{increase}\cdot\Delta, \Delta_{\max})` if
    :math:`\rho \ge \eta_2` and ``s`` is on the boundary; unchanged otherwise. With the
    defaults this is scipy's ``minimize(method="trust-ncg")`` (which accepts on
    :math:`\rho > \eta` rather than :math:`\ge`), so step counts are comparable.

    A non-finite value or gradient at the trial point makes :math:`\rho = -\infty`: the step is
    rejected and the radius shrinks. A non-positive predicted decrease ends the solve (status
    2), as does a non-finite start (status 3). The ellipsoid is updated with each new gradient
    (at ``x0`` and at every accepted point), then its diagonal shapes the next solves; a
    rejected step does not feed the same gradient twice. Started exactly at a stationary point
    (:math:`g = 0`, a saddle included) the solve returns at once with status 0: Steihaug CG
    needs a nonzero gradient to find a negative-curvature direction.

    Per outer step: one :func:`value_grad_and_hvp` linearisation at the current point, the CG
    products on it, and one value-and-gradient evaluation at the trial point (reused when the
    step is accepted). The whole solve is one ``lax.while_loop`` inside one ``jax.jit``,
    compiled once per ``fun``, ellipsoid, and argument shapes/dtypes (pass the same ``fun``
    object to reuse the compilation; hyperparameters are traced, not static).

    Args:
      fun: scalar function ``fun(params, *args)``, twice differentiable.
      x0: starting point, any pytree of float arrays.
      *args: extra arguments of ``fun`` (held fixed).
      ellipsoid: an :class:`Ellipsoid` or ``"identity"``, ``"rmsprop"``, ``"adam"``,
        ``"adagrad"``. The radii are in the ellipsoid's norm.
      initial_radius: :math:`\Delta_0`, in ``(0, max_radius]``.
      max_radius: :math:`\Delta_{\max} > 0`.
      eta1: acceptance threshold :math:`\eta_1 \in [0, 1)`.
      eta2: growth threshold :math:`\eta_2 \in [\eta_1, 1)`.
      increase: growth factor ``> 1``.
      decrease: shrink factor in ``(0, 1)``.
      shrink_below: the radius also shrinks for accepted steps with
        :math:`\rho <` ``shrink_below`` (scipy: 0.25), in ``[0, eta2]``.
      max_steps: maximum outer iterations, ``>= 1``; default ``200 * n`` (scipy's ``maxiter``)
        with ``n`` the number of parameters.
      gtol: stop when :math:`\|g\| \le` ``gtol``, ``>= 0``.
      max_cg_iters: CG iterations (Hessian-vector products) per step, ``>= 1``; default
        ``min(2 n, 1000)`` (scipy: unbounded; the authors' default ``2 n``).
      cg_rtol: forcing constant of CG in ``(0, 1)`` (scipy's trust-ncg: 0.5; the authors: 0.1).
      cg_theta: forcing exponent of CG (0.5 in both).

    Returns:
      A :class:`TrustRegionResult`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax import minimize_trust_region
      >>> def rosen(x):
      ...     return jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
      >>> res = minimize_trust_region(rosen, jnp.array([-1.2, 1.0]), gtol=1e-4)
      >>> bool(res.converged), res.params.round(3)
      (True, Array([1., 1.], dtype=float32))

    References:
      Kohler, Adolphs & Lucchi, "Adaptive norms for deep learning with regularized Newton
      methods", arXiv:1905.09201; Nocedal & Wright, "Numerical Optimization", 2nd ed., 2006,
      Alg. 4.1 and 7.2; Conn, Gould & Toint, "Trust-Region Methods", SIAM 2000.
    """
    ell = get_ellipsoid(ellipsoid)
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {fun!r}")
    n = optax.tree.size(x0)
    if n == 0:
        raise ValueError("x0 must hold at least one parameter")
    hyper = _Hyper(
        initial_radius=initial_radius,
        max_radius=max_radius,
        eta1=eta1,
        eta2=eta2,
        increase=increase,
        decrease=decrease,
        shrink_below=shrink_below,
        max_steps=200 * n if max_steps is None else max_steps,
        gtol=gtol,
        max_cg_iters=min(2 * n, 1000) if max_cg_iters is None else max_cg_iters,
        cg_rtol=cg_rtol,
        cg_theta=cg_theta,
    )
    _validate(hyper)
    # Fixed Python kinds, so that e.g. radius 1 vs 1.0 does not change the traced dtypes.
    hyper = _Hyper(*(int(v) if k in _INT_FIELDS else float(v) for k, v in hyper._asdict().items()))
    x0 = jax.tree.map(jnp.asarray, x0)
    return _solve(fun, ell, x0, args, hyper)


def _solve_impl(
    fun: Callable[..., jax.Array], ell: Ellipsoid, x0: PyTree, args: tuple, h: _Hyper
) -> TrustRegionResult:
    leaves = jax.tree.leaves(x0)
    dtype = jnp.result_type(*leaves)
    f = lambda v: jnp.asarray(v, dtype)
    max_steps = jnp.asarray(h.max_steps, jnp.int32)
    max_cg_iters = jnp.asarray(h.max_cg_iters, jnp.int32)
    value_and_grad = jax.value_and_grad(fun)

    def status_after(value, grad_norm, grad, num_steps):
        finite = jnp.isfinite(value) & all_finite(grad)
        return jnp.where(
            ~finite,
            STATUS_NONFINITE,
            jnp.where(
                grad_norm <= f(h.gtol),
                STATUS_CONVERGED,
                jnp.where(num_steps >= max_steps, STATUS_MAX_STEPS, _RUNNING),
            ),
        ).astype(jnp.int32)

    value0, grad0 = value_and_grad(x0, *args)
    grad_norm0 = optax.tree.norm(grad0).astype(dtype)
    ell_state0 = ell.update(grad0, ell.init(x0))
    zero = jnp.zeros((), jnp.int32)
    init = _LoopState(
        params=x0,
        value=value0,
        grad=grad0,
        grad_norm=grad_norm0,
        ellipsoid_state=ell_state0,
        radius=f(h.initial_radius),
        num_steps=zero,
        num_hvps=zero,
        num_grads=jnp.ones((), jnp.int32),
        status=status_after(value0, grad_norm0, grad0, zero),
    )

    def body(st: _LoopState) -> _LoopState:
        _, _, hvp_fn = value_grad_and_hvp(fun, st.params, *args)
        precond = ell.diagonal(st.ellipsoid_state)  # None for the sphere (identity)
        sub = steihaug_cg(
            hvp_fn,
            st.grad,
            st.radius,
            preconditioner=precond,
            max_iters=max_cg_iters,
            rtol=h.cg_rtol,
            theta=h.cg_theta,
        )
        predicted = sub.model_decrease
        trial = jax.tree.map(lambda x, s: (x + s).astype(x.dtype), st.params, sub.step)
        trial_value, trial_grad = value_and_grad(trial, *args)
        trial_finite = jnp.isfinite(trial_value) & all_finite(trial_grad)
        actual = st.value - trial_value
        safe_predicted = jnp.where(predicted > 0, predicted, 1.0)
        rho = jnp.where(trial_finite, actual / safe_predicted, -jnp.inf)
        rho = jnp.where(jnp.isnan(rho), -jnp.inf, rho)
        accept = (rho >= f(h.eta1)) & (predicted > 0)
        radius = update_radius(
            st.radius, rho, sub.hit_boundary, eta1=f(h.eta1), eta2=f(h.eta2),
            increase=f(h.increase), decrease=f(h.decrease), max_radius=f(h.max_radius),
            shrink_below=f(h.shrink_below), grow_on_boundary_only=True,
        )
        params = optax.tree.where(accept, trial, st.params)
        value = jnp.where(accept, trial_value, st.value)
        grad = optax.tree.where(accept, trial_grad, st.grad)
        grad_norm = jnp.where(accept, optax.tree.norm(trial_grad).astype(dtype), st.grad_norm)
        ell_state = optax.tree.where(
            accept, ell.update(trial_grad, st.ellipsoid_state), st.ellipsoid_state
        )
        num_steps = st.num_steps + 1
        status = status_after(value, grad_norm, grad, num_steps)
        status = jnp.where(
            ~(predicted > 0), STATUS_NONPOSITIVE_PREDICTED_DECREASE, status
        ).astype(jnp.int32)
        return _LoopState(
            params=params,
            value=value,
            grad=grad,
            grad_norm=grad_norm,
            ellipsoid_state=ell_state,
            radius=jnp.where(~(predicted > 0), st.radius, radius),
            num_steps=num_steps,
            num_hvps=st.num_hvps + sub.iterations,
            num_grads=st.num_grads + 2,
            status=status,
        )

    final = jax.lax.while_loop(lambda st: st.status == _RUNNING, body, init)
    return TrustRegionResult(
        params=final.params,
        value=final.value,
        grad_norm=final.grad_norm,
        num_steps=final.num_steps,
        num_hvps=final.num_hvps,
        num_grads=final.num_grads,
        converged=final.status == STATUS_CONVERGED,
        status=final.status,
        radius=final.radius,
    )


_solve = jax.jit(_solve_impl, static_argnums=(0, 1))
