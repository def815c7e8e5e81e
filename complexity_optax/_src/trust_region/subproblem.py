# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The one dispatch from `subproblem="steihaug"|"lanczos"` to a trust-region subproblem solver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from complexity_optax._src.common import checks
from complexity_optax._src.trust_region.steihaug import SteihaugResult, steihaug_cg

__all__ = ["SUBPROBLEMS", "check_subproblem", "default_max_iters", "solve_subproblem"]

SUBPROBLEMS = ("steihaug", "lanczos")

#: The Lanczos solver's default Krylov dimension cap (it stores the basis).
LANCZOS_DEFAULT_DIM = 100


def check_subproblem(subproblem: str, max_cg_iters: Any = None) -> None:
    """Raises unless `subproblem` names a solver (and, for `"lanczos"`, unless a given
    `max_cg_iters` is a valid Krylov dimension: at most `MAX_KRYLOV_DIM`, never clamped)."""
    checks.check_choice("subproblem", subproblem, SUBPROBLEMS)
    if subproblem == "lanczos" and max_cg_iters is not None:
        from complexity_optax._src.trust_region.lanczos_subproblem import MAX_KRYLOV_DIM

        if isinstance(max_cg_iters, int) and not isinstance(max_cg_iters, bool) and (
                max_cg_iters > MAX_KRYLOV_DIM):
            raise ValueError(
                f"max_cg_iters must be <= {MAX_KRYLOV_DIM} with subproblem='lanczos' (the "
                f"Krylov basis is stored), got {max_cg_iters}")


def default_max_iters(subproblem: str, n: int, max_cg_iters: int | None) -> int:
    """The iteration cap: `max_cg_iters`, or by default `max(10 n, 100)` CG iterations for
    `"steihaug"` (clamped to int32) and `min(n, 100)` Lanczos steps for `"lanczos"` (a Krylov
    space of dimension n is invariant; the basis is stored, so the default stays small).

    Examples:
      >>> default_max_iters("steihaug", 3, None), default_max_iters("lanczos", 3, None)
      (100, 3)
    """
    if max_cg_iters is not None:
        return max_cg_iters
    if subproblem == "lanczos":
        return int(max(1, min(n, LANCZOS_DEFAULT_DIM)))
    return int(min(max(10 * n, 100), 2**31 - 1))


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
    """Solves $\\min_{\\|s\\|_M \\le \\Delta} g^\\top s + \\frac12 s^\\top H s$ with the named
    solver."""
    if subproblem == "lanczos":
        from complexity_optax._src.trust_region.lanczos_subproblem import lanczos_subproblem

        return lanczos_subproblem(hvp_fn, grad, radius, preconditioner=preconditioner,
                                  max_iters=max_iters, rtol=rtol, theta=theta)
    return steihaug_cg(hvp_fn, grad, radius, preconditioner=preconditioner, max_iters=max_iters,
                       rtol=rtol, theta=theta, stop=stop)
