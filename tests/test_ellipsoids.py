# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Diagonal ellipsoids against numpy/optax references."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from complexity_optax import (
    Ellipsoid,
    adagrad_ellipsoid,
    adam_ellipsoid,
    get_ellipsoid,
    identity_ellipsoid,
    rmsprop_ellipsoid,
)

_GRADS = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)


def _run(ell, grads=_GRADS):
    state = ell.init(jnp.zeros(3))
    update = jax.jit(ell.update)
    for g in grads:
        state = update(jnp.asarray(g), state)
    return state, np.asarray(ell.diagonal(state))


def test_identity_is_stateless_and_its_diagonal_is_none():
    ell = identity_ellipsoid()
    state = ell.init(jnp.zeros(3))
    assert jax.tree.leaves(state) == []  # no parameter-sized buffer of ones
    state = jax.jit(ell.update)(jnp.asarray(_GRADS[0]), state)
    assert ell.diagonal(state) is None  # None means A = I


@pytest.mark.parametrize("bias_correction", [False, True])
def test_rmsprop_matches_numpy(bias_correction):
    decay, eps = 0.8, 1e-3
    _, diag = _run(rmsprop_ellipsoid(decay, eps, bias_correction))
    v = np.zeros(3)
    for g in _GRADS.astype(np.float64):
        v = decay * v + (1 - decay) * g**2
    if bias_correction:
        v = v / (1 - decay ** len(_GRADS))
    np.testing.assert_allclose(diag, np.sqrt(v) + eps, rtol=1e-5)


def test_adam_matches_optax_second_moment():
    decay, eps = 0.99, 1e-6
    state, diag = _run(adam_ellipsoid(decay, eps))
    adam = optax.scale_by_adam(b2=decay)
    adam_state = adam.init(jnp.zeros(3))
    for g in _GRADS:
        _, adam_state = adam.update(jnp.asarray(g), adam_state)
    nu_hat = np.asarray(adam_state.nu) / (1 - decay ** len(_GRADS))
    np.testing.assert_allclose(diag, np.sqrt(nu_hat) + eps, rtol=1e-4)
    assert int(state.count) == len(_GRADS) and state.count.dtype == jnp.int32


def test_adagrad_matches_numpy():
    _, diag = _run(adagrad_ellipsoid(eps=1e-4, initial_accumulator=0.5))
    expected = np.sqrt(0.5 + np.sum(_GRADS.astype(np.float64) ** 2, axis=0)) + 1e-4
    np.testing.assert_allclose(diag, expected, rtol=1e-6)


@pytest.mark.parametrize("name", ["identity", "rmsprop", "adam", "adagrad"])
def test_non_finite_gradient_leaves_state_unchanged(name):
    ell = get_ellipsoid(name)
    params = {"a": jnp.zeros(2), "b": jnp.zeros((), jnp.bfloat16)}
    state = ell.update({"a": jnp.array([1.0, 2.0]), "b": jnp.ones((), jnp.bfloat16)},
                       ell.init(params))
    bad = {"a": jnp.array([jnp.nan, 1.0]), "b": jnp.ones((), jnp.bfloat16)}
    new = jax.jit(ell.update)(bad, state)
    for x, y in zip(jax.tree.leaves(new), jax.tree.leaves(state)):
        np.testing.assert_array_equal(x, y)
        assert x.dtype == y.dtype  # stable dtypes: no recompilation under jit
    diag = ell.diagonal(new)
    if name == "identity":
        assert diag is None
        return
    assert jax.tree.structure(diag) == jax.tree.structure(params)
    assert all(bool(jnp.all(d > 0)) for d in jax.tree.leaves(diag))
    assert diag["b"].dtype == jnp.bfloat16


def test_get_ellipsoid():
    custom = rmsprop_ellipsoid(0.5)
    assert get_ellipsoid(custom) is custom
    assert isinstance(get_ellipsoid("adagrad"), Ellipsoid)
    assert get_ellipsoid("adam").name == "adam"
    # Equal constructions are the same object (jitted solvers keyed on them do not recompile).
    assert get_ellipsoid("rmsprop") is rmsprop_ellipsoid()
    assert rmsprop_ellipsoid(0.5, 1e-3) is rmsprop_ellipsoid(0.5, 1e-3)
    with pytest.raises(ValueError, match="^ellipsoid"):
        get_ellipsoid("sphere")
    with pytest.raises(ValueError, match="^ellipsoid"):
        get_ellipsoid(3)


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="^decay"):
        rmsprop_ellipsoid(decay=1.0)
    with pytest.raises(ValueError, match="^decay"):
        adam_ellipsoid(decay=-0.1)
    with pytest.raises(ValueError, match="^eps"):
        adagrad_ellipsoid(eps=-1.0)
    with pytest.raises(ValueError, match="^initial_accumulator"):
        adagrad_ellipsoid(initial_accumulator=-1.0)
    with pytest.raises(TypeError, match="^bias_correction"):
        rmsprop_ellipsoid(bias_correction="yes")


def test_rmsprop_authors_form_matches_hand_computation():
    # The authors' code: G_0 = 1e-10, G_t = 0.8 G_{t-1} + 0.2 g^2, A = sqrt(G_t), no eps.
    ell = rmsprop_ellipsoid(decay=0.8, eps=0.0, initial_accumulator=1e-10)
    grads = _GRADS.copy()
    grads[:, 2] = 0.0  # a coordinate that never sees a gradient keeps sqrt(0.8^t 1e-10)
    state, diag = _run(ell, grads)
    g_t = np.full(3, 1e-10)
    for g in grads.astype(np.float64):
        g_t = 0.8 * g_t + 0.2 * g**2
    np.testing.assert_allclose(np.asarray(state.moment), g_t, rtol=1e-5)
    np.testing.assert_allclose(diag, np.sqrt(g_t), rtol=1e-5)
    assert diag[2] == pytest.approx(np.sqrt(0.8**4 * 1e-10), rel=1e-5)
    assert int(state.count) == len(grads)


_ZERO_STEPS = jax.jit(
    lambda ell_update, state: jax.lax.fori_loop(
        0, 1000, lambda _, s: ell_update(jnp.zeros(3), s), state),
    static_argnums=0,
)


def test_rmsprop_authors_form_stays_positive_after_1000_zero_gradients():
    ell = rmsprop_ellipsoid(decay=0.8, eps=0.0, initial_accumulator=1e-10)
    state = _ZERO_STEPS(ell.update, ell.init(jnp.zeros(3)))
    # 1e-10 * 0.8^1000 ~ 1e-107 underflows: the floor alone would give A = 0 ...
    assert np.all(np.asarray(state.moment) == 0.0)
    diag = np.asarray(ell.diagonal(state))
    # ... the diagonal is clamped at float32's smallest normal instead.
    np.testing.assert_array_equal(diag, np.full(3, np.finfo(np.float32).tiny, np.float32))
    # Overflowing squared gradients are clamped at the largest finite value.
    state = jax.jit(ell.update)(jnp.array([1e30, 1.0, 0.0]), state)
    diag = np.asarray(ell.diagonal(state))
    assert np.all(np.isfinite(diag)) and np.all(diag > 0)
    assert diag[0] == np.finfo(np.float32).max


def test_rmsprop_initial_accumulator_validation():
    with pytest.raises(ValueError, match="^eps"):
        rmsprop_ellipsoid(eps=0.0)  # A would start at 0
    with pytest.raises(ValueError, match="^eps"):
        rmsprop_ellipsoid(eps=0.0, initial_accumulator=0.0)
    with pytest.raises(ValueError, match="^initial_accumulator"):
        rmsprop_ellipsoid(initial_accumulator=-1e-10)
    with pytest.raises(ValueError, match="^eps"):
        rmsprop_ellipsoid(eps=-1e-8, initial_accumulator=1e-10)
    # eps = 0 is fine with a positive accumulator; equal constructions are cached.
    assert rmsprop_ellipsoid(0.8, 0.0, initial_accumulator=1e-10) is rmsprop_ellipsoid(
        decay=0.8, eps=0.0, initial_accumulator=1e-10)
    assert rmsprop_ellipsoid(0.8, 1e-5) is not rmsprop_ellipsoid(0.8, 1e-5, initial_accumulator=1.0)
