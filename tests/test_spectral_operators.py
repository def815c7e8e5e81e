# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Curvature operators, block operators, honest failure and low precision of the spectral tools.

GGN and empirical Fisher products against their definitions from dense float64 Jacobians and
per-example gradients (a 5-3-4 tanh MLP, N = 34, on 6 examples); NaN products; bfloat16 inputs
against float32; the Gauss–Radau bracket against a probe's exact spectral mass.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree

from complexity_optax import landscape as ls
from complexity_optax.landscape.spectral import index as index_lib


def _net():
    rng = np.random.default_rng(0)
    params = {"w1": jnp.asarray(rng.normal(size=(5, 3))), "b1": jnp.asarray(rng.normal(size=3)),
              "w2": jnp.asarray(rng.normal(size=(3, 4)))}
    x = jnp.asarray(rng.normal(size=(6, 5)))
    y = jnp.asarray(rng.integers(0, 4, size=6))
    return params, x, y


def _model(p, x):
    return jnp.tanh(x @ p["w1"] + p["b1"]) @ p["w2"]


def _output_loss(logits, y):
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def _dense(op, params):
    """The operator as a dense matrix, one product per basis vector (float64), in one program."""
    flat, unravel = ravel_pytree(params)
    columns = jax.jit(jax.vmap(lambda e: ravel_pytree(op(unravel(e)))[0]))(jnp.eye(flat.size))
    return np.asarray(columns).T


@pytest.fixture(scope="module")
def net64():
    with jax.enable_x64(True):
        params, x, y = _net()
        flat, unravel = ravel_pytree(params)
        # Dense Jacobian of the outputs (n·c × N) and the per-example output Hessians.
        jac = np.asarray(jax.jit(jax.jacfwd(lambda v: _model(unravel(v), x).ravel()))(flat))
        logits = _model(params, x)
        p = np.asarray(jax.nn.softmax(logits))
        h_out = np.zeros((jac.shape[0], jac.shape[0]))
        for i in range(6):  # ∇²_z of the mean cross-entropy: (diag(p) − ppᵀ) / n per example
            block = (np.diag(p[i]) - np.outer(p[i], p[i])) / 6
            h_out[4 * i:4 * i + 4, 4 * i:4 * i + 4] = block
        ggn = _dense(ls.gauss_newton_operator(_model, _output_loss, params, [(x, y)]), params)
        per_example = lambda q, xx, yy: optax.softmax_cross_entropy_with_integer_labels(
            _model(q, xx), yy)
        fisher = _dense(ls.fisher_operator(per_example, params, [(x[:3], y[:3]),
                                                                 (x[3:], y[3:])]), params)
        grads = np.asarray(jax.jit(jax.vmap(jax.grad(lambda v, xi, yi: per_example(
            unravel(v), xi[None], yi[None])[0]), in_axes=(None, 0, 0)))(flat, x, y))
        loss = lambda q, xx, yy: per_example(q, xx, yy).mean()
        hessian = _dense(ls.hessian_operator(loss, params, [(x[:3], y[:3]), (x[3:], y[3:])]),
                         params)
        dense_h = np.asarray(jax.jit(jax.hessian(lambda v: loss(unravel(v), x, y)))(flat))
    return {"jac": jac, "h_out": h_out, "ggn": ggn, "fisher": fisher, "grads": grads,
            "hessian": hessian, "dense_h": dense_h}


def test_gauss_newton_is_jt_hout_j(net64):
    expected = net64["jac"].T @ net64["h_out"] @ net64["jac"]
    np.testing.assert_allclose(net64["ggn"], expected, atol=1e-12)
    assert np.min(np.linalg.eigvalsh(net64["ggn"])) > -1e-12  # PSD for cross-entropy


def test_fisher_is_mean_of_gradient_outer_products(net64):
    g = net64["grads"]
    np.testing.assert_allclose(net64["fisher"], g.T @ g / g.shape[0], atol=1e-12)


def test_hessian_averaged_over_batches(net64):
    # Two equal halves: the batch mean of the half-batch Hessians is the full-batch Hessian.
    np.testing.assert_allclose(net64["hessian"], net64["dense_h"], atol=1e-12)


def test_operators_are_plain_callables_and_carry_like():
    params, x, y = _net()
    params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), params)
    op = ls.gauss_newton_operator(_model, _output_loss, params, [(x.astype(jnp.float32), y)])
    top = jax.jit(lambda: ls.top_eigenvalues(op, None, jax.random.key(0), k=1, num_steps=20))()
    assert float(top.eigenvalues[0]) > 0.0
    assert jax.tree.structure(op(params)) == jax.tree.structure(params)


def test_every_tool_accepts_like_none_for_an_operator():
    """Each tool that takes (matvec, like) gives the same answer for (op, None) and
    (op.matvec, op.like); diagonal_share used to raise (issue: dimension of like (0))."""
    a = jnp.asarray(np.diag(np.arange(1.0, 7.0)) + 0.1, jnp.float32)
    like = {"u": jnp.zeros((2, 2)), "v": jnp.zeros(2)}

    def matvec(t):
        out = a @ jnp.concatenate([t["u"].ravel(), t["v"]])
        return {"u": out[:4].reshape(2, 2), "v": out[4:]}

    op = ls.LinearOperator(matvec, like)
    key = jax.random.key(0)
    calls = {
        "diagonal_share": lambda m, l: ls.diagonal_share(m, l, key, num_columns=3),
        "diagonal_share (exact)": lambda m, l: ls.diagonal_share(m, l, exact=True),
        "hutchinson_trace": lambda m, l: ls.hutchinson_trace(m, l, key, num_samples=4),
        "hutchinson_diagonal": lambda m, l: ls.hutchinson_diagonal(m, l, key, num_samples=4),
        "hutchpp_trace": lambda m, l: ls.hutchpp_trace(m, l, key, num_matvecs=6),
        "hutchpp_diagonal": lambda m, l: ls.hutchpp_diagonal(m, l, key, num_matvecs=6),
        "lanczos": lambda m, l: ls.lanczos(m, l, key, num_steps=3),
        "eigenpairs": lambda m, l: ls.eigenpairs(m, l, key, num_steps=6),
        "top_eigenvalues": lambda m, l: ls.top_eigenvalues(m, l, key, num_steps=6),
        "bottom_eigenvalues": lambda m, l: ls.bottom_eigenvalues(m, l, key, num_steps=6),
        "lanczos_tridiagonals": lambda m, l: ls.lanczos_tridiagonals(m, l, key, num_probes=2,
                                                                     num_steps=3),
        "lanczos_quadrature": lambda m, l: ls.lanczos_quadrature(m, l, key, num_probes=2,
                                                                 num_steps=3),
        "spectral_density": lambda m, l: ls.spectral_density(m, l, key, num_probes=2,
                                                             num_steps=3, num_points=5),
        "log_spectral_density": lambda m, l: ls.log_spectral_density(m, l, key, num_probes=2,
                                                                     num_steps=3, num_points=5),
        "spectral_index": lambda m, l: ls.spectral_index(m, l, key, num_probes=2, num_steps=3),
        "index_fraction": lambda m, l: ls.index_fraction(m, l, key, num_probes=2, num_steps=3),
        "mean_eigenvalue": lambda m, l: ls.mean_eigenvalue(m, l, key, num_samples=4),
        "layer_blocks": lambda m, l: {
            k: b(jax.tree.map(lambda t: jnp.ones(t.shape, t.dtype), b.like))
            for k, b in ls.layer_blocks(m, l).items()},
    }
    for name, call in calls.items():
        with_none, with_like = call(op, None), call(matvec, like)
        for x, y in zip(jax.tree.leaves(with_none), jax.tree.leaves(with_like)):
            np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6, err_msg=name)
    # The exact share of this matrix, by hand: Σ|a_ii| / Σ|a_ij|.
    dense = np.abs(np.asarray(a))
    np.testing.assert_allclose(float(ls.diagonal_share(op, None, exact=True).share),
                               np.trace(dense) / dense.sum(), rtol=1e-6)
    with pytest.raises(ValueError, match="^like"):
        ls.diagonal_share(matvec, None, exact=True)


def test_block_operator_is_the_dense_diagonal_block():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(7, 7))
    a = jnp.asarray(a + a.T, jnp.float32)
    like = {"u": jnp.zeros((2, 2)), "v": jnp.zeros(3)}

    def matvec(t):
        out = a @ jnp.concatenate([t["u"].ravel(), t["v"]])
        return {"u": out[:4].reshape(2, 2), "v": out[4:]}

    block = ls.block_operator(matvec, like, {"u": False, "v": True})
    dense = np.stack([np.asarray(block({"['v']": e})["['v']"]) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(dense, np.asarray(a)[4:, 4:], rtol=1e-6)
    blocks = ls.layer_blocks(matvec, like)
    assert sorted(blocks) == ["['u']", "['v']"]
    top = ls.top_eigenvalues(blocks["['u']"], None, jax.random.key(0), k=1, num_steps=4)
    assert float(top.eigenvalues[0]) == pytest.approx(np.linalg.eigvalsh(a[:4, :4])[-1],
                                                      rel=1e-5)
    with pytest.raises(ValueError, match="^select"):
        ls.block_operator(matvec, like, lambda path: False)


# ------------------------------------------------------------------------ the Radau bracket
def test_radau_bracket_contains_the_probe_mass():
    # A spectrum with a cluster at 0: the bracket must hold each probe's exact mass below x.
    rng = np.random.default_rng(5)
    d = np.concatenate([rng.uniform(-3, -0.5, 20), rng.normal(0, 1e-4, 150),
                        rng.uniform(0.2, 10, 30)])
    matvec = lambda v: jnp.asarray(d, jnp.float32) * v
    x = -0.3
    for seed in range(3):
        q = rng.normal(size=d.size)
        exact = np.sum(q[d < x] ** 2) / np.sum(q**2)
        res = ls.lanczos(matvec, jnp.zeros(d.size), jax.random.key(0), num_steps=12,
                         init_vector=jnp.asarray(q, jnp.float32))
        lower, upper = index_lib.radau_bracket(res.alphas, res.betas, res.residual_beta,
                                               jnp.float32(x))
        assert float(lower) - 1e-5 <= exact <= float(upper) + 1e-5
        assert float(upper) - float(lower) < 0.2  # informative, not [0, 1]


def test_ill_conditioned_flag_when_mass_sits_at_tau():
    # Half of the spectrum sits at −τ·(1 ± 1e-4): the count below −τ is ill-posed at that τ;
    # well away from every cluster it is well posed.
    d = jnp.concatenate([jnp.full(50, -1e-2) + jnp.linspace(-1e-6, 1e-6, 50),
                         jnp.linspace(-2.0, -1.0, 30), jnp.linspace(1.0, 10.0, 20)])
    run = jax.jit(lambda tau: ls.spectral_index(lambda v: d * v, d, jax.random.key(0), tau=tau,
                                                num_probes=16, num_steps=30))
    idx = run(1e-2)
    assert bool(idx.ill_conditioned) and float(idx.bias_bound) > 0.1
    clean = run(0.5)
    assert not bool(clean.ill_conditioned)
    assert abs(float(clean.estimate) - 0.3) < 4 * float(clean.standard_error) + 0.01


# ------------------------------------------------------------------------- honest failure
def test_nan_matvec_gives_nan_everywhere():
    bad = lambda v: jax.tree.map(lambda x: x * jnp.nan, v)
    like = {"a": jnp.zeros(6), "b": jnp.zeros((2, 2))}
    key = jax.random.key(0)

    @jax.jit
    def everything():
        return {
            "index": ls.spectral_index(bad, like, key, num_probes=2, num_steps=4),
            "fraction": ls.index_fraction(bad, like, key, num_probes=2, num_steps=4),
            "top": ls.top_eigenvalues(bad, like, key, k=2, num_steps=4, return_vectors=True),
            "density": ls.spectral_density(bad, like, key, num_probes=2, num_steps=4, sigma=0.1),
            "trace": ls.hutchinson_trace(bad, like, key, num_samples=4),
            "hutchpp": ls.hutchpp_trace(bad, like, key, num_matvecs=9),
            "diag": ls.hutchinson_diagonal(bad, like, key, num_samples=4),
            "diagpp": ls.hutchpp_diagonal(bad, like, key, num_matvecs=9),
            "mean": ls.mean_eigenvalue(bad, like, key, num_samples=4),
            "share": ls.diagonal_share(bad, like, exact=True),
        }

    out = jax.device_get(everything())
    for name in ("index", "fraction"):
        assert bool(out[name].ill_conditioned)
        out[name] = out[name]._replace(ill_conditioned=np.nan)
    assert not bool(out["top"].converged)
    out["top"] = out["top"]._replace(converged=np.nan, num_steps=np.nan)
    out["density"] = out["density"].density  # (sigma was given: it stays 0.1)
    for name, value in out.items():
        leaves = [np.asarray(x) for x in jax.tree.leaves(value)]
        assert leaves and all(np.all(np.isnan(x)) for x in leaves), name
    # One bad probe is enough: the index is NaN, not "0 ± 0".

    def sometimes_bad(v):
        return jnp.where(v[0] > 0, v * jnp.nan, v)

    frac = ls.index_fraction(sometimes_bad, jnp.ones(5), key, num_probes=8, num_steps=3)
    assert math.isnan(float(frac.estimate))


# --------------------------------------------------------------------------- low precision
def test_bfloat16_inputs_agree_with_float32():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(60, 60)) / math.sqrt(60)
    a = (a + a.T) / 2 + np.diag(np.linspace(-1.0, 3.0, 60))
    a32 = jnp.asarray(a, jnp.float32)
    a16 = a32.astype(jnp.bfloat16)

    def run(matvec, like):
        key = jax.random.key(2)
        return {
            "top": ls.top_eigenvalues(matvec, like, key, k=2, num_steps=40).eigenvalues,
            "index": ls.spectral_index(matvec, like, key, tau=0.3, num_probes=8,
                                    num_steps=30).estimate,
            "trace": ls.hutchinson_trace(matvec, like, key, num_samples=20).estimate,
        }

    f32 = run(lambda v: a32 @ v, jnp.zeros(60, jnp.float32))
    b16 = run(lambda v: a16 @ v, jnp.zeros(60, jnp.bfloat16))
    resolution = 2.0**-8 * 4  # a few bfloat16 ulps, relative to the spectral norm
    norm = float(np.max(np.abs(np.linalg.eigvalsh(a))))
    assert b16["top"].dtype == jnp.float32
    np.testing.assert_allclose(b16["top"], f32["top"], atol=resolution * norm)
    np.testing.assert_allclose(b16["top"], np.linalg.eigvalsh(a)[::-1][:2], atol=resolution * norm)
    assert abs(float(b16["index"]) - float(f32["index"])) < 0.02
    assert abs(float(b16["trace"]) - float(f32["trace"])) < resolution * np.abs(a).sum()


def test_hutchinson_diagonal_batches_agree_and_do_not_keep_probes():
    d = jnp.arange(1.0, 8.0)
    m = jnp.diag(d) + 0.1
    one = ls.hutchinson_diagonal(lambda v: m @ v, d, jax.random.key(0), num_samples=10)
    batched = ls.hutchinson_diagonal(lambda v: m @ v, d, jax.random.key(0), num_samples=10,
                                     batch_size=4)
    np.testing.assert_allclose(batched, one, rtol=1e-6)
    # No (num_samples, N) buffer in the program: only scans over products.
    text = jax.jit(lambda k: ls.hutchinson_diagonal(lambda v: m @ v, d, k, num_samples=1000,
                                                    batch_size=4)).lower(
        jax.random.key(0)).as_text()
    assert "1000x7xf32" not in text


def test_diag_plus_plus_matches_dense_diagonal_within_its_errors():
    # A decaying spectrum with a random eigenbasis: Diag++ deflates the top and its per-entry
    # standard errors cover the dense diagonal; it beats Hutchinson at the same budget.
    rng = np.random.default_rng(8)
    u, _ = np.linalg.qr(rng.normal(size=(40, 40)))
    a = (u * (10.0 * 0.8 ** np.arange(40))) @ u.T
    m = jnp.asarray(a, jnp.float32)
    run = jax.jit(lambda k: (ls.hutchpp_diagonal(lambda v: m @ v, jnp.zeros(40), k,
                                                 num_matvecs=30),
                             ls.hutchinson_diagonal(lambda v: m @ v, jnp.zeros(40), k,
                                                    num_samples=30)))
    plus, plain = run(jax.random.key(0))
    error = np.abs(np.asarray(plus.estimate) - np.diag(a))
    assert np.all(error <= 4 * np.asarray(plus.standard_error) + 1e-5)
    assert np.linalg.norm(error) < 0.7 * np.linalg.norm(np.asarray(plain) - np.diag(a))


def test_bad_arguments():
    like, key = jnp.zeros(4), jax.random.key(0)
    with pytest.raises(ValueError, match="^tau"):
        ls.spectral_index(lambda v: v, like, key, tau=-1.0, num_steps=2)
    with pytest.raises(ValueError, match="^rank"):
        ls.hutchpp_trace(lambda v: v, like, key, num_matvecs=6, rank=3)
    with pytest.raises(ValueError, match="^num_matvecs"):
        ls.hutchpp_trace(lambda v: v, like, key, num_matvecs=4)
    with pytest.raises(ValueError, match="^which"):
        ls.eigenpairs(lambda v: v, like, key, which="middle")
    with pytest.raises(ValueError, match="^like"):
        ls.lanczos(lambda v: v, None, key, num_steps=2)


@pytest.mark.parametrize("call, name", [
    (lambda v: ls.gaussian_smoothed_density(jnp.zeros(3), jnp.zeros(2), jnp.ones(2), v), "sigma"),
    (lambda v: ls.index_fraction(lambda x: x, jnp.zeros(4), jax.random.key(0), num_steps=2,
                                 threshold=v), "threshold"),
    (lambda v: ls.layer_blocks(lambda x: x, {"a": jnp.zeros(2)}, depth=v), "depth"),
])
def test_issue13_non_numbers_are_type_errors_naming_the_parameter(call, name):
    with pytest.raises(TypeError, match=f"^{name} must"):
        call("abc")


def test_issue13_sigma_threshold_depth_values():
    grid, nodes, weights = jnp.array([0.0, 1.0]), jnp.zeros(1), jnp.ones(1)
    for bad in (float("nan"), 0.0, -1.0, float("inf"), 1e39, 1e-39):
        with pytest.raises(ValueError, match="^sigma"):
            ls.gaussian_smoothed_density(grid, nodes, weights, bad)
    # The smallest normal float32 σ is valid: φ_σ(0) = 1/(σ√(2π)), φ_σ(1) = 0.
    sigma = float(np.finfo(np.float32).tiny)
    rho = np.asarray(ls.gaussian_smoothed_density(grid, nodes, weights, sigma))
    np.testing.assert_allclose(rho[0], 1 / (sigma * math.sqrt(2 * math.pi)), rtol=1e-6)
    assert rho[1] == 0.0
    like, key, a = jnp.zeros(4), jax.random.key(0), jnp.diag(jnp.array([-2.0, -1.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="^threshold"):
        ls.index_fraction(lambda v: a @ v, like, key, num_steps=4, threshold=float("nan"))
    # index_fraction is the bracketed count below −τ: a cut t ≤ 0 is τ = −t; a positive or
    # infinite cut, or both tau and threshold, is a ValueError.
    for bad in (float("inf"), float("-inf"), 0.5):
        with pytest.raises(ValueError, match="^threshold"):
            ls.index_fraction(lambda v: a @ v, like, key, num_steps=4, threshold=bad)
    with pytest.raises(ValueError, match="tau or threshold"):
        ls.index_fraction(lambda v: a @ v, like, key, num_steps=4, tau=1.0, threshold=-1.0)
    est = ls.index_fraction(lambda v: a @ v, like, key, num_probes=64, num_steps=4,
                            threshold=-1.5)
    assert isinstance(est, ls.SpectralIndex)
    same = ls.spectral_index(lambda v: a @ v, like, key, num_probes=64, num_steps=4, tau=1.5)
    for x, y in zip(est, same):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    np.testing.assert_allclose(float(est.tau), 1.5)
    assert abs(float(est.estimate) - 0.25) < 4 * float(est.standard_error)  # one λ of 4
    np.testing.assert_allclose(float(est.bias_bound), 0.0, atol=1e-5)  # 4 steps, N = 4: exact
    with pytest.raises(ValueError, match="^depth"):
        ls.layer_blocks(lambda v: v, {"a": jnp.zeros(2)}, depth=-1)
    with pytest.raises(TypeError, match="^depth"):
        ls.layer_blocks(lambda v: v, {"a": jnp.zeros(2)}, depth=1.5)
    assert list(ls.layer_blocks(lambda v: v, {"a": jnp.zeros(2), "b": jnp.zeros(1)}, 0)) == [""]
