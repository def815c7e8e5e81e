# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The three trust-region entry points run one step (`trust_region_step`): on the
Moré-Garbow-Hillstrom set in float64 they give the same iterates, step for step.

* `minimize_trust_region` (full batch; its `callback` reports the point at every outer step),
* `TrustRegionMinimiser.step` driven by hand (optimistix's solver interface),
* the optax transformation `trust_region(preset="scipy", initial_radius=1)` with the full-batch
  loss as `value_fn` (each `update` is one outer step; a rejected step returns zero updates).

All three use scipy trust-ncg's constants. The comparison runs for the first `K` = 25 outer
steps of every problem (5-24 accepted moves each, rejections included). On the CPU where this
was written the iterates are identical to the last bit on all 14 problems; the three programs
are compiled separately, and XLA may fuse a reduction differently in each on another CPU, so the
test allows 1e-9 relative (a mistake in a constant or a rule shows at the first step: starting
the optax form at radius 0.5 fails 13 of 14).
With an adaptive ellipsoid (`"adagrad"`), the full-batch solvers fold the gradient of a point
into the ellipsoid once (when they arrive there), while the optax transformation folds every
batch's gradient (a rejected step is followed by a new batch): those agree only until the
first rejection, and the test compares the two full-batch forms.

ARC likewise: `cubic_regularization` and `minimize_cubic` run one step (`arc_step`) and give
the same iterates for the first 12 steps of every problem (σ is kept in the parameters' compute
dtype by both: float64 here).
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from mgh_padded import padded_problems

import complexity_optax as co

optx = pytest.importorskip("optimistix")

N, K = 12, 25  # every problem padded to n = 12 (zero gradient and curvature in the padding)
_CASES, _NAMES, _, _switched, _x0 = padded_problems(N)


_SEEN: dict = {}


def _record(info):  # one callback object: `callback` is static, a new one would recompile
    _SEEN.setdefault(info["step"], np.asarray(info["params"]))


def _full_batch(i, ellipsoid):
    """The point at the start of each outer step of `minimize_trust_region` (K points)."""
    _SEEN.clear()
    co.minimize_trust_region(_switched, jnp.asarray(_x0(i)), jnp.asarray(i), ellipsoid=ellipsoid,
                             max_steps=K, gtol=0.0, callback=_record)
    return dict(_SEEN)


def _drive(solver, length):
    """`solver.step` driven by hand from `y0` (optimistix's interface): the iterates."""
    def fn(y, args):
        return _switched(y, args), None

    def run(y0, index):
        state = solver.init(fn, y0, index, {}, jax.ShapeDtypeStruct((), y0.dtype), None,
                            frozenset())

        def body(carry, _):
            y, state = carry
            y, state, _ = solver.step(fn, y, index, {}, state, frozenset())
            return (y, state), y

        return jax.lax.scan(body, (y0, state), None, length=length)[1]

    return jax.jit(run)


def _drive_optax(tx, length):
    """The optax transformation with the full-batch loss as `value_fn`: the iterates."""
    def run(x0, index):
        def body(carry, _):
            params, state = carry
            grads = jax.grad(_switched)(params, index)
            updates, state = tx.update(grads, state, params,
                                       value_fn=lambda p: _switched(p, index))
            params = optax.apply_updates(params, updates)
            return (params, state), params

        return jax.lax.scan(body, (x0, tx.init(x0)), None, length=length)[1]

    return jax.jit(run)


_TR_OPTX = {e: _drive(co.TrustRegionMinimiser(rtol=0.0, atol=0.0, ellipsoid=e), K)
            for e in ("identity", "adagrad")}
_TR_OPTAX = _drive_optax(co.trust_region(preset="scipy", initial_radius=1.0,
                                         ellipsoid="identity"), K)


def _compare(reference, other, label):
    for k, point in reference.items():
        if k == 0:
            continue
        np.testing.assert_allclose(other[k - 1], point, rtol=1e-9, atol=1e-12,
                                   err_msg=f"{label}: step {k}")


@pytest.mark.parametrize("i", range(len(_CASES)), ids=_NAMES)
def test_three_entry_points_give_the_same_iterates(i):
    with jax.enable_x64(True):
        full = _full_batch(i, "identity")
        x0, index = jnp.asarray(_x0(i)), jnp.asarray(i)
        ours_optx = np.asarray(_TR_OPTX["identity"](x0, index))
        ours_optax = np.asarray(_TR_OPTAX(x0, index))
    assert len(full) >= 2  # the solve made at least one step
    moved = max(np.abs(p - _x0(i)).max() for p in full.values())
    assert moved > 0
    _compare(full, ours_optx, "TrustRegionMinimiser vs minimize_trust_region")
    _compare(full, ours_optax, "trust_region (optax) vs minimize_trust_region")


@pytest.mark.parametrize("i", [_NAMES.index(n) for n in ("rosenbrock", "beale", "wood")],
                         ids=["rosenbrock", "beale", "wood"])
def test_full_batch_solvers_agree_with_an_adaptive_ellipsoid(i):
    with jax.enable_x64(True):
        full = _full_batch(i, "adagrad")
        ours_optx = np.asarray(_TR_OPTX["adagrad"](jnp.asarray(_x0(i)), jnp.asarray(i)))
    _compare(full, ours_optx, "adagrad: TrustRegionMinimiser vs minimize_trust_region")


# ------------------------------------------------------------------ ARC: optax and full batch
K_ARC = 12
# minimize_cubic's default Krylov size is min(n, 100) = n
_ARC_OPTAX = _drive_optax(co.cubic_regularization(max_krylov=N), K_ARC)


@pytest.mark.parametrize("i", range(len(_CASES)), ids=_NAMES)
def test_arc_optax_and_full_batch_give_the_same_iterates(i):
    """`cubic_regularization` and `minimize_cubic` run one step (`arc_step`): their iterates
    after k = 1..12 steps agree (float64; `max_steps` is traced, so one compilation)."""
    with jax.enable_x64(True):
        x0, index = jnp.asarray(_x0(i)), jnp.asarray(i)
        ours_optax = np.asarray(_ARC_OPTAX(x0, index))
        moved = 0
        for k in range(1, K_ARC + 1):
            res = co.minimize_cubic(_switched, x0, index, max_steps=k, gtol=0.0)
            if int(res.num_steps) < k:  # the solve stopped (precision floor, bad model)
                break
            np.testing.assert_allclose(ours_optax[k - 1], res.params, rtol=1e-9, atol=1e-12,
                                       err_msg=f"step {k}")
            moved += 1
    assert moved >= 3


# ------------------------------------------- ARC and saddle-free Newton as optimistix solvers
_ARC_OPTX = _drive(co.CubicRegularizationMinimiser(0.0, 0.0), K_ARC)
_SFN_OPTX = _drive(co.SaddleFreeNewtonMinimiser(0.0, 0.0), K_ARC)


@pytest.mark.parametrize("method", ["cubic", "saddle_free_newton"])
@pytest.mark.parametrize("i", [_NAMES.index(n) for n in ("rosenbrock", "beale", "wood",
                                                          "helical_valley", "penalty_1")],
                         ids=["rosenbrock", "beale", "wood", "helical_valley", "penalty_1"])
def test_optimistix_forms_of_arc_and_sfn_give_the_full_batch_iterates(i, method):
    minimize = {"cubic": co.minimize_cubic,
                "saddle_free_newton": co.minimize_saddle_free_newton}[method]
    with jax.enable_x64(True):
        x0, index = jnp.asarray(_x0(i)), jnp.asarray(i)
        ours = np.asarray((_ARC_OPTX if method == "cubic" else _SFN_OPTX)(x0, index))
        compared = 0
        for k in range(1, K_ARC + 1):
            res = minimize(_switched, x0, index, max_steps=k, gtol=0.0)
            if int(res.num_steps) < k:
                break
            np.testing.assert_allclose(ours[k - 1], res.params, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{method}: step {k}")
            compared += 1
    assert compared >= 3


def _rosen10(y, args):
    return jnp.sum(100.0 * (y[1:] - y[:-1] ** 2) ** 2 + (1.0 - y[:-1]) ** 2)


@pytest.mark.parametrize("name", ["CubicRegularizationMinimiser", "SaddleFreeNewtonMinimiser"])
def test_regularized_newton_minimisers_solve_rosenbrock_10d(name):
    """From 0: the global minimum (f = 0 at y = 1). From the standard start (-1.2, 1, ...)
    both methods, like `minimize_cubic`, end at the chained Rosenbrock's local minimum near
    (-1, 1, ..., 1), f = 3.98658: successful there, with the float32 precision floor as the
    stop (||g|| = 6e-5 and 2e-4; the Newton decrease g^2 / (2 lambda) is below f's resolution)."""
    solver = getattr(co, name)(rtol=1e-8, atol=1e-8)
    sol = optx.minimise(_rosen10, solver, jnp.zeros(10), max_steps=2000)  # throw=True
    assert sol.result == optx.RESULTS.successful
    assert float(_rosen10(sol.value, None)) < 1e-10
    np.testing.assert_allclose(sol.value, np.ones(10), atol=1e-5)
    assert int(sol.stats["num_accepted"]) >= 10 and int(sol.stats["num_hvps"]) > 0
    local = optx.minimise(_rosen10, solver, jnp.tile(jnp.array([-1.2, 1.0]), 5), max_steps=2000)
    assert local.result == optx.RESULTS.successful
    np.testing.assert_allclose(float(_rosen10(local.value, None)), 3.98658, rtol=1e-4)
    assert float(jnp.linalg.norm(jax.grad(_rosen10)(local.value, None))) < 1e-3


@pytest.mark.parametrize("name", ["CubicRegularizationMinimiser", "SaddleFreeNewtonMinimiser"])
def test_regularized_newton_minimisers_fail_loudly(name):
    solver = getattr(co, name)(rtol=1e-8, atol=1e-8)
    y0 = jnp.array([jnp.nan, 1.0])
    sol = optx.minimise(_rosen10, solver, y0, max_steps=50, throw=False)
    assert sol.result in (optx.RESULTS.nonlinear_divergence, optx.RESULTS.nonfinite)
    with pytest.raises(RuntimeError, match="maximum number of steps"):
        optx.minimise(_rosen10, solver, jnp.array([-1.2, 1.0]), max_steps=2)
    with pytest.raises(ValueError, match="eta1|damping"):
        getattr(co, name)(1e-6, 1e-6, **({"eta1": 2.0} if "Cubic" in name else
                                          {"damping": -1.0}))
