# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The shared contract, run over every entry of ``contract.REGISTRY`` (like optax's contrib tests).

Each check reuses the module-level jitted steps of ``contract.py``, so an entry compiles once per
wrapper (plain, ``apply_if_finite``, ``MultiSteps``) for this whole file and the fault suite.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from complexity_optax.testing import contract as C

NAMES = [e.name for e in C.REGISTRY]
INJECTABLE = [(e.name, h) for e in C.REGISTRY for h in e.injectable]
PARAMS, BATCH = C.make_problem()
_, BATCH2 = C.make_problem(seed=1)


def assert_trees_close(a, b, rtol=1e-5, atol=1e-6):
    a, b = C.keys_as_data(a), C.keys_as_data(b)
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x, np.float64), np.asarray(y, np.float64),
                                   rtol=rtol, atol=atol)


@functools.lru_cache(maxsize=None)
def plain_run(name, num_steps=C.NUM_STEPS):
    return C.run(name, PARAMS, BATCH, num_steps)


def test_registry_covers_every_public_transformation():
    import complexity_optax as co

    factories = {e.factory for e in C.REGISTRY}
    for public in (co.complexity_weight_decay, co.two_step_annealing, co.project_onto_sphere,
                   co.tangent_projection, co.add_annealed_field, co.complexity_sgd,
                   co.anneal_sgd, co.trust_region):
        assert public in factories, public.__name__
    annealings = {e.kwargs.get("annealing") for e in C.REGISTRY if e.factory is co.complexity_sgd}
    assert annealings == set(co._src.complexity_annealing.complexity_sgd.ANNEALINGS)
    assert len(NAMES) == len(set(NAMES))


def test_every_public_constructor_has_an_invalid_case():
    import complexity_optax as co
    from complexity_optax import landscape

    covered = {fn for fn, _, _ in C.INVALID_CASES}
    constructors = [co.cosine_annealing, co.power_law_annealing, co.lr_matched_annealing,
                    co.matched_annealing, co.complexity_weight_decay, co.two_step_annealing,
                    co.project_onto_sphere, co.tangent_projection, co.sphere_init,
                    co.add_annealed_field, co.complexity_sgd, co.anneal_sgd,
                    co.rmsprop_ellipsoid, co.adam_ellipsoid, co.adagrad_ellipsoid,
                    co.get_ellipsoid, co.trust_region, co.steihaug_cg, co.minimize_trust_region,
                    landscape.pure_p_spin, landscape.mixed_p_spin, landscape.hutchinson_trace,
                    landscape.hutchinson_diagonal, landscape.lanczos, landscape.top_eigenvalues,
                    landscape.lanczos_quadrature, landscape.spectral_density,
                    landscape.index_fraction, landscape.mean_eigenvalue,
                    landscape.diagonal_share, landscape.wigner_diagonal_share,
                    landscape.ols_diagonal_share, landscape.complexity,
                    landscape.critical_energy, landscape.threshold_energy]
    missing = [fn.__name__ for fn in constructors if fn not in covered]
    assert not missing


@pytest.mark.parametrize("case", C.INVALID_CASES, ids=C.invalid_case_id)
def test_invalid_hyperparameter_raises_with_its_name(case):
    fn, kwargs, param = case
    with pytest.raises((ValueError, TypeError), match=param):
        fn(**kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_plain_run_compiles_once_keeps_state_layout_and_ignores_unknown_kwargs(name):
    """Chained as an optimizer, with an unknown extra kwarg at every step: 3 jitted steps."""
    entry = C.ENTRIES[name]
    state0 = C.init_state(name, PARAMS)
    layout0 = C.shape_dtype_tree(state0)
    step = C.jitted_step(name)
    before = C.TRACE_COUNTS.get((name, None), 0)
    params, state = PARAMS, state0
    layouts = []
    for _ in range(C.NUM_STEPS):
        grads, value = C.honest_inputs(params, BATCH)
        params, state, updates = step(params, state, grads, value, BATCH)
        layouts.append(C.shape_dtype_tree(state))
        assert C.shape_dtype_tree(updates) == C.shape_dtype_tree(grads)
    assert C.TRACE_COUNTS[(name, None)] - before <= 1  # at most the first call traces
    assert all(layout == layout0 for layout in layouts)
    assert jax.eval_shape(lambda: state) == jax.eval_shape(lambda: state0)
    assert C.all_finite((params, state))
    # The run moved the parameters (no entry is a no-op on this problem).
    assert not np.allclose(params["kernel"], PARAMS["kernel"])
    if not entry.needs_params:  # works without params
        tx = entry.optimizer()
        grads, value = C.honest_inputs(PARAMS, BATCH)
        kwargs = C.update_kwargs(entry, value, BATCH)
        updates, _ = tx.update(grads, tx.init(PARAMS), **kwargs)
        assert C.all_finite(updates)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_extra_kwarg_does_not_change_the_update(name):
    entry = C.ENTRIES[name]
    tx = entry.optimizer()
    grads, value = C.honest_inputs(PARAMS, BATCH)
    kwargs = C.update_kwargs(entry, value, BATCH)
    del kwargs[C.UNKNOWN_KWARG]

    @jax.jit
    def without_unknown(params, state):
        return tx.update(grads, state, params, **kwargs)[0]

    state = C.init_state(name, PARAMS)
    _, _, with_unknown = C.jitted_step(name)(PARAMS, state, grads, value, BATCH)
    assert_trees_close(without_unknown(PARAMS, state), with_unknown, rtol=0, atol=0)


def _inject_state(entry, state):
    """The InjectStatefulHyperparamsState inside ``entry.optimizer(injected)``'s state."""
    if entry.role == C.FIRST:
        return state[0]
    if entry.role == C.LAST:
        return state[1]
    return state


@functools.lru_cache(maxsize=None)
def _injected_step(name):
    entry = C.ENTRIES[name]
    tx = entry.optimizer(entry.injected())
    traces = []

    @jax.jit
    def step(params, state, grads, value, batch):
        traces.append(1)
        updates, state = tx.update(grads, state, params, **C.update_kwargs(entry, value, batch))
        return optax.apply_updates(params, updates), state

    return tx, step, traces


@functools.lru_cache(maxsize=None)
def _direct_run(name, hyper, value):
    entry = C.ENTRIES[name]
    tx = entry.optimizer(entry.build(**{hyper: value}))

    @jax.jit
    def step(params, state, grads, val, batch):
        updates, state = tx.update(grads, state, params, **C.update_kwargs(entry, val, batch))
        return optax.apply_updates(params, updates), state

    params, state = PARAMS, tx.init(PARAMS)
    for _ in range(C.NUM_STEPS):
        grads, val = C.honest_inputs(params, BATCH)
        params, state = step(params, state, grads, val, BATCH)
    return params


@pytest.mark.parametrize("name,hyper", INJECTABLE, ids=[f"{n}-{h}" for n, h in INJECTABLE])
def test_inject_hyperparams_matches_direct_construction(name, hyper):
    """Injected at value a (the registry default) it matches the plain run; set to b in the
    state it matches the transformation built with b, which differs from a's run."""
    entry = C.ENTRIES[name]
    a, b = entry.injectable[hyper]
    assert entry.kwargs.get(hyper, a) == a
    tx, step, traces = _injected_step(name)
    results = {}
    for v in (a, b):
        # init from the transformation injected with v (init may read it: two_step's λ_{-1}),
        # then the same jitted step: the value lives in the state.
        state = entry.optimizer(entry.injected(**{hyper: v})).init(PARAMS)
        assert float(_inject_state(entry, state).hyperparams[hyper]) == pytest.approx(v)
        params = PARAMS
        for _ in range(C.NUM_STEPS):
            grads, value = C.honest_inputs(params, BATCH)
            params, state = step(params, state, grads, value, BATCH)
        results[v] = params
    assert len(traces) == 1  # changing an injected value does not recompile
    assert_trees_close(results[a], plain_run(name)[0])
    direct_b = _direct_run(name, hyper, b)
    assert_trees_close(results[b], direct_b)
    assert not np.allclose(direct_b["kernel"], results[a]["kernel"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_multi_steps_accumulates_two_gradients(name):
    """MultiSteps(k=2): no move on the first call, then one inner step on the mean gradient
    with the extra args of the second call."""
    step_ms = C.jitted_step(name, "multi_steps")
    state = C.init_state(name, PARAMS, "multi_steps")
    g1, v1 = C.honest_inputs(PARAMS, BATCH)
    g2, v2 = C.honest_inputs(PARAMS, BATCH2)
    p1, state, _ = step_ms(PARAMS, state, g1, v1, BATCH)
    assert_trees_close(p1, PARAMS, rtol=0, atol=0)
    p2, state, _ = step_ms(p1, state, g2, v2, BATCH2)
    mean = jax.tree.map(lambda a, b: (a + b) / 2, g1, g2)
    expected, _, _ = C.jitted_step(name)(PARAMS, C.init_state(name, PARAMS), mean, v2, BATCH2)
    assert_trees_close(p2, expected)
    assert not np.allclose(p2["kernel"], PARAMS["kernel"])


@pytest.mark.parametrize("name", NAMES)
def test_apply_if_finite_skips_a_nan_step(name):
    step = C.jitted_step(name, "apply_if_finite")
    state = C.init_state(name, PARAMS, "apply_if_finite")
    grads, value = C.honest_inputs(PARAMS, BATCH)
    p1, state, _ = step(PARAMS, state, grads, value, BATCH)
    grads, value = C.honest_inputs(p1, BATCH)
    nan_grads = jax.tree.map(lambda g: jnp.full_like(g, jnp.nan), grads)
    p2, state2, _ = step(p1, state, nan_grads, value, BATCH)
    assert int(state2.notfinite_count) == 1
    assert_trees_close(p2, p1, rtol=0, atol=0)
    assert_trees_close(state2.inner_state, state.inner_state, rtol=0, atol=0)
    assert C.all_finite((p2, state2))
    p3, _, _ = step(p2, state2, grads, value, BATCH)
    assert_trees_close(p3, plain_run(name, 2)[0])


class _Linear(nnx.Module):
    def __init__(self, params):
        self.kernel = nnx.Param(params["kernel"])
        self.bias = nnx.Param(params["bias"])

    def __call__(self, x):
        return x @ self.kernel[...] + self.bias[...]


@pytest.mark.parametrize("name", NAMES)
def test_nnx_optimizer(name):
    """nnx.Optimizer(model, tx, wrt=nnx.Param).update(model, grads, value=, value_fn=) gives the
    plain optax run (value_fn receives the nnx parameter state, which indexes like the dict)."""
    entry = C.ENTRIES[name]
    model = _Linear(PARAMS)
    optimizer = nnx.Optimizer(model, entry.optimizer(), wrt=nnx.Param)

    @nnx.jit
    def train_step(model, optimizer, batch):
        def loss(m):
            return C.loss_fn({"kernel": m.kernel[...], "bias": m.bias[...]}, batch)

        value, grads = nnx.value_and_grad(loss)(model)
        optimizer.update(model, grads, **C.update_kwargs(entry, value, batch))

    for _ in range(2):
        train_step(model, optimizer, BATCH)
    expected = plain_run(name, 2)[0]
    assert_trees_close({"kernel": model.kernel[...], "bias": model.bias[...]}, expected)


@pytest.mark.parametrize("name", NAMES)
def test_bfloat16_params_keep_bfloat16(name):
    params = jax.tree.map(lambda x: x.astype(jnp.bfloat16), PARAMS)
    batch = jax.tree.map(lambda x: x.astype(jnp.bfloat16), BATCH)
    state0 = C.init_state(name, params)
    step = C.jitted_step(name)
    p, state = params, state0
    for _ in range(2):
        grads, value = C.honest_inputs(p, batch)
        p, state, updates = step(p, state, grads, value, batch)
        assert all(u.dtype == jnp.bfloat16 for u in jax.tree.leaves(updates))
    assert all(x.dtype == jnp.bfloat16 for x in jax.tree.leaves(p))
    assert C.shape_dtype_tree(state) == C.shape_dtype_tree(state0)
    assert C.all_finite((p, state))


@pytest.mark.parametrize("name", NAMES)
def test_float64_params_keep_float64(name):
    with jax.enable_x64(True):
        params, batch = C.make_problem(dtype=np.float64)
        state0 = C.init_state(name, params)
        step = C.jitted_step(name)
        p, state = params, state0
        for _ in range(2):
            grads, value = C.honest_inputs(p, batch)
            p, state, updates = step(p, state, grads, value, batch)
            assert all(u.dtype == jnp.float64 for u in jax.tree.leaves(updates))
        assert all(x.dtype == jnp.float64 for x in jax.tree.leaves(p))
        assert C.shape_dtype_tree(state) == C.shape_dtype_tree(state0)
        assert C.all_finite((p, state))
