# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Adaptive cubic regularisation: the Lanczos/secular subproblem against dense float64
references, the σ → 0 Newton limit, Moré–Garbow–Hillstrom problems, saddle escape, exact counts
and the run-time guards of the optax transformation (the shared contract checks the rest)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.optimize

import complexity_optax as co
from complexity_optax._src.regularized_newton import cubic_regularization as arc_module
from complexity_optax._src.regularized_newton.cubic_subproblem import solve_cubic_tridiagonal


@functools.cache
def _jitted_subproblem(max_iters, with_diagonal):
    def solve(h, g, sigma, diagonal):
        return co.cubic_subproblem(lambda v: h @ v, g, sigma,
                                   diagonal=diagonal if with_diagonal else None,
                                   max_iters=max_iters, kappa=1e-12)

    return jax.jit(solve)


def _subproblem64(h, g, sigma, max_iters, diagonal=None):
    """The subproblem in float64 with an explicit matrix (kappa tiny: the whole Krylov cap)."""
    with jax.enable_x64(True):
        fn = _jitted_subproblem(max_iters, diagonal is not None)
        d = jnp.asarray(diagonal if diagonal is not None else np.ones(len(g)), jnp.float64)
        res = fn(jnp.asarray(h, jnp.float64), jnp.asarray(g, jnp.float64),
                 jnp.float64(sigma), d)
        return jax.tree.map(np.asarray, res)


def _random_symmetric(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    return (a + a.T) / 2 + shift * np.eye(n), rng.normal(size=n)


def _dense_cubic_minimiser(h, g, sigma):
    """Global minimiser of gᵀs + ½sᵀHs + σ/3‖s‖³ (float64, easy case): the secular equation
    λ = σ‖(H + λI)⁻¹g‖ on λ > max(0, −λ_min), by brentq."""
    evals, vecs = np.linalg.eigh(h)
    c = vecs.T @ g
    lo = max(0.0, -evals[0]) + 1e-14

    def h_of(lam):
        return lam - sigma * np.linalg.norm(c / (evals + lam))

    hi = lo + 1.0
    while h_of(hi) < 0:
        hi *= 2.0
    lam = scipy.optimize.brentq(h_of, lo, hi, xtol=1e-15, rtol=1e-15)
    return -vecs @ (c / (evals + lam)), lam


@pytest.mark.parametrize("seed,sigma", [(0, 0.5), (1, 2.0), (2, 0.05)])
def test_full_krylov_subproblem_matches_dense_float64_reference(seed, sigma):
    n = 8
    h, g = _random_symmetric(n, seed)
    assert np.linalg.eigvalsh(h)[0] < 0  # indefinite
    res = _subproblem64(h, g, sigma, n)
    s, lam = res.step, float(res.multiplier)
    s_ref, lam_ref = _dense_cubic_minimiser(h, g, sigma)
    # ARC optimality: (H + σ‖s‖I)s = −g and H + σ‖s‖I ⪰ 0.
    assert lam == pytest.approx(sigma * np.linalg.norm(s), rel=1e-12)
    assert np.linalg.norm((h + lam * np.eye(n)) @ s + g) < 1e-9 * np.linalg.norm(g)
    assert np.linalg.eigvalsh(h + lam * np.eye(n))[0] > -1e-10
    np.testing.assert_allclose(s, s_ref, rtol=1e-8, atol=1e-10)
    assert lam == pytest.approx(lam_ref, rel=1e-9)
    model = g @ s + 0.5 * s @ h @ s + sigma / 3 * np.linalg.norm(s) ** 3
    assert float(res.model_decrease) == pytest.approx(-model, rel=1e-10)
    assert int(res.iterations) == n


def test_partial_krylov_solution_is_optimal_in_the_subspace():
    """k = 3 < n Lanczos columns: with Q an orthonormal basis of K_3(H, g) (dense QR),
    Qᵀ((H + λI)s + g) = 0, QᵀHQ + λI ⪰ 0 and s ∈ span(Q)."""
    n, k, sigma = 8, 3, 1.0
    h, g = _random_symmetric(n, 5)
    res = _subproblem64(h, g, sigma, k)
    s, lam = res.step, float(res.multiplier)
    krylov = np.stack([np.linalg.matrix_power(h, i) @ g for i in range(k)], axis=1)
    q, _ = np.linalg.qr(krylov)
    assert int(res.iterations) == k
    assert lam == pytest.approx(sigma * np.linalg.norm(s), rel=1e-12)
    np.testing.assert_allclose(q.T @ ((h + lam * np.eye(n)) @ s + g), 0.0, atol=1e-9)
    assert np.linalg.eigvalsh(q.T @ h @ q + lam * np.eye(k))[0] > -1e-10
    np.testing.assert_allclose(q @ (q.T @ s), s, atol=1e-10)


def test_sigma_to_zero_on_a_convex_quadratic_gives_the_newton_step():
    n = 8
    h, g = _random_symmetric(n, 3, shift=7.0)
    assert np.linalg.eigvalsh(h)[0] > 0
    res = _subproblem64(h, g, 1e-10, n)
    np.testing.assert_allclose(res.step, -np.linalg.solve(h, g), rtol=1e-8)


def test_ellipsoidal_cubic_model_optimality():
    """‖s‖_A³ with A = diag(a): (H + σ‖s‖_A A)s = −g and H + σ‖s‖_A A ⪰ 0."""
    n, sigma = 8, 0.7
    h, g = _random_symmetric(n, 7)
    a = np.linspace(0.5, 3.0, n)
    res = _subproblem64(h, g, sigma, n, diagonal=a)
    s = res.step
    norm_a = np.sqrt(np.sum(a * s * s))
    assert float(res.step_norm) == pytest.approx(norm_a, rel=1e-10)
    shifted = h + sigma * norm_a * np.diag(a)
    assert np.linalg.norm(shifted @ s + g) < 1e-9 * np.linalg.norm(g)
    assert np.linalg.eigvalsh(shifted)[0] > -1e-10


def test_tridiagonal_hard_case():
    """T = diag(2, −1), g ∝ e₁ ⟂ the eigenvector of −1, σ = 1: σψ(1) = 1/3 < 1, so λ = 1 and the
    deficit is filled along e₂: u = (−1/3, ±√(8/9)), ‖u‖ = λ/σ = 1."""
    with jax.enable_x64(True):
        u, lam, model = solve_cubic_tridiagonal(jnp.array([2.0, -1.0]), jnp.zeros(1),
                                                jnp.float64(1.0), jnp.float64(1.0))
        u = np.asarray(u)
    assert float(lam) == pytest.approx(1.0, abs=1e-8)
    assert abs(u[0]) == pytest.approx(1.0 / 3.0, rel=1e-7)
    assert abs(u[1]) == pytest.approx(np.sqrt(8.0 / 9.0), rel=1e-6)
    expected = -1.0 / 3.0 + 0.5 * (2.0 / 9.0 - 8.0 / 9.0) + 1.0 / 3.0
    assert float(model) == pytest.approx(expected, abs=1e-8)


def test_hvp_count_is_exact():
    """A debug callback counts the products actually executed inside the while_loop."""
    calls = []
    h, g = _random_symmetric(12, 11)
    hj = jnp.asarray(h, jnp.float32)

    def hvp_fn(v):
        jax.debug.callback(lambda: calls.append(1))
        return hj @ v

    res = jax.jit(lambda g: co.cubic_subproblem(hvp_fn, g, 1.0, max_iters=12, kappa=0.1))(
        jnp.asarray(g, jnp.float32))
    jax.block_until_ready(res)
    assert 1 <= int(res.iterations) < 12  # the TC.s rule stopped it early
    assert len(calls) == int(res.iterations)


def _rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _extended_rosenbrock(x):
    """Moré–Garbow–Hillstrom problem 21: decoupled pairs (the chained Rosenbrock has a second
    local minimum near x₁ = −1 for n ≥ 4)."""
    odd, even = x[0::2], x[1::2]
    return jnp.sum(100.0 * (even - odd ** 2) ** 2 + (1.0 - odd) ** 2)


def _powell_singular(x):
    return ((x[0] + 10 * x[1]) ** 2 + 5 * (x[2] - x[3]) ** 2 + (x[1] - 2 * x[2]) ** 4
            + 10 * (x[0] - x[3]) ** 4)


MGH = {
    "rosenbrock": (_rosenbrock, [-1.2, 1.0], [1.0, 1.0], 1e-3),
    "powell_singular": (_powell_singular, [3.0, -1.0, 0.0, 1.0], [0.0] * 4, 3e-2),
    "extended_rosenbrock_10": (_extended_rosenbrock, [-1.2, 1.0] * 5, [1.0] * 10, 1e-3),
}


@pytest.mark.parametrize("name", list(MGH))
def test_minimize_cubic_converges_on_more_garbow_hillstrom_problems(name):
    fun, x0, xstar, atol = MGH[name]
    with jax.enable_x64(True):
        res = co.minimize_cubic(fun, jnp.asarray(x0, jnp.float64), gtol=1e-6)
        assert bool(res.converged), int(res.status)
        np.testing.assert_allclose(np.asarray(res.params), xstar, atol=atol)
        # One linearisation per step plus the last one; one trial value per step.
        assert int(res.num_grads) == 1 + int(res.num_steps)
        assert int(res.num_hvps) >= int(res.num_steps)
        assert int(res.num_values) == 1 + 2 * int(res.num_steps)
        assert int(res.num_accepted) <= int(res.num_steps)
        np.testing.assert_allclose(float(res.grad_norm),
                                   float(jnp.linalg.norm(res.grad)), rtol=1e-12)


def _saddle(x):  # saddle at 0, minima at (0, ±√2), f = −1 there
    return x[0] ** 2 - x[1] ** 2 + 0.25 * x[1] ** 4


def test_minimize_cubic_escapes_a_saddle():
    res = co.minimize_cubic(_saddle, jnp.array([1.0, 1e-4]), gtol=1e-5)
    assert bool(res.converged)
    np.testing.assert_allclose(np.abs(np.asarray(res.params)), [0.0, np.sqrt(2.0)], atol=1e-4)
    assert float(res.value) == pytest.approx(-1.0, abs=1e-6)


def test_transformation_escapes_a_saddle_and_counts():
    tx = co.cubic_regularization(max_krylov=2)
    step = jax.jit(lambda p, s: tx.update(jax.grad(_saddle)(p), s, p, value_fn=_saddle))
    p, state = jnp.array([0.5, 1e-3]), tx.init(jnp.zeros(2))
    for _ in range(15):
        u, state = step(p, state)
        p = optax.apply_updates(p, u)
    np.testing.assert_allclose(np.abs(np.asarray(p)), [0.0, np.sqrt(2.0)], atol=1e-3)
    assert int(state.step_count) == int(state.gradient_count) == 15
    assert int(state.accepted_count) <= 15
    total_hvps = int(state.hvp_count)
    assert 15 <= total_hvps <= 30  # 1 or 2 Lanczos columns per step (max_krylov=2)


def test_counts_exact_on_a_quadratic_with_three_eigenvalues():
    """Full-batch on ½xᵀDx, D = diag(1, 2, 3): Lanczos from g breaks down after exactly 3
    columns, σ₀ tiny gives the Newton step, so one step converges: 3 HVPs, 2 linearisations
    (at x0 and at the solution), 1 + 1 + 1 values (the trial value)."""
    with jax.enable_x64(True):
        d = jnp.array([1.0, 2.0, 3.0], jnp.float64)
        fun = lambda x: 0.5 * jnp.sum(d * x * x)
        res = co.minimize_cubic(fun, jnp.array([1.0, 1.0, 1.0]), initial_sigma=1e-9,
                                min_sigma=1e-12, kappa=1e-9, gtol=1e-6)
    assert bool(res.converged)
    assert (int(res.num_steps), int(res.num_hvps), int(res.num_grads)) == (1, 3, 2)
    assert (int(res.num_values), int(res.num_accepted)) == (3, 1)


def _bounded_quadratic(p):
    """A quadratic that is NaN outside the ball of radius 1.5 (a non-finite trial value)."""
    value = 0.5 * jnp.sum((p - 3.0) ** 2)
    return jnp.where(optax.tree.norm(p) > 1.5, jnp.nan, value)


def test_non_finite_trial_value_rejects_and_increases_sigma():
    tx = co.cubic_regularization(initial_sigma=1e-3)
    step = jax.jit(lambda p, s: tx.update(jax.grad(_bounded_quadratic)(p), s, p,
                                          value_fn=_bounded_quadratic))
    p = jnp.zeros(2)
    state = tx.init(p)
    u, state2 = step(p, state)
    np.testing.assert_array_equal(np.asarray(u), 0.0)
    assert float(state2.sigma) == pytest.approx(2e-3)
    assert int(state2.accepted_count) == 0 and int(state2.hvp_count) >= 1
    assert co._src.common.tree.all_finite(state2)
    # σ grows until the step stays inside the ball, then it is accepted.
    for _ in range(20):
        u, state2 = step(p, state2)
        p = optax.apply_updates(p, u)
    assert int(state2.accepted_count) >= 1
    assert float(_bounded_quadratic(p)) < float(_bounded_quadratic(jnp.zeros(2)))


def test_non_finite_gradient_skips_the_step():
    tx = co.cubic_regularization()
    p = jnp.ones(3)
    state = tx.init(p)
    u, state2 = tx.update(jnp.array([jnp.nan, 1.0, 1.0]), state, p,
                          value_fn=lambda q: jnp.sum(q ** 2))
    np.testing.assert_array_equal(np.asarray(u), 0.0)
    assert float(state2.sigma) == float(state.sigma)
    assert int(state2.hvp_count) == 0 and int(state2.step_count) == 1


def test_minimize_cubic_does_not_recompile():
    fun = lambda x: jnp.sum((x - 1.0) ** 2) + jnp.sum(x ** 4)
    co.minimize_cubic(fun, jnp.zeros(3))
    size = arc_module._solve._cache_size()
    res = co.minimize_cubic(fun, jnp.full(3, 2.0, jnp.float32), initial_sigma=3.0, eta1=0.2)
    assert arc_module._solve._cache_size() == size
    assert bool(res.converged)


def test_update_sigma_rule():
    rule = {"eta1": 0.1, "eta2": 0.9, "increase": 2.0, "decrease": 0.5, "min_sigma": 0.3}
    sigmas = [float(arc_module.update_sigma(jnp.float32(0.5), jnp.float32(r), **rule))
              for r in (0.95, 0.9, 0.5, 0.1, 0.05, -jnp.inf)]
    assert sigmas == pytest.approx([0.3, 0.5, 0.5, 0.5, 1.0, 1.0])


_BAD = (-1.0, float("nan"), float("inf"))
_F = lambda x: jnp.sum(x ** 2)


@pytest.mark.parametrize("bad", _BAD)
@pytest.mark.parametrize("name", ["initial_sigma", "min_sigma", "eta1", "eta2", "increase",
                                  "decrease", "kappa"])
def test_negative_or_non_finite_hyperparameters_are_rejected_at_construction(name, bad):
    with pytest.raises(ValueError, match=name):
        co.cubic_regularization(**{name: bad})
    with pytest.raises(ValueError, match=name):
        co.minimize_cubic(_F, jnp.ones(2), **{name: bad})


@pytest.mark.parametrize("bad", _BAD)
def test_sigma_of_the_subproblem_solvers_and_update_sigma_are_validated(bad):
    with pytest.raises(ValueError, match="gtol"):
        co.minimize_cubic(_F, jnp.ones(2), gtol=bad)
    with pytest.raises(ValueError, match="sigma"):
        co.cubic_subproblem(lambda v: v, jnp.ones(2), bad)
    with pytest.raises(ValueError, match="sigma"):
        solve_cubic_tridiagonal(jnp.ones(1), jnp.zeros(0), jnp.float32(1.0), bad)
    with pytest.raises(ValueError, match="min_sigma"):
        arc_module.update_sigma(jnp.float32(1.0), jnp.float32(0.5), min_sigma=bad)


@pytest.mark.parametrize("bad", [-1, 0, 2.5])
def test_step_counts_are_validated(bad):
    for name in ("max_steps", "max_krylov"):
        with pytest.raises((ValueError, TypeError), match=name):
            co.minimize_cubic(_F, jnp.ones(2), **{name: bad})
    with pytest.raises((ValueError, TypeError), match="max_krylov"):
        co.cubic_regularization(max_krylov=bad)
    with pytest.raises((ValueError, TypeError), match="max_iters"):
        co.cubic_subproblem(lambda v: v, jnp.ones(2), 1.0, max_iters=bad)


def test_subproblem_never_decreases_less_than_the_cauchy_point():
    """Regression: at ARC's 98th step on Powell's badly scaled function (float64, a Hessian of
    condition 1e17) the secular solve returned a model *increase* (decrease -3.3e-9 at
    sigma = 5.12e-6) and the solve stopped with status 2. The step now decreases the model at
    least as much as the Cauchy point (closed form along -g), and the solve converges."""
    from complexity_optax._src.regularized_newton.cubic_subproblem import (
        cauchy_point,
        cubic_subproblem,
    )
    from complexity_optax.testing.mgh_problems import PROBLEMS

    with jax.enable_x64(True):
        h = jnp.array([[1.54243443e10, 1.99999232e4], [1.99999232e4, 2.59329912e-2]])
        g = jnp.array([-3.38591589e-01, -4.51848741e-07])
        sigma = 5.12e-6
        out = cubic_subproblem(lambda v: h @ v, g, sigma, max_iters=2, kappa=0.1)
        gnorm = jnp.linalg.norm(g)
        _, cauchy = cauchy_point(g @ h @ g / gnorm**2, gnorm, jnp.float64(sigma))
        s = out.step
        true_decrease = -(g @ s + 0.5 * s @ h @ s + sigma / 3 * jnp.linalg.norm(s) ** 3)
        assert float(out.model_decrease) >= -float(cauchy) > 0
        assert float(true_decrease) == pytest.approx(float(out.model_decrease), rel=1e-6)
        p = PROBLEMS["powell_badly_scaled"]
        res = co.minimize_cubic(p.fun, jnp.asarray(p.x0(2), jnp.float64), gtol=1e-5)
        assert int(res.status) == 0 and float(res.grad_norm) <= 1e-5
