# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Tests for the ready-made optimizers complexity_sgd and anneal_sgd."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import complexity_optax as co

N = 8
A = 4.0 * jnp.linalg.qr(jax.random.normal(jax.random.key(0), (16, N)))[0]  # Hessian = I
X_STAR = co.sphere_init(jax.random.key(1), jnp.zeros(N))  # on the sphere: min loss 0 there
B = A @ X_STAR
PARAMS = co.sphere_init(jax.random.key(2), {"w": jnp.zeros(6), "b": jnp.zeros(2)})


def loss_fn(params):
    x = jnp.concatenate([params["w"], params["b"]])
    return 0.5 * jnp.mean((A @ x - B) ** 2)


LR, LAM0, STEPS = 0.3, 1e-2, 60


@functools.partial(jax.jit, static_argnums=(0, 1))
def _train_pair(tx, manual):
    """Trains with ``tx`` and ``manual`` side by side; returns losses, norms and max |Δupdates|."""

    def step(carry, _):
        (p, s), (pm, sm) = carry
        value, grads = jax.value_and_grad(loss_fn)(p)
        u, s = tx.update(grads, s, p, value=value, value_fn=loss_fn)
        value_m, grads_m = jax.value_and_grad(loss_fn)(pm)
        um, sm = manual.update(grads_m, sm, pm, value=value_m, value_fn=loss_fn)
        diff = optax.tree.norm(optax.tree.sub(u, um), ord="inf")
        p, pm = optax.apply_updates(p, u), optax.apply_updates(pm, um)
        return ((p, s), (pm, sm)), (value, optax.tree.norm(p), diff)

    init = ((PARAMS, tx.init(PARAMS)), (PARAMS, manual.init(PARAMS)))
    (_, _), (losses, norms, diffs) = jax.lax.scan(step, init, None, length=STEPS)
    return losses, norms, diffs


def _strength(annealing, **kw):
    if annealing == "matched":
        return co.matched_annealing(LAM0, memory=10, smoothing="ema")
    if annealing == "cosine":
        return co.cosine_annealing(LAM0, kw["period"])
    if annealing in ("power_law", "two_step"):
        return co.power_law_annealing(LAM0, 0.5)
    return co.lr_matched_annealing(LAM0, LR)


def _manual_complexity(annealing, momentum=None, sphere=True, **kw):
    """The chain complexity_sgd documents, rebuilt from the public pieces."""
    sched = _strength(annealing, **kw)
    proj = [co.project_onto_sphere()] if sphere else []
    if annealing == "two_step":
        return optax.chain(co.two_step_annealing(LR, sched), *proj)
    mom = [] if momentum is None else [optax.trace(decay=momentum)]
    return optax.chain(
        co.complexity_weight_decay(sched), *mom, optax.scale_by_learning_rate(LR), *proj
    )


def _complexity_sgd(annealing, momentum=None, **kw):
    return co.complexity_sgd(LR, strength=_strength(annealing, **kw), momentum=momentum,
                             two_step=annealing == "two_step")


CASES = [
    ("matched", {}),
    ("cosine", {"period": 40}),
    ("power_law", {}),
    ("lr_matched", {}),
    ("two_step", {}),
    ("cosine", {"period": 40, "momentum": 0.5}),
]


class TestComplexitySGD:
    @pytest.mark.parametrize("annealing, kw", CASES)
    def test_trains_on_sphere_and_equals_manual_chain(self, annealing, kw):
        tx = _complexity_sgd(annealing, **kw)
        losses, norms, diffs = _train_pair(tx, _manual_complexity(annealing, **kw))
        losses = np.asarray(losses)
        assert losses[-1] < 1e-2 * losses[0]
        # radius="init": the sphere through PARAMS, which sphere_init put on ‖θ‖ = √N.
        np.testing.assert_allclose(norms, np.sqrt(N), atol=1e-5)
        assert float(jnp.max(diffs)) < 1e-6

    def test_positional_arguments_after_the_learning_rate_are_a_type_error(self):
        """An optax user's complexity_sgd(0.3, 0.9) means momentum; it used to be λ₀ = 0.9."""
        with pytest.raises(TypeError):
            co.complexity_sgd(0.3, 0.9)
        with pytest.raises(TypeError):
            co.anneal_sgd(0.3, 0.9)

    def test_matched_needs_value(self):
        tx = co.complexity_sgd(LR, strength=co.matched_annealing(LAM0))
        with pytest.raises(ValueError, match="^value"):
            tx.update(PARAMS, tx.init(PARAMS), PARAMS)

    def test_default_radius_is_the_initial_norm_and_sqrt_n_is_an_option(self):
        params = {"w": 0.1 * jnp.ones(6), "b": jnp.zeros(2)}  # ‖θ₀‖ = 0.1·√6, √N = √8
        grads = jax.grad(loss_fn)(params)
        for radius, expected in ((None, 0.1 * np.sqrt(6.0)), ("sqrt_n", np.sqrt(8.0)),
                                 (2.0, 2.0)):
            tx = co.complexity_sgd(LR, strength=LAM0, radius=radius)
            updates, _ = tx.update(grads, tx.init(params), params)
            new = optax.apply_updates(params, updates)
            assert float(optax.tree.norm(new)) == pytest.approx(expected, rel=1e-5)

    def test_mask_and_radius_and_no_sphere(self):
        mask = {"w": True, "b": False}
        tx = co.complexity_sgd(LR, strength=co.power_law_annealing(0.5), mask=mask, radius=2.0)
        grads = jax.grad(loss_fn)(PARAMS)
        updates, _ = tx.update(grads, tx.init(PARAMS), PARAMS)
        new = optax.apply_updates(PARAMS, updates)
        assert float(jnp.linalg.norm(new["w"])) == pytest.approx(2.0, abs=1e-6)
        np.testing.assert_allclose(updates["b"], -LR * grads["b"], rtol=1e-6)  # plain SGD
        tx = co.complexity_sgd(LR, strength=co.power_law_annealing(0.5), sphere=False)
        updates, _ = tx.update(grads, tx.init(PARAMS), PARAMS)
        np.testing.assert_allclose(  # λ_0 = 0.5: update -lr (g + 2·0.5·θ)
            updates["w"], -LR * (grads["w"] + PARAMS["w"]), rtol=1e-6
        )

    def test_two_step_with_any_schedule(self):
        tx = co.complexity_sgd(LR, strength=co.cosine_annealing(LAM0, 4), two_step=True)
        state = tx.init(PARAMS)
        assert float(state[0].strength) == pytest.approx(2 * LAM0)  # cosine λ(0) = 2λ0

    def test_inject_hyperparams_without_static_args(self):
        """Issue 12: inject_hyperparams(complexity_sgd) failed with "memory must be an integer".
        The matched schedule is now a value, which the wrapper evaluates; the floats are traced
        and the step compiles once."""
        inj = optax.inject_hyperparams(co.complexity_sgd)(
            learning_rate=LR, strength=co.matched_annealing(LAM0, memory=3), momentum=0.5)
        direct = co.complexity_sgd(LR, strength=co.matched_annealing(LAM0, memory=3),
                                   momentum=0.5)
        update = jax.jit(lambda g, s, p, v: inj.update(g, s, p, value=v))
        s_inj, s_dir, p_inj, p_dir = inj.init(PARAMS), direct.init(PARAMS), PARAMS, PARAMS
        for _ in range(3):
            v, g = jax.value_and_grad(loss_fn)(p_inj)
            u, s_inj = update(g, s_inj, p_inj, v)
            p_inj = optax.apply_updates(p_inj, u)
            v, g = jax.value_and_grad(loss_fn)(p_dir)
            u, s_dir = direct.update(g, s_dir, p_dir, value=v)
            p_dir = optax.apply_updates(p_dir, u)
        assert update._cache_size() == 1
        np.testing.assert_allclose(_flat(p_inj), _flat(p_dir), rtol=1e-5, atol=1e-6)
        s_inj.hyperparams["learning_rate"] = jnp.asarray(0.0)  # injected: the step stops
        u, _ = update(g, s_inj, p_inj, v)
        np.testing.assert_allclose(_flat(optax.apply_updates(p_inj, u)), _flat(p_inj),
                                   atol=1e-6)

    def test_nnx_optimizer_loop(self):
        model = nnx.Linear(N, 1, rngs=nnx.Rngs(0))
        params = nnx.state(model, nnx.Param)
        nnx.update(model, co.sphere_init(jax.random.key(3), params))
        target = co.sphere_init(jax.random.key(4), jnp.zeros(N + 1))  # on the model's sphere
        x, y = A, (A @ target[:N] + target[N])[:, None]
        tx = co.complexity_sgd(0.1, strength=co.matched_annealing(LAM0))
        optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)

        @nnx.jit
        def train_step(model, optimizer):
            loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(x) - y) ** 2))(model)
            optimizer.update(model, grads, value=loss)
            return loss

        losses = [float(train_step(model, optimizer)) for _ in range(30)]
        assert losses[-1] < 1e-2 * losses[0]
        norm = optax.tree.norm(jax.tree.leaves(nnx.state(model, nnx.Param)))
        assert float(norm) == pytest.approx(np.sqrt(N + 1), abs=1e-5)

    @pytest.mark.parametrize("two_step", [False, True])
    def test_bfloat16_params_keep_bfloat16_updates(self, two_step):
        params = jax.tree.map(lambda x: x.astype(jnp.bfloat16), PARAMS)
        tx = co.complexity_sgd(LR, strength=co.matched_annealing(LAM0), two_step=two_step)
        updates, _ = tx.update(params, tx.init(params), params, value=jnp.float32(1.0))
        assert all(u.dtype == jnp.bfloat16 for u in jax.tree.leaves(updates))

    @pytest.mark.parametrize(
        "kwargs, name",
        [
            ({"two_step": True, "momentum": 0.9}, "momentum"),
            ({"momentum": 1.0}, "momentum"),
            ({"radius": 0.0}, "radius"),
            ({"radius": "unit"}, "radius"),
            ({"radius": 2.0, "sphere": False}, "radius"),
            ({"strength": -1.0}, "strength"),
            ({"scope": "layer"}, "scope"),
        ],
    )
    def test_bad_options(self, kwargs, name):
        kwargs = {"strength": LAM0, **kwargs}
        with pytest.raises(ValueError, match=f"^{name}"):
            co.complexity_sgd(LR, **kwargs)

    def test_bad_learning_rate_and_flags(self):
        with pytest.raises(ValueError, match="^learning_rate"):
            co.complexity_sgd(0.0, strength=LAM0)
        with pytest.raises(TypeError, match="^two_step"):
            co.complexity_sgd(LR, strength=LAM0, two_step="yes")


def _flat(tree):
    return np.concatenate([np.ravel(np.asarray(tree[k], np.float64)) for k in ("b", "w")])


class TestAnnealSGD:
    @pytest.mark.parametrize("sphere, resample, relative_to", [(True, False, None),
                                                                (False, True, "grad")])
    def test_trains_and_equals_manual_chain(self, sphere, resample, relative_to):
        key = jax.random.key(7)
        scale = optax.linear_schedule(0.5, 0.0, 20)
        tx = co.anneal_sgd(LR, field_scale=scale, key=key, relative_to=relative_to,
                           sphere=sphere, resample=resample)
        manual = optax.chain(
            co.add_annealed_field(scale, key=key, relative_to=relative_to, resample=resample),
            optax.scale_by_learning_rate(LR),
            *([co.project_onto_sphere()] if sphere else []),
        )
        losses, norms, diffs = _train_pair(tx, manual)
        assert np.asarray(losses)[-1] < 1e-2 * np.asarray(losses)[0]
        if sphere:
            np.testing.assert_allclose(norms, np.sqrt(N), atol=1e-5)
        assert float(jnp.max(diffs)) < 1e-6

    def test_field_strength_and_momentum(self):
        tx = co.anneal_sgd(LR, field_scale=2.0, key=0, relative_to=None, momentum=0.9)
        state = tx.init(PARAMS)
        updates, state = tx.update(PARAMS, state, PARAMS)
        h = state[0].field
        np.testing.assert_allclose(updates["w"], -LR * (PARAMS["w"] + 2.0 * h["w"]), rtol=1e-6)

    def test_inject_hyperparams_with_an_int_key_without_static_args(self):
        """Issue 12: an integer key under inject_hyperparams was traced and then rejected."""
        inj = optax.inject_hyperparams(co.anneal_sgd)(
            LR, field_scale=optax.linear_schedule(0.5, 0.0, 10), key=7, momentum=0.5)
        direct = co.anneal_sgd(LR, field_scale=optax.linear_schedule(0.5, 0.0, 10), key=7,
                               momentum=0.5)
        update = jax.jit(inj.update)
        s_inj, s_dir = inj.init(PARAMS), direct.init(PARAMS)
        grads = jax.grad(loss_fn)(PARAMS)
        for _ in range(3):
            u_inj, s_inj = update(grads, s_inj, PARAMS)
            u_dir, s_dir = direct.update(grads, s_dir, PARAMS)
            np.testing.assert_allclose(_flat(u_inj), _flat(u_dir), rtol=1e-5, atol=1e-7)
        assert update._cache_size() == 1

    def test_bfloat16(self):
        params = jax.tree.map(lambda x: x.astype(jnp.bfloat16), PARAMS)
        tx = co.anneal_sgd(LR, field_scale=1.0, key=0, sphere=True)
        updates, _ = tx.update(params, tx.init(params), params)
        assert all(u.dtype == jnp.bfloat16 for u in jax.tree.leaves(updates))

    @pytest.mark.parametrize(
        "kwargs, name",
        [
            ({"field_scale": -1.0}, "field_scale"),
            ({"field_scale": 1e39}, "field_scale"),
            ({"relative_to": "hessian"}, "relative_to"),
            ({"sphere": True, "radius": 0.0}, "radius"),
            ({"radius": 2.0}, "radius"),
            ({"momentum": -0.1}, "momentum"),
        ],
    )
    def test_bad_options(self, kwargs, name):
        kwargs = {"field_scale": 1.0, "key": 0, **kwargs}
        with pytest.raises(ValueError, match=f"^{name}"):
            co.anneal_sgd(LR, **kwargs)
