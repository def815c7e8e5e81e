# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Tests for the spherical p-spin Hamiltonians (complexity_optax/landscape/_spin_glass.py)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from optimised_jit import optimised_jit

import complexity_optax as co
from complexity_optax import landscape as ls

# Reference numbers (shared notes, spin_glass_and_annealsgd.md §2): p = 3, ABC normalisation.
E_INF_3 = 1.632993
E_0_3 = 1.656998


def _numpy_energy(couplings, coefficients, field_vector, sigma):
    """Brute-force H(σ) with one full einsum per term, in float64."""
    s = np.asarray(sigma, np.float64)
    n = s.shape[0]
    total = float(np.asarray(field_vector, np.float64) @ s)
    letters = "abcdefgh"
    for c, j in zip(np.asarray(coefficients, np.float64), couplings):
        p = j.ndim
        spec = letters[:p] + "," + ",".join(letters[:p]) + "->"
        total += c * n ** (-(p - 1) / 2) * np.einsum(spec, np.asarray(j, np.float64), *([s] * p))
    return total


def _numpy_gradient_3spin(j, field_vector, sigma):
    """Closed form ∇H for a pure 3-spin: the three partial contractions, in float64."""
    j = np.asarray(j, np.float64)
    s = np.asarray(sigma, np.float64)
    n = s.shape[0]
    g = (
        np.einsum("ijk,j,k->i", j, s, s)
        + np.einsum("jik,j,k->i", j, s, s)
        + np.einsum("jki,j,k->i", j, s, s)
    )
    return g / n + np.asarray(field_vector, np.float64)


def _sphere_point(key, n, dtype=jnp.float32):
    x = jax.random.normal(key, (n,), dtype)
    return x * jnp.sqrt(jnp.asarray(n, dtype)) / jnp.linalg.norm(x)


# ------------------------------------------------------------------------------------------------
# Energy and gradient against brute force.


@pytest.mark.parametrize("p, field", [(2, 0.0), (2, 0.7), (3, 0.0), (3, 1.3)])
def test_energy_matches_numpy_einsum(p, field):
    n = 6
    ham = ls.pure_p_spin(jax.random.key(p), n, p, field=field)
    assert ham.degrees == (p,) and ham.n == n
    assert ham.couplings[0].shape == (n,) * p
    for i in range(3):
        sigma = _sphere_point(jax.random.key(10 + i), n)
        want = _numpy_energy(ham.couplings, ham.coefficients, ham.field_vector, sigma)
        np.testing.assert_allclose(float(ham.energy(sigma)), want, rtol=2e-5, atol=2e-5)
        np.testing.assert_allclose(float(ham(sigma)), want, rtol=2e-5, atol=2e-5)
        np.testing.assert_allclose(
            float(ham.energy_per_spin(sigma)), want / n, rtol=2e-5, atol=2e-5
        )
        np.testing.assert_allclose(float(ls.p_spin_energy(ham, sigma)), want, rtol=2e-5, atol=2e-5)


def test_field_vector_norm_and_zero_field():
    n = 40
    ham = ls.pure_p_spin(jax.random.key(0), n, 2, field=1.5)
    np.testing.assert_allclose(float(jnp.sum(ham.field_vector**2)), n * 1.5**2, rtol=1e-5)
    assert not np.allclose(ham.field_vector, ham.field_vector[0])  # A random direction.
    no_field = ls.pure_p_spin(jax.random.key(0), n, 2)
    assert float(jnp.max(jnp.abs(no_field.field_vector))) == 0.0


def test_mixed_p_spin_energy_and_coefficient_forms():
    n = 6
    ham = ls.mixed_p_spin(jax.random.key(1), n, {3: 0.5, 2: 2.0}, field=0.3)
    assert ham.degrees == (2, 3)
    np.testing.assert_allclose(np.asarray(ham.coefficients), [2.0, 0.5])
    sigma = _sphere_point(jax.random.key(2), n)
    want = _numpy_energy(ham.couplings, ham.coefficients, ham.field_vector, sigma)
    np.testing.assert_allclose(float(ham.energy(sigma)), want, rtol=2e-5, atol=2e-5)
    # The mixture is exactly Σ c_p H_p + field, each H_p a pure p-spin with its own couplings.
    pure = [ls.PSpinHamiltonian((j,), jnp.ones(1), jnp.zeros(n)) for j in ham.couplings]
    parts = 2.0 * pure[0].energy(sigma) + 0.5 * pure[1].energy(sigma)
    np.testing.assert_allclose(
        float(ham.energy(sigma)), float(parts + ham.field_vector @ sigma), rtol=1e-5, atol=1e-5
    )
    # Sequence form: c_p for p = 1, 2, ...; zeros are dropped.
    seq = ls.mixed_p_spin(jax.random.key(1), n, [0.0, 1.0, 0.0, 0.25])
    assert seq.degrees == (2, 4)
    np.testing.assert_allclose(np.asarray(seq.coefficients), [1.0, 0.25])


@pytest.mark.parametrize("field", [0.0, 0.8])
def test_gradient_matches_closed_form_and_jax_grad(field):
    n = 6
    ham = ls.pure_p_spin(jax.random.key(3), n, 3, field=field)
    sigma = _sphere_point(jax.random.key(4), n)
    want = _numpy_gradient_3spin(ham.couplings[0], ham.field_vector, sigma)
    np.testing.assert_allclose(np.asarray(ham.gradient(sigma)), want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        np.asarray(ls.p_spin_gradient(ham, sigma)),
        np.asarray(jax.grad(ham.energy)(sigma)),
        rtol=1e-5,
        atol=1e-5,
    )
    # Euler: a degree-p form plus a linear field gives ∇H·σ = p H_p + ⟨h, σ⟩.
    h_dot = float(ham.field_vector @ sigma)
    np.testing.assert_allclose(
        float(ham.gradient(sigma) @ sigma),
        3.0 * (float(ham.energy(sigma)) - h_dot) + h_dot,
        rtol=1e-4,
        atol=1e-4,
    )
    # The Riemannian gradient is tangent and equals the projected Euclidean one.
    rg = np.asarray(ham.spherical_gradient(sigma), np.float64)
    s = np.asarray(sigma, np.float64)
    assert abs(rg @ s) < 1e-3
    np.testing.assert_allclose(rg, want - (want @ s) / (s @ s) * s, rtol=1e-4, atol=1e-4)


def test_gradient_matches_finite_differences_float64():
    with jax.enable_x64(True):
        n = 6
        ham = ls.mixed_p_spin(jax.random.key(5), n, {2: 1.0, 3: 0.7}, field=0.4, dtype=jnp.float64)
        sigma = _sphere_point(jax.random.key(6), n, jnp.float64)
        g = np.asarray(ham.gradient(sigma))
        assert g.dtype == np.float64
        eps = 1e-6
        energy = np.vectorize(lambda i, sign: float(ham.energy(sigma + sign * eps * np.eye(n)[i])))
        fd = (energy(np.arange(n), 1.0) - energy(np.arange(n), -1.0)) / (2 * eps)
        np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-8)


# ------------------------------------------------------------------------------------------------
# The ABC covariance E[H(σ)H(σ')] = N (σ·σ'/N)^p, by Monte Carlo over disorder draws.


@functools.partial(jax.jit, static_argnums=(1, 2))
def _energies_over_draws(keys, n, p, sigmas):
    def one(key):
        ham = ls.pure_p_spin(key, n, p)
        return jax.vmap(lambda s: ls.p_spin_energy(ham, s))(sigmas)

    return jax.vmap(one)(keys)


@pytest.mark.parametrize("p", [2, 3])
def test_abc_covariance_monte_carlo(p):
    n, draws, q = 8, 4000, 0.5
    s1 = _sphere_point(jax.random.key(20), n)
    u = jax.random.normal(jax.random.key(21), (n,))
    u = u - (u @ s1) / n * s1  # Orthogonal to s1.
    s2 = q * s1 + np.sqrt(1 - q**2) * u * jnp.sqrt(n) / jnp.linalg.norm(u)  # σ·σ'/N = q.
    np.testing.assert_allclose(float(s1 @ s2) / n, q, rtol=1e-5)
    keys = jax.random.split(jax.random.key(p), draws)
    e = np.asarray(_energies_over_draws(keys, n, p, jnp.stack([s1, s2])), np.float64)
    # E[H²] = N and E[H H'] = N q^p (standard errors about N·√(2/draws) = 0.18 and 0.13).
    assert abs(np.mean(e[:, 0] ** 2) - n) < 0.1 * n
    assert abs(np.mean(e[:, 1] ** 2) - n) < 0.1 * n
    assert abs(np.mean(e[:, 0] * e[:, 1]) - n * q**p) < 0.07 * n
    assert abs(np.mean(e[:, 0])) < 0.15 * np.sqrt(n)  # Centred.
    # A coefficient c scales H by c, the covariance by c² (mixture ξ(q) = Σ c_p² q^p).
    scaled = ls.mixed_p_spin(keys[0], n, {p: 2.0})
    np.testing.assert_allclose(float(scaled.energy(s1)), 2.0 * e[0, 0], rtol=1e-5, atol=1e-4)


# ------------------------------------------------------------------------------------------------
# Pytree behaviour: the Hamiltonian is a jit argument (no recompilation for a new draw).


def test_hamiltonian_is_a_pytree_argument_without_recompilation():
    traces = []

    @jax.jit
    def energy(ham, sigma):
        traces.append(1)
        return ls.p_spin_energy_per_spin(ham, sigma)

    n = 6
    sigma = _sphere_point(jax.random.key(0), n)
    values = [float(energy(ls.pure_p_spin(jax.random.key(i), n, 3), sigma)) for i in range(3)]
    assert len(traces) == 1
    assert len(set(values)) == 3
    leaves = jax.tree.leaves(ls.pure_p_spin(jax.random.key(0), n, 3))
    assert [leaf.shape for leaf in leaves] == [(n, n, n), (1,), (n,)]


def test_construction_errors_name_the_parameter():
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="^p"):
        ls.pure_p_spin(key, 5, 0)
    with pytest.raises(TypeError, match="^p"):
        ls.pure_p_spin(key, 5, 2.5)
    with pytest.raises(TypeError, match="^n"):
        ls.pure_p_spin(key, 5.0, 2)
    with pytest.raises(ValueError, match="^n"):
        ls.pure_p_spin(key, 0, 2)
    with pytest.raises(ValueError, match="^n"):
        ls.pure_p_spin(key, 5000, 3)  # 1.25e11 couplings.
    with pytest.raises(ValueError, match="^field"):
        ls.pure_p_spin(key, 5, 2, field=-1.0)
    with pytest.raises(ValueError, match="^coefficients"):
        ls.mixed_p_spin(key, 5, {2: 0.0})
    with pytest.raises(ValueError, match="^coefficients"):
        ls.mixed_p_spin(key, 5, {2: float("nan")})
    with pytest.raises(TypeError, match="^coefficients"):
        ls.mixed_p_spin(key, 5, 1.0)


def test_integer_dtype_is_rejected_and_float_dtypes_keep_the_instance():
    key = jax.random.key(3)
    for bad in (jnp.int32, "int8", bool, jnp.complex64):
        with pytest.raises(TypeError, match="^dtype"):
            ls.pure_p_spin(key, 4, 3, dtype=bad)
        with pytest.raises(TypeError, match="^dtype"):
            ls.mixed_p_spin(key, 4, {2: 1.0}, dtype=bad)
    f32 = ls.pure_p_spin(key, 4, 3)
    bf16 = ls.pure_p_spin(key, 4, 3, dtype=jnp.bfloat16)
    assert bf16.couplings[0].dtype == jnp.bfloat16
    np.testing.assert_allclose(np.asarray(bf16.couplings[0], np.float32),
                               np.asarray(f32.couplings[0]), rtol=1e-2)


def test_spherical_gradient_at_the_origin_is_the_euclidean_gradient():
    # Issue 13: 0/0 = NaN at σ = 0; there is no radial direction to remove there.
    n = 5
    ham = ls.pure_p_spin(jax.random.key(4), n, 1, field=0.7)  # ∇H(0) = J/1 + h ≠ 0
    zero = jnp.zeros(n)
    g = np.asarray(ls.p_spin_spherical_gradient(ham, zero))
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, np.asarray(ls.p_spin_gradient(ham, zero)), rtol=1e-6)
    assert np.linalg.norm(g) > 0.1
    ham3 = ls.pure_p_spin(jax.random.key(4), n, 3)
    assert np.all(np.asarray(ham3.spherical_gradient(zero)) == 0.0)  # ∇H(0) = 0 for p = 3


# ------------------------------------------------------------------------------------------------
# Projected gradient descent on the sphere: finite-N energies and field trivialisation.


@optimised_jit  # compute-bound: N = 200 is 16 starts × 400 steps of an N³ gradient
def _descend(ham, starts, learning_rate, steps):
    """Riemannian GD (tangent gradient, sgd step, retraction), vmapped over starts."""
    tx = optax.chain(co.tangent_projection(), optax.sgd(learning_rate), co.project_onto_sphere())

    def one(sigma0):
        def step(_, carry):
            sigma, state = carry
            updates, state = tx.update(ham.gradient(sigma), state, sigma)
            return optax.apply_updates(sigma, updates), state

        sigma, _ = jax.lax.fori_loop(0, steps, step, (sigma0, tx.init(sigma0)))
        return sigma

    ends = jax.vmap(one)(starts)
    per_spin = jax.vmap(lambda s: ls.p_spin_energy_per_spin(ham, s))(ends)
    grad_norm = jax.vmap(lambda s: jnp.linalg.norm(ls.p_spin_spherical_gradient(ham, s)))(ends)
    return ends, per_spin, grad_norm / jnp.sqrt(starts.shape[1])


def _starts(key, n, count):
    return jax.vmap(lambda k: co.sphere_init(k, jnp.zeros(n)))(jax.random.split(key, count))


def _gd_energies(n, instances, steps, starts=16, learning_rate=0.2):
    energies, grads = [], []
    for i in range(instances):
        ham = ls.pure_p_spin(jax.random.key(1000 + i), n, 3)
        _, e, g = _descend(ham, _starts(jax.random.key(i), n, starts), learning_rate, steps)
        energies.append(np.asarray(e))
        grads.append(np.asarray(g))
    return np.concatenate(energies), np.concatenate(grads)


@functools.lru_cache(maxsize=None)
def _gd_mean(n):
    # (instances, steps): fewer instances at larger N (cost N³ per start and step).
    instances, steps = {50: (8, 600), 100: (2, 600), 200: (1, 400)}[n]
    energies, grads = _gd_energies(n, instances, steps)
    return float(np.mean(energies)), energies, grads


def test_projected_gd_n100_matches_finite_size_reference():
    mean, energies, grads = _gd_mean(100)
    # Notes: N = 100, mean −1.547, std 0.027 per start (2 instances × 32 starts).
    assert abs(mean + 1.547) < 0.04
    assert 0.005 < np.std(energies) < 0.06
    assert np.median(grads) < 0.01  # Essentially at critical points.
    # Typical GD minima lie above the threshold, and (almost) all above the ground state.
    assert mean > -E_INF_3
    assert np.mean(energies < -E_0_3) < 0.1


def test_projected_gd_energy_decreases_towards_threshold_with_n():
    means = [_gd_mean(n)[0] for n in (50, 100, 200)]
    # Notes: −1.490 (N=50), −1.547 (N=100), −1.582 (N=200), → −E_∞ = −1.633.
    assert means[0] > means[1] > means[2]
    assert all(m > -E_0_3 for m in means)
    assert -E_INF_3 < means[2] < -1.55
    assert means[2] - (-E_INF_3) < means[0] - (-E_INF_3)


def test_strong_field_trivialises_the_landscape():
    n, count = 50, 16
    ham_field = ls.pure_p_spin(jax.random.key(7), n, 3, field=3.0)  # field² = 9 > p(p−2) = 3.
    ham_free = ls.pure_p_spin(jax.random.key(7), n, 3)
    starts = _starts(jax.random.key(8), n, count)
    off_diagonal = ~np.eye(count, dtype=bool)

    ends, _, grads = _descend(ham_field, starts, 0.1, 500)
    overlaps = (np.asarray(ends) @ np.asarray(ends).T / n)[off_diagonal]
    assert np.max(grads) < 1e-3
    assert np.min(overlaps) > 0.99  # Every start ends at the same (unique) minimum.

    ends, _, _ = _descend(ham_free, starts, 0.1, 500)
    overlaps = (np.asarray(ends) @ np.asarray(ends).T / n)[off_diagonal]
    assert np.mean(overlaps < 0.9) > 0.75  # Without field: many distinct minima.
    assert np.min(overlaps) < 0.5


@pytest.mark.slow
def test_projected_gd_n400_approaches_threshold():
    energies, grads = _gd_energies(400, 1, 600)
    # Notes: N = 400, mean −1.5966, std 0.0139 (1 instance × 16 starts).
    assert abs(np.mean(energies) + 1.597) < 0.03
    assert np.mean(energies) < _gd_mean(200)[0]
    assert np.mean(energies) > -E_INF_3
