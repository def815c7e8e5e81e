# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""`TrustRegionMinimiser` through `optimistix.minimise`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

optx = pytest.importorskip("optimistix")

import complexity_optax as co


def _rosen(y, args):
    return jnp.sum(100.0 * (y[1:] - y[:-1] ** 2) ** 2 + (1.0 - y[:-1]) ** 2)


_Y0 = jnp.tile(jnp.array([-1.2, 1.0]), 5)


@pytest.mark.parametrize("ellipsoid", ["identity", "rmsprop"])
def test_rosenbrock_10d_below_1e_10_and_rejections_do_not_end_the_solve(ellipsoid):
    solver = co.TrustRegionMinimiser(rtol=1e-8, atol=1e-8, ellipsoid=ellipsoid)
    sol = optx.minimise(_rosen, solver, _Y0, max_steps=1000)
    steps, accepted = int(sol.stats["num_steps"]), int(sol.stats["num_accepted"])
    print(f"{ellipsoid}: f={float(_rosen(sol.value, None)):.2e}, {steps} steps, "
          f"{accepted} accepted, {int(sol.stats['num_hvps'])} HVPs")
    assert sol.result == optx.RESULTS.successful
    assert float(_rosen(sol.value, None)) < 1e-10
    assert accepted < steps - 1  # rejected steps happened and did not stop the solve
    # The old route stopped at f = 9.0: OptaxMinimiser reads a zero (rejected) update as
    # convergence; here the same budget goes on.
    assert float(_rosen(sol.value, None)) < 9.0


def test_args_has_aux_max_steps_and_throw():
    fn = lambda y, a: (jnp.sum((y - a) ** 2) + jnp.sum((y - a) ** 4), {"shift": a})
    a = jnp.array([1.0, -2.0, 3.0])
    sol = optx.minimise(fn, co.TrustRegionMinimiser(1e-6, 1e-6), jnp.zeros(3), args=a,
                        has_aux=True)
    np.testing.assert_allclose(sol.value, a, atol=1e-4)
    np.testing.assert_array_equal(sol.aux["shift"], a)
    with pytest.raises(Exception, match="maximum number of steps"):
        optx.minimise(_rosen, co.TrustRegionMinimiser(1e-8, 1e-8), _Y0, max_steps=3)
    sol = optx.minimise(_rosen, co.TrustRegionMinimiser(1e-8, 1e-8), _Y0, max_steps=3,
                        throw=False)
    assert sol.result != optx.RESULTS.successful and "maximum number" in repr(sol.result)


def test_grad_through_minimise_matches_the_closed_form():
    """argmin of 1/2 y^T D y - a^T y + c |y|^2/2 ... = a / (d + c): d/da = diag(1/(d+c))."""
    d = jnp.array([1.0, 2.0, 4.0])

    def solve(a, c):
        fn = lambda y, args: 0.5 * jnp.sum((d + args[1]) * y**2) - args[0] @ y
        sol = optx.minimise(fn, co.TrustRegionMinimiser(rtol=1e-7, atol=1e-7), jnp.zeros(3),
                            args=(a, c))
        return sol.value

    a, c = jnp.array([1.0, 2.0, 3.0]), jnp.asarray(0.5)
    np.testing.assert_allclose(solve(a, c), a / (d + c), rtol=1e-5)
    np.testing.assert_allclose(jax.jacobian(solve)(a, c), jnp.diag(1.0 / (d + c)), rtol=1e-5)
    np.testing.assert_allclose(jax.grad(lambda c: jnp.sum(solve(a, c)))(c),
                               -jnp.sum(a / (d + c) ** 2), rtol=1e-4)


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="^max_radius"):
        co.TrustRegionMinimiser(1e-6, 1e-6, max_radius=float("inf"))
    with pytest.raises(ValueError, match="^subproblem"):
        co.TrustRegionMinimiser(1e-6, 1e-6, subproblem="exact")


@pytest.mark.parametrize("initial_radius", [1e-9, 1e-7, 1e-6])
def test_tiny_initial_radius_grows_and_does_not_stop_at_the_start(initial_radius):
    """Audit: TrustRegionMinimiser(initial_radius=1e-9) (and <= 1e-6 with rtol = atol = 1e-6)
    returned "successful" after 2 steps at the starting point (10-d Rosenbrock: f = 2057,
    ||g|| = 2069). A step limited by the radius passed the Cauchy test (|dy| <= atol + rtol |y|),
    and a step that rounded back to y was read as a rejection at the floor radius. Now the
    radius grows and the solve reaches the minimum (f* = 0 at (1, ..., 1)), with the gradient at
    the float32 floor ||H*|| ||ulp(y*)|| / (2 (1 - kappa)) (kappa = cg_rtol = 0.5, dense float64
    Hessian at y* = 1: ||H*|| = 1763 (lambda_max), ||ulp(1)|| = sqrt(10) 2^-23)."""
    solver = co.TrustRegionMinimiser(rtol=1e-6, atol=1e-6, initial_radius=initial_radius)
    sol = optx.minimise(_rosen, solver, _Y0, max_steps=2000, throw=False)
    assert sol.result == optx.RESULTS.successful
    assert int(sol.stats["num_steps"]) > 20
    assert float(sol.stats["radius"]) > 1e3 * initial_radius
    y = np.asarray(sol.value, np.float64)
    with jax.enable_x64(True):
        grad = np.asarray(jax.grad(_rosen)(jnp.asarray(y), None))
        hess = np.asarray(jax.hessian(_rosen)(jnp.ones(10, jnp.float64), None))
    floor = np.linalg.norm(hess, 2) * np.sqrt(10) * 2.0**-23 / (2 * (1 - 0.5))
    assert np.linalg.norm(grad) <= floor, (np.linalg.norm(grad), floor)
    # In the basin of y* (H* >= mu I): f - f* <= ||g||^2 / (2 mu), a factor 2 for the cubic term.
    mu = np.linalg.eigvalsh(hess)[0]
    assert float(_rosen(sol.value, None)) <= np.linalg.norm(grad) ** 2 / mu
    np.testing.assert_allclose(y, 1.0, atol=1e-3)


def test_precision_floor_of_a_truncated_solve_is_not_success():
    """Wood's function (float32) with max_cg_iters=2 stalls at f = 7.877, ||g|| = 0.0146 (f* = 0):
    the truncated CG steps stop making resolvable progress. That was "successful" (the precision
    floor); it is a failure now. Without the cap the solve reaches f* = 0."""
    from complexity_optax.testing.mgh_problems import get_problem

    wood = get_problem("wood")
    fn = lambda y, args: wood.fun(y)
    y0 = jnp.asarray(wood.x0(4), jnp.float32)
    capped = optx.minimise(fn, co.TrustRegionMinimiser(1e-8, 1e-8, max_cg_iters=2), y0,
                           max_steps=3000, throw=False)
    assert capped.result == optx.RESULTS.nonlinear_divergence
    assert float(jnp.linalg.norm(jax.grad(wood.fun)(capped.value))) > 1e-3
    full = optx.minimise(fn, co.TrustRegionMinimiser(1e-8, 1e-8), y0, max_steps=3000)
    assert full.result == optx.RESULTS.successful
    np.testing.assert_allclose(full.value, 1.0, atol=1e-3)  # Wood's minimiser (1, 1, 1, 1)
