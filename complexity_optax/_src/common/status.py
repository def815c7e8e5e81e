# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Why a full-batch second-order solve stopped: one enumeration, its messages, and `throw`.

`minimize_trust_region`, `minimize_cubic` and `minimize_saddle_free_newton` report a
`SolverStatus` (an int32 in their results) with the same codes and the same messages, and all
three take `throw=True`, which raises on an unsuccessful status eagerly and under `jax.jit`
(`check_result`), as optimistix's `throw` does.
"""

from __future__ import annotations

import enum
import functools
import importlib.util
from typing import Any

import jax
import jax.numpy as jnp

from complexity_optax._src.common.checks import is_traced

__all__ = [
    "STATUS_MESSAGES",
    "SUCCESSFUL_STATUSES",
    "SolverStatus",
    "TrustRegionStatus",
    "check_result",
    "is_successful",
    "status_message",
]


class SolverStatus(enum.IntEnum):
    r"""`status` of the full-batch solvers' results (an int32 in the result).

    `PRECISION_FLOOR` is a convergence only because of where it is decided: the step $s$ of a
    subproblem solve that met its own stopping test (not `CG_CAPPED`) and was not limited by the
    radius (interior) either rounds back to $\theta$ or predicts a decrease below the
    resolution $\tau_f = 4\epsilon_f |f|$ of f. The residual test gives
    $\|g + Hs\| \le \kappa \|g\|$ with $\kappa \le$ `cg_rtol` $< 1$, hence

    * rounding back ($|s_i| \le \mathrm{ulp}(\theta_i)/2$):
      $\|g\| \le \|H\|\, \|\mathrm{ulp}(\theta)\| / (2(1 - \kappa))$, the change of the
      gradient over one unit in the last place of the parameters (the gradient cannot be
      made smaller in their dtype);
    * unresolved ($\tfrac12 g^\top H^{-1} g \approx m(0) - m(s) \le \tau_f$ for $H \succ 0$):
      $\|g\| \lesssim \sqrt{2 \lambda_{max}(H) \tau_f}$, the gradient whose Newton decrease
      f cannot resolve.

    A truncated solve (the cap) promises neither bound: its step is only the first iterations
    of CG, so it ends as `CG_CAPPED`, not converged. ARC and saddle-free Newton use codes 0-4
    (their subproblem has no cap that ends a solve, and no `xtol`/`ftol`).

    `TrustRegionStatus` is the same enumeration (its first name).

    Examples:
      >>> SolverStatus(4).name
      'PRECISION_FLOOR'
      >>> TrustRegionStatus is SolverStatus
      True
    """

    CONVERGED = 0  #: the gradient norm is at most ``gtol``.
    MAX_STEPS = 1  #: ``max_steps`` outer iterations (subproblem solves) were used.
    NONPOSITIVE_PREDICTED_DECREASE = 2  #: the model predicted no decrease (a bad model).
    NONFINITE = 3  #: the value or gradient at the starting point is not finite.
    #: No decrease is resolvable in the float type of f and the parameters, and the gradient is
    #: at the floor of that resolution (derived in the class docstring).
    PRECISION_FLOOR = 4
    XTOL = 5  #: an accepted step was at most ``xtol * (xtol + ||params||)``.
    FTOL = 6  #: an accepted step decreased f by at most ``ftol * |f|``.
    #: The subproblem solver hit its iteration cap (``max_cg_iters``) and its truncated step made
    #: no resolvable progress: not converged (raise ``max_cg_iters``).
    CG_CAPPED = 7


TrustRegionStatus = SolverStatus

STATUS_MESSAGES = {
    SolverStatus.CONVERGED: "converged: gradient norm <= gtol",
    SolverStatus.MAX_STEPS: "stopped: max_steps reached",
    SolverStatus.NONPOSITIVE_PREDICTED_DECREASE:
        "stopped: non-positive predicted decrease (the model is not trustworthy)",
    SolverStatus.NONFINITE: "stopped: non-finite value or gradient at the starting point",
    SolverStatus.PRECISION_FLOOR:
        "converged: precision floor reached (no decrease resolvable in the float type)",
    SolverStatus.XTOL: "converged: step norm <= xtol * (xtol + ||params||)",
    SolverStatus.FTOL: "converged: decrease <= ftol * |f|",
    SolverStatus.CG_CAPPED:
        "stopped: the subproblem solver hit max_cg_iters with no resolvable progress "
        "(not converged; raise max_cg_iters)",
}

#: Statuses after which ``throw=True`` does not raise (``converged`` in the results).
SUCCESSFUL_STATUSES = frozenset({SolverStatus.CONVERGED, SolverStatus.PRECISION_FLOOR,
                                 SolverStatus.XTOL, SolverStatus.FTOL})


def status_message(status: int) -> str:
    """The human message of a status code.

    Examples:
      >>> status_message(1)
      'stopped: max_steps reached'
    """
    try:
        return STATUS_MESSAGES[SolverStatus(int(status))]
    except ValueError:
        return f"unknown status {int(status)}"


def is_successful(status: jax.Array) -> jax.Array:
    """Whether `status` (an int array, traced or not) is in `SUCCESSFUL_STATUSES`.

    Examples:
      >>> import jax.numpy as jnp
      >>> is_successful(jnp.array([0, 1, 4, 7]))
      Array([ True, False,  True, False], dtype=bool)
    """
    status = jnp.asarray(status)
    return jnp.isin(status, jnp.asarray(sorted(int(s) for s in SUCCESSFUL_STATUSES),
                                        status.dtype))


def _failure_text(solver: str, status: int, steps: int, value: float, grad_norm: float) -> str:
    return (f"{solver}: {status_message(status)} (after {steps} steps, f = {value}, "
            f"||g|| = {grad_norm})")


def _raise_on_failure(solver, status, steps, value, grad_norm):
    if not bool(is_successful(status)):
        raise RuntimeError(_failure_text(solver, int(status), int(steps), float(value),
                                         float(grad_norm)))


_HAS_EQUINOX = importlib.util.find_spec("equinox") is not None


def check_result(result: Any, solver: str, throw: bool) -> Any:
    r"""`result`, after raising when `throw` is set and its `status` is not successful.

    Eagerly (a concrete status) it raises `RuntimeError` with the message, the number of
    steps, f and $\|g\|$. Under a transformation (`jax.jit`, `vmap`) the check is attached to
    `result.params`, so it runs whenever they are computed: with equinox installed (the
    `equinox`/`optimistix` extras), through `equinox.branched_error_if`, as optimistix's own
    `throw` (an `EQX_ON_ERROR` setting applies); without it, through a `jax.debug.callback`
    that raises the eager message. Either way the caller sees a `RuntimeError` subclass
    (jax's `JaxRuntimeError` carries the message).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import complexity_optax as co
      >>> f = lambda x: jnp.sum((x - 1.0) ** 4)
      >>> solve = jax.jit(lambda x0: co.minimize_trust_region(f, x0, max_steps=1, throw=True))
      >>> try:
      ...     solve(jnp.zeros(2)).params.block_until_ready()
      ... except RuntimeError as error:
      ...     print("raised:", "max_steps reached" in str(error))
      raised: True
    """
    if not throw:
        return result
    status = result.status
    if not is_traced(status):
        _raise_on_failure(solver, status, result.num_steps, result.value, result.grad_norm)
        return result
    failed = ~is_successful(status)
    if _HAS_EQUINOX:
        import equinox as eqx

        messages = [f"{solver}: {status_message(code)}" for code in range(len(SolverStatus))]
        index = jnp.clip(status, 0, len(messages) - 1)
        params = eqx.branched_error_if(result.params, failed, index, messages)
    else:
        jax.debug.callback(functools.partial(_raise_on_failure, solver), status,
                           result.num_steps, result.value, result.grad_norm)
        params = result.params
    return result._replace(params=params)
