# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Bray-Dean theory of critical points of isotropic Gaussian fields (seed: Richemond & Guo §3).

Setting: a Gaussian field φ on R^N with ⟨φ(x)φ(y)⟩ = N f(|x−y|²/(2N)); f0, f1, f2 stand for
f(0), f'(0) < 0 and f''(0) > 0. At any point the Hessian is a GOE matrix whose eigenvalues follow
a Wigner semicircle of radius R = 2√f''(0), shifted by a common (random) mean eigenvalue λ̄.

**Index convention.** α is the fraction of *negative* Hessian eigenvalues, minima sit at low
energy ε = φ/N, and

    α(ε) = F(ε/ε_c),  F(x) = ½ + (1/π)[arcsin x + x√(1−x²)] (clipped),  ε_c = 2|f'(0)|/√f''(0),

so α(−ε_c) = 0 (minima), α(0) = ½, α(ε_c) = 1 (maxima). The seed's eq. (11),
(1/π)arccos(ε/ε_c) − (ε/(πε_c))√(1−(ε/ε_c)²), is the mirror image 1 − α(ε) (the index of −φ);
it is available as :func:`seed_alpha` for comparison only.
"""

from __future__ import annotations

import jax.numpy as jnp


def _float(x):
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


def _wigner_cdf_unit(x):
    """F(x) = ½ + (1/π)[arcsin x + x√(1−x²)], x clipped to [−1, 1]."""
    x = jnp.clip(_float(x), -1.0, 1.0)
    return 0.5 + (jnp.arcsin(x) + x * jnp.sqrt(jnp.maximum(1.0 - x * x, 0.0))) / jnp.pi


def semicircle_density(x, radius):
    """Wigner semicircle density of the given radius R: ρ(x) = 2/(πR²) √(R² − x²) on [−R, R].

    A GOE matrix with off-diagonal variance σ²/N has radius R = 2σ; the Hessian of a Bray-Dean
    field has R = 2√f''(0).

    Args:
      x: points (array-like).
      radius: R > 0 (array-like, broadcast against ``x``).

    Returns:
      ρ(x), zero outside [−R, R].

    Examples:
      >>> round(float(semicircle_density(0.0, 2.0)), 6)  # 1/π
      0.31831

    References:
      Wigner, *On the distribution of the roots of certain symmetric matrices*, Ann. Math. 1958.
    """
    x, r = _float(x), _float(radius)
    return 2.0 / (jnp.pi * r * r) * jnp.sqrt(jnp.maximum(r * r - x * x, 0.0))


def semicircle_cdf(x, radius):
    """Cumulative distribution of the semicircle of radius R.

    P(λ ≤ x) = F(x/R),  F(t) = ½ + (arcsin t + t√(1−t²))/π  for |t| ≤ 1 (0 below, 1 above).

    Args:
      x: points (array-like).
      radius: R > 0.

    Returns:
      P(λ ≤ x): 0 below −R, ½ at 0, 1 above R.

    Examples:
      >>> float(semicircle_cdf(0.0, 2.0)), float(semicircle_cdf(3.0, 2.0))
      (0.5, 1.0)
    """
    return _wigner_cdf_unit(_float(x) / _float(radius))


def alpha_from_mean_eigenvalue(mean_eig, radius):
    """Index α(λ̄): fraction of negative eigenvalues of a semicircle of radius R centred at λ̄.

    α(λ̄) = P(λ̄ + λ_sc < 0) = F(−λ̄/R) = (1/π)[arccos(λ̄/R) − (λ̄/R)√(1 − λ̄²/R²)]  (seed eq. 9,
    R = 2√f''(0)); α = 1 for λ̄ ≤ −R, ½ at λ̄ = 0, 0 for λ̄ ≥ R.

    Args:
      mean_eig: the mean eigenvalue λ̄ (array-like).
      radius: semicircle radius R > 0.

    Returns:
      α in [0, 1].

    Examples:
      >>> float(alpha_from_mean_eigenvalue(0.0, 2.0)), float(alpha_from_mean_eigenvalue(2.0, 2.0))
      (0.5, 0.0)

    References:
      Bray and Dean, PRL 98, 150201 (2007); Richemond and Guo, arXiv:1902.02881, eq. (9).
    """
    return semicircle_cdf(-_float(mean_eig), radius)


def critical_energy_scale(f0, f1, f2):
    """Critical energy density ε_c = 2|f'(0)|/√f''(0) of the Bray-Dean α-ε relation.

    It follows from the energy at fixed mean eigenvalue, ε = (f'(0)/f''(0)) λ̄, and α = F(−λ̄/R)
    with R = 2√f''(0). ``f0`` is accepted for a uniform signature but does not enter.

    Args:
      f0: f(0) (unused).
      f1: f'(0) (negative for a valid covariance).
      f2: f''(0) > 0.

    Returns:
      ε_c > 0.

    Examples:
      >>> float(critical_energy_scale(1.0, -1.0, 1.0))  # f(s) = exp(−s)
      2.0

    References:
      Bray and Dean, PRL 98, 150201 (2007).
    """
    del f0
    return 2.0 * jnp.abs(_float(f1)) / jnp.sqrt(_float(f2))


def index_at_energy_density(eps, eps_c):
    """Most likely index α(ε) at energy density ε (usual convention: minima at low energy).

    α(ε) = ½ + (1/π)[arcsin(ε/ε_c) + (ε/ε_c)√(1−(ε/ε_c)²)], clipped to [0, 1]:
    α(−ε_c) = 0, α(0) = ½, α(ε_c) = 1, increasing, α ∝ (1 + ε/ε_c)^(3/2) near −ε_c.
    ``eps_c`` is the positive scale of :func:`critical_energy_scale` (its absolute value is used).

    Args:
      eps: energy density ε = φ/N (array-like).
      eps_c: ε_c (non-zero).

    Returns:
      α(ε) in [0, 1].

    Examples:
      >>> [float(index_at_energy_density(e, 2.0)) for e in (-2.0, 0.0, 2.0)]
      [0.0, 0.5, 1.0]

    References:
      Bray and Dean, PRL 98, 150201 (2007); Richemond and Guo, arXiv:1902.02881, eq. (11)
      (mirrored there, see :func:`seed_alpha`).
    """
    return _wigner_cdf_unit(_float(eps) / jnp.abs(_float(eps_c)))


def seed_alpha(eps, eps_c):
    """The seed's eq. (11), (1/π)arccos(ε/ε_c) − (ε/(πε_c))√(1−(ε/ε_c)²) = 1 − α(ε).

    This is the mirror image of :func:`index_at_energy_density`: it is the fraction of *positive*
    eigenvalues (the index of −φ), 1 at ε = −ε_c and 0 at ε = ε_c. It is kept only to compare with
    the paper; use :func:`index_at_energy_density` for the index. ``eps_c`` is taken by absolute
    value and ε/ε_c is clipped to [−1, 1].

    Examples:
      >>> float(seed_alpha(-2.0, 2.0)), float(seed_alpha(2.0, 2.0))
      (1.0, 0.0)

    References:
      Richemond and Guo, arXiv:1902.02881, eq. (11).
    """
    x = jnp.clip(_float(eps) / jnp.abs(_float(eps_c)), -1.0, 1.0)
    return (jnp.arccos(x) - x * jnp.sqrt(jnp.maximum(1.0 - x * x, 0.0))) / jnp.pi


def p_n(f0, f1, f2, n=None):
    """Bray-Dean constant P_N = (1 − 2/N) f(0)/f''(0) + f'(0)²/f''(0)² (n=None: the limit P).

    Examples:
      >>> float(p_n(1.0, -1.0, 1.0)), float(p_n(1.0, -1.0, 1.0, n=4))
      (2.0, 1.5)

    References:
      Bray and Dean, PRL 98, 150201 (2007); Richemond and Guo, arXiv:1902.02881, §3.2.
    """
    f0, f1, f2 = _float(f0), _float(f1), _float(f2)
    shrink = 1.0 if n is None else 1.0 - 2.0 / n
    return shrink * f0 / f2 + (f1 / f2) ** 2


def q_n(f0, f1, f2, n=None):
    """Bray-Dean constant Q_N = (1 + 2/N) f(0)/f''(0) − f'(0)²/f''(0)² (n=None: the limit Q).

    Examples:
      >>> float(q_n(2.0, -1.0, 1.0)), float(q_n(2.0, -1.0, 1.0, n=4))
      (1.0, 2.0)

    References:
      Bray and Dean, PRL 98, 150201 (2007); Richemond and Guo, arXiv:1902.02881, §3.2.
    """
    f0, f1, f2 = _float(f0), _float(f1), _float(f2)
    grow = 1.0 if n is None else 1.0 + 2.0 / n
    return grow * f0 / f2 - (f1 / f2) ** 2


def complexity_matrix(f0, f1, p_constant):
    """The 2×2 matrix M of the quadratic complexity, seed eq. (16).

        M = [[1, −f'(0)/f(0)], [−f'(0)/f(0), P/2]].

    Note: expanding the seed's ψ(ε, λ̄) = ε² − 2(f'(0)/f''(0)) ε λ̄ + (P/2) λ̄² (eq. 14) gives the
    off-diagonal −f'(0)/f''(0) instead; that matrix is ``complexity_matrix(f2, f1, p_constant)``.

    Args:
      f0: f(0) > 0.
      f1: f'(0).
      p_constant: the constant P (see :func:`p_n`).

    Returns:
      M as a (2, 2) array.

    Examples:
      >>> complexity_matrix(1.0, -1.0, 2.0).tolist()
      [[1.0, 1.0], [1.0, 1.0]]

    References:
      Richemond and Guo, arXiv:1902.02881, eqs. (14)-(16); Bray and Dean, PRL 98, 150201 (2007).
    """
    f0, f1, p = _float(f0), _float(f1), _float(p_constant)
    off = -f1 / f0
    return jnp.stack([jnp.stack([jnp.ones_like(off), off]), jnp.stack([off, p / 2.0])])


def complexity_quadratic(u, c1, c2, m):
    """Quadratic log-complexity Σ(u) = C_1 − ½ C_2 uᵀ M u with u = (ε, λ̄).

    Args:
      u: array of shape (..., 2), the pairs (energy density ε, mean eigenvalue λ̄).
      c1: constant C_1.
      c2: constant C_2 (Bray-Dean: 1/(f''(0) Q)).
      m: the (2, 2) symmetric matrix of :func:`complexity_matrix`.

    Returns:
      Σ(u), shape (...).

    Examples:
      >>> import jax.numpy as jnp
      >>> float(complexity_quadratic(jnp.array([1.0, 2.0]), 1.0, 2.0, jnp.eye(2)))
      -4.0

    References:
      Richemond and Guo, arXiv:1902.02881, eq. (15); Bray and Dean, PRL 98, 150201 (2007).
    """
    u, m = _float(u), _float(m)
    return _float(c1) - 0.5 * _float(c2) * jnp.einsum("...i,ij,...j->...", u, m, u)


def complexity_gradient(u, c2, m):
    """Exact gradient of :func:`complexity_quadratic` in u: ∇Σ(u) = −C_2 M u (M symmetric).

    The seed's eq. (18) writes ∇Σ = −M u "up to constants", i.e. this with C_2 = 1.

    Args:
      u: array of shape (..., 2).
      c2: constant C_2.
      m: symmetric (2, 2) matrix.

    Returns:
      ∇Σ(u), shape (..., 2).

    Examples:
      >>> import jax.numpy as jnp
      >>> complexity_gradient(jnp.array([1.0, 2.0]), 2.0, jnp.eye(2)).tolist()
      [-2.0, -4.0]

    References:
      Richemond and Guo, arXiv:1902.02881, eq. (18).
    """
    u, m = _float(u), _float(m)
    return -_float(c2) * jnp.einsum("ij,...j->...i", m, u)
