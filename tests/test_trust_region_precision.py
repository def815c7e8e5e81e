# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Regression tests for the measured failures of issue 10: stalls, overflow, bad defaults."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co
from complexity_optax.testing import mgh_problems as co_problems

# A noisy least-squares problem (float32): 64 samples, 8 weights, minimum loss ~0.09.
_RNG = np.random.default_rng(0)
_A = _RNG.normal(size=(64, 8)).astype(np.float32)
_B = (_A @ _RNG.normal(size=8) + 0.3 * _RNG.normal(size=64)).astype(np.float32)


def _lsq(w, fault=False, anchor=None):
    """Mean squared error; with ``fault`` every point other than ``anchor`` is NaN."""
    a = jnp.asarray(_A, jnp.float32)
    loss = jnp.mean((a @ w.astype(jnp.float32) - _B) ** 2)
    if anchor is None:
        return loss
    away = jnp.any(w != anchor)
    return jnp.where(fault & away, jnp.nan, loss)


def _run(tx, w, steps, faults=0):
    @jax.jit
    def step(w, state, fault):
        updates, state = tx.update(optax.tree.zeros_like(w), state, w, value_fn=_lsq,
                                   fault=fault, anchor=w)
        return optax.apply_updates(w, updates), state

    state = tx.init(w)
    radii = []
    for t in range(steps):
        w, state = step(w, state, jnp.asarray(t < faults))
        radii.append(float(state.radius))
    return w, state, radii


_SPHERE = co.trust_region(ellipsoid="identity")  # library defaults: Δ0 = 0.05, x1.1, x1/1.5


def test_recovers_after_30_rejected_steps_to_the_fault_free_loss():
    w0 = jnp.zeros(8, jnp.float32)
    clean, _, _ = _run(_SPHERE, w0, 300)
    faulty, state, radii = _run(_SPHERE, w0, 330, faults=30)
    print(f"fault-free {float(_lsq(clean)):.5f}, after 30 faults {float(_lsq(faulty)):.5f}, "
          f"min radius {min(radii):.2e}, accepted {int(state.accepted_count)}")
    assert min(radii) > 0 and all(np.isfinite(radii))
    assert float(_lsq(faulty)) <= 1.01 * float(_lsq(clean))
    assert float(_lsq(clean)) < 0.5 * float(_lsq(w0))


def test_tiny_initial_radius_makes_progress():
    """Δ0 = 1e-9: θ + s rounds back to θ at first; the radius grows instead of stalling."""
    w0 = jnp.full(8, 0.5, jnp.float32)
    w, _, radii = _run(co.trust_region(ellipsoid="identity", initial_radius=1e-9), w0, 200)
    print(f"loss {float(_lsq(w0)):.4f} -> {float(_lsq(w)):.4f}, max radius {max(radii):.2e}")
    assert float(_lsq(w)) < 0.2 * float(_lsq(w0)) and max(radii) > 1e-3


def test_bfloat16_least_squares_reaches_the_float32_loss_within_5_percent():
    """Default RMSProp ellipsoid: the solver works in float32, the radius floor is relative to
    bfloat16's resolution (was: loss 13.38 -> 13.38 in 300 steps)."""
    tx = co.trust_region()
    w32, _, _ = _run(tx, jnp.zeros(8, jnp.float32), 300)
    w16, state, _ = _run(tx, jnp.zeros(8, jnp.bfloat16), 300)
    l32, l16 = float(_lsq(w32)), float(_lsq(w16))
    print(f"float32 {l32:.4f}, bfloat16 {l16:.4f} (start {float(_lsq(jnp.zeros(8))):.4f})")
    assert w16.dtype == jnp.bfloat16 and state.radius.dtype == jnp.float32
    assert l16 <= 1.05 * l32 and l32 < 0.2 * float(_lsq(jnp.zeros(8)))


@pytest.mark.parametrize("ellipsoid,subproblem", [("identity", "steihaug"),
                                                  ("rmsprop", "lanczos")])
def test_minimize_trust_region_bfloat16_least_squares_reaches_the_float32_loss(ellipsoid,
                                                                               subproblem):
    """The full-batch solver works in float32 on bfloat16 parameters (was: bfloat16 values,
    so f was known to 2^-8 relative only, and the Lanczos solver failed: no bfloat16 eigh)."""
    ref = co.minimize_trust_region(_lsq, jnp.zeros(8, jnp.float32), ellipsoid=ellipsoid,
                                   subproblem=subproblem)
    res = co.minimize_trust_region(_lsq, jnp.zeros(8, jnp.bfloat16), ellipsoid=ellipsoid,
                                   subproblem=subproblem)
    l32, l16 = float(ref.value), float(_lsq(res.params))
    print(f"float32 {l32:.6f} ({ref.message}), bfloat16 {l16:.6f} ({res.message}, "
          f"{int(res.num_steps)} steps)")
    assert bool(ref.converged) and l32 < 0.05 * float(_lsq(jnp.zeros(8)))
    assert res.params.dtype == jnp.bfloat16
    assert int(res.status) in (co.TrustRegionStatus.CONVERGED,
                               co.TrustRegionStatus.PRECISION_FLOOR)
    assert l32 <= l16 <= 1.05 * l32
    # The reported value is f at the bfloat16 parameters, computed in float32.
    assert res.value.dtype == jnp.float32 and float(res.value) == pytest.approx(l16, rel=1e-6)
    assert res.radius.dtype == jnp.float32 and jax.tree.leaves(res.grad)[0].dtype == jnp.float32


def test_steihaug_radius_1e20_on_an_indefinite_matrix_gives_a_boundary_step_of_norm_1e20():
    h = jnp.array([1.0, -1.0, 2.0])
    res = co.steihaug_cg(lambda v: h * v, jnp.ones(3), 1e20)
    big = jnp.max(jnp.abs(res.step))
    assert bool(res.hit_boundary) and bool(jnp.all(jnp.isfinite(res.step)))
    assert float(big * jnp.linalg.norm(res.step / big)) == pytest.approx(1e20, rel=1e-6)
    small = co.steihaug_cg(lambda v: h * v, jnp.ones(3), 1e-30)  # no underflow of radius**2
    assert float(jnp.max(jnp.abs(small.step))) == pytest.approx(1e-30 / np.sqrt(3), rel=1e-5)


def test_max_radius_must_be_finite_and_the_state_radius_stays_finite():
    with pytest.raises(ValueError, match="^max_radius"):
        co.trust_region(max_radius=float("inf"))
    with pytest.raises(ValueError, match="^max_radius"):
        co.minimize_trust_region(lambda x: jnp.sum(x**2), jnp.ones(2), max_radius=float("inf"))
    tx = co.trust_region(ellipsoid="identity", initial_radius=1e30, max_radius=1e38,
                         increase=1e5)
    _, _, radii = _run(tx, jnp.zeros(8, jnp.float32), 10)
    print(radii)
    assert all(np.isfinite(radii)) and max(radii) <= 1.0001e38


def test_zero_gradient_entries_do_not_blow_up_the_ellipsoid_cost():
    """A start where half the gradient entries are exactly zero (they are not later)."""
    rng = np.random.default_rng(1)
    q = rng.normal(size=(10, 10))
    q = q @ q.T / 10 + np.eye(10)
    e = np.r_[np.ones(5), np.zeros(5)]
    x0 = 1.0 + np.linalg.solve(q, e)  # gradient q (x0 - 1) = e: zero in 5 entries
    fun = lambda x: 0.5 * (x - 1.0) @ jnp.asarray(q, x.dtype) @ (x - 1.0) + jnp.sum((x - 1) ** 4)
    with jax.enable_x64(True):
        sphere = co.minimize_trust_region(fun, jnp.asarray(x0))
        ell = co.minimize_trust_region(fun, jnp.asarray(x0), ellipsoid="rmsprop")
    print(f"HVPs: sphere {int(sphere.num_hvps)}, rmsprop {int(ell.num_hvps)}")
    assert bool(sphere.converged) and bool(ell.converged)
    assert int(ell.num_hvps) <= 3 * int(sphere.num_hvps)


def test_eps_zero_ellipsoids_without_an_accumulator_are_rejected():
    with pytest.raises(ValueError, match="^eps"):
        co.adagrad_ellipsoid(eps=0.0)
    with pytest.raises(ValueError, match="^eps"):
        co.adam_ellipsoid(eps=0.0)
    co.adagrad_ellipsoid(eps=0.0, initial_accumulator=1e-10)  # the authors' form is fine


def test_cond_1e6_quadratic_converges_with_defaults_float32():
    """(was: 276 steps and status 2 with the CG cap min(2n, 1000)); in float32 the gradient
    cannot reach 1e-5 at cond 1e6, so the solve ends at the precision floor, not status 2."""
    d = jnp.asarray(np.logspace(0, 6, 50), jnp.float32)
    fun = lambda x: 0.5 * jnp.sum(d * (x - 1.0) ** 2)
    res = co.minimize_trust_region(fun, jnp.zeros(50))
    print(res.message, int(res.num_steps), float(res.value))
    assert int(res.status) in (co.TrustRegionStatus.CONVERGED,
                               co.TrustRegionStatus.PRECISION_FLOOR)
    assert bool(res.converged) and int(res.num_steps) <= 40
    assert float(res.value) < 1e-6 and int(res.num_cg_capped) == 0


# ------------------------------------------------------------------------------------------------
# Audit: the precision floor (tasks 3-5 of the trust-region audit).


def _chained_rosen(y, args=None):
    return jnp.sum(100.0 * (y[1:] - y[:-1] ** 2) ** 2 + (1.0 - y[:-1]) ** 2)


_ROSEN_Y0 = jnp.tile(jnp.array([-1.2, 1.0]), 5)  # f = 2057, ||g|| = 2069 (10-d, float32)


@pytest.mark.parametrize("initial_radius", [1e-9, 1e-7, 1e-6])
def test_minimize_tiny_initial_radius_grows_and_converges_at_gtol(initial_radius):
    """Audit: initial_radius=1e-9 stopped at the start (PRECISION_FLOOR, "converged") after one
    step: its step rounded back to x0 (a NO_MOVE, which grows the radius) but was counted as a
    rejection at the floor radius eps ||x||."""
    res = co.minimize_trust_region(_chained_rosen, _ROSEN_Y0, initial_radius=initial_radius,
                                   gtol=1e-5)
    assert int(res.status) == co.TrustRegionStatus.CONVERGED, res.message
    assert float(res.grad_norm) <= 1e-5
    np.testing.assert_allclose(res.params, 1.0, atol=1e-3)  # the global minimum (1, ..., 1)
    assert float(res.radius) > 1e3 * initial_radius  # accepted boundary steps doubled it


def test_cg_cap_is_not_reported_as_the_precision_floor():
    """Audit: a solve truncated by its CG cap was reported as PRECISION_FLOOR (converged) with
    ||g|| > gtol. Wood's function in float32 with max_cg_iters=2 stopped at f = 7.877 with
    ||g|| = 0.0146 (f* = 0 at (1, 1, 1, 1); f = 7.876 is Wood's saddle region): its truncated
    steps made no resolvable progress. That is CG_CAPPED now, not converged."""
    wood = co_problems.get_problem("wood")
    x0 = jnp.asarray(wood.x0(4), jnp.float32)
    res = co.minimize_trust_region(wood.fun, x0, max_cg_iters=2, gtol=1e-5, max_steps=2000)
    assert int(res.status) == co.TrustRegionStatus.CG_CAPPED, res.message
    assert not bool(res.converged) and float(res.grad_norm) > 1e-5
    assert int(res.num_cg_capped) >= 1
    with pytest.raises(RuntimeError, match="max_cg_iters"):
        co.minimize_trust_region(wood.fun, x0, max_cg_iters=2, max_steps=2000, throw=True)
    # Without the cap the same problem converges at gtol.
    full = co.minimize_trust_region(wood.fun, x0, gtol=1e-5, max_steps=2000)
    assert int(full.status) == co.TrustRegionStatus.CONVERGED
    assert int(full.num_cg_capped) == 0


def test_precision_floor_gradient_is_at_the_derived_floor():
    """The precision floor with ||g|| > gtol is a convergence only at the gradient's floor.

    f(x) = h/2 ||x - 1||^2 + h/2 ||x - b||^2 with b = 1 + 2^-23 (float32, h = 1e3, n = 3): the
    minimiser 1 + 2^-24 lies halfway between two float32 numbers, so at x = 1 (or b) the gradient
    is h 2^-23 per coordinate, ||g|| = sqrt(3) h 2^-23 = 2.07e-4 > gtol = 1e-5, and the Newton
    step (half an ulp) rounds back. The converged CG solve (residual <= kappa ||g||,
    kappa = cg_rtol = 0.5) bounds the gradient by ||H|| ||ulp(x)|| / (2 (1 - kappa)) = 4.1e-4:
    PRECISION_FLOOR (converged), not a failure and not gtol."""
    h, n = 1e3, 3
    b = np.float32(1 + 2.0**-23)
    fun = lambda x: 0.5 * h * (jnp.sum((x - 1.0) ** 2) + jnp.sum((x - b) ** 2))
    res = co.minimize_trust_region(fun, jnp.zeros(n), gtol=1e-5)
    assert int(res.status) == co.TrustRegionStatus.PRECISION_FLOOR, res.message
    assert bool(res.converged) and int(res.num_cg_capped) == 0
    x = np.asarray(res.params)
    assert np.all((x == np.float32(1.0)) | (x == b))  # the two nearest float32 numbers
    grad = np.sqrt(n) * h * 2.0**-23
    np.testing.assert_allclose(float(res.grad_norm), grad, rtol=1e-6)
    kappa, hess_norm, ulp = 0.5, 2 * h, np.sqrt(n) * 2.0**-23
    assert grad <= hess_norm * ulp / (2 * (1 - kappa))


_QRNG = np.random.default_rng(0)
_QU = np.linalg.qr(_QRNG.normal(size=(20, 20)))[0]
_Q64 = _QU @ np.diag(np.logspace(0, 3, 20)) @ _QU.T  # cond 1e3
_QB64 = _QRNG.normal(size=20)


def _bf16_quadratic(x):
    x = x.astype(jnp.float32)
    return 0.5 * x @ jnp.asarray(_Q64, jnp.float32) @ x + jnp.asarray(_QB64, jnp.float32) @ x


@pytest.mark.parametrize("ellipsoid", ["identity", "rmsprop"])
def test_bfloat16_quadratic_stops_at_the_precision_floor(ellipsoid):
    """Audit: in bfloat16 (identity) the solve reached its best f = -1.5963552 at step 23, then
    accepted all 300 steps alternating between two points (f = -1.5963469 and -1.5963545) until
    max_steps: each trial value was f at the unrounded float32 point (XLA's excess precision
    dropped the rounding of theta + s to bfloat16). Now every trial is evaluated at the rounded
    point: accepted steps never increase f beyond its resolution, and the solve stops at the
    precision floor with f within the bfloat16 rounding of the float64 minimum:
    f - f* <= lambda_max ||ulp(x*)||^2 / 2, ulp(x*) = 2^-7 |x*|."""
    log = []
    res = co.minimize_trust_region(_bf16_quadratic, jnp.zeros(20, jnp.bfloat16), max_steps=300,
                                   ellipsoid=ellipsoid, callback=log.append)
    assert int(res.status) == co.TrustRegionStatus.PRECISION_FLOOR, res.message
    assert int(res.num_steps) < 60
    values = np.array([d["value"] for d in log] + [float(res.value)])
    eps32 = float(jnp.finfo(jnp.float32).eps)
    resolution = 4 * eps32 * np.abs(values[:-1])
    assert np.all(values[1:] <= values[:-1] + resolution)  # no cycle: f never goes back up
    x_star = -np.linalg.solve(_Q64, _QB64)
    f_star = 0.5 * _QB64 @ x_star
    x = np.asarray(res.params.astype(jnp.float32), np.float64)
    gap = 0.5 * x @ _Q64 @ x + _QB64 @ x - f_star
    ulp = 2.0**-7 * np.abs(x_star)
    assert 0 <= gap <= 0.5 * 1e3 * np.sum(ulp**2), gap
    # The value reported is f at the returned (bfloat16) point.
    np.testing.assert_allclose(float(res.value), float(_bf16_quadratic(res.params)), rtol=0)


def test_exact_upcast_keeps_the_bfloat16_rounding_under_jit():
    from complexity_optax._src.common.tree import exact_upcast

    p = jnp.ones(4, jnp.bfloat16)
    s = jnp.full(4, 2.0**-10, jnp.float32)  # below half an ulp of 1 in bfloat16 (2^-8)
    out = jax.jit(lambda p, s: exact_upcast((p.astype(jnp.float32) + s).astype(jnp.bfloat16)))(
        p, s)
    np.testing.assert_array_equal(out, 1.0)
    assert out.dtype == jnp.float32
