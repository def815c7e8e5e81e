# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The one trust-region rule: presets against the authors' code and scipy, validation, outcomes."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize, rosen, rosen_der, rosen_hess_prod

import complexity_optax as co
from complexity_optax._src.common.tree import all_finite
from complexity_optax._src.trust_region import rule as R

# ------------------------------------------------------------------------------------------------
# The authors' loop (jonaskohler/AdaptiveNormsNewton: trust_region.py + stcg.py, as summarised in
# the research notes), re-implemented in numpy float64 on a full-batch logistic regression.

_RNG = np.random.default_rng(3)
_X = _RNG.normal(size=(40, 6))
_Y = (_X @ _RNG.normal(size=6) + 0.5 * _RNG.normal(size=40) > 0).astype(np.float64)


def _logistic(w, x=_X, y=_Y):
    z = x @ w
    return jnp.mean(jnp.logaddexp(0.0, z) - y * z)


def _authors_truncated_cg(g, hess, m_diag, radius, krylov_tol=0.1, max_dim=50):
    """stcg.py's preconditioned Steihaug-Toint CG with precon_stopping_criterion=True."""
    s = np.zeros_like(g)
    r = g.copy()
    v = r / m_diag
    p = -v
    gv = r @ v
    p_m_p, s_m_p, s_m_s = gv, 0.0, 0.0
    m = 0.0  # accumulated model change (negative)
    g0_norm = np.linalg.norm(g)
    alpha = beta = 0.0
    k = 0
    while True:
        bp = hess @ p
        p_b_p = p @ bp
        if k > 0:
            s_m_p = beta * (s_m_p + alpha * p_m_p)
        alpha = gv / p_b_p
        if k > 0:
            p_m_p = gv + beta**2 * p_m_p
        s_m_s_new = s_m_s + 2 * alpha * s_m_p + alpha**2 * p_m_p
        s_new = s + alpha * p
        if p_b_p <= 0 or np.sqrt(np.sum(m_diag * s_new**2)) >= radius:
            tau = (-s_m_p + np.sqrt(s_m_p**2 - p_m_p * (s_m_s - radius**2))) / p_m_p
            return s + tau * p, -(m - tau * gv + 0.5 * tau**2 * p_b_p)
        m_prev = m
        m = m - 0.5 * alpha * gv
        r = r + alpha * bp
        v = r / m_diag
        if k > 0 and (m - m_prev) / m_prev <= min(np.sqrt(g0_norm), krylov_tol):
            return s_new, -m
        if k + 1 == max_dim:
            return s_new, -m
        gv_new = r @ v
        beta = gv_new / gv
        p = -v + beta * p
        gv = gv_new
        s, s_m_s = s_new, s_m_s_new
        k += 1


def _authors_run(w, radius, steps):
    eta1, eta2, inc, dec, max_r = 0.01, 0.95, 1.1, 1.75, 10.0
    moment = np.full_like(w, 1e-10)
    f = jax.jit(_logistic)
    g_fn = jax.jit(jax.grad(_logistic))
    h_fn = jax.jit(jax.hessian(_logistic))
    trace = []
    for _ in range(steps):
        loss, g, hess = float(f(w)), np.asarray(g_fn(w)), np.asarray(h_fn(w))
        moment = 0.8 * moment + 0.2 * g**2
        s, model_improvement = _authors_truncated_cg(g, hess, np.sqrt(moment), radius)
        fn_improvement = loss - float(f(w + s))
        if abs(fn_improvement) < 1e-15 and abs(model_improvement) < 1e-15:
            rho = 1.0
        else:
            rho = fn_improvement / model_improvement
        if rho >= eta2:
            radius = min(radius * inc, max_r)
        elif rho < eta1:
            radius = radius / dec
        radius = float(np.float32(radius))  # the state keeps the radius in float32
        if rho >= eta1:
            w = w + s
        trace.append((w.copy(), radius, rho))
    return trace


def test_kohler2019_preset_reproduces_the_authors_update_trace():
    with jax.enable_x64(True):
        w0 = np.zeros(6)
        ref = _authors_run(w0, float(np.float32(0.05)), 12)
        tx = co.trust_region(preset="kohler2019", initial_radius=0.05)
        step = jax.jit(lambda w, st: tx.update(w, st, w, value_fn=_logistic))
        w, state = jnp.asarray(w0), tx.init(jnp.asarray(w0))
        outcomes = []
        for w_ref, radius_ref, rho_ref in ref:
            updates, state = step(w, state)
            w = w + updates
            # The state's radius is float32 (one ulp, 6e-8, per radius update).
            np.testing.assert_allclose(w, w_ref, rtol=1e-6, atol=1e-9)
            assert float(state.radius) == pytest.approx(radius_ref, rel=1e-6)  # float32 radius
            assert float(state.last_rho) == pytest.approx(rho_ref, rel=1e-5, abs=1e-6)
            outcomes.append(rho_ref >= 0.95)
        assert any(outcomes)  # the trace exercises growth ...
        assert float(_logistic(w)) < float(_logistic(jnp.asarray(w0))) - 0.1  # ... and progress


def test_scipy_preset_reproduces_scipy_iterates_on_rosenbrock_100():
    """Rounding-level agreement at the start, amplified by the long curved valley (x10 per ~5
    iterations after iteration 60): the first 80 iterates agree to 1e-6, both converge."""
    n = 100
    x0 = np.tile([-1.2, 1.0], n // 2)
    ref_iterates = []
    ref = minimize(rosen, x0, method="trust-ncg", jac=rosen_der, hessp=rosen_hess_prod,
                   options={"gtol": 1e-5}, callback=lambda xk: ref_iterates.append(np.copy(xk)))
    ours = []
    with jax.enable_x64(True):
        fun = lambda x: jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
        res = co.minimize_trust_region(fun, jnp.asarray(x0), preset="scipy", gtol=1e-5,
                                       callback=lambda d: ours.append(np.asarray(d["params"])))
    after_each = ours[1:] + [np.asarray(res.params)]
    gaps = [np.max(np.abs(a - b)) for a, b in zip(ref_iterates, after_each)]
    print(f"scipy nit={ref.nit}, ours {int(res.num_steps)}; max gap over the first 80: "
          f"{max(gaps[:80]):.1e}")
    assert max(gaps[:80]) < 1e-6
    assert bool(res.converged) and abs(int(res.num_steps) - ref.nit) <= 0.05 * ref.nit
    np.testing.assert_allclose(res.params, 1.0, atol=1e-5)


def test_presets_hold_the_published_constants():
    k = co.TRUST_REGION_PRESETS["kohler2019"]
    assert (k.eta1, k.eta2, k.increase, k.max_radius, k.max_cg_iters) == (0.01, 0.95, 1.1, 10.0, 50)
    assert k.decrease == pytest.approx(1 / 1.75) and k.cg_stop == "model_gain"
    assert k.tiny_decrease == 1e-15 and not k.grow_on_boundary_only
    s = co.TRUST_REGION_PRESETS["scipy"]
    assert (s.eta1, s.eta2, s.increase, s.decrease, s.shrink_below) == (0.15, 0.75, 2.0, 0.25, 0.25)
    assert s.strict_acceptance and s.grow_on_boundary_only and s.max_cg_iters is None
    assert (s.initial_radius, s.max_radius, s.cg_rtol) == (1.0, 1000.0, 0.5)
    # The authors' preset brings their ellipsoid: v0 = 1e-10, beta = 0.8, no eps.
    tx = co.trust_region(preset="kohler2019")
    state = tx.init(jnp.zeros(3))
    np.testing.assert_allclose(state.ellipsoid_state.moment, 1e-10)
    with pytest.raises(ValueError, match="^preset"):
        co.trust_region(preset="nocedal")


@pytest.mark.parametrize("factory", [co.trust_region, lambda **kw: co.minimize_trust_region(
    lambda x: jnp.sum(x**2), jnp.ones(2), **kw)])
@pytest.mark.parametrize("kwargs,name", [
    ({"max_radius": float("inf")}, "max_radius"),
    ({"eta2": 1.0}, "eta2"),
    ({"eta1": 0.5, "eta2": 0.4}, "eta1"),
    ({"cg_rtol": 1.0}, "cg_rtol"),
    ({"cg_forcing_exponent": -1.0}, "cg_forcing_exponent"),
    ({"cg_stop": "never"}, "cg_stop"),
    ({"radius_norm": "euclid"}, "radius_norm"),
    ({"subproblem": "dogleg"}, "subproblem"),
    ({"initial_radius": 20.0, "max_radius": 10.0}, "initial_radius"),
])
def test_one_validation_for_both_entry_points(factory, kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        factory(**kwargs)


def test_cg_theta_is_a_deprecated_alias():
    with pytest.warns(DeprecationWarning, match="cg_forcing_exponent"):
        tx = co.trust_region(ellipsoid="identity", cg_theta=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        co.trust_region(ellipsoid="identity", cg_forcing_exponent=0.25)
    with pytest.raises(TypeError, match="^cg_theta"), pytest.warns(DeprecationWarning):
        co.trust_region(cg_theta=0.2, cg_forcing_exponent=0.3)
    assert tx is not None


def _assess(value, trial, predicted, step, params, radius=1.0, boundary=True, floor=1e-7):
    as32 = lambda v: jnp.asarray(v, jnp.float32)
    params = as32(params)
    step = as32(step)
    return R.assess_step(value=as32(value), trial_value=as32(trial), predicted=as32(predicted),
                         step=step, params=params, trial_params=params + step,
                         radius=as32(radius), hit_boundary=jnp.asarray(boundary),
                         min_radius=as32(floor), rule=R.PRESETS["scipy"])


def test_outcomes_of_the_rule():
    ok = _assess(1.0, 0.5, 0.5, [0.5], [1.0])
    assert int(ok.outcome) == R.StepOutcome.ACCEPTED and float(ok.radius) == 2.0
    bad = _assess(1.0, 1.5, 0.5, [0.5], [1.0])
    assert int(bad.outcome) == R.StepOutcome.REJECTED and float(bad.radius) == 0.25
    nan = _assess(1.0, jnp.nan, 0.5, [0.5], [1.0], floor=0.5)
    assert int(nan.outcome) == R.StepOutcome.NONFINITE and float(nan.radius) == 0.5  # floor
    # theta + s == theta in float32: the radius grows (x2), nothing is accepted.
    tiny = _assess(1.0, 1.0, 1e-9, [1e-9], [1.0], radius=1e-9, floor=1e-10)
    assert int(tiny.outcome) == R.StepOutcome.NO_MOVE and not bool(tiny.accepted)
    assert float(tiny.radius) == pytest.approx(2e-9)
    # Both decreases below the resolution of f (4 eps |f| = 4.8e-7 here): rho = 1, accepted;
    # the absolute 1e-15 of the authors would have read rho = 0.1 / 1 here.
    unresolved = _assess(1.0, 1.0 - 1e-7, 1e-8, [1e-3], [1.0], boundary=False)
    assert int(unresolved.outcome) == R.StepOutcome.UNRESOLVED and float(unresolved.rho) == 1.0
    assert bool(unresolved.at_precision_floor)
    still = _assess(1.0, 1.0, 0.0, [0.0], [1.0])
    assert int(still.outcome) == R.StepOutcome.STATIONARY and float(still.radius) == 1.0


def test_radius_floor_and_int32_clamp():
    assert float(R.radius_floor(jnp.float32(4.0), jnp.bfloat16, jnp.float32)) == 4 * 2.0**-7
    assert float(R.radius_floor(jnp.float32(0.0), jnp.float32, jnp.float32)) > 0
    assert R.clamp_int32(200 * 11_000_000) == 2**31 - 1
    res = co.minimize_trust_region(lambda x: jnp.sum((x - 1.0) ** 2), jnp.zeros(3),
                                   max_steps=2**40)
    assert bool(res.converged) and int(res.num_steps) <= 3


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_one_pass_finiteness_and_difference_checks_match_the_boolean_reductions(dtype):
    """`all_finite` (a sum of x - x) and `_step_checks` (bounded sums of |s|, of |t - p|, and
    counts of the comparisons for bfloat16) give the answers of jnp.all(isfinite) and
    jnp.any(!=), under jit, at any position of a large leaf."""
    n = 100_003
    base = jnp.linspace(-3.0, 3.0, n).astype(dtype)
    zero = jnp.zeros(n, dtype)
    checks = jax.jit(lambda s, p, t: (all_finite(s), *R.step_checks(s, p, t)))
    huge = jnp.finfo(dtype).max

    def reference(s, p, t):
        leaves = lambda tree: [np.asarray(x, np.float64) for x in jax.tree.leaves(tree)]
        finite = all(np.all(np.isfinite(x)) for x in leaves(s))
        nonzero = any(np.any(x != 0) for x in leaves(s))
        moved = any(np.any(a != b) for a, b in zip(leaves(t), leaves(p)))
        return finite, nonzero, moved

    def tree(a):
        return {"a": a, "i": jnp.arange(3), "e": jnp.zeros(0)}

    cases = []
    for position in (0, 1, 4_097, n - 1):
        for bad in (jnp.nan, jnp.inf, -jnp.inf):
            cases.append((tree(base.at[position].set(bad)), tree(base), tree(base)))
        one_ulp = base.at[position].set(jnp.nextafter(base[position], jnp.inf))
        cases.append((tree(zero.at[position].set(1)), tree(base), tree(one_ulp)))  # moved
        cases.append((tree(zero.at[position].set(1e-30)), tree(base), tree(base)))  # no move
    cases.append((tree(zero), tree(base), tree(base + 0)))  # the zero step
    cases.append((tree(jnp.full(n, huge, dtype)), tree(base), tree(base)))  # sum |s| overflows
    for step, params, trial in cases:
        got = tuple(bool(v) for v in checks(step, params, trial))
        assert got[0] == got[1] == reference(step, params, trial)[0]
        assert got[2:] == reference(step, params, trial)[1:]
    assert bool(all_finite({})) and tuple(map(bool, R.step_checks({}, {}, {}))) == (
        True, False, False)


def test_trial_point_is_evaluated_only_when_the_finite_step_moves_theta():
    """`evaluate_if_moved`: f(theta) for a zero step, a step below theta's resolution and a
    non-finite step (f is then never called: here it would return NaN); f(theta + s) else."""
    f = lambda t: jnp.where(jnp.all(t == 1.0), jnp.nan, jnp.sum((t - 2.0) ** 2))
    p = jnp.ones(3)
    evaluate = jax.jit(lambda s: R.evaluate_if_moved(f, p, s, jnp.float32(7.0),
                                                     R.step_checks(s, p, p + s)))
    for s in (jnp.zeros(3), jnp.full(3, 1e-9), jnp.array([0.0, jnp.nan, 0.0])):
        assert float(evaluate(s)) == 7.0
    assert float(evaluate(jnp.array([1.0, 0.0, 0.0]))) == 2.0
