# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The diagonal share of a matrix's absolute mass, from matrix-vector products.

Kohler, Adolphs & Lucchi (2019, §3.2 and appendix D), after Becker & LeCun (1988), measure how
diagonally dominated a Hessian is by the share of diagonal mass

    δ(A) = Σ_i |A_ii| / Σ_{i,j} |A_ij|   (entrywise absolute values),

and compare it with its value for the expected absolute matrix of two random baselines: a Gaussian
Wigner matrix, `δ(E|W|)`, and an OLS Hessian `XᵀX` with random inputs, `δ(E|XᵀX|)`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common.types import MatVec
from complexity_optax.landscape.spectral import lanczos as _lanczos
from complexity_optax.landscape.spectral import linear_operator as _linop


class DiagonalShare(NamedTuple):
    """The diagonal share `δ = diagonal_mass / total_mass`.

    Attributes:
      share: `Σ_i |A_ii| / Σ_ij |A_ij|` (or its column-sampled ratio estimate).
      diagonal_mass: `Σ_i |A_ii|` (or its unbiased column-sampled estimate).
      total_mass: `Σ_ij |A_ij|` (or its unbiased column-sampled estimate).
    """

    share: jax.Array
    diagonal_mass: jax.Array
    total_mass: jax.Array


def basis_vector_like(index: jax.Array, like: Any) -> Any:
    """The `index`-th standard basis vector `e_index` as a pytree shaped like `like`.

    Scalars are counted leaf by leaf in `jax.tree.leaves` order, row-major inside a leaf; the
    pytree is built leaf-wise (one one-hot per leaf), not by unravelling a flat vector.

    Examples:
      >>> import jax.numpy as jnp
      >>> basis_vector_like(2, {"a": jnp.zeros(2), "b": jnp.zeros(2)})
      {'a': Array([0., 0.], dtype=float32), 'b': Array([1., 0.], dtype=float32)}
    """
    leaves, treedef = jax.tree.flatten(like)
    out, offset = [], 0
    for leaf in leaves:
        size = math.prod(leaf.shape)
        hot = jnp.arange(size) == index - offset
        out.append(hot.astype(leaf.dtype).reshape(leaf.shape))
        offset += size
    return jax.tree.unflatten(treedef, out)


def _column_masses(matvec: MatVec, like: Any, indices: jax.Array, batch_size: int | None):
    """`(|A_jj|, ‖A e_j‖_1)` for each `j` in `indices`: one matvec per column."""

    def masses(index):
        e = basis_vector_like(index, like)
        column = matvec(e)
        return jnp.abs(optax.tree.vdot(e, column)), optax.tree.norm(column, ord=1)

    return jax.lax.map(masses, indices, batch_size=batch_size)


def diagonal_share(
    matvec: MatVec,
    like: Any,
    key: jax.Array | None = None,
    *,
    num_columns: int = 64,
    exact: bool = False,
    batch_size: int | None = None,
) -> DiagonalShare:
    r"""The share of diagonal mass `δ(A) = Σ_i |A_ii| / Σ_ij |A_ij|` of a symmetric `A`.

    `A e_j` is the `j`-th column, so both masses are sums over columns:
    `Σ_i |A_ii| = Σ_j |(A e_j)_j|` and `Σ_ij |A_ij| = Σ_j ‖A e_j‖_1`.

    * `exact=True`: all `N` columns (`N` matvecs, `O(N)` memory; for small `N`).
    * `exact=False`: `m = num_columns` columns `J` drawn uniformly without replacement.
      For any per-column quantity `c_j`, `E[(N/m) Σ_{j∈J} c_j] = Σ_j c_j` (each column is in
      `J` with probability `m/N`), so both masses are estimated without bias, and the share is
      the ratio estimator `Σ_J |A_jj| / Σ_J ‖A e_j‖_1`: consistent, exact when `m = N`, with
      relative error `O(CV/√m)` where CV is the coefficient of variation of the column masses
      (and a finite-population factor `√(1 − m/N)`). Entrywise absolute values are not linear
      in `A`, so no probe-vector (Hutchinson-type) estimator of `Σ|A_ij|` exists; and
      `Σ_i |\hat d_i|` with a Hutchinson diagonal estimate `\hat d` is biased upwards.

    Args:
      matvec: a linear map `v -> A v` on pytrees shaped like `like` (e.g. an HVP).
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) with the shapes and dtypes of `v`
        (`None` when `matvec` is a `LinearOperator`).
      key: a PRNG key (required unless `exact`).
      num_columns: sampled columns `m` (`1 ≤ m ≤ N`; ignored when `exact`).
      exact: use all `N` columns.
      batch_size: columns evaluated together with `vmap` (`None`: one at a time).

    Returns:
      `DiagonalShare(share, diagonal_mass, total_mass)`.

    Examples:
      >>> import jax.numpy as jnp
      >>> a = jnp.array([[2.0, -1.0], [-1.0, 2.0]])
      >>> round(float(diagonal_share(lambda v: a @ v, jnp.zeros(2), exact=True).share), 4)
      0.6667

    References:
      Kohler, Adolphs & Lucchi, *Adaptive norms for deep learning with regularized Newton
      methods*, arXiv:1905.09201, 2019, §3.2; Becker & LeCun, *Improving the convergence of
      back-propagation learning with second order methods*, 1988.
    """
    like = _linop.template(_linop.resolve_like(matvec, like))
    dimension = _lanczos.tree_dimension(like)
    if batch_size is not None:
        checks.check_int("batch_size", batch_size, minimum=1)
    if not exact:
        checks.check_int("num_columns", num_columns, minimum=1)
        if num_columns > dimension:
            raise ValueError(
                f"num_columns must be at most the dimension of like ({dimension}), "
                f"got {num_columns}"
            )
        if key is None:
            raise ValueError("key must be a PRNG key when exact=False, got None")

    def share(key):
        if exact:
            indices = jnp.arange(dimension)
            scale = 1.0
        else:
            indices = jax.random.choice(key, dimension, (num_columns,), replace=False)
            scale = dimension / num_columns
        diagonal, total = _column_masses(matvec, like, indices, batch_size)
        diagonal_mass, total_mass = jnp.sum(diagonal), jnp.sum(total)
        return DiagonalShare(diagonal_mass / total_mass, scale * diagonal_mass,
                             scale * total_mass)

    return _linop.compiled_call(share, None if exact else key)  # exact: the key is unused


def wigner_diagonal_share(
    dimension: int, *, diagonal_std: float = math.sqrt(2.0), off_diagonal_std: float = 1.0
) -> float:
    r"""`δ(E|W|)` for an `n × n` Gaussian Wigner matrix (exact, every `n`).

    With `W_ii ~ N(0, σ_d²)` and `W_ij = W_ji ~ N(0, σ_o²)` and `E|N(0, σ²)| = σ√(2/π)`:

    $$
    \delta(\mathbb{E}|W|) = \frac{n\,\sigma_d}{n\,\sigma_d + n(n-1)\,\sigma_o}
    = \frac{\sigma_d}{\sigma_d + (n-1)\,\sigma_o},
    $$

    which is `1/n` when `σ_d = σ_o`; the default `σ_d = √2 σ_o` is the GOE (any overall
    scale cancels). For large `n` the share of a single draw concentrates on this value.

    Examples:
      >>> wigner_diagonal_share(4, diagonal_std=1.0)
      0.25

    References:
      Kohler, Adolphs & Lucchi, arXiv:1905.09201, 2019, Proposition 1.
    """
    checks.check_int("dimension", dimension, minimum=1)
    checks.check_positive("diagonal_std", diagonal_std)
    checks.check_positive("off_diagonal_std", off_diagonal_std)
    return diagonal_std / (diagonal_std + (dimension - 1) * off_diagonal_std)


def ols_diagonal_share(num_features: int, num_examples: int, *, gaussian: bool = True) -> float:
    r"""`δ(E|XᵀX|)` for an OLS Hessian with `X ∈ R^{n×d}` of i.i.d. zero-mean entries.

    `E|(XᵀX)_ii| = n σ²`. Off the diagonal, `(XᵀX)_ij = Σ_k x_ki x_kj`:

    * `gaussian=True` (exact for Gaussian `X`, every `n`): given column `j`, the sum is
      `N(0, σ² ‖x_j‖²)`, so `E|(XᵀX)_ij| = σ√(2/π) E‖x_j‖ = σ² c_n` with
      `c_n = (2/√π) Γ((n+1)/2) / Γ(n/2)` (`c_1 = 2/π`);
    * `gaussian=False` (any finite-variance law; asymptotic in `n`, the seed's
      Proposition 2): by the central limit theorem `c_n ≈ √(2n/π)`.

    $$
    \delta(\mathbb{E}|X^\top X|) = \frac{n}{n + (d-1)\,c_n}
    \;\xrightarrow{\;n\to\infty\;}\; \frac{1}{1 + (d-1)\sqrt{2/(\pi n)}}.
    $$

    Args:
      num_features: `d`, the number of parameters (the Hessian is `d × d`).
      num_examples: `n`, the number of data points (batch size).
      gaussian: exact Gaussian value (`True`) or the large-`n` asymptotic (`False`).

    Examples:
      >>> round(ols_diagonal_share(2, 1), 6)  # 1 / (1 + 2/π)
      0.611015

    References:
      Kohler, Adolphs & Lucchi, arXiv:1905.09201, 2019, Proposition 2 and appendix D.2.
    """
    checks.check_int("num_features", num_features, minimum=1)
    checks.check_int("num_examples", num_examples, minimum=1)
    n = num_examples
    if gaussian:
        c = 2.0 / math.sqrt(math.pi) * math.exp(math.lgamma((n + 1) / 2) - math.lgamma(n / 2))
    else:
        c = math.sqrt(2.0 * n / math.pi)
    return n / (n + (num_features - 1) * c)


__all__ = [
    "DiagonalShare",
    "basis_vector_like",
    "diagonal_share",
    "ols_diagonal_share",
    "wigner_diagonal_share",
]
