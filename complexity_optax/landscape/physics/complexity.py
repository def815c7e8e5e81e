# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Auffinger-Ben Arous-Cerny complexity of the pure spherical p-spin glass.

Energies are per spin, u = H/N, in the ABC normalisation of `pure_p_spin`
(E[H(σ)H(σ')] = N (σ·σ'/N)^p). With E_∞ = 2√((p−1)/p) (the threshold) and, for u ≤ −E_∞,

    I_1(u) = −(u/E_∞²) √(u² − E_∞²) − log(−u + √(u² − E_∞²)) + log E_∞
           = (2/E_∞²) ∫_{E_∞}^{−u} √(z² − E_∞²) dz,

the mean number of critical points of index k with H ≤ N u grows as exp(N Θ_{k,p}(u)):

    Θ_{k,p}(u) = ½ log(p−1) − (p−2)/(4(p−1)) u² − (k+1) I_1(u)     (u ≤ −E_∞)
               = ½ log(p−1) − (p−2)/p                              (u ≥ −E_∞),

and over all indices Θ_p(u) = ½ log(p−1) − (p−2)/(4(p−1)) min(u, 0)² − I_1(min(u, −E_∞)).
The critical energies E_k solve Θ_{k,p}(−E_k) = 0; E_0 is the ground-state energy and E_k ↓ E_∞.

The formulas are written once over an array module (`numpy` for the float64 root finding of
the constants, `jax.numpy` for the public vectorised functions).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from complexity_optax._src.common import checks
from complexity_optax.landscape.physics import gaussian_field as _gaussian_field


def _check_p(p) -> int:
    checks.check_int("p", p, minimum=2)
    return int(p)


def _check_k(k) -> None:
    if k is not None:
        checks.check_int("k", k, minimum=0)


def _check_u(u) -> None:
    """An energy per spin: any real, ±∞ included (a huge value rounds to ±∞, whose limit is
    right); NaN is a `ValueError`, a non-number a `TypeError`, both naming `u`."""
    checks.check_real("u", u, allow_inf=True, dtype=None)


def threshold_energy(p: int) -> float:
    """Threshold energy E_∞(p) = 2√((p−1)/p) of the pure spherical p-spin (per spin).

    Below −E_∞ the critical points are exponentially dominated by minima; gradient descent and
    low-temperature Langevin dynamics from random starts reach −E_∞ as N → ∞.

    Args:
      p: degree of the interaction, >= 2.

    Returns:
      E_∞(p) as a Python float.

    Examples:
      >>> round(threshold_energy(3), 6)
      1.632993

    References:
      Auffinger, Ben Arous and Cerny, *Random matrices and complexity of spin glasses*, CPAM 2013
      (arXiv:1003.1129); Sellke, *The threshold energy of low temperature Langevin dynamics for
      pure spherical spin glasses*, arXiv:2305.07956.
    """
    p = _check_p(p)
    return 2.0 * math.sqrt((p - 1) / p)


def _i1(u, e_inf, xp):
    """I_1(min(u, −E_∞)): the GOE top-eigenvalue large-deviation rate; 0 for u ≥ −E_∞.

    With x = −u/E_∞ ≥ 1, I_1 = x√(x²−1) − log(x + √(x²−1)), written as
    x√(x−1)√(x+1) − log x − log1p(√(x−1)√(x+1)/x) so that no intermediate overflows before
    x itself does (|u| up to the dtype's largest finite value gives a finite or +inf rate).
    """
    x = -u / e_inf
    positive = x > 1.0
    x = xp.where(positive, x, 2.0)  # NaN-free values and gradients at and above −E_∞.
    s = xp.sqrt(x - 1.0) * xp.sqrt(x + 1.0)  # √(x² − 1)
    return xp.where(positive, x * s - xp.log(x) - xp.log1p(s / x), 0.0)


def _theta(u, p: int, k, xp):
    e_inf = 2.0 * math.sqrt((p - 1) / p)
    c = (p - 2) / (4.0 * (p - 1))
    if k is None:  # All indices (Thm 2.8).
        u0 = xp.minimum(u, 0.0)
        theta = 0.5 * math.log(p - 1) - c * u0 * u0 - _i1(u, e_inf, xp)
    else:
        uu = xp.minimum(u, -e_inf)  # Flat above −E_∞ (Thm 2.5): c E_∞² = (p−2)/p.
        theta = 0.5 * math.log(p - 1) - c * uu * uu - (k + 1) * _i1(u, e_inf, xp)
    # u → −∞: no critical points at all, Θ → −∞ (the formula above would give inf − inf).
    return xp.where(xp.isneginf(u), -xp.inf, theta)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _complexity_jit(u, p: int, k):
    return _theta(u, p, k, jnp)


def complexity(u, p: int, k: int | None = None):
    """ABC annealed complexity Θ_{k,p}(u) of the pure spherical p-spin (k=None: all indices).

    Θ_{k,p}(u) = lim (1/N) log E Crt_{N,k}(u), Crt_{N,k}(u) = #{critical points of index k with
    H ≤ N u}:

        Θ_{k,p}(u) = ½ log(p−1) − (p−2)/(4(p−1)) u² − (k+1) I_1(u)   for u ≤ −E_∞,
                   = ½ log(p−1) − (p−2)/p                            for u ≥ −E_∞ (continuous);
        Θ_p(u)     = ½ log(p−1) − (p−2)/(4(p−1)) u² − I_1(u)         for u ≤ −E_∞,
                   = ½ log(p−1) − (p−2)/(4(p−1)) u²                  for −E_∞ ≤ u ≤ 0,
                   = ½ log(p−1)                                      for u ≥ 0,

    with I_1 as in the module docstring.

    Args:
      u: energy per spin (array-like, any shape; evaluated elementwise). NaN is a `ValueError`
        naming `u`. u → +∞ gives the value at u ≥ 0 (the plateau); u = −∞ gives the exact
        limit Θ = −∞ (no critical points below every energy: log 0), and so does a u so low
        that Θ is below the dtype's range.
      p: degree, >= 2 (static).
      k: index, >= 0, or None for all indices (static).

    Returns:
      A `jax.Array` with the shape of `u`.

    Examples:
      >>> round(float(complexity(-1.65, 3, k=0)), 6)
      0.004254
      >>> round(float(complexity(-1.65, 3, k=1)), 6)
      0.002247

    References:
      Auffinger, Ben Arous and Cerny, *Random matrices and complexity of spin glasses*, CPAM 2013
      (arXiv:1003.1129), Theorems 2.5 and 2.8.
    """
    p = _check_p(p)
    _check_k(k)
    _check_u(u)
    u = jnp.asarray(u)
    if not jnp.issubdtype(u.dtype, jnp.floating):
        u = u.astype(jnp.result_type(float))
    return _complexity_jit(u, p, k)


def critical_energy(p: int, k: int = 0) -> float:
    """Critical energy E_k(p) > E_∞: the zero of the index-k complexity, Θ_{k,p}(−E_k) = 0.

    Below −E_k there are (in expectation) exponentially few critical points of index k; E_0 is
    the ground-state energy and E_k decreases to E_∞ as k grows. For p = 2, E_k = E_∞ = √2.
    Found by float64 bisection (a constant, not a jit path).

    Args:
      p: degree, >= 2.
      k: index, >= 0.

    Returns:
      E_k(p) as a Python float (positive; the energy per spin is −E_k).

    Examples:
      >>> round(critical_energy(3, 1), 6)
      1.652873

    References:
      Auffinger, Ben Arous and Cerny, *Random matrices and complexity of spin glasses*, CPAM 2013
      (arXiv:1003.1129).
    """
    p = _check_p(p)
    checks.check_int("k", k, minimum=0)
    e_inf = threshold_energy(p)
    if p == 2:
        return e_inf

    def theta(e: float) -> float:
        return float(_theta(np.float64(-e), p, k, np))

    lo, hi = e_inf, 2.0 * e_inf  # theta(lo) = plateau > 0 for p >= 3.
    while theta(hi) > 0.0:
        lo, hi = hi, 2.0 * hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if theta(mid) > 0.0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def ground_state_energy(p: int) -> float:
    """Ground-state energy E_0(p) of the pure spherical p-spin: min H/N → −E_0, Θ_{0,p}(−E_0) = 0.

    Args:
      p: degree, >= 2.

    Returns:
      E_0(p) as a Python float.

    Examples:
      >>> round(ground_state_energy(3), 6)
      1.656998

    References:
      Auffinger, Ben Arous and Cerny, CPAM 2013 (arXiv:1003.1129); Subag, *The complexity of
      spherical p-spin models: a second moment approach*, Ann. Probab. 2017.
    """
    return critical_energy(p, 0)


def index_at_energy(u, p: int):
    """Fraction of negative Hessian eigenvalues at a critical point of energy u·N on the sphere.

    At a critical point with H = N u the normalised Riemannian Hessian is a GOE matrix
    (semicircle of radius 2√(p(p−1))) shifted by −p u, so

        α(u) = F(u/E_∞),   F(x) = ½ + (1/π)[arcsin x + x√(1−x²)] clipped to [0, 1]:

    α = 0 (minima) for u ≤ −E_∞, α(0) = ½, α = 1 (maxima) for u ≥ E_∞. This is the spherical
    analogue of the Bray-Dean index-energy relation (`index_at_energy_density`).

    Args:
      u: energy per spin (array-like; ±∞ allowed, NaN is a `ValueError` naming `u`).
      p: degree, >= 2.

    Returns:
      α(u), a `jax.Array` with the shape of `u`.

    Examples:
      >>> float(index_at_energy(0.0, 3))
      0.5
      >>> float(index_at_energy(-threshold_energy(3), 3))
      0.0

    References:
      Auffinger, Ben Arous and Cerny, CPAM 2013 (arXiv:1003.1129); Bray and Dean, *Statistics of
      critical points of Gaussian fields on large-dimensional spaces*, PRL 98, 150201 (2007).
    """
    e_inf = threshold_energy(p)
    _check_u(u)
    return _gaussian_field.semicircle_cdf(u, e_inf)
