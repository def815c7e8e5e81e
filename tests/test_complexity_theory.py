# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Tests for the ABC complexity (physics/complexity.py) and the Bray-Dean formulas
(physics/gaussian_field.py): closed forms against numerical integration of their ingredients."""

import itertools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, optimize

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
    assert all(a > b for a, b in itertools.pairwise(e_k))
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
            ref, _ = integrate.quad(lambda z, e=e_inf: math.sqrt(z * z - e**2), e_inf, -u)
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
        dcdf = jax.vmap(jax.grad(lambda x, r=radius: ls.semicircle_cdf(x, r)))(xs)
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


def test_index_at_energy_density_convention_and_mirror():
    eps_c = 1.3
    eps = jnp.linspace(-1.5 * eps_c, 1.5 * eps_c, 301)
    ours = np.asarray(ls.index_at_energy_density(eps, eps_c))
    mirror = np.asarray(ls.positive_fraction_at_energy_density(eps, eps_c))
    np.testing.assert_allclose(mirror, 1.0 - ours, atol=1e-6)
    # The paper's eq. (11) as printed, with |ε_c|: (1/π)arccos(x) − (x/π)√(1−x²).
    x = np.clip(np.asarray(eps) / eps_c, -1, 1)
    np.testing.assert_allclose(mirror, (np.arccos(x) - x * np.sqrt(1 - x * x)) / np.pi, atol=2e-6)
    np.testing.assert_allclose(float(ls.index_at_energy_density(-eps_c, eps_c)), 0.0, atol=1e-7)
    np.testing.assert_allclose(float(ls.index_at_energy_density(0.0, eps_c)), 0.5, atol=1e-7)
    np.testing.assert_allclose(float(ls.index_at_energy_density(eps_c, eps_c)), 1.0, atol=1e-7)
    # The paper's negative ε_c gives the same curve.
    np.testing.assert_allclose(ls.index_at_energy_density(eps, -eps_c), ours, atol=0)
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


# ------------------------------------------------------------------------------------------------
# Bray-Dean derived again: every closed form against numerical integration of its ingredients.


def _inverse_covariance(s):
    """f(s) = 1/(1+s): f(0) = 1, f'(0) = −1, f''(0) = 2 (the issue's example)."""
    return 1.0 / (1.0 + s)


def _derivatives(f):
    with jax.enable_x64(True):
        s0 = jnp.float64(0.0)
        return float(f(s0)), float(jax.grad(f)(s0)), float(jax.grad(jax.grad(f))(s0))


COVARIANCES = {
    "inverse": _derivatives(_inverse_covariance),  # (1, −1, 2)
    "generic": (1.5, -0.8, 0.9),
    "exponential": _derivatives(lambda s: jnp.exp(-s)),  # (1, −1, 1): f f'' = f'²
}


def test_moments_of_energy_and_mean_eigenvalue_from_the_covariance_kernel():
    # ⟨φ(x)φ(y)⟩ = N f(|x−y|²/(2N)) differentiated by autodiff at N = 4, float64: N·Cov(ε, λ̄)
    # = [[f0, f1], [f1, (1 + 2/N) f2]], the matrix the derivation starts from.
    n = 4
    f0, f1, f2 = COVARIANCES["inverse"]
    def kernel(x, y):
        return n * _inverse_covariance(jnp.sum((x - y) ** 2) / (2 * n))

    @jax.jit
    def moments(x0):
        phi_hess = jax.hessian(lambda y: kernel(x0, y))(x0)  # ⟨φ H_ij⟩
        hess_hess = jax.hessian(lambda y: jax.hessian(lambda x: kernel(x, y))(x0))(x0)
        grad_grad = jax.jacfwd(jax.grad(kernel, argnums=0), argnums=1)(x0, x0)  # ⟨∂φ ∂φ⟩
        return (kernel(x0, x0), jnp.trace(phi_hess), jnp.einsum("iikk->", hess_hess),
                hess_hess[0, 1, 0, 1], grad_grad)

    with jax.enable_x64(True):
        var_phi, phi_trace, trace_var, off_diagonal, grad_grad = jax.tree.map(
            np.asarray, moments(jnp.linspace(-0.3, 0.4, n, dtype=jnp.float64)))
    cov = np.array([[var_phi, phi_trace], [phi_trace, trace_var]]) / n
    np.testing.assert_allclose(cov, [[f0, f1], [f1, (1 + 2 / n) * f2]], rtol=1e-12)
    np.testing.assert_allclose(grad_grad, -f1 * np.eye(n), atol=1e-12)  # ⟨∂_iφ ∂_jφ⟩ = −f'δ
    # Off-diagonal Hessian variance f2/N: the semicircle radius is 2√f2.
    np.testing.assert_allclose(off_diagonal, f2 / n, rtol=1e-12)


def _log_potential(lam, radius):
    """Ψ(λ̄) = ∫ log|λ + λ̄| ρ_sc(λ) dλ by quadrature (singular point marked)."""
    def integrand(x):
        return math.log(abs(x + lam)) * 2 / (math.pi * radius**2) * math.sqrt(radius**2 - x * x)

    points = [-lam] if abs(lam) < radius else None
    return integrate.quad(integrand, -radius, radius, points=points, limit=200)[0]


def _kac_rice_complexity(eps, lam, f0, f1, f2):
    """Σ(ε, λ̄) − Σ(0, 0) from its ingredients: Gaussian weight of (ε, λ̄) times E|det H|."""
    u = np.array([eps, lam])
    gauss = -0.5 * u @ np.linalg.solve(np.array([[f0, f1], [f1, f2]]), u)
    radius = 2 * math.sqrt(f2)
    return gauss + _log_potential(lam, radius) - _log_potential(0.0, radius)


@pytest.mark.parametrize("name", ["inverse", "generic"])
def test_complexity_matrix_against_numerical_integration(name):
    f0, f1, f2 = COVARIANCES[name]
    m = ls.complexity_matrix(f0, f1, f2)
    c2 = 1.0 / (f2 * float(ls.complexity_constant_q(f0, f1, f2)))
    for eps, lam in ((0.3, -0.4), (-0.7, 0.9), (0.5, 0.5), (-0.2, -1.1)):
        want = _kac_rice_complexity(eps, lam, f0, f1, f2)
        got = float(ls.complexity_quadratic(jnp.array([eps, lam]), 0.0, c2, m))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    if name == "inverse":  # The numbers: −0.030 derived, +0.090 from eq. (16).
        np.testing.assert_allclose(_kac_rice_complexity(0.3, -0.4, f0, f1, f2), -0.030, atol=1e-9)
        p = float(ls.complexity_constant_p(f0, f1, f2))
        eq16 = np.array([[1.0, -f1 / f0], [-f1 / f0, p / 2]])
        wrong = float(ls.complexity_quadratic(jnp.array([0.3, -0.4]), 0.0, c2, eq16))
        np.testing.assert_allclose(wrong, 0.090, atol=1e-6)
        np.testing.assert_allclose(np.asarray(m), [[1.0, 0.5], [0.5, 0.375]], atol=1e-7)


@pytest.mark.parametrize("name", ["inverse", "generic"])
@pytest.mark.parametrize("n", [4, 10, 1000])
def test_finite_n_complexity_matrix_against_closed_form(name, n):
    """M_N = [[1 + 2/N, −f'/f''], [−f'/f'', P_N/2]] with C₂ = 1/(f'' Q_N) reproduces the finite-N
    Gaussian weight −½ uᵀ C_N⁻¹ u (C_N = [[f, f'], [f', (1 + 2/N) f'']]) plus λ̄²/(4 f'')."""
    f0, f1, f2 = COVARIANCES[name]
    m = np.asarray(ls.complexity_matrix(f0, f1, f2, n=n), np.float64)
    p_n = (1 - 2 / n) * f0 / f2 + f1**2 / f2**2
    np.testing.assert_allclose(m, [[1 + 2 / n, -f1 / f2], [-f1 / f2, p_n / 2]], rtol=1e-6)
    c2 = 1.0 / (f2 * float(ls.complexity_constant_q(f0, f1, f2, n=n)))
    cov = np.array([[f0, f1], [f1, (1 + 2 / n) * f2]])
    for eps, lam in ((0.3, -0.4), (-0.7, 0.9), (0.5, 0.5)):
        u = np.array([eps, lam])
        want = -0.5 * u @ np.linalg.solve(cov, u) + lam**2 / (4 * f2)
        got = float(ls.complexity_quadratic(jnp.array([eps, lam]), 0.0, c2, m))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # N → ∞: within O(1/N) of the limit form.
    limit = np.asarray(ls.complexity_matrix(f0, f1, f2), np.float64)
    assert np.max(np.abs(m - limit)) <= 2.0 / n * max(1.0, f0 / f2) + 1e-6
    with pytest.raises(ValueError, match="n"):
        ls.complexity_matrix(f0, f1, f2, n=1)


def _most_likely_mean_eigenvalue(eps, f0, f1, f2, high):
    """argmax over λ̄ of the Kac-Rice complexity at fixed ε (bounded scalar search)."""
    result = optimize.minimize_scalar(
        lambda lam: -_kac_rice_complexity(eps, lam, f0, f1, f2), bounds=(-high, high),
        method="bounded", options={"xatol": 1e-9})
    return float(result.x)


@pytest.mark.parametrize("name", ["inverse", "generic"])
def test_index_at_fixed_energy_against_numerical_integration(name):
    f0, f1, f2 = COVARIANCES[name]
    radius = 2 * math.sqrt(f2)
    eps_c = float(ls.critical_energy_scale(f0, f1, f2))
    np.testing.assert_allclose(eps_c, float(ls.complexity_constant_p(f0, f1, f2)) * f2**1.5
                               / abs(f1), rtol=1e-6)
    old_scale = 2 * abs(f1) / math.sqrt(f2)  # the converse relation's scale
    gaps = []
    for frac in (-0.8, -0.45, -0.1, 0.3, 0.7):
        eps = frac * eps_c
        lam = _most_likely_mean_eigenvalue(eps, f0, f1, f2, radius)
        np.testing.assert_allclose(
            float(ls.mean_eigenvalue_at_energy_density(eps, f0, f1, f2)), lam, atol=1e-5)
        # α = mass of the semicircle centred at λ̄* below 0, by quadrature.
        alpha = integrate.quad(
            lambda x: 2 / (math.pi * radius**2) * math.sqrt(max(radius**2 - x * x, 0.0)),
            -radius, min(max(-lam, -radius), radius))[0]
        np.testing.assert_allclose(float(ls.index_at_energy_density(eps, eps_c)), alpha,
                                   atol=2e-5)
        gaps.append(abs(float(ls.index_at_energy_density(eps, old_scale)) - alpha))
    assert max(gaps) > 0.05  # The old ε_c answered another question.
    if name == "inverse":
        assert eps_c == pytest.approx(1.5 * math.sqrt(2), rel=1e-6)  # 2.1213 (old: 1.4142)
    # Below −ε_c the most likely critical points are minima: λ̄* beyond the semicircle's edge.
    lam = _most_likely_mean_eigenvalue(-1.3 * eps_c, f0, f1, f2, 3 * radius)
    assert lam > radius
    assert float(ls.index_at_energy_density(-1.3 * eps_c, eps_c)) == 0.0


def test_energy_at_fixed_mean_eigenvalue_is_the_converse_relation():
    # At fixed λ̄ the energy concentrates at ε* = (f'(0)/f''(0)) λ̄ (maximise Σ over ε): the
    # scale 2|f'|/√f'' inverts that, which is a different curve from α(ε) unless Q = 0.
    f0, f1, f2 = COVARIANCES["inverse"]
    radius = 2 * math.sqrt(f2)
    for lam in (-1.5, 0.4, 2.0):
        result = optimize.minimize_scalar(lambda e, m=lam: -_kac_rice_complexity(e, m, f0, f1, f2),
                                          bounds=(-5, 5), method="bounded",
                                          options={"xatol": 1e-10})
        np.testing.assert_allclose(result.x, f1 / f2 * lam, atol=1e-6)
        np.testing.assert_allclose(
            float(ls.index_at_energy_density(f1 / f2 * lam, 2 * abs(f1) / math.sqrt(f2))),
            float(ls.alpha_from_mean_eigenvalue(lam, radius)), atol=1e-6)


def test_bray_dean_constants_and_quadratic_complexity():
    f0, f1, f2, n = 1.5, -0.8, 0.9, 10
    p_big = f0 / f2 + f1**2 / f2**2
    np.testing.assert_allclose(float(ls.complexity_constant_p(f0, f1, f2)), p_big, rtol=1e-6)
    np.testing.assert_allclose(float(ls.complexity_constant_p(f0, f1, f2, n)),
                               0.8 * f0 / f2 + f1**2 / f2**2, rtol=1e-6)
    np.testing.assert_allclose(float(ls.complexity_constant_q(f0, f1, f2, n)),
                               1.2 * f0 / f2 - f1**2 / f2**2, rtol=1e-6)
    np.testing.assert_allclose(
        float(ls.complexity_constant_p(f0, f1, f2, n) + ls.complexity_constant_q(f0, f1, f2, n)),
        2 * f0 / f2, rtol=1e-6)
    assert float(ls.complexity_constant_q(1.0, -1.0, 1.0)) == 0.0  # exponential: Q = 0

    m = np.asarray(ls.complexity_matrix(f0, f1, f2))
    np.testing.assert_allclose(m, [[1.0, 0.8 / 0.9], [0.8 / 0.9, p_big / 2]], rtol=1e-6)
    u = jnp.array([[0.3, -0.4], [-1.0, 2.0], [0.0, 0.0]])
    c1, c2 = 0.7, 1.0 / (f2 * float(ls.complexity_constant_q(f0, f1, f2)))
    sigma = np.asarray(ls.complexity_quadratic(u, c1, c2, m))
    # Seed eq. (14): ψ = ε² − 2(f'(0)/f''(0)) ε λ̄ + (P/2) λ̄².
    e, lam = np.asarray(u).T
    psi = e**2 - 2 * (f1 / f2) * e * lam + p_big / 2 * lam**2
    np.testing.assert_allclose(sigma, c1 - 0.5 * c2 * psi, rtol=1e-6)
    grad = ls.complexity_gradient(u, c2, m)
    auto = jax.vmap(jax.grad(lambda v: ls.complexity_quadratic(v, c1, c2, m)))(u)
    np.testing.assert_allclose(grad, auto, rtol=1e-5, atol=1e-6)
    # Batched covariances broadcast in front of the (2, 2).
    batch = ls.complexity_matrix(jnp.array([1.0, f0]), jnp.array([-1.0, f1]), jnp.array([2.0, f2]))
    assert batch.shape == (2, 2, 2)
    np.testing.assert_allclose(batch[1], m, rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# Issue 13: bad scalars are a ValueError naming the parameter, or the right limit; never NaN.


@pytest.mark.parametrize("call, name", [
    (lambda: ls.semicircle_density(0.0, 0.0), "radius"),
    (lambda: ls.semicircle_density(0.0, -2.0), "radius"),
    (lambda: ls.semicircle_cdf(0.0, float("nan")), "radius"),
    (lambda: ls.semicircle_cdf(0.0, float("inf")), "radius"),
    (lambda: ls.semicircle_density(0.0, jnp.array([1.0, -1.0])), "radius"),
    (lambda: ls.alpha_from_mean_eigenvalue(0.0, 0.0), "radius"),
    (lambda: ls.critical_energy_scale(1.0, -1.0, 0.0), "f2"),
    (lambda: ls.critical_energy_scale(1.0, 0.0, 1.0), "f1"),
    (lambda: ls.critical_energy_scale(0.0, -1.0, 1.0), "f0"),
    (lambda: ls.critical_energy_scale(1.0, -2.0, 1.0), "f2"),  # f0 f2 < f1²: no covariance
    (lambda: ls.complexity_constant_p(1.0, -1.0, 1.0, n=0), "n"),
    (lambda: ls.complexity_constant_q(1.0, -1.0, 0.0), "f2"),
    (lambda: ls.complexity_matrix(1.0, -1.0, float("inf")), "f2"),
    (lambda: ls.mean_eigenvalue_at_energy_density(0.1, 1.0, -1.0, -2.0), "f2"),
    (lambda: ls.index_at_energy_density(0.1, 0.0), "eps_c"),
    (lambda: ls.index_at_energy_density(0.1, float("nan")), "eps_c"),
])
def test_theory_functions_reject_bad_scalars_naming_them(call, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        call()


def test_theory_functions_type_errors_and_traced_invalid_values():
    with pytest.raises(TypeError, match="^radius"):
        ls.semicircle_density(0.0, "2")
    with pytest.raises(TypeError, match="^n"):
        ls.complexity_constant_q(1.0, -1.0, 1.0, n=3.0)
    with pytest.raises(TypeError, match="^dtype"):
        ls.pure_p_spin(jax.random.key(0), 4, 3, dtype=jnp.int32)
    with pytest.raises(TypeError, match="^dtype"):
        ls.mixed_p_spin(jax.random.key(0), 4, {2: 1.0}, dtype=bool)
    # Under jit nothing can be raised: invalid values give NaN, valid ones the value.
    density = jax.jit(ls.semicircle_density)
    assert math.isnan(float(density(0.0, -1.0)))
    assert float(density(0.0, 2.0)) == pytest.approx(1 / math.pi)
    scale = jax.jit(ls.critical_energy_scale)
    assert math.isnan(float(scale(1.0, -2.0, 1.0)))
    assert float(scale(1.0, -1.0, 1.0)) == pytest.approx(2.0)


def test_theory_limits_instead_of_nan():
    # Θ(u → −∞) = −∞ for every k and for all indices; huge finite |u| is no NaN either.
    u = jnp.array([-jnp.inf, -1e30, -1e19, -1.7])
    for k in (0, 3, None):
        theta = np.asarray(ls.complexity(u, 3, k))
        assert theta[0] == -np.inf and theta[1] == -np.inf
        assert np.isfinite(theta[2]) and theta[2] < -1e30
    np.testing.assert_allclose(float(ls.complexity(jnp.inf, 3, 0)), 0.013240, atol=1e-6)
    # ε_c = ±∞: the index no longer depends on the energy.
    assert float(ls.index_at_energy_density(-5.0, jnp.inf)) == 0.5
    # Semicircle at ±∞.
    assert float(ls.semicircle_cdf(-jnp.inf, 1.0)) == 0.0
    assert float(ls.semicircle_cdf(jnp.inf, 1.0)) == 1.0
    assert float(ls.semicircle_density(jnp.inf, 1.0)) == 0.0
    # Exponential covariance (f f'' = f'² exactly: ε is fixed by λ̄, Q = 0) is valid, and there
    # the fixed-energy and fixed-mean-eigenvalue scales coincide: P f''^{3/2}/|f'| = 2|f'|/√f''.
    f0, f1, f2 = COVARIANCES["exponential"]
    assert float(ls.critical_energy_scale(f0, f1, f2)) == 2.0 == 2 * abs(f1) / math.sqrt(f2)
    assert float(ls.complexity_constant_q(f0, f1, f2)) == 0.0


# ------------------------------------------------------------------------------------------------
# Issue 9: renamed, with deprecated aliases for one release.


@pytest.mark.parametrize("old, new, args", [
    ("p_n", "complexity_constant_p", (1.5, -0.8, 0.9, 10)),
    ("q_n", "complexity_constant_q", (1.5, -0.8, 0.9)),
    ("seed_alpha", "positive_fraction_at_energy_density", (jnp.linspace(-2, 2, 9), 1.3)),
])
def test_deprecated_aliases_warn_and_equal_the_new_name(old, new, args):
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated.*{new}"):
        got = getattr(ls, old)(*args)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(getattr(ls, new)(*args)))
    assert old not in ls.__all__ and new in ls.__all__  # importable, not listed (0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(ls, new)(*args)  # the new name does not warn


# ------------------------------------------------------------------------------------------------
# Issue 13 leftovers (the fuzz campaign): every bad scalar is an error naming its parameter, and
# the representable edges give their exact finite values.

_U2, _M2 = jnp.array([-1.6, 0.1]), jnp.eye(2)


@pytest.mark.parametrize("call, error, name", [
    (lambda v: ls.semicircle_density(v, 1.0), ValueError, "x"),
    (lambda v: ls.semicircle_cdf(v, 1.0), ValueError, "x"),
    (lambda v: ls.alpha_from_mean_eigenvalue(v, 1.0), ValueError, "mean_eig"),
    (lambda v: ls.complexity(v, 3), ValueError, "u"),
    (lambda v: ls.complexity([0.1, v], 3, 0), ValueError, "u"),  # array-likes too
    (lambda v: ls.index_at_energy(v, 3), ValueError, "u"),
    (lambda v: ls.index_at_energy_density(v, 1.5), ValueError, "eps"),
    (lambda v: ls.positive_fraction_at_energy_density(v, 1.5), ValueError, "eps"),
    (lambda v: ls.mean_eigenvalue_at_energy_density(v, 1.0, -0.5, 0.25), ValueError, "eps"),
    (lambda v: ls.complexity_quadratic(_U2, v, 1.0, _M2), ValueError, "c1"),
    (lambda v: ls.complexity_quadratic(_U2, 1.0, v, _M2), ValueError, "c2"),
    (lambda v: ls.complexity_gradient(_U2, v, _M2), ValueError, "c2"),
])
@pytest.mark.parametrize("bad", ["nan", "str"])
def test_points_and_constants_reject_nan_and_non_numbers(call, error, name, bad):
    value, error = (float("nan"), error) if bad == "nan" else ("abc", TypeError)
    with pytest.raises(error, match=f"^{name} must"):
        call(value)


@pytest.mark.parametrize("call, name, value, why", [
    # A finite value that float32 cannot hold (1e39 -> inf) or flushes to 0 (1e-39).
    (lambda v: ls.semicircle_density(0.5, v), "radius", 1e39, "fit in float32"),
    (lambda v: ls.semicircle_cdf(0.5, v), "radius", 1e-39, "underflow to 0 in float32"),
    (lambda v: ls.alpha_from_mean_eigenvalue(0.5, v), "radius", 1e39, "fit in float32"),
    (lambda v: ls.index_at_energy_density(-1.0, v), "eps_c", 1e-39, "underflow"),
    (lambda v: ls.positive_fraction_at_energy_density(-1.0, v), "eps_c", 1e39, "fit in"),
    (lambda v: ls.complexity_constant_p(v, -0.5, 0.25), "f0", 1e39, "fit in float32"),
    (lambda v: ls.complexity_constant_q(1.0, -0.5, v), "f2", 1e39, "fit in float32"),
    (lambda v: ls.complexity_matrix(v, -0.5, 0.25), "f0", 1e39, "fit in float32"),
    (lambda v: ls.critical_energy_scale(1.0, -0.5, v), "f2", 1e39, "fit in float32"),
    (lambda v: ls.mean_eigenvalue_at_energy_density(v, 1.0, -0.5, 0.25), "eps", 1e39, "fit in"),
    (lambda v: ls.complexity_gradient(_U2, v, _M2), "c2", 1e39, "fit in float32"),
    # No finite limit: λ̄* is linear in ε, Σ quadratic in the constants' products.
    (lambda v: ls.mean_eigenvalue_at_energy_density(v, 1.0, -0.5, 0.25), "eps", -np.inf,
     "be finite"),
    (lambda v: ls.complexity_quadratic(_U2, v, 1.0, _M2), "c1", np.inf, "be finite"),
    (lambda v: ls.complexity_gradient(_U2, v, _M2), "c2", -np.inf, "be finite"),
    # Representable arguments whose result is not: P = f0/f2 + (f1/f2)² = 1e41.
    (lambda v: ls.complexity_constant_p(v, -1.0, 1e-3), "f0, f1, f2", 1e38, "overflows"),
    (lambda v: ls.critical_energy_scale(v, -1.0, 1e30), "f0, f1, f2", 1e30, "overflows"),
])
def test_values_outside_the_dtype_range_are_value_errors(call, name, value, why):
    with pytest.raises(ValueError, match=f"^{name}") as info:
        call(value)
    assert why in str(info.value)


def test_edges_give_their_exact_limits():
    # Θ(−∞) = log 0 = −∞ exactly (no critical points below every energy); Θ(+∞) the top value.
    assert float(ls.complexity(-np.inf, 3)) == -np.inf
    assert float(ls.complexity(1e39, 3)) == pytest.approx(0.5 * math.log(2), abs=1e-7)
    # Points beyond float32 round to ±∞, where the semicircle's values are exact.
    assert float(ls.semicircle_density(1e39, 1.0)) == 0.0
    assert float(ls.semicircle_cdf(-1e39, 1.0)) == 0.0
    assert float(ls.alpha_from_mean_eigenvalue(-np.inf, 2.0)) == 1.0
    assert float(ls.index_at_energy_density(1e39, 1.5)) == 1.0
    assert float(ls.index_at_energy(-np.inf, 3)) == 0.0
    # The density is 2/(πR)·√((1−t)(1+t)): no R² underflows. At R = float32's smallest normal
    # (1.1754944e-38), ρ(0) = 2/(πR) = 5.41598e37, and ρ = 0 off the (tiny) support; before,
    # R² flushed to 0 and both were inf/NaN.
    r = float(np.finfo(np.float32).tiny)
    np.testing.assert_allclose(float(ls.semicircle_density(0.0, r)), 2 / (math.pi * r), rtol=1e-6)
    assert float(ls.semicircle_density(0.5, 1e-20)) == 0.0
    assert float(ls.semicircle_cdf(0.5, r)) == 1.0
    # Valid values keep their closed form (to 2 float32 ulps; the old R² form lost 4e-5
    # relative near the edges): ρ(R/2) = √3/(πR) for R = 2.
    np.testing.assert_allclose(float(ls.semicircle_density(1.0, 2.0)), math.sqrt(3) / (2 * math.pi),
                               rtol=2e-7)
    # ε_c = ±∞ stays allowed (½ everywhere); a finite ε_c = 1e39 is rejected above, since
    # ε/1e39 is not 0 for every float32 ε.
    assert float(ls.positive_fraction_at_energy_density(3e38, -np.inf)) == 0.5


def test_traced_arguments_are_not_checked_and_still_compile():
    # Under jit the checks cannot run: the functions trace, and give the values.
    f = jax.jit(lambda x, r: ls.semicircle_density(x, r))
    np.testing.assert_allclose(float(f(0.0, 2.0)), 1 / math.pi, rtol=1e-6)
    g = jax.jit(lambda u: ls.complexity(u, 3, 0))
    np.testing.assert_allclose(float(g(-1.65)), 0.004254, atol=1e-6)
    h = jax.jit(lambda e: ls.mean_eigenvalue_at_energy_density(e, 1.0, -1.0, 1.0))
    assert float(h(-1.0)) == 1.0
    grad = jax.grad(lambda c2: ls.complexity_quadratic(jnp.array([1.0, 2.0]), 1.0, c2, _M2))
    assert float(grad(2.0)) == -2.5  # −½ uᵀMu = −½·5
