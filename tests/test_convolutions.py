# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""`canonical_convolutions`: the same values and derivatives, every convolution in NHWC/HWIO.

Values are checked in float64 against the unrewritten function (the rewrite sums the same
products, possibly in another order: agreement to 1e-12 of the output's scale); the layout is
checked on the traced program, nested bodies included, and on the library's Hessian-vector
products of a PyTorch-layout CNN (the case XLA's CPU backend runs on a naive loop nest inside a
loop body, jax-ml/jax#12868).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from jax.extend import core as jex_core

from complexity_optax import canonical_convolutions, hvp, landscape, value_grad_and_hvp


def _convolutions(jaxpr):
    """Every `conv_general_dilated` equation of `jaxpr`, nested bodies included."""
    found = [e for e in jaxpr.eqns if e.primitive is lax.conv_general_dilated_p]
    for sub in jex_core.subjaxprs(jaxpr):
        found += _convolutions(sub)
    return found


def _is_canonical(eqn):
    lhs, rhs, out = eqn.params["dimension_numbers"]
    k = len(lhs) - 2
    spatial = tuple(range(1, k + 1))
    return (lhs == (0, k + 1, *spatial) and out == (0, k + 1, *spatial)
            and rhs == (k + 1, k, *range(k)))


def _layouts(fun, *args):
    """`(number of convolutions, number in the canonical layout)` in `fun`'s program."""
    convs = _convolutions(jax.make_jaxpr(fun)(*args).jaxpr)
    return len(convs), sum(_is_canonical(e) for e in convs)


CASES = [  # (lhs shape, rhs shape, dimension numbers, keyword arguments)
    ((2, 3, 6, 5), (4, 3, 3, 3), ("NCHW", "OIHW", "NCHW"), {"padding": "SAME"}),
    ((2, 6, 5, 3), (3, 2, 3, 4), ("NHWC", "HWIO", "NHWC"),
     {"window_strides": (2, 1), "padding": ((1, 0), (0, 2)), "rhs_dilation": (1, 2)}),
    ((3, 2, 7), (2, 4, 3), ("NCH", "IOH", "NHC"), {"lhs_dilation": (2,), "padding": ((1, 2),)}),
    ((6, 2, 5, 3), (2, 3, 3, 4), ("HNWC", "HIWO", "CWNH"), {"padding": "SAME"}),
    ((1, 2, 4, 3, 3), (2, 2, 2, 2, 2), ("NCDHW", "OIDHW", "NDHWC"), {"padding": "VALID"}),
]


def _conv(lhs, rhs, dims, kwargs):
    kwargs = {"window_strides": (1,) * (lhs.ndim - 2), **kwargs}
    strides = kwargs.pop("window_strides")
    padding = kwargs.pop("padding")
    return lax.conv_general_dilated(lhs, rhs, strides, padding, dimension_numbers=dims,
                                    **kwargs)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_values_and_gradients_equal_the_original_in_float64(case):
    lhs_shape, rhs_shape, dims, kwargs = CASES[case]
    with jax.enable_x64(True):
        k1, k2, k3 = jax.random.split(jax.random.key(case), 3)
        lhs = jax.random.normal(k1, lhs_shape, jnp.float64)
        rhs = jax.random.normal(k2, rhs_shape, jnp.float64)

        def fun(a, b):
            return _conv(a, b, dims, dict(kwargs))

        want = fun(lhs, rhs)
        cotangent = jax.random.normal(k3, want.shape, jnp.float64)
        got = canonical_convolutions(fun)(lhs, rhs)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, atol=1e-12 * float(jnp.max(jnp.abs(want))))
        grads = jax.grad(lambda a, b: jnp.vdot(cotangent, fun(a, b)), argnums=(0, 1))
        grads_rw = jax.grad(lambda a, b: jnp.vdot(cotangent, canonical_convolutions(fun)(a, b)),
                            argnums=(0, 1))
        for g, g_rw in zip(grads(lhs, rhs), grads_rw(lhs, rhs), strict=True):
            np.testing.assert_allclose(g_rw, g, atol=1e-12 * float(jnp.max(jnp.abs(g))))
        # every convolution of the rewritten program, and of its gradient, is canonical
        assert _layouts(canonical_convolutions(fun), lhs, rhs) == (1, 1)
        count, canonical = _layouts(canonical_convolutions(jax.grad(
            lambda a, b: jnp.sum(fun(a, b) ** 2), argnums=(0, 1))), lhs, rhs)
        assert count == canonical == 3


def test_nested_bodies_are_rewritten_and_grouped_convolutions_kept():
    x, w = jnp.ones((1, 2, 5, 5)), jnp.full((2, 2, 3, 3), 0.1)

    def conv(a):
        return lax.conv_general_dilated(a, w, (1, 1), "SAME",
                                        dimension_numbers=("NCHW", "OIHW", "NCHW"))

    def fun(a):
        a = jax.jit(conv)(a)
        a = jax.checkpoint(conv)(a)
        a = lax.fori_loop(0, 2, lambda i, b: conv(b), a)  # a while loop
        a, _ = lax.scan(lambda b, _: (conv(b), None), a, None, length=2)
        a = lax.cond(a.sum() > 0, conv, lambda b: -conv(b), a)
        grouped = lax.conv_general_dilated(a, w[:, :1], (1, 1), "SAME", feature_group_count=2,
                                           dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return a + grouped

    assert _layouts(fun, x) == (7, 0)
    assert _layouts(canonical_convolutions(fun), x) == (7, 6)  # the grouped one is kept
    np.testing.assert_allclose(canonical_convolutions(fun)(x), fun(x), rtol=1e-5)
    # a function without convolutions is evaluated as it is
    plain = lambda a, b=2.0: {"y": jnp.sin(a) * b}  # noqa: E731
    assert canonical_convolutions(plain)(x, b=3.0)["y"].shape == x.shape
    np.testing.assert_array_equal(canonical_convolutions(plain)(x, b=3.0)["y"], jnp.sin(x) * 3)
    # outputs that are not traced come back as the function returns them
    with_aux = lambda a: (conv(a), {"count": 3, "tag": None, "name": "conv"})  # noqa: E731
    out, aux = canonical_convolutions(with_aux)(x)
    assert aux == {"count": 3, "tag": None, "name": "conv"} and type(aux["count"]) is int
    np.testing.assert_allclose(out, conv(x), rtol=1e-6)
    with pytest.raises(TypeError, match="fun must be callable"):
        canonical_convolutions(3)


def _cnn_loss(params, x, y):
    """A PyTorch-layout (NCHW, OIHW) CNN's cross-entropy."""
    h = x
    for layer in params[:2]:
        h = lax.conv_general_dilated(h, layer["w"], (1, 1), "SAME",
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
        h = jax.nn.relu(h + layer["b"][None, :, None, None])
    logits = h.reshape(h.shape[0], -1) @ params[2]
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))


def test_the_library_hessian_vector_products_run_canonical_convolutions():
    k = jax.random.split(jax.random.key(0), 5)
    params = [{"w": 0.3 * jax.random.normal(k[0], (3, 1, 3, 3)), "b": jnp.zeros(3)},
              {"w": 0.3 * jax.random.normal(k[1], (2, 3, 3, 3)), "b": jnp.zeros(2)},
              0.3 * jax.random.normal(k[2], (2 * 6 * 6, 4))]
    x = jax.random.normal(k[3], (5, 1, 6, 6))
    y = jax.random.randint(k[4], (5,), 0, 4)
    v = jax.tree.map(jnp.ones_like, params)
    plain = jax.jvp(jax.grad(lambda p: _cnn_loss(p, x, y)), (params,), (v,))[1]
    count, _ = _layouts(lambda v: jax.jvp(jax.grad(lambda p: _cnn_loss(p, x, y)),
                                          (params,), (v,))[1], v)
    assert _layouts(lambda v: jax.jvp(jax.grad(lambda p: _cnn_loss(p, x, y)), (params,), (v,))[1],
                    v)[1] == 0  # PyTorch's layout: none canonical unless rewritten
    assert count >= 8 and _layouts(lambda v: hvp(_cnn_loss, params, v, x, y), v) == (count,
                                                                                      count)
    product = value_grad_and_hvp(_cnn_loss, params, x, y)[2]  # the tangent pass only
    assert _layouts(product, v)[0] == _layouts(product, v)[1] >= 4
    op = landscape.hessian_operator(_cnn_loss, params, [(x, y)])
    looped = lambda v: lax.fori_loop(0, 2, lambda i, u: op(u), v)  # noqa: E731
    assert _layouts(looped, v)[0] == _layouts(looped, v)[1] >= count
    scale = max(float(jnp.max(jnp.abs(a))) for a in jax.tree.leaves(plain))
    for got in (hvp(_cnn_loss, params, v, x, y), product(v), op(v)):
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(plain), strict=True):
            np.testing.assert_allclose(a, b, atol=1e-5 * scale)
