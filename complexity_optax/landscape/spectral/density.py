# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Stochastic Lanczos quadrature (SLQ): spectral density and mean eigenvalue.

The index (the fraction of eigenvalues below a threshold) is in `index.py` (`spectral_index`,
`index_fraction`): a bare quadrature count is biased where the spectrum is dense.

For a symmetric `A = Σ_i λ_i u_i u_iᵀ` on `N` scalars and a unit random vector `q`, the
spectral measure `μ_q = Σ_i (u_iᵀq)² δ_{λ_i}` has expectation the empirical eigenvalue
distribution `(1/N) Σ_i δ_{λ_i}`. `m` Lanczos steps from `q` give the `m`-point Gauss
quadrature of `μ_q`: nodes the Ritz values `θ_j` (eigenvalues of `T`) and weights the squared
first components `S_{1j}²` of the eigenvectors of `T`; it integrates polynomials of degree
`2m − 1` exactly. Averaging over probes and smoothing with a Gaussian kernel gives the density.

**Reorthogonalisation.** In floating point the Lanczos vectors lose orthogonality as Ritz values
converge, and copies ("ghosts") of converged eigenvalues appear in `T`; the quadrature stays
accurate all the same (the weights split between the copies; Meurant & Strakoš, Acta Numerica
15, 2006). So `lanczos_quadrature`, `spectral_density` and `log_spectral_density` run on the
three-term recurrence by default (`reorthogonalize=False`, `O(mN)` beyond the matvecs instead
of `O(m²N)`): against the dense Hessians of a trained MLP and CNN the smoothed density's L1
error is the same either way (`tests/test_spectral_networks.py`), and 100 steps on a
1.07e6-parameter MLP run 2.5–2.9× faster. `lanczos_tridiagonals` keeps full
reorthogonalisation by default: its tridiagonals also feed the index's Gauss–Radau brackets.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from complexity_optax._src.common import checks
from complexity_optax._src.common.types import MatVec
from complexity_optax.landscape.spectral import hutchinson as _hutchinson
from complexity_optax.landscape.spectral import lanczos as _lanczos
from complexity_optax.landscape.spectral import linear_operator as _linop


class SpectralQuadrature(NamedTuple):
    """Per-probe Gauss quadrature of the spectral measure.

    Attributes:
      nodes: Ritz values, shape `(num_probes, num_steps)`.
      weights: squared first components of the tridiagonals' eigenvectors, same shape; each row
        sums to one.
    """

    nodes: jax.Array
    weights: jax.Array


class SpectralDensity(NamedTuple):
    """A smoothed spectral density on a grid, with the quadrature it came from.

    Attributes:
      grid: shape `(num_points,)`.
      density: shape `(num_points,)`; integrates to ≈ 1 over a grid that covers the spectrum.
      nodes: shape `(num_probes, num_steps)`.
      weights: shape `(num_probes, num_steps)`.
      sigma: the Gaussian kernel's standard deviation (a scalar).
    """

    grid: jax.Array
    density: jax.Array
    nodes: jax.Array
    weights: jax.Array
    sigma: jax.Array


def _check_probes_and_steps(like: Any, num_probes: int, num_steps: int) -> None:
    checks.check_int("num_probes", num_probes, minimum=1)
    checks.check_int("num_steps", num_steps, minimum=1)
    dimension = _lanczos.tree_dimension(like)
    if num_steps > dimension:
        raise ValueError(
            f"num_steps must be at most the dimension of like ({dimension}), got {num_steps}"
        )


def lanczos_tridiagonals(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    num_probes: int = 8,
    num_steps: int = 64,
    batch_size: int | None = None,
    reorthogonalize: bool = True,
) -> _lanczos.LanczosResult:
    """One Lanczos run per random probe: the tridiagonals every SLQ quantity is read from.

    Probe `p` runs `lanczos` from its own normal start vector; the result stacks the runs:
    `alphas` `(num_probes, num_steps)`, `betas` `(num_probes, num_steps − 1)` and
    `residual_beta` `(num_probes,)` (no basis is kept). `gauss_quadrature` turns it into the
    spectral quadrature, `index_from_tridiagonals` into a bracketed index, so that one run of
    `num_probes × num_steps` matvecs serves the density, the index and the moments.

    Args:
      matvec: a symmetric linear map `v -> A v` on pytrees shaped like `like`.
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) with the shapes and dtypes of `v`
        (`None` when `matvec` is a `LinearOperator`).
      key: a PRNG key.
      num_probes: number of random start vectors.
      num_steps: Lanczos steps per probe (at most the dimension `N`).
      batch_size: probes run together with `vmap` (`None`: one after the other, least
        memory and, on a CPU, never slower).
      reorthogonalize: full reorthogonalisation of each probe's Lanczos vectors (`lanczos`;
        the module docstring says when it can be dropped).

    Returns:
      A stacked `LanczosResult` (`basis` is `None`).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> t = lanczos_tridiagonals(lambda v: 2.0 * v, jnp.zeros(5), jax.random.key(0),
      ...                          num_probes=3, num_steps=2)
      >>> t.alphas.shape, t.betas.shape, t.residual_beta.shape
      ((3, 2), (3, 1), (3,))

    References:
      Golub & Meurant, *Matrices, Moments and Quadrature with Applications*, 2010.
    """
    matvec, like = _checked_tridiagonals(matvec, like, num_probes, num_steps, batch_size)
    return _linop.compiled_call(
        lambda key: _tridiagonals(matvec, like, key, num_probes, num_steps, batch_size,
                                  reorthogonalize), key)


def _checked_tridiagonals(matvec: MatVec, like: Any, num_probes: int, num_steps: int,
                          batch_size: int | None) -> tuple[MatVec, Any]:
    """The argument checks of `lanczos_tridiagonals`; `(matvec, like)` in the compute dtype."""
    matvec, like = _linop.in_compute_dtype(matvec, like)
    _check_probes_and_steps(like, num_probes, num_steps)
    if batch_size is not None:
        checks.check_int("batch_size", batch_size, minimum=1)
    return matvec, like


def _tridiagonals(matvec: MatVec, like: Any, key: jax.Array, num_probes: int, num_steps: int,
                  batch_size: int | None, reorthogonalize: bool = True) -> _lanczos.LanczosResult:
    """`lanczos_tridiagonals` after its checks."""

    def one_probe(probe_key):
        result = _lanczos._lanczos(matvec, like, probe_key, num_steps, False, None,
                                   reorthogonalize)
        return result.alphas, result.betas, result.residual_beta

    keys = jax.random.split(key, num_probes)
    alphas, betas, residual_beta = jax.lax.map(one_probe, keys, batch_size=batch_size)
    return _lanczos.LanczosResult(alphas, betas, residual_beta)


def gauss_quadrature(tridiagonals: _lanczos.LanczosResult) -> SpectralQuadrature:
    r"""The Gauss quadrature of each probe's spectral measure from its Lanczos tridiagonal.

    $T_p = S_p \Theta_p S_p^\top$: nodes $\mathrm{diag}(\Theta_p)$, weights $(S_p)_{1j}^2$. A
    probe whose tridiagonal is not finite gets NaN nodes and weights.

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax.landscape.spectral.lanczos import LanczosResult
      >>> q = gauss_quadrature(LanczosResult(jnp.zeros((1, 2)), jnp.ones((1, 1)), jnp.zeros(1)))
      >>> jnp.round(q.nodes, 4), jnp.round(q.weights, 4)
      (Array([[-1.,  1.]], dtype=float32), Array([[0.5, 0.5]], dtype=float32))
    """
    return _linop.compiled_call(_gauss_quadrature, tridiagonals)


def _gauss_quadrature(tridiagonals: _lanczos.LanczosResult) -> SpectralQuadrature:
    """`gauss_quadrature`'s body."""

    def one(alphas, betas):
        tridiagonal = _lanczos.tridiagonal_matrix(alphas, betas)
        finite = jnp.all(jnp.isfinite(tridiagonal))
        nodes, vectors = jnp.linalg.eigh(jnp.where(finite, tridiagonal, 0.0))
        return _linop.nan_unless(finite, (nodes, vectors[0] ** 2))

    nodes, weights = jax.vmap(one)(tridiagonals.alphas, tridiagonals.betas)
    return SpectralQuadrature(nodes, weights)


def lanczos_quadrature(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    num_probes: int = 8,
    num_steps: int = 64,
    batch_size: int | None = None,
    reorthogonalize: bool = False,
) -> SpectralQuadrature:
    """Gauss quadrature nodes and weights of the spectral measure, one row per random probe.

    For probe `p` (a normalised standard normal vector), `m` Lanczos steps give
    `T_p = S_p Θ_p S_pᵀ`; the nodes are `diag(Θ_p)` and the weights `(S_p)_{1j}²`, so that
    `Σ_j w_{pj} f(θ_{pj}) ≈ q_pᵀ f(A) q_p` and `E_p[q_pᵀ f(A) q_p] = tr f(A) / N`. Costs
    `num_probes × num_steps` calls of `matvec`. A non-finite product gives NaN nodes and
    weights (never a quadrature that looks valid).

    Args:
      matvec: a symmetric linear map `v -> A v` on pytrees shaped like `like`.
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) with the shapes and dtypes of `v`.
      key: a PRNG key.
      num_probes: number of random start vectors.
      num_steps: Lanczos steps per probe (at most the dimension `N`).
      batch_size: probes run together with `vmap` (`None`: one after the other, least memory).
      reorthogonalize: full reorthogonalisation of each probe's Lanczos vectors (`lanczos`);
        off by default, as the quadrature does not need it (module docstring).

    Returns:
      `SpectralQuadrature(nodes, weights)`, each of shape `(num_probes, num_steps)`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.array([-1.0, 1.0, 2.0, 4.0]))
      >>> q = lanczos_quadrature(lambda v: a @ v, jnp.zeros(4), jax.random.key(0),
      ...                        num_probes=2, num_steps=4)
      >>> jnp.round(q.nodes[0], 4), jnp.round(jnp.sum(q.weights, axis=1), 4)
      (Array([-1.,  1.,  2.,  4.], dtype=float32), Array([1., 1.], dtype=float32))

    References:
      Golub & Meurant, *Matrices, Moments and Quadrature with Applications*, 2010; Lin, Saad &
      Yang, *Approximating spectral densities of large matrices*, SIAM Review 58(1), 2016.
    """
    matvec, like = _checked_tridiagonals(matvec, like, num_probes, num_steps, batch_size)
    return _linop.compiled_call(
        lambda key: _quadrature(matvec, like, key, num_probes, num_steps, batch_size,
                                reorthogonalize), key)


def _quadrature(matvec: MatVec, like: Any, key: jax.Array, num_probes: int, num_steps: int,
                batch_size: int | None, reorthogonalize: bool = True) -> SpectralQuadrature:
    """`lanczos_quadrature` after its checks."""
    return _gauss_quadrature(_tridiagonals(matvec, like, key, num_probes, num_steps, batch_size,
                                           reorthogonalize))


def gaussian_smoothed_density(
    grid: jax.Array, nodes: jax.Array, weights: jax.Array, sigma: Any
) -> jax.Array:
    """`ρ(x) = Σ_k w_k φ_σ(x − θ_k) / Σ_k w_k` with `φ_σ` the `N(0, σ²)` density.

    `nodes` and `weights` may have any (equal) shape; they are flattened, so probe rows are
    averaged. Dense eigenvalues with `weights = 1/N` give the reference smoothed histogram.
    `sigma` must be a real number `> 0`, finite and in the compute dtype's normal range: a
    string is a `TypeError`, NaN, `0`, a negative value, `inf`, `1e39` or `1e-39` (float32) a
    `ValueError` naming `sigma` (unchecked when traced).

    Examples:
      >>> import jax.numpy as jnp
      >>> grid = jnp.linspace(-5.0, 5.0, 1001)
      >>> rho = gaussian_smoothed_density(grid, jnp.zeros(1), jnp.ones(1), 1.0)
      >>> round(float(jnp.sum(rho) * (grid[1] - grid[0])), 4)
      1.0

    References:
      Lin, Saad & Yang, *Approximating spectral densities of large matrices*, SIAM Review 58(1),
      2016 (regularised densities with a Gaussian kernel).
    """
    checks.check_real("sigma", sigma, sign=1)
    return _linop.compiled_call(_smoothed_density, grid, nodes, weights, sigma)


def _smoothed_density(grid, nodes, weights, sigma) -> jax.Array:
    """`gaussian_smoothed_density` without the check (`sigma` computed from the nodes)."""
    nodes = jnp.ravel(nodes)
    weights = jnp.ravel(weights)
    weights = weights / jnp.sum(weights)
    z = (grid[:, None] - nodes[None, :]) / sigma
    kernel = jnp.exp(-0.5 * z**2) / (sigma * jnp.sqrt(2.0 * jnp.pi))
    return kernel @ weights


def spectral_density(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    num_probes: int = 8,
    num_steps: int = 64,
    grid: jax.Array | None = None,
    num_points: int = 1000,
    sigma: Any = None,
    batch_size: int | None = None,
    reorthogonalize: bool = False,
) -> SpectralDensity:
    r"""The eigenvalue density of `A` by stochastic Lanczos quadrature with Gaussian smoothing.

    $$
    \rho(x) = \frac{1}{P}\sum_{p=1}^{P}\sum_{j=1}^{m} w_{pj}\,
    \frac{1}{\sqrt{2\pi}\sigma}\exp\!\Big(-\frac{(x-\theta_{pj})^2}{2\sigma^2}\Big)
    \;\approx\; \frac{1}{N}\sum_{i=1}^{N}\phi_\sigma(x-\lambda_i),
    $$

    with `(θ_{pj}, w_{pj})` from `lanczos_quadrature`. `ρ` integrates to one over the
    real line. The smoothing width must be at least of the order of the node spacing
    `(λ_max − λ_min)/m` for the curve to be smooth.

    Args:
      matvec: a symmetric linear map `v -> A v` on pytrees shaped like `like`.
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) with the shapes and dtypes of `v`.
      key: a PRNG key.
      num_probes: number of random probes `P`.
      num_steps: Lanczos steps per probe `m`.
      grid: points where the density is evaluated; default `num_points` equispaced points from
        `min θ − 4σ` to `max θ + 4σ`.
      num_points: the default grid's size (ignored when `grid` is given).
      sigma: kernel width; default `(max θ − min θ) / m` (at least `1e-6·(|max θ|+1)`).
      batch_size: probes run together with `vmap` (`None`: one after the other).
      reorthogonalize: full reorthogonalisation of each probe's Lanczos vectors (`lanczos`);
        off by default, as the quadrature does not need it (module docstring).

    Returns:
      `SpectralDensity(grid, density, nodes, weights, sigma)`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.linspace(-1.0, 1.0, 50))
      >>> sd = spectral_density(lambda v: a @ v, jnp.zeros(50), jax.random.key(0),
      ...                       num_probes=4, num_steps=20, sigma=0.1)
      >>> round(float(jnp.sum(sd.density) * (sd.grid[1] - sd.grid[0])), 2)
      1.0

    References:
      Ghorbani, Krishnan & Xiao, *An investigation into neural net optimization via Hessian
      eigenvalue density*, ICML 2019; Yao, Gholami, Keutzer & Mahoney, *PyHessian: neural networks
      through the lens of the Hessian*, IEEE BigData 2020; Lin, Saad & Yang, SIAM Review 2016.
    """
    if grid is None:
        checks.check_int("num_points", num_points, minimum=2)
    if sigma is not None:
        checks.check_positive("sigma", sigma)
    matvec, like = _checked_tridiagonals(matvec, like, num_probes, num_steps, batch_size)
    grid = None if grid is None else jnp.asarray(grid)

    def density(key, grid, sigma):
        quadrature = _quadrature(matvec, like, key, num_probes, num_steps, batch_size,
                                 reorthogonalize)
        return _density(quadrature, num_steps, grid, num_points, sigma)

    return _linop.compiled_call(density, key, grid, sigma)


def _density(quadrature: SpectralQuadrature, num_steps: int, grid: jax.Array | None,
             num_points: int, sigma: Any) -> SpectralDensity:
    """`spectral_density` from its quadrature."""
    nodes, weights = quadrature
    low, high = jnp.min(nodes), jnp.max(nodes)
    if sigma is None:
        floor = 1e-6 * (jnp.maximum(jnp.abs(low), jnp.abs(high)) + 1.0)
        sigma = jnp.maximum((high - low) / num_steps, floor)
    sigma = jnp.asarray(sigma, nodes.dtype)
    if grid is None:
        grid = jnp.linspace(low - 4.0 * sigma, high + 4.0 * sigma, num_points, dtype=nodes.dtype)
    grid = jnp.asarray(grid)
    density = _smoothed_density(grid, nodes, weights, sigma)
    return SpectralDensity(grid, density, nodes, weights, sigma)


def log_spectral_density(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    num_probes: int = 8,
    num_steps: int = 64,
    floor: Any = None,
    num_points: int = 500,
    sigma: Any = None,
    batch_size: int | None = None,
    reorthogonalize: bool = False,
) -> SpectralDensity:
    r"""The density of $u = \log_{10}\lambda$ over the eigenvalues above `floor`, by SLQ.

    For positive semi-definite operators (GGN, Fisher) whose eigenvalues span many decades:

    $$
    \rho(u) = \frac{1}{P}\sum_{p}\sum_{j:\,\theta_{pj} > f} w_{pj}\,
    \phi_\sigma\big(u - \log_{10}\theta_{pj}\big),
    $$

    which integrates to the spectral mass above $f$ (the rest, $1 - \int\rho$, lies at or
    below the floor). The grid is in $\log_{10}$ units.

    Args:
      matvec: a symmetric linear map `v -> A v` on pytrees shaped like `like`.
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) (`None` for a `LinearOperator`).
      key: a PRNG key.
      num_probes: random probes $P$.
      num_steps: Lanczos steps per probe.
      floor: the smallest eigenvalue kept, $f$ (default $10^{-6}\max\theta$).
      num_points: grid size, from $\log_{10} f$ to $\log_{10}\max\theta$ plus $4\sigma$.
      sigma: kernel width in decades (default $0.1$).
      batch_size: probes run together with `vmap` (`None`: one after the other).
      reorthogonalize: full reorthogonalisation of each probe's Lanczos vectors (`lanczos`);
        off by default, as the quadrature does not need it (module docstring).

    Returns:
      `SpectralDensity(grid, density, nodes, weights, sigma)` with `grid` in $\log_{10}$
      units; `nodes` and `weights` are the raw quadrature.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.array([1e-3, 1e-2, 1.0, 10.0]))
      >>> sd = log_spectral_density(lambda v: a @ v, jnp.zeros(4), jax.random.key(0),
      ...                           num_probes=16, num_steps=4, floor=1e-4, sigma=0.2)
      >>> round(float(jnp.sum(sd.density) * (sd.grid[1] - sd.grid[0])), 2)
      1.0

    References:
      Ghorbani, Krishnan & Xiao, ICML 2019 (log-scale Hessian spectra); Papyan, *Traces of
      class/cross-class structure pervade deep learning spectra*, JMLR 21, 2020.
    """
    checks.check_int("num_points", num_points, minimum=2)
    if sigma is not None:
        checks.check_positive("sigma", sigma)
    if floor is not None:
        checks.check_positive("floor", floor)
    matvec, like = _checked_tridiagonals(matvec, like, num_probes, num_steps, batch_size)

    def density(key, floor, sigma):
        quadrature = _quadrature(matvec, like, key, num_probes, num_steps, batch_size,
                                 reorthogonalize)
        return _log_density(quadrature, num_probes, floor, num_points, sigma)

    return _linop.compiled_call(density, key, floor, sigma)


def _log_density(quadrature: SpectralQuadrature, num_probes: int, floor: Any, num_points: int,
                 sigma: Any) -> SpectralDensity:
    """`log_spectral_density` from its quadrature."""
    nodes, weights = quadrature
    top = jnp.max(nodes)
    floor = 1e-6 * top if floor is None else jnp.asarray(floor, nodes.dtype)
    sigma = jnp.asarray(0.1 if sigma is None else sigma, nodes.dtype)
    keep = nodes > floor
    log_nodes = jnp.log10(jnp.where(keep, nodes, 1.0))
    kept = jnp.where(keep, weights, 0.0) / num_probes
    grid = jnp.linspace(jnp.log10(floor) - 4.0 * sigma, jnp.log10(top) + 4.0 * sigma,
                        num_points, dtype=nodes.dtype)
    z = (grid[:, None] - jnp.ravel(log_nodes)[None, :]) / sigma
    kernel = jnp.exp(-0.5 * z**2) / (sigma * jnp.sqrt(2.0 * jnp.pi))
    density = kernel @ jnp.ravel(kept)
    return SpectralDensity(grid, density, nodes, weights, sigma)


def mean_eigenvalue(
    matvec: MatVec,
    like: Any,
    key: jax.Array,
    *,
    num_samples: int = 100,
    batch_size: int | None = None,
) -> _hutchinson.StochasticEstimate:
    """The mean eigenvalue `λ̄ = tr(A) / N`, from Hutchinson's estimator.

    Args:
      matvec: a symmetric linear map `v -> A v` on pytrees shaped like `like`.
      like: a pytree of arrays (or `jax.ShapeDtypeStruct`) with the shapes and dtypes of `v`.
      key: a PRNG key.
      num_samples: Rademacher probes.
      batch_size: probes run together with `vmap` (`None`: one after the other).

    Returns:
      `StochasticEstimate(estimate, standard_error)`: the trace estimate and its standard error,
      both divided by `N`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> a = jnp.diag(jnp.array([1.0, 2.0, 6.0]))
      >>> est = mean_eigenvalue(lambda v: a @ v, jnp.zeros(3), jax.random.key(0), num_samples=4)
      >>> round(float(est.estimate), 4)
      3.0

    References:
      Hutchinson, Communications in Statistics - Simulation and Computation, 1989.
    """
    dimension = _lanczos.tree_dimension(_linop.resolve_like(matvec, like))
    matvec, like = _hutchinson._checked(matvec, like, num_samples, batch_size, minimum=2)

    def mean(key):
        trace = _hutchinson._trace(matvec, like, key, num_samples, batch_size)
        return _hutchinson.StochasticEstimate(
            trace.estimate / dimension, trace.standard_error / dimension
        )

    return _linop.compiled_call(mean, key)


__all__ = [
    "SpectralDensity",
    "SpectralQuadrature",
    "gauss_quadrature",
    "gaussian_smoothed_density",
    "lanczos_quadrature",
    "lanczos_tridiagonals",
    "log_spectral_density",
    "mean_eigenvalue",
    "spectral_density",
]
