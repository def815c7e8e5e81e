# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Lanczos tridiagonalisation on pytrees, started from a given vector (the gradient).

The Krylov solvers of this package (the ARC subproblem and saddle-free Newton) build an
orthonormal basis $Q_j = [q_1, \dots, q_j]$ of $\mathcal K_j(H, g)$ with $q_1 = g / \|g\|$ and the
tridiagonal $T_j = Q_j^\top H Q_j$, one Hessian-vector product per column. The basis is kept
(stacked along a leading axis of every leaf) and every new vector is re-orthogonalised twice
against it (classical Gram-Schmidt twice), so $T_j$ stays the exact projection in floating point.

Breakdown ($\beta_j$ below the dtype's resolution relative to $\|T_j\|$) means $\mathcal K_j$ is
invariant under $H$: the process stops there and the remaining rows are padding (see
`padded_tridiagonal`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.tree import tree_dot
from complexity_optax._src.common.types import MatVec, PyTree

__all__ = [
    "LanczosState",
    "breakdown_tolerance",
    "combine",
    "lanczos_init",
    "lanczos_step",
    "padded_tridiagonal",
    "padded_tridiagonal_bands",
]


class LanczosState(NamedTuple):
    """The Lanczos process after `size` columns.

    Attributes:
      basis: the stacked basis, each leaf of shape `(max_size, *leaf.shape)`; rows at and after
        `size` are zero.
      alphas: diagonal of $T$, shape `(max_size,)`, zero after `size`.
      betas: `betas[i]` couples columns `i` and `i + 1`; `betas[size - 1]` is the norm of
        the residual after the last column (0 on breakdown).
      size: number of columns computed (int32); also the number of products used.
      broke_down: whether the last residual vanished (the space is invariant).
    """

    basis: PyTree
    alphas: jax.Array
    betas: jax.Array
    size: jax.Array
    broke_down: jax.Array


def _project(basis: PyTree, vector: PyTree) -> jax.Array:
    """`Qᵀ v` for the stacked basis (rows of zeros give zeros)."""
    return sum(
        jnp.tensordot(q, v, axes=v.ndim)
        for q, v in zip(jax.tree.leaves(basis), jax.tree.leaves(vector), strict=False))


def combine(basis: PyTree, coefficients: jax.Array) -> PyTree:
    """`Q c = Σ_i c_i q_i` for the stacked basis."""
    return jax.tree.map(lambda q: jnp.tensordot(coefficients.astype(q.dtype), q, axes=1), basis)


def breakdown_tolerance(dtype: Any, scale: jax.Array) -> jax.Array:
    """A residual below `√n_max·eps·scale`-ish is numerically zero: here `64·eps·scale`."""
    return 64.0 * jnp.finfo(dtype).eps * scale


def lanczos_init(start: PyTree, max_size: int) -> tuple[LanczosState, jax.Array]:
    """The process with `q_1 = start / ‖start‖` and no product yet; also returns `‖start‖`.

    `start` must be nonzero (callers handle a zero gradient themselves); a zero start gives a
    zero basis.
    """
    norm = optax.tree.norm(start)
    dtype = norm.dtype
    safe = jnp.where(norm > 0, norm, 1.0)
    q1 = jax.tree.map(lambda x: x / safe.astype(x.dtype), start)
    basis = jax.tree.map(lambda x: jnp.zeros((max_size,) + x.shape, x.dtype).at[0].set(x), q1)
    state = LanczosState(
        basis=basis,
        alphas=jnp.zeros((max_size,), dtype),
        betas=jnp.zeros((max_size,), dtype),
        size=jnp.zeros((), jnp.int32),
        broke_down=jnp.asarray(False),
    )
    return state, norm


def lanczos_step(matvec: MatVec, state: LanczosState) -> LanczosState:
    """Adds one column: one product `H q_j`, `α_j`, `β_j` and (unless breakdown) `q_{j+1}`."""
    j = state.size
    q = jax.tree.map(lambda b: b[j], state.basis)
    w = matvec(q)
    w = jax.tree.map(lambda x, ref: x.astype(ref.dtype), w, q)
    alpha = tree_dot(q, w).astype(state.alphas.dtype)
    # Classical Gram-Schmidt twice against the whole (zero-padded) basis, q_j included.
    for _ in range(2):
        coefficients = _project(state.basis, w)
        w = jax.tree.map(lambda x, y: x - y, w, combine(state.basis, coefficients))
    beta = optax.tree.norm(w).astype(state.alphas.dtype)
    alphas = state.alphas.at[j].set(alpha)
    scale = jnp.max(jnp.abs(alphas)) + jnp.max(state.betas) + beta
    broke = beta <= breakdown_tolerance(state.alphas.dtype, scale)
    beta = jnp.where(broke, 0.0, beta).astype(state.alphas.dtype)
    safe = jnp.where(broke, 1.0, beta)
    nxt = jax.tree.map(lambda x: jnp.where(broke, 0.0, x / safe.astype(x.dtype)), w)
    basis = jax.tree.map(lambda b, x: b.at[j + 1].set(x, mode="drop"), state.basis, nxt)
    return LanczosState(
        basis=basis,
        alphas=alphas,
        betas=state.betas.at[j].set(beta),
        size=j + 1,
        broke_down=broke,
    )


def padded_tridiagonal_bands(state: LanczosState) -> tuple[jax.Array, jax.Array, jax.Array]:
    """`(diagonal, off_diagonal, valid)` of the padded `T` of `padded_tridiagonal`."""
    max_size = state.alphas.shape[0]
    index = jnp.arange(max_size)
    valid = index < state.size
    off_valid = index + 1 < state.size
    alphas = jnp.where(valid, state.alphas, 0.0)
    offdiag = jnp.where(off_valid, state.betas, 0.0)
    bound = jnp.max(jnp.abs(alphas)) + 2.0 * jnp.max(jnp.abs(offdiag)) + 1.0
    return jnp.where(valid, alphas, 2.0 * bound), offdiag[:-1], valid


def padded_tridiagonal(state: LanczosState) -> tuple[jax.Array, jax.Array]:
    """The dense `(max_size, max_size)` matrix `T` with rows at and after `size` decoupled.

    The padding block is diagonal with a value above the spectrum of the valid block (so it never
    holds the smallest eigenvalue), and is uncoupled from it: a right-hand side supported on the
    valid block gives a solution supported on it. Returns `(T, valid)` with `valid` the mask
    of the computed rows.
    """
    diagonal, offdiag, valid = padded_tridiagonal_bands(state)
    t = jnp.diag(diagonal) + jnp.diag(offdiag, 1) + jnp.diag(offdiag, -1)
    return t, valid


def run_lanczos(
    matvec: MatVec,
    start: PyTree,
    max_size: int,
    stop: Callable[[LanczosState], jax.Array] | None = None,
) -> tuple[LanczosState, jax.Array]:
    """Runs Lanczos until `max_size` columns, breakdown, or `stop(state)` (one `while_loop`).

    Returns the final state and `‖start‖`.
    """
    checks.check_int("max_size", max_size, minimum=1)
    state, norm = lanczos_init(start, max_size)

    def cond(st: LanczosState) -> jax.Array:
        more = (st.size < max_size) & ~st.broke_down & (norm > 0)
        if stop is not None:
            more = more & ((st.size == 0) | ~stop(st))
        return more

    return jax.lax.while_loop(cond, lambda st: lanczos_step(matvec, st), state), norm
