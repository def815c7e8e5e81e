# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Why a trust-region solve stopped: one enum and its human messages."""

from __future__ import annotations

import enum

__all__ = ["STATUS_MESSAGES", "SUCCESSFUL_STATUSES", "TrustRegionStatus", "status_message"]


class TrustRegionStatus(enum.IntEnum):
    r"""`TrustRegionResult.status` of `minimize_trust_region` (an int32 in the result).

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
    of CG, so it ends as `CG_CAPPED`, not converged.

    Examples:
      >>> TrustRegionStatus(4).name
      'PRECISION_FLOOR'
    """

    CONVERGED = 0  #: the gradient norm is at most ``gtol``.
    MAX_STEPS = 1  #: ``max_steps`` subproblem solves were used.
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
    TrustRegionStatus.CG_CAPPED:
        "stopped: the subproblem solver hit max_cg_iters with no resolvable progress "
        "(not converged; raise max_cg_iters)",
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
