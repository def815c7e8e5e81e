# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Hessian-spectrum tools against dense eigendecompositions (numpy.linalg.eigvalsh).

Two matrix families, one size each: a GOE matrix (N = 200, float32), also shifted by 0.3·I, and
the dense float64 Hessian of a small tanh MLP whose parameters are a dict of two arrays (N = 40),
used through its HVP. Each family's tools run inside one jitted function, compiled once per module
and shared by the tests through module-scoped fixtures.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special

from complexity_optax import landscape as ls
from complexity_optax._src.common.hvp import value_grad_and_hvp

GOE_N = 200
GOE_SHIFT = 0.3
SLQ_PROBES, SLQ_STEPS, SLQ_SIGMA = 16, 60, 0.15
HUTCH_SAMPLES = 200
TOP_K = 3
SHARE_COLUMNS = 100


def _goe(seed):
    a = np.random.default_rng(seed).normal(size=(GOE_N, GOE_N))
    return (a + a.T) / np.sqrt(2.0 * GOE_N)  # diagonal variance 2/N, off-diagonal 1/N


def _dense_share(a):
    a = np.abs(a)
    return np.trace(a) / a.sum()


def _l1_distance(grid, f, g):
    return float(np.sum(np.abs(np.asarray(f) - np.asarray(g))) * (grid[1] - grid[0]))


def _goe_tools(matrix, key):
    """All tools on ``v -> matrix @ v`` (float32, N = 200), each its own compiled program (called
    eagerly: the operator is a pytree, so both GOE cases share the compilations). One program
    holding all of them, with their LAPACK calls, hung an xdist worker twice this session
    (`device_get` waiting forever)."""
    matvec = lambda v: matrix @ v  # noqa: E731
    like = jax.ShapeDtypeStruct((GOE_N,), jnp.float32)
    keys = jax.random.split(key, 5)
    return dict(
        trace=ls.hutchinson_trace(matvec, like, keys[0], num_samples=HUTCH_SAMPLES),
        top=ls.top_eigenvalues(matvec, like, keys[1], k=TOP_K, num_steps=100),
        density=ls.spectral_density(
            matvec, like, keys[2], num_probes=SLQ_PROBES, num_steps=SLQ_STEPS, sigma=SLQ_SIGMA
        ),
        index=ls.index_fraction(matvec, like, keys[3], num_probes=SLQ_PROBES, num_steps=SLQ_STEPS),
        mean=ls.mean_eigenvalue(matvec, like, keys[0], num_samples=HUTCH_SAMPLES),
        share=ls.diagonal_share(matvec, like, keys[4], num_columns=SHARE_COLUMNS),
    )


@pytest.fixture(scope="module", params=[0.0, GOE_SHIFT], ids=["goe", "shifted_goe"])
def goe(request):
    matrix = _goe(seed=7) + request.param * np.eye(GOE_N)
    results = jax.device_get(_goe_tools(jnp.asarray(matrix, jnp.float32), jax.random.key(3)))
    return matrix, np.linalg.eigvalsh(matrix), results


# ---------------------------------------------------------------- the MLP (float64, dict params)

MLP_IN, MLP_HIDDEN, MLP_EXAMPLES = 4, 8, 24
MLP_N = MLP_IN * MLP_HIDDEN + MLP_HIDDEN


def _mlp_loss(params, x, y):
    prediction = jnp.tanh(x @ params["w1"]) @ params["w2"]
    return 0.5 * jnp.mean((prediction - y) ** 2)


def _mlp_problem():
    rng = np.random.default_rng(11)
    params = {
        "w1": jnp.asarray(rng.normal(size=(MLP_IN, MLP_HIDDEN)), jnp.float64),
        "w2": jnp.asarray(rng.normal(size=(MLP_HIDDEN,)), jnp.float64),
    }
    x = jnp.asarray(rng.normal(size=(MLP_EXAMPLES, MLP_IN)), jnp.float64)
    y = jnp.asarray(rng.normal(size=(MLP_EXAMPLES,)), jnp.float64)
    return params, x, y


def _dense_hessian(params, x, y):
    """The float64 Hessian as an N × N matrix, in ``jax.tree.leaves`` order (w1 then w2)."""
    hessian = jax.jit(jax.hessian(_mlp_loss))(params, x, y)
    names = ["w1", "w2"]
    sizes = [MLP_IN * MLP_HIDDEN, MLP_HIDDEN]
    rows = [
        np.concatenate([np.asarray(hessian[r][c]).reshape(size, -1) for c in names], axis=1)
        for r, size in zip(names, sizes)
    ]
    return np.concatenate(rows, axis=0)


def _mlp_tools(params, x, y, key):
    """Each tool its own compiled program (see `_goe_tools`)."""
    _, _, matvec = value_grad_and_hvp(_mlp_loss, params, x, y)
    keys = jax.random.split(key, 4)
    return dict(
        trace=ls.hutchinson_trace(matvec, params, keys[0], num_samples=HUTCH_SAMPLES),
        mean=ls.mean_eigenvalue(matvec, params, keys[0], num_samples=HUTCH_SAMPLES),
        lanczos=ls.lanczos(matvec, params, keys[1], num_steps=MLP_N, return_basis=True),
        top=ls.top_eigenvalues(matvec, params, keys[1], k=TOP_K, num_steps=MLP_N,
                               return_vectors=True),
        index=ls.index_fraction(matvec, params, keys[2], num_probes=32, num_steps=20),
        share=ls.diagonal_share(matvec, params, exact=True),
        diagonal=ls.hutchinson_diagonal(matvec, params, keys[3], num_samples=HUTCH_SAMPLES),
    )


@pytest.fixture(scope="module")
def mlp():
    with jax.enable_x64(True):
        params, x, y = _mlp_problem()
        hessian = _dense_hessian(params, x, y)
        results = jax.device_get(_mlp_tools(params, x, y, jax.random.key(5)))
    return hessian, np.linalg.eigvalsh(hessian), results


def _flatten(tree, leading=False):
    leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(tree)]
    if leading:
        return np.concatenate([leaf.reshape(leaf.shape[0], -1) for leaf in leaves], axis=1)
    return np.concatenate([leaf.ravel() for leaf in leaves])


# ------------------------------------------------------------------------------ Hutchinson


class TestHutchinson:
    def test_trace_within_three_standard_errors(self, goe):
        matrix, _, results = goe
        est = results["trace"]
        assert abs(est.estimate - np.trace(matrix)) < 3.0 * est.standard_error

    def test_standard_error_matches_theory(self, goe):
        # Var[zᵀAz] = 2 Σ_{i≠j} A_ij² for Rademacher z; the sample SE is within ~5% of it.
        matrix, _, results = goe
        off = matrix - np.diag(np.diag(matrix))
        theory = math.sqrt(2.0 * np.sum(off**2) / HUTCH_SAMPLES)
        assert results["trace"].standard_error == pytest.approx(theory, rel=0.2)

    def test_mlp_trace_and_mean_eigenvalue(self, mlp):
        hessian, eigenvalues, results = mlp
        est, mean = results["trace"], results["mean"]
        assert abs(est.estimate - np.trace(hessian)) < 3.0 * est.standard_error
        assert mean.estimate == pytest.approx(est.estimate / MLP_N, rel=1e-12)
        assert abs(mean.estimate - eigenvalues.mean()) < 3.0 * mean.standard_error
        assert mean.standard_error == pytest.approx(est.standard_error / MLP_N, rel=1e-12)

    def test_diagonal_estimate(self, mlp):
        # Var[(z ⊙ Hz)_i] = Σ_{j≠i} H_ij²: each entry within 4 standard deviations.
        hessian, _, results = mlp
        estimate = _flatten(results["diagonal"])
        off = hessian - np.diag(np.diag(hessian))
        sd = np.sqrt(np.sum(off**2, axis=1) / HUTCH_SAMPLES)
        assert np.all(np.abs(estimate - np.diag(hessian)) < 4.0 * sd + 1e-12)

    def test_exact_for_diagonal_matrix(self):
        d = jnp.arange(1.0, 6.0)
        est = ls.hutchinson_trace(lambda v: d * v, jnp.zeros(5), jax.random.key(0), num_samples=3)
        assert float(est.estimate) == pytest.approx(15.0)
        assert float(est.standard_error) == 0.0


# --------------------------------------------------------------------------------- Lanczos


class TestLanczos:
    def test_goe_top_eigenvalues(self, goe):
        _, eigenvalues, results = goe
        top = results["top"]
        np.testing.assert_allclose(top.eigenvalues, eigenvalues[::-1][:TOP_K], rtol=1e-4)
        assert np.all(top.residuals < 1e-3)

    def test_mlp_top_eigenpairs(self, mlp):
        hessian, eigenvalues, results = mlp
        top = results["top"]
        np.testing.assert_allclose(top.eigenvalues, eigenvalues[::-1][:TOP_K], rtol=1e-4)
        vectors = _flatten(top.eigenvectors, leading=True)  # (k, N)
        residual = vectors @ hessian - top.eigenvalues[:, None] * vectors
        assert np.max(np.abs(residual)) < 1e-8
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-10)

    def test_full_run_is_orthonormal_and_reproduces_the_spectrum(self, mlp):
        hessian, eigenvalues, results = mlp
        res = results["lanczos"]
        q = _flatten(res.basis, leading=True)  # (m, N)
        np.testing.assert_allclose(q @ q.T, np.eye(MLP_N), atol=1e-10)
        with jax.enable_x64(True):  # T in float64, like the run (else it is rounded to float32)
            t = np.asarray(ls.spectral.lanczos.tridiagonal_matrix(res.alphas, res.betas))
        assert t.dtype == np.float64
        np.testing.assert_allclose(q @ hessian @ q.T, t, atol=1e-10)
        np.testing.assert_allclose(np.linalg.eigvalsh(t), eigenvalues, atol=1e-10)

    def test_invariant_subspace_restart(self):
        # Three distinct eigenvalues: the Krylov space is exhausted after 3 steps; the restart
        # still recovers every eigenvalue with its multiplicity.
        d = jnp.array([1.0, 1.0, 1.0, -2.0, -2.0, 5.0, 5.0, 5.0])
        res = jax.jit(lambda: ls.lanczos(lambda v: d * v, d, jax.random.key(1), num_steps=8))()
        assert float(res.betas[2]) == 0.0
        t = ls.spectral.lanczos.tridiagonal_matrix(res.alphas, res.betas)
        np.testing.assert_allclose(np.linalg.eigvalsh(np.asarray(t)), np.sort(d), atol=1e-5)

    def test_bad_arguments(self):
        matvec = lambda v: v  # noqa: E731
        with pytest.raises(ValueError, match="^num_steps"):
            ls.lanczos(matvec, jnp.zeros(4), jax.random.key(0), num_steps=5)
        with pytest.raises(TypeError, match="^num_steps"):
            ls.lanczos(matvec, jnp.zeros(4), jax.random.key(0), num_steps=2.0)
        with pytest.raises(ValueError, match="^k"):
            ls.top_eigenvalues(matvec, jnp.zeros(4), jax.random.key(0), k=0)
        with pytest.raises(ValueError, match="^num_samples"):
            ls.hutchinson_trace(matvec, jnp.zeros(4), jax.random.key(0), num_samples=1)


# ------------------------------------------------------------------------ spectral density


class TestSpectralDensity:
    def test_density_matches_smoothed_dense_histogram(self, goe):
        _, eigenvalues, results = goe
        sd = results["density"]
        grid = np.asarray(sd.grid)
        reference = ls.gaussian_smoothed_density(
            sd.grid, jnp.asarray(eigenvalues, jnp.float32), jnp.ones(GOE_N), SLQ_SIGMA
        )
        assert _l1_distance(grid, sd.density, reference) < 0.1
        assert np.sum(sd.density) * (grid[1] - grid[0]) == pytest.approx(1.0, abs=1e-3)
        np.testing.assert_allclose(np.sum(sd.weights, axis=1), 1.0, atol=1e-5)
        assert grid[0] < eigenvalues[0] and grid[-1] > eigenvalues[-1]

    def test_index_fraction(self, goe):
        # index_fraction is the bracketed count below −τ (τ = 1e-3·‖A‖) of spectral_index.
        _, eigenvalues, results = goe
        index = results["index"]
        dense = np.mean(eigenvalues < -float(index.tau))
        assert float(index.tau) == pytest.approx(1e-3 * np.max(np.abs(eigenvalues)), rel=0.02)
        assert abs(index.estimate - dense) < 0.05
        se = float(index.standard_error)
        assert float(index.lower) - 3 * se <= dense <= float(index.upper) + 3 * se

    def test_mlp_index_fraction(self, mlp):
        _, eigenvalues, results = mlp
        index = results["index"]
        dense = np.mean(eigenvalues < -float(index.tau))
        assert 0.0 < dense < 0.5  # the test point is a genuine saddle-like point
        assert abs(index.estimate - dense) <= float(index.bias_bound) + 3 * index.standard_error
        assert bool(index.ill_conditioned) or abs(index.estimate - dense) < 0.05

    def test_mean_eigenvalue(self, goe):
        _, eigenvalues, results = goe
        mean = results["mean"]
        assert abs(mean.estimate - eigenvalues.mean()) < 3.0 * mean.standard_error
        assert mean.standard_error < 0.02

    def test_explicit_grid_and_bad_sigma(self):
        d = jnp.linspace(-1.0, 1.0, 10)
        grid = jnp.linspace(-3.0, 3.0, 7)
        sd = jax.jit(lambda: ls.spectral_density(lambda v: d * v, d, jax.random.key(0),
                                                 num_probes=2, num_steps=10, grid=grid,
                                                 sigma=0.5))()
        # Full-length runs: the nodes are the eigenvalues, and the density is their smoothing.
        np.testing.assert_allclose(np.sort(sd.nodes, axis=1), np.tile(d, (2, 1)), atol=1e-5)
        reference = ls.gaussian_smoothed_density(grid, sd.nodes, sd.weights, 0.5)
        np.testing.assert_allclose(sd.density, reference, rtol=1e-6)
        np.testing.assert_array_equal(sd.grid, grid)
        assert float(sd.sigma) == 0.5
        with pytest.raises(ValueError, match="^sigma"):
            ls.spectral_density(lambda v: v, jnp.zeros(10), jax.random.key(0), sigma=-1.0,
                                num_steps=5)


# -------------------------------------------------------------------------- diagonal share


class TestDiagonalShare:
    def test_exact_matches_dense(self, mlp):
        hessian, _, results = mlp
        share = results["share"]
        assert share.share == pytest.approx(_dense_share(hessian), rel=1e-10)
        assert share.total_mass == pytest.approx(np.abs(hessian).sum(), rel=1e-10)
        assert share.diagonal_mass == pytest.approx(np.abs(np.diag(hessian)).sum(), rel=1e-10)

    def test_sampled_columns_on_goe(self, goe):
        matrix, _, results = goe
        share = results["share"]
        assert share.share == pytest.approx(_dense_share(matrix), rel=0.1)
        assert share.total_mass == pytest.approx(np.abs(matrix).sum(), rel=0.02)

    def test_goe_matches_wigner_expectation(self):
        # δ(E|W|) = σ_d / (σ_d + (n−1) σ_o), with σ_d = √2 σ_o for the GOE.
        expected = ls.wigner_diagonal_share(GOE_N)
        assert expected == pytest.approx(math.sqrt(2) / (math.sqrt(2) + GOE_N - 1))
        draws = [_dense_share(_goe(seed)) for seed in range(4)]
        assert np.mean(draws) == pytest.approx(expected, rel=0.05)
        assert ls.wigner_diagonal_share(10, diagonal_std=1.0) == pytest.approx(0.1)

    def test_ols_expectation(self):
        # δ(E|XᵀX|) for Gaussian X: the closed form against a Monte-Carlo estimate of E|XᵀX|.
        d, n, draws = 30, 16, 400
        x = np.random.default_rng(2).normal(size=(draws, n, d))
        mean_abs = np.mean(np.abs(np.einsum("bki,bkj->bij", x, x)), axis=0)
        assert ls.ols_diagonal_share(d, n) == pytest.approx(_dense_share(mean_abs), rel=0.01)
        # c_n = (2/√π) Γ((n+1)/2) / Γ(n/2), the expected |Σ_k x_k y_k|; the CLT gives √(2n/π).
        c = 2 / math.sqrt(math.pi) * special.gamma((n + 1) / 2) / special.gamma(n / 2)
        assert ls.ols_diagonal_share(d, n) == pytest.approx(n / (n + (d - 1) * c), rel=1e-12)
        big = 10**6
        assert ls.ols_diagonal_share(d, big) == pytest.approx(
            ls.ols_diagonal_share(d, big, gaussian=False), rel=1e-5
        )
        assert ls.ols_diagonal_share(d, big, gaussian=False) == pytest.approx(
            1 / (1 + (d - 1) * math.sqrt(2 / (math.pi * big))), rel=1e-12
        )

    def test_ols_hessian_through_matvecs(self):
        d, n = 12, 64
        x = jnp.asarray(np.random.default_rng(4).normal(size=(n, d)), jnp.float32)
        share = ls.diagonal_share(lambda v: x.T @ (x @ v), jnp.zeros(d), exact=True)
        assert float(share.share) == pytest.approx(_dense_share(np.asarray(x.T @ x)), rel=1e-5)
        # One draw is near the Gaussian expectation (the diagonal concentrates, n = 64).
        assert float(share.share) == pytest.approx(ls.ols_diagonal_share(d, n), rel=0.15)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="^key"):
            ls.diagonal_share(lambda v: v, jnp.zeros(3), num_columns=2)
        with pytest.raises(ValueError, match="^num_columns"):
            ls.diagonal_share(lambda v: v, jnp.zeros(3), jax.random.key(0), num_columns=4)
        with pytest.raises(ValueError, match="^num_features"):
            ls.ols_diagonal_share(0, 3)


# ----------------------------------------------------------------------- pytrees and jit


def test_pytree_block_matrix_matches_dense():
    """A dict of two arrays, A acting block-wise; compared with the dense flattened matrix."""
    rng = np.random.default_rng(9)
    a = rng.normal(size=(6, 6))
    a = jnp.asarray(a + a.T, jnp.float32)
    like = {"u": jnp.zeros((2, 2)), "v": jnp.zeros((2,))}

    def matvec(tree):
        flat = jnp.concatenate([tree["u"].ravel(), tree["v"]])
        out = a @ flat
        return {"u": out[:4].reshape(2, 2), "v": out[4:]}

    @jax.jit
    def tools():
        return (
            ls.top_eigenvalues(matvec, like, jax.random.key(0), k=2, num_steps=6,
                               return_vectors=True),
            ls.diagonal_share(matvec, like, exact=True),
            ls.lanczos_quadrature(matvec, like, jax.random.key(1), num_probes=2, num_steps=6),
            ls.lanczos_quadrature(matvec, like, jax.random.key(1), num_probes=2, num_steps=6,
                                  batch_size=2),
        )

    eigenvalues = np.linalg.eigvalsh(np.asarray(a))
    top, share, quadrature, vmapped = tools()
    np.testing.assert_allclose(vmapped.nodes, quadrature.nodes, atol=1e-4)
    np.testing.assert_allclose(vmapped.weights, quadrature.weights, atol=1e-4)
    np.testing.assert_allclose(top.eigenvalues, eigenvalues[::-1][:2], rtol=1e-4)
    assert top.eigenvectors["u"].shape == (2, 2, 2) and top.eigenvectors["v"].shape == (2, 2)
    assert float(share.share) == pytest.approx(_dense_share(np.asarray(a)), rel=1e-5)
    np.testing.assert_allclose(np.sort(quadrature.nodes[0]), eigenvalues, atol=1e-4)


def test_tools_trace_once_under_jit():
    traces = []

    @jax.jit
    def run(key):
        traces.append(1)
        return ls.hutchinson_trace(lambda v: 2.0 * v, jnp.zeros(3), key, num_samples=4)

    first, second = run(jax.random.key(0)), run(jax.random.key(1))
    assert float(first.estimate) == pytest.approx(6.0) == float(second.estimate)
    assert len(traces) == 1


def test_rademacher_signs_are_fair_independent_and_dtype_free():
    """32 signs per random word (`common.draws.rademacher`): over 2^20 signs the mean, the
    correlation of neighbours (same word) and of signs 32 apart (next word) are within 5
    standard errors (1/sqrt(n)) of 0; each bit position of the word is fair on its own; the same
    key gives the same signs in every dtype, and sizes that are not multiples of 32 work."""
    from complexity_optax._src.common.draws import rademacher

    n = 1 << 20
    z = np.asarray(rademacher(jax.random.key(3), (n,)))
    bound = 5.0 / math.sqrt(n)
    assert set(np.unique(z)) == {-1.0, 1.0}
    assert abs(z.mean()) < bound
    assert abs(np.mean(z[:-1] * z[1:])) < bound
    assert abs(np.mean(z[:-32] * z[32:])) < bound
    by_position = z.reshape(-1, 32).mean(axis=0)
    assert np.all(np.abs(by_position) < 5.0 / math.sqrt(n // 32))
    short = np.asarray(rademacher(jax.random.key(3), (37,)))
    for dtype in (jnp.bfloat16, jnp.float16, jnp.int32):
        np.testing.assert_array_equal(
            np.asarray(rademacher(jax.random.key(3), (37,), dtype)).astype(np.float32), short)
    assert rademacher(jax.random.key(0), (3, 0)).shape == (3, 0)
    assert rademacher(jax.random.key(0), (5, 7)).shape == (5, 7)
