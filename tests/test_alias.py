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
from complexity_optax._src.complexity_annealing.complexity_sgd import _strength_schedule

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


def _manual_complexity(annealing, momentum=None, sphere=True, **kw):
    """The chain complexity_sgd documents, rebuilt from the public pieces."""
    if annealing == "matched":
        sched = co.matched_annealing(LAM0, memory=10, smoothing="ema")
    elif annealing == "cosine":
        sched = co.cosine_annealing(LAM0, kw["period"])
    elif annealing in ("power_law", "two_step"):
        sched = co.power_law_annealing(LAM0, 0.5)
    else:
        sched = co.lr_matched_annealing(LAM0, LR)
    proj = [co.project_onto_sphere()] if sphere else []
    if annealing == "two_step":
        return optax.chain(co.two_step_annealing(LR, sched), *proj)
    mom = [] if momentum is None else [optax.trace(decay=momentum)]
    return optax.chain(
        co.complexity_weight_decay(sched), *mom, optax.scale_by_learning_rate(LR), *proj
    )


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
        tx = co.complexity_sgd(LR, LAM0, annealing=annealing, **kw)
        losses, norms, diffs = _train_pair(tx, _manual_complexity(annealing, **kw))
        losses = np.asarray(losses)
        assert losses[-1] < 1e-2 * losses[0]
        np.testing.assert_allclose(norms, np.sqrt(N), atol=1e-5)
        assert float(jnp.max(diffs)) < 1e-6

    def test_matched_needs_value(self):
        tx = co.complexity_sgd(LR, LAM0)
        with pytest.raises(ValueError, match="^value"):
            tx.update(PARAMS, tx.init(PARAMS), PARAMS)

    def test_mask_and_radius_and_no_sphere(self):
        mask = {"w": True, "b": False}
        tx = co.complexity_sgd(LR, 0.5, annealing="power_law", mask=mask, radius=2.0)
        grads = jax.grad(loss_fn)(PARAMS)
        updates, _ = tx.update(grads, tx.init(PARAMS), PARAMS)
        new = optax.apply_updates(PARAMS, updates)
        assert float(jnp.linalg.norm(new["w"])) == pytest.approx(2.0, abs=1e-6)
        np.testing.assert_allclose(updates["b"], -LR * grads["b"], rtol=1e-6)  # plain SGD
        tx = co.complexity_sgd(LR, 0.5, annealing="power_law", sphere=False)
        updates, _ = tx.update(grads, tx.init(PARAMS), PARAMS)
        np.testing.assert_allclose(  # λ_0 = 0.5: update -lr (g + 2·0.5·θ)
            updates["w"], -LR * (grads["w"] + PARAMS["w"]), rtol=1e-6
        )

    def test_two_step_schedule_choice(self):
        tx = co.complexity_sgd(LR, LAM0, annealing="two_step", two_step_schedule="cosine", period=4)
        state = tx.init(PARAMS)
        assert float(state[0].strength) == pytest.approx(2 * LAM0)  # cosine λ(0) = 2λ0

    def test_nnx_optimizer_loop(self):
        model = nnx.Linear(N, 1, rngs=nnx.Rngs(0))
        params = nnx.state(model, nnx.Param)
        nnx.update(model, co.sphere_init(jax.random.key(3), params))
        target = co.sphere_init(jax.random.key(4), jnp.zeros(N + 1))  # on the model's sphere
        x, y = A, (A @ target[:N] + target[N])[:, None]
        optimizer = nnx.Optimizer(model, co.complexity_sgd(0.1, LAM0), wrt=nnx.Param)

        @nnx.jit
        def train_step(model, optimizer):
            loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(x) - y) ** 2))(model)
            optimizer.update(model, grads, value=loss)
            return loss

        losses = [float(train_step(model, optimizer)) for _ in range(30)]
        assert losses[-1] < 1e-2 * losses[0]
        norm = optax.tree.norm(jax.tree.leaves(nnx.state(model, nnx.Param)))
        assert float(norm) == pytest.approx(np.sqrt(N + 1), abs=1e-5)

    @pytest.mark.parametrize("annealing", ["matched", "two_step"])
    def test_bfloat16_params_keep_bfloat16_updates(self, annealing):
        params = jax.tree.map(lambda x: x.astype(jnp.bfloat16), PARAMS)
        tx = co.complexity_sgd(LR, LAM0, annealing=annealing)
        updates, _ = tx.update(params, tx.init(params), params, value=jnp.float32(1.0))
        assert all(u.dtype == jnp.bfloat16 for u in jax.tree.leaves(updates))

    @pytest.mark.parametrize(
        "kwargs, name",
        [
            ({"annealing": "sgdr"}, "annealing"),
            ({"annealing": "cosine"}, "period"),
            ({"annealing": "cosine", "period": 0}, "period"),
            ({"annealing": "two_step", "momentum": 0.9}, "momentum"),
            ({"momentum": 1.0}, "momentum"),
            ({"radius": 0.0}, "radius"),
            ({"radius": -1.0, "sphere": False}, "radius"),
            ({"memory": 0}, "memory"),
            ({"smoothing": "median"}, "smoothing"),
            ({"annealing": "power_law", "exponent": -1.0}, "exponent"),
            ({"two_step_schedule": "step"}, "two_step_schedule"),
        ],
    )
    def test_bad_options(self, kwargs, name):
        with pytest.raises(ValueError, match=f"^{name}"):
            co.complexity_sgd(LR, LAM0, **kwargs)

    def test_bad_learning_rate_and_strength(self):
        with pytest.raises(ValueError, match="^learning_rate"):
            co.complexity_sgd(0.0, LAM0)
        with pytest.raises(ValueError, match="^init_strength"):
            co.complexity_sgd(LR, -1.0)


class TestAnnealSGD:
    @pytest.mark.parametrize("sphere, resample", [(True, False), (False, True)])
    def test_trains_and_equals_manual_chain(self, sphere, resample):
        key = jax.random.key(7)
        tx = co.anneal_sgd(LR, key, 0.5, 20.0, sphere=sphere, resample=resample)
        manual = optax.chain(
            co.add_annealed_field(key, 0.5, 20.0, resample=resample),
            optax.scale_by_learning_rate(LR),
            *([co.project_onto_sphere()] if sphere else []),
        )
        losses, norms, diffs = _train_pair(tx, manual)
        assert np.asarray(losses)[-1] < 1e-2 * np.asarray(losses)[0]
        if sphere:
            np.testing.assert_allclose(norms, np.sqrt(N), atol=1e-5)
        assert float(jnp.max(diffs)) < 1e-6

    def test_field_strength_and_momentum(self):
        tx = co.anneal_sgd(LR, 0, 2.0, 10.0, schedule="exponential", momentum=0.9)
        state = tx.init(PARAMS)
        updates, state = tx.update(PARAMS, state, PARAMS)
        h = state[0].field
        np.testing.assert_allclose(updates["w"], -LR * (PARAMS["w"] + 2.0 * h["w"]), rtol=1e-6)

    def test_bfloat16(self):
        params = jax.tree.map(lambda x: x.astype(jnp.bfloat16), PARAMS)
        tx = co.anneal_sgd(LR, 0, 1.0, 10.0, sphere=True)
        updates, _ = tx.update(params, tx.init(params), params)
        assert all(u.dtype == jnp.bfloat16 for u in jax.tree.leaves(updates))

    @pytest.mark.parametrize(
        "args, kwargs, name",
        [
            ((1.0, 0.0), {}, "timescale"),
            ((-1.0, 1.0), {}, "init_scale"),
            ((1.0, 1.0), {"schedule": "step"}, "schedule"),
            ((1.0, 1.0), {"sphere": True, "radius": 0.0}, "radius"),
            ((1.0, 1.0), {"momentum": -0.1}, "momentum"),
        ],
    )
    def test_bad_options(self, args, kwargs, name):
        with pytest.raises(ValueError, match=f"^{name}"):
            co.anneal_sgd(LR, 0, *args, **kwargs)


def test_strength_schedule_helper_matches_public_schedules():
    sched = _strength_schedule("power_law", LR, 1.0, None, 0.5, 10, "ema", 0, 0.0)
    assert float(sched(3)) == pytest.approx(0.5)
