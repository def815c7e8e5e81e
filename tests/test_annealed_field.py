# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Tests for AnnealSGD's annealed external field and the field-alignment diagnostic."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co

KEY = jax.random.key(42)
PARAMS = {"w": jnp.ones((4, 3)), "b": jnp.zeros(5)}
ZEROS = jax.tree.map(jnp.zeros_like, PARAMS)
GRADS = {"w": jnp.cos(jnp.arange(12.0)).reshape(4, 3), "b": jnp.sin(jnp.arange(5.0))}

G0, TAU, STEPS = 2.0, 4.0, 7
FORMULAS = {
    "linear": lambda t: G0 * max(0.0, 1.0 - t / TAU),
    "exponential": lambda t: G0 * np.exp(-t / TAU),
    "inverse": lambda t: G0 / (1.0 + t / TAU),
}


def _run(tx, grads, steps, params=PARAMS):
    """``steps`` eager updates with fixed grads; returns stacked updates and the final state.

    Eager on purpose: every test builds a new transformation, so jit would compile each time.
    """
    state, history = tx.init(params), []
    for _ in range(steps):
        updates, state = tx.update(grads, state, params)
        history.append(updates)
    return jax.tree.map(lambda *xs: jnp.stack(xs), *history), state


class TestAddAnnealedField:
    def test_field_is_a_fixed_standard_gaussian_draw(self):
        tx = co.add_annealed_field(KEY, G0, TAU)
        init_state = tx.init(PARAMS)
        np.testing.assert_array_equal(
            init_state.field["w"], optax.tree.random_like(KEY, PARAMS)["w"]
        )
        _, state = _run(tx, ZEROS, STEPS)
        assert int(state.count) == STEPS and state.count.dtype == jnp.int32
        for k in ("w", "b"):  # identical h after several updates
            np.testing.assert_array_equal(state.field[k], init_state.field[k])

    @pytest.mark.parametrize("schedule", ["linear", "exponential", "inverse"])
    def test_added_field_is_gamma_t_times_h(self, schedule):
        tx = co.add_annealed_field(KEY, G0, TAU, schedule=schedule)
        updates, state = _run(tx, GRADS, STEPS)
        gammas = np.array([FORMULAS[schedule](t) for t in range(STEPS)])
        for k in ("w", "b"):
            added = np.asarray(updates[k]) - np.asarray(GRADS[k])[None]
            expected = gammas.reshape((-1,) + (1,) * GRADS[k].ndim) * np.asarray(state.field[k])
            np.testing.assert_allclose(added, expected, rtol=1e-5, atol=1e-6)
        if schedule == "linear":  # exactly off from t = tau on
            np.testing.assert_array_equal(np.asarray(updates["w"])[4:], np.broadcast_to(
                GRADS["w"], (3, 4, 3)))

    def test_callable_schedule(self):
        sched = optax.linear_schedule(1.5, 0.5, transition_steps=4)
        tx = co.add_annealed_field(KEY, schedule=sched)
        updates, state = _run(tx, ZEROS, 5)
        expected = np.array([1.5, 1.25, 1.0, 0.75, 0.5])
        np.testing.assert_allclose(
            np.asarray(updates["b"]), expected[:, None] * np.asarray(state.field["b"]), rtol=1e-6
        )

    def test_non_finite_gamma_is_skipped(self):
        tx = co.add_annealed_field(KEY, schedule=lambda t: jnp.where(t == 1, jnp.nan, 1.0))
        updates, state = _run(tx, GRADS, 3)
        np.testing.assert_allclose(updates["b"][1], GRADS["b"])  # gamma NaN treated as 0
        np.testing.assert_allclose(updates["b"][2], GRADS["b"] + state.field["b"], rtol=1e-6)
        assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(state))

    def test_resample_draws_fresh_standard_gaussians(self):
        params = {"w": jnp.zeros((100, 100))}
        tx = co.add_annealed_field(KEY, 1.0, 1e9, schedule="inverse", resample=True)
        updates, state = _run(tx, params, 4, params)
        draws = np.asarray(updates["w"], np.float64).reshape(4, -1)  # gamma ~= 1, grads 0
        np.testing.assert_allclose(draws[-1], np.ravel(state.field["w"]), rtol=1e-6)
        for d in draws:
            assert abs(d.mean()) < 0.05 and d.std() == pytest.approx(1.0, abs=0.03)
        corr = np.corrcoef(draws)
        assert np.max(np.abs(corr - np.eye(4))) < 0.1  # independent draws, not the same h
        assert not np.array_equal(state.key, tx.init(params).key)

    def test_bfloat16_params(self):
        params = jax.tree.map(lambda x: x.astype(jnp.bfloat16), PARAMS)
        for resample in (False, True):
            tx = co.add_annealed_field(KEY, G0, TAU, resample=resample)
            state = tx.init(params)
            assert state.field["w"].dtype == jnp.bfloat16
            updates, state = tx.update(params, state, params)
            assert updates["w"].dtype == jnp.bfloat16 and state.field["b"].dtype == jnp.bfloat16

    def test_in_chain_before_lr_and_in_inject_hyperparams(self):
        lr = 0.1
        tx = optax.chain(co.add_annealed_field(KEY, G0, TAU), optax.sgd(lr))
        state = tx.init(PARAMS)
        updates, state = tx.update(GRADS, state, PARAMS)
        np.testing.assert_allclose(
            updates["w"], -lr * (GRADS["w"] + G0 * state[0].field["w"]), rtol=1e-6
        )
        inj = optax.inject_hyperparams(co.add_annealed_field, static_args=("schedule",))(
            key=KEY, init_scale=G0, timescale=TAU
        )
        update = jax.jit(inj.update)
        istate = inj.init(PARAMS)
        for t in range(3):
            updates, istate = update(GRADS, istate, PARAMS)
            np.testing.assert_allclose(
                updates["b"], GRADS["b"] + FORMULAS["linear"](t) * istate.inner_state.field["b"],
                rtol=1e-6,
            )
        assert update._cache_size() == 1

    def test_int_seed_key(self):
        tx = co.add_annealed_field(3, G0, TAU)
        np.testing.assert_array_equal(
            tx.init(PARAMS).field["b"], optax.tree.random_like(jax.random.key(3), PARAMS)["b"]
        )

    @pytest.mark.parametrize(
        "args, kwargs, name",
        [
            ((-0.1, 1.0), {}, "init_scale"),
            ((1.0, 0.0), {}, "timescale"),
            ((1.0, -2.0), {}, "timescale"),
            ((1.0, 1.0), {"schedule": "cosine"}, "schedule"),
            ((None, 1.0), {}, "init_scale"),
            ((1.0, None), {}, "timescale"),
            ((1.0, None), {"schedule": lambda t: 1.0}, "init_scale"),
            ((None, 3.0), {"schedule": lambda t: 1.0}, "timescale"),
        ],
    )
    def test_bad_arguments(self, args, kwargs, name):
        with pytest.raises(ValueError, match=f"^{name}"):
            co.add_annealed_field(KEY, *args, **kwargs)

    def test_bad_key_type(self):
        with pytest.raises(TypeError, match="^key"):
            co.add_annealed_field("seed", 1.0, 1.0)


class TestFieldAlignment:
    def _state(self):
        return co.add_annealed_field(KEY, G0, TAU).init(PARAMS)

    def test_parallel_orthogonal_and_zero(self):
        state = self._state()
        h = state.field
        assert float(co.field_alignment(jax.tree.map(lambda x: -2.5 * x, h), state)) == (
            pytest.approx(1.0, abs=1e-6)
        )
        # θ ⊥ h: remove the projection on h from a generic θ.
        coef = optax.tree.vdot(GRADS, h) / optax.tree.norm(h, squared=True)
        ortho = jax.tree.map(lambda g, hi: g - coef * hi, GRADS, h)
        assert float(co.field_alignment(ortho, state)) == pytest.approx(0.0, abs=1e-6)
        assert float(co.field_alignment(ZEROS, state)) == 0.0

    def test_closed_form(self):
        state = self._state()
        h = np.concatenate([np.ravel(state.field[k]) for k in ("b", "w")])
        t = np.concatenate([np.ravel(GRADS[k]) for k in ("b", "w")])
        expected = abs(h @ t) / (np.linalg.norm(h) * np.linalg.norm(t))
        assert float(co.field_alignment(GRADS, state)) == pytest.approx(expected, rel=1e-5)

    def test_found_inside_chain_and_inject_hyperparams_state(self):
        tx = optax.chain(optax.clip(1.0), co.add_annealed_field(KEY, G0, TAU), optax.sgd(0.1))
        state = tx.init(PARAMS)
        direct = co.field_alignment(GRADS, self._state())
        assert float(jax.jit(co.field_alignment)(GRADS, state)) == pytest.approx(float(direct))
        inj = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
        nested = optax.chain(co.add_annealed_field(KEY, G0, TAU), inj)
        assert float(co.field_alignment(GRADS, nested.init(PARAMS))) == pytest.approx(
            float(direct)
        )

    def test_missing_or_ambiguous_state(self):
        with pytest.raises(ValueError, match="^state"):
            co.field_alignment(PARAMS, optax.sgd(0.1).init(PARAMS))
        field = co.add_annealed_field(KEY, 1.0, 1.0)
        two = optax.chain(field, field)
        with pytest.raises(ValueError, match="^state"):
            co.field_alignment(PARAMS, two.init(PARAMS))
        with pytest.raises(ValueError, match="^params"):
            co.field_alignment({"w": jnp.ones(3)}, self._state())
