# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""The one outer loop of the full-batch second-order solvers: trust region, ARC, saddle-free
Newton.

`minimize_trust_region`, `minimize_cubic` and `minimize_saddle_free_newton` differ only in their
step (a trust-region step, an ARC step, a damped saddle-free Newton step with its line search);
the iteration around it is this module's, modelled on optimistix's `iterate` (``init`` /
``step`` / ``terminate`` / ``postprocess``):

1. **linearise** at the current point $\theta_k$: one `jax.linearize` of the gradient gives
   $f(\theta_k)$, $g_k$, a reusable $v \mapsto H_k v$ and the auxiliary output;
2. **terminate**: in this order, a non-finite value or gradient (`NONFINITE`), $\|g_k\| \le$
   `gtol` (`CONVERGED`), a status the previous step decided (`pending`: a precision floor, a
   non-positive predicted decrease, xtol/ftol), or `max_steps` attempts (`MAX_STEPS`);
3. **step** (only while running): the method's `attempt` returns the trial point, whether it
   was accepted, the method's next state (radius, $\sigma$ or damping, and its ellipsoid) and
   the products and values it used; an accepted trial point becomes $\theta_{k+1}$.

So every solver pays one linearisation per attempt (the value, the gradient and the HVPs of one
`jax.linearize`) plus its trial values, and stops for the same reasons in the same order, with
one `SolverStatus`; the result's counts mean the same thing for all three. The loop is one
`lax.while_loop`; the caller jits it with the function passed as a pytree
(`common.functions.as_pytree`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common.counters import saturating_add
from complexity_optax._src.common.hvp import value_grad_and_hvp
from complexity_optax._src.common.status import SolverStatus
from complexity_optax._src.common.tree import all_finite
from complexity_optax._src.common.types import MatVec, PyTree

__all__ = ["RUNNING", "Attempt", "Linearisation", "LoopState", "linearise_fn", "run_solver_loop"]

RUNNING = -1  #: the loop's own marker, never a final status


class Linearisation(NamedTuple):
    """$f$, $g$, $v \\mapsto Hv$ and the auxiliary output at one point (one `jax.linearize`)."""

    value: jax.Array
    grad: PyTree
    hvp_fn: MatVec
    aux: Any = None


def linearise_fn(fun: Callable[..., Any], args: tuple, work: Callable[[PyTree], PyTree], *,
                 has_aux: bool = False,
                 hessp: Callable[..., PyTree] | None = None) -> Callable[[PyTree], Linearisation]:
    r"""The solvers' `linearise`: $\theta \mapsto$ `Linearisation` of `fun(work(θ), *args)`.

    One `jax.linearize` of the gradient (`value_grad_and_hvp`) gives the value, the gradient and
    a reusable $v \mapsto Hv$; with a user `hessp(θ, v, *args)` the products are the user's and
    the value and gradient come from one `jax.value_and_grad`. With `has_aux`, `fun` returns
    `(value, aux)`. `work` maps the stored parameters to the solver's arithmetic (float32 for
    bfloat16 parameters).

    Examples:
      >>> import jax.numpy as jnp
      >>> lin = linearise_fn(lambda x, c: jnp.sum(c * x ** 2), (3.0,), lambda p: p)(
      ...     jnp.array([1.0, 2.0]))
      >>> float(lin.value), lin.grad, lin.hvp_fn(jnp.array([1.0, 0.0]))
      (15.0, Array([ 6., 12.], dtype=float32), Array([6., 0.], dtype=float32))
    """
    def linearise(p):
        p = work(p)
        if hessp is None:
            return Linearisation(*value_grad_and_hvp(fun, p, *args, has_aux=has_aux))
        (value, aux), grad = jax.value_and_grad(
            lambda q: fun(q, *args) if has_aux else (fun(q, *args), None), has_aux=True)(p)
        return Linearisation(value, grad, lambda v: hessp(p, v, *args), aux)

    return linearise


class Attempt(NamedTuple):
    """What a method's step returns to the loop.

    Attributes:
      trial: the trial point $\\theta_k + s_k$, in the parameters' dtypes (rounded once).
      accepted: whether it becomes $\\theta_{k+1}$.
      method: the method's next state (a pytree: radius, $\\sigma$ or damping, ellipsoid).
      num_hvps: Hessian-vector products the step used (int32).
      num_values: function values it evaluated without a gradient (int32).
      capped: whether its subproblem solve stopped at its iteration cap (bool).
      pending: a `SolverStatus` this step decided, or `RUNNING`; it becomes final at the next
        linearisation unless the gradient there meets `gtol`.
    """

    trial: PyTree
    accepted: jax.Array
    method: PyTree
    num_hvps: jax.Array
    num_values: jax.Array
    capped: jax.Array
    pending: jax.Array


class LoopState(NamedTuple):
    """The loop's carry, and its final value (the solvers build their results from it)."""

    params: PyTree
    value: jax.Array
    grad: PyTree
    grad_norm: jax.Array
    aux: Any
    method: PyTree
    fresh: jax.Array  #: the point is new (its gradient not yet folded into an ellipsoid)
    num_steps: jax.Array
    num_accepted: jax.Array
    num_values: jax.Array
    num_grads: jax.Array
    num_hvps: jax.Array
    num_capped: jax.Array
    pending: jax.Array
    status: jax.Array


def _head_status(lin_finite, grad_norm, gtol, pending, num_steps, max_steps) -> jax.Array:
    """The `terminate` rule (module docstring, item 2)."""
    return jnp.where(
        ~lin_finite, int(SolverStatus.NONFINITE),
        jnp.where(grad_norm <= gtol, int(SolverStatus.CONVERGED),
                  jnp.where(pending != RUNNING, pending,
                            jnp.where(num_steps >= max_steps, int(SolverStatus.MAX_STEPS),
                                      RUNNING)))).astype(jnp.int32)


def run_solver_loop(
    linearise: Callable[[PyTree], Linearisation],
    attempt: Callable[[PyTree, Linearisation, PyTree, jax.Array], Attempt],
    x0: PyTree,
    method0: PyTree,
    *,
    dtype: Any,
    gtol: jax.Array,
    max_steps: jax.Array,
    report: Callable[[LoopState, Linearisation, jax.Array], None] | None = None,
) -> LoopState:
    r"""Runs a full-batch solver to its status (module docstring).

    Args:
      linearise: $\theta \mapsto$ `Linearisation` at $\theta$ (the caller applies its working
        precision and the fixed `*args`).
      attempt: `(params, lin, method, fresh) -> Attempt`, the method's step at `params`; `fresh`
        says the point is new since the last attempt (fold its gradient into an ellipsoid).
      x0: the start, in the parameters' dtypes.
      method0: the method's initial state.
      dtype: the solver's arithmetic dtype (values and norms).
      gtol: the gradient-norm tolerance.
      max_steps: the attempt limit (int32).
      report: optional `report(state, lin, running)`, called at every linearisation before
        the step (the solvers' `callback`).

    Returns:
      The final `LoopState`: `params` the last accepted point, `value`/`grad`/`aux` its
      linearisation, `status` a `SolverStatus`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> f = lambda x: jnp.sum((x - 1.0) ** 2)
      >>> def linearise(x):
      ...     (g, hvp, v) = jax.linearize(lambda p: (jax.grad(f)(p), f(p)), x, has_aux=True)
      ...     return Linearisation(v, g, hvp)
      >>> def newton(x, lin, method, fresh):          # the exact Newton step of f
      ...     trial = x - lin.grad / 2.0
      ...     zero = jnp.zeros((), jnp.int32)
      ...     return Attempt(trial, jnp.asarray(True), method, zero + 1, zero,
      ...                    jnp.asarray(False), jnp.asarray(RUNNING, jnp.int32))
      >>> out = run_solver_loop(linearise, newton, jnp.zeros(2), (), dtype=jnp.float32,
      ...                       gtol=jnp.float32(1e-6), max_steps=jnp.int32(10))
      >>> out.params, int(out.status), int(out.num_steps), int(out.num_grads)
      (Array([1., 1.], dtype=float32), 0, 1, 2)
    """
    zero = jnp.zeros((), jnp.int32)
    def grad_and_aux(p):
        lin = linearise(p)  # traced once, for the shapes of the carry
        return lin.grad, lin.aux

    grad_shape, aux_shape = jax.eval_shape(grad_and_aux, x0)
    init = LoopState(
        params=x0, value=jnp.zeros((), dtype),
        grad=jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), grad_shape),
        grad_norm=jnp.zeros((), dtype),
        aux=jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), aux_shape),
        method=method0, fresh=jnp.asarray(True), num_steps=zero, num_accepted=zero,
        num_values=zero, num_grads=zero, num_hvps=zero, num_capped=zero,
        pending=jnp.asarray(RUNNING, jnp.int32), status=jnp.asarray(RUNNING, jnp.int32))

    def body(st: LoopState) -> LoopState:
        lin = linearise(st.params)
        value = jnp.asarray(lin.value).astype(dtype)
        grad_norm = optax.tree.norm(lin.grad).astype(dtype)
        finite = jnp.isfinite(value) & all_finite(lin.grad)
        status = _head_status(finite, grad_norm, gtol, st.pending, st.num_steps, max_steps)
        running = status == RUNNING
        if report is not None:
            report(st, lin._replace(value=value), running)

        def step(_):
            out = attempt(st.params, lin._replace(value=value), st.method, st.fresh)
            return out._replace(
                accepted=jnp.asarray(out.accepted, bool),
                num_hvps=jnp.asarray(out.num_hvps, jnp.int32),
                num_values=jnp.asarray(out.num_values, jnp.int32),
                capped=jnp.asarray(out.capped, bool),
                pending=jnp.asarray(out.pending, jnp.int32))

        def stop(_):
            return Attempt(st.params, jnp.asarray(False), st.method, zero, zero,
                           jnp.asarray(False), jnp.asarray(RUNNING, jnp.int32))

        out = jax.lax.cond(running, step, stop, None)
        moved = out.accepted & running
        ran = running.astype(jnp.int32)
        return LoopState(
            params=optax.tree.where(moved, out.trial, st.params),
            value=value, grad=lin.grad, grad_norm=grad_norm, aux=lin.aux,
            method=out.method, fresh=moved,
            num_steps=st.num_steps + ran,
            num_accepted=st.num_accepted + moved.astype(jnp.int32),
            num_values=saturating_add(st.num_values, 1 + out.num_values),
            num_grads=saturating_add(st.num_grads, 1),
            num_hvps=saturating_add(st.num_hvps, out.num_hvps),
            num_capped=st.num_capped + jnp.asarray(out.capped).astype(jnp.int32),
            pending=jnp.asarray(out.pending, jnp.int32),
            status=status)

    return jax.lax.while_loop(lambda st: st.status == RUNNING, body, init)
