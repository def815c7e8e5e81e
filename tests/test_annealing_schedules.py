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
