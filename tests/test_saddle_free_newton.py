# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Saddle-free Newton: −|H|⁻¹g against a dense eigendecomposition, repulsion from a quadratic
saddle (plain Newton is attracted), the Krylov-subspace formula, the damping line search, the
full-batch solver and the counters (the shared contract checks the rest)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co
from complexity_optax._src.regularized_newton import saddle_free_newton as sfn_module


def _abs_inverse(h, shift=0.0):
    evals, vecs = np.linalg.eigh(h)
    return vecs @ np.diag(1.0 / (np.abs(evals) + shift)) @ vecs.T


def _random_symmetric(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    return (a + a.T) / 2, rng.normal(size=n)


@pytest.mark.parametrize("damping", [0.0, 0.1])
def test_full_krylov_step_is_minus_abs_hessian_inverse_gradient(damping):
    n = 8
    h, g = _random_symmetric(n, 0)
    evals = np.linalg.eigvalsh(h)
    assert evals[0] < 0 < evals[-1]
    with jax.enable_x64(True):
        hj = jnp.asarray(h)
        d = co.saddle_free_direction(lambda v: hj @ v, jnp.asarray(g), krylov_dim=n,
                                     damping=damping)
    expected = -_abs_inverse(h, damping * np.max(np.abs(evals))) @ g
    np.testing.assert_allclose(np.asarray(d), expected, rtol=1e-8, atol=1e-10)


def test_partial_krylov_step_is_the_subspace_formula():
    """k < n: −V|T|⁻¹Vᵀg with V an orthonormal basis of K_k(H, g) (dense QR) and T = VᵀHV."""
    n, k = 10, 4
    h, g = _random_symmetric(n, 1)
    with jax.enable_x64(True):
        hj = jnp.asarray(h)
        d = co.saddle_free_direction(lambda v: hj @ v, jnp.asarray(g), krylov_dim=k)
    v, _ = np.linalg.qr(np.stack([np.linalg.matrix_power(h, i) @ g for i in range(k)], axis=1))
    expected = -v @ _abs_inverse(v.T @ h @ v) @ (v.T @ g)
    np.testing.assert_allclose(np.asarray(d), expected, rtol=1e-8, atol=1e-10)
    # g lies in the Krylov space: nothing of it is dropped.
    np.testing.assert_allclose(v @ (v.T @ g), g, atol=1e-12)


def test_quadratic_saddle_repels_saddle_free_newton_and_attracts_newton():
    """f = ½xᵀDx, D = diag(2, 1, −1, −3), x = 1: SFN steps to (0, 0, 2, 2), away from the saddle
    along the negative curvature; Newton's −D⁻¹Dx = −x lands on the saddle."""
    dvec = jnp.array([2.0, 1.0, -1.0, -3.0])
    loss = lambda x: 0.5 * jnp.sum(dvec * x * x)
    x = jnp.ones(4)
    tx = co.saddle_free_newton(krylov_dim=4, damping=0.0, num_damping=1)
    u, state = tx.update(jax.grad(loss)(x), tx.init(x), x, value_fn=loss)
    new = np.asarray(x + u)
    np.testing.assert_allclose(new, [0.0, 0.0, 2.0, 2.0], atol=1e-5)
    newton = np.asarray(x) - np.linalg.solve(np.diag(np.asarray(dvec)), np.asarray(dvec))
    np.testing.assert_allclose(newton, 0.0, atol=1e-12)  # the saddle itself
    assert np.linalg.norm(new[2:]) > np.linalg.norm(np.asarray(x)[2:])
    assert float(loss(jnp.asarray(new))) < float(loss(x))
    assert (int(state.hvp_count), int(state.value_count), int(state.accepted_count)) == (4, 1, 1)


def _saddle(x):  # saddle at 0, minima at (0, ±1), f = −1/4 there
    return 0.5 * (x[0] ** 2 - x[1] ** 2) + 0.25 * x[1] ** 4


def _rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_minimize_escapes_the_saddle_and_solves_rosenbrock():
    res = co.minimize_saddle_free_newton(_saddle, jnp.array([1.0, 1e-3]), gtol=1e-6)
    assert bool(res.converged)
    # In float32 f stops resolving decreases once f - f* <= 4 eps |f*| (the precision floor):
    # with the Hessian's smallest eigenvalue 1 at (0, ±1), that is ||x - x*|| <= sqrt(8 eps/4).
    floor = float(np.sqrt(8 * np.finfo(np.float32).eps * 0.25))
    np.testing.assert_allclose(np.abs(np.asarray(res.params)), [0.0, 1.0], atol=floor)
    # One linearisation per step and one at the end; 8 line-search values per step.
    assert int(res.num_grads) == 1 + int(res.num_steps)
    assert int(res.num_values) == 1 + 9 * int(res.num_steps)
    with jax.enable_x64(True):
        res = co.minimize_saddle_free_newton(_rosenbrock, jnp.array([-1.2, 1.0], jnp.float64),
                                             gtol=1e-8)
        assert bool(res.converged), int(res.status)
        np.testing.assert_allclose(np.asarray(res.params), [1.0, 1.0], atol=1e-6)
        assert int(res.num_hvps) <= 2 * int(res.num_steps)


def test_line_search_rejects_when_every_trial_is_non_finite():
    """A loss that is NaN away from the start: every candidate is non-finite, update zero."""
    def loss(p):
        value = 0.5 * jnp.sum((p - 3.0) ** 2)
        return jnp.where(optax.tree.norm(p) > 0.5, jnp.nan, value)

    tx = co.saddle_free_newton(krylov_dim=2, damping=0.0, num_damping=2)
    p = jnp.zeros(2)
    u, state = tx.update(jax.grad(loss)(p), tx.init(p), p, value_fn=loss)
    np.testing.assert_array_equal(np.asarray(u), 0.0)
    assert int(state.accepted_count) == 0 and co._src.common.tree.all_finite(state)


def test_line_search_picks_the_damping_that_lowers_the_loss():
    """On a loss whose Newton step overshoots (quartic), a larger damping wins."""
    loss = lambda p: jnp.sum(p ** 4) + 0.01 * jnp.sum(p ** 2)
    p = jnp.array([1.0, -0.5])
    tx = co.saddle_free_newton(krylov_dim=2, damping=1e-3, damping_growth=10.0, num_damping=4)
    u, state = tx.update(jax.grad(loss)(p), tx.init(p), p, value_fn=loss)
    k = sfn_module.saddle_free_krylov(jax.hessian(loss)(p).__matmul__, jax.grad(loss)(p), 2)
    values = [float(loss(p + sfn_module._direction(k, jnp.float32(d))))
              for d in (1e-3, 1e-2, 1e-1, 1.0)]
    assert float(loss(p + u)) == pytest.approx(min(values), rel=1e-5)
    assert float(state.last_damping) == pytest.approx([1e-3, 1e-2, 1e-1, 1.0][
        int(np.argmin(values))], rel=1e-5)


def test_non_finite_gradient_skips_the_step():
    tx = co.saddle_free_newton(krylov_dim=2)
    p = jnp.ones(2)
    u, state = tx.update(jnp.array([jnp.nan, 1.0]), tx.init(p), p,
                         value_fn=lambda q: jnp.sum(q ** 2))
    np.testing.assert_array_equal(np.asarray(u), 0.0)
    assert int(state.hvp_count) == 0 and int(state.step_count) == 1


@pytest.mark.parametrize("learning_rate,damping", [(1.0, 1e-3), (0.5, 0.1)])
def test_linear_loss_takes_the_gradient_step(learning_rate, damping):
    """f = 10 + aᵀθ has H = 0, so the relative damping has no curvature scale; the rule reads it
    against a unit scale, λ = δ, and the step is −ηa/δ. The line search takes the least damped
    δ₀ (the lowest value), and every step lowers f by exactly η‖a‖²/δ₀ (it used to stay at 10)."""
    a = jnp.array([0.6, -0.8, 0.0])
    loss = lambda p: 10.0 + a @ p
    tx = co.saddle_free_newton(learning_rate, damping=damping)
    params = jnp.zeros(3)
    state = tx.init(params)
    decrease = learning_rate * 1.0 / damping        # ‖a‖ = 1
    for i in range(1, 4):
        updates, state = tx.update(jax.grad(loss)(params), state, params, value_fn=loss)
        np.testing.assert_allclose(np.asarray(updates), -learning_rate * np.asarray(a) / damping,
                                   rtol=1e-6)
        params = optax.apply_updates(params, updates)
        # float32 rounding of f = 10 − i·decrease: a few ulps of |f|.
        assert float(loss(params)) == pytest.approx(10.0 - i * decrease,
                                                    rel=8 * float(np.finfo(np.float32).eps))
        assert float(state.last_damping) == pytest.approx(damping)
    # The direction alone: −g/δ for every damping δ > 0.
    d = co.saddle_free_direction(lambda v: jnp.zeros_like(v), a, krylov_dim=3, damping=0.25)
    np.testing.assert_allclose(np.asarray(d), -np.asarray(a) / 0.25, rtol=1e-6)


_BAD = (-1.0, float("nan"), float("inf"))
_F = lambda x: jnp.sum(x ** 2)


@pytest.mark.parametrize("bad", _BAD)
def test_negative_or_non_finite_hyperparameters_are_rejected_at_construction(bad):
    for name in ("learning_rate", "damping", "damping_growth"):
        with pytest.raises(ValueError, match=name):
            co.saddle_free_newton(**{name: bad})
    for name in ("damping", "damping_growth", "gtol"):
        with pytest.raises(ValueError, match=name):
            co.minimize_saddle_free_newton(_F, jnp.ones(2), **{name: bad})
    with pytest.raises(ValueError, match="damping"):
        co.saddle_free_direction(lambda v: v, jnp.ones(2), krylov_dim=2, damping=bad)


@pytest.mark.parametrize("bad", [-1, 0, 2.5])
def test_step_counts_are_validated(bad):
    for name in ("max_steps", "krylov_dim", "num_damping"):
        with pytest.raises((ValueError, TypeError), match=name):
            co.minimize_saddle_free_newton(_F, jnp.ones(2), **{name: bad})
    for name in ("krylov_dim", "num_damping"):
        with pytest.raises((ValueError, TypeError), match=name):
            co.saddle_free_newton(**{name: bad})
    with pytest.raises((ValueError, TypeError), match="krylov_dim"):
        co.saddle_free_direction(lambda v: v, jnp.ones(2), krylov_dim=bad)


def test_full_batch_moves_its_damping_grid_on_badly_scaled_problems():
    """The first damping grid (1e-4 .. 1e3 of the largest curvature) keeps the step along a
    curvature 1e-9 of the largest ~1e5 times too short: before the grid followed the accepted
    damping (`damping_floor`), Powell's and Brown's badly scaled functions stopped at 5,000
    steps with ||g|| = 0.24 and 1.0e6. Both, and a cond-1e6 quadratic, now converge (float64,
    gtol 1e-5); a grid that moved and fails is retried on the first one, so Rosenbrock, which
    needs the large dampings again after a run of undamped steps, converges too."""
    from complexity_optax.testing.mgh_problems import PROBLEMS

    with jax.enable_x64(True):
        d = jnp.logspace(0.0, 6.0, 8, dtype=jnp.float64)

        def quadratic(x):
            return 0.5 * jnp.sum(d * (x - 1.0) ** 2)

        cases = [(PROBLEMS[name].fun, PROBLEMS[name].x0(PROBLEMS[name].n))
                 for name in ("powell_badly_scaled", "brown_badly_scaled")]
        cases += [(quadratic, jnp.zeros(8)), (PROBLEMS["rosenbrock"].fun,
                                              PROBLEMS["rosenbrock"].x0(10))]
        for fun, x0 in cases:
            res = co.minimize_saddle_free_newton(fun, jnp.asarray(x0, jnp.float64), gtol=1e-5,
                                                 max_steps=2000)
            assert bool(res.converged) and float(res.grad_norm) <= 1e-5, (fun, int(res.status))
            assert int(res.num_steps) < 1000
