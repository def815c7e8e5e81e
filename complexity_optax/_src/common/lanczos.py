# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""The one Lanczos process of the package, on pytrees: the spectral tools, ARC and
saddle-free Newton.

From a unit start vector $q_1$, column $j$ costs one product and computes

$$
\alpha_j = q_j^\top A q_j,\quad
w = A q_j - \alpha_j q_j - \beta_{j-1} q_{j-1},\quad
w \leftarrow (I - Q_j Q_j^\top) w,\quad
\beta_j = \lVert w\rVert,\quad q_{j+1} = w / \beta_j ,
$$

so $Q^\top A Q = T$ (tridiagonal) with $Q$ orthonormal to working precision. The
reorthogonalisation is the cheap form of full reorthogonalisation: after the three-term
recurrence one block Gram-Schmidt pass against the rows filled so far (swept in chunks of
`CHUNK` rows by a loop whose trip count grows with $j$, so step $j$ reads $j$ rows, not the
whole preallocated basis), and a second pass only when the Daniel-Gragg-Kaufman-Stewart test
sees cancellation ($\|w\|$ dropping by more than $1/\sqrt2$; "twice is enough").

Exhaustion: $\beta_j \le 8\,\epsilon\,\|A\|_{est}$ ($\|A\|_{est} = \max_i \|A q_i\|$) means
$\mathcal K_j$ is invariant under $A$; $\beta_j$ is recorded as 0 and `broke_down` is set. The
solvers (`run_lanczos`: ARC's subproblem, saddle-free Newton) stop there, leaving the
remaining rows zero; the spectral tools pass a `restart` and go on from a pseudo-random vector
orthogonal to $Q_j$.

The basis is stacked leaf-wise along a new leading axis (the user's pytree is never ravelled);
everything runs in the dtype of the start vector's leaves.

References:
  Lanczos, J. Res. Nat. Bur. Standards 45, 1950; Golub & Van Loan, *Matrix Computations*, 4th
  ed., §10.1; Daniel, Gragg, Kaufman & Stewart, Math. Comp. 30, 1976.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.tree import tree_dot
from complexity_optax._src.common.types import MatVec, PyTree

__all__ = [
    "CHUNK",
    "LanczosState",
    "basis_rows",
    "combine",
    "hashed_vector",
    "lanczos_init",
    "lanczos_step",
    "padded_tridiagonal",
    "padded_tridiagonal_bands",
    "project",
    "project_out",
    "run_lanczos",
]

CHUNK = 8  #: basis rows per reorthogonalisation chunk
_DGKS_RATIO = 1.0 / math.sqrt(2.0)
_EXHAUSTED = 8.0  #: β ≤ this · ε · ‖A‖_est is an exhausted Krylov space


class LanczosState(NamedTuple):
    """The process after `size` columns.

    Attributes:
      basis: the stacked basis, each leaf of shape `(basis_rows(max_size), *leaf.shape)`; row
        `size` holds the next vector, later rows are zero.
      alphas: diagonal of $T$, shape `(max_size,)`, zero after `size`.
      betas: `betas[i]` couples columns `i` and `i + 1`; `betas[size - 1]` is the norm of the
        residual after the last column (0 when the space was exhausted).
      size: columns computed (int32), also the number of products used.
      broke_down: whether the last residual vanished (the space is invariant).
      norm_estimate: $\\max_i \\|A q_i\\|$, the scale of the exhaustion test.
      finite: every $\\alpha$ and $\\beta$ so far is finite.
      q: the next vector (row `size` of the basis), carried: the product's input.
    """

    basis: PyTree
    alphas: jax.Array
    betas: jax.Array
    size: jax.Array
    broke_down: jax.Array
    norm_estimate: jax.Array
    finite: jax.Array
    q: PyTree


def basis_rows(max_size: int) -> int:
    """Rows of the preallocated basis: `max_size` rounded up to a multiple of `CHUNK`."""
    return max_size if max_size <= CHUNK else -(-max_size // CHUNK) * CHUNK


def project(basis: PyTree, vector: PyTree) -> jax.Array:
    """`Qᵀ v` for the stacked basis (rows of zeros give zeros)."""
    terms = jax.tree.map(
        lambda q, x: jnp.tensordot(q.reshape(q.shape[0], -1), x.reshape(-1), axes=1),
        basis, vector)
    return sum(jax.tree.leaves(terms))


def combine(basis: PyTree, coefficients: jax.Array, filled: Any = None) -> PyTree:
    """`Q c = Σ_i c_i q_i` for the stacked basis (`c` zero-padded to the basis' rows).

    With `filled` (a traced row count) only the first `filled` rows count: the coefficients
    from there on are taken as zero (row `filled` of a Lanczos basis holds the next vector, not
    a basis vector), and only the chunks of `CHUNK` rows that hold the counted rows are read when
    that is less work: a chunk costs its rows plus two passes for the running sum, so a solve
    that stops after k of its K rows reads about k(1 + 2/CHUNK) rows instead of K, and a full
    basis is one product.
    """
    leaves = jax.tree.leaves(basis)
    if not leaves:  # an empty pytree: an empty combination
        return jax.tree.map(lambda q: q[0], basis)
    rows = leaves[0].shape[0]
    c = jnp.pad(coefficients, (0, rows - coefficients.shape[0]))

    def whole(c):
        return jax.tree.map(lambda q: jnp.tensordot(c.astype(q.dtype), q, axes=1), basis)

    if filled is None:
        return whole(c)
    c = jnp.where(jnp.arange(rows) < filled, c, 0)
    if rows <= CHUNK:
        return whole(c)

    def chunked(c):
        def chunk_sum(i, total):
            ci = jax.lax.dynamic_slice_in_dim(c, i * CHUNK, CHUNK)
            return jax.tree.map(
                lambda t, q: t + jnp.tensordot(ci.astype(q.dtype),
                                               jax.lax.dynamic_slice_in_dim(q, i * CHUNK, CHUNK),
                                               axes=1), total, basis)

        zero = jax.tree.map(lambda q: jnp.zeros(q.shape[1:], q.dtype), basis)
        return jax.lax.fori_loop(0, chunks, chunk_sum, zero)

    chunks = (filled + CHUNK - 1) // CHUNK
    return jax.lax.cond(chunks * (CHUNK + 2) < rows, chunked, whole, c)


def project_out(basis: PyTree, vector: PyTree, filled: Any = None) -> PyTree:
    """`v − Q Qᵀ v`: one block Gram-Schmidt pass against the stacked basis.

    With `filled` (a traced row count) the basis is swept in chunks of `CHUNK` rows by a loop of
    `⌈filled / CHUNK⌉` trips, so only the rows filled so far are read.
    """
    leaves = jax.tree.leaves(basis)
    if not leaves:
        return vector
    rows = leaves[0].shape[0]
    if filled is None or rows <= CHUNK:
        return optax.tree.sub(vector, combine(basis, project(basis, vector)))

    def chunk_pass(i, x):
        chunk = jax.tree.map(lambda q: jax.lax.dynamic_slice_in_dim(q, i * CHUNK, CHUNK), basis)
        return optax.tree.sub(x, combine(chunk, project(chunk, x)))

    return jax.lax.fori_loop(0, (filled + CHUNK - 1) // CHUNK, chunk_pass, vector)


def _project_out_if(condition: Any, basis: PyTree, vector: PyTree, filled: Any) -> PyTree:
    return jax.lax.cond(condition, lambda x: project_out(basis, x, filled), lambda x: x, vector)


def hashed_vector(like: PyTree, salt: Any) -> PyTree:
    """A cheap pseudo-random vector in [−1, 1) (an integer hash of the index and `salt`).

    The restart vector after an exhausted Krylov space, where any vector outside the span will
    do; a few integer operations instead of a full random draw.
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


def lanczos_init(start: PyTree, max_size: int,
                 norm: jax.Array | None = None) -> tuple[LanczosState, jax.Array]:
    """The process with `q_1 = start / ‖start‖` and no product yet; also returns `‖start‖`.

    A caller that has `‖start‖` already passes it as `norm` (no second pass over the vector).
    A zero or non-finite `norm` gives a zero basis (callers handle a zero gradient themselves).
    """
    norm = optax.tree.norm(start) if norm is None else jnp.asarray(norm)
    dtype = norm.dtype
    valid = (norm > 0) & jnp.isfinite(norm)
    safe = jnp.where(valid, norm, 1.0)
    rows = basis_rows(max_size)
    q1 = jax.tree.map(lambda x: jnp.where(valid, x / safe.astype(x.dtype), 0).astype(x.dtype),
                      start)
    basis = jax.tree.map(lambda x: jnp.zeros((rows,) + x.shape, x.dtype).at[0].set(x), q1)
    zero = jnp.zeros((), dtype)
    return LanczosState(basis, jnp.zeros((max_size,), dtype), jnp.zeros((max_size,), dtype),
                        jnp.zeros((), jnp.int32), jnp.asarray(False), zero,
                        jnp.asarray(True), q1), norm


def lanczos_step(matvec: MatVec, state: LanczosState,
                 restart: Callable[[jax.Array], PyTree] | None = None, *,
                 reorthogonalize: bool = True) -> LanczosState:
    r"""Adds column `size` (module docstring): one product, `α`, `β` and the next vector.

    On exhaustion the next vector is zero (`broke_down`), or, with `restart(j) -> vector`, that
    vector made orthogonal to the basis. `reorthogonalize=False` keeps the three-term
    recurrence alone (GLTR's choice for large problems: $O(n)$ per column, like a CG
    iteration, where the passes over the basis cost $O(jn)$). A non-finite product clears
    `finite` and leaves a zero next vector, so the basis never holds NaN. $\|A\|_{est}$
    uses $\|Aq_j\|^2 = \alpha_j^2 + \beta_{j-1}^2 + \beta_j^2$ (no extra pass).
    """
    j = state.size
    dtype = state.alphas.dtype
    q = state.q
    # q_{j-1} is read from its basis row inside the fused update, not carried: a second
    # carried vector cost a copy of it (and one of q) per column inside a loop.
    q_prev = jax.tree.map(lambda b: b[jnp.maximum(j - 1, 0)], state.basis)
    beta_prev = jnp.where(j > 0, state.betas[jnp.maximum(j - 1, 0)], 0.0)
    w = jax.tree.map(lambda x, ref: jnp.asarray(x).astype(ref.dtype), matvec(q), q)
    alpha = tree_dot(q, w, dtype)
    w = jax.tree.map(lambda x, a, b: (x - alpha.astype(x.dtype) * a
                                      - beta_prev.astype(x.dtype) * b).astype(x.dtype),
                     w, q, q_prev)
    if reorthogonalize:
        once = project_out(state.basis, w, j + 1)
        w = _project_out_if(optax.tree.norm(once) < _DGKS_RATIO * optax.tree.norm(w),
                            state.basis, once, j + 1)
    beta = jnp.sqrt(jnp.maximum(tree_dot(w, w, dtype), 0.0))
    norm_estimate = jnp.maximum(state.norm_estimate,
                                jnp.sqrt(alpha * alpha + beta_prev * beta_prev + beta * beta))
    column_finite = jnp.isfinite(alpha) & jnp.isfinite(beta)
    exhausted = column_finite & (beta <= _EXHAUSTED * jnp.finfo(dtype).eps * norm_estimate)
    if restart is None:
        zero_next = exhausted | ~column_finite
        nxt = jax.tree.map(lambda x: jnp.where(zero_next, jnp.zeros_like(x), x), w)
        scale = jnp.where(zero_next, 1.0, beta)
    else:
        fresh = jax.tree.map(lambda x, r: jnp.where(exhausted, r, x), w, restart(j + 1))
        nxt = _project_out_if(exhausted, state.basis,
                              _project_out_if(exhausted, state.basis, fresh, j + 1), j + 1)
        scale = optax.tree.norm(nxt)
    nxt = jax.tree.map(lambda x: x / scale.astype(x.dtype), nxt)
    beta = jnp.where(exhausted, jnp.zeros_like(beta), beta)
    return LanczosState(
        basis=jax.tree.map(lambda b, x: b.at[j + 1].set(x, mode="drop"), state.basis, nxt),
        alphas=state.alphas.at[j].set(alpha),
        betas=state.betas.at[j].set(beta),
        size=j + 1,
        broke_down=exhausted,
        norm_estimate=norm_estimate,
        finite=state.finite & column_finite,
        q=nxt,
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
    holds the smallest eigenvalue) and uncoupled from it: a right-hand side supported on the
    valid block gives a solution supported on it. Returns `(T, valid)`.

    Examples:
      >>> import jax.numpy as jnp
      >>> state, _ = run_lanczos(lambda v: jnp.array([1.0, 2.0, 3.0]) * v, jnp.ones(3), 3)
      >>> t, valid = padded_tridiagonal(state)
      >>> jnp.round(jnp.linalg.eigvalsh(t), 4), int(state.size)
      (Array([1., 2., 3.], dtype=float32), 3)
    """
    diagonal, offdiag, valid = padded_tridiagonal_bands(state)
    return jnp.diag(diagonal) + jnp.diag(offdiag, 1) + jnp.diag(offdiag, -1), valid


def run_lanczos(
    matvec: MatVec,
    start: PyTree,
    max_size: int,
    stop: Callable[[LanczosState], jax.Array] | None = None,
) -> tuple[LanczosState, jax.Array]:
    """Runs Lanczos until `max_size` columns, exhaustion, or `stop(state)` (one `while_loop`).

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
