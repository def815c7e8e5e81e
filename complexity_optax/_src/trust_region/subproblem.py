# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The one dispatch from `subproblem="steihaug"|"lanczos"` to a trust-region subproblem solver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from complexity_optax._src.common import checks
from complexity_optax._src.trust_region.steihaug import SteihaugResult, steihaug_cg

__all__ = ["SUBPROBLEMS", "check_subproblem", "solve_subproblem"]

SUBPROBLEMS = ("steihaug", "lanczos")


def check_subproblem(subproblem: str) -> None:
    """Raises unless `subproblem` names a solver."""
    checks.check_choice("subproblem", subproblem, SUBPROBLEMS)


def solve_subproblem(
    subproblem: str,
    hvp_fn: Callable[[Any], Any],
    grad: Any,
    radius: Any,
    *,
    preconditioner: Any,
    max_iters: int,
    rtol: Any,
    theta: Any,
    stop: str,
) -> SteihaugResult:
    """Solves $\\min_{\\|s\\|_M \\le \\Delta} g^\\top s + \\frac12 s^\\top H s$ with the named solver."""
    if subproblem == "lanczos":
        from complexity_optax._src.trust_region.lanczos_subproblem import lanczos_subproblem

        return lanczos_subproblem(hvp_fn, grad, radius, preconditioner=preconditioner,
                                  max_iters=max_iters, rtol=rtol, theta=theta)
    return steihaug_cg(hvp_fn, grad, radius, preconditioner=preconditioner, max_iters=max_iters,
                       rtol=rtol, theta=theta, stop=stop)
