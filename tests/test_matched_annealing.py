# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Matched annealing (Algorithm 1): λ after known loss sequences, worked out by hand."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co

NAN = float("nan")


@functools.partial(jax.jit, static_argnums=0)
def _step(schedule, state, value):
    return schedule(state, value=value), schedule.update(state, value=value, unused=1.0)


@functools.partial(jax.jit, static_argnums=0)
def _update(schedule, state, value):
    return schedule.update(state, value=value)


def _trajectory(schedule, losses):
    """λ returned by ``schedule(state, value=v)`` and after ``update``, one jitted step per loss."""
    state = schedule.init()
    called, stored = [], []
    for i, loss in enumerate(losses):
        lam, state = _step(schedule, state, jnp.float32(loss))
        if i == 0:
            compiled = _step._cache_size()  # pylint: disable=protected-access
        called.append(float(lam))
        stored.append(float(state.current_strength))
    assert _step._cache_size() == compiled  # pylint: disable=protected-access
    return np.array(called), np.array(stored), state


# L0 = 4 (first value), floor 0: ratios 1, 0.75, (NaN skipped), 0.5, 0.25; λ0 = 0.2.
LOSSES = [4.0, 3.0, NAN, 2.0, 1.0]
HAND = {
    # S = identity.
    ("none", 2): [0.2 * 1, 0.2 * 0.75, 0.2 * 0.75, 0.2 * 0.5, 0.2 * 0.25],
    # EMA, decay 1 - 1/2 = 0.5, started at the first ratio: 1, .875, .875, .6875, .46875.
    ("ema", 2): [0.2, 0.2 * 0.875, 0.2 * 0.875, 0.2 * 0.6875, 0.2 * 0.46875],
    # EMA, decay 1 - 1/4 = 0.75: 1, .9375, .9375, .828125, .68359375.
    ("ema", 4): [0.2, 0.2 * 0.9375, 0.2 * 0.9375, 0.2 * 0.828125, 0.2 * 0.68359375],
    # Window of 2: mean(1), mean(1, .75), -, mean(.75, .5), mean(.5, .25).
    ("window", 2): [0.2, 0.2 * 0.875, 0.2 * 0.875, 0.2 * 0.625, 0.2 * 0.375],
    # Window of 3, partially filled at first: 1, .875, -, .75, .5.
    ("window", 3): [0.2, 0.2 * 0.875, 0.2 * 0.875, 0.2 * 0.75, 0.2 * 0.5],
}


@pytest.mark.parametrize("smoothing, memory", list(HAND))
def test_lambda_after_known_sequence(smoothing, memory):
    schedule = co.matched_annealing(0.2, memory=memory, smoothing=smoothing)
    called, stored, state = _trajectory(schedule, LOSSES)
    np.testing.assert_allclose(called, HAND[smoothing, memory], rtol=1e-6)
    np.testing.assert_allclose(stored, HAND[smoothing, memory], rtol=1e-6)
    assert int(state.count) == 4  # the NaN was not consumed
    assert float(state.initial_loss) == 4.0


def test_warmup_and_loss_floor():
    # warmup 2: L0 = mean(4, 2) = 3, λ0 while warming up (the NaN does not count);
    # floor 1: ratios (2-1)/(3-1) = .5, (1.5-1)/2 = .25, (0.5-1)/2 < 0 -> clipped to 0.
    schedule = co.matched_annealing(0.2, smoothing="none", warmup_steps=2, loss_floor=1.0)
    called, _, state = _trajectory(schedule, [4.0, NAN, 2.0, 2.0, 1.5, 0.5])
    np.testing.assert_allclose(called, [0.2, 0.2, 0.2, 0.1, 0.05, 0.0], rtol=1e-6, atol=1e-9)
    assert float(state.initial_loss) == 3.0


def test_warmup_with_window_smoothing_excludes_warmup_values():
    # warmup 3: L0 = mean(6, 4, 2) = 4; window 2 over ratios .5, .25, 1 -> .5, .375, .625.
    schedule = co.matched_annealing(1.0, memory=2, smoothing="window", warmup_steps=3)
    called, _, _ = _trajectory(schedule, [6.0, 4.0, 2.0, 2.0, 1.0, 4.0])
    np.testing.assert_allclose(called, [1.0, 1.0, 1.0, 0.5, 0.375, 0.625], rtol=1e-6)


def test_floor_makes_lambda_invariant_to_a_constant_shift():
    losses = np.array([5.0, 4.0, 2.5, 3.0, 1.5])
    base = co.matched_annealing(0.3, memory=3, smoothing="ema", loss_floor=1.0)
    shifted = co.matched_annealing(0.3, memory=3, smoothing="ema", loss_floor=101.0)
    lam_base, _, _ = _trajectory(base, losses)
    lam_shifted, _, _ = _trajectory(shifted, losses + 100.0)
    np.testing.assert_allclose(lam_shifted, lam_base, rtol=1e-4)
    # Without the floor the shift changes λ: this is the paper's caveat.
    plain, _, _ = _trajectory(co.matched_annealing(0.3, memory=3), losses + 100.0)
    assert abs(plain[-1] - lam_base[-1]) > 0.05


def test_ratio_is_clipped_to_max_ratio():
    capped = co.matched_annealing(0.1, smoothing="none")  # default cap 2
    lam, _, _ = _trajectory(capped, [1.0, 10.0, 1.5])
    np.testing.assert_allclose(lam, [0.1, 0.2, 0.15], rtol=1e-6)
    uncapped = co.matched_annealing(0.1, smoothing="none", max_ratio=math.inf)
    lam, _, _ = _trajectory(uncapped, [1.0, 10.0])
    np.testing.assert_allclose(lam, [0.1, 1.0], rtol=1e-6)


def test_initial_loss_at_or_below_floor_keeps_lambda_finite():
    schedule = co.matched_annealing(0.1, smoothing="none", loss_floor=5.0)
    lam, _, state = _trajectory(schedule, [4.0, 3.0, 7.0])
    np.testing.assert_allclose(lam, [0.1, 0.1, 0.1])
    assert all(np.isfinite(np.asarray(leaf)).all() for leaf in jax.tree.leaves(state))


def test_non_finite_values_leave_the_state_unchanged():
    schedule = co.matched_annealing(0.1, memory=3, smoothing="window")
    state = _update(schedule, _update(schedule, schedule.init(), 2.0), 1.0)
    for bad in (NAN, math.inf, -math.inf):
        new_state = _update(schedule, state, bad)
        jax.tree.map(np.testing.assert_array_equal, new_state, state)
        assert float(_step(schedule, state, jnp.float32(bad))[0]) == pytest.approx(0.075)


def test_call_without_value_and_init():
    schedule = co.matched_annealing(0.3)
    state = schedule.init()
    assert float(schedule(state)) == pytest.approx(0.3)
    assert float(schedule(state, other=1)) == pytest.approx(0.3)
    state = schedule.update(state, value=2.0)
    state = schedule.update(state, value=1.0)
    # EMA memory 10 (decay .9): .9 * 1 + .1 * .5 = .95.
    assert float(schedule(state)) == pytest.approx(0.3 * 0.95)
    with pytest.raises(ValueError, match="^value"):
        schedule.update(state)


def test_is_a_stateful_schedule_with_stable_dtypes():
    schedule = co.matched_annealing(0.1, memory=4, smoothing="window")
    assert isinstance(schedule, optax.schedules.StatefulSchedule)
    init = schedule.init()
    assert isinstance(init, co.MatchedAnnealingState)
    with jax.enable_x64(True):
        state = _update(schedule, init, jnp.float64(3.0))
        state = _update(schedule, state, jnp.float64(2.0))
    assert jax.tree.map(lambda x: (x.dtype, x.shape), state) == jax.tree.map(
        lambda x: (x.dtype, x.shape), init
    )
    assert init.count.dtype == jnp.int32 and init.current_strength.dtype == jnp.float32


@functools.partial(jax.jit, static_argnums=0)
def _inject_step(tx, state, params, value):
    return tx.update(jax.tree.map(jnp.zeros_like, params), state, params, value=value)


def test_inside_inject_hyperparams_add_decayed_weights():
    tx = optax.inject_hyperparams(optax.add_decayed_weights)(
        weight_decay=co.matched_annealing(0.2, smoothing="none")
    )
    params = {"w": jnp.array([1.0, -2.0]), "b": jnp.array([3.0])}
    state = tx.init(params)
    assert float(state.hyperparams["weight_decay"]) == pytest.approx(0.2)  # λ0 at init
    expected = [0.2, 0.1, 0.1, 0.05]  # L0 = 4; NaN skipped
    for loss, lam in zip([4.0, 2.0, NAN, 1.0], expected):
        updates, state = _inject_step(tx, state, params, jnp.float32(loss))
        # There, weight_decay = λ_i and the update is λ_i θ (optax's convention, not 2λ_i θ).
        assert float(state.hyperparams["weight_decay"]) == pytest.approx(lam)
        np.testing.assert_allclose(updates["w"], lam * np.array([1.0, -2.0]), rtol=1e-6)
        np.testing.assert_allclose(updates["b"], lam * np.array([3.0]), rtol=1e-6)
    assert _inject_step._cache_size() == 1  # pylint: disable=protected-access


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(init_strength=-0.1), "init_strength"),
        (dict(init_strength=math.inf), "init_strength"),
        (dict(init_strength=0.1, memory=0), "memory"),
        (dict(init_strength=0.1, warmup_steps=-1), "warmup_steps"),
        (dict(init_strength=0.1, smoothing="median"), "smoothing"),
        (dict(init_strength=0.1, loss_floor=math.inf), "loss_floor"),
        (dict(init_strength=0.1, loss_floor=NAN), "loss_floor"),
        (dict(init_strength=0.1, max_ratio=0.0), "max_ratio"),
    ],
)
def test_invalid_hyperparameters_raise_value_error(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        co.matched_annealing(**kwargs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(init_strength=0.1, memory=2.5), "memory"),
        (dict(init_strength=0.1, warmup_steps=True), "warmup_steps"),
        (dict(init_strength=lambda t: 0.1), "init_strength"),
    ],
)
def test_wrong_kinds_raise_type_error(kwargs, name):
    with pytest.raises(TypeError, match=f"^{name}"):
        co.matched_annealing(**kwargs)


# ----------------------------------------------------------------------------------------------
# Issue 13: int32 limits, overflowing strengths, per-example values.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, name, message", [
    ({"warmup_steps": 2**31}, "warmup_steps", "int32 step counter"),
    ({"warmup_steps": 2**40}, "warmup_steps", "int32 step counter"),
    ({"memory": 2**31}, "memory", "int32 step counter"),
    ({"memory": 0, "smoothing": "none"}, "memory", ">= 1"),  # validated though unused
    ({"loss_floor": 1e39}, "loss_floor", "fit in float32"),
    ({"max_ratio": 1e39}, "max_ratio", "fit in float32"),
])
def test_limits_rejected_at_construction(kwargs, name, message):
    with pytest.raises(ValueError, match=f"^{name} must.*{message}"):
        co.matched_annealing(0.1, **kwargs)


def test_overflowing_init_strength_rejected():
    with pytest.raises(ValueError, match="^init_strength must fit in float32"):
        co.matched_annealing(1e39)
    with pytest.raises(ValueError, match="^init_strength must fit in float32"):
        co.matched_annealing(1e38, max_ratio=2.0)  # 2·max_ratio·λ₀ = 4e38 overflows
    co.matched_annealing(1e38, max_ratio=0.5)


def test_largest_warmup_runs_at_the_int32_limit():
    """warmup_steps = 2³¹ − 2 is accepted and still compares with the int32 count."""
    schedule = co.matched_annealing(0.1, warmup_steps=2**31 - 2, smoothing="none")
    state = schedule.init()._replace(count=jnp.asarray(2**31 - 3, jnp.int32),
                                     initial_loss=jnp.asarray(2.0, jnp.float32))
    state = jax.jit(lambda s: schedule.update(s, value=2.0))(state)  # the last warm-up value
    assert float(schedule(state)) == pytest.approx(0.1)
    state = jax.jit(lambda s: schedule.update(s, value=1.0))(state)  # first ratio: 1/2
    assert float(schedule(state)) == pytest.approx(0.05)
    assert int(state.count) == 2**31 - 1


def test_per_example_values_are_a_clear_error_and_one_element_values_keep_the_layout():
    schedule = co.matched_annealing(0.1, memory=3, smoothing="window")
    state = schedule.init()
    with pytest.raises(ValueError, match=r"^value must be a scalar.*shape \(4,\)"):
        schedule.update(state, value=jnp.ones(4))
    with pytest.raises(ValueError, match="^value must be a scalar"):
        jax.jit(lambda s, v: schedule.update(s, value=v))(state, jnp.ones((2, 3)))
    for value in ([2.0], jnp.asarray([2.0]), np.float32(2.0)):
        new = schedule.update(state, value=value)
        assert jax.tree.map(jnp.shape, new) == jax.tree.map(jnp.shape, state)
        assert float(new.initial_loss) == 2.0
