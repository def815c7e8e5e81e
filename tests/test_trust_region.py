# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Tests for the mini-batch (ellipsoidal) trust-region transformation."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from complexity_optax import (
    TrustRegionState,
    get_ellipsoid,
    project_onto_sphere,
    rmsprop_ellipsoid,
    steihaug_cg,
    trust_region,
    value_grad_and_hvp,
)

# ------------------------------------------------------------------------------------------------
# A strictly convex quadratic f(x) = 1/2 x^T Q x + b^T x (n = 6), batch = b.

_RNG = np.random.default_rng(0)
_U = np.linalg.qr(_RNG.normal(size=(6, 6)))[0]
_Q = _U @ np.diag([0.5, 1.0, 2.0, 3.0, 5.0, 8.0]) @ _U.T
_B = _RNG.normal(size=6)


def _quadratic(x, batch):
    q = jnp.asarray(_Q, x.dtype)
    return 0.5 * x @ q @ x + batch @ x


def _tr_step(tx, x, state, batch):
    value, grad = jax.value_and_grad(_quadratic)(x, batch)
    return tx.update(grad, state, x, value=value, value_fn=_quadratic, batch=batch)


@pytest.mark.parametrize("ellipsoid", ["identity", "rmsprop"])
@pytest.mark.parametrize("radius", [100.0, 0.3])
def test_quadratic_step_is_steihaug_step_and_accepted(ellipsoid, radius):
    with jax.enable_x64(True):
        tx = trust_region(ellipsoid=ellipsoid, initial_radius=radius, max_radius=1000.0,
                          cg_rtol=1e-10, max_cg_iters=20)
        x = jnp.asarray(_RNG.normal(size=6))
        batch = jnp.asarray(_B)
        state = tx.init(x)
        updates, new_state = jax.jit(functools.partial(_tr_step, tx))(x, state, batch)

        # Reference: the same Steihaug solve, done by hand.
        value, grad, hvp_fn = value_grad_and_hvp(_quadratic, x, batch)
        ell = get_ellipsoid(ellipsoid)
        diag = ell.diagonal(ell.update(grad, ell.init(x)))
        # The state keeps the radius in float32.
        ref = steihaug_cg(hvp_fn, grad, jnp.float32(radius), max_iters=20, rtol=1e-10,
                          preconditioner=None if ellipsoid == "identity" else diag)
        np.testing.assert_allclose(updates, ref.step, rtol=1e-9, atol=1e-12)
        # On a quadratic the model is exact: rho = 1 and the step is accepted.
        assert float(new_state.last_rho) == pytest.approx(1.0, abs=1e-6)
        assert int(new_state.accepted_count) == 1
        assert float(new_state.last_model_decrease) == pytest.approx(
            float(_quadratic(x, batch) - _quadratic(x + updates, batch)), rel=1e-6)
        # rho >= eta2: the radius grows by `increase` (1.1).
        assert float(new_state.radius) == pytest.approx(radius * 1.1, rel=1e-6)
        assert int(new_state.hvp_count) == int(ref.iterations)
        if radius == 100.0:  # interior: the Newton step -Q^{-1}(Qx + b).
            np.testing.assert_allclose(x + updates, -np.linalg.solve(_Q, _B), rtol=1e-7)
        else:  # boundary of the ellipsoid
            a = np.ones(6) if ellipsoid == "identity" else np.asarray(diag)
            assert np.sqrt(np.sum(a * np.asarray(updates) ** 2)) == pytest.approx(radius, 1e-6)


# ------------------------------------------------------------------------------------------------
# Non-finite values.

def _domain_loss(x):
    # Finite (with finite derivatives) at x = 0, NaN once x[0] > 1: the trial point leaves the
    # domain when the step goes towards the minimiser x = 3.
    return 0.5 * jnp.sum((x - 3.0) ** 2) + 0.0 * jnp.sqrt(1.0 - x[0])


_NAN_TX = trust_region(ellipsoid="identity", initial_radius=5.0)


@jax.jit
def _nan_step(x, state, grad, value):
    return _NAN_TX.update(grad, state, x, value=value, value_fn=_domain_loss)


def test_nan_trial_loss_is_rejected_and_radius_shrinks():
    x = jnp.zeros(3)
    state = _NAN_TX.init(x)
    value, grad = jax.value_and_grad(_domain_loss)(x)
    updates, state = _nan_step(x, state, grad, value)
    np.testing.assert_array_equal(updates, np.zeros(3))
    assert float(state.radius) == pytest.approx(5.0 / 1.5)
    assert int(state.accepted_count) == 0 and int(state.step_count) == 1
    assert all(np.isfinite(np.asarray(leaf)).all() for leaf in jax.tree.leaves(state))


def test_nan_grads_give_zero_update_and_unchanged_finite_state():
    tx = trust_region()  # rmsprop ellipsoid
    x = {"a": jnp.ones(2), "b": jnp.ones(3)}
    state = tx.init(x)
    loss = lambda p: jnp.sum(p["a"] ** 2) + jnp.sum(p["b"] ** 4)
    bad = {"a": jnp.array([jnp.nan, 1.0]), "b": jnp.array([1.0, jnp.inf, 0.0])}
    for grads, value in [(bad, loss(x)), (jax.grad(loss)(x), jnp.nan)]:
        updates, new_state = tx.update(grads, state, x, value=value, value_fn=loss)
        for leaf in jax.tree.leaves(updates):
            np.testing.assert_array_equal(leaf, np.zeros_like(leaf))
        assert all(np.isfinite(np.asarray(leaf)).all() for leaf in jax.tree.leaves(new_state))
        assert float(new_state.radius) == float(state.radius)
        chex_equal = jax.tree.map(np.array_equal, new_state.ellipsoid_state, state.ellipsoid_state)
        assert all(jax.tree.leaves(chex_equal))
        assert int(new_state.hvp_count) == 0 and int(new_state.accepted_count) == 0


# ------------------------------------------------------------------------------------------------
# Hyperparameters, extra args, recompilation, composition.

@pytest.mark.parametrize("kwargs, name", [
    (dict(eta1=0.5, eta2=0.1), "eta1"),
    (dict(initial_radius=0.0), "initial_radius"),
    (dict(initial_radius=-1.0), "initial_radius"),
    (dict(initial_radius=20.0, max_radius=10.0), "initial_radius"),
    (dict(max_radius=0.0), "max_radius"),
    (dict(increase=1.0), "increase"),
    (dict(increase=0.5), "increase"),
    (dict(decrease=0.0), "decrease"),
    (dict(decrease=1.0), "decrease"),
    (dict(decrease=1.5), "decrease"),
    (dict(max_cg_iters=0), "max_cg_iters"),
    (dict(eta1=-0.1), "eta1"),
    (dict(cg_rtol=0.0), "cg_rtol"),
    (dict(cg_theta=-1.0), "cg_theta"),
    (dict(ellipsoid="diagonal"), "ellipsoid"),
])
def test_bad_hyperparameters_raise(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        trust_region(**kwargs)


def test_max_cg_iters_must_be_int():
    with pytest.raises(TypeError, match="^max_cg_iters"):
        trust_region(max_cg_iters=2.5)


def test_default_initial_radius_per_ellipsoid():
    x = jnp.zeros(2)
    for name, r0 in [("identity", 0.05), ("adagrad", 0.05), ("rmsprop", 1e-4), ("adam", 1e-4)]:
        assert float(trust_region(ellipsoid=name).init(x).radius) == pytest.approx(r0)


_SEEN_BATCHES = []


def _recording_quadratic(x, batch):
    _SEEN_BATCHES.append(batch)
    return 0.5 * jnp.sum(x**2) + batch @ x


def test_extra_args_matching_value_fn_reach_it_and_others_are_ignored():
    tx = trust_region(ellipsoid="identity", initial_radius=10.0, cg_rtol=1e-6)
    x = jnp.zeros(3)
    batch = jnp.array([1.0, -2.0, 0.5])
    grad = jax.grad(_recording_quadratic)(x, batch)
    _SEEN_BATCHES.clear()
    updates, _ = tx.update(grad, tx.init(x), x, value_fn=_recording_quadratic, batch=batch,
                           unrelated_arg=123)
    assert _SEEN_BATCHES and all(b is batch or np.array_equal(b, batch) for b in _SEEN_BATCHES
                                 if not isinstance(b, jax.core.Tracer))
    np.testing.assert_allclose(updates, -batch, rtol=1e-5)  # Newton step for H = I.


def test_no_recompilation_on_second_jitted_call():
    tx = trust_region()
    step = jax.jit(functools.partial(_tr_step, tx))
    x, batch = jnp.ones(6), jnp.asarray(_B, jnp.float32)
    state = tx.init(x)
    for _ in range(3):
        updates, state = step(x, state, batch)
        x = x + updates
    assert step._cache_size() == 1
    assert int(state.step_count) == 3 and state.step_count.dtype == jnp.int32


def test_chain_with_project_onto_sphere():
    tx = optax.chain(trust_region(ellipsoid="identity", initial_radius=0.5), project_onto_sphere())
    x = jnp.asarray(_RNG.normal(size=6), jnp.float32)
    x = x * jnp.sqrt(6.0) / jnp.linalg.norm(x)
    batch = jnp.asarray(_B, jnp.float32)
    state = tx.init(x)
    step = jax.jit(functools.partial(_tr_step, tx))
    f0 = float(_quadratic(x, batch))
    for _ in range(5):
        updates, state = step(x, state, batch)
        x = optax.apply_updates(x, updates)
    assert float(jnp.linalg.norm(x)) == pytest.approx(np.sqrt(6.0), rel=1e-5)
    assert float(_quadratic(x, batch)) < f0
    assert int(state[0].accepted_count) >= 1


def test_inject_hyperparams():
    tx = optax.inject_hyperparams(trust_region, static_args=("max_cg_iters",))(
        ellipsoid="identity", initial_radius=0.3, max_radius=1.0)
    x = jnp.zeros(6)
    batch = jnp.asarray(_B, jnp.float32)
    step = jax.jit(functools.partial(_tr_step, tx))
    state = tx.init(x)
    updates, state = step(x, state, batch)
    assert float(jnp.linalg.norm(updates)) == pytest.approx(0.3, rel=1e-5)
    assert float(state.inner_state.radius) == pytest.approx(0.33, rel=1e-5)


def test_nnx_optimizer_loop():
    from flax import nnx

    model = nnx.Linear(3, 1, rngs=nnx.Rngs(0))
    xs = jnp.asarray(_RNG.normal(size=(32, 3)), jnp.float32)
    ys = xs @ jnp.array([[1.0], [-2.0], [0.5]]) + 0.3
    graphdef, _, rest = nnx.split(model, nnx.Param, ...)
    optimizer = nnx.Optimizer(model, trust_region(ellipsoid="identity", initial_radius=1.0),
                              wrt=nnx.Param)

    def value_fn(params, xb, yb):  # params: the pure Param state that nnx.Optimizer passes.
        return jnp.mean((nnx.merge(graphdef, params, rest)(xb) - yb) ** 2)

    @nnx.jit
    def train_step(model, optimizer, xb, yb):
        loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(xb) - yb) ** 2))(model)
        optimizer.update(model, grads, value=loss, value_fn=value_fn, xb=xb, yb=yb)
        return loss

    losses = [float(train_step(model, optimizer, xs, ys)) for _ in range(4)]
    assert losses[-1] < 1e-4 * losses[0]  # linear least squares: (inexact) Newton steps.


# ------------------------------------------------------------------------------------------------
# The paper's headline on real data: a tanh MLP 64-32-10 on scikit-learn digits (pixels / 16, in
# [0, 1], not standardised, as the authors' MNIST/CIFAR inputs), mini-batches of 512 of the 1437
# training images, the authors' constants (Δ0 = 0.05 sphere / 1e-4 RMSProp in A-norm units,
# Δmax 10, η1 0.01, η2 0.95, ×1.1 growth, ÷1.5 sphere / ÷1.75 RMSProp shrink, β = 0.8).

_STEPS, _BATCH, _TARGET, _SEEDS = 130, 512, 1e-3, (0, 1, 2)
_HEADLINE = {
    "identity": dict(ellipsoid="identity", initial_radius=0.05, decrease=1 / 1.5),
    "rmsprop": dict(ellipsoid=rmsprop_ellipsoid(decay=0.8, eps=1e-5), initial_radius=1e-4,
                    decrease=1 / 1.75),
}


@functools.lru_cache(maxsize=None)
def _digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x, _, y, _ = train_test_split(x, y, test_size=0.2, random_state=0)
    return jnp.asarray(x / 16.0, jnp.float32), jnp.asarray(y, jnp.int32)


def _mlp_init(key, sizes=(64, 32, 10)):
    keys = jax.random.split(key, len(sizes) - 1)
    return [{"w": jax.random.normal(k, (a, b)) / np.sqrt(a), "b": jnp.zeros(b)}
            for k, a, b in zip(keys, sizes[:-1], sizes[1:])]


def _mlp_loss(params, xb, yb):
    h = xb
    for layer in params[:-1]:
        h = jnp.tanh(h @ layer["w"] + layer["b"])
    logits = h @ params[-1]["w"] + params[-1]["b"]
    return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()


@functools.lru_cache(maxsize=None)
def _trainer(name):
    tx = trust_region(max_radius=10.0, eta1=0.01, eta2=0.95, increase=1.1, max_cg_iters=50,
                      cg_rtol=0.1, **_HEADLINE[name])
    x_all, y_all = _digits()

    @jax.jit
    def train(seed):
        key = jax.random.PRNGKey(seed)
        params = _mlp_init(jax.random.fold_in(key, 0))

        def body(carry, i):
            params, state = carry
            idx = jax.random.choice(jax.random.fold_in(key, i + 1), x_all.shape[0], (_BATCH,),
                                    replace=False)
            xb, yb = x_all[idx], y_all[idx]
            value, grads = jax.value_and_grad(_mlp_loss)(params, xb, yb)
            updates, state = tx.update(grads, state, params, value=value, value_fn=_mlp_loss,
                                       xb=xb, yb=yb)
            params = optax.apply_updates(params, updates)
            return (params, state), (state.hvp_count, _mlp_loss(params, x_all, y_all))

        (params, state), history = jax.lax.scan(body, (params, tx.init(params)),
                                                jnp.arange(_STEPS))
        return _mlp_loss(params, x_all, y_all), state, history

    return train


def test_mlp_on_digits_ellipsoid_needs_fewer_hvps_than_sphere():
    """Kohler, Adolphs & Lucchi's headline, measured: fewer HVPs to a low full-train loss.

    Measured (/tmp study, 3 seeds, batch 512, 300 steps; HVPs to full-train loss 1e-3, in
    brackets backprops = gradients + HVPs):

    =========================  =================  =================  =================
    method (Δ0)                seed 0             seed 1             seed 2
    =========================  =================  =================  =================
    sphere (0.05, authors)     428 (532)          481 (593)          460 (583)
    sphere (0.5, best of 3)    426 (504)          410 (491)          343 (412)
    RMSProp (1e-4, authors)    363 (486)          354 (476)          367 (489)
    authors' RMSProp (1e-2)    261 (327)          309 (389)          320 (398)
    Adagrad (0.05)             376 (454)          369 (446)          373 (451)
    =========================  =================  =================  =================

    The ellipsoids win in the stochastic regime at low loss (1e-3: ~20% fewer HVPs with the
    authors' constants, on every seed), not early: to loss 0.1 the best sphere needs 41-60 HVPs
    against 55-66 for the best RMSProp radius. Full batch (1437) the sphere is as good or better
    (to 1e-3: 123-175 against 134-165 HVPs). On standardised features the sphere also wins.
    """
    x_all, y_all = _digits()
    reached = {}
    for name in _HEADLINE:
        finals, hits = [], []
        for seed in _SEEDS:
            loss0 = float(_mlp_loss(_mlp_init(jax.random.fold_in(jax.random.PRNGKey(seed), 0)),
                                    x_all, y_all))
            final, state, (hvps, losses) = _trainer(name)(seed)
            hvps, losses = np.asarray(hvps), np.asarray(losses)
            assert isinstance(state, TrustRegionState)
            assert int(state.gradient_count) == _STEPS
            assert int(state.accepted_count) >= 0.7 * _STEPS
            assert float(final) < loss0 / 300  # every seed trains: 2.4 -> below 8e-3
            finals.append(float(final) / loss0)
            hit = losses <= _TARGET
            # A seed that never reaches the target counts as all the HVPs it used.
            hits.append(int(hvps[np.argmax(hit)]) if hit.any() else int(state.hvp_count))
            print(f"{name} seed {seed}: full loss {loss0:.3f} -> {float(final):.2e}, HVPs "
                  f"{int(state.hvp_count)}, accepted {int(state.accepted_count)}/{_STEPS}, HVPs "
                  f"to {_TARGET}: {hits[-1] if hit.any() else None}")
        assert np.median(finals) < 1 / 1000  # and the median seed below loss0 / 1000
        reached[name] = float(np.mean(hits))
    # Measured (3 seeds, the suite's XLA flags): identity 382, 436, 401 HVPs to 1e-3 against
    # RMSProp 353, 350, 357 (mean ratio 0.87); one seed alone moves with the rounding of CG.
    assert reached["rmsprop"] < 0.95 * reached["identity"]


def test_scipy_preset_first_update_is_the_closed_form_boundary_step():
    """Audit: preset="scipy" crashed at its first update ("max_iters must be an integer, got
    None"): scipy has no CG cap, so the cap is `minimize_trust_region`'s max(10 n, 100).

    f(w) = ||w - 1||^2 (n = 3) from w = 0 with Delta_0 = 1: the Newton step (1, 1, 1) has norm
    sqrt(3) > 1, so the step is 1/sqrt(3) (1, 1, 1) on the boundary; predicted = actual
    decrease = 2 sqrt(3) - 1 (rho = 1 > 3/4 on the boundary: the radius doubles).
    """
    loss = lambda p: jnp.sum((p["w"] - 1.0) ** 2)
    opt = trust_region(preset="scipy", ellipsoid="identity")
    params = {"w": jnp.zeros(3)}
    state = opt.init(params)
    updates, state = opt.update(jax.grad(loss)(params), state, params, value_fn=loss)
    eps = float(jnp.finfo(jnp.float32).eps)
    np.testing.assert_allclose(updates["w"], np.full(3, 1 / np.sqrt(3)), rtol=8 * eps)
    np.testing.assert_allclose(float(state.last_model_decrease), 2 * np.sqrt(3) - 1,
                               rtol=8 * eps)
    assert int(state.accepted_count) == 1 and float(state.radius) == 2.0
    assert int(state.hvp_count) == 1  # H = 2 I: one CG iteration reaches the boundary
