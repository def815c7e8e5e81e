# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Lanczos tridiagonalisation with full reorthogonalisation, on pytrees, and Ritz pairs.

The Krylov basis is stored leaf-wise: each leaf of the basis has a new leading axis of length
``num_steps``. The user's pytree is never ravelled into one vector and the operator is only used
through ``matvec``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common import tree as tree_lib
from complexity_optax._src.common.draws import draw_like

from complexity_optax._src.common.types import MatVec  # noqa: E402

_DGKS_RATIO = 1.0 / math.sqrt(2.0)


class LanczosResult(NamedTuple):
    """The Lanczos tridiagonal ``T = tridiag(betas, alphas, betas)`` and, optionally, the basis.

    Attributes:
      alphas: diagonal of ``T``, shape ``(num_steps,)``.
      betas: off-diagonal of ``T``, shape ``(num_steps - 1,)``; a zero marks an exhausted Krylov
        space, after which the iteration restarted from a fresh orthogonal random vector.
      residual_beta: ``β_m = ‖A q_m − α_m q_m − β_{m−1} q_{m−1}‖`` after the last step, so that
        ``A Q = Q T + β_m q_{m+1} e_mᵀ`` (zero if the Krylov space was exhausted).
      basis: ``None``, or a pytree like ``like`` whose leaves have a leading axis ``num_steps``:
        the orthonormal Lanczos vectors ``q_1, ..., q_m`` (``A Q ≈ Q T``).
    """

    alphas: jax.Array
    betas: jax.Array
    residual_beta: jax.Array
    basis: Any = None


class RitzResult(NamedTuple):
    """Ritz approximations to the ``k`` largest (algebraic) eigenpairs.

    Attributes:
      eigenvalues: shape ``(k,)``, in decreasing order.
      eigenvectors: ``None``, or a pytree like ``like`` whose leaves have a leading axis ``k``.
      residuals: shape ``(k,)``, the Lanczos residual bounds ``‖A y - θ y‖ = β_m |s_m|``.
    """

    eigenvalues: jax.Array
    eigenvectors: Any
    residuals: jax.Array


tree_dimension = tree_lib.tree_dimension


def _float_dtype(like: Any) -> jnp.dtype:
    return jnp.result_type(*[leaf.dtype for leaf in jax.tree.leaves(like)])


def _basis_coefficients(basis: Any, v: Any) -> jax.Array:
    """``Qᵀ v`` for a stacked basis ``Q`` (leading axis) and a vector ``v``, leaf by leaf."""
    terms = jax.tree.map(
        lambda q, x: jnp.tensordot(q.reshape(q.shape[0], -1), x.reshape(-1), axes=1), basis, v
    )
    return sum(jax.tree.leaves(terms))


def _basis_combination(basis: Any, coefficients: jax.Array) -> Any:
    """``Q c`` for a stacked basis ``Q`` and coefficients ``c`` (length of the leading axis)."""
    return jax.tree.map(lambda q: jnp.tensordot(coefficients.astype(q.dtype), q, axes=1), basis)


def _project_out(basis: Any, v: Any) -> Any:
    """``v − Q Qᵀ v``: one classical Gram-Schmidt pass against the stacked basis ``Q``."""
    return optax.tree.sub(v, _basis_combination(basis, _basis_coefficients(basis, v)))


def _orthogonalise(basis: Any, v: Any) -> Any:
    """Gram-Schmidt with the Daniel-Gragg-Kaufman-Stewart test for a second pass.

    A second pass ("twice is enough") runs only when the first one removed more than a factor
    ``1/√2`` of the norm, i.e. when cancellation may have spoiled orthogonality; after the
    three-term recurrence the first pass removes only rounding errors, so the second is rare.
    """
    once = _project_out(basis, v)
    cancelled = optax.tree.norm(once) < _DGKS_RATIO * optax.tree.norm(v)
    return jax.lax.cond(cancelled, lambda: _project_out(basis, once), lambda: once)


def lanczos(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    num_steps: int,
    return_basis: bool = False,
    init_vector: Any = None,
) -> LanczosResult:
    r"""Runs ``num_steps`` Lanczos steps with full reorthogonalisation.

    From a unit start vector ``q_1`` (standard normal, normalised, unless ``init_vector`` is
    given), for ``j = 1..m``:

    .. math::
        \alpha_j = q_j^\top A q_j,\quad
        w = A q_j - \alpha_j q_j - \beta_{j-1} q_{j-1},\quad
        w \leftarrow (I - Q_j Q_j^\top) w,\quad
        \beta_j = \lVert w\rVert,\quad q_{j+1} = w / \beta_j,

    so that ``Qᵀ A Q = T`` (tridiagonal) with ``Q`` orthonormal to working precision (the full
    reorthogonalisation repeats when the Daniel-Gragg-Kaufman-Stewart test detects cancellation,
    ‖w‖ dropping by more than ``1/√2``). If ``β_j`` falls below ``100·ε·‖A‖`` (the Krylov space
    of ``q_1`` is exhausted), ``β_j`` is set to zero and the iteration goes on from a random unit
    vector orthogonal to ``Q_j``. The loop is a ``lax.fori_loop``; the basis is a preallocated
    pytree with a leading axis ``num_steps``. Costs ``m`` matvecs and ``O(m²N)`` for the
    reorthogonalisation.

    Args:
      matvec: a symmetric linear map ``v -> A v`` on pytrees shaped like ``like``.
      like: a pytree of arrays (or ``jax.ShapeDtypeStruct``) with the shapes and dtypes of ``v``.
      key: a PRNG key (start vector and restarts).
      num_steps: the number of steps ``m``, at most the dimension ``N`` of ``like``.
      return_basis: whether to return the basis ``Q`` (memory ``m·N``; it is built either way).
      init_vector: an optional start vector (a pytree like ``like``); normalised here.

    Returns:
      A ``LanczosResult(alphas, betas, residual_beta, basis)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.array([3.0, 1.0, -2.0]))
      >>> res = lanczos(lambda v: a @ v, jnp.zeros(3), jax.random.key(0), num_steps=3)
      >>> t = jnp.diag(res.alphas) + jnp.diag(res.betas, 1) + jnp.diag(res.betas, -1)
      >>> jnp.round(jnp.linalg.eigvalsh(t), 4)
      Array([-2.,  1.,  3.], dtype=float32)

    References:
      Lanczos, *An iteration method for the solution of the eigenvalue problem of linear
      differential and integral operators*, J. Res. Nat. Bur. Standards 45, 1950; Golub & Van Loan,
      *Matrix Computations*, 4th ed., §10.1 (complete reorthogonalisation).
    """
    checks.check_int("num_steps", num_steps, minimum=1)
    dimension = tree_dimension(like)
    if num_steps > dimension:
        raise ValueError(
            f"num_steps must be at most the dimension of like ({dimension}), got {num_steps}"
        )
    dtype = _float_dtype(like)
    eps = jnp.finfo(dtype).eps
    start_key, restart_key = jax.random.split(key)

    if init_vector is None:
        init_vector = draw_like(start_key, like)
    init_vector = optax.tree.cast_like(init_vector, optax.tree.zeros_like(like))
    q0 = optax.tree.scale(1.0 / optax.tree.norm(init_vector), init_vector)
    basis = jax.tree.map(lambda x: jnp.zeros((num_steps,) + x.shape, x.dtype), like)
    basis = jax.tree.map(lambda b, x: b.at[0].set(x), basis, q0)

    def step(j, carry):
        basis, alphas, betas, q_prev, beta_prev, norm_estimate = carry
        q = jax.tree.map(lambda b: b[j], basis)
        w = matvec(q)
        norm_estimate = jnp.maximum(norm_estimate, optax.tree.norm(w))
        alpha = optax.tree.vdot(q, w)
        w = optax.tree.add_scale(w, -alpha, q)
        w = optax.tree.add_scale(w, -beta_prev, q_prev)
        w = _orthogonalise(basis, w)
        beta = optax.tree.norm(w)
        exhausted = beta <= 100.0 * eps * norm_estimate
        next_q = jax.lax.cond(
            exhausted,
            lambda: _orthogonalise(
                basis, draw_like(jax.random.fold_in(restart_key, j), like)
            ),
            lambda: w,
        )
        next_q = optax.tree.scale(1.0 / optax.tree.norm(next_q), next_q)
        beta = jnp.where(exhausted, jnp.zeros_like(beta), beta)
        # After the last step, row j + 1 is out of range: the write is dropped.
        basis = jax.tree.map(lambda b, x: b.at[j + 1].set(x, mode="drop"), basis, next_q)
        alphas = alphas.at[j].set(alpha.astype(dtype))
        betas = betas.at[j].set(beta.astype(dtype))
        return basis, alphas, betas, q, beta.astype(dtype), norm_estimate.astype(dtype)

    init = (
        basis,
        jnp.zeros((num_steps,), dtype),
        jnp.zeros((num_steps,), dtype),
        optax.tree.zeros_like(like),
        jnp.zeros((), dtype),
        jnp.zeros((), dtype),
    )
    basis, alphas, betas, *_ = jax.lax.fori_loop(0, num_steps, step, init)
    return LanczosResult(
        alphas, betas[: num_steps - 1], betas[num_steps - 1], basis if return_basis else None
    )


def tridiagonal_matrix(alphas: jax.Array, betas: jax.Array) -> jax.Array:
    """The dense symmetric tridiagonal ``T`` with diagonal ``alphas`` and off-diagonal ``betas``.

    Examples:
      >>> import jax.numpy as jnp
      >>> tridiagonal_matrix(jnp.array([1.0, 2.0]), jnp.array([0.5]))
      Array([[1. , 0.5],
             [0.5, 2. ]], dtype=float32)
    """
    return jnp.diag(alphas) + jnp.diag(betas, 1) + jnp.diag(betas, -1)


def top_eigenvalues(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    k: int = 1,
    num_steps: int | None = None,
    return_vectors: bool = False,
) -> RitzResult:
    r"""The ``k`` largest (algebraic) eigenvalues of ``A`` from Lanczos Ritz values.

    With ``T = Qᵀ A Q = S Θ Sᵀ`` after ``m`` steps, the Ritz pairs are ``(θ_i, Q s_i)``; the
    residual of each is ``‖A Q s_i − θ_i Q s_i‖ = β_m |S_{m i}|`` (Golub & Van Loan, Thm 10.1.1).
    The extreme Ritz values converge first (Kaniel-Paige-Saad bounds), so ``m`` of a few times
    ``k`` (plus a margin for clustered spectra) is usually enough.

    Args:
      matvec: a symmetric linear map ``v -> A v`` on pytrees shaped like ``like``.
      like: a pytree of arrays (or ``jax.ShapeDtypeStruct``) with the shapes and dtypes of ``v``.
      key: a PRNG key.
      k: number of eigenvalues.
      num_steps: Lanczos steps ``m`` (``k ≤ m ≤ N``; default ``min(N, max(2k, 20) + k)``).
      return_vectors: whether to return the Ritz vectors (as a pytree with a leading axis ``k``).

    Returns:
      ``RitzResult(eigenvalues, eigenvectors, residuals)``; eigenvalues in decreasing order.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.arange(10.0))
      >>> matvec = lambda v: a @ v
      >>> res = top_eigenvalues(matvec, jnp.zeros(10), jax.random.key(0), k=2, num_steps=10)
      >>> jnp.round(res.eigenvalues, 4)
      Array([9., 8.], dtype=float32)

    References:
      Golub & Van Loan, *Matrix Computations*, 4th ed., §10.1; Ghorbani, Krishnan & Xiao, *An
      investigation into neural net optimization via Hessian eigenvalue density*, ICML 2019.
    """
    checks.check_int("k", k, minimum=1)
    dimension = tree_dimension(like)
    if k > dimension:
        raise ValueError(f"k must be at most the dimension of like ({dimension}), got {k}")
    if num_steps is None:
        num_steps = min(dimension, max(2 * k, 20) + k)
    checks.check_int("num_steps", num_steps, minimum=k)
    if num_steps > dimension:
        raise ValueError(
            f"num_steps must be at most the dimension of like ({dimension}), got {num_steps}"
        )
    result = lanczos(matvec, like, key, num_steps=num_steps, return_basis=return_vectors)
    thetas, vectors = jnp.linalg.eigh(tridiagonal_matrix(result.alphas, result.betas))
    order = jnp.argsort(-thetas)[:k]
    eigenvalues = thetas[order]
    coefficients = vectors[:, order]  # (num_steps, k)
    residuals = jnp.abs(result.residual_beta * coefficients[-1])
    eigenvectors = None
    if return_vectors:
        eigenvectors = jax.tree.map(
            lambda q: jnp.tensordot(coefficients.T.astype(q.dtype), q, axes=1), result.basis
        )
    return RitzResult(eigenvalues, eigenvectors, residuals)


__all__ = [
    "LanczosResult",
    "RitzResult",
    "lanczos",
    "top_eigenvalues",
    "tridiagonal_matrix",
    "tree_dimension",
]
