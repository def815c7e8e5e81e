# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Tests for the N-sphere transformations: projection, spherical init, tangent projection."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.stats

import complexity_optax as co

PARAMS = {"w": jnp.arange(12.0).reshape(4, 3) / 7.0 - 0.5, "b": jnp.linspace(-1.0, 2.0, 5)}
GRADS = {"w": jnp.cos(jnp.arange(12.0)).reshape(4, 3), "b": jnp.sin(jnp.arange(5.0))}
N_W, N_B = 12, 5


def _step(tx, params=PARAMS, grads=GRADS):
    """One update of ``tx``; returns (updates, new params)."""
    state = tx.init(params)
    updates, _ = tx.update(grads, state, params)
    return updates, optax.apply_updates(params, updates)


def _np_sphere(x, r):
    return r * x / np.linalg.norm(x)


def _flat(tree):
    return np.concatenate([np.ravel(np.asarray(tree[k], np.float64)) for k in ("b", "w")])


class TestProjectOntoSphere:
    def test_global_norm_after_step(self):
        tx = optax.chain(optax.sgd(0.3), co.project_onto_sphere("sqrt_n"))
        _, new = jax.jit(_step, static_argnums=0)(tx)
        assert float(optax.tree.norm(new)) == pytest.approx(np.sqrt(N_W + N_B), abs=1e-5)

    def test_global_equals_closed_form_float64(self):
        with jax.enable_x64(True):
            params = jax.tree.map(lambda x: x.astype(jnp.float64), PARAMS)
            grads = jax.tree.map(lambda x: x.astype(jnp.float64), GRADS)
            updates, _ = _step(co.project_onto_sphere("sqrt_n"), params, grads)
            x = _flat(params) + _flat(grads)
            expected = _np_sphere(x, np.sqrt(17.0)) - _flat(params)
            np.testing.assert_allclose(_flat(updates), expected, rtol=1e-12, atol=1e-12)
            assert updates["w"].dtype == jnp.float64

    def test_per_leaf_norms_and_closed_form(self):
        updates, new = _step(co.project_onto_sphere("sqrt_n", scope="per_leaf"))
        assert float(jnp.linalg.norm(new["w"])) == pytest.approx(np.sqrt(N_W), abs=1e-5)
        assert float(jnp.linalg.norm(new["b"])) == pytest.approx(np.sqrt(N_B), abs=1e-5)
        x_b = np.asarray(PARAMS["b"] + GRADS["b"], np.float64)
        np.testing.assert_allclose(new["b"], _np_sphere(x_b, np.sqrt(N_B)), rtol=1e-6, atol=1e-6)

    def test_custom_radius_global_and_per_leaf(self):
        _, new = _step(co.project_onto_sphere(3.0))
        assert float(optax.tree.norm(new)) == pytest.approx(3.0, abs=1e-5)
        _, new = _step(co.project_onto_sphere(0.5, scope="per_leaf"))
        assert float(jnp.linalg.norm(new["w"])) == pytest.approx(0.5, abs=1e-6)
        assert float(jnp.linalg.norm(new["b"])) == pytest.approx(0.5, abs=1e-6)

    def test_mask_passes_leaves_through_and_excludes_them_from_n(self):
        tx = co.project_onto_sphere("sqrt_n", mask={"w": True, "b": False})
        updates, new = _step(tx)
        np.testing.assert_array_equal(updates["b"], GRADS["b"])  # unchanged update
        # Only w counts: N = 12 and the norm is over w alone.
        assert float(jnp.linalg.norm(new["w"])) == pytest.approx(np.sqrt(N_W), abs=1e-5)
        x_w = np.asarray(PARAMS["w"] + GRADS["w"], np.float64)
        np.testing.assert_allclose(new["w"], _np_sphere(x_w, np.sqrt(N_W)), rtol=1e-6, atol=1e-6)

    def test_callable_mask(self):
        tx = co.project_onto_sphere("sqrt_n", mask=lambda p: {"w": False, "b": True})
        updates, new = _step(tx)
        np.testing.assert_array_equal(updates["w"], GRADS["w"])
        assert float(jnp.linalg.norm(new["b"])) == pytest.approx(np.sqrt(N_B), abs=1e-5)

    @pytest.mark.parametrize("scope", ["global", "per_leaf"])
    def test_zero_norm_returns_updates_unchanged(self, scope):
        zeros = jax.tree.map(jnp.zeros_like, PARAMS)
        grads = {"w": jnp.zeros((4, 3)), "b": GRADS["b"]}
        updates, new = _step(co.project_onto_sphere("sqrt_n", scope=scope), zeros, grads)
        assert all(bool(jnp.all(jnp.isfinite(u))) for u in jax.tree.leaves(updates))
        np.testing.assert_array_equal(new["w"], 0.0)  # stays at θ + u = 0
        if scope == "per_leaf":  # b is projected on its own sphere
            assert float(jnp.linalg.norm(new["b"])) == pytest.approx(np.sqrt(N_B), abs=1e-5)
        updates, new = _step(co.project_onto_sphere(scope=scope), zeros, zeros)
        np.testing.assert_array_equal(updates["b"], 0.0)
        np.testing.assert_array_equal(updates["w"], 0.0)

    def test_bfloat16_params_keep_bfloat16_updates(self):
        params = jax.tree.map(lambda x: x.astype(jnp.bfloat16), PARAMS)
        grads = jax.tree.map(lambda x: x.astype(jnp.bfloat16), GRADS)
        updates, new = _step(co.project_onto_sphere("sqrt_n"), params, grads)
        assert updates["w"].dtype == jnp.bfloat16 and updates["b"].dtype == jnp.bfloat16
        norm = float(optax.tree.norm(optax.tree.cast(new, jnp.float32)))
        assert norm == pytest.approx(np.sqrt(17.0), rel=1e-2)

    def test_needs_params(self):
        tx = co.project_onto_sphere()
        with pytest.raises(ValueError, match="^params"):
            tx.update(GRADS, tx.init(PARAMS), None)

    def test_jit_compiles_once_and_works_with_apply_if_finite(self):
        tx = optax.apply_if_finite(optax.chain(optax.sgd(0.1), co.project_onto_sphere("sqrt_n")), 3)
        update = jax.jit(tx.update)
        state = tx.init(PARAMS)
        params = PARAMS
        for _ in range(3):
            updates, state = update(GRADS, state, params)
            params = optax.apply_updates(params, updates)
        assert update._cache_size() == 1
        assert float(optax.tree.norm(params)) == pytest.approx(np.sqrt(17.0), abs=1e-5)
        bad = jax.tree.map(lambda g: g * jnp.nan, GRADS)
        updates, state = update(bad, state, params)  # rejected: zero update, state goes on
        np.testing.assert_array_equal(updates["w"], 0.0)
        assert int(state.notfinite_count) == 1

    def test_inject_hyperparams_radius(self):
        tx = optax.inject_hyperparams(co.project_onto_sphere, static_args=("scope",))(radius=3.0)
        state = tx.init(PARAMS)
        update = jax.jit(tx.update)
        updates, state = update(GRADS, state, PARAMS)
        updates, state = update(GRADS, state, PARAMS)
        new = optax.apply_updates(PARAMS, updates)
        assert float(optax.tree.norm(new)) == pytest.approx(3.0, abs=1e-5)
        assert update._cache_size() == 1

    @pytest.mark.parametrize(
        "kwargs, name",
        [({"radius": 0.0}, "radius"), ({"radius": -1.0}, "radius"), ({"radius": "unit"}, "radius"),
         ({"scope": "leaf"}, "scope")],
    )
    def test_bad_arguments(self, kwargs, name):
        with pytest.raises(ValueError, match=f"^{name}"):
            co.project_onto_sphere(**kwargs)
        with pytest.raises(ValueError, match=f"^{name}"):
            co.sphere_init(jax.random.key(0), PARAMS, **kwargs)


    @pytest.mark.parametrize("scope", ["global", "per_leaf"])
    def test_default_radius_is_the_initial_norm(self, scope):
        """radius="init": the sphere through the params given to init, kept in the state."""
        tx = optax.chain(optax.sgd(0.3), co.project_onto_sphere(scope=scope))
        state = tx.init(PARAMS)
        params = PARAMS
        for _ in range(3):
            updates, state = tx.update(GRADS, state, params)
            params = optax.apply_updates(params, updates)
        if scope == "global":
            expected = np.linalg.norm(_flat(PARAMS))  # 4.0226...
            assert float(state[1].radius) == pytest.approx(expected, rel=1e-6)
            assert float(optax.tree.norm(params)) == pytest.approx(expected, rel=1e-6)
            x = _flat(PARAMS) - 0.3 * _flat(GRADS)  # the first step, closed form
            first = optax.apply_updates(PARAMS, tx.update(GRADS, tx.init(PARAMS), PARAMS)[0])
            np.testing.assert_allclose(_flat(first), _np_sphere(x, expected), rtol=1e-5)
        else:
            for k in ("w", "b"):
                expected = np.linalg.norm(np.asarray(PARAMS[k], np.float64))
                assert float(jnp.linalg.norm(params[k])) == pytest.approx(expected, rel=1e-6)

    def test_init_radius_with_mask_counts_only_the_masked_leaves(self):
        tx = co.project_onto_sphere(mask={"w": True, "b": False})
        updates, new = _step(tx)
        np.testing.assert_array_equal(updates["b"], GRADS["b"])
        w0 = np.linalg.norm(np.asarray(PARAMS["w"], np.float64))
        assert float(jnp.linalg.norm(new["w"])) == pytest.approx(w0, rel=1e-6)

    @pytest.mark.parametrize("scale", [1e19, 1e30, 1e-30])
    def test_huge_and_tiny_finite_points_do_not_overflow(self, scale):
        """Issue 13: a finite update above 1.8e19 squared to inf in float32 and sent the params
        to 0; the norm is now taken after dividing by the largest entry."""
        params = jnp.zeros(3)
        updates = jnp.array([2.0, 1.0, 0.0]) * scale  # ‖·‖² = 5e38 > float32 max for 1e19
        tx = co.project_onto_sphere(3.0)
        out, _ = tx.update(updates, tx.init(params), params)
        np.testing.assert_allclose(out, np.array([2.0, 1.0, 0.0]) * 3.0 / np.sqrt(5.0),
                                   rtol=1e-6)

    def test_init_radius_under_inject_hyperparams_and_apply_if_finite(self):
        tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
        tx = optax.apply_if_finite(optax.chain(tx, co.project_onto_sphere()), 3)
        update = jax.jit(tx.update)
        state, params = tx.init(PARAMS), PARAMS
        for _ in range(2):
            updates, state = update(GRADS, state, params)
            params = optax.apply_updates(params, updates)
        assert update._cache_size() == 1
        assert float(optax.tree.norm(params)) == pytest.approx(
            np.linalg.norm(_flat(PARAMS)), rel=1e-6)


class TestSphereInit:
    def test_list_of_floats_works(self):
        """Issue 13: a list of Python floats raised AttributeError; it is a pytree of scalars."""
        theta = co.sphere_init(jax.random.key(0), [1.0, 2.0, 3.0])
        assert isinstance(theta, list) and all(t.dtype == jnp.float32 for t in theta)
        assert float(optax.tree.norm(theta)) == pytest.approx(np.sqrt(3.0), rel=1e-6)
        with pytest.raises(TypeError, match="^params"):
            co.sphere_init(jax.random.key(0), ["a", 1.0])

    def test_init_radius_is_rejected(self):
        with pytest.raises(ValueError, match="^radius"):
            co.sphere_init(jax.random.key(0), PARAMS, radius="init")

    def test_global_norm_structure_dtypes(self):
        params = {"w": jnp.zeros((4, 3), jnp.bfloat16), "b": jnp.zeros(5)}
        theta = co.sphere_init(jax.random.key(1), params)
        assert jax.tree.structure(theta) == jax.tree.structure(params)
        assert theta["w"].shape == (4, 3) and theta["w"].dtype == jnp.bfloat16
        assert theta["b"].dtype == jnp.float32
        theta = co.sphere_init(jax.random.key(1), PARAMS)
        assert float(optax.tree.norm(theta)) == pytest.approx(np.sqrt(17.0), abs=1e-5)

    def test_per_leaf_and_radius(self):
        theta = co.sphere_init(jax.random.key(2), PARAMS, scope="per_leaf")
        assert float(jnp.linalg.norm(theta["w"])) == pytest.approx(np.sqrt(N_W), abs=1e-5)
        assert float(jnp.linalg.norm(theta["b"])) == pytest.approx(np.sqrt(N_B), abs=1e-5)
        theta = co.sphere_init(jax.random.key(2), PARAMS, radius=2.0)
        assert float(optax.tree.norm(theta)) == pytest.approx(2.0, abs=1e-6)

    def test_entries_are_standard_gaussian(self):
        theta = co.sphere_init(jax.random.key(3), {"w": jnp.zeros((64, 64))})["w"]
        x = np.asarray(theta, np.float64).ravel()
        assert np.linalg.norm(x) == pytest.approx(64.0, rel=1e-6)
        assert abs(x.mean()) < 0.05
        assert x.std() == pytest.approx(1.0, abs=0.02)
        assert scipy.stats.kstest(x, "norm").pvalue > 0.01
        # Independent draws for different keys.
        other = co.sphere_init(jax.random.key(4), {"w": jnp.zeros((64, 64))})["w"]
        assert abs(float(jnp.vdot(theta, other))) / 4096 < 0.05

    def test_integer_params_rejected(self):
        with pytest.raises(TypeError, match="^params"):
            co.sphere_init(jax.random.key(0), {"n": jnp.zeros(3, jnp.int32)})


class TestTangentProjection:
    def test_orthogonal_and_closed_form_float64(self):
        with jax.enable_x64(True):
            params = jax.tree.map(lambda x: x.astype(jnp.float64), PARAMS)
            grads = jax.tree.map(lambda x: x.astype(jnp.float64), GRADS)
            tx = co.tangent_projection()
            out, _ = tx.update(grads, tx.init(params), params)
            g, t = _flat(grads), _flat(params)
            np.testing.assert_allclose(_flat(out), g - (g @ t) / (t @ t) * t, rtol=1e-12)
            assert abs(float(optax.tree.vdot(out, params))) < 1e-12

    def test_per_leaf_orthogonal_per_leaf(self):
        tx = co.tangent_projection(scope="per_leaf")
        out, _ = tx.update(GRADS, tx.init(PARAMS), PARAMS)
        for k in ("w", "b"):
            assert abs(float(jnp.vdot(out[k], PARAMS[k]))) < 1e-5
            g, t = np.ravel(GRADS[k]), np.ravel(PARAMS[k])
            np.testing.assert_allclose(np.ravel(out[k]), g - (g @ t) / (t @ t) * t, atol=1e-6)

    def test_zero_norm_params_give_updates_unchanged(self):
        tx = co.tangent_projection()
        zeros = jax.tree.map(jnp.zeros_like, PARAMS)
        out, _ = tx.update(GRADS, tx.init(zeros), zeros)
        np.testing.assert_array_equal(out["w"], GRADS["w"])
        np.testing.assert_array_equal(out["b"], GRADS["b"])

    def test_huge_finite_params_keep_the_update_tangent(self):
        """Issue 13: with ‖θ‖² overflowing float32 the radial part was kept."""
        theta = jnp.array([3e19, 0.0, 0.0])
        g = jnp.array([1e19, 2e19, 0.0])
        tx = co.tangent_projection()
        out, _ = tx.update(g, tx.init(theta), theta)
        np.testing.assert_allclose(out, [0.0, 2e19, 0.0], rtol=1e-6)

    def test_bad_scope_and_missing_params(self):
        with pytest.raises(ValueError, match="^scope"):
            co.tangent_projection(scope="all")
        tx = co.tangent_projection()
        with pytest.raises(ValueError, match="^params"):
            tx.update(GRADS, tx.init(PARAMS))
