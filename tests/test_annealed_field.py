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

G0, TAU, STEPS = 2.0, 4, 7
# The named shapes of the paper's anneal, written with optax schedules, and their closed forms.
SHAPES = {
    "linear": (optax.linear_schedule(G0, 0.0, TAU), lambda t: G0 * max(0.0, 1.0 - t / TAU)),
    "exponential": (optax.exponential_decay(G0, TAU, np.exp(-1.0)),
                    lambda t: G0 * np.exp(-t / TAU)),
    "inverse": (lambda t: G0 / (1.0 + t / TAU), lambda t: G0 / (1.0 + t / TAU)),
}


def _flat(tree):
    return np.concatenate([np.ravel(np.asarray(tree[k], np.float64)) for k in ("b", "w")])


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
        tx = co.add_annealed_field(G0, key=KEY)
        init_state = tx.init(PARAMS)
        np.testing.assert_array_equal(
            init_state.field["w"], optax.tree.random_like(KEY, PARAMS)["w"]
        )
        _, state = _run(tx, ZEROS, STEPS)
        assert int(state.count) == STEPS and state.count.dtype == jnp.int32
        for k in ("w", "b"):  # identical h after several updates
            np.testing.assert_array_equal(state.field[k], init_state.field[k])

    @pytest.mark.parametrize("shape", ["linear", "exponential", "inverse"])
    def test_absolute_field_is_gamma_t_times_h(self, shape):
        schedule, formula = SHAPES[shape]
        tx = co.add_annealed_field(schedule, key=KEY, relative_to=None)
        updates, state = _run(tx, GRADS, STEPS)
        gammas = np.array([formula(t) for t in range(STEPS)])
        for k in ("w", "b"):
            added = np.asarray(updates[k]) - np.asarray(GRADS[k])[None]
            expected = gammas.reshape((-1,) + (1,) * GRADS[k].ndim) * np.asarray(state.field[k])
            np.testing.assert_allclose(added, expected, rtol=1e-5, atol=1e-6)
        if shape == "linear":  # exactly off from t = tau on
            np.testing.assert_array_equal(np.asarray(updates["w"])[4:], np.broadcast_to(
                GRADS["w"], (3, 4, 3)))

    def test_grad_relative_field_has_gamma_times_the_gradient_norm(self):
        tx = co.add_annealed_field(0.5, key=KEY)  # relative_to="grad" is the default
        updates, state = tx.update(GRADS, tx.init(PARAMS), PARAMS)
        h, g = _flat(state.field), _flat(GRADS)
        added = _flat(updates) - g
        np.testing.assert_allclose(added, 0.5 * np.linalg.norm(g) / np.linalg.norm(h) * h,
                                   rtol=1e-5)
        assert np.linalg.norm(added) == pytest.approx(0.5 * np.linalg.norm(g), rel=1e-5)
        # Zero gradient: zero field (nothing to be relative to), no NaN.
        updates, _ = tx.update(ZEROS, tx.init(PARAMS), PARAMS)
        np.testing.assert_array_equal(_flat(updates), 0.0)

    def test_params_relative_field_and_its_need_for_params(self):
        tx = co.add_annealed_field(0.1, key=KEY, relative_to="params")
        updates, state = tx.update(ZEROS, tx.init(PARAMS), PARAMS)
        assert np.linalg.norm(_flat(updates)) == pytest.approx(
            0.1 * np.linalg.norm(_flat(PARAMS)), rel=1e-5)  # 0.1·√12
        with pytest.raises(ValueError, match="^params"):
            tx.update(ZEROS, tx.init(PARAMS))

    def test_grad_relative_field_is_scale_free(self):
        """The same γ gives the same relative tilt for a gradient 1e6 times larger."""
        tx = co.add_annealed_field(0.3, key=KEY)
        small, _ = tx.update(GRADS, tx.init(PARAMS), PARAMS)
        big, _ = tx.update(jax.tree.map(lambda g: 1e6 * g, GRADS), tx.init(PARAMS), PARAMS)
        np.testing.assert_allclose(_flat(big), 1e6 * _flat(small), rtol=1e-5)

    def test_non_finite_gamma_is_skipped(self):
        tx = co.add_annealed_field(lambda t: jnp.where(t == 1, jnp.nan, 1.0), key=KEY,
                                   relative_to=None)
        updates, state = _run(tx, GRADS, 3)
        np.testing.assert_allclose(updates["b"][1], GRADS["b"])  # gamma NaN treated as 0
        np.testing.assert_allclose(updates["b"][2], GRADS["b"] + state.field["b"], rtol=1e-6)
        assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(state))

    def test_resample_draws_fresh_standard_gaussians(self):
        params = {"w": jnp.zeros((100, 100))}
        tx = co.add_annealed_field(1.0, key=KEY, relative_to=None, resample=True)
        updates, state = _run(tx, params, 4, params)
        draws = np.asarray(updates["w"], np.float64).reshape(4, -1)  # gamma = 1, grads 0
        np.testing.assert_allclose(draws[-1], np.ravel(state.field["w"]), rtol=1e-6)
        for d in draws:
            assert abs(d.mean()) < 0.05 and d.std() == pytest.approx(1.0, abs=0.03)
        corr = np.corrcoef(draws)
        assert np.max(np.abs(corr - np.eye(4))) < 0.1  # independent draws, not the same h
        assert not np.array_equal(jax.random.key_data(state.key),
                                  jax.random.key_data(tx.init(params).key))

    def test_bfloat16_params(self):
        params = jax.tree.map(lambda x: x.astype(jnp.bfloat16), PARAMS)
        for resample in (False, True):
            tx = co.add_annealed_field(G0, key=KEY, resample=resample)
            state = tx.init(params)
            assert state.field["w"].dtype == jnp.bfloat16
            updates, state = tx.update(params, state, params)
            assert updates["w"].dtype == jnp.bfloat16 and state.field["b"].dtype == jnp.bfloat16

    def test_in_chain_before_lr_and_in_inject_hyperparams_without_static_args(self):
        lr = 0.1
        tx = optax.chain(co.add_annealed_field(G0, key=KEY, relative_to=None), optax.sgd(lr))
        state = tx.init(PARAMS)
        updates, state = tx.update(GRADS, state, PARAMS)
        np.testing.assert_allclose(
            updates["w"], -lr * (GRADS["w"] + G0 * state[0].field["w"]), rtol=1e-6
        )
        # A schedule scale and an int key, no static_args: the key is not a hyperparameter to
        # trace into a broken key, the schedule is evaluated by the wrapper.
        inj = optax.inject_hyperparams(co.add_annealed_field)(
            SHAPES["linear"][0], key=3, relative_to=None)
        update = jax.jit(inj.update)
        istate = inj.init(PARAMS)
        np.testing.assert_array_equal(istate.inner_state.field["b"],
                                      optax.tree.random_like(jax.random.key(3), PARAMS)["b"])
        for t in range(3):
            updates, istate = update(GRADS, istate, PARAMS)
            np.testing.assert_allclose(
                updates["b"], GRADS["b"] + SHAPES["linear"][1](t) * istate.inner_state.field["b"],
                rtol=1e-6,
            )
        assert update._cache_size() == 1

    @pytest.mark.parametrize("key", [3, np.int32(3), jnp.asarray(3), jax.random.key(3),
                                     jax.random.PRNGKey(3)])
    def test_key_forms(self, key):
        tx = co.add_annealed_field(G0, key=key)
        np.testing.assert_array_equal(
            tx.init(PARAMS).field["b"], optax.tree.random_like(jax.random.key(3), PARAMS)["b"]
        )

    @pytest.mark.parametrize(
        "scale, kwargs, name",
        [
            (-0.1, {}, "scale"),
            (float("nan"), {}, "scale"),
            (float("inf"), {}, "scale"),
            (1e39, {}, "scale"),  # issue 13: finite in Python, inf in float32: no field at all
            (1.0, {"relative_to": "loss"}, "relative_to"),
        ],
    )
    def test_bad_arguments(self, scale, kwargs, name):
        with pytest.raises(ValueError, match=f"^{name}"):
            co.add_annealed_field(scale, key=KEY, **kwargs)

    def test_bad_key_and_resample_types_and_positional_key(self):
        with pytest.raises(TypeError, match="^key"):
            co.add_annealed_field(1.0, key="seed")
        with pytest.raises(TypeError, match="^key"):
            co.add_annealed_field(1.0, key=jnp.ones(3))
        with pytest.raises(TypeError, match="^resample"):
            co.add_annealed_field(1.0, key=KEY, resample=1)
        with pytest.raises(TypeError):
            co.add_annealed_field(1.0, KEY)  # keyword-only after the scale


class TestFieldAlignment:
    def _state(self):
        return co.add_annealed_field(G0, key=KEY).init(PARAMS)

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

    def test_nan_params_give_nan_and_huge_params_do_not_overflow(self):
        """Issue 13: NaN params gave an alignment of 0.0; θ = 1e30·h overflowed the norm."""
        state = self._state()
        nan_params = {"w": PARAMS["w"].at[0, 0].set(jnp.nan), "b": PARAMS["b"]}
        assert np.isnan(float(co.field_alignment(nan_params, state)))
        huge = jax.tree.map(lambda x: 1e30 * x, state.field)
        assert float(co.field_alignment(huge, state)) == pytest.approx(1.0, abs=1e-6)

    def test_closed_form(self):
        state = self._state()
        h, t = _flat(state.field), _flat(GRADS)
        expected = abs(h @ t) / (np.linalg.norm(h) * np.linalg.norm(t))
        assert float(co.field_alignment(GRADS, state)) == pytest.approx(expected, rel=1e-5)

    def test_found_inside_chain_and_inject_hyperparams_state(self):
        tx = optax.chain(optax.clip(1.0), co.add_annealed_field(G0, key=KEY), optax.sgd(0.1))
        state = tx.init(PARAMS)
        direct = co.field_alignment(GRADS, self._state())
        assert float(jax.jit(co.field_alignment)(GRADS, state)) == pytest.approx(float(direct))
        inj = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
        nested = optax.chain(co.add_annealed_field(G0, key=KEY), inj)
        assert float(co.field_alignment(GRADS, nested.init(PARAMS))) == pytest.approx(
            float(direct)
        )

    def test_missing_or_ambiguous_state(self):
        with pytest.raises(ValueError, match="^state"):
            co.field_alignment(PARAMS, optax.sgd(0.1).init(PARAMS))
        field = co.add_annealed_field(1.0, key=KEY)
        two = optax.chain(field, field)
        with pytest.raises(ValueError, match="^state"):
            co.field_alignment(PARAMS, two.init(PARAMS))
        with pytest.raises(ValueError, match="^params"):
            co.field_alignment({"w": jnp.ones(3)}, self._state())


def test_init_copies_the_key_so_a_donating_step_keeps_the_callers_key():
    """Two transformations built from one key, each stepped by a jit that donates its state: the
    first must not delete the key the second (or the caller) still holds."""
    key = jax.random.key(3)
    params = jnp.ones(4)
    for _ in range(2):
        tx = co.add_annealed_field(0.5, key=key)
        step = jax.jit(lambda s, g: tx.update(g, s, params)[1], donate_argnums=0)
        step(tx.init(params), jnp.ones(4))
    assert jax.random.key_data(key).shape == (2,)  # still alive


def test_relative_field_uses_the_stored_norm_of_h():
    """g + gamma * (||g|| / ||h||) h, with ||h|| from the state (computed once at init)."""
    params = {"a": jnp.arange(3.0), "b": jnp.ones((2, 2))}
    grads = jax.tree.map(lambda x: 0.5 * x + 1.0, params)
    tx = co.add_annealed_field(0.25, key=1)
    state = tx.init(params)
    h = state.field
    h_norm = np.sqrt(sum(np.sum(np.asarray(x, np.float64) ** 2) for x in jax.tree.leaves(h)))
    g_norm = np.sqrt(sum(np.sum(np.asarray(x, np.float64) ** 2) for x in jax.tree.leaves(grads)))
    assert float(state.field_norm) == pytest.approx(h_norm, rel=1e-6)
    updates, _ = tx.update(grads, state, params)
    for u, g, hh in zip(jax.tree.leaves(updates), jax.tree.leaves(grads), jax.tree.leaves(h)):
        expected = np.asarray(g) + 0.25 * g_norm / h_norm * np.asarray(hh)
        np.testing.assert_allclose(np.asarray(u), expected, rtol=1e-6, atol=1e-6)
