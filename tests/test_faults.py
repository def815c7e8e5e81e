# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Run-time faults over every registry entry, and hypothesis property tests of the invariants.

Guards (``contract.Entry.guard``): the trust regions skip a step with non-finite gradients or
value themselves; every other transformation is safe against non-finite gradients when wrapped
in ``optax.apply_if_finite`` (the contract), and never lets NaN into its own state even bare.
A NaN loss value is skipped by ``matched_annealing`` (λ unchanged) and by the trust region.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import complexity_optax as co
from complexity_optax.testing import contract as C

PARAMS, BATCH = C.make_problem()
CASES = [(e.name, case) for e in C.REGISTRY for case in C.FAULT_CASES]


@pytest.mark.parametrize("name,case", CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_fault_leaves_params_and_state_finite_and_run_goes_on(name, case):
    p0, s0, p1, s1, p2, s2 = C.run_fault(name, case, PARAMS, BATCH)
    assert C.all_finite((p1, s1)), "non-finite after the faulty step"
    assert C.all_finite((p2, s2)), "non-finite after the next honest step"
    if case in C.NON_FINITE_GRAD_CASES:  # skipped: the parameters did not move
        np.testing.assert_array_equal(np.asarray(p1["kernel"]), np.asarray(p0["kernel"]))
    assert C.shape_dtype_tree(s2) == C.shape_dtype_tree(s0)


@pytest.mark.parametrize("name", [e.name for e in C.REGISTRY])
def test_bare_transformation_keeps_its_own_state_finite_on_nan_grads(name):
    """Even unguarded, a NaN gradient never reaches a state of ours (optax.trace excluded)."""
    _, _, _, s1, _, _ = C.run_fault(name, "nan_grads", PARAMS, BATCH, wrapper=None)
    assert C.all_finite(C.own_state(s1))


def test_nan_value_leaves_matched_strength_unchanged():
    _, s0, _, s1, _, _ = C.run_fault("weight_decay_matched", "nan_value", PARAMS, BATCH)
    assert float(s1[0].strength) == float(s0[0].strength)
    assert int(s1[0].schedule_state.count) == int(s0[0].schedule_state.count)


@pytest.mark.parametrize("case", ["nan_grads", "nan_value"])
def test_trust_region_skips_non_finite_inputs(case):
    p0, s0, p1, s1, _, _ = C.run_fault("trust_region_rmsprop", case, PARAMS, BATCH)
    assert float(s1.radius) == float(s0.radius)
    np.testing.assert_array_equal(np.asarray(p1["kernel"]), np.asarray(p0["kernel"]))
    assert int(s1.accepted_count) == int(s0.accepted_count)


# ---------------------------------------------------------------------------------------------
# Hypothesis property tests: fixed shapes, varying values, module-level jitted functions.
# ---------------------------------------------------------------------------------------------

PROPERTY = settings(max_examples=25, deadline=None)
finite = st.floats(-10.0, 10.0, allow_nan=False, width=32)
vec4 = st.lists(finite, min_size=4, max_size=4)
vec7 = st.lists(finite, min_size=7, max_size=7)


def _tree(values):
    v = jnp.asarray(values, jnp.float32)
    return {"a": v[:3], "b": v[3:].reshape(2, 2)}


_sphere_global = co.project_onto_sphere(radius=2.5)
_sphere_leaf = co.project_onto_sphere(radius="sqrt_n", scope="per_leaf")  # √(leaf size)
_tangent = co.tangent_projection()


@jax.jit
def _projections(params, updates):
    g, _ = _sphere_global.update(updates, _sphere_global.init(params), params)
    leaf, _ = _sphere_leaf.update(updates, _sphere_leaf.init(params), params)
    t, _ = _tangent.update(updates, _tangent.init(params), params)
    return optax.apply_updates(params, g), optax.apply_updates(params, leaf), t


@PROPERTY
@given(vec7, vec7)
def test_projection_norms(p, u):
    params, updates = _tree(p), _tree(u)
    on_global, on_leaf, tangent = _projections(params, updates)
    target = np.asarray(p, np.float64) + np.asarray(u, np.float32).astype(np.float64)
    if np.linalg.norm(target) > 1e-3:
        assert float(optax.tree.norm(on_global)) == pytest.approx(2.5, rel=1e-5)
    for leaf, size, chunk in ((on_leaf["a"], 3, target[:3]), (on_leaf["b"], 4, target[3:])):
        if np.linalg.norm(chunk) > 1e-3:
            assert float(jnp.linalg.norm(leaf)) == pytest.approx(np.sqrt(size), rel=1e-5)
    scale = float(optax.tree.norm(params)) * float(optax.tree.norm(updates))
    assert abs(float(optax.tree.vdot(tangent, params))) <= 1e-5 * max(scale, 1.0)


@functools.partial(jax.jit, static_argnames=())
def _steihaug(h, g, m, radius):
    return co.steihaug_cg(lambda v: h @ v, g, radius, preconditioner=m, max_iters=4, rtol=1e-6)


@PROPERTY
@given(st.lists(finite, min_size=16, max_size=16), vec4,
       st.lists(st.floats(0.125, 8.0, width=32), min_size=4, max_size=4),
       st.floats(0.015625, 8.0, width=32))
def test_steihaug_stays_in_the_ellipsoid_with_cauchy_decrease(a, g, m, radius):
    a = np.asarray(a, np.float64).reshape(4, 4)
    h = (a + a.T) / 2  # symmetric, possibly indefinite
    g, m = np.asarray(g, np.float64), np.asarray(m, np.float64)
    if np.linalg.norm(g) < 1e-2:
        return
    res = _steihaug(jnp.asarray(h, jnp.float32), jnp.asarray(g, jnp.float32),
                    jnp.asarray(m, jnp.float32), jnp.asarray(radius, jnp.float32))
    s = np.asarray(res.step, np.float64)
    assert np.sqrt(np.sum(m * s * s)) <= radius * (1 + 1e-4)
    model = lambda x: g @ x + 0.5 * x @ h @ x  # noqa: E731
    # Cauchy point along −M⁻¹g inside ‖·‖_M ≤ Δ.
    d = -g / m
    t_max = radius / np.sqrt(np.sum(m * d * d))
    curvature = d @ h @ d
    slope = g @ d
    t = t_max if curvature <= 0 else min(t_max, -slope / curvature)
    cauchy = model(t * d)
    scale = max(abs(cauchy), 1.0)
    assert model(s) <= cauchy + 1e-3 * scale
    assert float(res.model_decrease) == pytest.approx(-model(s), rel=1e-3, abs=1e-3 * scale)


_cosine = co.cosine_annealing(0.3, period=17)
_power = co.power_law_annealing(0.3, exponent=0.7)
_schedules = jax.jit(lambda t: (_cosine(t), _power(t), _power(t + 1)))


@PROPERTY
@given(st.integers(0, 10**6))
def test_schedule_bounds(t):
    cos, power, power_next = (float(x) for x in _schedules(jnp.asarray(t, jnp.int32)))
    assert 0.0 <= cos <= 2 * 0.3 * (1 + 1e-6)
    assert 0.0 <= power <= 0.3 * (1 + 1e-6)
    assert power_next <= power


_matched = co.matched_annealing(0.2, memory=3, max_ratio=2.0)


@jax.jit
def _matched_strengths(values):
    def body(state, v):
        state = _matched.update(state, value=v)
        return state, (_matched(state), state)

    _, (lams, states) = jax.lax.scan(body, _matched.init(), values)
    return lams, states


loss_values = st.one_of(st.floats(-1e6, 1e6, width=32), st.just(float("nan")),
                        st.just(float("inf")), st.just(1e30))


@PROPERTY
@given(st.lists(loss_values, min_size=6, max_size=6))
def test_matched_strength_bounds_and_state_dtypes(values):
    lams, states = _matched_strengths(jnp.asarray(values, jnp.float32))
    lams = np.asarray(lams)
    assert np.all(np.isfinite(lams))
    assert np.all(lams >= 0.0) and np.all(lams <= 0.2 * 2.0 * (1 + 1e-6))
    init = _matched.init()
    for leaf, ref in zip(jax.tree.leaves(states), jax.tree.leaves(init)):
        assert leaf.dtype == ref.dtype and leaf.shape[1:] == ref.shape


@PROPERTY
@given(st.floats(-1e3, 1e3, width=32), st.floats(-1e3, 1e3, width=32))
def test_registry_state_dtypes_stable_for_any_loss(v1, v2):
    """The loss-driven entries keep their state layout whatever the loss values."""
    name = "weight_decay_matched"
    step = C.jitted_step(name)
    state0 = C.init_state(name, PARAMS)
    grads, _ = C.honest_inputs(PARAMS, BATCH)
    _, s1, _ = step(PARAMS, state0, grads, jnp.float32(v1), BATCH)
    _, s2, _ = step(PARAMS, s1, grads, jnp.float32(v2), BATCH)
    assert C.shape_dtype_tree(s2) == C.shape_dtype_tree(state0)
    assert C.all_finite(s2)


@pytest.mark.parametrize("name", [e.name for e in C.REGISTRY if e.factory is co.two_step_annealing])
@pytest.mark.parametrize("case", ["nan_grads", "inf_grads"])
def test_two_step_skips_non_finite_steps_even_bare(name, case):
    """Issue 13: the M step is guarded, so even without ``apply_if_finite`` a non-finite
    gradient gives a zero update and leaves the state (count, λ, schedule state) as it was."""
    p0, s0, p1, s1, p2, s2 = C.run_fault(name, case, PARAMS, BATCH, wrapper=None)
    np.testing.assert_array_equal(np.asarray(p1["kernel"]), np.asarray(p0["kernel"]))
    for a, b in zip(jax.tree.leaves(s1), jax.tree.leaves(s0)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert C.all_finite((p2, s2)) and int(s2.count) == int(s0.count) + 1
