# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The result of the full-batch regularised-Newton solvers; their statuses are `SolverStatus`.

The codes and messages are those of `minimize_trust_region` (one enumeration,
`complexity_optax._src.common.status`), so the solvers can be compared row by row.
"""

from __future__ import annotations

from typing import NamedTuple

import jax

from complexity_optax._src.common.solver_loop import RUNNING, LoopState
from complexity_optax._src.common.status import SolverStatus, is_successful, status_message
from complexity_optax._src.common.types import PyTree

__all__ = [
    "RUNNING",
    "STATUS_CONVERGED",
    "STATUS_MAX_STEPS",
    "STATUS_NONFINITE",
    "STATUS_NONPOSITIVE_PREDICTED_DECREASE",
    "STATUS_PRECISION_FLOOR",
    "NewtonResult",
]

STATUS_CONVERGED = int(SolverStatus.CONVERGED)
STATUS_MAX_STEPS = int(SolverStatus.MAX_STEPS)
STATUS_NONPOSITIVE_PREDICTED_DECREASE = int(SolverStatus.NONPOSITIVE_PREDICTED_DECREASE)
STATUS_NONFINITE = int(SolverStatus.NONFINITE)
STATUS_PRECISION_FLOOR = int(SolverStatus.PRECISION_FLOOR)


class NewtonResult(NamedTuple):
    r"""Outcome of `minimize_cubic` and `minimize_saddle_free_newton`.

    Attributes:
      params: the last accepted point (finite whenever `x0` is), in the dtype of `x0`.
      value: `fun(params, *args)`, in the solver's precision (float32 for bfloat16/float16
        `x0`, float64 for float64 `x0`).
      grad_norm: Euclidean norm of the gradient at `params` (the solver's precision).
      num_steps: outer iterations (accepted or rejected), int32.
      num_hvps: Hessian-vector products (Lanczos columns), int32.
      num_grads: gradient evaluations, int32: one linearisation per outer iteration (it gives
        the value, the gradient and the HVPs) plus the final one at `params` (the accounting of
        `minimize_trust_region`, `common.solver_loop`).
      num_values: function evaluations, int32: the linearisations, plus per step the trial
        value (`minimize_cubic`) or the damping line search's `num_damping` values
        (`minimize_saddle_free_newton`).
      converged: `status` is `STATUS_CONVERGED` or `STATUS_PRECISION_FLOOR`.
      status: int32, a `SolverStatus`: 0 converged, 1 `max_steps` reached, 2 non-positive
        predicted decrease, 3 non-finite value or gradient at `x0`, 4 precision floor: the
        step that would be taken moves no parameter by more than one unit in the last place
        of its dtype and cannot decrease $f$ (the attainable accuracy of bfloat16 parameters,
        whose gradient never reaches a float32 `gtol`); `message` is its text.
      regularization: the final $\sigma$ (ARC) or the last damping $\lambda$ (saddle-free
        Newton).
      grad: the gradient at `params` (the solver's precision).
      num_accepted: accepted steps, int32.
    """

    params: PyTree
    value: jax.Array
    grad_norm: jax.Array
    num_steps: jax.Array
    num_hvps: jax.Array
    num_grads: jax.Array
    num_values: jax.Array
    converged: jax.Array
    status: jax.Array
    regularization: jax.Array
    grad: PyTree = None
    num_accepted: jax.Array = None

    @classmethod
    def from_loop(cls, final: LoopState, regularization: jax.Array) -> NewtonResult:
        """The result of a `common.solver_loop.run_solver_loop` run."""
        return cls(params=final.params, value=final.value, grad_norm=final.grad_norm,
                   num_steps=final.num_steps, num_hvps=final.num_hvps,
                   num_grads=final.num_grads, num_values=final.num_values,
                   converged=is_successful(final.status), status=final.status,
                   regularization=regularization, grad=final.grad,
                   num_accepted=final.num_accepted)

    @property
    def message(self) -> str:
        """The human message of `status` (`status_message`)."""
        return status_message(int(self.status))
