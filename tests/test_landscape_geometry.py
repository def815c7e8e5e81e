# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Tests for landscape/geometry: filter-normalised directions, 1D/2D slices, interpolation and
trained mode-connecting curves (closed forms on quadratics; a small net trained from two seeds)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from complexity_optax import landscape as ls

# ------------------------------------------------------------------------------------------------
# Directions.


def test_filter_normalize_gives_each_filter_the_parameter_filter_norm():
    key = jax.random.key(0)
    params = {"conv": jax.random.normal(key, (3, 3, 2, 4)), "dense": jnp.arange(15.0).reshape(5, 3),
              "bias": jnp.ones(4)}
    direction = jax.tree.map(lambda p: 3.0 * jnp.ones_like(p), params)
    direction["dense"] = direction["dense"].at[:, 0].set(0.0)  # a zero filter stays zero
    d = ls.filter_normalize(direction, params)
    for name, axes in (("conv", (0, 1, 2)), ("dense", (0,))):
        want = np.sqrt(np.sum(np.asarray(params[name]) ** 2, axis=axes))
        got = np.sqrt(np.sum(np.asarray(d[name]) ** 2, axis=axes))
        if name == "dense":
            want[0] = 0.0
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.all(np.asarray(d["bias"]) == 0.0)  # biases ignored (Li et al.)
    # Direction within a filter is kept (a positive multiple).
    np.testing.assert_allclose(np.asarray(d["dense"][:, 1]) / np.asarray(d["dense"][0, 1]), 1.0)
    # Layer normalisation: one norm per leaf; vectors normalised as a whole when not ignored.
    d = ls.filter_normalize(direction, params, normalization="layer", ignore_vectors=False)
    for name, leaf in params.items():
        np.testing.assert_allclose(float(jnp.linalg.norm(d[name])),
                                   float(jnp.linalg.norm(leaf)), rtol=1e-6)
    assert ls.filter_normalize(direction, params, normalization="none") is direction
    with pytest.raises(ValueError, match="^normalization"):
        ls.filter_normalize(direction, params, normalization="unit")


def test_filter_normalize_kernel_layouts_against_hand_computed_normalisation():
    """A flax [in, out] kernel and its PyTorch [out, in] transpose give the same (transposed)
    direction, each matching the by-hand normalisation d_f/‖d_f‖·‖θ_f‖ over output filters."""
    theta = np.array([[3.0, 0.0, 1.0], [4.0, 2.0, 2.0]])  # flax [in=2, out=3]
    direction = np.array([[1.0, 1.0, 0.0], [1.0, -1.0, 3.0]])
    # By hand, filter f = column f: ‖θ_f‖ = 5, 2, √5; ‖d_f‖ = √2, √2, 3.
    want = np.array([[5 / math.sqrt(2), 2 / math.sqrt(2), 0.0],
                     [5 / math.sqrt(2), -2 / math.sqrt(2), math.sqrt(5.0)]])
    flax = ls.filter_normalize({"w": jnp.asarray(direction)}, {"w": jnp.asarray(theta)})
    np.testing.assert_allclose(np.asarray(flax["w"]), want, rtol=1e-6)
    torch = ls.filter_normalize({"w": jnp.asarray(direction.T)}, {"w": jnp.asarray(theta.T)},
                                kernel_layout="torch")
    np.testing.assert_allclose(np.asarray(torch["w"]), want.T, rtol=1e-6)
    # A PyTorch weight read as flax is normalised over the wrong axis (per input, not output).
    wrong = ls.filter_normalize({"w": jnp.asarray(direction.T)}, {"w": jnp.asarray(theta.T)})
    assert not np.allclose(np.asarray(wrong["w"]), want.T, rtol=1e-3)
    # Conv2d [out, in, h, w] against flax Conv [h, w, in, out]: the same filters.
    key1, key2 = jax.random.split(jax.random.key(3))
    conv = jax.random.normal(key1, (3, 3, 2, 4))
    d_conv = jax.random.normal(key2, (3, 3, 2, 4))
    to_torch = (3, 2, 0, 1)
    f = ls.filter_normalize(d_conv, conv)
    t = ls.filter_normalize(jnp.transpose(d_conv, to_torch), jnp.transpose(conv, to_torch),
                            kernel_layout="torch")
    np.testing.assert_allclose(np.asarray(t), np.asarray(jnp.transpose(f, to_torch)), rtol=1e-6)
    norms = np.sqrt(np.sum(np.asarray(t) ** 2, axis=(1, 2, 3)))
    np.testing.assert_allclose(norms, np.sqrt(np.sum(np.asarray(conv) ** 2, axis=(0, 1, 2))),
                               rtol=1e-6)
    # random_direction takes the layout too; a bad layout names the parameter.
    r = ls.random_direction(jax.random.key(1), {"w": jnp.asarray(theta.T)}, kernel_layout="torch")
    np.testing.assert_allclose(np.linalg.norm(np.asarray(r["w"]), axis=1),
                               np.linalg.norm(theta, axis=0), rtol=1e-6)
    with pytest.raises(ValueError, match="^kernel_layout"):
        ls.filter_normalize({"w": jnp.asarray(direction)}, {"w": jnp.asarray(theta)},
                            kernel_layout="jax")


def test_random_direction_is_reproducible_and_dtype_independent():
    params = {"w": jnp.full((4, 3), 0.5), "b": jnp.zeros(3)}
    d1 = ls.random_direction(jax.random.key(7), params)
    d2 = ls.random_direction(jax.random.key(7), params)
    np.testing.assert_array_equal(d1["w"], d2["w"])
    assert not np.allclose(d1["w"], ls.random_direction(jax.random.key(8), params)["w"])
    np.testing.assert_allclose(np.linalg.norm(np.asarray(d1["w"]), axis=0), 1.0, rtol=1e-6)
    bf16 = ls.random_direction(jax.random.key(7), jax.tree.map(
        lambda p: p.astype(jnp.bfloat16), params))
    assert bf16["w"].dtype == jnp.bfloat16
    np.testing.assert_allclose(np.asarray(bf16["w"], np.float32), d1["w"], rtol=2e-2)
    with pytest.raises(ValueError, match="^params"):
        ls.random_direction(jax.random.key(0), {})


# ------------------------------------------------------------------------------------------------
# Slices on a quadratic: closed forms.

A = jnp.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
TRACES = []


def _quadratic(params, shift):
    TRACES.append(1)
    x = params["x"]
    return 0.5 * x @ A @ x + shift * jnp.sum(params["y"] ** 2)


def _quadratic_closed(theta_x, theta_y, pairs, shift):
    x = np.asarray(theta_x, np.float64) + sum(c * np.asarray(d["x"], np.float64) for c, d in pairs)
    y = np.asarray(theta_y, np.float64) + sum(c * np.asarray(d["y"], np.float64) for c, d in pairs)
    return 0.5 * x @ np.asarray(A, np.float64) @ x + shift * np.sum(y**2)


def test_slices_match_the_quadratic_closed_form_and_compile_once():
    theta = {"x": jnp.array([0.5, -1.0, 2.0]), "y": jnp.array([1.0, 0.0])}
    d1 = {"x": jnp.array([1.0, 0.0, -1.0]), "y": jnp.array([0.0, 1.0])}
    d2 = {"x": jnp.array([0.0, 2.0, 1.0]), "y": jnp.array([1.0, 1.0])}
    alphas, betas = jnp.linspace(-1.0, 1.0, 5), jnp.array([-0.5, 0.0, 0.25])
    line = np.asarray(ls.loss_slice_1d(_quadratic, theta, d1, alphas, 0.3))
    want = [_quadratic_closed(theta["x"], theta["y"], [(a, d1)], 0.3) for a in np.asarray(alphas)]
    np.testing.assert_allclose(line, want, rtol=1e-5)
    assert line[2] == float(jax.jit(_quadratic)(theta, 0.3))  # α = 0 is θ itself
    plane = np.asarray(ls.loss_slice_2d(_quadratic, theta, d1, d2, alphas, betas, 0.3,
                                        batch_size=4))
    assert plane.shape == (5, 3)
    for i, a in enumerate(np.asarray(alphas)):
        for j, b in enumerate(np.asarray(betas)):
            np.testing.assert_allclose(
                plane[i, j], _quadratic_closed(theta["x"], theta["y"], [(a, d1), (b, d2)], 0.3),
                rtol=1e-5)
    # New coordinates and a new shift of the same shapes: no new trace.
    before = len(TRACES)
    ls.loss_slice_1d(_quadratic, theta, d2, alphas + 1.0, 0.7)
    assert len(TRACES) == before
    with pytest.raises(ValueError, match="^alphas"):
        ls.loss_slice_1d(_quadratic, theta, d1, jnp.zeros((2, 2)), 0.3)
    with pytest.raises(ValueError, match="^batch_size"):
        ls.loss_slice_1d(_quadratic, theta, d1, alphas, 0.3, batch_size=0)


def _diagonal_quadratic(params):
    return 0.5 * jnp.sum(jnp.array([5.0, 2.0, 1.0, 0.5]) * params["w"] ** 2)


def test_eigenvector_directions_give_the_top_curvatures():
    theta = {"w": jnp.zeros(4)}
    hvp = lambda v: jax.jvp(jax.grad(_diagonal_quadratic), (theta,), (v,))[1]
    ritz = ls.top_eigenvalues(hvp, theta, jax.random.key(0), k=2, num_steps=4,
                              return_vectors=True)
    d1, d2 = ls.eigenvector_directions(ritz.eigenvectors)
    h = jnp.array([-0.1, 0.0, 0.1])
    for d, lam in ((d1, 5.0), (d2, 2.0)):
        v = ls.loss_slice_1d(_diagonal_quadratic, theta, d, h)
        np.testing.assert_allclose(float(v[0] - 2 * v[1] + v[2]) / 0.01, lam, rtol=1e-3)
    with pytest.raises(ValueError, match="^eigenvectors"):
        ls.eigenvector_directions({"w": jnp.float32(1.0)})


# ------------------------------------------------------------------------------------------------
# Interpolation, barrier and curves: closed forms.


def test_interpolation_is_exact_at_the_ends_and_barrier_closed_form():
    a = {"w": jnp.array([0.1, -0.3, 1e-8]), "b": jnp.float32(2.0)}
    b = {"w": jnp.array([0.7, 0.3, -5.0]), "b": jnp.float32(-1.0)}
    for t, want in ((0.0, a), (1.0, b)):
        got = ls.interpolate_params(a, b, t)
        for x, y in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
            np.testing.assert_array_equal(x, y)
    np.testing.assert_allclose(ls.interpolate_params(a, b, 0.25)["w"],
                               0.75 * np.asarray(a["w"]) + 0.25 * np.asarray(b["w"]), rtol=1e-6)
    # Double well (p² − 1)²: barrier 1 over the chord between the two minima at ±1.
    ts = jnp.linspace(0.0, 1.0, 11)
    losses = ls.linear_path_losses(lambda p: jnp.sum((p**2 - 1.0) ** 2), jnp.array([-1.0]),
                                   jnp.array([1.0]), ts)
    assert float(ls.loss_barrier(ts, losses)) == pytest.approx(1.0)
    # Barrier over the chord between unequal ends; 0 for a convex path.
    assert float(ls.loss_barrier(jnp.array([0.0, 0.5, 1.0]), jnp.array([1.0, 3.0, 2.0]))) == 1.5
    assert float(ls.loss_barrier(jnp.array([2.0, 3.0, 4.0]), jnp.array([1.0, 0.0, 1.0]))) == 0.0
    with pytest.raises(ValueError, match="^params_b"):
        ls.interpolate_params(a, {"w": a["w"]}, 0.5)
    with pytest.raises(ValueError, match="^params_b"):
        ls.interpolate_params({"w": jnp.zeros(2)}, {"w": jnp.zeros(3)}, 0.5)
    with pytest.raises(ValueError, match="^losses"):
        ls.loss_barrier(jnp.zeros(3), jnp.zeros(2))


def test_curve_points_closed_form():
    w1, theta, w2 = jnp.array([0.0, 1.0]), jnp.array([2.0, 2.0]), jnp.array([4.0, -1.0])
    for kind in ls.geometry.mode_connectivity.CURVES:
        np.testing.assert_array_equal(ls.curve_point(w1, theta, w2, 0.0, kind=kind), w1)
        np.testing.assert_array_equal(ls.curve_point(w1, theta, w2, 1.0, kind=kind), w2)
    t = 0.3
    np.testing.assert_allclose(ls.curve_point(w1, theta, w2, t),
                               (1 - t) ** 2 * w1 + 2 * t * (1 - t) * theta + t**2 * w2, rtol=1e-6)
    np.testing.assert_allclose(ls.curve_point(w1, theta, w2, 0.25, kind="polychain"),
                               (w1 + theta) / 2, rtol=1e-6)
    np.testing.assert_allclose(ls.curve_point(w1, theta, w2, 0.75, kind="polychain"),
                               (theta + w2) / 2, rtol=1e-6)
    # The midpoint control point makes both curves the straight line.
    mid = (w1 + w2) / 2
    for kind in ls.geometry.mode_connectivity.CURVES:
        np.testing.assert_allclose(ls.curve_point(w1, mid, w2, 0.6, kind=kind),
                                   0.4 * w1 + 0.6 * w2, rtol=1e-6)
    with pytest.raises(ValueError, match="^kind"):
        ls.curve_point(w1, theta, w2, 0.5, kind="spline")
    with pytest.raises(ValueError, match="^num_steps"):
        ls.fit_connecting_curve(lambda p: jnp.sum(p), w1, w2, jax.random.key(0), num_steps=0)


# ------------------------------------------------------------------------------------------------
# A small net trained twice: the straight line between the minima has a barrier, the trained
# Bezier curve has (almost) none.

HIDDEN = 16


def _init(seed):
    k1, k2 = jax.random.split(jax.random.key(seed))
    return {"hidden": {"kernel": jax.random.normal(k1, (64, HIDDEN)) / 8.0,
                       "bias": jnp.zeros(HIDDEN)},
            "out": {"kernel": jax.random.normal(k2, (HIDDEN, 10)) / 4.0, "bias": jnp.zeros(10)}}


def _net_loss(params, x, y):
    h = jnp.tanh(x @ params["hidden"]["kernel"] + params["hidden"]["bias"])
    logits = h @ params["out"]["kernel"] + params["out"]["bias"]
    return optax.losses.softmax_cross_entropy_with_integer_labels(logits, y).mean()


TRAIN_TX = optax.adam(0.02)
CURVE_TX = optax.adam(0.02)


@jax.jit
def _train(params, x, y):
    def step(carry, _):
        p, s = carry
        g = jax.grad(_net_loss)(p, x, y)
        u, s = TRAIN_TX.update(g, s, p)
        return (optax.apply_updates(p, u), s), None

    (params, _), _ = jax.lax.scan(step, (params, TRAIN_TX.init(params)), None, length=300)
    return params


@pytest.fixture(scope="module")
def two_minima():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x, y = jnp.asarray(x[:400] / 16.0, jnp.float32), jnp.asarray(y[:400], jnp.int32)
    return _train(_init(0), x, y), _train(_init(1), x, y), x, y


def test_linear_interpolation_reproduces_the_end_losses_exactly(two_minima):
    a, b, x, y = two_minima
    ts = jnp.linspace(0.0, 1.0, 11)
    line = np.asarray(ls.linear_path_losses(_net_loss, a, b, ts, x, y))
    loss = jax.jit(_net_loss)
    assert line[0] == float(loss(a, x, y))
    assert line[-1] == float(loss(b, x, y))
    # The same through a 1D slice along d = b − a.
    d = jax.tree.map(lambda p, q: q - p, a, b)
    assert float(ls.loss_slice_1d(_net_loss, a, d, jnp.array([0.0]), x, y)[0]) == line[0]


def test_trained_curve_has_a_lower_barrier_than_the_straight_line(two_minima):
    a, b, x, y = two_minima
    ts = jnp.linspace(0.0, 1.0, 21)
    line = ls.linear_path_losses(_net_loss, a, b, ts, x, y)
    fit = ls.fit_connecting_curve(_net_loss, a, b, jax.random.key(2), x, y,
                                  optimizer=CURVE_TX, num_steps=200)
    curve = ls.curve_losses(_net_loss, a, fit.control, b, ts, x, y)
    line_barrier = float(ls.loss_barrier(ts, line))
    curve_barrier = float(ls.loss_barrier(ts, curve))
    print(f"\nloss at the minima {float(line[0]):.4f}, {float(line[-1]):.4f}; barrier: straight "
          f"line {line_barrier:.4f}, trained Bezier curve {curve_barrier:.4f}")
    # The curve's ends are the minima exactly; its training loss went down.
    assert float(curve[0]) == float(line[0]) and float(curve[-1]) == float(line[-1])
    assert float(fit.train_losses[-1]) < float(fit.train_losses[0])
    assert line_barrier > 0.05  # two seeds: distinct minima with a barrier between them
    assert curve_barrier < 0.2 * line_barrier


def _log_loss(p):
    return jnp.log(p[0] - 5.0) + jnp.sum(p**2)  # NaN wherever p[0] < 5


def test_non_finite_curve_steps_leave_control_and_state_untouched():
    # Every point of a curve between (1, 0) and (1, 2) through (−1, 1) has p[0] < 5: NaN loss
    # and gradient at every step, so every step is skipped and the control point is unchanged.
    start, end = jnp.array([1.0, 0.0]), jnp.array([1.0, 2.0])
    init = jnp.array([-1.0, 1.0])
    fit = ls.fit_connecting_curve(_log_loss, start, end, jax.random.key(0), init_control=init,
                                  num_steps=5, kind="polychain")
    assert np.all(np.isnan(np.asarray(fit.train_losses)))
    np.testing.assert_array_equal(fit.control, init)
