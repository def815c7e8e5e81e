# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Why a trust-region solve stopped: one enum and its human messages."""

from __future__ import annotations

import enum

__all__ = ["STATUS_MESSAGES", "SUCCESSFUL_STATUSES", "TrustRegionStatus", "status_message"]


class TrustRegionStatus(enum.IntEnum):
    """`TrustRegionResult.status` of `minimize_trust_region` (an int32 in the result).

    Examples:
      >>> TrustRegionStatus(4).name
      'PRECISION_FLOOR'
    """

    CONVERGED = 0  #: the gradient norm is at most ``gtol``.
    MAX_STEPS = 1  #: ``max_steps`` subproblem solves were used.
    NONPOSITIVE_PREDICTED_DECREASE = 2  #: the model predicted no decrease (a bad model).
    NONFINITE = 3  #: the value or gradient at the starting point is not finite.
    PRECISION_FLOOR = 4  #: no decrease is resolvable in the float type of f and the parameters.
    XTOL = 5  #: an accepted step was at most ``xtol * (xtol + ||params||)``.
    FTOL = 6  #: an accepted step decreased f by at most ``ftol * |f|``.


STATUS_MESSAGES = {
    TrustRegionStatus.CONVERGED: "converged: gradient norm <= gtol",
    TrustRegionStatus.MAX_STEPS: "stopped: max_steps reached",
    TrustRegionStatus.NONPOSITIVE_PREDICTED_DECREASE:
        "stopped: non-positive predicted decrease (the quadratic model is not trustworthy)",
    TrustRegionStatus.NONFINITE: "stopped: non-finite value or gradient at the starting point",
    TrustRegionStatus.PRECISION_FLOOR:
        "stopped: precision floor reached (no decrease resolvable in the float type)",
    TrustRegionStatus.XTOL: "converged: step norm <= xtol * (xtol + ||params||)",
    TrustRegionStatus.FTOL: "converged: decrease <= ftol * |f|",
}

#: Statuses after which ``throw=True`` does not raise.
SUCCESSFUL_STATUSES = frozenset({TrustRegionStatus.CONVERGED, TrustRegionStatus.PRECISION_FLOOR,
                                 TrustRegionStatus.XTOL, TrustRegionStatus.FTOL})


def status_message(status: int) -> str:
    """The human message of a status code.

    Examples:
      >>> status_message(1)
      'stopped: max_steps reached'
    """
    return STATUS_MESSAGES.get(TrustRegionStatus(int(status)), f"unknown status {int(status)}")
