# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""User functions as pytrees (`common.functions`): a new closure over new arrays of the same
shapes reuses jax's compilation, for the spectral tools, the subproblem solvers and the
full-batch solvers."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import complexity_optax as co
from complexity_optax import landscape
from complexity_optax._src.common import functions
from complexity_optax._src.trust_region import minimize as minimize_lib


def test_closures_of_one_code_share_a_structure_and_arrays_are_leaves():
    def make(a, n):
        return lambda x: jnp.sum(a * x) + n

    f, g, h = (functions.as_pytree(make(jnp.full(3, v), 2)) for v in (1.0, 2.0, 3.0))
    assert jax.tree.structure(f) == jax.tree.structure(g) == jax.tree.structure(h)
    assert len(jax.tree.leaves(f)) == 1  # the array; the int 2 is static
    other = functions.as_pytree(make(jnp.ones(3), 5))
    assert jax.tree.structure(other) != jax.tree.structure(f)  # a static value differs
    assert float(g(jnp.ones(3))) == 8.0


def test_nested_closures_partials_and_pytrees_in_cells():
    params = {"w": jnp.arange(3.0), "b": jnp.asarray(1.0)}
    loss = lambda p, x: jnp.sum(p["w"] * x) + p["b"]
    outer = functools.partial(lambda p, x, s: s * loss(p, x), params)
    fn = functions.as_pytree(lambda x: outer(x, 2.0))
    leaves = jax.tree.leaves(fn)
    assert len(leaves) == 2  # w and b, through a closure and a partial
    assert float(jax.jit(lambda f, x: f(x))(fn, jnp.ones(3))) == 2.0 * (3.0 + 1.0)


def test_call_reuses_the_compilation_for_a_new_closure():
    def product(scale):
        a = scale * jnp.eye(4)
        return functions.call(lambda v: a @ v, jnp.ones(4))

    product(1.0)
    before = functions._jitted_apply._cache_size()
    out = [product(s) for s in (2.0, 3.0)]
    assert functions._jitted_apply._cache_size() == before
    np.testing.assert_allclose(np.asarray(out[1]), 3.0 * np.ones(4))


# Module-level values the test functions read by name (a notebook's globals).
_H = jnp.diag(jnp.array([1.0, 2.0, 3.0]))


def _scale(v):
    return v


def test_module_level_arrays_are_this_calls_values_not_the_first_calls():
    """A notebook writes `H = ...; hvp = lambda v: H @ v` at top level and later changes H: the
    lambda reads H as a global, not from a closure cell. Every call must see the current H (the
    first version of `as_pytree` kept the first call's H in the compiled program: the second
    solve below returned the Newton step of the old matrix), with one compilation."""
    global _H, _scale
    g = jnp.ones(3)
    try:
        before = functions._jitted_apply._cache_size()
        steps = []
        for diagonal in ([1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [4.0, 5.0, 6.0]):
            _H = jnp.diag(jnp.array(diagonal))
            hvp = lambda v: _scale(_H @ v)  # noqa: B023  (reads the global _H: the point)
            res = co.steihaug_cg(hvp, g, 100.0, max_iters=3, rtol=0.0)
            steps.append(np.asarray(res.step))
            np.testing.assert_allclose(steps[-1], -1.0 / np.array(diagonal), rtol=1e-5)
            lan = co.lanczos_subproblem(hvp, g, 100.0, max_iters=3, rtol=0.0)
            np.testing.assert_allclose(np.asarray(lan.step), -1.0 / np.array(diagonal),
                                       rtol=1e-4)
        grown = functions._jitted_apply._cache_size() - before
        assert grown <= 2  # one program per solver, whatever H holds
        _scale = lambda v: 2.0 * v  # a redefined helper: a new program, its value
        res = co.steihaug_cg(lambda v: _scale(_H @ v), g, 100.0, max_iters=3, rtol=0.0)
        np.testing.assert_allclose(np.asarray(res.step), -1.0 / (2.0 * np.array([4.0, 5.0, 6.0])),
                                   rtol=1e-5)
    finally:
        _H = jnp.diag(jnp.array([1.0, 2.0, 3.0]))
        _scale = lambda v: v


def test_mutable_closure_state_is_the_callers_object():
    seen = []

    def fn(x):
        seen.append(1)  # runs while tracing
        return 2.0 * x

    functions.call(fn, jnp.ones(2))
    assert seen == [1]


def test_spectral_tool_called_eagerly_with_new_closures_compiles_once():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(40, 40))
    key = jax.random.key(0)
    like = jnp.zeros(40)

    def trace(scale):
        a = jnp.asarray(scale * (m + m.T), jnp.float32)
        return landscape.hutchinson_trace(lambda v: a @ v, like, key, num_samples=8)

    trace(1.0)
    before = functions._jitted_apply._cache_size()
    out = [trace(s) for s in (2.0, 3.0)]
    assert functions._jitted_apply._cache_size() == before
    assert float(out[1].estimate) == pytest.approx(1.5 * float(out[0].estimate), rel=1e-5)


@pytest.mark.parametrize("structure", ["dict", "list", "tuple"])
def test_eager_tool_on_a_new_operator_over_dict_params_compiles_once(structure):
    """The notebook pattern: `hessian_operator(loss, params, batches)` built anew at every call,
    over a dict of parameters. Two things made every such eager call compile again (2.3 s per
    call instead of 0.05 s on a 50,890-parameter MLP, `benchmarks/landscape_eager.py`): the
    operator's `matvec` closure stayed a static leaf compared by identity, and the tools' `like`
    template (a dict of `ShapeDtypeStruct`s, rebuilt per call) was compared by identity. A list
    (or tuple) of layer dicts, the other common structure, still compiled at every call (1.6 s per
    top-5 call, `benchmarks/landscape_torch.py`) until containers holding `ShapeDtypeStruct`s were
    compared by value too."""
    def pack(w, b):
        return {"dict": lambda: {"w": w, "b": b}, "list": lambda: [{"w": w}, {"b": b}],
                "tuple": lambda: ({"w": w}, {"b": b})}[structure]()

    def loss(p, x):
        w, b = (p["w"], p["b"]) if structure == "dict" else (p[0]["w"], p[1]["b"])
        return jnp.sum(jnp.tanh(x @ w + b) ** 2)

    x = jnp.asarray(np.random.default_rng(0).normal(size=(6, 3)), jnp.float32)
    key = jax.random.key(0)

    def trace(scale):
        params = pack(scale * jnp.ones((3, 2)), jnp.zeros(2))
        op = landscape.hessian_operator(loss, params, [(x,)])
        return landscape.hutchinson_trace(op, params, key, num_samples=4).estimate

    first = trace(0.1)
    before = functions._jitted_apply._cache_size()
    later = [trace(s) for s in (0.2, 0.3)]
    assert functions._jitted_apply._cache_size() == before
    assert float(later[0]) != float(first)  # this call's parameters, not the first call's
    exact = jax.jit(lambda s: trace(s))(0.3)  # the same computation traced afresh
    np.testing.assert_allclose(float(later[1]), float(exact), rtol=1e-5)


def test_minimize_trust_region_with_a_new_closure_does_not_recompile():
    def solve(c):
        target = jnp.full(3, c)
        return co.minimize_trust_region(lambda x: jnp.sum((x - target) ** 2 + x**4),
                                        jnp.zeros(3))

    solve(0.5)
    before = minimize_lib._solve._cache_size()
    results = [solve(c) for c in (1.0, 1.5)]
    assert minimize_lib._solve._cache_size() == before
    assert all(bool(r.converged) for r in results)
