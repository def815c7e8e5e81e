# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Lanczos tridiagonalisation with full reorthogonalisation, on pytrees, and Ritz pairs.

The Krylov basis is stored leaf-wise: each leaf of the basis has a new leading axis of length
`num_steps`. The user's pytree is never ravelled into one vector and the operator is only used
through `matvec`.
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
from complexity_optax._src.common.types import MatVec
from complexity_optax.landscape.spectral import linear_operator as _linop

_DGKS_RATIO = 1.0 / math.sqrt(2.0)
_CHUNK = 8  # basis rows per reorthogonalisation chunk


class LanczosResult(NamedTuple):
    """The Lanczos tridiagonal `T = tridiag(betas, alphas, betas)` and, optionally, the basis.

    Attributes:
      alphas: diagonal of `T`, shape `(num_steps,)`.
      betas: off-diagonal of `T`, shape `(num_steps - 1,)`; a zero marks an exhausted Krylov
        space, after which the iteration restarted from a fresh orthogonal random vector.
      residual_beta: `β_m = ‖A q_m − α_m q_m − β_{m−1} q_{m−1}‖` after the last step, so that
        `A Q = Q T + β_m q_{m+1} e_mᵀ` (zero if the Krylov space was exhausted).
      basis: `None`, or a pytree like `like` whose leaves have a leading axis `num_steps`:
        the orthonormal Lanczos vectors `q_1, ..., q_m` (`A Q ≈ Q T`).
    """

    alphas: jax.Array
    betas: jax.Array
    residual_beta: jax.Array
    basis: Any = None


class RitzResult(NamedTuple):
    """Ritz approximations to the `k` largest (or smallest) algebraic eigenpairs.

    Attributes:
      eigenvalues: shape `(k,)`, in decreasing order.
      eigenvectors: `None`, or a pytree like `like` whose leaves have a leading axis `k`.
      residuals: shape `(k,)`, measured residuals `‖fl(A y) − θ y‖` plus the product's own
        rounding estimate `√N·ε‖A‖` (see `eigenpairs`).
    """

    eigenvalues: jax.Array
    eigenvectors: Any
    residuals: jax.Array


tree_dimension = tree_lib.tree_dimension


def _float_dtype(like: Any) -> jnp.dtype:
    return jnp.result_type(*[leaf.dtype for leaf in jax.tree.leaves(like)])


def _basis_coefficients(basis: Any, v: Any) -> jax.Array:
    """`Qᵀ v` for a stacked basis `Q` (leading axis) and a vector `v`, leaf by leaf."""
    terms = jax.tree.map(
        lambda q, x: jnp.tensordot(q.reshape(q.shape[0], -1), x.reshape(-1), axes=1), basis, v
    )
    return sum(jax.tree.leaves(terms))


def _basis_combination(basis: Any, coefficients: jax.Array) -> Any:
    """`Q c` for a stacked basis `Q` and coefficients `c` (length of the leading axis)."""
    return jax.tree.map(lambda q: jnp.tensordot(coefficients.astype(q.dtype), q, axes=1), basis)


def _project_out(basis: Any, v: Any, filled: Any = None) -> Any:
    """`v − Q Qᵀ v`: one block Gram-Schmidt pass against the stacked basis `Q`.

    With `filled` (a traced row count) the basis is swept in chunks of `_CHUNK` rows by a
    loop whose trip count is `⌈filled / _CHUNK⌉`, so that step `j` of an `m`-step run reads
    about `j` rows of the basis, not `m` (the basis is padded to a multiple of `_CHUNK`).
    """
    rows = jax.tree.leaves(basis)[0].shape[0]
    if filled is None or rows <= _CHUNK:
        return optax.tree.sub(v, _basis_combination(basis, _basis_coefficients(basis, v)))

    def chunk_pass(i, x):
        chunk = jax.tree.map(
            lambda q: jax.lax.dynamic_slice_in_dim(q, i * _CHUNK, _CHUNK), basis)
        return optax.tree.sub(x, _basis_combination(chunk, _basis_coefficients(chunk, x)))

    return jax.lax.fori_loop(0, (filled + _CHUNK - 1) // _CHUNK, chunk_pass, v)


def _hashed_vector(like: Any, salt: Any) -> Any:
    """A cheap pseudo-random vector in [−1, 1) (an integer hash of the index and `salt`).

    Used only to restart after an exhausted Krylov space, where any vector outside the span
    will do; it compiles to a few integer operations instead of a full random draw.
    """
    leaves, treedef = jax.tree.flatten(like)
    out, offset = [], 0
    for leaf in leaves:
        size = math.prod(leaf.shape)
        h = (jnp.arange(size, dtype=jnp.uint32) + jnp.uint32(offset)) * jnp.uint32(2654435761)
        h = h ^ (jnp.asarray(salt).astype(jnp.uint32) * jnp.uint32(40503) + jnp.uint32(977))
        h = h ^ (h >> 15)
        h = h * jnp.uint32(2246822519)
        h = h ^ (h >> 13)
        unit = (h >> 8).astype(jnp.float32) / jnp.float32(2**24)
        out.append((2.0 * unit - 1.0).reshape(leaf.shape).astype(leaf.dtype))
        offset += size
    return jax.tree.unflatten(treedef, out)


def _project_if(condition: Any, basis: Any, v: Any, filled: Any) -> Any:
    return jax.lax.cond(condition, lambda x: _project_out(basis, x, filled), lambda x: x, v)


def lanczos(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    num_steps: int,
    return_basis: bool = False,
    init_vector: Any = None,
) -> LanczosResult:
    r"""Runs `num_steps` Lanczos steps with full reorthogonalisation.

    From a unit start vector `q_1` (standard normal, normalised, unless `init_vector` is
    given), for `j = 1..m`:

    $$
    \alpha_j = q_j^\top A q_j,\quad
    w = A q_j - \alpha_j q_j - \beta_{j-1} q_{j-1},\quad
    w \leftarrow (I - Q_j Q_j^\top) w,\quad
    \beta_j = \lVert w\rVert,\quad q_{j+1} = w / \beta_j,
    $$

    so that `Qᵀ A Q = T` (tridiagonal) with `Q` orthonormal to working precision (the full
    reorthogonalisation repeats when the Daniel-Gragg-Kaufman-Stewart test detects cancellation,
    ‖w‖ dropping by more than `1/√2`). If `β_j` falls below `100·ε·‖A‖` (the Krylov space
    of `q_1` is exhausted), `β_j` is set to zero and the iteration goes on from a
    pseudo-random unit vector orthogonal to `Q_j`. The loop is a `lax.fori_loop`; the basis is a preallocated
    pytree with a leading axis `num_steps`, swept in chunks so that step `j` reads only the
    `j` rows filled so far. Costs `m` matvecs and `O(m²N)` for the reorthogonalisation.

    Everything runs in the compute dtype (float32 for bfloat16/float16 `like`; `ε` is that
    dtype's epsilon). A non-finite product makes every `alpha` and `beta` NaN.

    Args:
      matvec: a symmetric linear map `v -> A v` on pytrees shaped like `like`.
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) with the shapes and dtypes of `v`
        (`None` when `matvec` is a `LinearOperator`).
      key: a PRNG key (start vector and restarts).
      num_steps: the number of steps `m`, at most the dimension `N` of `like`.
      return_basis: whether to return the basis `Q` (memory `m·N`; it is built either way).
      init_vector: an optional start vector (a pytree like `like`); normalised here.

    Returns:
      A `LanczosResult(alphas, betas, residual_beta, basis)`.

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
    matvec, like = _linop.in_compute_dtype(matvec, like)
    dimension = tree_dimension(like)
    if num_steps > dimension:
        raise ValueError(
            f"num_steps must be at most the dimension of like ({dimension}), got {num_steps}"
        )
    return _linop.compiled_call(
        lambda key, init: _lanczos(matvec, like, key, num_steps, return_basis, init),
        key, init_vector)


def _lanczos(matvec: MatVec, like: Any, key: jax.Array, num_steps: int, return_basis: bool,
             init_vector: Any) -> LanczosResult:
    """`lanczos` after its checks: `matvec` and `like` in the compute dtype."""
    dtype = _float_dtype(like)
    eps = jnp.finfo(dtype).eps
    start_key, restart_key = jax.random.split(key)

    if init_vector is None:
        init_vector = draw_like(start_key, like)
    init_vector = jax.tree.map(lambda x, t: jnp.asarray(x).astype(t.dtype), init_vector, like)
    q0 = optax.tree.scale(1.0 / optax.tree.norm(init_vector), init_vector)
    rows = num_steps if num_steps <= _CHUNK else -(-num_steps // _CHUNK) * _CHUNK
    basis = jax.tree.map(lambda x: jnp.zeros((rows,) + x.shape, x.dtype), like)
    basis = jax.tree.map(lambda b, x: b.at[0].set(x), basis, q0)
    del restart_key

    def step(j, carry):
        basis, alphas, betas, q_prev, beta_prev, norm_estimate, finite = carry
        q = jax.tree.map(lambda b: b[j], basis)
        w = matvec(q)
        w = jax.tree.map(lambda x: jnp.asarray(x).astype(dtype), w)
        norm_estimate = jnp.maximum(norm_estimate, optax.tree.norm(w))
        alpha = optax.tree.vdot(q, w)
        w = optax.tree.add_scale(w, -alpha, q)
        w = optax.tree.add_scale(w, -beta_prev, q_prev)
        once = _project_out(basis, w, j + 1)
        beta_once = optax.tree.norm(once)
        # Daniel-Gragg-Kaufman-Stewart: a second pass only after cancellation ("twice is
        # enough"); after the three-term recurrence the first pass removes only rounding.
        w = _project_if(beta_once < _DGKS_RATIO * optax.tree.norm(w), basis, once, j + 1)
        beta = optax.tree.norm(w)
        finite = finite & jnp.isfinite(alpha) & jnp.isfinite(beta)
        exhausted = beta <= 100.0 * eps * norm_estimate
        # Exhausted Krylov space: go on from a fresh vector orthogonal to the basis.
        fresh = jax.tree.map(lambda x, r: jnp.where(exhausted, r, x), w,
                             _hashed_vector(like, j + 1))
        fresh = _project_if(exhausted, basis, _project_if(exhausted, basis, fresh, j + 1),
                            j + 1)
        next_q = optax.tree.scale(1.0 / optax.tree.norm(fresh), fresh)
        beta = jnp.where(exhausted, jnp.zeros_like(beta), beta)
        # After the last step, row j + 1 is padding or out of range.
        basis = jax.tree.map(lambda b, x: b.at[j + 1].set(x, mode="drop"), basis, next_q)
        alphas = alphas.at[j].set(alpha.astype(dtype))
        betas = betas.at[j].set(beta.astype(dtype))
        return (basis, alphas, betas, q, beta.astype(dtype), norm_estimate.astype(dtype),
                finite)

    init = (
        basis,
        jnp.zeros((num_steps,), dtype),
        jnp.zeros((num_steps,), dtype),
        optax.tree.zeros_like(like),
        jnp.zeros((), dtype),
        jnp.zeros((), dtype),
        jnp.asarray(True),
    )
    basis, alphas, betas, *_, finite = jax.lax.fori_loop(0, num_steps, step, init)
    basis = jax.tree.map(lambda b: b[:num_steps], basis)
    alphas, betas = _linop.nan_unless(finite, (alphas, betas))
    return LanczosResult(
        alphas, betas[: num_steps - 1], betas[num_steps - 1], basis if return_basis else None
    )


def tridiagonal_matrix(alphas: jax.Array, betas: jax.Array) -> jax.Array:
    """The dense symmetric tridiagonal `T` with diagonal `alphas` and off-diagonal `betas`.

    Examples:
      >>> import jax.numpy as jnp
      >>> tridiagonal_matrix(jnp.array([1.0, 2.0]), jnp.array([0.5]))
      Array([[1. , 0.5],
             [0.5, 2. ]], dtype=float32)
    """
    return jnp.diag(alphas) + jnp.diag(betas, 1) + jnp.diag(betas, -1)


def _residual_norms(matvec: MatVec, vectors: Any, values: jax.Array) -> jax.Array:
    """`‖A y_i − θ_i y_i‖` for stacked vectors `y_i` (one fresh matvec each)."""

    def one(args):
        y, theta = args
        return optax.tree.norm(optax.tree.add_scale(matvec(y), -theta, y))

    return jax.lax.map(one, (vectors, values))


def eigenpairs(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    k: int = 1,
    which: str = "largest",
    num_steps: int | None = None,
    return_vectors: bool = False,
) -> RitzResult:
    r"""The `k` largest or smallest (algebraic) eigenpairs of `A` from Lanczos Ritz pairs.

    With $T = Q^\top A Q = S \Theta S^\top$ after $m$ steps, the Ritz pairs are
    $(\theta_i, y_i = Q s_i)$. Both ends of the spectrum converge first (Kaniel–Paige–Saad
    bounds), so one run serves `which="largest"` and `which="smallest"`. The reported
    residual is honest about rounding: each Ritz vector gets one fresh product and

    $$
    r_i = \lVert \mathrm{fl}(A y_i) - \theta_i y_i \rVert + \sqrt{N}\,\varepsilon\,
    \lVert A\rVert ,
    $$

    where $\varepsilon$ is the epsilon of the input dtype and $\sqrt{N}\varepsilon\lVert A\rVert$
    the typical size of the product's own rounding (a normwise bound with random-sign rounding
    errors; $\lVert A\rVert$ is the largest $|\theta|$); the Lanczos bound $\beta_m |s_{mi}|$ alone misses
    that rounding and understates the error of float32 products by orders of magnitude. Costs
    $m + k$ matvecs. Vectors are pytrees with a leading axis `k`, in the input dtypes.

    Args:
      matvec: a symmetric linear map `v -> A v` on pytrees shaped like `like`.
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) with the shapes and dtypes of `v`
        (`None` when `matvec` is a `LinearOperator`).
      key: a PRNG key.
      k: number of eigenpairs.
      which: `"largest"` (decreasing order) or `"smallest"` (increasing order).
      num_steps: Lanczos steps `m` (`k ≤ m ≤ N`; default `min(N, max(2k, 20) + k)`).
      return_vectors: whether to return the Ritz vectors.

    Returns:
      `RitzResult(eigenvalues, eigenvectors, residuals)`; NaN everywhere if a product was not
      finite.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.arange(10.0) - 3.0)
      >>> res = eigenpairs(lambda v: a @ v, jnp.zeros(10), jax.random.key(0), k=2,
      ...                  which="smallest", num_steps=10)
      >>> jnp.round(res.eigenvalues, 4)
      Array([-3., -2.], dtype=float32)

    References:
      Golub & Van Loan, *Matrix Computations*, 4th ed., §10.1; Parlett, *The Symmetric Eigenvalue
      Problem*, SIAM 1998, §13 (residual bounds).
    """
    checks.check_int("k", k, minimum=1)
    checks.check_choice("which", which, ("largest", "smallest"))
    original_like = _linop.template(_linop.resolve_like(matvec, like))
    matvec_c, like_c = _linop.in_compute_dtype(matvec, original_like)
    dimension = tree_dimension(like_c)
    if k > dimension:
        raise ValueError(f"k must be at most the dimension of like ({dimension}), got {k}")
    if num_steps is None:
        num_steps = min(dimension, max(2 * k, 20) + k)
    checks.check_int("num_steps", num_steps, minimum=k)
    if num_steps > dimension:
        raise ValueError(
            f"num_steps must be at most the dimension of like ({dimension}), got {num_steps}"
        )
    rounding_eps = _linop.input_eps(original_like)

    def ritz(key):
        return _eigenpairs(matvec_c, like_c, original_like, key, k, which, num_steps,
                           return_vectors, dimension, rounding_eps)

    return _linop.compiled_call(ritz, key)


def _eigenpairs(matvec_c: MatVec, like_c: Any, original_like: Any, key: jax.Array, k: int,
                which: str, num_steps: int, return_vectors: bool, dimension: int,
                rounding_eps: float) -> RitzResult:
    """`eigenpairs` after its checks (`matvec_c`, `like_c` in the compute dtype)."""
    result = _lanczos(matvec_c, like_c, key, num_steps, True, None)
    tridiagonal = tridiagonal_matrix(result.alphas, result.betas)
    finite = jnp.all(jnp.isfinite(tridiagonal))
    thetas, vectors = jnp.linalg.eigh(jnp.where(finite, tridiagonal, 0.0))
    order = (jnp.argsort(-thetas) if which == "largest" else jnp.argsort(thetas))[:k]
    eigenvalues = thetas[order]
    coefficients = vectors[:, order]  # (num_steps, k)
    ritz = jax.tree.map(lambda q: jnp.tensordot(coefficients.T.astype(q.dtype), q, axes=1),
                        result.basis)
    norm = jnp.max(jnp.abs(thetas))
    rounding = math.sqrt(dimension) * rounding_eps * norm
    residuals = _residual_norms(matvec_c, ritz, eigenvalues) + rounding
    eigenvalues, residuals = _linop.nan_unless(finite, (eigenvalues, residuals))
    eigenvectors = None
    if return_vectors:
        eigenvectors = jax.tree.map(lambda y, t: y.astype(t.dtype), ritz, original_like)
        eigenvectors = _linop.nan_unless(finite, eigenvectors)
    return RitzResult(eigenvalues, eigenvectors, residuals)


def top_eigenvalues(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    k: int = 1,
    num_steps: int | None = None,
    return_vectors: bool = False,
) -> RitzResult:
    """The `k` largest (algebraic) eigenvalues of `A` from Lanczos Ritz values.

    `eigenpairs(..., which="largest")`: see `eigenpairs` for the honest residuals (`m + k`
    matvecs). The extreme Ritz values converge first (Kaniel-Paige-Saad bounds), so `m` of a
    few times `k` (plus a margin for clustered spectra) is usually enough.

    Args:
      matvec: a symmetric linear map `v -> A v` on pytrees shaped like `like`.
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) with the shapes and dtypes of `v`.
      key: a PRNG key.
      k: number of eigenvalues.
      num_steps: Lanczos steps `m` (`k ≤ m ≤ N`; default `min(N, max(2k, 20) + k)`).
      return_vectors: whether to return the Ritz vectors (as a pytree with a leading axis `k`).

    Returns:
      `RitzResult(eigenvalues, eigenvectors, residuals)`; eigenvalues in decreasing order.

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
    return eigenpairs(matvec, like, key, k=k, which="largest", num_steps=num_steps,
                      return_vectors=return_vectors)


def bottom_eigenvalues(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    k: int = 1,
    num_steps: int | None = None,
    return_vectors: bool = False,
) -> RitzResult:
    """The `k` smallest (algebraic) eigenpairs: `eigenpairs(..., which="smallest")`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.arange(10.0) - 5.0)
      >>> res = bottom_eigenvalues(lambda v: a @ v, jnp.zeros(10), jax.random.key(0), k=1,
      ...                          num_steps=10)
      >>> jnp.round(res.eigenvalues, 4)
      Array([-5.], dtype=float32)

    References:
      Golub & Van Loan, *Matrix Computations*, 4th ed., §10.1.
    """
    return eigenpairs(matvec, like, key, k=k, which="smallest", num_steps=num_steps,
                      return_vectors=return_vectors)


__all__ = [
    "LanczosResult",
    "RitzResult",
    "bottom_eigenvalues",
    "eigenpairs",
    "lanczos",
    "top_eigenvalues",
    "tree_dimension",
    "tridiagonal_matrix",
]
