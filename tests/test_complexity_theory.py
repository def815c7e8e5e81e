# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Tests for the ABC complexity (_complexity.py) and the Bray-Dean formulas (_gaussian_field.py)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

from complexity_optax import landscape as ls

# Shared notes, methods.md §4 and spin_glass_and_annealsgd.md §2.1: p -> (E_∞, E_0, E_1, E_10).
TABLE = {
    3: (1.632993, 1.656998, 1.652873, 1.642568),
    4: (1.732051, 1.794085, 1.783300, 1.756585),
    5: (1.788854, 1.887989, 1.870576, 1.827766),
}


# ------------------------------------------------------------------------------------------------
# ABC constants and complexity.


@pytest.mark.parametrize("p", [3, 4, 5])
def test_threshold_ground_state_and_critical_energies_match_table(p):
    e_inf, e_0, e_1, e_10 = TABLE[p]
    assert abs(ls.threshold_energy(p) - e_inf) < 2e-6
    assert abs(ls.ground_state_energy(p) - e_0) < 2e-6
    assert abs(ls.critical_energy(p, 1) - e_1) < 2e-6
    assert abs(ls.critical_energy(p, 10) - e_10) < 2e-6
    assert ls.critical_energy(p, 0) == ls.ground_state_energy(p)
    # E_k decreases to E_∞.
    e_k = [ls.critical_energy(p, k) for k in (0, 1, 2, 10, 1000)]
    assert all(a > b for a, b in zip(e_k, e_k[1:]))
    assert e_inf - 1e-6 < e_k[-1] < e_inf + 3e-3  # Slow: E_k − E_∞ ∝ k^(−2/3).


def test_threshold_closed_form_and_p2():
    assert ls.threshold_energy(3) == pytest.approx(2 * math.sqrt(2 / 3), abs=1e-15)
    # p = 2: no complexity plateau, the ground state is the top GOE eigenvalue, E_0 = E_∞ = √2.
    assert ls.threshold_energy(2) == pytest.approx(math.sqrt(2))
    assert ls.ground_state_energy(2) == pytest.approx(math.sqrt(2))


def test_complexity_reference_values():
    np.testing.assert_allclose(float(ls.complexity(-1.65, 3, k=0)), 0.004254, atol=1e-6)
    np.testing.assert_allclose(float(ls.complexity(-1.65, 3, k=1)), 0.002247, atol=1e-6)
    np.testing.assert_allclose(float(ls.complexity(-1.70, 3, k=0)), -0.030446, atol=1e-6)
    np.testing.assert_allclose(float(ls.complexity(-1.657, 3, k=0)), 0.0, atol=1e-5)
    # Plateau ½log(p−1) − (p−2)/p at and above −E_∞ (notes: 0.013240, 0.049306, 0.093147).
    for p, plateau in ((3, 0.013240), (4, 0.049306), (5, 0.093147)):
        e_inf = ls.threshold_energy(p)
        for u in (-e_inf, -1.0, 0.0, 2.0):
            np.testing.assert_allclose(float(ls.complexity(u, p, k=0)), plateau, atol=1e-6)
            np.testing.assert_allclose(float(ls.complexity(u, p, k=3)), plateau, atol=1e-6)


def test_complexity_is_zero_at_critical_energies():
    with jax.enable_x64(True):
        for p in (3, 4):
            for k in (0, 1, 10):
                theta = ls.complexity(-ls.critical_energy(p, k), p, k)
                assert theta.dtype == jnp.float64
                assert abs(float(theta)) < 1e-12


def test_complexity_continuity_at_threshold():
    with jax.enable_x64(True):
        for p in (3, 4):
            e_inf = ls.threshold_energy(p)
            for k in (0, 1, 5, None):
                below = float(ls.complexity(-e_inf - 1e-9, p, k))
                above = float(ls.complexity(-e_inf + 1e-9, p, k))
                assert abs(below - above) < 1e-7


def test_rate_function_i1_equals_its_integral():
    # Θ_{0,p} − Θ_{1,p} = I_1(u) = (2/E_∞²) ∫_{E_∞}^{−u} √(z² − E_∞²) dz; notes: 1.576925e-2 at
    # u = −1.7, p = 3.
    with jax.enable_x64(True):
        for p, u in ((3, -1.7), (3, -2.5), (4, -1.9)):
            e_inf = ls.threshold_energy(p)
            i1 = float(ls.complexity(u, p, 0) - ls.complexity(u, p, 1))
            ref, _ = integrate.quad(lambda z: math.sqrt(z * z - e_inf**2), e_inf, -u)
            np.testing.assert_allclose(i1, 2 * ref / e_inf**2, rtol=1e-9)
        np.testing.assert_allclose(
            float(ls.complexity(-1.7, 3, 0) - ls.complexity(-1.7, 3, 1)), 1.576925e-2, atol=1e-8
        )


def test_all_index_complexity_pieces():
    with jax.enable_x64(True):
        p = 3
        e_inf = ls.threshold_energy(p)
        c = (p - 2) / (4 * (p - 1))
        u = jnp.array([-2.0, -1.7, -e_inf, -1.0, -0.3, 0.0, 0.5])
        theta = np.asarray(ls.complexity(u, p))
        assert theta.shape == (7,)
        # Below −E_∞ the minima dominate: Θ_p = Θ_{0,p}.
        np.testing.assert_allclose(theta[:3], np.asarray(ls.complexity(u[:3], p, 0)), atol=1e-14)
        # Between −E_∞ and 0: ½log(p−1) − c u²; above 0: ½log(p−1).
        np.testing.assert_allclose(
            theta[2:6], 0.5 * math.log(p - 1) - c * np.asarray(u[2:6]) ** 2, atol=1e-14
        )
        np.testing.assert_allclose(theta[6], 0.5 * math.log(p - 1), atol=1e-14)
        assert np.all(np.diff(theta) >= 0)  # Cumulative count: non-decreasing in u.


def test_complexity_vectorised_jittable_and_finite_gradients():
    u = jnp.linspace(-2.2, 1.0, 9)
    out = jax.jit(lambda v: ls.complexity(v, 3, 0))(u)
    np.testing.assert_allclose(out, [float(ls.complexity(x, 3, 0)) for x in u], atol=1e-6)
    grads = jax.vmap(jax.grad(lambda v: ls.complexity(v, 3, 0)))(
        jnp.array([-2.0, -ls.threshold_energy(3), -1.0])
    )
    assert np.all(np.isfinite(grads))
    assert float(grads[0]) > 0 and float(grads[2]) == 0.0
    assert ls.complexity(jnp.zeros((2, 3)), 4, None).shape == (2, 3)


def test_index_at_energy_on_the_sphere():
    for p in (3, 4):
        e_inf = ls.threshold_energy(p)
        np.testing.assert_allclose(float(ls.index_at_energy(-e_inf, p)), 0.0, atol=1e-7)
        np.testing.assert_allclose(float(ls.index_at_energy(0.0, p)), 0.5, atol=1e-7)
        np.testing.assert_allclose(float(ls.index_at_energy(e_inf, p)), 1.0, atol=1e-7)
        assert float(ls.index_at_energy(-ls.ground_state_energy(p), p)) == 0.0
        # Hessian = GOE of radius 2√(p(p−1)) shifted by −p u: the same as α(λ̄ = −p u).
        u = jnp.linspace(-2.0, 2.0, 21)
        np.testing.assert_allclose(
            ls.index_at_energy(u, p),
            ls.alpha_from_mean_eigenvalue(-p * u, 2 * math.sqrt(p * (p - 1))),
            atol=1e-6,
        )


def test_construction_errors_name_the_parameter():
    with pytest.raises(ValueError, match="^p"):
        ls.threshold_energy(1)
    with pytest.raises(TypeError, match="^p"):
        ls.ground_state_energy(3.0)
    with pytest.raises(ValueError, match="^k"):
        ls.complexity(-1.7, 3, k=-1)
    with pytest.raises(ValueError, match="^k"):
        ls.critical_energy(3, -2)


# ------------------------------------------------------------------------------------------------
# Bray-Dean: semicircle, α(λ̄), α(ε) and the seed's mirrored convention.


def test_semicircle_density_normalised_and_cdf_consistent():
    for radius in (1.0, 2.0, 3.5):
        x = np.linspace(-radius, radius, 200_001)
        rho = np.asarray(ls.semicircle_density(x, radius), np.float64)
        np.testing.assert_allclose(np.trapezoid(rho, x), 1.0, atol=1e-6)
        np.testing.assert_allclose(np.trapezoid(x * x * rho, x), radius**2 / 4, rtol=1e-5)  # R²/4.
        xs = jnp.linspace(-0.95 * radius, 0.95 * radius, 7)
        dcdf = jax.vmap(jax.grad(lambda x: ls.semicircle_cdf(x, radius)))(xs)
        np.testing.assert_allclose(dcdf, ls.semicircle_density(xs, radius), rtol=1e-4)
    assert float(ls.semicircle_density(2.5, 2.0)) == 0.0
    assert float(ls.semicircle_cdf(-3.0, 2.0)) == 0.0


def test_semicircle_matches_goe_eigenvalues():
    rng = np.random.default_rng(0)
    n = 400
    g = rng.standard_normal((n, n))
    eig = np.linalg.eigvalsh((g + g.T) / np.sqrt(2 * n))  # Off-diagonal variance 1/N: R = 2.
    edges = np.linspace(-2.0, 2.0, 11)
    counts, _ = np.histogram(eig, edges)
    expected = np.diff(np.asarray(ls.semicircle_cdf(edges, 2.0)))
    np.testing.assert_allclose(counts / n, expected, atol=0.02)
    # α(λ̄) = fraction of negative eigenvalues of GOE + λ̄ I.
    for shift in (-1.0, 0.3, 1.2):
        np.testing.assert_allclose(
            np.mean(eig + shift < 0), float(ls.alpha_from_mean_eigenvalue(shift, 2.0)), atol=0.02
        )


def test_alpha_from_mean_eigenvalue_is_seed_equation_9():
    radius = 2.0 * math.sqrt(1.7)  # R = 2√f''(0).
    lam = np.linspace(-0.99, 0.99, 11) * radius
    x = lam / radius
    eq9 = (np.arccos(x) - x * np.sqrt(1 - x * x)) / np.pi
    np.testing.assert_allclose(ls.alpha_from_mean_eigenvalue(lam, radius), eq9, atol=2e-6)
    assert float(ls.alpha_from_mean_eigenvalue(-radius - 1, radius)) == 1.0
    assert float(ls.alpha_from_mean_eigenvalue(radius + 1, radius)) == 0.0


def test_index_at_energy_density_convention_and_seed_mirror():
    eps_c = 1.3
    eps = jnp.linspace(-1.5 * eps_c, 1.5 * eps_c, 301)
    ours = np.asarray(ls.index_at_energy_density(eps, eps_c))
    seed = np.asarray(ls.seed_alpha(eps, eps_c))
    np.testing.assert_allclose(seed, 1.0 - ours, atol=1e-6)
    np.testing.assert_allclose(float(ls.index_at_energy_density(-eps_c, eps_c)), 0.0, atol=1e-7)
    np.testing.assert_allclose(float(ls.index_at_energy_density(0.0, eps_c)), 0.5, atol=1e-7)
    np.testing.assert_allclose(float(ls.index_at_energy_density(eps_c, eps_c)), 1.0, atol=1e-7)
    assert np.all(np.diff(ours) >= 0) and ours.min() == 0.0 and ours.max() == 1.0
    assert np.all(np.diff(ours[(np.abs(eps) < eps_c)]) > 0)  # Strictly inside the band.
    # Seed eq. (12) read in our convention: α ≈ ½ + (2/π) ε/ε_c near 0.
    np.testing.assert_allclose(
        float(ls.index_at_energy_density(1e-3, eps_c)), 0.5 + 2 / np.pi * 1e-3 / eps_c, atol=1e-6
    )


def test_index_vanishes_as_three_halves_power_at_minus_eps_c():
    with jax.enable_x64(True):
        eps_c = 0.8
        deltas = np.array([1e-2, 2.5e-3, 6.25e-4])
        alpha = np.asarray(ls.index_at_energy_density(-eps_c + deltas * eps_c, eps_c))
        np.testing.assert_allclose(alpha[:-1] / alpha[1:], 4**1.5, rtol=2e-3)
        # Leading constant: ∫_{−1}^{−1+t} (2/π)√(1−x²) dx ≈ (4√2/(3π)) t^{3/2}.
        np.testing.assert_allclose(
            alpha[-1] / deltas[-1] ** 1.5, 4 * math.sqrt(2) / (3 * math.pi), rtol=1e-3
        )


def test_critical_energy_scale_and_the_alpha_epsilon_relation():
    f0, f1, f2 = 1.5, -0.8, 0.9
    eps_c = float(ls.critical_energy_scale(f0, f1, f2))
    np.testing.assert_allclose(eps_c, 2 * 0.8 / math.sqrt(0.9), rtol=1e-6)
    assert float(ls.critical_energy_scale(1.0, -1.0, 1.0)) == 2.0  # f(s) = e^(−s).
    # Bray-Dean: at fixed mean eigenvalue the energy concentrates at ε = (f'(0)/f''(0)) λ̄, and
    # then α(ε) = α(λ̄) with R = 2√f''(0).
    lam = jnp.linspace(-2.5, 2.5, 41)
    np.testing.assert_allclose(
        ls.index_at_energy_density(f1 / f2 * lam, eps_c),
        ls.alpha_from_mean_eigenvalue(lam, 2 * math.sqrt(f2)),
        atol=1e-6,
    )


def test_bray_dean_constants_and_quadratic_complexity():
    f0, f1, f2, n = 1.5, -0.8, 0.9, 10
    p_big = f0 / f2 + f1**2 / f2**2
    np.testing.assert_allclose(float(ls.p_n(f0, f1, f2)), p_big, rtol=1e-6)
    np.testing.assert_allclose(float(ls.p_n(f0, f1, f2, n)), 0.8 * f0 / f2 + f1**2 / f2**2,
                               rtol=1e-6)
    np.testing.assert_allclose(float(ls.q_n(f0, f1, f2, n)), 1.2 * f0 / f2 - f1**2 / f2**2,
                               rtol=1e-6)
    np.testing.assert_allclose(float(ls.p_n(f0, f1, f2, n) + ls.q_n(f0, f1, f2, n)), 2 * f0 / f2,
                               rtol=1e-6)

    m = np.asarray(ls.complexity_matrix(f0, f1, p_big))
    np.testing.assert_allclose(m, [[1.0, 0.8 / 1.5], [0.8 / 1.5, p_big / 2]], rtol=1e-6)

    u = jnp.array([[0.3, -0.4], [-1.0, 2.0], [0.0, 0.0]])
    c1, c2 = 0.7, 1.0 / (f2 * float(ls.q_n(f0, f1, f2)))
    sigma = np.asarray(ls.complexity_quadratic(u, c1, c2, m))
    ref = c1 - 0.5 * c2 * np.einsum("bi,ij,bj->b", np.asarray(u), m, np.asarray(u))
    np.testing.assert_allclose(sigma, ref, rtol=1e-6)
    assert sigma[2] == pytest.approx(c1)
    grad = ls.complexity_gradient(u, c2, m)
    auto = jax.vmap(jax.grad(lambda v: ls.complexity_quadratic(v, c1, c2, m)))(u)
    np.testing.assert_allclose(grad, auto, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, -c2 * np.asarray(u) @ m.T, rtol=1e-5, atol=1e-6)

    # Seed eq. (14): ψ = ε² − 2(f'(0)/f''(0)) ε λ̄ + (P/2) λ̄² is uᵀMu with f''(0) in place of f(0).
    eps, lam = 0.3, -0.4
    psi = eps**2 - 2 * (f1 / f2) * eps * lam + p_big / 2 * lam**2
    m14 = ls.complexity_matrix(f2, f1, p_big)
    np.testing.assert_allclose(
        float(ls.complexity_quadratic(jnp.array([eps, lam]), 0.0, -2.0, m14)), psi, rtol=1e-5
    )
