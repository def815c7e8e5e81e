# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The result and status codes of the full-batch regularised-Newton solvers.

The codes have the meaning (and the values) of `minimize_trust_region`'s, so the solvers can be
compared row by row.
"""

from __future__ import annotations

from typing import NamedTuple

import jax

from complexity_optax._src.common.types import PyTree

__all__ = [
    "STATUS_CONVERGED",
    "STATUS_MAX_STEPS",
    "STATUS_MESSAGES",
    "STATUS_NONFINITE",
    "STATUS_NONPOSITIVE_PREDICTED_DECREASE",
    "STATUS_PRECISION_FLOOR",
    "SUCCESSFUL_STATUSES",
    "NewtonResult",
]

STATUS_CONVERGED = 0  # ||grad|| <= gtol
STATUS_MAX_STEPS = 1  # max_steps outer iterations were used
STATUS_NONPOSITIVE_PREDICTED_DECREASE = 2  # the model predicted no decrease
STATUS_NONFINITE = 3  # the value or gradient at the starting point is not finite
STATUS_PRECISION_FLOOR = 4  # no step is resolvable in the parameters' dtype (a converged state)
RUNNING = -1
#: Statuses reported as `converged`.
SUCCESSFUL_STATUSES = (STATUS_CONVERGED, STATUS_PRECISION_FLOOR)

STATUS_MESSAGES = {
    STATUS_CONVERGED: "converged: gradient norm <= gtol",
    STATUS_MAX_STEPS: "stopped: max_steps reached",
    STATUS_NONPOSITIVE_PREDICTED_DECREASE: "stopped: non-positive predicted decrease",
    STATUS_NONFINITE: "stopped: non-finite value or gradient at the starting point",
    STATUS_PRECISION_FLOOR: "converged: no step is resolvable in the parameters' dtype",
}


class NewtonResult(NamedTuple):
    r"""Outcome of `minimize_cubic` and `minimize_saddle_free_newton`.

    Attributes:
      params: the last accepted point (finite whenever `x0` is), in the dtype of `x0`.
      value: `fun(params, *args)`, in the solver's precision (float32 for bfloat16/float16
        `x0`, float64 for float64 `x0`).
      grad_norm: Euclidean norm of the gradient at `params` (the solver's precision).
      num_steps: outer iterations (accepted or rejected), int32.
      num_hvps: Hessian-vector products (Lanczos columns), int32.
      num_grads: gradient evaluations, int32: one at `x0`, then per outer step one
        linearisation (the point of the HVPs) and one value-and-gradient at the new point.
      num_values: function values without a gradient (forward passes), int32: the damping line
        search of `minimize_saddle_free_newton`; 0 for `minimize_cubic`.
      converged: `status` is `STATUS_CONVERGED` or `STATUS_PRECISION_FLOOR`.
      status: int32; 0 converged, 1 `max_steps` reached, 2 non-positive predicted decrease,
        3 non-finite value or gradient at `x0`, 4 precision floor: the step that would be
        taken moves no parameter by more than one unit in the last place of its dtype and
        cannot decrease $f$ (the attainable accuracy of bfloat16 parameters, whose gradient
        never reaches a float32 `gtol`), see `STATUS_MESSAGES`.
      regularization: the final $\sigma$ (ARC) or the last damping $\lambda$ (saddle-free
        Newton).
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


