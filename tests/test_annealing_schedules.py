# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Closed-form values of the step-count strength schedules."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co

COUNTS = jnp.arange(0, 61, dtype=jnp.int32)


@pytest.mark.parametrize("t, expected", [(0, 0.6), (10, 0.3), (20, 0.0), (40, 0.6), (60, 0.0)])
def test_cosine_annealing_closed_form(t, expected):
    # λ0 = 0.3, T = 40: 2λ0 at 0, λ0 at T/4, 0 at T/2, 2λ0 at T, 0 at 1.5T.
    schedule = co.cosine_annealing(0.3, period=40)
    np.testing.assert_allclose(float(schedule(t)), expected, atol=1e-6)


def test_cosine_annealing_matches_numpy_under_jit():
    schedule = co.cosine_annealing(0.25, period=16)
    values = jax.jit(jax.vmap(schedule))(COUNTS)
    t = np.arange(61)
    np.testing.assert_allclose(values, 0.25 * (1 + np.cos(2 * np.pi * t / 16)), atol=1e-6)
    assert values.dtype == jnp.float32
    assert float(jnp.min(values)) >= 0.0


@pytest.mark.parametrize("exponent", [0.5, 1.3, 0.0])
def test_power_law_annealing_closed_form(exponent):
    schedule = co.power_law_annealing(2.0, exponent=exponent)
    t = np.array([0, 1, 3, 15, 60])
    values = np.array([float(schedule(int(s))) for s in t])
    np.testing.assert_allclose(values, 2.0 * (1.0 + t) ** (-exponent), rtol=1e-6)


def test_power_law_default_exponent_is_half():
    np.testing.assert_allclose(float(co.power_law_annealing(1.0)(8)), 1.0 / 3.0, rtol=1e-6)


def test_lr_matched_annealing_with_exponential_decay():
    lr = optax.exponential_decay(0.1, transition_steps=10, decay_rate=0.5)
    schedule = co.lr_matched_annealing(0.4, lr)
    values = jax.jit(jax.vmap(schedule))(COUNTS)
    np.testing.assert_allclose(values, 0.4 * 0.5 ** (np.arange(61) / 10), rtol=1e-5)
    np.testing.assert_allclose(float(schedule(20)), 0.1, rtol=1e-5)


def test_lr_matched_annealing_constant_learning_rate():
    schedule = co.lr_matched_annealing(0.7, 0.01)
    assert [float(schedule(t)) for t in (0, 5, 1000)] == pytest.approx([0.7] * 3)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: co.cosine_annealing(-0.1, period=10), "init_strength"),
        (lambda: co.cosine_annealing(float("nan"), period=10), "init_strength"),
        (lambda: co.cosine_annealing(0.1, period=0), "period"),
        (lambda: co.cosine_annealing(0.1, period=-5), "period"),
        (lambda: co.power_law_annealing(-1.0), "init_strength"),
        (lambda: co.power_law_annealing(1.0, exponent=-0.5), "exponent"),
        (lambda: co.lr_matched_annealing(1.0, 0.0), "learning_rate"),
        (lambda: co.lr_matched_annealing(1.0, -0.1), "learning_rate"),
        (lambda: co.lr_matched_annealing(1.0, optax.linear_schedule(0.0, 1.0, 10)),
         "learning_rate"),
        (lambda: co.lr_matched_annealing(-1.0, 0.1), "init_strength"),
    ],
)
def test_invalid_hyperparameters_raise_value_error(make, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        make()


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: co.cosine_annealing(True, period=10), "init_strength"),
        (lambda: co.cosine_annealing(lambda t: t, period=10), "init_strength"),
        (lambda: co.power_law_annealing(1.0, exponent="half"), "exponent"),
    ],
)
def test_wrong_kinds_raise_type_error(make, name):
    with pytest.raises(TypeError, match=f"^{name}"):
        make()


# ----------------------------------------------------------------------------------------------
# Issue 13: integer step counting, and hyperparameters that overflow float32.
# ----------------------------------------------------------------------------------------------

_COSINE_100 = co.cosine_annealing(0.3, period=100)
_COSINE_100_JIT = jax.jit(jax.vmap(_COSINE_100))


def test_cosine_exact_at_the_restart_t_2e9():
    """Counting in float32 gave λ(2·10⁹) = 0.963·2λ₀; the integer count gives 2λ₀."""
    for count in (2_000_000_000, jnp.int32(2_000_000_000)):
        assert float(_COSINE_100(count)) == pytest.approx(0.6, rel=1e-7)
    assert float(_COSINE_100_JIT(jnp.asarray([2_000_000_000], jnp.int32))[0]) == pytest.approx(
        0.6, rel=1e-7)
    assert float(_COSINE_100(2**31 - 1)) == pytest.approx(
        0.3 * (1 + np.cos(2 * np.pi * ((2**31 - 1) % 100) / 100)), abs=0.6e-6)


def test_cosine_precise_near_t_1e7_for_period_100():
    """Error < 1e-6 relative to the peak 2λ₀ (the float32 count gave > 1%)."""
    t = np.arange(10**7, 10**7 + 200)
    values = np.asarray(_COSINE_100_JIT(jnp.asarray(t, jnp.int32)), np.float64)
    exact = 0.3 * (1 + np.cos(2 * np.pi * (t % 100) / 100))
    assert np.max(np.abs(values - exact)) / 0.6 < 1e-6


def test_cosine_non_integer_period_counts_exactly():
    schedule = co.cosine_annealing(0.3, period=100.5)
    t = np.arange(10**9, 10**9 + 201)
    values = np.asarray(jax.vmap(schedule)(jnp.asarray(t, jnp.int32)), np.float64)
    exact = 0.3 * (1 + np.cos(2 * np.pi * np.mod(t * 2, 201) / 201))
    assert np.max(np.abs(values - exact)) / 0.6 < 1e-6


def test_cosine_injected_period_is_exact_too():
    tx = optax.inject_hyperparams(
        lambda init_strength, period: co.complexity_weight_decay(
            co.cosine_annealing(init_strength, period)))(init_strength=0.3, period=100.0)
    params = jnp.ones(2)
    state = tx.init(params)
    inner = state.inner_state._replace(
        schedule_state=state.inner_state.schedule_state._replace(
            count=jnp.asarray(2_000_000_000, jnp.int32)))
    state = state._replace(inner_state=inner)
    _, state = jax.jit(tx.update)(jnp.zeros(2), state, params)
    assert float(state.inner_state.strength) == pytest.approx(0.6, rel=1e-7)


@pytest.mark.parametrize("make, name, message", [
    (lambda: co.cosine_annealing(1e39, period=100), "init_strength", "fit in float32"),
    (lambda: co.cosine_annealing(2e38, period=100), "init_strength", "fit in float32"),
    (lambda: co.cosine_annealing(0.1, 1e-39), "period", "underflow"),
    (lambda: co.cosine_annealing(0.1, 0.5), "period", ">= 1"),
    (lambda: co.power_law_annealing(1e39), "init_strength", "fit in float32"),
    (lambda: co.power_law_annealing(0.1, exponent=1e39), "exponent", "fit in float32"),
    (lambda: co.lr_matched_annealing(1e39, 0.1), "init_strength", "fit in float32"),
    (lambda: co.lr_matched_annealing(0.1, 1e-39), "learning_rate", "underflow"),
    (lambda: co.cosine_annealing(jnp.array([0.1, -0.1]), 10), "init_strength", ">= 0"),
    (lambda: co.power_law_annealing(np.array([0.1, -0.1])), "init_strength", ">= 0"),
    (lambda: co.lr_matched_annealing(0.1, jnp.array([0.1, 0.0])), "learning_rate", "> 0"),
])
def test_overflowing_and_array_hyperparameters_rejected(make, name, message):
    with pytest.raises(ValueError, match=f"^{name} must.*{message}"):
        make()


def test_largest_valid_strength_stays_finite():
    schedule = co.cosine_annealing(8e37, period=10)  # 4λ₀ = 3.2e38 < float32 max
    assert np.isfinite(float(schedule(0))) and float(schedule(0)) == pytest.approx(1.6e38, rel=1e-6)
